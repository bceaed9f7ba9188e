//! The node: this process as a member of the cluster. Its identity and
//! timing, its own memberships (`Local`, the source of its snapshots), the
//! view of the others (`view.rs`), the publish queue to the Redis thread
//! (`session.rs`) and the delivery functions the server gave it.

use super::super::counters::Histogram;
use super::super::history;
use super::super::rooms::{Change, Tracked};
use super::proto::{self, Track, ViewMsg};
use super::view::View;
use parking_lot::{Mutex, RwLock};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// Connection ids are `node << NODE_SHIFT | n`: 2^40 connections per node
/// lifetime, node numbers below 2^23, so ids stay positive `i64`s.
pub(crate) const NODE_SHIFT: u32 = 40;
pub(super) const MAX_NODE: u64 = (1 << (63 - NODE_SHIFT)) - 1;

/// The node of a connection id (0 for a single-node process's ids).
pub(crate) fn node_of(id: u64) -> u64 {
    id >> NODE_SHIFT
}

/// Timing of heartbeats and expiry (settings, docs/CLUSTER.md).
#[derive(Clone, Debug)]
pub(crate) struct Timing {
    pub heartbeat: Duration,
    pub node_timeout: Duration,
}

/// Something for the Redis thread to do, in queue order.
pub(crate) enum Cmd {
    Publish {
        channel: Vec<u8>,
        payload: Vec<u8>,
    },
    /// Any other command on the publishing connection, in queue order;
    /// its reply (or the error) goes to `reply` when given (a callback
    /// waiting for it, `streams.rs`), else it is only counted.
    Call {
        args: Vec<Vec<u8>>,
        reply: Option<Reply>,
    },
    Subscribe(Vec<Vec<u8>>),
    Unsubscribe(Vec<Vec<u8>>),
    /// Answer on the channel once everything queued before was sent.
    Flush(std::sync::mpsc::Sender<()>),
}

/// Where the reply of a [`Cmd::Call`] goes.
pub(crate) type Reply =
    std::sync::mpsc::SyncSender<Result<redis_protocol::resp2::types::BytesFrame, String>>;

/// This node's own memberships, the source of its snapshots.
#[derive(Default)]
pub(super) struct Local {
    pub(super) rooms: FxHashMap<Arc<str>, FxHashSet<u64>>,
    /// This node's presence entries: room -> conn -> entry.
    pub(super) tracked: FxHashMap<Arc<str>, FxHashMap<u64, Tracked>>,
    /// The number of the last view message built.
    seq: u64,
}

/// What this node does with messages other nodes sent to its connections:
/// the server's delivery functions, handed to [`super::start`] as a
/// parameter (the cluster knows nothing of connections).
#[derive(Clone, Copy)]
pub(crate) struct Deliver {
    /// A broadcast to the members of `room` on this node: `(room, text,
    /// payload, except)`, `text` for a text message (else binary).
    pub room: fn(&str, bool, &[u8], Option<u64>),
    /// `Ws.send` to a connection of this node: `(conn, text, payload)`.
    pub send: fn(i64, bool, &[u8]),
    /// `Ws.close` of a connection of this node: `(conn, code, reason)`.
    pub close: fn(i64, u16, &str),
    /// The view's presence changed: `(room, conn, before, after)`.
    pub presence: fn(&str, u64, Option<&Tracked>, Option<&Tracked>),
}

/// Publishes held in the queue (bytes) before new ones are dropped.
const MAX_QUEUED_BYTES: usize = 64 << 20;

/// Buckets of the cross-node lag histogram, in seconds.
const LAG_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// What the metrics endpoint shows of the node (docs/WS.md "Metrics").
pub(crate) struct NodeStats {
    pub connected: bool,
    /// Other nodes alive in the view.
    pub nodes: usize,
    pub reconnects: u64,
    /// The cross-node lag histogram: (sum, count, buckets).
    pub lag: (f64, u64, Vec<(f64, u64)>),
}

/// This process as a node of the cluster.
pub(crate) struct Node {
    pub(crate) me: u64,
    /// `redis://host:port` (no password), for messages.
    pub(crate) addr: String,
    pub(super) timing: Timing,
    pub(super) deliver: Deliver,
    pub(super) local: Mutex<Local>,
    pub(super) view: RwLock<View>,
    /// A Redis session is up: publishes are queued, not dropped. Changed
    /// under `local`'s lock (see `session::run`).
    pub(super) connected: AtomicBool,
    pub(super) queued_bytes: AtomicUsize,
    /// Publishes dropped since the last report (outage or full queue).
    pub(super) dropped: AtomicUsize,
    pub(super) tx: UnboundedSender<Cmd>,
    /// The rooms whose streams this node reads may have changed (a kept
    /// room's first local join or last leave, a new `Ws.keep`, a resume
    /// that starts following a room): wakes the streams reader.
    pub(super) streams_wake: tokio::sync::Notify,
    /// No session has started yet (the first one sets this process's
    /// `Ws.keep` bounds in Redis, later ones only restore them).
    pub(super) first_session: AtomicBool,
    /// The node said goodbye (a drain): it publishes no view message any
    /// more, so the other nodes, which dropped it, do not take it back.
    pub(super) leaving: AtomicBool,
    /// Sessions opened again after an outage.
    pub(super) reconnects: AtomicU64,
    /// This node's last heartbeat (sequence number, when it was queued),
    /// until it comes back through Redis.
    pub(super) probe: Mutex<Option<(u64, Instant)>>,
    /// How long heartbeats take to come back (see [`Node::heartbeat_back`]).
    pub(super) lag: Histogram,
}

