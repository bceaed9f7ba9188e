//! Cluster mode: with `SNOW_WS_REDIS_URL` set, every server of the process
//! is one node of a cluster whose nodes share rooms through Redis pub/sub
//! (contract: shared/spec/ws.md "Scale-out"; design: docs/CLUSTER.md).
//!
//! The cluster knows nothing of connections: `ws/mod.rs` wires it to the
//! server. It calls in through a few hooks, each a no-op costing one
//! `OnceLock` load when the process is not a cluster node ([`node`] is
//! `None`):
//! - [`start`] / [`stop`] around serving; `start` takes the server's
//!   delivery functions ([`Deliver`]) as a parameter, and the server then
//!   starts its connection ids at [`Node::id_base`];
//! - [`room_changed`], which `ws/mod.rs` installs as the room registry's
//!   observer, called under the connection's membership lock, so joins and
//!   leaves of one connection reach the cluster in the order they happened;
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

mod node;
mod proto;
mod resp;
mod session;
mod streams;
mod view;

use node::{node_of, Cmd, Timing, MAX_NODE};
use parking_lot::Mutex;
use std::sync::OnceLock;
use std::time::Duration;

pub(crate) use node::{Deliver, Node};
pub(crate) use proto::{BINARY, TEXT};

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

/// Joins the cluster named by `SNOW_WS_REDIS_URL` (once per process; a
/// no-op without the variable), delivering what other nodes send to this
/// node's connections with `deliver`. `Err` is the message for stderr when
/// Redis cannot be reached or the URL is bad: the caller exits with status 1.
pub(crate) fn start(deliver: Deliver) -> Result<(), String> {
    static STARTED: Mutex<bool> = Mutex::new(false);
    let mut started = STARTED.lock();
    if *started {
        return Ok(());
    }
    let settings = crate::rt::settings();
    let Some(url) = settings.ws_redis_url.as_deref() else {
        return Ok(());
    };
    let ms = |v: Option<u64>, default| Duration::from_millis(v.unwrap_or(default));
    let timing = Timing {
        heartbeat: ms(settings.ws_cluster_heartbeat_ms, 1000),
        node_timeout: ms(settings.ws_cluster_node_timeout_ms, 5000),
    };
    let (new, go) = session::start(url, timing, deliver)?;
    if new.me > MAX_NODE {
        return Err(format!(
            "cluster: node number {} from Redis at {} is too large (at most {MAX_NODE}); reset the key {}",
            new.me,
            new.addr,
            proto::NODE_COUNTER
        ));
    }
    let _ = NODE.set(new);
    if let Some(n) = node() {
        let _ = go.send(n);
    }
    *started = true;
    Ok(())
}

/// Before the server accepts its first connection: waits, at most
/// `limit`, until the node's first session is up (connected, subscribed to
/// the view, its kept rooms' bounds known). A connection that joined a kept
/// room before that would miss what other nodes published between its join
/// and the session's start: the node cannot know the room's offset at the
/// join (docs/CLUSTER.md "Starting").
pub(crate) fn wait_for_session(limit: Duration) {
    let Some(n) = node() else { return };
    let t0 = std::time::Instant::now();
    while !n.connected.load(std::sync::atomic::Ordering::Relaxed) && t0.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The start of a drain (SIGTERM): says goodbye now, so the other nodes
/// drop this node's members at once, before its connections close; the
/// node publishes no membership change afterwards (`Node::leave`).
pub(crate) fn leave() {
    if let Some(n) = node() {
        n.leave();
    }
}

/// Before the process exits after serving: says goodbye (the other nodes
/// drop this node's members at once), unless a drain did already, and
/// waits, at most `wait`, until the queue (the leaves of the closed
/// connections, then the goodbye) is sent.
pub(crate) fn stop(wait: Duration) {
    let Some(n) = node() else { return };
    n.leave();
    let (tx, rx) = std::sync::mpsc::channel();
    if n.tx.send(Cmd::Flush(tx)).is_ok() {
        let _ = rx.recv_timeout(wait);
    }
}

/// Told by the room registry's observer (installed by `ws/mod.rs`): `id`
/// joined, left, was tracked or untracked in `room`.
pub(crate) fn room_changed(id: u64, room: &str, change: &crate::ws::rooms::Change) {
    if let Some(n) = node() {
        n.room_changed(id, room, change);
    }
}

/// After a local broadcast: the same message for the other nodes with
/// members in `room` (the view says which), once per broadcast (never per
/// member). Nothing when no other node has members; on that node's own
/// channel when exactly one has (so no node receives its own broadcast
/// back from Redis); on the room's channel, which every node with members
/// listens to, when several have. All three go out on the one publishing
/// connection in call order, so order per sender holds across the switch
/// (docs/CLUSTER.md "Wire format"). `kind` is `proto::TEXT` or `BINARY`.
pub(crate) fn publish_broadcast(room: &str, kind: u8, payload: &[u8], except: Option<u64>) {
    if let Some(n) = node() {
        let reach = n.view.read().reach(room);
        match reach {
            view::Reach::Nobody => {}
            view::Reach::One(other) => n.publish(
                proto::node_channel(other),
                proto::encode_room_direct(kind, n.me, room, except, payload),
            ),
            view::Reach::Several => n.publish(
                proto::room_msg_channel(room),
                proto::encode_room_msg(kind, n.me, except, payload),
            ),
        }
    }
}
