//! The cluster view: which connections of *other* nodes are in which rooms,
//! kept in memory so `Ws.count` and `Ws.members` never wait on the network.
//!
//! Each node publishes its own memberships on `snow:ws:view` (joins,
//! leaves, full snapshots, heartbeats; see `proto::ViewMsg`), every message
//! numbered by a per-node sequence. A receiver applies a node's events in
//! order; a message whose number is not the next one (a message was lost,
//! e.g. across a Redis outage) or one from a node it has no snapshot of yet
//! makes it ask that node for a snapshot, which replaces what it knew. A
//! node that has not been heard from for the node timeout (heartbeats stop:
//! crash, `kill -9`, network) is dropped with all its members.
//!
//! Presence (`Ws.track`) rides on the same messages: each node's entries
//! (`P`/`U` events, a leave dropping the entry, and a section of the
//! snapshot). Every change this makes to the view's presence is recorded
//! as a [`Diff`] (the entry before and after) for the node's `on_presence`
//! batches: derived from the view's own state, so an entry can only leave
//! once it was there and only join when it was not (docs/CLUSTER.md
//! "Presence").

use super::proto::{Track, ViewMsg};
use crate::ws::rooms::Tracked;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one remote node has, as far as this node knows.
struct NodeView {
    last_seen: Instant,
    /// The last sequence number applied.
    seq: u64,
    /// A snapshot was applied and no message has been missed since.
    synced: bool,
    /// When a snapshot was last asked for (asking is rate-limited).
    asked: Option<Instant>,
    rooms: FxHashMap<String, FxHashSet<u64>>,
    /// room -> conn -> presence entry.
    tracked: FxHashMap<String, FxHashMap<u64, Tracked>>,
}

/// A change of the view's presence: `conn`'s entry in `room` before and
/// after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diff {
    pub room: String,
    pub conn: u64,
    pub before: Option<Tracked>,
    pub after: Option<Tracked>,
}

#[derive(Default)]
pub(crate) struct View {
    nodes: FxHashMap<u64, NodeView>,
    /// The presence changes made since the last [`View::take_diffs`].
    diffs: Vec<Diff>,
}

fn entry(t: &Track<'_>) -> Tracked {
    Tracked {
        at: t.at,
        meta: Arc::from(t.meta),
    }
}

impl NodeView {
    /// Every presence entry of the node leaves (it died or said goodbye).
    fn all_leave(self, diffs: &mut Vec<Diff>) {
        for (room, entries) in self.tracked {
            for (conn, t) in entries {
                diffs.push(Diff {
                    room: room.clone(),
                    conn,
                    before: Some(t),
                    after: None,
                });
            }
        }
    }

    fn set(&mut self, room: &str, conn: u64, after: Option<Tracked>, diffs: &mut Vec<Diff>) {
        let before = match &after {
            Some(t) => self
                .tracked
                .entry(room.to_string())
                .or_default()
                .insert(conn, t.clone()),
            None => {
                let entries = self.tracked.get_mut(room);
                let before = entries.and_then(|e| e.remove(&conn));
                if self.tracked.get(room).is_some_and(|e| e.is_empty()) {
                    self.tracked.remove(room);
                }
                before
            }
        };
        if before != after {
            diffs.push(Diff {
                room: room.to_string(),
                conn,
                before,
                after,
            });
        }
    }
}

/// Which other nodes have members in a room (see [`View::reach`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    Nobody,
    One(u64),
    Several,
}

/// What the receiver of a view message must do next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Then {
    Nothing,
    /// Ask this node for its snapshot.
    AskSnapshot(u64),
    /// Publish our own snapshot (someone asked).
    SendSnapshot,
}

/// How long to wait before asking the same node again.
const ASK_AGAIN: Duration = Duration::from_millis(500);

