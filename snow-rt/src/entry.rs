//! `snow_rt_main`: the entry point called by the C `main` that snowc generates.

use std::ffi::{c_char, CStr};
use std::sync::OnceLock;

static ARGS: OnceLock<Vec<String>> = OnceLock::new();

/// The program's command-line arguments (`argv[0]` first), as given to
/// `snow_rt_main` (empty before it runs).
pub fn args() -> &'static [String] {
    ARGS.get().map(|v| v.as_slice()).unwrap_or(&[])
}

/// `snow_rt_main(argc, argv, main_fn)`: stores the arguments, runs `main` in
/// the main thread's root region, flushes stdout and returns 0. A panic in
/// `main` (Snow or Rust) exits with status 101 after its message.
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings (as C `main` gets them).
#[no_mangle]
pub unsafe extern "C-unwind" fn snow_rt_main(
    argc: i32,
    argv: *const *const c_char,
    main_fn: extern "C-unwind" fn() -> i64,
) -> i32 {
    let mut args = Vec::new();
    if !argv.is_null() {
        for i in 0..argc.max(0) as usize {
            let p = *argv.add(i);
            if !p.is_null() {
                args.push(CStr::from_ptr(p).to_string_lossy().into_owned());
            }
        }
    }
    let _ = ARGS.set(args);
    crate::panic::install_hook();
    // Safepoints in `main` detect stack overflow from now on.
    crate::stack::register_current_thread();
    crate::io::register_exit_flush();
    // As Rust's own `main` does: a closed pipe or socket is an EPIPE error,
    // not a fatal signal (a server must survive a client that went away).
    libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    let result = std::panic::catch_unwind(|| main_fn());
    if result.is_err() {
        // The message was printed by snow_panic or the panic hook.
        crate::panic::exit_101();
    }
    crate::io::flush_stdout();
    0
}
