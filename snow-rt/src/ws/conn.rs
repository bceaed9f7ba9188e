//! Connection state, the global connection table and the per-connection
//! writer task.
//!
//! A [`ConnState`] is shared (`Arc`) between the connection table, the room
//! registry (member handles), broadcast snapshots, the connection's reader
//! task and its writer task. Snow code only ever holds the numeric id; the
//! table maps ids to states, so a stale or forged id simply misses.

use super::rooms::Registry;
use futures_util::{Sink, SinkExt};
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// An item of a connection's outbound queue.
pub(crate) enum Out {
    /// A data message and the bytes it was accounted for in `queued`.
    Msg(Message, usize),
    /// A heartbeat ping (not counted against the queue limit).
    Ping,
    /// A close frame: written after everything queued before it; the writer
    /// stops afterwards.
    Close(CloseFrame),
    /// Stop after writing everything queued before this (end of connection).
    Stop,
}

/// How [`ConnState::begin_close`] ends the connection.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CloseHow {
    /// Queue the close frame after the messages already queued.
    Queue,
    /// Drop what is queued and send the close frame now (slow consumer).
    Urgent,
    /// No close frame from us: the peer closed, or the socket is gone.
    NoFrame,
}

/// Shared state of one accepted connection.
pub(crate) struct ConnState {
    pub(crate) id: u64,
    tx: UnboundedSender<Out>,
    /// Bytes of data messages queued and not yet handed to the socket.
    queued: AtomicUsize,
    max_queue: usize,
    /// Set once, by the first [`ConnState::begin_close`].
    closed: AtomicBool,
    /// Code and reason reported to `on_close` (the first close wins).
    close_info: Mutex<Option<(u16, String)>>,
    /// The close frame of an urgent close (taken by the writer).
    urgent: Mutex<Option<CloseFrame>>,
    /// Wakes the writer for an urgent close.
    pub(crate) abort: Notify,
    /// Wakes the reader when the connection starts closing (close timeout).
    pub(crate) wake_reader: Notify,
    /// `Ws.set` / `Ws.get`: per-connection strings (a leaf lock).
    pub(crate) assigns: Mutex<FxHashMap<String, String>>,
}

/// Connection ids: never reused within a process, the first is 1.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The global room registry.
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

/// A close frame with `code` and `reason` cut to the 123 bytes a control
/// frame allows (at a character boundary).
pub(crate) fn close_frame(code: u16, reason: &str) -> CloseFrame {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code: CloseCode::from(code),
        reason: reason[..end].to_string().into(),
    }
}

