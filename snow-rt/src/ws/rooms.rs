//! The room registry: room -> members and connection -> rooms.
//!
//! # Structure
//! Two sharded maps, kept consistent with each other:
//! - *membership shards* (`conn id -> set of room names`), sharded by
//!   connection id, each behind a `parking_lot::Mutex`;
//! - *room shards* (`room name -> Room`: its members, `conn id -> handle`,
//!   and its presence, `conn id -> Tracked`), sharded by the hash of the
//!   room name, each behind a `parking_lot::RwLock`.
//!
//! A member entry stores the connection's handle `H` (the server uses
//! `Arc<ConnState>`), so a broadcast never has to look members up again.
//!
//! # Lock order (the only one)
//! 1. the membership shard of the connection being changed, then
//! 2. one room shard at a time.
//!
//! A thread holds at most one membership shard and at most one room shard,
//! and only ever takes a room shard while holding a membership shard, never
//! the other way round. Read-only queries (`snapshot`, `count`) take a single
//! room shard; `rooms_of` takes a single membership shard. No lock of this
//! module is held while calling out (closing, Snow code): callers get a
//! snapshot and work on it after the locks are released. The one exception
//! is [`Registry::with_members`] (broadcast): it copies a frame into each
//! member's outbound queue under the room shard's read lock, because a queue
//! mutex is a leaf lock; members found over their limit are closed after the
//! lock is released.
//!
//! # Invariants
//! - `c` is a member of room `r` in the room shard **iff** `r` is in `c`'s
//!   membership set. Both sides are changed under `c`'s membership shard lock,
//!   so the pair is updated atomically with respect to every other operation
//!   on `c`.
//! - A tracked connection (presence) is a member: `track` joins, and
//!   `leave` and `remove_conn` drop the presence entry with the
//!   membership, under the same locks.
//! - A room exists (has an entry) only while it has members: the operation
//!   that removes the last member removes the room, under the room shard's
//!   write lock.
//! - A connection that has started closing can never (re-)enter a room:
//!   `join` checks the caller's "is open" predicate *under the membership
//!   shard lock*, and the closing side first marks itself closed, then calls
//!   [`Registry::remove_conn`], which takes the same lock. Either the join
//!   completed before the removal (and the removal undoes it) or the join sees
//!   "closed" and fails.

use parking_lot::{Mutex, RwLock};
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

const SHARDS: usize = 16;

type RoomName = Arc<str>;

/// A connection's entry in a room's presence (`Ws.track`): when it was
/// first tracked (the order of `Ws.presence`, microseconds, unique and
/// increasing on a node) and its meta.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tracked {
    pub at: u64,
    pub meta: Arc<str>,
}

/// A change of one connection's membership or presence in one room.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Joined,
    /// It left (`leave`, or it closed); `tracked` is its presence entry,
    /// gone with it.
    Left {
        tracked: Option<Tracked>,
    },
    /// `track`: its entry now, and before (a meta change).
    Tracked {
        now: Tracked,
        before: Option<Tracked>,
    },
    /// `untrack` (it stays a member).
    Untracked {
        was: Tracked,
    },
}

/// Told about every change: `(conn id, room, change)`. Called under the
/// connection's membership shard lock (so the changes of one connection
/// arrive in the order they happened), after the room shard lock was
/// released; it may only take leaf locks. `ws/mod.rs` installs the one
/// that tells the cluster and the presence diffs.
pub(crate) type Observer = fn(u64, &str, &Change);

/// A room: its members (with their handles) and its presence.
pub(crate) struct Room<H> {
    members: FxHashMap<u64, H>,
    tracked: FxHashMap<u64, Tracked>,
}

impl<H> Default for Room<H> {
    fn default() -> Self {
        Room {
            members: FxHashMap::default(),
            tracked: FxHashMap::default(),
        }
    }
}

/// Rooms and memberships; see the module documentation for the lock order.
pub(crate) struct Registry<H> {
    memberships: Vec<Mutex<FxHashMap<u64, FxHashSet<RoomName>>>>,
    rooms: Vec<RwLock<FxHashMap<RoomName, Room<H>>>>,
    observer: OnceLock<Observer>,
}

