//! Connection state and the global connection table.
//!
//! A [`ConnState`] is shared (`Arc`) between the connection table, the room
//! registry (member handles), broadcast snapshots, the connection's task
//! (`session.rs`) and its server's timer sweep (`server.rs`). Snow code only
//! ever holds the numeric id; the table maps ids to states, so a stale or
//! forged id simply misses.

use super::frame::{self, close_bytes, close_frame, CloseFrame};
use super::out_queue::{self, Encoded, OutQueue, Push};
use super::rooms::Registry;
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

/// Milliseconds since the runtime's first use: the clock of the
/// connections' deadlines (coarse, monotonic, one word).
pub(crate) fn now_ms() -> u64 {
    static BASE: LazyLock<Instant> = LazyLock::new(Instant::now);
    BASE.elapsed().as_millis() as u64
}

/// A connection's deadlines, in [`now_ms`] (0: none). The connection's task
/// and its server's sweep both read and write them; the sweep acts on the
/// ones that passed (`server.rs`), so an idle connection needs no timer of
/// its own.
#[derive(Default)]
pub(crate) struct Deadlines {
    /// When the next heartbeat ping is due.
    pub next_ping: AtomicU64,
    /// The number the latest ping carried; only a pong echoing it counts.
    pub ping_seq: AtomicU64,
    /// A ping waits for its pong until then.
    pub pong_due: AtomicU64,
    /// The connection started closing: its close handshake ends by then.
    pub close_due: AtomicU64,
    /// Data waits and the socket took nothing since: it must take some by then.
    pub write_due: AtomicU64,
    /// `SNOW_WS_CLOSE_TIMEOUT_MS` of the connection's server.
    pub close_timeout: AtomicU64,
    /// The close timeout passed: the connection's task ends.
    pub expired: AtomicBool,
}

/// How [`ConnState::begin_close`] ends the connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CloseHow {
    /// Queue the close frame after the messages already queued.
    Queue,
    /// Drop what is queued and send the close frame now (slow consumer).
    Urgent,
    /// No close frame from us (the peer closed: its echo is queued
    /// separately and ends the queue).
    NoFrame,
    /// The socket is unusable (an I/O error, a write timeout, a rejected
    /// connection whose close frame the server writes itself): the queue
    /// is dropped and the reader ends at once.
    Dead,
}

/// Shared state of one accepted connection.
pub(crate) struct ConnState {
    pub(crate) id: u64,
    /// The outbound queue (encoded frames), drained by the writer task.
    pub(crate) out: OutQueue,
    max_queue: usize,
    /// Window bits this connection's messages are compressed with
    /// (permessage-deflate), 0 for none.
    compress_window: u8,
    /// Set once, by the first [`ConnState::begin_close`].
    closed: AtomicBool,
    /// The socket is unusable ([`CloseHow::Dead`]): the task stops.
    dead: AtomicBool,
    /// An urgent close waits for the task (its frame is in `urgent`).
    pub(crate) urgent_pending: AtomicBool,
    /// Deadlines the server's sweep enforces.
    pub(crate) deadlines: Deadlines,
    /// Code and reason reported to `on_close` (the first close wins).
    close_info: Mutex<Option<(u16, String)>>,
    /// The close frame of an urgent close (taken by the task).
    pub(crate) urgent: Mutex<Option<CloseFrame>>,
    /// `Ws.set` / `Ws.get`: per-connection strings (a leaf lock).
    pub(crate) assigns: Mutex<FxHashMap<String, String>>,
}

/// Connection ids: never reused within a process, the first is 1.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Cluster mode: this node's ids start above `base` (the node number in the
/// high bits; `ws/mod.rs` sets it from the cluster's node).
pub(crate) fn start_ids_at(base: u64) {
    NEXT_ID.fetch_max(base + 1, Ordering::Relaxed);
}

/// The global room registry (in cluster mode `ws/mod.rs` makes the cluster
/// its observer).
pub(crate) static ROOMS: LazyLock<Registry<Arc<ConnState>>> = LazyLock::new(Registry::new);

const TABLE_SHARDS: usize = 16;

/// id -> connection, for every connection that is open or whose `on_close`
/// is still running. Each shard lock is a leaf lock (nothing else is taken
/// while it is held).
type TableShard = RwLock<FxHashMap<u64, Arc<ConnState>>>;