impl ConnState {
    pub(crate) fn new(id: u64, tx: UnboundedSender<Out>, max_queue: usize) -> ConnState {
        ConnState {
            id,
            tx,
            queued: AtomicUsize::new(0),
            max_queue,
            closed: AtomicBool::new(false),
            close_info: Mutex::new(None),
            urgent: Mutex::new(None),
            abort: Notify::new(),
            wake_reader: Notify::new(),
            assigns: Mutex::new(FxHashMap::default()),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The code and reason recorded by the first close.
    pub(crate) fn close_info(&self) -> Option<(u16, String)> {
        self.close_info.lock().clone()
    }

    /// Queues a data message; `false` when the connection is closed or the
    /// message would take the queue past its limit (then the connection is
    /// closed with 1008).
    pub(crate) fn send(&self, msg: Message, size: usize) -> bool {
        if self.is_closed() {
            return false;
        }
        let before = self.queued.fetch_add(size, Ordering::AcqRel);
        if before.saturating_add(size) > self.max_queue {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            self.begin_close(1008, "outbound queue limit exceeded", CloseHow::Urgent);
            return false;
        }
        if self.tx.send(Out::Msg(msg, size)).is_err() {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            return false;
        }
        true
    }

    pub(crate) fn send_ping(&self) {
        let _ = self.tx.send(Out::Ping);
    }

    /// Tells the writer to stop once everything queued so far is written.
    pub(crate) fn stop_writer(&self) {
        let _ = self.tx.send(Out::Stop);
    }

    /// Starts closing the connection (only the first call does anything):
    /// records `code`/`reason` for `on_close`, marks the connection closed so
    /// every send and join fails from now on, removes it from all its rooms,
    /// sends the close frame as `how` says, and wakes the reader so the
    /// close timeout starts. Answers whether this call was the first.
    pub(crate) fn begin_close(&self, code: u16, reason: &str, how: CloseHow) -> bool {
        if self.closed.swap(true, Ordering::AcqRel) {
            return false;
        }
        *self.close_info.lock() = Some((code, reason.to_string()));
        // Leave every room before anything else can observe the close.
        ROOMS.remove_conn(self.id);
        match how {
            CloseHow::Queue => {
                let _ = self.tx.send(Out::Close(close_frame(code, reason)));
            }
            CloseHow::Urgent => {
                *self.urgent.lock() = Some(close_frame(code, reason));
                self.abort.notify_one();
            }
            CloseHow::NoFrame => {}
        }
        self.wake_reader.notify_one();
        true
    }
}

/// How long the writer tries to deliver the close frame of an urgent close
/// before it gives up on a peer that does not read.
const URGENT_CLOSE_WRITE: Duration = Duration::from_secs(1);

/// Runs `fut` unless an urgent close arrives first (`None`).
async fn guarded<F: std::future::Future>(state: &ConnState, fut: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        _ = state.abort.notified() => None,
        r = fut => Some(r),
    }
}

/// Writes one queue item into the sink (without flushing). Answers
/// `Some(true)` when the writer must stop after the flush, `None` on an
/// urgent close, `Some(false)` to continue; `Err` when the socket failed.
async fn feed_item<S>(state: &ConnState, sink: &mut S, item: Out) -> Result<Option<bool>, WsError>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let (msg, size, stop) = match item {
        Out::Msg(m, size) => (m, size, false),
        Out::Ping => (Message::Ping(Default::default()), 0, false),
        Out::Close(f) => (Message::Close(Some(f)), 0, true),
        Out::Stop => return Ok(Some(true)),
    };
    let r = guarded(state, sink.feed(msg)).await;
    if size > 0 {
        state.queued.fetch_sub(size, Ordering::AcqRel);
    }
    match r {
        None => Ok(None),
        Some(Ok(())) => Ok(Some(stop)),
        Some(Err(e)) => Err(e),
    }
}

/// The writer task of one connection: drains the queue in order, feeding
/// every message that is already queued before flushing once, until a close
/// frame or `Stop` is written, the socket fails, or an urgent close arrives.
pub(crate) async fn writer_task<S>(
    state: Arc<ConnState>,
    mut sink: S,
    mut rx: UnboundedReceiver<Out>,
) where
    S: Sink<Message, Error = WsError> + Unpin,
{
    'outer: loop {
        let first = tokio::select! {
            biased;
            _ = state.abort.notified() => break 'outer,
            it = rx.recv() => it,
        };
        let Some(mut item) = first else { return };
        let mut stop;
        loop {
            match feed_item(&state, &mut sink, item).await {
                Ok(None) => break 'outer,
                Ok(Some(s)) => stop = s,
                Err(e) => {
                    fail(&state, &e);
                    return;
                }
            }
            if stop {
                break;
            }
            match rx.try_recv() {
                Ok(next) => item = next,
                Err(_) => break,
            }
        }
        match guarded(&state, sink.flush()).await {
            None => break 'outer,
            Some(Err(e)) => {
                fail(&state, &e);
                return;
            }
            Some(Ok(())) => {}
        }
        if stop {
            return;
        }
    }
    // Urgent close: drop the queue, try to get the close frame out.
    drop(rx);
    let frame = state.urgent.lock().take();
    if let Some(frame) = frame {
        let _ =
            tokio::time::timeout(URGENT_CLOSE_WRITE, sink.send(Message::Close(Some(frame)))).await;
    }
}

/// Writing failed. An I/O error means the socket is gone; anything else
/// (writing after the peer's close frame was read) is the reader's to report.
fn fail(state: &ConnState, e: &WsError) {
    if matches!(e, WsError::Io(_)) {
        state.begin_close(1006, "connection lost", CloseHow::NoFrame);
    }
}