impl<H: Clone> Default for Registry<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Clone> Registry<H> {
    pub(crate) fn new() -> Self {
        Registry {
            memberships: (0..SHARDS)
                .map(|_| Mutex::new(FxHashMap::default()))
                .collect(),
            rooms: (0..SHARDS)
                .map(|_| RwLock::new(FxHashMap::default()))
                .collect(),
            observer: OnceLock::new(),
        }
    }

    /// From now on tells `observer` about every membership change (once:
    /// answers `false`, changing nothing, when an observer is installed).
    /// The registry takes its observer as a parameter, so it knows nothing
    /// of who listens (as uWebSockets' `TopicTree` takes its callback).
    pub(crate) fn observe(&self, observer: Observer) -> bool {
        self.observer.set(observer).is_ok()
    }

    fn conn_shard(&self, id: u64) -> &Mutex<FxHashMap<u64, FxHashSet<RoomName>>> {
        &self.memberships[(id as usize) % SHARDS]
    }

    fn room_shard(&self, room: &str) -> &RwLock<FxHashMap<RoomName, Room<H>>> {
        let mut h = FxHasher::default();
        room.hash(&mut h);
        &self.rooms[(h.finish() as usize) % SHARDS]
    }

    fn notify(&self, id: u64, room: &str, change: &Change) {
        if let Some(f) = self.observer.get() {
            f(id, room, change);
        }
    }

    /// Adds `id` (with its handle) to `room`. Joining twice is a no-op.
    /// Answers `false`, changing nothing, when `is_open()` is false (checked
    /// under the connection's membership lock, see the module docs).
    pub(crate) fn join(&self, id: u64, room: &str, handle: &H, is_open: impl Fn() -> bool) -> bool {
        self.join_or_track(id, room, handle, is_open, None::<(&str, fn() -> u64)>)
    }

    /// `Ws.track`: joins `room` if not yet a member and sets the presence
    /// entry's meta (a new entry takes `at()` as its place in the order; a
    /// tracked connection keeps its place). `false` as for [`Self::join`].
    pub(crate) fn track(
        &self,
        id: u64,
        room: &str,
        handle: &H,
        is_open: impl Fn() -> bool,
        meta: &str,
        at: impl FnOnce() -> u64,
    ) -> bool {
        self.join_or_track(id, room, handle, is_open, Some((meta, at)))
    }

    fn join_or_track(
        &self,
        id: u64,
        room: &str,
        handle: &H,
        is_open: impl Fn() -> bool,
        track: Option<(&str, impl FnOnce() -> u64)>,
    ) -> bool {
        let mut conns = self.conn_shard(id).lock();
        if !is_open() {
            return false;
        }
        let set = conns.entry(id).or_default();
        let joined = !set.contains(room);
        if !joined && track.is_none() {
            return true;
        }
        let mut rooms = self.room_shard(room).write();
        // Reuse the room's existing name allocation when the room exists.
        let name: RoomName = match rooms.get_key_value(room) {
            Some((k, _)) => k.clone(),
            None => Arc::from(room),
        };
        let r = rooms.entry(name.clone()).or_default();
        if joined {
            r.members.insert(id, handle.clone());
        }
        let tracked = track.map(|(meta, at)| {
            let before = r.tracked.get(&id).cloned();
            let now = Tracked {
                at: before.as_ref().map_or_else(at, |b| b.at),
                meta: Arc::from(meta),
            };
            r.tracked.insert(id, now.clone());
            (now, before)
        });
        drop(rooms);
        if joined {
            set.insert(name);
            self.notify(id, room, &Change::Joined);
        }
        if let Some((now, before)) = tracked {
            if before.as_ref() != Some(&now) {
                self.notify(id, room, &Change::Tracked { now, before });
            }
        }
        true
    }