static TABLE: LazyLock<Vec<TableShard>> = LazyLock::new(|| {
    (0..TABLE_SHARDS)
        .map(|_| RwLock::new(FxHashMap::default()))
        .collect()
});

fn table_shard(id: u64) -> &'static TableShard {
    &TABLE[(id as usize) % TABLE_SHARDS]
}

/// The connection with this Snow word as id, if it is known.
pub(crate) fn lookup(word: i64) -> Option<Arc<ConnState>> {
    if word <= 0 {
        return None;
    }
    let id = word as u64;
    table_shard(id).read().get(&id).cloned()
}

pub(crate) fn register(state: &Arc<ConnState>) {
    table_shard(state.id)
        .write()
        .insert(state.id, state.clone());
}

pub(crate) fn unregister(id: u64) {
    table_shard(id).write().remove(&id);
}

/// Every open connection (not closing), taken shard by shard: each
/// shard's read lock is held only while its handles are cloned.
pub(crate) fn open_connections() -> Vec<Arc<ConnState>> {
    TABLE
        .iter()
        .flat_map(|shard| shard.read().values().cloned().collect::<Vec<_>>())
        .filter(|c| !c.is_closed())
        .collect()
}

/// `SNOW_WS_MAX_QUEUE_TOTAL_BYTES`: the cap on all outbound queues together
/// (set when a server starts; unlimited before).
static TOTAL_CAP: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Whether a thread is enforcing [`TOTAL_CAP`] right now.
static ENFORCING: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_total_cap(bytes: usize) {
    TOTAL_CAP.store(bytes, Ordering::Relaxed);
}

/// Call after queuing, never under a registry lock: when the outbound
/// queues together hold more than the cap, closes the connections with the
/// largest queues first (1008, urgently: their queues are dropped) until
/// the estimate is under the cap again. One thread at a time does this; a
/// caller that finds it busy goes on (the next send checks again).
pub(crate) fn enforce_total_cap() {
    let cap = TOTAL_CAP.load(Ordering::Relaxed);
    let total = out_queue::outbound_bytes();
    // A sender counts the bytes it copied into queues after it released
    // them, so a connection's task that took and uncounted them first
    // makes the total wrap below zero for a moment: such a total is no
    // reason to close anybody.
    if total <= cap || total > usize::MAX / 2 || ENFORCING.swap(true, Ordering::Acquire) {
        return;
    }
    let mut sized: Vec<(usize, Arc<ConnState>)> = open_connections()
        .into_iter()
        .map(|c| (c.queued_bytes(), c))
        .collect();
    sized.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    // Closing drops a queue's own buffer at once; the estimate also counts
    // its shared frames as freed (they are, once every holder let go).
    let mut estimate = total;
    for (size, c) in sized {
        if estimate <= cap || size == 0 {
            break;
        }
        c.begin_close(
            1008,
            "server outbound memory limit exceeded",
            CloseHow::Urgent,
        );
        estimate = estimate.saturating_sub(size);
    }
    ENFORCING.store(false, Ordering::Release);
}

impl ConnState {
    pub(crate) fn new(id: u64, max_queue: usize) -> ConnState {
        ConnState {
            id,
            out: OutQueue::new(),
            max_queue,
            compress_window: 0,
            closed: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            urgent_pending: AtomicBool::new(false),
            deadlines: Deadlines {
                close_timeout: AtomicU64::new(5000),
                ..Deadlines::default()
            },
            close_info: Mutex::new(None),
            urgent: Mutex::new(None),
            assigns: Mutex::new(FxHashMap::default()),
        }
    }

    /// Compress this connection's messages with window bits `window` (9-15;
    /// 0 or 8: never).
    pub(crate) fn compressing(mut self, window: u8) -> ConnState {
        self.compress_window = window;
        self
    }

    /// The close handshake of this connection may take `ms` milliseconds
    /// (5000 unless set).
    pub(crate) fn close_timeout(self, ms: u64) -> ConnState {
        self.deadlines.close_timeout.store(ms, Ordering::Relaxed);
        self
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether the socket was given up ([`CloseHow::Dead`]).
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Bytes waiting in (or being written from) the outbound queue.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.out.size()
    }

    /// The code and reason recorded by the first close.
    pub(crate) fn close_info(&self) -> Option<(u16, String)> {
        self.close_info.lock().clone()
    }

