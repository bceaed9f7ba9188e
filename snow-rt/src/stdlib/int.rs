//! `Int` (std/int.snow).

use crate::rt::{new_str, new_str_concat, option, str_ref};

/// `Int.to_string` (and interpolation).
#[no_mangle]
pub extern "C-unwind" fn snow_int_to_string(n: i64) -> i64 {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut u = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&buf[i..]).expect("ascii digits");
    if n < 0 {
        new_str_concat(&["-", digits])
    } else {
        new_str(digits)
    }
}

/// `Int.parse`: decimal digits with an optional leading `-` or `+`; no
/// whitespace, no `_`; `None` when out of the Int range.
#[no_mangle]
pub extern "C-unwind" fn snow_int_parse(s: i64) -> i64 {
    // SAFETY: a String object.
    let text = unsafe { str_ref(s) };
    option(text.parse::<i64>().ok())
}
