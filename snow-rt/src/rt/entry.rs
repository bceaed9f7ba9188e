//! `snow_rt_main`: the entry point called by the C `main` that snowc generates.

use super::{panic, settings, stack, stdout};
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
            // SAFETY: `argv` holds `argc` pointers, each null or a
            // NUL-terminated string (the caller's promise).
            let p = unsafe { *argv.add(i) };
            if !p.is_null() {
                // SAFETY: as above.
                args.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
            }
        }
    }
    let _ = ARGS.set(args);
    panic::install_hook();
    // Every SNOW_* setting is read now, so a value that does not parse is
    // reported at the start, whatever the program goes on to use.
    settings::get();
    // Safepoints in `main` detect stack overflow from now on.
    stack::register_current_thread();
    stdout::register_exit_flush();
    // As Rust's own `main` does: a closed pipe or socket is an EPIPE error,
    // not a fatal signal (a server must survive a client that went away).
    // SAFETY: installing SIG_IGN for SIGPIPE has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let result = std::panic::catch_unwind(|| main_fn());
    if result.is_err() {
        // The message was printed by snow_panic or the panic hook.
        panic::exit_101();
    }
    stdout::flush_stdout();
    0
}
