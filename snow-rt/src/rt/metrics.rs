//! The core's own numbers for the metrics endpoint (`ws/metrics.rs`,
//! docs/WS.md "Metrics"): the Snow heaps' bytes and collections (kept by
//! `gc.rs`), callbacks that ended early (`callback.rs`), and the number of
//! running services, a gauge the code that starts and stops services
//! updates with [`service_started`] / [`service_stopped`].
//!
//! Every event counted here is rare next to a message (a collection, a
//! panic, a service start), so each is one relaxed atomic add on a
//! process-wide counter; the per-message counts of the server are per
//! thread (`ws/counters.rs`).

use super::gc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

static CALLBACK_PANICS: AtomicU64 = AtomicU64::new(0);
static CALLBACK_TIMEOUTS: AtomicU64 = AtomicU64::new(0);
static SERVICES: AtomicI64 = AtomicI64::new(0);

/// A callback ended with a panic (a Snow panic, a stack overflow or the
/// heap limit).
pub(crate) fn callback_panicked() {
    CALLBACK_PANICS.fetch_add(1, Ordering::Relaxed);
}

/// A callback was stopped by `SNOW_WS_CALLBACK_TIMEOUT_MS`.
pub(crate) fn callback_timed_out() {
    CALLBACK_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
}

/// A service started: the `snow_services` gauge goes up by one. Call it
/// once per service, when it can take messages.
pub fn service_started() {
    SERVICES.fetch_add(1, Ordering::Relaxed);
}

/// A service stopped (the gauge goes down by one).
pub fn service_stopped() {
    SERVICES.fetch_sub(1, Ordering::Relaxed);
}

/// The core's numbers at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreMetrics {
    /// Bytes of every Snow heap's chunks and big objects (threads' caches
    /// and regions kept for pins included).
    pub heap_bytes: u64,
    /// Collections of any region so far.
    pub gc_runs: u64,
    /// Callbacks that ended with a panic so far.
    pub callback_panics: u64,
    /// Callbacks stopped by the time limit so far.
    pub callback_timeouts: u64,
    /// Services running now.
    pub services: i64,
}

/// The core's numbers now.
pub fn core_metrics() -> CoreMetrics {
    CoreMetrics {
        heap_bytes: gc::GLOBAL_BYTES.load(Ordering::Relaxed) as u64,
        gc_runs: gc::GLOBAL_COLLECTIONS.load(Ordering::Relaxed),
        callback_panics: CALLBACK_PANICS.load(Ordering::Relaxed),
        callback_timeouts: CALLBACK_TIMEOUTS.load(Ordering::Relaxed),
        services: SERVICES.load(Ordering::Relaxed),
    }
}