impl View {
    /// Applies a message of node `origin` (never this node's own).
    pub(crate) fn apply(
        &mut self,
        me: u64,
        origin: u64,
        seq: u64,
        msg: &ViewMsg<'_>,
        now: Instant,
    ) -> Then {
        if let ViewMsg::Bye = msg {
            if let Some(n) = self.nodes.remove(&origin) {
                n.all_leave(&mut self.diffs);
            }
            return Then::Nothing;
        }
        let diffs = &mut self.diffs;
        let n = self.nodes.entry(origin).or_insert_with(|| NodeView {
            last_seen: now,
            seq: 0,
            synced: false,
            asked: None,
            rooms: FxHashMap::default(),
            tracked: FxHashMap::default(),
        });
        n.last_seen = now;
        let in_order = n.synced && seq == n.seq.wrapping_add(1);
        match msg {
            ViewMsg::Snapshot(rooms, tracked) => {
                n.rooms = rooms
                    .iter()
                    .filter(|(_, conns)| !conns.is_empty())
                    .map(|(r, conns)| (r.to_string(), conns.iter().copied().collect()))
                    .collect();
                // The presence diff between what was known and the snapshot.
                let mut new: FxHashMap<String, FxHashMap<u64, Tracked>> = FxHashMap::default();
                for t in tracked {
                    new.entry(t.room.to_string())
                        .or_default()
                        .insert(t.conn, entry(t));
                }
                for (room, entries) in &n.tracked {
                    for (conn, before) in entries {
                        let after = new.get(room).and_then(|e| e.get(conn));
                        if after != Some(before) {
                            diffs.push(Diff {
                                room: room.clone(),
                                conn: *conn,
                                before: Some(before.clone()),
                                after: after.cloned(),
                            });
                        }
                    }
                }
                for (room, entries) in &new {
                    for (conn, after) in entries {
                        if n.tracked.get(room).and_then(|e| e.get(conn)).is_none() {
                            diffs.push(Diff {
                                room: room.clone(),
                                conn: *conn,
                                before: None,
                                after: Some(after.clone()),
                            });
                        }
                    }
                }
                n.tracked = new;
                n.seq = seq;
                n.synced = true;
                n.asked = None;
                return Then::Nothing;
            }
            ViewMsg::Join { conn, room } => {
                n.rooms.entry(room.to_string()).or_default().insert(*conn);
            }
            ViewMsg::Leave { conn, room } => {
                if let Some(set) = n.rooms.get_mut(*room) {
                    set.remove(conn);
                    if set.is_empty() {
                        n.rooms.remove(*room);
                    }
                }
                n.set(room, *conn, None, diffs);
            }
            ViewMsg::Track(t) => n.set(t.room, t.conn, Some(entry(t)), diffs),
            ViewMsg::Untrack { conn, room } => n.set(room, *conn, None, diffs),
            ViewMsg::Heartbeat | ViewMsg::Bye | ViewMsg::Keep { .. } => {}
            ViewMsg::Query { .. } => {}
        }
        n.seq = seq;
        let then = if in_order {
            Then::Nothing
        } else {
            // Applied anyway (the best guess until the snapshot arrives).
            n.synced = false;
            if n.asked.is_none_or(|t| now.duration_since(t) >= ASK_AGAIN) {
                n.asked = Some(now);
                Then::AskSnapshot(origin)
            } else {
                Then::Nothing
            }
        };
        match msg {
            ViewMsg::Query { target } if *target == 0 || *target == me => Then::SendSnapshot,
            _ => then,
        }
    }

    /// Drops the nodes not heard from for `timeout`; answers their numbers.
    pub(crate) fn expire(&mut self, now: Instant, timeout: Duration) -> Vec<u64> {
        let gone: Vec<u64> = self
            .nodes
            .iter()
            .filter(|(_, n)| now.duration_since(n.last_seen) > timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in &gone {
            if let Some(n) = self.nodes.remove(id) {
                n.all_leave(&mut self.diffs);
            }
        }
        gone
    }

    /// The presence changes since the last call.
    pub(crate) fn take_diffs(&mut self) -> Vec<Diff> {
        std::mem::take(&mut self.diffs)
    }

    /// The presence entries of `room` on other nodes, appended to `out`.
    pub(crate) fn tracked(&self, room: &str, out: &mut Vec<(u64, Tracked)>) {
        for n in self.nodes.values() {
            if let Some(e) = n.tracked.get(room) {
                out.extend(e.iter().map(|(c, t)| (*c, t.clone())));
            }
        }
    }

    /// The other nodes alive in the view.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn knows_node(&self, node: u64) -> bool {
        self.nodes.contains_key(&node)
    }

