//! Cluster mode: with `SNOW_WS_REDIS_URL` set, every server of the process
//! is one node of a cluster whose nodes share rooms through Redis pub/sub
//! (contract: shared/spec/ws.md "Scale-out"; design: docs/CLUSTER.md).
//!
//! The rest of `ws` calls in through a few hooks, each a no-op costing one
//! `OnceLock` load when the process is not a cluster node ([`node`] is
//! `None`):
//! - [`start`] / [`stop`] around serving (`ws/mod.rs`);
//! - [`room_changed`], the room registry's observer, called under the
//!   connection's membership lock, so joins and leaves of one connection
//!   reach the cluster in the order they happened;
//! - [`publish_broadcast`] after each local broadcast;
//! - [`remote`] branches in send/close/id, and members/count adding the
//!   other nodes' members from the in-memory view.
//!
//! # Threads and locks
//! All Redis I/O runs on one thread of its own (`snow-cluster`, a
//! current-thread tokio runtime, [`session`]). Callbacks only append to an
//! unbounded queue (never wait on Redis). `Local` (this node's memberships,
//! the view sequence number) is a leaf mutex taken under the registry's
//! membership lock; `View` (other nodes' memberships) is a leaf `RwLock`.
//! Neither is held while a registry lock is taken.

mod proto;
mod resp;
mod session;
mod view;

use parking_lot::{Mutex, RwLock};
use proto::ViewMsg;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Connection ids are `node << NODE_SHIFT | n`: 2^40 connections per node
/// lifetime, node numbers below 2^23, so ids stay positive `i64`s.
pub(crate) const NODE_SHIFT: u32 = 40;
const MAX_NODE: u64 = (1 << (63 - NODE_SHIFT)) - 1;

/// The node of a connection id (0 for a single-node process's ids).
pub(crate) fn node_of(id: u64) -> u64 {
    id >> NODE_SHIFT
}

/// Timing of heartbeats and expiry (environment, docs/CLUSTER.md).
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
    Subscribe(Vec<Vec<u8>>),
    Unsubscribe(Vec<Vec<u8>>),
    /// Answer on the channel once everything queued before was sent.
    Flush(std::sync::mpsc::Sender<()>),
}

/// This node's own memberships, the source of its snapshots.
#[derive(Default)]
struct Local {
    rooms: FxHashMap<Arc<str>, FxHashSet<u64>>,
    /// The number of the last view message built.
    seq: u64,
}

/// Publishes held in the queue (bytes) before new ones are dropped.
const MAX_QUEUED_BYTES: usize = 64 << 20;

pub(crate) struct Node {
    pub(crate) me: u64,
    /// `redis://host:port` (no password), for messages.
    pub(crate) addr: String,
    timing: Timing,
    local: Mutex<Local>,
    view: RwLock<view::View>,
    /// A Redis session is up: publishes are queued, not dropped. Changed
    /// under `local`'s lock (see `session::run`).
    connected: AtomicBool,
    queued_bytes: AtomicUsize,
    /// Publishes dropped since the last report (outage or full queue).
    dropped: AtomicUsize,
    tx: UnboundedSender<Cmd>,
}

static NODE: OnceLock<Node> = OnceLock::new();

/// This process's cluster node, if `SNOW_WS_REDIS_URL` made it one.
#[inline]
pub(crate) fn node() -> Option<&'static Node> {
    NODE.get()
}

/// The node when `conn` is a handle of *another* node of the cluster.
#[inline]
pub(crate) fn remote(conn: i64) -> Option<&'static Node> {
    let n = node()?;
    let node = node_of(conn as u64);
    (conn > 0 && node != n.me).then_some(n)
}

fn env_ms(name: &str, default: u64) -> Duration {
    let ms = match std::env::var(name) {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("snow: ignoring {name}={v:?}: expected a positive integer");
                default
            }
        },
        Err(_) => default,
    };
    Duration::from_millis(ms)
}

