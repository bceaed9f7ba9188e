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

use super::proto::ViewMsg;
use rustc_hash::{FxHashMap, FxHashSet};
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
}

#[derive(Default)]
pub(crate) struct View {
    nodes: FxHashMap<u64, NodeView>,
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
            self.nodes.remove(&origin);
            return Then::Nothing;
        }
        let n = self.nodes.entry(origin).or_insert_with(|| NodeView {
            last_seen: now,
            seq: 0,
            synced: false,
            asked: None,
            rooms: FxHashMap::default(),
        });
        n.last_seen = now;
        let in_order = n.synced && seq == n.seq.wrapping_add(1);
        match msg {
            ViewMsg::Snapshot(rooms) => {
                n.rooms = rooms
                    .iter()
                    .filter(|(_, conns)| !conns.is_empty())
                    .map(|(r, conns)| (r.to_string(), conns.iter().copied().collect()))
                    .collect();
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
            }
            ViewMsg::Heartbeat | ViewMsg::Bye => {}
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
            self.nodes.remove(id);
        }
        gone
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
        let snap = ViewMsg::Snapshot(vec![("a", vec![1, 2])]);
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
        v.apply(9, 5, 43, &ViewMsg::Snapshot(vec![]), now);
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
        v.apply(9, 5, 1, &ViewMsg::Snapshot(vec![("a", vec![1])]), now);
        v.apply(9, 6, 1, &ViewMsg::Snapshot(vec![("a", vec![7])]), now);
        assert_eq!(v.count("a"), 2);
        v.apply(9, 5, 2, &ViewMsg::Bye, now);
        assert_eq!(v.count("a"), 1);
        assert!(!v.knows_node(5));
        let later = now + Duration::from_secs(6);
        assert_eq!(v.expire(later, Duration::from_secs(5)), vec![6]);
        assert_eq!(v.count("a"), 0);
    }

    #[test]
    fn queries_for_everyone_or_for_me_are_answered() {
        let now = t0();
        let mut v = View::default();
        v.apply(9, 5, 1, &ViewMsg::Snapshot(vec![]), now);
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