    /// `Ws.untrack`: drops `id`'s presence entry in `room` (it stays a
    /// member); a no-op when it has none.
    pub(crate) fn untrack(&self, id: u64, room: &str) {
        let _conns = self.conn_shard(id).lock();
        let was = self
            .room_shard(room)
            .write()
            .get_mut(room)
            .and_then(|r| r.tracked.remove(&id));
        if let Some(was) = was {
            self.notify(id, room, &Change::Untracked { was });
        }
    }

    /// Removes `id` from `room` (a member entry and its presence entry)
    /// under the room shard's write lock; the room goes with its last member.
    fn remove_member(
        rooms: &mut FxHashMap<RoomName, Room<H>>,
        id: u64,
        room: &str,
    ) -> Option<Tracked> {
        let r = rooms.get_mut(room)?;
        r.members.remove(&id);
        let tracked = r.tracked.remove(&id);
        if r.members.is_empty() {
            rooms.remove(room);
        }
        tracked
    }

    /// Removes `id` from `room`; a no-op when it is not a member. The last
    /// member leaving removes the room.
    pub(crate) fn leave(&self, id: u64, room: &str) {
        let mut conns = self.conn_shard(id).lock();
        let Some(set) = conns.get_mut(&id) else {
            return;
        };
        if !set.remove(room) {
            return;
        }
        if set.is_empty() {
            conns.remove(&id);
        }
        let tracked = Self::remove_member(&mut self.room_shard(room).write(), id, room);
        self.notify(id, room, &Change::Left { tracked });
    }

    /// Removes `id` from every room (disconnect cleanup); rooms left empty are
    /// removed. Idempotent. Answers the number of rooms it left.
    pub(crate) fn remove_conn(&self, id: u64) -> usize {
        let mut conns = self.conn_shard(id).lock();
        let Some(set) = conns.remove(&id) else {
            return 0;
        };
        for room in set.iter() {
            let tracked = Self::remove_member(&mut self.room_shard(room).write(), id, room);
            self.notify(id, room, &Change::Left { tracked });
        }
        set.len()
    }

    /// The presence of `room` on this node: `(conn id, entry)`, unordered.
    pub(crate) fn tracked(&self, room: &str) -> Vec<(u64, Tracked)> {
        let rooms = self.room_shard(room).read();
        match rooms.get(room) {
            Some(r) => r.tracked.iter().map(|(id, t)| (*id, t.clone())).collect(),
            None => Vec::new(),
        }
    }

    /// The members of `room` with their handles, sorted by id (a snapshot).
    #[cfg(test)]
    pub(crate) fn snapshot(&self, room: &str) -> Vec<(u64, H)> {
        let mut v: Vec<(u64, H)> = {
            let rooms = self.room_shard(room).read();
            match rooms.get(room) {
                Some(r) => r.members.iter().map(|(id, h)| (*id, h.clone())).collect(),
                None => Vec::new(),
            }
        };
        v.sort_unstable_by_key(|(id, _)| *id);
        v
    }

    /// Calls `f` once with every member of `room` (in no particular order;
    /// empty when the room does not exist) while holding the room shard's
    /// read lock: `f` may only take leaf locks (a member's outbound queue),
    /// never a registry lock, and must not close connections (collect them
    /// and close after this returns). The slice lets a broadcast look ahead
    /// (prefetch members' queues).
    pub(crate) fn with_members<R>(&self, room: &str, f: impl FnOnce(&[(u64, &H)]) -> R) -> R {
        let rooms = self.room_shard(room).read();
        let members: Vec<(u64, &H)> = match rooms.get(room) {
            Some(r) => r.members.iter().map(|(id, h)| (*id, h)).collect(),
            None => Vec::new(),
        };
        f(&members)
    }

    /// The member ids of `room`, sorted (a snapshot).
    pub(crate) fn member_ids(&self, room: &str) -> Vec<u64> {
        let mut v: Vec<u64> = {
            let rooms = self.room_shard(room).read();
            match rooms.get(room) {
                Some(r) => r.members.keys().copied().collect(),
                None => Vec::new(),
            }
        };
        v.sort_unstable();
        v
    }

