//! The kept messages of rooms (spec "History: what a client missed while
//! it was away"; design: docs/WS.md "History"): per room that `Ws.keep`
//! named, a ring of `(offset, time, text)` bounded by the room's count and
//! age, and all rings together by `SNOW_WS_MAX_HISTORY_BYTES`.
//!
//! This file is the data only (no connection, no Redis); `ws/mod.rs` wires
//! it to the rooms and `ws/cluster/streams.rs` to Redis.
//!
//! - **Single node**: the ring *is* the history. Offsets are given out here,
//!   under the room's [`Hist`] lock, which a publish holds while it builds
//!   the text, keeps it and queues it for the members, and a resume holds
//!   while it queues the replay and joins: so a resume sees every publish
//!   either in the ring or live, never both, never neither.
//! - **Cluster**: the history lives in Redis (one stream per room); the
//!   ring is this node's copy of the part of the stream it delivered
//!   (`last` is the last offset delivered here while `following`), so a
//!   resume on a node that already follows the room needs no round trip.
//!   Own publishes that Redis accepted before this node delivered the
//!   offsets below them wait in `pending`.
//!
//! Lock order: a room's `Hist` mutex comes before every registry lock (a
//! resume joins under it, a publish broadcasts under it) and before the
//! cluster's `Local`; the table's `RwLock` is taken alone (or under one
//! `Hist`, only with `try_lock` on the others, when evicting).

use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

/// What a kept message costs besides its text: its ring slot (offset,
/// time, text pointer and length: 32 bytes) and the text's allocation
/// header, rounded up (docs/WS.md "History").
pub(crate) const ENTRY_OVERHEAD: usize = 48;

/// Default `SNOW_WS_MAX_HISTORY_BYTES`: 64 MiB of kept messages per process.
pub(crate) const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// One kept message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub off: u64,
    /// When it was published (Unix milliseconds; in a cluster Redis's clock).
    pub at: u64,
    pub text: Box<str>,
}

impl Entry {
    fn cost(&self) -> usize {
        self.text.len() + ENTRY_OVERHEAD
    }
}

/// A room's history (see the module documentation).
#[derive(Debug)]
pub(crate) struct Hist {
    /// Keep at most this many messages...
    pub count: usize,
    /// ... none older than this (0: no age limit).
    pub ms: u64,
    ring: VecDeque<Entry>,
    /// What the ring holds (see [`ENTRY_OVERHEAD`]).
    bytes: usize,
    /// Single node: the last offset given out. Cluster: the last offset
    /// delivered on this node, while `following`.
    pub last: u64,
    /// Cluster: this node reads the room's stream from `last`.
    pub following: bool,
    /// Cluster: own publishes Redis accepted after offsets this node has
    /// not delivered yet (delivered in order once those arrive).
    pub pending: BTreeMap<u64, Entry>,
    /// Cluster: the offset this node's next publish tries (0: unknown).
    pub next: u64,
}

/// The kept rooms' histories, by room.
type Table = FxHashMap<Arc<str>, Arc<Mutex<Hist>>>;

static TABLE: LazyLock<RwLock<Table>> = LazyLock::new(|| RwLock::new(FxHashMap::default()));
/// Bytes of every ring (texts plus [`ENTRY_OVERHEAD`] each).
static BYTES: AtomicUsize = AtomicUsize::new(0);
/// `SNOW_WS_MAX_HISTORY_BYTES` (read once).
static MAX_BYTES: LazyLock<usize> = LazyLock::new(|| {
    crate::rt::settings()
        .ws_max_history_bytes
        .map_or(DEFAULT_MAX_BYTES, |b| b as usize)
});

/// The time now, in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `Ws.keep(room, count, ms)`: from now on `room` keeps history with these
/// bounds (again: new bounds, applied at once). The room's history.
pub(crate) fn keep(room: &str, count: usize, ms: u64) -> Arc<Mutex<Hist>> {
    let h = {
        let mut t = TABLE.write();
        match t.get(room) {
            Some(h) => h.clone(),
            None => {
                let h = Arc::new(Mutex::new(Hist::new(count, ms)));
                t.insert(Arc::from(room), h.clone());
                h
            }
        }
    };
    {
        let mut g = h.lock();
        g.count = count.max(1);
        g.ms = ms;
        g.trim(now_ms());
    }
    h
}

/// The history of `room`, if it keeps one.
pub(crate) fn get(room: &str) -> Option<Arc<Mutex<Hist>>> {
    TABLE.read().get(room).cloned()
}

/// Every room that keeps history, with its bounds.
pub(crate) fn kept() -> Vec<(Arc<str>, usize, u64)> {
    let t = TABLE.read();
    t.iter()
        .map(|(r, h)| {
            let g = h.lock();
            (r.clone(), g.count, g.ms)
        })
        .collect()
}

