//! The `Ws` module's runtime: a WebSocket server with rooms
//! (contract: shared/spec/ws.md and std/ws/ws.snow; design: docs/WS.md).
//!
//! # Threading
//! `Ws.serve*` builds a multi-threaded tokio runtime (one worker per core,
//! `SNOW_WS_WORKER_THREADS`) and blocks the calling thread on it until
//! SIGINT (close 1001) or SIGTERM (a drain: close 1012 within
//! `SNOW_WS_DRAIN_MS`; in a cluster the node says goodbye first). Every accepted socket gets **one task** (`server`):
//! the request head (`handshake`), `on_connect`, then the connection
//! (`session`: reading with the own frame reader `reader`, running
//! `on_message`/`on_frame`, writing the connection's queue) and finally
//! `on_close`, all **in that task**, so the callbacks of one connection run
//! one at a time in arrival order while different connections run in
//! parallel on the workers. Every callback runs inside
//! `rt::run_callback` (a fresh region, panics caught; `callbacks`). One sweep
//! task per server enforces the heartbeat and the pong, close and write
//! deadlines of every connection.
//!
//! # Queues
//! `Ws.send`/`broadcast`/`close` never touch a socket: they append the
//! encoded frame to the connection's queue (`out_queue::OutQueue`: small frames
//! copied into a byte buffer, large ones shared by reference) and wake the
//! connection's task if it is idle. Past the limit
//! (`SNOW_WS_MAX_QUEUE_BYTES`) the send fails and the connection is closed
//! with 1008 *urgently* (its queue is dropped, a cut write is finished at a
//! frame boundary). A broadcast encodes its frame once (and compresses it
//! once per window size for members that negotiated permessage-deflate) and
//! queues it for each member under the room's read lock (queue locks are
//! leaf locks), prefetching members' queues a few members ahead; it never
//! waits for anyone.
//!
//! # Handles and the registry
//! `Conn` is a `u64` id from a global counter starting at 1, never reused.
//! The connection table (sharded `RwLock<FxHashMap<u64, Arc<ConnState>>>`)
//! holds a connection from the handshake until its `on_close` returned, so a
//! stale or forged id misses and answers `-1` / `[]` / `0`. Rooms live in
//! `rooms::Registry`; its documentation gives the one lock order
//! (membership shard, then room shard; table shards and per-connection
//! mutexes are leaves) and the invariants. No lock is held while Snow code
//! runs or while a send (which may close a connection) is made.
//!
//! # Closing
//! Every way a connection ends goes through `conn::ConnState::begin_close`
//! (first call wins): it records the code and reason for `on_close`, marks
//! the connection closed (sends and joins fail from then on), removes it
//! from every room, and queues the close frame. The connection's task then
//! waits for the end of the close handshake (at most
//! `SNOW_WS_CLOSE_TIMEOUT_MS`), runs `on_close` once and removes the id from
//! the table. So `on_close` runs exactly once per accepted connection, after
//! it left its rooms.
//!
//! # Parts and wiring
//! The parts know only the parts below them; this file is the one place
//! that wires them together (`tests/architecture.rs` rejects any import
//! cycle): the connection's task (`server`, `session`, `callbacks`), frames
//! (`reader`, `frame`, `deflate`, `out_queue`), connections and rooms
//! (`conn`, `rooms`, `assigns`), the request (`handshake`, `origin`,
//! `static_files`, `tls`, `config`, `limits`), operations (`counters`,
//! counted by the others; `metrics`, the endpoint, which reads them all)
//! and the cluster. In cluster mode
//! `start_cluster` hands the cluster the server's delivery functions as a
//! parameter (`DELIVER`), makes the cluster the room registry's observer
//! and starts the connection ids at the node's id base, so `cluster/`
//! knows nothing of connections.
//!
//! # Adding a Ws function
//! One `pub extern fn name(...)` line in std/ws/ws.snow and one
//! `#[no_mangle] pub extern "C-unwind" fn snow_ws_name(...) -> i64` here
//! (every argument and the result an `i64` word; generic signatures first
//! take one type-descriptor word per type variable).

