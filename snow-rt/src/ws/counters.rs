//! The server's counters for the metrics endpoint (`metrics.rs`), counted
//! on the hot path without a lock and without a shared cache line.
//!
//! Every thread that counts (the workers, the cluster thread, a timer
//! thread) owns a block of cells ([`Cells`], aligned to 128 bytes so no two
//! threads' blocks share a cache line, nor the adjacent-line prefetcher's
//! pair). Only the owning thread writes its block, so an increment is a
//! relaxed load and store of its own cell (two plain `mov`s on x86, no
//! `lock` prefix), and nothing else touches that line while the thread
//! serves. A scrape sums every block with relaxed loads ([`snapshot`]):
//! each cell only grows, so every sum only grows (counters never decrease
//! across scrapes), and a sum is at most a few increments behind.
//!
//! Blocks are never freed: a thread that ends gives its block back, with
//! its counts in it, and the next thread that starts counting takes it
//! over and adds to it (so there are as many blocks as threads ever
//! counted at once). Counting is off (one relaxed load of a flag that is
//! written once, before serving) unless the metrics endpoint is on
//! (`SNOW_WS_METRICS_ADDR`), so a server without metrics pays nothing more.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// What is counted: an index into each thread's cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Counter {
    /// Data messages read from clients (text and binary; a fragmented
    /// message once).
    MessagesReceived,
    /// Bytes read from client sockets after the upgrade (frames as sent,
    /// compressed or not, control frames included).
    ReceivedBytes,
    /// Data messages queued for a connection (a broadcast counts one per
    /// member it was queued for).
    MessagesSent,
    /// Bytes written to client sockets after the upgrade (every frame).
    SentBytes,
    /// Upgrades `on_connect` accepted.
    Accepted,
    /// Upgrades `on_connect` rejected (or panicked in).
    Rejected,
    /// Connections closed for sending faster than
    /// `SNOW_WS_MAX_MESSAGES_PER_SEC`.
    RateLimited,
}

/// The close codes counted separately; others fall into [`CODE_3XXX`],
/// [`CODE_4XXX`] or [`CODE_OTHER`], so a client choosing codes cannot
/// make more than [`CLOSE_CODES`] series.
const FIRST_CODE: u16 = 1000;
const LAST_CODE: u16 = 1015;
const CODE_3XXX: usize = (LAST_CODE - FIRST_CODE) as usize + 1;
const CODE_4XXX: usize = CODE_3XXX + 1;
const CODE_OTHER: usize = CODE_4XXX + 1;
/// The number of close code labels.
pub(crate) const CLOSE_CODES: usize = CODE_OTHER + 1;

/// The label of close code slot `i` (`"1000"`, ..., `"3xxx"`, `"4xxx"`,
/// `"other"`).
pub(crate) fn close_code_label(i: usize) -> String {
    match i {
        CODE_3XXX => "3xxx".into(),
        CODE_4XXX => "4xxx".into(),
        CODE_OTHER => "other".into(),
        _ => (FIRST_CODE + i as u16).to_string(),
    }
}

/// The slot of close code `code`.
fn close_code_slot(code: u16) -> usize {
    match code {
        FIRST_CODE..=LAST_CODE => (code - FIRST_CODE) as usize,
        3000..=3999 => CODE_3XXX,
        4000..=4999 => CODE_4XXX,
        _ => CODE_OTHER,
    }
}

/// Why an upgrade was answered with an HTTP error instead of `101`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Refused {
    /// A foreign `Origin` (403).
    Origin,
    /// `SNOW_WS_MAX_CONNECTIONS` reached (503).
    Cap,
    /// Not a valid upgrade: malformed or oversized head, a broken
    /// upgrade, another WebSocket version (400, 431, 426).
    BadRequest,
    /// `SNOW_WS_MAX_CONNECTIONS_PER_IP` reached for the address (429).
    PerIp,
    /// The server is shutting down or draining (503).
    Draining,
}

/// Every refusal reason with its label, in order.
pub(crate) const REFUSALS: [(Refused, &str); 5] = [
    (Refused::Origin, "origin"),
    (Refused::Cap, "cap"),
    (Refused::BadRequest, "bad_request"),
    (Refused::PerIp, "per_ip"),
    (Refused::Draining, "draining"),
];

