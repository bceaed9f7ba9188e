//! `Env` (std/env.snow): environment variables and command-line arguments.

use crate::value;

/// `Env.get(name)`: `None` when unset or not valid UTF-8.
#[no_mangle]
pub extern "C-unwind" fn snow_env_get(name: i64) -> i64 {
    // SAFETY: a String object.
    let name = unsafe { value::str_ref(name) };
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return value::none();
    }
    match std::env::var(name) {
        Ok(v) => value::some(value::new_str(&v)),
        Err(_) => value::none(),
    }
}

/// `Env.args()`: the arguments after the program name (those given to
/// `snow_rt_main`, or the process's own when it was not called).
#[no_mangle]
pub extern "C-unwind" fn snow_env_args() -> i64 {
    let stored = crate::entry::args();
    let words: Vec<i64> = if stored.is_empty() {
        std::env::args_os()
            .skip(1)
            .map(|a| value::new_str(&a.to_string_lossy()))
            .collect()
    } else {
        stored.iter().skip(1).map(|a| value::new_str(a)).collect()
    };
    crate::list::from_slice(&words)
}