mod assigns;
mod callbacks;
mod cluster;
mod config;
pub(crate) mod conn;
mod counters;
mod deflate;
mod frame;
#[doc(hidden)]
pub mod fuzzing;
mod handshake;
mod history;
mod limits;
mod metrics;
mod origin;
mod out_queue;
mod presence;
pub(crate) mod reader;
pub(crate) mod rooms;
mod server;
mod session;
mod static_files;
mod tls;

#[cfg(test)]
mod tests;

pub(crate) use callbacks::Callbacks;
pub(crate) use config::ServerConfig;
pub(crate) use server::{serve_inner, Stop};

use conn::{lookup, CloseHow, ROOMS};
use counters::Counter;
use frame::{OP_BINARY, OP_TEXT};
use out_queue::Encoded;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the cluster does with messages other nodes send to connections of
/// this one: the server's own delivery functions (below), given to
/// `cluster::start` as a parameter.
const DELIVER: cluster::Deliver = cluster::Deliver {
    room: deliver_local,
    send: deliver_direct,
    close: close_direct,
    presence: presence::changed,
};

/// The room registry's observer: every membership and presence change
/// goes to the presence batches (`on_presence`) and, in a cluster, to the
/// other nodes (the view).
fn rooms_changed(id: u64, room: &str, change: &rooms::Change) {
    use rooms::Change;
    match change {
        Change::Joined | Change::Left { tracked: None } => {}
        Change::Left { tracked: Some(t) } | Change::Untracked { was: t } => {
            presence::changed(room, id, Some(t), None)
        }
        Change::Tracked { now, before } => presence::changed(room, id, before.as_ref(), Some(now)),
    }
    cluster::room_changed(id, room, change);
}

/// Cluster mode (`SNOW_WS_REDIS_URL`): joins the cluster and wires it to the
/// server: the cluster gets the delivery functions, the room registry tells
/// the cluster every membership change (its observer, [`rooms_changed`]),
/// and this node's connection ids start at its node number. On a single
/// node only the observer is installed (for the presence batches).
fn start_cluster() -> Result<(), String> {
    ROOMS.observe(rooms_changed);
    cluster::start(DELIVER)?;
    if let Some(node) = cluster::node() {
        conn::start_ids_at(node.id_base());
    }
    cluster::wait_for_session(Duration::from_secs(5));
    Ok(())
}

/// Runs a server from Snow (`serve`, `serve_frames`, `serve_tls`) and exits
/// the process: 0 after a signal-triggered shutdown, 1 when the server could
/// not start.
fn serve_from_snow(cbs: Callbacks, port: i64, tls: Option<(String, String)>) -> ! {
    // The runtime keeps the callbacks until the process exits.
    crate::rt::pin_forever(&[cbs.on_connect, cbs.on_message, cbs.on_close]);
    let result = (|| {
        let port = u16::try_from(port)
            .map_err(|_| format!("cannot listen on port {port}: not a port number (0-65535)"))?;
        let acceptor = match &tls {
            Some((cert, key)) => Some(tls::acceptor(cert, key)?),
            None => None,
        };
        // SNOW_WS_METRICS_ADDR: the metrics endpoint (exit 1 if its
        // address cannot be listened on).
        if let Some(addr) = &crate::rt::settings().ws_metrics_addr {
            metrics::start(addr)?;
        }
        // SNOW_WS_REDIS_URL: join the cluster first (exit 1 if Redis is unreachable).
        start_cluster()?;
        let mut cfg = ServerConfig::from_settings(port, crate::rt::settings());
        cfg.static_dir = static_files::configured();
        let run = move || serve_inner(cfg, cbs, acceptor, shutdown_signal, None);
        // Called from inside a callback (already on a tokio worker): a runtime
        // cannot block inside another one, so serve from a fresh thread.
        let served = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::spawn(run)
                .join()
                .unwrap_or_else(|_| Err("the server thread panicked".into()))
        } else {
            run()
        };
        // The goodbye (said already by a drain) and what on_close queued
        // for the other nodes, within the drain's time.
        let wait = DRAIN_DEADLINE.get().map_or(Duration::from_secs(1), |d| {
            d.saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1))
        });
        cluster::stop(wait);
        served
    })();
    crate::rt::flush_stdout();
    match result {
        Ok(()) => std::process::exit(0),
        Err(msg) => {
            eprintln!("snow: {msg}");
            std::process::exit(1)
        }
    }
}

