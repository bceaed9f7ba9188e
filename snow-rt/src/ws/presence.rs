//! Presence diffs (spec "Presence: who is here, on every node, with what";
//! design: docs/WS.md "Presence", docs/CLUSTER.md "Presence").
//!
//! The entries themselves live where the memberships live: this node's in
//! the room registry (`rooms.rs`, `Tracked`), the other nodes' in the
//! cluster view (`cluster/view.rs`). Every change of either is reported
//! here as `(room, conn, entry before, entry after)`: the registry's
//! changes through its observer (under the connection's membership lock),
//! the view's as the view applies a message or drops a node.
//!
//! Changes are gathered per room into a *batch*; the first change of a
//! batch sets its deadline ([`WINDOW`] later). At the deadline the
//! `snow-presence` thread takes the batch and compares, for each
//! connection in it, its entry before the batch's first change with its
//! entry after the last: absent then present (or present with another
//! meta) is a join, present then absent a leave, equal is nothing (tracked
//! and untracked within one batch). So a batch reports what changed in
//! this node's view since the last batch and nothing else: a connection
//! leaves once per time it was there, and joins only when it was not.
//! The callback (`Ws.on_presence`) runs for the batch, in a callback region
//! of its own on that thread, when this node has members in the room.

use super::conn::ROOMS;
use super::rooms::Tracked;
use parking_lot::{Condvar, Mutex};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

/// Changes within this long come as one call (the spec allows 50 ms).
pub(crate) const WINDOW: Duration = Duration::from_millis(40);

/// One room's changes since its last call: conn -> (entry before the
/// first change, entry now).
struct Batch {
    due: Instant,
    changes: FxHashMap<u64, (Option<Tracked>, Option<Tracked>)>,
}

static BATCHES: Mutex<Option<FxHashMap<Arc<str>, Batch>>> = Mutex::new(None);
static WAKE: Condvar = Condvar::new();
/// The `on_presence` closure (0: none: changes are not even gathered).
static CALLBACK: AtomicI64 = AtomicI64::new(0);
static START: Once = Once::new();
static LAST_AT: AtomicU64 = AtomicU64::new(0);

/// A new entry's place in the order of `Ws.presence`: microseconds since
/// the Unix epoch, increasing on this node (two tracks never share one).
pub(crate) fn next_at() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let prev = LAST_AT
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
            Some(now.max(l + 1))
        })
        .unwrap_or(0);
    now.max(prev + 1)
}

/// `Ws.on_presence(callback)`: from now on, batches of changes are reported
/// to `callback` (a closure kept for the life of the process; a second
/// call replaces the first).
pub(crate) fn set_callback(callback: i64) {
    crate::rt::pin_forever(&[callback]);
    CALLBACK.store(callback, Ordering::Release);
    START.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("snow-presence".into())
            .stack_size(crate::rt::CALLBACK_STACK_SIZE)
            .spawn(reporter);
        if let Err(e) = spawned {
            crate::rt::runtime_panic(&format!("Ws.on_presence: cannot start its thread: {e}"));
        }
    });
}

/// `conn`'s entry in `room` went from `before` to `after` (either may be
/// absent). Only a leaf lock is taken: callable under registry locks.
pub(crate) fn changed(room: &str, conn: u64, before: Option<&Tracked>, after: Option<&Tracked>) {
    if CALLBACK.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut g = BATCHES.lock();
    let batches = g.get_or_insert_with(FxHashMap::default);
    let batch = match batches.get_mut(room) {
        Some(b) => b,
        None => {
            WAKE.notify_one();
            batches.entry(Arc::from(room)).or_insert(Batch {
                due: Instant::now() + WINDOW,
                changes: FxHashMap::default(),
            })
        }
    };
    batch
        .changes
        .entry(conn)
        .and_modify(|(_, now)| *now = after.cloned())
        .or_insert_with(|| (before.cloned(), after.cloned()));
}

/// A batch's joins and leaves: `(conn, meta)` each, joins in the order of
/// tracking, leaves by connection id.
type Diff = (Vec<(u64, Arc<str>)>, Vec<(u64, Arc<str>)>);