/// Joins the cluster named by `SNOW_WS_REDIS_URL` (once per process; a
/// no-op without the variable). `Err` is the message for stderr when Redis
/// cannot be reached or the URL is bad: the caller exits with status 1.
pub(crate) fn start() -> Result<(), String> {
    static STARTED: Mutex<bool> = Mutex::new(false);
    let mut started = STARTED.lock();
    if *started {
        return Ok(());
    }
    let url = match std::env::var("SNOW_WS_REDIS_URL") {
        Ok(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => return Ok(()),
    };
    let timing = Timing {
        heartbeat: env_ms("SNOW_WS_CLUSTER_HEARTBEAT_MS", 1000),
        node_timeout: env_ms("SNOW_WS_CLUSTER_NODE_TIMEOUT_MS", 5000),
    };
    let (new, go) = session::start(&url, timing)?;
    if new.me > MAX_NODE {
        return Err(format!(
            "cluster: node number {} from Redis at {} is too large (at most {MAX_NODE}); reset the key {}",
            new.me,
            new.addr,
            proto::NODE_COUNTER
        ));
    }
    super::conn::start_ids_at(new.me << NODE_SHIFT);
    let _ = NODE.set(new);
    if let Some(n) = node() {
        let _ = go.send(n);
    }
    *started = true;
    Ok(())
}

/// Before the process exits after serving: says goodbye (the other nodes
/// drop this node's members at once) and waits, at most `wait`, until the
/// queue (the leaves of the closed connections, then the goodbye) is sent.
pub(crate) fn stop(wait: Duration) {
    let Some(n) = node() else { return };
    n.publish_view(&ViewMsg::Bye);
    let (tx, rx) = std::sync::mpsc::channel();
    if n.tx.send(Cmd::Flush(tx)).is_ok() {
        let _ = rx.recv_timeout(wait);
    }
}

impl Node {
    fn new(me: u64, addr: String, timing: Timing, tx: UnboundedSender<Cmd>) -> Node {
        Node {
            me,
            addr,
            timing,
            local: Mutex::new(Local::default()),
            view: RwLock::new(view::View::default()),
            connected: AtomicBool::new(false),
            queued_bytes: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            tx,
        }
    }

    /// Queues a publish unless Redis is unreachable or the queue is full:
    /// at most once, like Redis pub/sub itself.
    fn publish(&self, channel: Vec<u8>, payload: Vec<u8>) {
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
    /// `local`'s lock so view messages go out in sequence order.
    fn publish_view(&self, msg: &ViewMsg<'_>) {
        let mut l = self.local.lock();
        self.publish_view_locked(&mut l, msg);
    }

    fn publish_view_locked(&self, l: &mut Local, msg: &ViewMsg<'_>) {
        l.seq += 1;
        let bytes = proto::encode_view(self.me, l.seq, msg);
        self.publish(proto::VIEW.as_bytes().to_vec(), bytes);
    }

    /// Queues the snapshot of this node's memberships.
    fn publish_snapshot(&self) {
        let mut l = self.local.lock();
        self.publish_snapshot_locked(&mut l);
    }

    fn publish_snapshot_locked(&self, l: &mut Local) {
        l.seq += 1;
        let snapshot = ViewMsg::Snapshot(
            l.rooms
                .iter()
                .map(|(r, s)| (&**r, s.iter().copied().collect()))
                .collect(),
        );
        let bytes = proto::encode_view(self.me, l.seq, &snapshot);
        self.publish(proto::VIEW.as_bytes().to_vec(), bytes);
    }

    /// The channels of a room this node listens to while it has members.
    fn room_channels(room: &str) -> Vec<Vec<u8>> {
        vec![
            proto::room_msg_channel(room),
            proto::room_text_channel(room),
        ]
    }

    fn room_changed(&self, id: u64, room: &str, joined: bool) {
        let mut l = self.local.lock();
        let connected = self.connected.load(Ordering::Relaxed);
        if joined {
            let first = !l.rooms.contains_key(room);
            if !l.rooms.entry(Arc::from(room)).or_default().insert(id) {
                return;
            }
            if first && connected {
                let _ = self.tx.send(Cmd::Subscribe(Self::room_channels(room)));
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
            }
            self.publish_view_locked(&mut l, &ViewMsg::Leave { conn: id, room });
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

/// The room registry's observer (`conn.rs`): `id` joined (or left) `room`.
pub(crate) fn room_changed(id: u64, room: &str, joined: bool) {
    if let Some(n) = node() {
        n.room_changed(id, room, joined);
    }
}

/// After a local broadcast: the same message for the other nodes, once per
/// broadcast (never per member). `kind` is `proto::TEXT` or `BINARY`.
pub(crate) fn publish_broadcast(room: &str, kind: u8, payload: &[u8], except: Option<u64>) {
    if let Some(n) = node() {
        n.publish(
            proto::room_msg_channel(room),
            proto::encode_room_msg(kind, n.me, except, payload),
        );
    }
}

pub(crate) use proto::{BINARY, TEXT};