/// When a drain (SIGTERM) must be over: `SNOW_WS_DRAIN_MS` after the signal.
static DRAIN_DEADLINE: OnceLock<Instant> = OnceLock::new();

/// Default `SNOW_WS_DRAIN_MS`.
const DEFAULT_DRAIN_MS: u64 = 10_000;

/// Completes on SIGINT (a shutdown: close 1001) or SIGTERM (a draining
/// restart: in a cluster the node says goodbye at once, then every
/// connection is closed with 1012, all within `SNOW_WS_DRAIN_MS`).
async fn shutdown_signal() -> Stop {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    tokio::select! {
        _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
            let ms = crate::rt::settings().ws_drain_ms.unwrap_or(DEFAULT_DRAIN_MS);
            let deadline = *DRAIN_DEADLINE.get_or_init(|| Instant::now() + Duration::from_millis(ms));
            // The other nodes drop this node's members now, not one by one
            // as its connections close.
            cluster::leave();
            Stop::Drain { deadline }
        }
        _ = async { match int.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => Stop::Shutdown,
    }
}

/// `Ws.serve(on_connect, on_message, on_close, port)`: text messages only.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_serve(
    _td_a: i64,
    _td_b: i64,
    on_connect: i64,
    on_message: i64,
    on_close: i64,
    port: i64,
) -> i64 {
    serve_from_snow(
        Callbacks {
            on_connect,
            on_message,
            on_close,
            frames: false,
        },
        port,
        None,
    )
}

/// `Ws.serve_frames(on_connect, on_frame, on_close, port)`: text and binary.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_serve_frames(
    _td_a: i64,
    _td_b: i64,
    on_connect: i64,
    on_frame: i64,
    on_close: i64,
    port: i64,
) -> i64 {
    serve_from_snow(
        Callbacks {
            on_connect,
            on_message: on_frame,
            on_close,
            frames: true,
        },
        port,
        None,
    )
}

/// `Ws.serve_tls(on_connect, on_message, on_close, port, cert_pem_path, key_pem_path)`.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_serve_tls(
    _td_a: i64,
    _td_b: i64,
    on_connect: i64,
    on_message: i64,
    on_close: i64,
    port: i64,
    cert_path: i64,
    key_path: i64,
) -> i64 {
    // SAFETY: String words.
    let (cert, key) = unsafe { (crate::rt::str_ref(cert_path), crate::rt::str_ref(key_path)) };
    serve_from_snow(
        Callbacks {
            on_connect,
            on_message,
            on_close,
            frames: false,
        },
        port,
        Some((cert.to_string(), key.to_string())),
    )
}

/// A text message as an encoded frame (built once, shared by every
/// member of a broadcast). The payload is the caller's Snow string, which
/// lives in the caller's region for the whole `Ws.*` call; the frame does
/// not outlive the call ('static only in name).
fn text_message(text: i64) -> Encoded<'static> {
    // SAFETY: a String word.
    let s = unsafe { crate::rt::str_ref(text) };
    Encoded::new(OP_TEXT, s.as_bytes())
}

/// A binary message as an encoded frame (see [`text_message`]).
fn binary_message(bytes: i64) -> Encoded<'static> {
    // SAFETY: a Bytes word.
    let b = unsafe { crate::rt::bytes_ref(bytes) };
    Encoded::new(OP_BINARY, b)
}

fn send_to(conn: i64, make: impl FnOnce() -> Encoded<'static>) -> i64 {
    let Some(c) = lookup(conn) else { return -1 };
    let sent = c.send(&make());
    conn::enforce_total_cap();
    if sent {
        counters::add(Counter::MessagesSent, 1);
        0
    } else {
        -1
    }
}

/// `Ws.send(conn, text)`: 0 queued, -1 unknown or closed.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_send(conn: i64, text: i64) -> i64 {
    if let Some(n) = cluster::remote(conn) {
        // SAFETY: a String word.
        let t = unsafe { crate::rt::str_ref(text) };
        return n.send_remote(conn, cluster::TEXT, t.as_bytes());
    }
    send_to(conn, || text_message(text))
}