fn diff(changes: FxHashMap<u64, (Option<Tracked>, Option<Tracked>)>) -> Diff {
    let mut joins: Vec<(u64, u64, Arc<str>)> = Vec::new();
    let mut leaves: Vec<(u64, Arc<str>)> = Vec::new();
    for (conn, (before, after)) in changes {
        match (before, after) {
            (None, Some(a)) => joins.push((a.at, conn, a.meta)),
            (Some(b), Some(a)) if b.meta != a.meta => joins.push((a.at, conn, a.meta)),
            (Some(b), None) => leaves.push((conn, b.meta)),
            _ => {}
        }
    }
    joins.sort();
    leaves.sort();
    (joins.into_iter().map(|(_, c, m)| (c, m)).collect(), leaves)
}

fn pairs(v: &[(u64, Arc<str>)]) -> i64 {
    let words: Vec<i64> = v
        .iter()
        .map(|(c, m)| crate::rt::new_tuple(&[*c as i64, crate::rt::new_str(m)]))
        .collect();
    crate::rt::list_from_slice(&words)
}

/// The `snow-presence` thread: waits for the earliest due batch, takes it
/// and reports it.
fn reporter() {
    loop {
        let due: Vec<(Arc<str>, Batch)> = {
            let mut g = BATCHES.lock();
            loop {
                let batches = g.get_or_insert_with(FxHashMap::default);
                let now = Instant::now();
                let Some(first) = batches.values().map(|b| b.due).min() else {
                    WAKE.wait(&mut g);
                    continue;
                };
                if first > now {
                    WAKE.wait_for(&mut g, first - now);
                    continue;
                }
                let rooms: Vec<Arc<str>> = batches
                    .iter()
                    .filter(|(_, b)| b.due <= now)
                    .map(|(r, _)| r.clone())
                    .collect();
                break rooms
                    .into_iter()
                    .filter_map(|r| batches.remove(&r).map(|b| (r, b)))
                    .collect();
            }
        };
        let callback = CALLBACK.load(Ordering::Acquire);
        for (room, batch) in due {
            let (joins, leaves) = diff(batch.changes);
            if (joins.is_empty() && leaves.is_empty()) || ROOMS.count(&room) == 0 {
                continue;
            }
            // A panic is reported (by the panic hook) and the next batch
            // goes on, as for a timer tick.
            let _ = crate::rt::run_callback(|| {
                let r = crate::rt::new_str(&room);
                let j = pairs(&joins);
                let l = pairs(&leaves);
                // SAFETY: `callback` is a `Fun(String, List<(Conn, String)>,
                // List<(Conn, String)>) -> a` closure, pinned for ever.
                unsafe { crate::rt::call3(callback, r, j, l) };
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(at: u64, meta: &str) -> Option<Tracked> {
        Some(Tracked {
            at,
            meta: Arc::from(meta),
        })
    }

    #[test]
    fn a_batch_reports_the_net_change_of_each_connection() {
        let mut c = FxHashMap::default();
        c.insert(1, (None, t(5, "a"))); // joined
        c.insert(2, (t(1, "b"), None)); // left
        c.insert(3, (None, None)); // tracked and untracked within the batch
        c.insert(4, (t(2, "x"), t(2, "y"))); // meta changed: a join
        c.insert(5, (t(3, "same"), t(3, "same"))); // left and came back
        c.insert(6, (None, t(4, "c")));
        let (joins, leaves) = diff(c);
        let j: Vec<(u64, &str)> = joins.iter().map(|(c, m)| (*c, &**m)).collect();
        let l: Vec<(u64, &str)> = leaves.iter().map(|(c, m)| (*c, &**m)).collect();
        assert_eq!(j, [(4, "y"), (6, "c"), (1, "a")], "in order of tracking");
        assert_eq!(l, [(2, "b")]);
    }

    #[test]
    fn places_in_the_order_never_repeat() {
        let a = next_at();
        let b = next_at();
        assert!(b > a);
    }
}
