//! The prelude's functions (std/prelude.snow): console output, and the
//! interpolation of `Bool` (a prelude type without a module of its own).
//!
//! Stdout is buffered by the core (`rt/stdout.rs`: flushed when it is not
//! a terminal every 50 ms, at exit and before a panic exit); stderr is not.

use crate::rt::{bytes_ref, write_stdout, StaticStr};
use std::io::Write;

/// `println(s)`.
#[no_mangle]
pub extern "C-unwind" fn snow_println(s: i64) -> i64 {
    // SAFETY: a String object.
    let b = unsafe { bytes_ref(s) };
    write_stdout(&[b, b"\n"]);
    0
}

/// `print(s)`.
#[no_mangle]
pub extern "C-unwind" fn snow_print(s: i64) -> i64 {
    // SAFETY: a String object.
    let b = unsafe { bytes_ref(s) };
    write_stdout(&[b]);
    0
}

/// `eprintln(s)`.
#[no_mangle]
pub extern "C-unwind" fn snow_eprintln(s: i64) -> i64 {
    // SAFETY: a String object.
    let b = unsafe { bytes_ref(s) };
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b);
    let _ = err.write_all(b"\n");
    0
}

/// `Bool` to `"true"` / `"false"` (interpolation).
#[no_mangle]
pub extern "C-unwind" fn snow_bool_to_string(x: i64) -> i64 {
    static TRUE: StaticStr<4> = StaticStr::new(*b"true");
    static FALSE: StaticStr<5> = StaticStr::new(*b"false");
    if x != 0 {
        TRUE.word()
    } else {
        FALSE.word()
    }
}