/// The histories this node follows (cluster), with their rooms.
pub(crate) fn all() -> Vec<(Arc<str>, Arc<Mutex<Hist>>)> {
    TABLE
        .read()
        .iter()
        .map(|(r, h)| (r.clone(), h.clone()))
        .collect()
}

impl Drop for Hist {
    fn drop(&mut self) {
        while self.pop_front() {}
    }
}

impl Hist {
    fn new(count: usize, ms: u64) -> Hist {
        Hist {
            count: count.max(1),
            ms,
            ring: VecDeque::new(),
            bytes: 0,
            last: 0,
            following: false,
            pending: BTreeMap::new(),
            next: 0,
        }
    }

    fn pop_front(&mut self) -> bool {
        match self.ring.pop_front() {
            Some(e) => {
                BYTES.fetch_sub(e.cost(), Ordering::Relaxed);
                self.bytes -= e.cost();
                true
            }
            None => false,
        }
    }

    /// Drops what the count and the age no longer allow (`now` in Unix ms).
    pub(crate) fn trim(&mut self, now: u64) {
        while self.ring.len() > self.count {
            self.pop_front();
        }
        if self.ms > 0 {
            let oldest = now.saturating_sub(self.ms);
            while self.ring.front().is_some_and(|e| e.at < oldest) {
                self.pop_front();
            }
        }
    }

    /// Keeps `e` (the newest message), then trims. The process-wide cap is
    /// the caller's to enforce afterwards ([`enforce_cap`]).
    pub(crate) fn push(&mut self, e: Entry, now: u64) {
        BYTES.fetch_add(e.cost(), Ordering::Relaxed);
        self.bytes += e.cost();
        self.ring.push_back(e);
        self.trim(now);
    }

    /// Drops every kept message and what a cluster node knew of the
    /// stream (it stopped following the room).
    pub(crate) fn forget(&mut self) {
        while self.pop_front() {}
        self.pending.clear();
        self.following = false;
        self.last = 0;
    }

    /// Cluster: starts following the room's stream after offset `last`
    /// (what the node knew of the room before is forgotten; its next
    /// publish tries no offset at or below `last`).
    pub(crate) fn follow_from(&mut self, last: u64) {
        self.forget();
        self.following = true;
        self.last = last;
        if self.next <= last {
            self.next = last + 1;
        }
    }

    /// The kept messages after offset `after` (all of them), oldest first,
    /// once the age limit is applied at `now`.
    pub(crate) fn after(&mut self, after: u64, now: u64) -> impl Iterator<Item = &Entry> {
        self.trim(now);
        // Offsets increase along the ring: skip to the first one after.
        let start = self.ring.partition_point(|e| e.off <= after);
        self.ring.range(start..)
    }

    /// `Ws.history`: after `after`, oldest first, at most `max`; `after` 0
    /// means the newest `max`.
    pub(crate) fn range(&mut self, after: u64, max: usize, now: u64) -> Vec<&Entry> {
        self.trim(now);
        if after == 0 {
            let skip = self.ring.len().saturating_sub(max);
            return self.ring.range(skip..).collect();
        }
        let start = self.ring.partition_point(|e| e.off <= after);
        self.ring.range(start..).take(max).collect()
    }

    /// The oldest kept offset (0: none).
    pub(crate) fn first(&self) -> u64 {
        self.ring.front().map_or(0, |e| e.off)
    }

    /// Cluster: an entry of the room's stream arrives on this node (read
    /// from the stream, `from_stream`, or an own publish Redis accepted).
    /// Delivered with `deliver` and kept when it is the next one; an own
    /// publish ahead of what was delivered waits in `pending`; an entry of
    /// the stream ahead of `last` is delivered (the ones between are gone
    /// from the stream: trimmed). Then the pending publishes that have
    /// become next are delivered too.
    pub(crate) fn arrive(
        &mut self,
        e: Entry,
        from_stream: bool,
        now: u64,
        deliver: &mut dyn FnMut(&str),
    ) {
        if !self.following || e.off <= self.last {
            return;
        }
        if e.off != self.last + 1 && !from_stream {
            self.pending.insert(e.off, e);
            return;
        }
        self.deliver_one(e, now, deliver);
        while let Some(first) = self.pending.first_entry() {
            if *first.key() <= self.last {
                first.remove();
            } else if *first.key() == self.last + 1 {
                let e = first.remove();
                self.deliver_one(e, now, deliver);
            } else {
                break;
            }
        }
    }

    fn deliver_one(&mut self, e: Entry, now: u64, deliver: &mut dyn FnMut(&str)) {
        deliver(&e.text);
        self.last = e.off;
        if self.next <= e.off {
            self.next = e.off + 1;
        }
        self.push(e, now);
    }
}