    pub(crate) fn count(&self, room: &str) -> usize {
        self.nodes
            .values()
            .map(|n| n.rooms.get(room).map_or(0, |s| s.len()))
            .sum()
    }

    /// The other nodes with members in `room`: where a broadcast must go.
    pub(crate) fn reach(&self, room: &str) -> Reach {
        let mut reach = Reach::Nobody;
        for (id, n) in &self.nodes {
            if n.rooms.get(room).is_some_and(|s| !s.is_empty()) {
                if reach != Reach::Nobody {
                    return Reach::Several;
                }
                reach = Reach::One(*id);
            }
        }
        reach
    }

    /// The remote members of `room` (unsorted).
    pub(crate) fn members(&self, room: &str, out: &mut Vec<u64>) {
        for n in self.nodes.values() {
            if let Some(s) = n.rooms.get(room) {
                out.extend(s.iter().copied());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn events_after_a_snapshot_apply_in_order() {
        let now = t0();
        let mut v = View::default();
        let snap = ViewMsg::Snapshot(vec![("a", vec![1, 2])], vec![]);
        assert_eq!(v.apply(9, 5, 10, &snap, now), Then::Nothing);
        assert_eq!(v.count("a"), 2);
        let j = ViewMsg::Join { conn: 3, room: "a" };
        assert_eq!(v.apply(9, 5, 11, &j, now), Then::Nothing);
        let l = ViewMsg::Leave { conn: 1, room: "a" };
        assert_eq!(v.apply(9, 5, 12, &l, now), Then::Nothing);
        let mut m = Vec::new();
        v.members("a", &mut m);
        m.sort();
        assert_eq!(m, vec![2, 3]);
        assert_eq!(v.count("b"), 0);
    }

    #[test]
    fn a_gap_or_an_unknown_node_asks_for_a_snapshot_once_in_a_while() {
        let now = t0();
        let mut v = View::default();
        let hb = ViewMsg::Heartbeat;
        assert_eq!(v.apply(9, 5, 40, &hb, now), Then::AskSnapshot(5));
        assert_eq!(v.apply(9, 5, 41, &hb, now), Then::Nothing, "asked recently");
        assert_eq!(
            v.apply(9, 5, 42, &hb, now + ASK_AGAIN),
            Then::AskSnapshot(5)
        );
        v.apply(9, 5, 43, &ViewMsg::Snapshot(vec![], vec![]), now);
        assert_eq!(v.apply(9, 5, 44, &hb, now), Then::Nothing);
        assert_eq!(
            v.apply(9, 5, 46, &hb, now),
            Then::AskSnapshot(5),
            "45 was lost"
        );
    }

    #[test]
    fn the_last_leave_removes_the_room_and_bye_or_silence_the_node() {
        let now = t0();
        let mut v = View::default();
        v.apply(
            9,
            5,
            1,
            &ViewMsg::Snapshot(vec![("a", vec![1])], vec![]),
            now,
        );
        v.apply(
            9,
            6,
            1,
            &ViewMsg::Snapshot(vec![("a", vec![7])], vec![]),
            now,
        );
        assert_eq!(v.count("a"), 2);
        assert_eq!(v.reach("a"), Reach::Several);
        assert_eq!(v.reach("b"), Reach::Nobody);
        v.apply(9, 5, 2, &ViewMsg::Bye, now);
        assert_eq!(v.count("a"), 1);
        assert_eq!(v.reach("a"), Reach::One(6));
        v.apply(9, 6, 2, &ViewMsg::Leave { conn: 7, room: "a" }, now);
        assert_eq!(v.reach("a"), Reach::Nobody, "the last leave");
        v.apply(9, 6, 3, &ViewMsg::Join { conn: 7, room: "a" }, now);
        assert_eq!(v.reach("a"), Reach::One(6));
        assert!(!v.knows_node(5));
        let later = now + Duration::from_secs(6);
        assert_eq!(v.expire(later, Duration::from_secs(5)), vec![6]);
        assert_eq!(v.count("a"), 0);
    }

    fn tr(conn: u64, room: &str, meta: &'static str) -> ViewMsg<'static> {
        let room: &'static str = Box::leak(room.to_string().into_boxed_str());
        ViewMsg::Track(Track {
            conn,
            room,
            at: conn,
            meta,
        })
    }

    /// (conn, before meta, after meta) of each diff.
    fn diffs(v: &mut View) -> Vec<(u64, Option<String>, Option<String>)> {
        v.take_diffs()
            .into_iter()
            .map(|d| {
                (
                    d.conn,
                    d.before.map(|t| t.meta.to_string()),
                    d.after.map(|t| t.meta.to_string()),
                )
            })
            .collect()
    }

    #[test]
    fn presence_diffs_follow_the_view_and_never_repeat() {
        let now = t0();
        let mut v = View::default();
        v.apply(
            9,
            5,
            1,
            &ViewMsg::Snapshot(vec![("a", vec![1, 2])], vec![]),
            now,
        );
        v.apply(9, 5, 2, &tr(1, "a", "x"), now);
        v.apply(9, 5, 3, &tr(2, "a", "y"), now);
        v.apply(9, 5, 4, &tr(2, "a", "y2"), now);
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            diffs(&mut v),
            [(1, None, s("x")), (2, None, s("y")), (2, s("y"), s("y2"))]
        );
        // The same entry again changes nothing; an untrack of an unknown
        // entry neither.
        v.apply(9, 5, 5, &tr(1, "a", "x"), now);
        v.apply(9, 5, 6, &ViewMsg::Untrack { conn: 7, room: "a" }, now);
        assert_eq!(diffs(&mut v), []);
        // A leave drops the entry: reported once; a second leave nothing.
        v.apply(9, 5, 7, &ViewMsg::Leave { conn: 1, room: "a" }, now);
        v.apply(9, 5, 8, &ViewMsg::Leave { conn: 1, room: "a" }, now);
        assert_eq!(diffs(&mut v), [(1, s("x"), None)]);
        let mut out = Vec::new();
        v.tracked("a", &mut out);
        assert_eq!(out.len(), 1);
        // A snapshot: only what differs from the view.
        let snap = ViewMsg::Snapshot(
            vec![("a", vec![2, 3])],
            vec![
                Track {
                    conn: 2,
                    room: "a",
                    at: 2,
                    meta: "y2",
                },
                Track {
                    conn: 3,
                    room: "a",
                    at: 3,
                    meta: "z",
                },
            ],
        );
        v.apply(9, 5, 20, &snap, now);
        assert_eq!(diffs(&mut v), [(3, None, s("z"))]);
        // The node dies: every entry leaves, once.
        let later = now + Duration::from_secs(6);
        assert_eq!(v.expire(later, Duration::from_secs(5)), vec![5]);
        let mut left = diffs(&mut v);
        left.sort();
        assert_eq!(left, [(2, s("y2"), None), (3, s("z"), None)]);
        assert_eq!(v.expire(later, Duration::from_secs(5)), Vec::<u64>::new());
        assert_eq!(diffs(&mut v), []);
    }

    #[test]
    fn queries_for_everyone_or_for_me_are_answered() {
        let now = t0();
        let mut v = View::default();
        v.apply(9, 5, 1, &ViewMsg::Snapshot(vec![], vec![]), now);
        assert_eq!(
            v.apply(9, 5, 2, &ViewMsg::Query { target: 0 }, now),
            Then::SendSnapshot
        );
        assert_eq!(
            v.apply(9, 5, 3, &ViewMsg::Query { target: 9 }, now),
            Then::SendSnapshot
        );
        assert_eq!(
            v.apply(9, 5, 4, &ViewMsg::Query { target: 8 }, now),
            Then::Nothing
        );
    }
}