    /// Prefetches what [`ConnState::try_send`] touches first (the closed
    /// flag and the queue's lock); a broadcast calls it a few members ahead.
    #[inline(always)]
    pub(crate) fn prefetch_send(&self) {
        out_queue::prefetch_write(&self.closed as *const _ as usize);
        self.out.prefetch_lock();
    }

    /// Queues an encoded data frame without closing anything:
    /// [`Push::Full`] when it would take the queue past its limit (the
    /// caller then closes the connection with 1008, after releasing any
    /// registry lock). Bytes copied into the queue's buffer are added to
    /// `copied` (for [`out_queue::count_outbound`]).
    pub(crate) fn try_send(&self, frame: &Encoded<'_>, copied: &mut usize) -> Push {
        if self.is_closed() {
            return Push::Closed;
        }
        self.out
            .push_data(frame, self.compress_window, self.max_queue, copied)
    }

    /// Queues an encoded data frame; `false` when the connection is closed
    /// or the frame would take the queue past its limit (then the
    /// connection is closed with 1008).
    pub(crate) fn send(&self, frame: &Encoded<'_>) -> bool {
        let mut copied = 0;
        let r = self.try_send(frame, &mut copied);
        out_queue::count_outbound(copied);
        match r {
            Push::Queued => true,
            Push::Closed => false,
            Push::Full => {
                self.close_slow_consumer();
                false
            }
        }
    }

    /// Closes a connection whose queue is full (1008, urgently).
    pub(crate) fn close_slow_consumer(&self) {
        self.begin_close(1008, "outbound queue limit exceeded", CloseHow::Urgent);
    }

    /// Queues a heartbeat ping carrying `payload`; a queue that is full even
    /// for that closes the connection (1008).
    pub(crate) fn send_ping(&self, payload: &[u8]) {
        if self
            .out
            .push_control(&frame::ping(payload), false, self.max_queue)
            == Push::Full
        {
            self.close_slow_consumer();
        }
    }

    /// Queues the pong to a ping carrying `payload` (pongs coalesce past a
    /// few, see `out_queue.rs`); a queue that is full even for that closes the
    /// connection (1008), so a client that pings without reading cannot
    /// grow memory.
    pub(crate) fn send_pong(&self, payload: &[u8]) {
        if self.out.push_pong(&frame::pong(payload), self.max_queue) == Push::Full {
            self.close_slow_consumer();
        }
    }

    /// Queues the echo of the peer's close frame; it ends the queue.
    pub(crate) fn queue_close_echo(&self, frame: &[u8]) {
        self.out.push_control(frame, true, self.max_queue);
    }

    /// Starts closing the connection (only the first call does anything):
    /// records `code`/`reason` for `on_close`, marks the connection closed so
    /// every send and join fails from now on, removes it from all its rooms,
    /// sends the close frame as `how` says, and wakes the reader so the
    /// close timeout starts. Answers whether this call was the first.
    pub(crate) fn begin_close(&self, code: u16, reason: &str, how: CloseHow) -> bool {
        {
            // The close info is the once-guard: whoever sets it first wins,
            // and nobody can see `closed` without also seeing the info.
            let mut info = self.close_info.lock();
            if info.is_some() {
                return false;
            }
            *info = Some((code, reason.to_string()));
            self.closed.store(true, Ordering::Release);
        }
        // Leave every room before anything else can observe the close.
        ROOMS.remove_conn(self.id);
        match how {
            CloseHow::Queue => {
                self.out.push_control(
                    &close_bytes(&close_frame(code, reason)),
                    true,
                    self.max_queue,
                );
            }
            CloseHow::Urgent => {
                *self.urgent.lock() = Some(close_frame(code, reason));
                self.out.discard();
                self.urgent_pending.store(true, Ordering::Release);
            }
            CloseHow::NoFrame => {}
            CloseHow::Dead => self.kill(),
        }
        let timeout = self.deadlines.close_timeout.load(Ordering::Relaxed);
        self.deadlines
            .close_due
            .store(now_ms() + timeout.max(1), Ordering::Relaxed);
        self.out.wake();
        true
    }

    /// Gives the socket up, whatever state the connection is in: the queue
    /// is dropped and the connection's task ends at once.
    pub(crate) fn kill(&self) {
        self.dead.store(true, Ordering::Release);
        self.out.discard();
        self.out.wake();
    }
}
