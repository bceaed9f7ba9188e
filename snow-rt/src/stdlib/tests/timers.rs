//! `Timer.every` / `Timer.cancel` (crate::timer): one scheduler thread,
//! ticks that survive panics, cancellation that stops ticks and frees what
//! the timer held.

use crate::rt::testing::s;
use crate::rt::testing::{capture, closure as make};
use crate::rt::{run_callback, stats};
use crate::stdlib::timer::{snow_timer_cancel, snow_timer_every};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn boom() -> ! {
    crate::rt::testing::snow_panic(s("boom"), s("t.snow"), 3, 4)
}

extern "C-unwind" fn count_tick(this: *const u8) -> i64 {
    // SAFETY: a closure of `make` whose captures are the test's counters, alive for the test.
    let counter = unsafe { capture(this, 0) } as *const AtomicUsize;
    // SAFETY: a closure of `make` whose captures are the test's counters, alive for the test.
    unsafe { (*counter).fetch_add(1, Ordering::SeqCst) };
    // Allocate in the tick's region.
    s("tick");
    0
}

/// Counts every tick in capture 0; panics on the first three ticks and
/// counts the others (the ones after recovering) in capture 1.
extern "C-unwind" fn panicking_tick(this: *const u8) -> i64 {
    // SAFETY: a closure of `make` whose captures are the test's counters, alive for the test.
    let all = unsafe { capture(this, 0) } as *const AtomicUsize;
    // SAFETY: a closure of `make` whose captures are the test's counters, alive for the test.
    let ok = unsafe { capture(this, 1) } as *const AtomicUsize;
    // SAFETY: a closure of `make` whose captures are the test's counters, alive for the test.
    let n = unsafe { (*all).fetch_add(1, Ordering::SeqCst) };
    if n < 3 {
        boom()
    }
    // SAFETY: a closure of `make` whose captures are the test's counters, alive for the test.
    unsafe { (*ok).fetch_add(1, Ordering::SeqCst) };
    0
}

fn leaked_counter() -> &'static AtomicUsize {
    Box::leak(Box::new(AtomicUsize::new(0)))
}

fn wait_for(counter: &AtomicUsize, n: usize) -> bool {
    for _ in 0..500 {
        if counter.load(Ordering::SeqCst) >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn word(c: &'static AtomicUsize) -> i64 {
    c as *const _ as i64
}

#[test]
fn timer_ticks_repeatedly_until_cancelled() {
    let counter = leaked_counter();
    let clo = make(count_tick as *const u8, &[word(counter)]);
    let id = snow_timer_every(0, 5, clo);
    assert!(id > 0);
    assert!(
        wait_for(counter, 5),
        "ticks: {}",
        counter.load(Ordering::SeqCst)
    );
    assert_eq!(snow_timer_cancel(id), 0);
    // A tick that was running when cancel returned may still finish.
    std::thread::sleep(Duration::from_millis(20));
    let stopped = counter.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        counter.load(Ordering::SeqCst),
        stopped,
        "ticks after cancel"
    );
    assert_eq!(snow_timer_cancel(id), -1, "already cancelled");
}

#[test]
fn cancel_of_an_unknown_id_is_minus_one() {
    assert_eq!(snow_timer_cancel(0), -1);
    assert_eq!(snow_timer_cancel(-5), -1);
    assert_eq!(snow_timer_cancel(i64::MAX), -1);
}

#[test]
fn timer_recovers_after_panicking_ticks() {
    let all = leaked_counter();
    let ok = leaked_counter();
    let clo = make(panicking_tick as *const u8, &[word(all), word(ok)]);
    let id = snow_timer_every(0, 5, clo);
    assert!(
        wait_for(ok, 2),
        "ticks: {} in all, {} after the panics",
        all.load(Ordering::SeqCst),
        ok.load(Ordering::SeqCst)
    );
    assert!(all.load(Ordering::SeqCst) >= 5);
    snow_timer_cancel(id);
}

#[test]
fn timer_started_in_a_callback_keeps_its_closure_until_cancelled() {
    let counter = leaked_counter();
    let (id, set) = run_callback(|| {
        let clo = make(count_tick as *const u8, &[word(counter)]);
        let id = snow_timer_every(0, 5, clo);
        (id, clo)
    })
    .unwrap();
    let _ = set;
    // Reuse freed memory aggressively: a freed closure would be overwritten.
    for _ in 0..200 {
        run_callback(|| {
            (0..200).for_each(|_| {
                s("overwrite-overwrite");
            })
        })
        .unwrap();
    }
    assert!(wait_for(counter, 5));
    let kept = stats().global_pinned_regions;
    assert!(kept >= 1);
    assert_eq!(snow_timer_cancel(id), 0);
    // The scheduler drops the pin (after a running tick), freeing the region.
    let mut freed = false;
    for _ in 0..200 {
        if crate::stdlib::timer::timer_pin_dropped(id) {
            freed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(freed, "the cancelled timer still holds its region");
}

/// Threads of this process whose name starts with `snow-timer`.
fn timer_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "snow-timer")
        })
        .count()
}

#[test]
fn any_number_of_timers_share_one_thread() {
    let counter = leaked_counter();
    let ids: Vec<i64> = (0..300)
        .map(|i| {
            snow_timer_every(
                0,
                1 + i % 7,
                make(count_tick as *const u8, &[word(counter)]),
            )
        })
        .collect();
    assert!(wait_for(counter, 1000));
    assert_eq!(timer_threads(), 1);
    for id in ids {
        assert_eq!(snow_timer_cancel(id), 0);
    }
    assert_eq!(timer_threads(), 1);
}
