//! Callback timeouts (`SNOW_WS_CALLBACK_TIMEOUT_MS`, `settings.rs`).
//!
//! A callback costs the watchdog two plain stores to its thread's
//! `callback_seq` (odd while the callback runs; `stack.rs`'s `ThreadCtl`;
//! only the owning thread writes it), no clock reading and no lock. One `snow-watchdog` thread, started with
//! the first callback, scans the registered threads every quarter of the
//! timeout: a thread seen running the same callback (same odd sequence
//! number) for at least the timeout is signalled (`SIGNAL_TIMEOUT`), and its
//! next safepoint panics with `callback timed out`. So a callback is stopped
//! between 1 and 1.25 timeouts after it started, and a signal that arrives
//! after its callback ended is ignored (the sequence number differs).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use super::stack::{self, ThreadCtl, THREADS};

/// Registers the calling thread (`crate::stack`) and starts the watchdog
/// (once per process); then marks the start of an outermost callback.
pub(crate) fn callback_started() {
    static START: Once = Once::new();
    START.call_once(start);
    stack::register_current_thread();
    bump();
}

/// Marks its end.
pub(crate) fn callback_ended() {
    bump();
}

/// The owner's increment of its `callback_seq` (a load and a release store:
/// no other thread writes it).
fn bump() {
    stack::with_current(|c| {
        if let Some(c) = c {
            let seq = c.callback_seq.load(Ordering::Relaxed);
            c.callback_seq.store(seq + 1, Ordering::Release);
        }
    });
}

fn start() {
    let timeout = super::settings::get().callback_timeout_ms;
    let spawned = std::thread::Builder::new()
        .name("snow-watchdog".into())
        .stack_size(256 * 1024)
        .spawn(move || run(Duration::from_millis(timeout)));
    if let Err(e) = spawned {
        eprintln!("snow: cannot start the callback watchdog: {e}");
    }
}

fn run(timeout: Duration) {
    let period = (timeout / 4).max(Duration::from_millis(1));
    // Per thread (by address): the callback seen running and since when.
    let mut seen: HashMap<usize, (u64, Instant)> = HashMap::new();
    loop {
        std::thread::sleep(period);
        let now = Instant::now();
        let threads = THREADS.lock().unwrap_or_else(|e| e.into_inner());
        let mut alive = HashMap::with_capacity(threads.len());
        for t in threads.iter() {
            let key = Arc::as_ptr(t) as usize;
            let seq = t.callback_seq.load(Ordering::SeqCst);
            if seq % 2 == 0 {
                continue;
            }
            let since = match seen.get(&key) {
                Some(&(s, since)) if s == seq => since,
                _ => now,
            };
            if now.duration_since(since) >= timeout {
                signal(t, seq, timeout);
            }
            alive.insert(key, (seq, since));
        }
        drop(threads);
        seen = alive;
    }
}

/// Signals (while `THREADS` is held, so the thread is still registered).
fn signal(t: &ThreadCtl, seq: u64, timeout: Duration) {
    t.signal_timeout(seq, timeout.as_millis() as u64);
}
