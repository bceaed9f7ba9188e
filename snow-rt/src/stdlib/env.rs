//! `Env` (std/env.snow): environment variables and command-line arguments.

use crate::rt::{args, list_from_slice, new_str, none, some, str_ref};

/// `Env.get(name)`: `None` when unset or not valid UTF-8.
#[no_mangle]
pub extern "C-unwind" fn snow_env_get(name: i64) -> i64 {
    // SAFETY: a String object.
    let name = unsafe { str_ref(name) };
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return none();
    }
    match std::env::var(name) {
        Ok(v) => some(new_str(&v)),
        Err(_) => none(),
    }
}

/// `Env.args()`: the arguments after the program name (those given to
/// `snow_rt_main`, or the process's own when it was not called).
#[no_mangle]
pub extern "C-unwind" fn snow_env_args() -> i64 {
    let stored = args();
    let words: Vec<i64> = if stored.is_empty() {
        std::env::args_os()
            .skip(1)
            .map(|a| new_str(&a.to_string_lossy()))
            .collect()
    } else {
        stored.iter().skip(1).map(|a| new_str(a)).collect()
    };
    list_from_slice(&words)
}