/// After a push into `h` (the history of the room being published to,
/// locked by the caller): when all rings together exceed
/// `SNOW_WS_MAX_HISTORY_BYTES`, the rooms that keep the most bytes give up
/// their oldest messages first (evened out to one level, "water filling")
/// until 90 % of the cap is used, so one busy room cannot starve the
/// others and the work is done once per tenth of the cap. A room being
/// published to keeps at least its newest message; a room whose lock is
/// taken at that moment is skipped.
pub(crate) fn enforce_cap(h: &mut Hist) {
    let max = *MAX_BYTES;
    if BYTES.load(Ordering::Relaxed) <= max {
        return;
    }
    let target = max / 10 * 9;
    let t = TABLE.read();
    // (bytes, the room: None for `h`)
    let mut sizes: Vec<(usize, Option<&Arc<Mutex<Hist>>>)> = vec![(h.bytes, None)];
    for other in t.values() {
        if let Some(g) = other.try_lock() {
            sizes.push((g.bytes, Some(other)));
        }
    }
    sizes.sort_unstable_by_key(|b| std::cmp::Reverse(b.0));
    let excess = BYTES.load(Ordering::Relaxed).saturating_sub(target);
    // The level L such that trimming the largest rooms down to L frees
    // `excess` bytes.
    let mut level = 0;
    let mut sum = 0;
    for k in 0..sizes.len() {
        sum += sizes[k].0;
        let next = sizes.get(k + 1).map_or(0, |s| s.0);
        if sum - next * (k + 1) >= excess {
            level = (sum - excess) / (k + 1);
            break;
        }
    }
    for (bytes, room) in sizes {
        if bytes <= level {
            break;
        }
        match room {
            None => {
                while h.bytes > level && h.ring.len() > 1 {
                    h.pop_front();
                }
            }
            Some(other) => {
                if let Some(mut g) = other.try_lock() {
                    while g.bytes > level && g.pop_front() {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(off: u64, at: u64, text: &str) -> Entry {
        Entry {
            off,
            at,
            text: text.into(),
        }
    }

    fn offs<'a>(v: impl IntoIterator<Item = &'a Entry>) -> Vec<u64> {
        v.into_iter().map(|e| e.off).collect()
    }

    #[test]
    fn the_ring_keeps_the_last_count_and_answers_ranges() {
        let mut h = Hist::new(3, 0);
        for i in 1..=5 {
            h.push(e(i, 1000, &format!("m{i}")), 1000);
        }
        assert_eq!(h.ring.len(), 3);
        assert_eq!(h.first(), 3);
        assert_eq!(offs(h.range(0, 2, 1000)), [4, 5], "after 0: the newest");
        assert_eq!(offs(h.range(0, 10, 1000)), [3, 4, 5]);
        assert_eq!(
            offs(h.range(1, 2, 1000)),
            [3, 4],
            "a gap: from the oldest kept"
        );
        assert_eq!(offs(h.range(4, 10, 1000)), [5]);
        assert_eq!(offs(h.range(5, 10, 1000)), Vec::<u64>::new());
        assert_eq!(offs(h.after(3, 1000)), [4, 5]);
        h.forget();
        assert_eq!((h.ring.len(), h.bytes), (0, 0));
    }

    #[test]
    fn old_messages_leave_by_age() {
        let mut h = Hist::new(100, 1000);
        h.push(e(1, 1000, "a"), 1000);
        h.push(e(2, 1500, "b"), 1500);
        h.push(e(3, 2200, "c"), 2200);
        assert_eq!(
            offs(h.range(0, 10, 2200)),
            [2, 3],
            "1 is older than 1 s at 2200"
        );
        assert_eq!(offs(h.range(0, 10, 2600)), [3]);
        assert_eq!(offs(h.after(0, 9000)), Vec::<u64>::new());
    }

    #[test]
    fn arrivals_are_delivered_in_offset_order_once() {
        let mut h = Hist::new(100, 0);
        h.following = true;
        h.last = 10;
        let mut got = Vec::new();
        let mut d = |t: &str| got.push(t.to_string());
        // Own publishes 12 and 13 are accepted before 11 arrives.
        h.arrive(e(12, 0, "12"), false, 0, &mut d);
        h.arrive(e(13, 0, "13"), false, 0, &mut d);
        h.arrive(e(10, 0, "old"), true, 0, &mut d);
        h.arrive(e(11, 0, "11"), true, 0, &mut d);
        // The stream then returns 12 and 13 too: already delivered.
        h.arrive(e(12, 0, "12"), true, 0, &mut d);
        h.arrive(e(13, 0, "13"), true, 0, &mut d);
        // 14, 15 were trimmed away: the stream's 16 is next.
        h.arrive(e(16, 0, "16"), true, 0, &mut d);
        assert_eq!(got, ["11", "12", "13", "16"]);
        assert_eq!(h.last, 16);
        assert_eq!(h.next, 17);
        assert!(h.pending.is_empty());
    }
}
