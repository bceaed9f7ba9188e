//! Panics (docs/ABI.md "Calls", spec "Runtime errors").
//!
//! `snow_panic` prints `snow: panic at FILE:LINE:COL: MSG` to stderr. Inside
//! [`catch`] (what `run_callback` runs a callback in) it then unwinds with a
//! private payload holding the [`Abort`] (through `resume_unwind`, so Rust's
//! panic hook prints nothing more), which `catch` returns. Outside it
//! flushes stdout and exits with status 101.
//!
//! Rust panics (runtime bugs or misuse) are reported once by the hook that
//! [`install_hook`] sets (`snow: panic: MSG`) and unwind the same way; on the
//! main thread outside callbacks `snow_rt_main` turns them into exit 101.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// Why Snow code stopped before returning (the error of `run_callback`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Abort {
    /// A Snow panic (`snow_panic`, a runtime error) or a Rust panic, with
    /// its message.
    Panic(String),
    /// A safepoint found the stack exhausted.
    StackOverflow,
    /// The callback ran longer than `SNOW_WS_CALLBACK_TIMEOUT_MS` (`ms`).
    TimedOut { ms: u64 },
    /// The callback's region kept `live` bytes after a collection, more
    /// than `SNOW_WS_CALLBACK_HEAP_BYTES` (`limit`).
    HeapLimit { live: usize, limit: usize },
}

impl fmt::Display for Abort {
    /// The message printed after `snow: panic at FILE:LINE:COL: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Abort::Panic(msg) => f.write_str(msg),
            Abort::StackOverflow => f.write_str("stack overflow"),
            Abort::TimedOut { ms } => write!(f, "callback timed out (ran longer than {ms} ms)"),
            Abort::HeapLimit { live, limit } => write!(
                f,
                "callback heap limit exceeded: {} MiB live (SNOW_WS_CALLBACK_HEAP_BYTES = {limit})",
                live >> 20
            ),
        }
    }
}

/// Payload of an unwinding Snow panic.
struct SnowPanic(Abort);

thread_local! {
    /// How many [`catch`] calls are active on this thread.
    static CATCHING: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f`, catching any unwinding panic as the [`Abort`] it carries (a
/// Rust panic becomes [`Abort::Panic`] with its message). While `f` runs,
/// a Snow panic unwinds to here instead of exiting the process.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Abort> {
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            CATCHING.with(|c| c.set(c.get() - 1));
        }
    }
    CATCHING.with(|c| c.set(c.get() + 1));
    let depth = Depth;
    let result = catch_unwind(AssertUnwindSafe(f));
    drop(depth);
    result.map_err(abort_of)
}

/// Whether a Snow panic on this thread unwinds to a [`catch`] (a callback
/// is running) rather than ending the process.
pub fn catching() -> bool {
    CATCHING.with(|c| c.get() > 0)
}

/// What a caught panic payload says.
fn abort_of(payload: Box<dyn Any + Send>) -> Abort {
    if let Some(p) = payload.downcast_ref::<SnowPanic>() {
        p.0.clone()
    } else if let Some(s) = payload.downcast_ref::<&'static str>() {
        Abort::Panic((*s).to_string())
    } else if let Some(s) = payload.downcast_ref::<String>() {
        Abort::Panic(s.clone())
    } else {
        Abort::Panic("unknown panic".to_string())
    }
}

/// Ends the running callback with `abort` (already reported), or the
/// process with status 101 outside callbacks.
pub fn raise(abort: Abort) -> ! {
    if catching() {
        std::panic::resume_unwind(Box::new(SnowPanic(abort)))
    } else {
        exit_101()
    }
}

/// Flushes stdout and exits with status 101.
pub fn exit_101() -> ! {
    super::stdout::flush_stdout();
    let _ = std::io::stderr().flush();
    std::process::exit(101)
}

/// A runtime-detected error without a source position: prints
/// `snow: panic: MSG` and raises it.
pub fn runtime_panic(msg: &str) -> ! {
    super::stdout::flush_stdout();
    eprintln!("snow: panic: {msg}");
    raise(Abort::Panic(msg.to_string()))
}

/// Installs (once) the hook that reports Rust panics as `snow: panic: MSG`
/// (with the runtime's source position when the message is empty or
/// `SNOW_RT_DEBUG` is set).
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = info.payload_as_str().unwrap_or("unknown panic");
            super::stdout::flush_stdout();
            match info.location() {
                Some(loc) if msg.is_empty() || super::settings::get().rt_debug => {
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
    let m = unsafe { super::value::str_ref(msg) };
    panic_at(file, line, col, Abort::Panic(m.to_string()))
}

/// Reports `snow: panic at FILE:LINE:COL: MSG` (`file` a String object, MSG
/// what `abort` says) and raises it.
pub fn panic_at(file: i64, line: i64, col: i64, abort: Abort) -> ! {
    // SAFETY: generated code passes a String object.
    let f = unsafe { super::value::str_ref(file) };
    super::stdout::flush_stdout();
    eprintln!("snow: panic at {f}:{line}:{col}: {abort}");
    raise(abort)
}