impl Node {
    /// This node's connection ids start above this (the node number in the
    /// high bits).
    pub(crate) fn id_base(&self) -> u64 {
        self.me << NODE_SHIFT
    }

    pub(super) fn new(
        me: u64,
        addr: String,
        timing: Timing,
        deliver: Deliver,
        tx: UnboundedSender<Cmd>,
    ) -> Node {
        Node {
            me,
            addr,
            timing,
            deliver,
            local: Mutex::new(Local::default()),
            view: RwLock::new(View::default()),
            connected: AtomicBool::new(false),
            queued_bytes: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            tx,
            streams_wake: tokio::sync::Notify::new(),
            first_session: AtomicBool::new(true),
            leaving: AtomicBool::new(false),
            reconnects: AtomicU64::new(0),
            probe: Mutex::new(None),
            lag: Histogram::new(LAG_BUCKETS),
        }
    }

    /// The numbers the metrics endpoint shows.
    pub(crate) fn stats(&self) -> NodeStats {
        NodeStats {
            connected: self.connected.load(Ordering::Relaxed),
            nodes: self.view.read().node_count(),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            lag: self.lag.read(),
        }
    }

    /// Queues a heartbeat and remembers when, to time its way back.
    pub(super) fn heartbeat(&self) {
        if let Some(seq) = self.publish_view(&ViewMsg::Heartbeat) {
            *self.probe.lock() = Some((seq, Instant::now()));
        }
    }

    /// The subscriber received this node's own heartbeat `seq`: the time it
    /// took (the publish queue, Redis, this node's subscriber backlog, which
    /// every node's messages to every other node go through as well) is
    /// the cross-node lag, measured without comparing two machines' clocks.
    pub(super) fn heartbeat_back(&self, seq: u64) {
        let mut probe = self.probe.lock();
        if let Some((s, at)) = *probe {
            if s == seq {
                self.lag.observe(at.elapsed().as_secs_f64());
                *probe = None;
            }
        }
    }

    /// Says goodbye to the other nodes (they drop this node's members at
    /// once) and publishes no view message afterwards: the start of a
    /// drain, whose connections are then closed without announcing each
    /// leave (which would make the others ask for a snapshot and take the
    /// node back).
    pub(crate) fn leave(&self) {
        let mut l = self.local.lock();
        if !self.leaving.load(Ordering::Relaxed) {
            self.publish_view_locked(&mut l, &ViewMsg::Bye);
            self.leaving.store(true, Ordering::Relaxed);
        }
    }