/// `Ws.send_binary(conn, bytes)`: 0 queued, -1 unknown or closed.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_send_binary(conn: i64, bytes: i64) -> i64 {
    if let Some(n) = cluster::remote(conn) {
        // SAFETY: a Bytes word.
        let b = unsafe { crate::rt::bytes_ref(bytes) };
        return n.send_remote(conn, cluster::BINARY, b);
    }
    send_to(conn, || binary_message(bytes))
}

/// A close code a server may send: 1000-1003, 1007-1014 and 3000-4999.
/// Anything else (1004-1006 and 1015 are reserved) is replaced by 1000.
fn sendable_code(code: i64) -> u16 {
    match code {
        1000..=1003 | 1007..=1014 | 3000..=4999 => code as u16,
        _ => 1000,
    }
}

/// `Ws.close(conn, code, reason)`: queues a close frame after what is
/// already queued. 0, or -1 for an unknown or already closing connection.
/// An invalid code is sent as 1000; the reason is cut to 123 bytes.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_close(conn: i64, code: i64, reason: i64) -> i64 {
    // SAFETY: a String word.
    let reason = unsafe { crate::rt::str_ref(reason) };
    if let Some(n) = cluster::remote(conn) {
        return n.close_remote(conn, sendable_code(code), reason);
    }
    let Some(c) = lookup(conn) else { return -1 };
    if c.begin_close(sendable_code(code), reason, CloseHow::Queue) {
        0
    } else {
        -1
    }
}

/// `Ws.id(conn)`: the id while the connection is known (open, or its
/// `on_close` is running), -1 afterwards or for a forged handle.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_id(conn: i64) -> i64 {
    if let Some(n) = cluster::remote(conn) {
        // Another node's handle: its id while that node is alive.
        return if n.routable(conn) { conn } else { -1 };
    }
    match lookup(conn) {
        Some(c) => c.id as i64,
        None => -1,
    }
}

/// `Ws.join(conn, room)`: 0, or -1 for an unknown or closed connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_join(conn: i64, room: i64) -> i64 {
    let Some(c) = lookup(conn) else { return -1 };
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    let mut join = || ROOMS.join(c.id, room, &c, || !c.is_closed());
    // A kept room in a cluster: the node follows its stream from the join
    // on (inside a publish's build the room's lock is held: joined as is).
    let joined = match (cluster::node(), IN_BUILD.with(|b| b.get())) {
        (Some(n), false) => match history::get(room) {
            Some(h) => n.join_kept(room, &h, &mut join),
            None => join(),
        },
        _ => join(),
    };
    if joined {
        0
    } else {
        -1
    }
}

/// `Ws.leave(conn, room)`: 0 (also when not a member), -1 for an unknown
/// connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_leave(conn: i64, room: i64) -> i64 {
    let Some(c) = lookup(conn) else { return -1 };
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    ROOMS.leave(c.id, room);
    0
}

/// Queues `msg` for every member of `room` except `except`; answers the
/// number of members it could not be queued for. Under the room's read
/// lock each member's queue gets a copy of a small frame or a reference to
/// a large one (queues are leaf locks; no large copy is made under the
/// lock); members whose queue is full are closed (1008) after the lock is
/// released, and so is anything over the total outbound cap.
fn broadcast_to(room: i64, msg: Encoded<'_>, except: Option<u64>) -> i64 {
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    broadcast_local(room, msg, except)
}

