//! Panics (docs/ABI.md "Calls", spec "Runtime errors").
//!
//! `snow_panic` prints `snow: panic at FILE:LINE:COL: MSG` to stderr. Inside
//! [`crate::region::run_callback`] it then unwinds with a private payload
//! (through `resume_unwind`, so Rust's panic hook prints nothing more) and
//! `run_callback` returns `Err(MSG)`. Outside callbacks it flushes stdout and
//! exits with status 101.
//!
//! Rust panics (runtime bugs or misuse) are reported once by the hook that
//! [`install_hook`] sets (`snow: panic: MSG`) and unwind the same way; on the
//! main thread outside callbacks `snow_rt_main` turns them into exit 101.

use std::any::Any;
use std::io::Write;
use std::sync::Once;

/// Payload of an unwinding Snow panic.
pub(crate) struct SnowPanic(pub String);

/// The message of a caught panic payload.
pub fn message(payload: Box<dyn Any + Send>) -> String {
    if let Some(p) = payload.downcast_ref::<SnowPanic>() {
        p.0.clone()
    } else if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Ends the current callback with `msg` (already reported), or the process
/// with status 101 outside callbacks.
pub fn raise(msg: String) -> ! {
    if crate::region::in_callback() {
        std::panic::resume_unwind(Box::new(SnowPanic(msg)))
    } else {
        exit_101()
    }
}

/// Flushes stdout and exits with status 101.
pub fn exit_101() -> ! {
    crate::io::flush_stdout();
    let _ = std::io::stderr().flush();
    std::process::exit(101)
}

/// A runtime-detected error without a source position: prints
/// `snow: panic: MSG` and raises it.
pub fn runtime_panic(msg: &str) -> ! {
    crate::io::flush_stdout();
    eprintln!("snow: panic: {msg}");
    raise(msg.to_string())
}

/// Installs (once) the hook that reports Rust panics as `snow: panic: MSG`.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = info.payload_as_str().unwrap_or("unknown panic");
            crate::io::flush_stdout();
            match info.location() {
                Some(loc) if msg.is_empty() || std::env::var_os("SNOW_RT_DEBUG").is_some() => {
                    eprintln!("snow: panic: {msg} (runtime {}:{})", loc.file(), loc.line())
                }
                _ => eprintln!("snow: panic: {msg}"),
            }
        }));
    });
}

/// `snow_panic(msg, file, line, col)`: a runtime error in generated code. Never returns.
#[no_mangle]
pub extern "C-unwind" fn snow_panic(msg: i64, file: i64, line: i64, col: i64) -> ! {
    // SAFETY: generated code passes String objects.
    let m = unsafe { crate::value::str_ref(msg) };
    panic_at(file, line, col, m)
}

/// Reports `snow: panic at FILE:LINE:COL: MSG` (`file` a String object) and
/// raises it.
pub fn panic_at(file: i64, line: i64, col: i64, msg: &str) -> ! {
    // SAFETY: generated code passes a String object.
    let f = unsafe { crate::value::str_ref(file) };
    crate::io::flush_stdout();
    eprintln!("snow: panic at {f}:{line}:{col}: {msg}");
    raise(msg.to_string())
}