const SIMPLE: usize = Counter::RateLimited as usize + 1;
const CLOSED_AT: usize = SIMPLE;
const REFUSED_AT: usize = CLOSED_AT + CLOSE_CODES;
const CELLS: usize = REFUSED_AT + REFUSALS.len();

/// One thread's cells (see the module documentation).
#[repr(C, align(128))]
struct Cells {
    cells: [AtomicU64; CELLS],
    /// A thread owns the block (only it writes the cells).
    owned: AtomicBool,
}

impl Cells {
    /// An increment by the block's owner: a load and a store, no atomic
    /// read-modify-write (no other thread writes the cell).
    #[inline(always)]
    fn add(&self, i: usize, n: u64) {
        let c = &self.cells[i];
        c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }
}

/// Whether the server counts (the metrics endpoint is on).
static ENABLED: AtomicBool = AtomicBool::new(false);
/// Every block ever made (never freed).
static BLOCKS: Mutex<Vec<&'static Cells>> = Mutex::new(Vec::new());
/// Counts made while a thread's own block is gone (during its exit):
/// shared, so added atomically; rare.
static ORPHAN: Cells = Cells {
    cells: [const { AtomicU64::new(0) }; CELLS],
    owned: AtomicBool::new(true),
};
/// WebSocket connections accepted and not yet closed.
static OPEN: AtomicI64 = AtomicI64::new(0);

/// A thread's claim on its block; gives it back when the thread ends.
struct Owner(&'static Cells);

impl Owner {
    fn claim() -> Owner {
        let mut blocks = BLOCKS.lock();
        for b in blocks.iter() {
            if b.owned
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return Owner(b);
            }
        }
        let b: &'static Cells = Box::leak(Box::new(Cells {
            cells: [const { AtomicU64::new(0) }; CELLS],
            owned: AtomicBool::new(true),
        }));
        blocks.push(b);
        Owner(b)
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Release: the next owner sees every count this thread made.
        self.0.owned.store(false, Ordering::Release);
    }
}

thread_local! {
    static MINE: Owner = Owner::claim();
}

/// Turns counting on (before serving; there is no way back).
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether counting is on.
#[inline(always)]
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

#[inline(always)]
fn add_cell(i: usize, n: u64) {
    if !enabled() {
        return;
    }
    if MINE.try_with(|o| o.0.add(i, n)).is_err() {
        ORPHAN.cells[i].fetch_add(n, Ordering::Relaxed);
    }
}

/// Adds `n` to `c`.
#[inline(always)]
pub(crate) fn add(c: Counter, n: u64) {
    add_cell(c as usize, n);
}

/// A connection closed with `code` (its `on_close` is about to run).
pub(crate) fn closed(code: u16) {
    if enabled() {
        OPEN.fetch_sub(1, Ordering::Relaxed);
        add_cell(CLOSED_AT + close_code_slot(code), 1);
    }
}

/// `on_connect` accepted a connection.
pub(crate) fn accepted() {
    if enabled() {
        OPEN.fetch_add(1, Ordering::Relaxed);
        add_cell(Counter::Accepted as usize, 1);
    }
}

/// An upgrade was refused for `why`.
pub(crate) fn refused(why: Refused) {
    add_cell(REFUSED_AT + why as usize, 1);
}

/// The sums over every thread at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    cells: [u64; CELLS],
    /// Connections open now.
    pub open: i64,
}

impl Snapshot {
    pub(crate) fn get(&self, c: Counter) -> u64 {
        self.cells[c as usize]
    }

    /// Connections closed with a code of slot `i` (see [`close_code_label`]).
    pub(crate) fn closed(&self, i: usize) -> u64 {
        self.cells[CLOSED_AT + i]
    }

    pub(crate) fn refused(&self, why: Refused) -> u64 {
        self.cells[REFUSED_AT + why as usize]
    }
}