/// [`broadcast_to`] for the members on this node.
fn broadcast_local(room: &str, msg: Encoded, except: Option<u64>) -> i64 {
    let mut failed = 0;
    let mut queued = 0;
    let mut copied = 0;
    let mut slow: Vec<std::sync::Arc<conn::ConnState>> = Vec::new();
    ROOMS.with_members(room, |members| {
        // Each member's queue is cold in the cache: fetch the lock words
        // 2 * AHEAD members ahead and (once those arrived, with the buffer
        // address they hold) the buffer tails AHEAD members ahead, so the
        // misses overlap instead of stalling every copy in turn.
        const AHEAD: usize = 8;
        for (_, c) in members.iter().take(2 * AHEAD) {
            c.prefetch_send();
        }
        for (_, c) in members.iter().take(AHEAD) {
            c.out.prefetch_tail();
        }
        for (i, (id, c)) in members.iter().enumerate() {
            if let Some((_, far)) = members.get(i + 2 * AHEAD) {
                far.prefetch_send();
            }
            if let Some((_, near)) = members.get(i + AHEAD) {
                near.out.prefetch_tail();
            }
            if Some(*id) == except {
                continue;
            }
            match c.try_send(&msg, &mut copied) {
                out_queue::Push::Queued => queued += 1,
                out_queue::Push::Closed => failed += 1,
                out_queue::Push::Full => {
                    failed += 1;
                    slow.push((*c).clone());
                }
            }
        }
    });
    out_queue::count_outbound(copied);
    counters::add(Counter::MessagesSent, queued);
    for c in slow {
        c.close_slow_consumer();
    }
    conn::enforce_total_cap();
    failed
}

/// `Ws.broadcast(room, text)`: members it could not be queued for.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_broadcast(room: i64, text: i64) -> i64 {
    let failed = broadcast_to(room, text_message(text), None);
    cluster_broadcast(room, cluster::TEXT, text, None);
    failed
}

/// `Ws.broadcast_except(room, text, conn)`: all members but `conn`.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_broadcast_except(room: i64, text: i64, except: i64) -> i64 {
    let except = u64::try_from(except).ok();
    let failed = broadcast_to(room, text_message(text), except);
    cluster_broadcast(room, cluster::TEXT, text, except);
    failed
}

/// `Ws.broadcast_binary(room, bytes)`.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_broadcast_binary(room: i64, bytes: i64) -> i64 {
    let failed = broadcast_to(room, binary_message(bytes), None);
    cluster_broadcast(room, cluster::BINARY, bytes, None);
    failed
}

// ---- cluster hooks (ws/cluster/, docs/CLUSTER.md); no-ops on a single node ----

/// A broadcast's message for the other nodes of the cluster (once per
/// broadcast; the count it answers is this node's members only).
fn cluster_broadcast(room: i64, kind: u8, payload: i64, except: Option<u64>) {
    if cluster::node().is_none() {
        return;
    }
    // SAFETY: a String word and a String or Bytes word.
    let (room, payload) = unsafe {
        let p = if kind == cluster::TEXT {
            crate::rt::str_ref(payload).as_bytes()
        } else {
            crate::rt::bytes_ref(payload)
        };
        (crate::rt::str_ref(room), p)
    };
    cluster::publish_broadcast(room, kind, payload, except);
}

/// The opcode of a text (or binary) message.
fn opcode(text: bool) -> u8 {
    if text {
        OP_TEXT
    } else {
        OP_BINARY
    }
}

/// A broadcast from another node: encoded once, queued for the members here.
fn deliver_local(room: &str, text: bool, payload: &[u8], except: Option<u64>) {
    broadcast_local(room, Encoded::new(opcode(text), payload), except);
}

/// `Ws.send` from another node to a connection of this one.
fn deliver_direct(conn: i64, text: bool, payload: &[u8]) {
    if let Some(c) = lookup(conn) {
        if c.send(&Encoded::new(opcode(text), payload)) {
            counters::add(Counter::MessagesSent, 1);
        }
        conn::enforce_total_cap();
    }
}

/// `Ws.close` from another node of a connection of this one.
fn close_direct(conn: i64, code: u16, reason: &str) {
    if let Some(c) = lookup(conn) {
        c.begin_close(sendable_code(code as i64), reason, CloseHow::Queue);
    }
}

/// `Ws.members(room)`: a snapshot, as a `List<Conn>` sorted by id.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_members(room: i64) -> i64 {
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    let mut ids = ROOMS.member_ids(room);
    if let Some(n) = cluster::node() {
        n.remote_members(room, &mut ids);
        ids.sort_unstable();
    }
    let ids: Vec<i64> = ids.into_iter().map(|id| id as i64).collect();
    crate::rt::list_from_slice(&ids)
}