    /// The number of members of `room` (0 when it does not exist).
    pub(crate) fn count(&self, room: &str) -> usize {
        self.room_shard(room)
            .read()
            .get(room)
            .map_or(0, |r| r.members.len())
    }

    /// The rooms `id` is in, sorted by name (byte order).
    pub(crate) fn rooms_of(&self, id: u64) -> Vec<RoomName> {
        let mut v: Vec<RoomName> = {
            let conns = self.conn_shard(id).lock();
            match conns.get(&id) {
                Some(set) => set.iter().cloned().collect(),
                None => Vec::new(),
            }
        };
        v.sort_unstable();
        v
    }

    /// Whether `room` currently exists (has at least one member).
    #[cfg(test)]
    pub(crate) fn room_exists(&self, room: &str) -> bool {
        self.room_shard(room).read().contains_key(room)
    }

    /// Total number of rooms (walks every shard: for tests and the
    /// metrics endpoint).
    pub(crate) fn room_total(&self) -> usize {
        self.rooms.iter().map(|s| s.read().len()).sum()
    }

    /// Checks the two-sided invariant (tests only).
    #[cfg(test)]
    pub(crate) fn check_consistent(&self) {
        let mut from_conns: Vec<(u64, String)> = Vec::new();
        for shard in &self.memberships {
            for (id, set) in shard.lock().iter() {
                assert!(!set.is_empty(), "conn {id} has an empty membership entry");
                for r in set {
                    from_conns.push((*id, r.to_string()));
                }
            }
        }
        let mut from_rooms: Vec<(u64, String)> = Vec::new();
        for shard in &self.rooms {
            for (name, r) in shard.read().iter() {
                assert!(!r.members.is_empty(), "room {name} exists without members");
                for id in r.members.keys() {
                    from_rooms.push((*id, name.to_string()));
                }
                for id in r.tracked.keys() {
                    assert!(
                        r.members.contains_key(id),
                        "{id} tracked in {name} but not a member"
                    );
                }
            }
        }
        from_conns.sort();
        from_rooms.sort();
        assert_eq!(
            from_conns, from_rooms,
            "the two sides of the registry disagree"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn join_is_idempotent_and_leave_removes_empty_rooms() {
        let r: Registry<u64> = Registry::new();
        assert!(r.join(1, "a", &1, || true));
        assert!(r.join(1, "a", &1, || true));
        assert!(r.join(2, "a", &2, || true));
        assert!(r.join(1, "b", &1, || true));
        assert_eq!(r.count("a"), 2);
        assert_eq!(r.member_ids("a"), vec![1, 2]);
        assert_eq!(
            r.rooms_of(1)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        r.leave(1, "a");
        r.leave(1, "a"); // not a member any more: no-op
        r.leave(3, "zzz"); // unknown conn and room: no-op
        assert_eq!(r.member_ids("a"), vec![2]);
        r.leave(2, "a");
        assert!(!r.room_exists("a"), "the last leave removes the room");
        assert_eq!(r.count("a"), 0);
        assert_eq!(r.remove_conn(1), 1);
        assert!(!r.room_exists("b"), "the last disconnect removes the room");
        assert_eq!(r.remove_conn(1), 0, "cleanup is idempotent");
        assert_eq!(r.room_total(), 0);
        r.check_consistent();
    }

    #[test]
    fn rooms_are_sorted_by_name_and_join_fails_when_closed() {
        let r: Registry<u64> = Registry::new();
        for name in ["zeta", "alpha", "Mid", "beta"] {
            assert!(r.join(7, name, &7, || true));
        }
        let names: Vec<String> = r.rooms_of(7).iter().map(|s| s.to_string()).collect();
        assert_eq!(names, vec!["Mid", "alpha", "beta", "zeta"]);
        assert!(!r.join(8, "alpha", &8, || false));
        assert_eq!(r.member_ids("alpha"), vec![7]);
        assert!(r.rooms_of(8).is_empty());
        r.check_consistent();
    }

    #[test]
    fn track_joins_and_leave_or_close_drops_the_presence_entry() {
        let r: Registry<u64> = Registry::new();
        let t = |at| move || at;
        assert!(r.track(1, "a", &1, || true, "m1", t(10)));
        assert_eq!(r.count("a"), 1, "track joins");
        assert!(r.track(1, "a", &1, || true, "m2", t(20)));
        assert_eq!(
            r.tracked("a"),
            vec![(
                1,
                Tracked {
                    at: 10,
                    meta: "m2".into()
                }
            )],
            "again: the meta is replaced, the place kept"
        );
        r.untrack(1, "a");
        assert!(r.tracked("a").is_empty());
        assert_eq!(r.count("a"), 1, "untrack keeps the membership");
        assert!(r.track(1, "a", &1, || true, "m3", t(30)));
        assert!(r.track(2, "a", &2, || true, "x", t(40)));
        r.leave(1, "a");
        assert_eq!(r.tracked("a").len(), 1);
        r.remove_conn(2);
        assert!(r.tracked("a").is_empty());
        assert!(!r.track(3, "a", &3, || false, "closed", t(50)));
        assert!(!r.room_exists("a"));
        r.check_consistent();
    }

    /// Many threads join, leave and disconnect concurrently over a small set
    /// of rooms; afterwards both sides agree and no empty room is left.
    #[test]
    fn concurrent_join_leave_cleanup() {
        let r: Arc<Registry<u64>> = Arc::new(Registry::new());
        let threads: Vec<_> = (0..8u64)
            .map(|t| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..2000u64 {
                        let id = t * 10_000 + (i % 50);
                        let room = format!("room{}", (i * 7 + t) % 13);
                        match i % 5 {
                            0 | 1 => {
                                r.join(id, &room, &id, || true);
                            }
                            2 => r.leave(id, &room),
                            3 => {
                                r.snapshot(&room);
                                r.count(&room);
                            }
                            _ => {
                                if i % 15 == 4 {
                                    r.remove_conn(id);
                                } else {
                                    r.rooms_of(id);
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        r.check_consistent();
        // Everyone leaves: every room disappears.
        for t in 0..8u64 {
            for i in 0..50u64 {
                r.remove_conn(t * 10_000 + i);
            }
        }
        assert_eq!(r.room_total(), 0);
        r.check_consistent();
    }

    /// A connection marks itself closed and cleans up while other threads
    /// keep joining it to rooms and broadcasting: after the cleanup returns
    /// it is in no room, and no later join can bring it back.
    #[test]
    fn cleanup_races_joins_and_broadcasts() {
        for round in 0..50u64 {
            let r: Arc<Registry<u64>> = Arc::new(Registry::new());
            let closed = Arc::new(AtomicBool::new(false));
            // Set once `remove_conn` returned: a broadcast that starts after
            // it must not reach the connection any more.
            let cleaned = Arc::new(AtomicBool::new(false));
            let id = 1000 + round;
            let mut hs = Vec::new();
            for t in 0..4 {
                let (r, closed, cleaned) = (r.clone(), closed.clone(), cleaned.clone());
                hs.push(std::thread::spawn(move || {
                    for i in 0..300 {
                        let room = format!("r{}", (i + t) % 5);
                        let c = closed.clone();
                        r.join(id, &room, &id, move || !c.load(Ordering::SeqCst));
                        // A broadcast, as the server makes it: every member's
                        // handle under the room's read lock.
                        let after_cleanup = cleaned.load(Ordering::SeqCst);
                        r.with_members(&room, |members| {
                            assert!(members.iter().all(|(m, h)| m == *h));
                            assert!(
                                !(after_cleanup && members.iter().any(|(m, _)| *m == id)),
                                "a broadcast after the cleanup reached {id}"
                            );
                        });
                    }
                }));
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
            closed.store(true, Ordering::SeqCst);
            r.remove_conn(id);
            cleaned.store(true, Ordering::SeqCst);
            for h in hs {
                h.join().unwrap();
            }
            assert!(
                r.rooms_of(id).is_empty(),
                "round {round}: a join slipped in after cleanup"
            );
            assert_eq!(r.room_total(), 0);
            r.check_consistent();
        }
    }
}