/// Every thread's counts summed (see the module documentation).
pub(crate) fn snapshot() -> Snapshot {
    let mut cells = [0u64; CELLS];
    let mut sum = |b: &Cells| {
        for (s, c) in cells.iter_mut().zip(b.cells.iter()) {
            *s = s.wrapping_add(c.load(Ordering::Relaxed));
        }
    };
    for b in BLOCKS.lock().iter() {
        sum(b);
    }
    sum(&ORPHAN);
    Snapshot {
        cells,
        open: OPEN.load(Ordering::Relaxed).max(0),
    }
}

/// A histogram for rare observations (at most a few per second: a cluster
/// heartbeat's round trip, the queues seen by a scrape): shared atomic
/// buckets, not per thread.
pub(crate) struct Histogram {
    /// Upper bounds of the buckets, ascending (`+Inf` is implied).
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative), the last one `+Inf`'s.
    counts: Vec<AtomicU64>,
    /// The sum of the observations, as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(crate) fn observe(&self, v: f64) {
        let i = self.bounds.partition_point(|b| *b < v);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }

    /// (sum, count, (upper bound, observations in that bucket) for the
    /// finite bounds): what `MetricEncoder::encode_histogram` takes.
    pub(crate) fn read(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let buckets = self.bounds.iter().copied().zip(counts.iter().copied());
        (
            f64::from_bits(self.sum.load(Ordering::Relaxed)),
            counts.iter().sum(),
            buckets.collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_fold_into_a_bounded_set_of_labels() {
        assert_eq!(close_code_label(close_code_slot(1000)), "1000");
        assert_eq!(close_code_label(close_code_slot(1012)), "1012");
        assert_eq!(close_code_label(close_code_slot(1015)), "1015");
        assert_eq!(close_code_label(close_code_slot(3001)), "3xxx");
        assert_eq!(close_code_label(close_code_slot(4999)), "4xxx");
        assert_eq!(close_code_label(close_code_slot(2000)), "other");
        assert_eq!(close_code_label(close_code_slot(999)), "other");
        let labels: std::collections::BTreeSet<String> = (0..=u16::MAX)
            .map(|c| close_code_label(close_code_slot(c)))
            .collect();
        assert_eq!(labels.len(), CLOSE_CODES);
    }

    #[test]
    fn blocks_are_per_thread_summed_and_taken_over_by_later_threads() {
        enable();
        let before = snapshot();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..1000 {
                        add(Counter::MessagesReceived, 1);
                    }
                    add(Counter::ReceivedBytes, 7);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let blocks = BLOCKS.lock().len();
        let mid = snapshot();
        assert!(mid.get(Counter::MessagesReceived) >= before.get(Counter::MessagesReceived) + 4000);
        // Later threads take the blocks of ended ones over.
        for _ in 0..8 {
            std::thread::spawn(|| add(Counter::ReceivedBytes, 1))
                .join()
                .unwrap();
        }
        let after = snapshot();
        assert!(after.get(Counter::ReceivedBytes) >= mid.get(Counter::ReceivedBytes) + 8);
        // (Other tests may count on their own threads meanwhile.)
        assert!(BLOCKS.lock().len() <= blocks + 8);
        for (a, b) in mid.cells.iter().zip(after.cells.iter()) {
            assert!(b >= a, "a count went down");
        }
    }

    #[test]
    fn a_histogram_puts_each_observation_in_the_first_bucket_that_holds_it() {
        let h = Histogram::new(&[0.0, 1.0, 10.0]);
        for v in [0.0, 0.5, 1.0, 1.5, 10.0, 11.0, 1e9] {
            h.observe(v);
        }
        let (sum, count, buckets) = h.read();
        assert_eq!(count, 7);
        assert_eq!(sum, 0.0 + 0.5 + 1.0 + 1.5 + 10.0 + 11.0 + 1e9);
        assert_eq!(buckets, [(0.0, 1), (1.0, 2), (10.0, 2)]);
    }

    #[test]
    fn a_block_is_one_thread_s_own_cache_lines() {
        assert_eq!(std::mem::align_of::<Cells>(), 128);
        assert_eq!(std::mem::size_of::<Cells>() % 128, 0);
    }
}
