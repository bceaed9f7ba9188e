//! `Timer` (std/timer.snow): every timer of the process shares one
//! scheduler thread (`snow-timer`), so a timer costs memory, never a thread.
//!
//! The scheduler keeps a binary heap of due times and a table of timers by
//! id; it sleeps on a condition variable until the earliest due time (or a
//! change), then runs that tick in a fresh callback region
//! ([`crate::rt::run_callback`]) with no lock held. Ticks keep a fixed
//! schedule: a late tick does not cause a burst of catch-up ticks. A
//! panicking tick is reported (by `snow_panic` / the panic hook) and the
//! timer goes on; ticks obey the callback limits (`rt::run_callback`) like server
//! callbacks. A slow tick delays the other timers (they share the thread).
//!
//! A timer holds its tick closure through a [`Pin`]: [`snow_timer_cancel`]
//! removes the timer and drops the pin (after the tick that is running, if
//! any, has returned), which frees a callback region kept only for it. The
//! scheduler does not keep the program alive: it ends when `main` returns.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use crate::rt::Pin;

struct Timer {
    period: Duration,
    tick: i64,
    /// Keeps `tick` alive; dropped (outside the lock) when the timer ends.
    _pin: Pin,
    /// The due time in the queue.
    due: Instant,
    /// Its tick is running right now (on the scheduler thread).
    running: bool,
    /// Cancelled while running: removed when the tick returns.
    cancelled: bool,
}

#[derive(Default)]
struct Sched {
    timers: HashMap<i64, Timer>,
    /// (due, id); entries of cancelled timers are skipped when they come up.
    queue: BinaryHeap<Reverse<(Instant, i64)>>,
}

static SCHED: Mutex<Option<Sched>> = Mutex::new(None);
static WAKE: Condvar = Condvar::new();
static NEXT_ID: AtomicI64 = AtomicI64::new(1);
static START: Once = Once::new();

fn lock() -> MutexGuard<'static, Option<Sched>> {
    SCHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// `Timer.every(ms, tick) -> id`: `ms` below 1 counts as 1.
#[no_mangle]
pub extern "C-unwind" fn snow_timer_every(_td_a: i64, ms: i64, tick: i64) -> i64 {
    START.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("snow-timer".into())
            .stack_size(crate::rt::CALLBACK_STACK_SIZE)
            .spawn(scheduler);
        if let Err(e) = spawned {
            crate::rt::runtime_panic(&format!("Timer.every: cannot start the timer thread: {e}"));
        }
    });
    // The closure lives in the caller's region: keep it there.
    let pin = crate::rt::pin(tick);
    let period = Duration::from_millis(ms.max(1) as u64);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let due = Instant::now() + period;
    let mut g = lock();
    let s = g.get_or_insert_with(Sched::default);
    s.timers.insert(
        id,
        Timer {
            period,
            tick,
            _pin: pin,
            due,
            running: false,
            cancelled: false,
        },
    );
    s.queue.push(Reverse((due, id)));
    drop(g);
    WAKE.notify_one();
    id
}

/// `Timer.cancel(id)`: 0, or -1 when no timer has this id (never started,
/// or already cancelled). The timer never ticks again once this returns,
/// except for a tick already running.
#[no_mangle]
pub extern "C-unwind" fn snow_timer_cancel(id: i64) -> i64 {
    let mut g = lock();
    let Some(s) = g.as_mut() else { return -1 };
    let removed = match s.timers.get_mut(&id) {
        None => return -1,
        Some(t) if t.cancelled => return -1,
        Some(t) if t.running => {
            t.cancelled = true;
            None
        }
        Some(_) => s.timers.remove(&id),
    };
    compact(s);
    drop(g);
    // Dropping the pin may free a region: outside the lock.
    drop(removed);
    0
}

/// Drops queue entries of removed timers once they outnumber the live ones.
fn compact(s: &mut Sched) {
    if s.queue.len() > 2 * s.timers.len() + 64 {
        s.queue = s
            .timers
            .iter()
            .filter(|(_, t)| !t.cancelled)
            .map(|(&id, t)| Reverse((t.due, id)))
            .collect();
    }
}

/// Whether timer `id` is gone from the table, i.e. its pin was dropped or
/// is being dropped right now (tests).
#[cfg(test)]
pub(crate) fn timer_pin_dropped(id: i64) -> bool {
    lock().as_ref().is_none_or(|s| !s.timers.contains_key(&id))
}

fn scheduler() {
    let mut g = lock();
    loop {
        let s = g.get_or_insert_with(Sched::default);
        let Some(&Reverse((due, id))) = s.queue.peek() else {
            g = WAKE.wait(g).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        let now = Instant::now();
        if due > now {
            g = WAKE
                .wait_timeout(g, due - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            continue;
        }
        s.queue.pop();
        let tick = match s.timers.get_mut(&id) {
            Some(t) if t.due == due && !t.cancelled => {
                t.running = true;
                t.tick
            }
            // A cancelled timer's (or an outdated) entry.
            _ => continue,
        };
        drop(g);
        // SAFETY: `tick` is a `Fun() -> a` closure kept alive by its pin,
        // which the scheduler drops only after this returns.
        let _ = crate::rt::run_callback(|| unsafe {
            crate::rt::call0(tick);
        });
        g = lock();
        let s = g.get_or_insert_with(Sched::default);
        let mut ended = None;
        if let Some(t) = s.timers.get_mut(&id) {
            t.running = false;
            if t.cancelled {
                ended = s.timers.remove(&id);
            } else {
                let now = Instant::now();
                t.due = (due + t.period).max(now);
                s.queue.push(Reverse((t.due, id)));
            }
        }
        if let Some(t) = ended {
            drop(g);
            drop(t);
            g = lock();
        }
    }
}
