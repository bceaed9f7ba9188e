//! `snow_check`: the slow path of generated code's safepoints (docs/ABI.md
//! "Stack"). The stack limit carries three signals (`stack.rs`); this is
//! where each is acted on: a stack overflow and a callback that timed out
//! become Snow panics at the call's position, a wanted collection collects
//! the current region (`region.rs`), whose heap limit may in turn end the
//! callback.

use super::panic::{self, Abort};
use super::region;
use super::stack::{current, SIGNAL_GC, SIGNAL_TIMEOUT};

/// `snow_check(file, line, col)`: the slow path of a safepoint (`file` is a
/// String object, the position that of the call or loop). Returns after a
/// collection or a stale signal; panics on a stack overflow, a callback
/// timeout or a callback over its heap limit.
#[no_mangle]
pub extern "C-unwind" fn snow_check(file: i64, line: i64, col: i64) {
    let Some(ctl) = current() else { return };
    let was = ctl.restore_limit();
    // A signal may coincide with an overflow: then do not collect on the
    // little stack left (this frame is a few hundred bytes below the caller's).
    let sp = &was as *const u64 as u64;
    if was == ctl.real_limit || sp < ctl.real_limit {
        drop(ctl);
        panic::panic_at(file, line, col, Abort::StackOverflow);
    }
    let pending = ctl.take_signals();
    if pending & SIGNAL_TIMEOUT != 0 && panic::catching() {
        if let Some(ms) = ctl.timeout_of_running_callback() {
            drop(ctl);
            panic::panic_at(file, line, col, Abort::TimedOut { ms });
        }
    }
    drop(ctl);
    if pending & SIGNAL_GC != 0 {
        if let Err(abort) = region::collect_at_safepoint() {
            panic::panic_at(file, line, col, abort);
        }
    }
}

/// What a safepoint of generated code does, for runtime tests: enter
/// [`snow_check`] when the stack pointer is below this thread's limit.
#[cfg(test)]
pub(crate) fn safepoint(file: i64, line: i64, col: i64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let sp = &file as *const i64 as u64;
    // SAFETY: the accessor returns this thread's TLS variable, a u64 that
    // other threads only touch atomically.
    let limit = unsafe { &*(super::stack::snow_stack_limit_addr() as *const AtomicU64) };
    if sp < limit.load(Ordering::SeqCst) {
        snow_check(file, line, col);
    }
}
