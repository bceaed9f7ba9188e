//! `Float` (std/float.snow) and the Float runtime services of docs/ABI.md.

use crate::rt::{new_str, option, str_ref};

/// Formats a float for Snow: always with a decimal point (`3.0`, `0.25`,
/// `1.0e21`, `1.5e-7`); `NaN`, `Infinity`, `-Infinity` for the non-finite
/// values. The shortest digits that read back as the same float.
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let s = format!("{x:?}");
    match s.find('e') {
        Some(e) if !s[..e].contains('.') => format!("{}.0{}", &s[..e], &s[e..]),
        _ => s,
    }
}

/// `Float.to_string` (and interpolation).
#[no_mangle]
pub extern "C-unwind" fn snow_float_to_string(x: i64) -> i64 {
    new_str(&format_float(f64::from_bits(x as u64)))
}

/// `Float.from_int`.
#[no_mangle]
pub extern "C-unwind" fn snow_float_from_int(n: i64) -> i64 {
    (n as f64).to_bits() as i64
}

/// `Float.round`: half away from zero, saturating at the Int range, NaN gives 0.
#[no_mangle]
pub extern "C-unwind" fn snow_float_round(x: i64) -> i64 {
    // `as` saturates and maps NaN to 0.
    f64::from_bits(x as u64).round() as i64
}

/// `%` on Float (generated code; docs/ABI.md): IEEE remainder with the sign
/// of the dividend (C's `fmod`); `x % 0.0` is NaN.
#[no_mangle]
pub extern "C-unwind" fn snow_float_rem(a: i64, b: i64) -> i64 {
    (f64::from_bits(a as u64) % f64::from_bits(b as u64)).to_bits() as i64
}

/// `Float.parse(s)`: `Some` of the number Rust's `f64` parser reads from the
/// whole of `s` (`1.5`, `-2`, `3e8`, `inf`, `NaN`; no surrounding
/// whitespace), else `None`.
#[no_mangle]
pub extern "C-unwind" fn snow_float_parse(s: i64) -> i64 {
    // SAFETY: a String object.
    let text = unsafe { str_ref(s) };
    option(text.parse::<f64>().ok().map(|x| x.to_bits() as i64))
}

/// `Float.floor`: rounded down to an Int, saturating at the Int range (NaN
/// gives 0).
#[no_mangle]
pub extern "C-unwind" fn snow_float_floor(x: i64) -> i64 {
    // `as` saturates and maps NaN to 0.
    f64::from_bits(x as u64).floor() as i64
}

/// `Float.ceil`: rounded up to an Int, saturating (NaN gives 0).
#[no_mangle]
pub extern "C-unwind" fn snow_float_ceil(x: i64) -> i64 {
    f64::from_bits(x as u64).ceil() as i64
}

/// `Float.to_int`: toward zero, saturating (NaN gives 0).
#[no_mangle]
pub extern "C-unwind" fn snow_float_to_int(x: i64) -> i64 {
    f64::from_bits(x as u64) as i64
}