/// `Ws.count(room)`: the number of members (0 for no such room).
#[no_mangle]
pub extern "C-unwind" fn snow_ws_count(room: i64) -> i64 {
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    let remote = cluster::node().map_or(0, |n| n.remote_count(room));
    (ROOMS.count(room) + remote) as i64
}

/// `Ws.rooms(conn)`: the connection's rooms sorted by name, `[]` for an
/// unknown connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_rooms(conn: i64) -> i64 {
    let Some(c) = lookup(conn) else { return 0 };
    let names = ROOMS.rooms_of(c.id);
    let words: Vec<i64> = names.iter().map(|n| crate::rt::new_str(n)).collect();
    crate::rt::list_from_slice(&words)
}

// ---- history (spec "History"; docs/WS.md "History", docs/CLUSTER.md "History") ----

thread_local! {
    /// A publish's `build` is running on this thread (holding its room's
    /// history lock).
    static IN_BUILD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Panics when called from inside a publish's `build` (which holds its
/// room's history lock: another history call could wait on it for ever).
fn not_in_build(what: &str) {
    if IN_BUILD.with(|b| b.get()) {
        crate::rt::runtime_panic(&format!(
            "{what} inside the build function of Ws.publish (build only makes the text)"
        ));
    }
}

/// Calls a publish's `build(offset)` (a `Fun(Int) -> String` closure) and
/// answers the text's String word (in the caller's region).
///
/// Snow code runs here, inside a runtime function, so a collection of the
/// caller's region may run during it (docs/ABI.md "Memory"): the callers
/// hold only stack words across it (the room's String, `build` itself),
/// which the collector's conservative stack scan sees, never Snow words in
/// Rust heap memory. A panic in `build` unwinds through the caller (its
/// locks are guards, released on the way) to the callback's `catch`.
fn build_text(build: i64, off: u64) -> i64 {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_BUILD.with(|b| b.set(false));
        }
    }
    IN_BUILD.with(|b| b.set(true));
    let _reset = Reset;
    // SAFETY: `build` is a `Fun(Int) -> String` closure.
    unsafe { crate::rt::call1(build, off as i64) }
}

/// `Ws.keep(room, count, ms)`: 0, or -1 when count < 1 or ms < 0.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_keep(room: i64, count: i64, ms: i64) -> i64 {
    not_in_build("Ws.keep");
    if count < 1 || ms < 0 {
        return -1;
    }
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    history::keep(room, count as usize, ms as u64);
    if let Some(n) = cluster::node() {
        n.keep(room, count as u64, ms as u64);
    }
    0
}

/// `Ws.publish(room, build)`: the offset, or -1 (no history kept for the
/// room; in a cluster, Redis unreachable or the write not confirmed).
#[no_mangle]
pub extern "C-unwind" fn snow_ws_publish(room: i64, build: i64) -> i64 {
    not_in_build("Ws.publish");
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    let Some(h) = history::get(room) else {
        return -1;
    };
    if let Some(n) = cluster::node() {
        return n.publish_kept(room, &h, &mut |off| {
            // SAFETY: the String word `build` answered.
            unsafe { crate::rt::str_ref(build_text(build, off)) }.into()
        });
    }
    let mut g = h.lock();
    let off = g.last + 1;
    let text = build_text(build, off);
    // SAFETY: the String word `build` answered.
    let text = unsafe { crate::rt::str_ref(text) };
    broadcast_local(room, Encoded::new(OP_TEXT, text.as_bytes()), None);
    g.last = off;
    let now = history::now_ms();
    g.push(
        history::Entry {
            off,
            at: now,
            text: text.into(),
        },
        now,
    );
    history::enforce_cap(&mut g);
    off as i64
}

/// `(offset, text)` tuples as a Snow list.
fn offset_pairs<'a>(entries: impl Iterator<Item = (u64, &'a str)>) -> i64 {
    let words: Vec<i64> = entries
        .map(|(off, text)| crate::rt::new_tuple(&[off as i64, crate::rt::new_str(text)]))
        .collect();
    crate::rt::list_from_slice(&words)
}