    /// Queues a publish unless Redis is unreachable or the queue is full:
    /// at most once, like Redis pub/sub itself.
    pub(super) fn publish(&self, channel: Vec<u8>, payload: Vec<u8>) {
        if !self.connected.load(Ordering::Relaxed) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let size = channel.len() + payload.len();
        if self.queued_bytes.fetch_add(size, Ordering::Relaxed) + size > MAX_QUEUED_BYTES {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.tx.send(Cmd::Publish { channel, payload }).is_err() {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
        }
    }

    /// Queues a view message with the next sequence number, under
    /// `local`'s lock so view messages go out in sequence order; answers
    /// that number (`None` once the node said goodbye).
    pub(super) fn publish_view(&self, msg: &ViewMsg<'_>) -> Option<u64> {
        let mut l = self.local.lock();
        self.publish_view_locked(&mut l, msg)
    }

    pub(super) fn publish_view_locked(&self, l: &mut Local, msg: &ViewMsg<'_>) -> Option<u64> {
        if self.leaving.load(Ordering::Relaxed) {
            return None;
        }
        l.seq += 1;
        let bytes = proto::encode_view(self.me, l.seq, msg);
        self.publish(proto::VIEW.as_bytes().to_vec(), bytes);
        Some(l.seq)
    }

    /// Queues the snapshot of this node's memberships.
    pub(super) fn publish_snapshot(&self) {
        let mut l = self.local.lock();
        self.publish_snapshot_locked(&mut l);
    }

    pub(super) fn publish_snapshot_locked(&self, l: &mut Local) {
        if self.leaving.load(Ordering::Relaxed) {
            return;
        }
        l.seq += 1;
        let snapshot = ViewMsg::Snapshot(
            l.rooms
                .iter()
                .map(|(r, s)| (&**r, s.iter().copied().collect()))
                .collect(),
            l.tracked
                .iter()
                .flat_map(|(r, e)| {
                    e.iter().map(|(c, t)| Track {
                        conn: *c,
                        room: r,
                        at: t.at,
                        meta: &t.meta,
                    })
                })
                .collect(),
        );
        let bytes = proto::encode_view(self.me, l.seq, &snapshot);
        self.publish(proto::VIEW.as_bytes().to_vec(), bytes);
    }

    /// The channels of a room this node listens to while it has members.
    pub(super) fn room_channels(room: &str) -> Vec<Vec<u8>> {
        vec![
            proto::room_msg_channel(room),
            proto::room_text_channel(room),
        ]
    }

    pub(super) fn room_changed(&self, id: u64, room: &str, change: &Change) {
        let mut l = self.local.lock();
        let connected = self.connected.load(Ordering::Relaxed);
        match change {
            Change::Joined => {}
            Change::Left { tracked } => {
                if tracked.is_some() {
                    Self::set_tracked(&mut l, room, id, None);
                }
            }
            Change::Tracked { now, .. } => {
                Self::set_tracked(&mut l, room, id, Some(now.clone()));
                let t = Track {
                    conn: id,
                    room,
                    at: now.at,
                    meta: &now.meta,
                };
                self.publish_view_locked(&mut l, &ViewMsg::Track(t));
                return;
            }
            Change::Untracked { .. } => {
                Self::set_tracked(&mut l, room, id, None);
                self.publish_view_locked(&mut l, &ViewMsg::Untrack { conn: id, room });
                return;
            }
        }
        let joined = matches!(change, Change::Joined);
        if joined {
            let first = !l.rooms.contains_key(room);
            if !l.rooms.entry(Arc::from(room)).or_default().insert(id) {
                return;
            }
            if first && connected {
                let _ = self.tx.send(Cmd::Subscribe(Self::room_channels(room)));
            }
            if first && history::get(room).is_some() {
                self.streams_wake.notify_one();
            }
            self.publish_view_locked(&mut l, &ViewMsg::Join { conn: id, room });
        } else {
            let Some(set) = l.rooms.get_mut(room) else {
                return;
            };
            if !set.remove(&id) {
                return;
            }
            if set.is_empty() {
                l.rooms.remove(room);
                if connected {
                    let _ = self.tx.send(Cmd::Unsubscribe(Self::room_channels(room)));
                }
                if history::get(room).is_some() {
                    self.streams_wake.notify_one();
                }
            }
            self.publish_view_locked(&mut l, &ViewMsg::Leave { conn: id, room });
        }
    }

    fn set_tracked(l: &mut Local, room: &str, id: u64, t: Option<Tracked>) {
        match t {
            Some(t) => {
                l.tracked.entry(Arc::from(room)).or_default().insert(id, t);
            }
            None => {
                if let Some(e) = l.tracked.get_mut(room) {
                    e.remove(&id);
                    if e.is_empty() {
                        l.tracked.remove(room);
                    }
                }
            }
        }
    }

    /// `Ws.presence` on other nodes, appended to `out`.
    pub(crate) fn remote_tracked(&self, room: &str, out: &mut Vec<(u64, Tracked)>) {
        self.view.read().tracked(room, out)
    }

    /// Hands the view's presence changes to the presence batches.
    pub(super) fn presence_changed(&self, diffs: Vec<super::view::Diff>) {
        for d in diffs {
            (self.deliver.presence)(&d.room, d.conn, d.before.as_ref(), d.after.as_ref());
        }
    }

    /// `Ws.count` on other nodes.
    pub(crate) fn remote_count(&self, room: &str) -> usize {
        self.view.read().count(room)
    }

    /// `Ws.members` on other nodes (unsorted), appended to `out`.
    pub(crate) fn remote_members(&self, room: &str, out: &mut Vec<u64>) {
        self.view.read().members(room, out)
    }

    /// Whether `conn`'s node is alive in the view (a handle we route to).
    pub(crate) fn routable(&self, conn: i64) -> bool {
        self.view.read().knows_node(node_of(conn as u64))
    }

    /// `Ws.send`/`send_binary` to another node's connection: 0 when routed
    /// (its node is alive in the view), -1 otherwise.
    pub(crate) fn send_remote(&self, conn: i64, kind: u8, payload: &[u8]) -> i64 {
        if !self.routable(conn) {
            return -1;
        }
        let node = node_of(conn as u64);
        self.publish(
            proto::node_channel(node),
            proto::encode_send(self.me, conn as u64, kind, payload),
        );
        0
    }

    /// `Ws.close` of another node's connection: 0 when routed.
    pub(crate) fn close_remote(&self, conn: i64, code: u16, reason: &str) -> i64 {
        if !self.routable(conn) {
            return -1;
        }
        let node = node_of(conn as u64);
        self.publish(
            proto::node_channel(node),
            proto::encode_close(self.me, conn as u64, code, reason),
        );
        0
    }
}
