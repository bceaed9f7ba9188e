//! `Timer` (std/timer.snow).
//!
//! Each `Timer.every` starts a `snow-timer` thread that sleeps `ms` (at
//! least 1) and then runs the tick in a fresh callback region
//! ([`crate::region::run_callback`]), on a fixed schedule (a late tick does
//! not cause a burst of catch-up ticks). A panicking tick is reported (by
//! `snow_panic` / the panic hook) and the timer goes on. Timer threads do not
//! keep the program alive: it ends when `main` returns.

use std::time::{Duration, Instant};

/// `Timer.every(ms, tick)`: `ms` below 1 counts as 1.
#[no_mangle]
pub extern "C-unwind" fn snow_timer_every(_td_a: i64, ms: i64, tick: i64) -> i64 {
    // The closure lives in the caller's region: keep it if that is a callback's.
    crate::region::pin_current();
    let period = Duration::from_millis(ms.max(1) as u64);
    let spawned = std::thread::Builder::new()
        .name("snow-timer".into())
        .stack_size(crate::stack::CALLBACK_STACK_SIZE)
        .spawn(move || {
            let mut next = Instant::now() + period;
            loop {
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
                // SAFETY: `tick` is a `Fun() -> a` closure kept alive by its region.
                let _ = crate::region::run_callback(|| unsafe {
                    crate::closure::call0(tick);
                });
                next += period;
                let now = Instant::now();
                if next < now {
                    next = now;
                }
            }
        });
    if let Err(e) = spawned {
        crate::panic::runtime_panic(&format!("Timer.every: cannot start a thread: {e}"));
    }
    0
}