/// `Ws.history(room, after, max)`: `List<(Int, String)>`.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_history(room: i64, after: i64, max: i64) -> i64 {
    not_in_build("Ws.history");
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    let Some(h) = history::get(room) else {
        return 0;
    };
    if max <= 0 {
        return 0;
    }
    let (after, max) = (after.max(0) as u64, max as usize);
    if let Some(n) = cluster::node() {
        if let Some(v) = n.read_kept(room, after, max) {
            return offset_pairs(v.iter().map(|e| (e.off, &*e.text)));
        }
        // Redis unreachable: what this node delivered (below).
    }
    let mut g = h.lock();
    let v = g.range(after, max, history::now_ms());
    offset_pairs(v.into_iter().map(|e| (e.off, &*e.text)))
}

/// Queues `text` for `c` (a replayed message).
fn replay(c: &conn::ConnState, text: &str) {
    c.send(&Encoded::new(OP_TEXT, text.as_bytes()));
}

/// `Ws.resume(conn, room, after)`: joins and replays as one step; the first
/// replayed offset (0: none), -1 for an unknown connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_resume(conn: i64, room: i64, after: i64) -> i64 {
    not_in_build("Ws.resume");
    let Some(c) = lookup(conn) else { return -1 };
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    let join = |c: &std::sync::Arc<conn::ConnState>| ROOMS.join(c.id, room, c, || !c.is_closed());
    let Some(h) = history::get(room) else {
        return if join(&c) { 0 } else { -1 };
    };
    let after = after.max(0) as u64;
    let first = if let Some(n) = cluster::node() {
        n.resume_kept(room, &h, after, &mut |text| replay(&c, text), &mut || {
            join(&c)
        })
    } else {
        let mut g = h.lock();
        let mut first = 0;
        for e in g.after(after, history::now_ms()) {
            if first == 0 {
                first = e.off;
            }
            replay(&c, &e.text);
        }
        if join(&c) {
            Some(first)
        } else {
            None
        }
    };
    conn::enforce_total_cap();
    match first {
        Some(f) => f as i64,
        None => -1,
    }
}

// ---- presence (spec "Presence"; docs/WS.md "Presence", docs/CLUSTER.md "Presence") ----

/// `Ws.track(conn, room, meta)`: 0, or -1 for an unknown connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_track(conn: i64, room: i64, meta: i64) -> i64 {
    let Some(c) = lookup(conn) else { return -1 };
    // SAFETY: String words.
    let (room, meta) = unsafe { (crate::rt::str_ref(room), crate::rt::str_ref(meta)) };
    if ROOMS.track(c.id, room, &c, || !c.is_closed(), meta, presence::next_at) {
        0
    } else {
        -1
    }
}

/// `Ws.untrack(conn, room)`: 0 (also when not tracked), -1 for an unknown
/// connection.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_untrack(conn: i64, room: i64) -> i64 {
    let Some(c) = lookup(conn) else { return -1 };
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    ROOMS.untrack(c.id, room);
    0
}

/// `Ws.presence(room)`: `List<(Conn, String)>`, every node's entries in the
/// order of tracking.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_presence(room: i64) -> i64 {
    // SAFETY: a String word.
    let room = unsafe { crate::rt::str_ref(room) };
    let mut entries = ROOMS.tracked(room);
    if let Some(n) = cluster::node() {
        n.remote_tracked(room, &mut entries);
    }
    entries.sort_unstable_by_key(|(id, t)| (t.at, *id));
    let words: Vec<i64> = entries
        .iter()
        .map(|(id, t)| crate::rt::new_tuple(&[*id as i64, crate::rt::new_str(&t.meta)]))
        .collect();
    crate::rt::list_from_slice(&words)
}

/// `Ws.on_presence(callback)`: 0.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_on_presence(_td_a: i64, callback: i64) -> i64 {
    presence::set_callback(callback);
    0
}

/// `Ws.broadcast_local(room, text)`: this node's members only; the
/// members it could not be queued for.
#[no_mangle]
pub extern "C-unwind" fn snow_ws_broadcast_local(room: i64, text: i64) -> i64 {
    broadcast_to(room, text_message(text), None)
}
