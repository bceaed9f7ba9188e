//! Callbacks: running Snow code the runtime was handed (a server callback,
//! a timer tick) in a region of its own, with its limits, and reporting
//! why it stopped early as a value.

use super::panic::{self, Abort};
use super::{metrics, region, stack, watchdog};

/// Runs `f` in a fresh region on this thread and frees the region afterwards
/// (unless pinned). Nested calls are allowed. Any unwinding panic is caught
/// and returned as the [`Abort`] that says why the callback stopped: a Snow
/// panic (`snow_panic`, a Rust panic), a stack overflow, the time limit or
/// the heap limit. The outermost callback of a thread is subject to
/// `SNOW_WS_CALLBACK_TIMEOUT_MS` (`watchdog.rs`); every callback region to
/// `SNOW_WS_CALLBACK_HEAP_BYTES`.
///
/// The result must not point into the callback's region (it is freed before
/// this returns): copy out what you need inside `f`.
pub fn run_callback<R>(f: impl FnOnce() -> R) -> Result<R, Abort> {
    let outermost = region::begin_callback();
    if outermost {
        // Also registers the thread (its safepoints need a limit).
        watchdog::callback_started();
    }
    let result = panic::catch(f);
    if outermost {
        watchdog::callback_ended();
    }
    region::end_callback();
    match &result {
        Ok(_) => {}
        Err(Abort::TimedOut { .. }) => metrics::callback_timed_out(),
        Err(Abort::StackOverflow) => {
            metrics::callback_panicked();
            // The callback went deep: give the stack it touched back.
            stack::release_unused_stack();
        }
        Err(_) => metrics::callback_panicked(),
    }
    result
}
