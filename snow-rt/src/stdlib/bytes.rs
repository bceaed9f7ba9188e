//! `Bytes` (std/bytes.snow). Bytes and String share one layout, so
//! conversions share the object instead of copying it.

use crate::rt::{bytes_ref, none, some};

/// `Bytes.size`.
#[no_mangle]
pub extern "C-unwind" fn snow_bytes_size(b: i64) -> i64 {
    // SAFETY: a Bytes object.
    unsafe { bytes_ref(b) }.len() as i64
}

/// `Bytes.from_string`: the UTF-8 encoding (the same object).
#[no_mangle]
pub extern "C-unwind" fn snow_bytes_from_string(s: i64) -> i64 {
    s
}

/// `Bytes.to_string`: `Some` when the bytes are valid UTF-8, else `None`.
#[no_mangle]
pub extern "C-unwind" fn snow_bytes_to_string(b: i64) -> i64 {
    // SAFETY: a Bytes object.
    let ok = std::str::from_utf8(unsafe { bytes_ref(b) }).is_ok();
    if ok {
        some(b)
    } else {
        none()
    }
}

/// `==` on Bytes (generated code, docs/ABI.md): by content; 1 or 0.
#[no_mangle]
pub extern "C-unwind" fn snow_bytes_eq(a: i64, b: i64) -> i64 {
    // SAFETY: Bytes objects.
    (a == b || unsafe { bytes_ref(a) == bytes_ref(b) }) as i64
}
