//! One upgraded connection, from its first frame to its end, in **one
//! task** driven by a hand-written future ([`Session`]): it reads the
//! client's bytes, runs the connection's callbacks and writes the
//! connection's queue. Heartbeats and the pong, close and write timeouts are
//! deadlines in the connection's state that the server's sweep enforces
//! (`server.rs`), so an idle connection owns no timer, no read buffer and
//! no waker list: a socket registration, its state and this small future.
//!
//! # Reading
//! When the socket is readable the task reads into its worker thread's
//! shared read buffer ([`READ_BUF`]) and the frame reader (`reader.rs`)
//! turns those bytes into messages synchronously, within that same poll; a
//! message that arrived whole is handed to its callback straight from the
//! shared buffer. Callbacks run here, so a connection's callbacks run one
//! at a time in arrival order, while different connections run in parallel
//! on the workers.
//!
//! # Writing
//! Everything sent to the connection goes through its queue (`out_queue.rs`).
//! Each pass takes what is queued and writes it with one vectored write,
//! usually completely: an echo (a callback sending to its own connection)
//! is written by the same task in the same poll, without waking anyone. A
//! send from another task wakes this one (only when it is idle); it then
//! yields once to the rest of the scheduling round ([`WRITER_YIELD`]), so
//! one `write` carries every frame queued in that round. Only a socket that
//! does not take everything leaves a write pending, and the task keeps
//! reading while the socket drains.
//!
//! # Closing
//! The peer's close frame is echoed and ends the connection once the echo
//! is written. A close the server starts (`Ws.close`, heartbeat, shutdown,
//! 1003) is written after what was queued, then the task keeps reading until
//! the peer's close, the end of the socket or the close deadline. A protocol
//! violation (1002, 1007, 1009) queues its close frame and ends the
//! connection once it is written. An urgent close (slow consumer) abandons
//! the queue, finishes the frame a cut write left half-sent, and sends its
//! close frame, within [`URGENT_CLOSE_WRITE`]. A socket error, a write
//! timeout or the close deadline ends it at once.

use super::callbacks::{self, Callbacks};
use super::config::ServerConfig;
use super::conn::{now_ms, CloseHow, ConnState};
use super::counters::{self, Counter};
use super::deflate;
use super::frame::{close_bytes, close_frame, close_frame_without_code, CloseFrame};
use super::limits::Bucket;
use super::out_queue::{Batch, Slices, MAX_SLICES};
use super::reader::{Event, Inflate, NoInflate, Reader};
use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::timeout;

/// Size of each worker's shared read buffer.
const READ_BUF_SIZE: usize = 64 << 10;

thread_local! {
    /// The worker's read buffer: borrowed for one synchronous read and the
    /// processing of its bytes, never across an `.await`.
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_BUF_SIZE].into_boxed_slice());
}

/// How many times a task woken by another connection's send yields before
/// it takes its queue (default 1, `SNOW_WS_WRITER_YIELD` overrides it for
/// benchmarking; 0 writes at once). Kept in a static of its own: it is read
/// on the write path of every woken connection. Yielding defers the task until its
/// worker ran every task that is ready and polled the socket driver: the
/// readers of that round broadcast first, so each connection sends one
/// round's frames with one `send` (like uWS's cork buffer per event-loop
/// iteration) instead of one `send` per broadcast (bench/analysis.md).
static WRITER_YIELD: LazyLock<u32> = LazyLock::new(|| crate::rt::settings().ws_writer_yield);

/// How long an urgent close tries to finish a cut frame and to deliver its
/// close frame to a peer that does not read.
const URGENT_CLOSE_WRITE: Duration = Duration::from_secs(1);

/// Reads and writes per poll before the task yields to others (a client
/// that never stops sending must not hold its worker).
const PASSES_PER_POLL: usize = 16;

/// Polls `rd` for bytes into the worker's buffer and hands them to `feed`
/// (synchronously, inside this poll). `Ready(Ok(false))` at the end of the
/// stream.
fn poll_read_worker_buffer<R: AsyncRead + Unpin>(
    rd: &mut R,
    cx: &mut Context<'_>,
    feed: impl FnOnce(&mut [u8]),
) -> Poll<io::Result<bool>> {
    READ_BUF.with(|cell| {
        // Only a callback that somehow polled another connection on this
        // thread could find the buffer taken; a buffer of its own then.
        let mut own;
        let mut shared = cell.try_borrow_mut();
        let buf: &mut [u8] = match &mut shared {
            Ok(b) => b,
            Err(_) => {
                own = vec![0u8; 4096];
                &mut own
            }
        };
        let mut rb = ReadBuf::new(buf);
        match Pin::new(rd).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    return Poll::Ready(Ok(false));
                }
                feed(&mut buf[..n]);
                Poll::Ready(Ok(true))
            }
        }
    })
}

/// The reading side's state: the frame reader and what the events told.
struct ReadSide {
    reader: Reader,
    /// permessage-deflate was negotiated (compressed messages are inflated
    /// with the worker's shared inflater).
    deflate: bool,
    /// The peer's close frame arrived (and its echo is queued).
    peer_closed: bool,
    /// The reader failed the connection (its close frame is queued).
    failed: bool,
    /// The connection's message budget (`SNOW_WS_MAX_MESSAGES_PER_SEC`;
    /// unused without it).
    budget: Bucket,
}

impl ReadSide {
    /// Reads `bytes` and acts on every event in them.
    fn feed(&mut self, cfg: &ServerConfig, cbs: Callbacks, state: &ConnState, bytes: &mut [u8]) {
        counters::add(Counter::ReceivedBytes, bytes.len() as u64);
        let ReadSide {
            reader,
            deflate,
            peer_closed,
            budget,
            ..
        } = self;
        let mut limit = cfg.max_messages_per_sec.map(|rate| {
            budget.refill(rate, now_ms());
            (budget, rate)
        });
        let mut sink = |e: Event<'_>| on_event(cbs, state, e, peer_closed, limit.as_mut());
        let r = if *deflate {
            deflate::WorkerInflate::with(|inf: &mut dyn Inflate| reader.feed(bytes, inf, &mut sink))
        } else {
            reader.feed(bytes, &mut NoInflate, &mut sink)
        };
        if let Err(f) = r {
            self.failed = true;
            state.begin_close(f.code, f.reason, CloseHow::Queue);
        }
    }
}

/// Acts on one event of the connection's input; answers whether to go on
/// reading.
fn on_event(
    cbs: Callbacks,
    state: &ConnState,
    e: Event<'_>,
    peer_closed: &mut bool,
    limit: Option<&mut (&mut Bucket, u64)>,
) -> bool {
    let id = state.id;
    let data = matches!(e, Event::Text(_) | Event::Binary(_));
    let closed = data && state.is_closed();
    let over_rate = data && !closed && limit.is_some_and(|(b, rate)| !b.take(*rate, now_ms));
    match e {
        // Messages that arrive once the connection is closing are dropped.
        _ if closed => {}
        // Over its message rate: closed, and neither this message nor any
        // later one reaches a callback.
        _ if over_rate => {
            counters::add(Counter::RateLimited, 1);
            state.begin_close(1008, "message rate limit exceeded", CloseHow::Queue);
        }
        Event::Text(t) => {
            counters::add(Counter::MessagesReceived, 1);
            if callbacks::on_text(cbs, id, t).is_err() {
                state.begin_close(1011, "internal error", CloseHow::Queue);
            }
        }
        Event::Binary(b) => {
            if !cbs.frames {
                state.begin_close(1003, "binary messages are not supported", CloseHow::Queue);
            } else {
                counters::add(Counter::MessagesReceived, 1);
                if callbacks::on_binary(cbs, id, b).is_err() {
                    state.begin_close(1011, "internal error", CloseHow::Queue);
                }
            }
        }
        Event::Ping(p) => state.send_pong(p),
        Event::Pong(p) => {
            let d = &state.deadlines;
            if p == d.ping_seq.load(Ordering::Acquire).to_be_bytes() {
                d.pong_due.store(0, Ordering::Relaxed);
            }
        }
        Event::Close(c) => {
            *peer_closed = true;
            let (code, reason) = c.unwrap_or((1005, ""));
            // Echo the code (RFC 6455 5.5.1); no code for a close without one.
            let echo = match c {
                Some((code, _)) => close_bytes(&close_frame(code, "")),
                None => close_frame_without_code(),
            };
            state.queue_close_echo(&echo);
            state.begin_close(code, reason, CloseHow::NoFrame);
            return false;
        }
    }
    true
}

/// Where a connection's task is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Reading, running callbacks, writing the queue.
    Open,
    /// An urgent close: finishing the frame a cut write left half-sent,
    /// then sending the close frame (both in `urgent`).
    Urgent,
    /// The urgent close frame is out (or could not be sent): reading until
    /// the peer's close or the close deadline.
    Closing,
}

/// What one pass of the task did.
enum Pass {
    Progress,
    Blocked,
    Done((u16, &'static str)),
}

/// One connection's task (see the module documentation): a future that
/// ends with the close code and reason to report if none was recorded.
struct Session<'c, R, W> {
    cfg: &'c ServerConfig,
    cbs: Callbacks,
    state: &'c ConnState,
    rd: R,
    wr: W,
    rs: ReadSide,
    batch: Batch,
    /// The batch ends the queue (a close frame is its last).
    batch_stops: bool,
    /// The queue's last frame (ours or the echo) has been written.
    out_done: bool,
    eof: bool,
    phase: Phase,
    /// What an urgent close still has to write, and how much it wrote.
    urgent: Vec<u8>,
    urgent_pos: usize,
    /// The task found its queue empty and waits to be woken by a send.
    idle: bool,
    /// How often it deferred since a send woke it (see [`WRITER_YIELD`]).
    yields: u32,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Session<'_, R, W> {
    fn write_timeout_ms(&self) -> u64 {
        self.cfg.write_timeout.as_millis() as u64
    }

    /// One pass: write what can be written, read what can be read.
    fn pass(&mut self, cx: &mut Context<'_>) -> Pass {
        let state = self.state;
        if state.is_dead() {
            return Pass::Done((1006, "connection lost"));
        }
        if state.deadlines.expired.load(Ordering::Acquire) {
            return Pass::Done((1006, "close timeout"));
        }
        if self.phase == Phase::Open && state.urgent_pending.swap(false, Ordering::AcqRel) {
            self.start_urgent();
        }
        let mut progress = match self.phase {
            Phase::Open => match self.write_pass(cx) {
                Ok(p) => p,
                Err(done) => return Pass::Done(done),
            },
            Phase::Urgent => match self.urgent_pass(cx) {
                Ok(p) => p,
                Err(done) => return Pass::Done(done),
            },
            Phase::Closing => false,
        };
        if self.out_done && (self.rs.peer_closed || self.rs.failed || self.eof) {
            return Pass::Done((1000, ""));
        }
        if self.eof {
            // The peer is gone; nothing more can be delivered.
            return Pass::Done((1006, "connection lost"));
        }
        if !self.rs.reader.is_done() {
            let (cfg, cbs) = (self.cfg, self.cbs);
            let rs = &mut self.rs;
            match poll_read_worker_buffer(&mut self.rd, cx, |b| rs.feed(cfg, cbs, state, b)) {
                Poll::Ready(Ok(true)) => {
                    progress = true;
                    // Frames our own callbacks queued go out now, without
                    // the deferral meant for other tasks' sends.
                    self.idle = false;
                    self.yields = 0;
                }
                Poll::Ready(_) => {
                    self.eof = true;
                    progress = true;
                }
                Poll::Pending => {}
            }
        }
        if progress {
            Pass::Progress
        } else {
            Pass::Blocked
        }
    }

    /// Takes what is queued and writes as much as the socket takes; answers
    /// whether anything happened, or the end of the connection.
    fn write_pass(&mut self, cx: &mut Context<'_>) -> Result<bool, (u16, &'static str)> {
        let state = self.state;
        let q = &state.out;
        if self.batch.is_empty() && !self.out_done {
            // Woken by another task's send: yield to the rest of the round
            // first, so more frames land in the queue.
            if self.idle && self.yields < *WRITER_YIELD {
                self.yields += 1;
                cx.waker().wake_by_ref();
                return Ok(false);
            }
            match q.take(&mut self.batch) {
                Some(stop) => {
                    self.idle = false;
                    self.yields = 0;
                    self.batch_stops = stop;
                    if self.batch.is_empty() {
                        self.out_done = stop;
                    }
                }
                None => self.idle = true,
            }
        }
        if self.batch.is_empty() {
            return Ok(false);
        }
        let mut slices: Slices<'_> = [IoSlice::new(&[]); MAX_SLICES];
        let n = self.batch.slices(&mut slices);
        // One slice (the common case: small frames copied into the queue's
        // buffer) goes out with `send`, which costs the kernel less than
        // `writev` (no iovec import, no vfs layer).
        let wr = Pin::new(&mut self.wr);
        let res = if n == 1 {
            wr.poll_write(cx, &slices[0])
        } else {
            wr.poll_write_vectored(cx, &slices[..n])
        };
        match res {
            Poll::Ready(Ok(n)) if n > 0 => {
                counters::add(Counter::SentBytes, n as u64);
                self.batch.consume(n);
                let due = if self.batch.is_empty() {
                    q.written(&mut self.batch);
                    self.out_done = self.batch_stops;
                    0
                } else {
                    now_ms() + self.write_timeout_ms()
                };
                state.deadlines.write_due.store(due, Ordering::Relaxed);
                Ok(true)
            }
            Poll::Ready(_) => {
                state.begin_close(1006, "connection lost", CloseHow::Dead);
                Err((1006, "connection lost"))
            }
            Poll::Pending => {
                // The socket takes nothing for now: it has until the write
                // timeout (the server's sweep enforces it).
                let d = &state.deadlines.write_due;
                if d.load(Ordering::Relaxed) == 0 {
                    d.store(now_ms() + self.write_timeout_ms(), Ordering::Relaxed);
                }
                Ok(false)
            }
        }
    }

    /// The queue was dropped (slow consumer): what must still go out is the
    /// rest of a frame the current batch's write cut, then the close frame.
    fn start_urgent(&mut self) {
        self.urgent = self.batch.rest_of_cut_frame().to_vec();
        self.state.out.written(&mut self.batch);
        if let Some(f) = self.state.urgent.lock().take() {
            self.urgent.extend_from_slice(&close_bytes(&f));
        }
        self.urgent_pos = 0;
        self.out_done = true;
        self.phase = Phase::Urgent;
        let due = now_ms() + URGENT_CLOSE_WRITE.as_millis() as u64;
        self.state.deadlines.write_due.store(due, Ordering::Relaxed);
    }

    fn urgent_pass(&mut self, cx: &mut Context<'_>) -> Result<bool, (u16, &'static str)> {
        if self.urgent_pos >= self.urgent.len() {
            self.phase = Phase::Closing;
            self.urgent = Vec::new();
            self.state.deadlines.write_due.store(0, Ordering::Relaxed);
            return Ok(true);
        }
        match Pin::new(&mut self.wr).poll_write(cx, &self.urgent[self.urgent_pos..]) {
            Poll::Ready(Ok(n)) if n > 0 => {
                counters::add(Counter::SentBytes, n as u64);
                self.urgent_pos += n;
                Ok(true)
            }
            Poll::Ready(_) => {
                self.state.kill();
                Err((1006, "connection lost"))
            }
            Poll::Pending => Ok(false),
        }
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Session<'_, R, W> {
    /// The connection ended: a batch still held goes back, and a clean end
    /// shuts the socket's write side down (FIN; TLS close_notify) if that
    /// completes at once (a peer that takes nothing more gets no wait).
    fn finish(&mut self, cx: &mut Context<'_>) {
        if !self.batch.is_empty() {
            self.state.out.written(&mut self.batch);
        }
        if !self.state.is_dead() {
            let _ = Pin::new(&mut self.wr).poll_shutdown(cx);
        }
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Future for Session<'_, R, W> {
    type Output = (u16, &'static str);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // First, so that a send or close after we looked is not missed.
        this.state.out.register(cx.waker());
        for _ in 0..PASSES_PER_POLL {
            match this.pass(cx) {
                Pass::Done(r) => {
                    this.finish(cx);
                    return Poll::Ready(r);
                }
                Pass::Blocked => return Poll::Pending,
                Pass::Progress => {}
            }
        }
        // Busy (a client that keeps sending): let the others run.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The connection's task from its first frame: a future that runs it until
/// it ends and answers the close code and reason to report if none was
/// recorded (the peer vanished, a timeout). `rest` holds bytes the client
/// sent right after its request head (read, and their callbacks run, now).
pub(crate) fn start<'c, R, W>(
    cfg: &'c ServerConfig,
    cbs: Callbacks,
    state: &'c ConnState,
    rd: R,
    wr: W,
    mut rest: Vec<u8>,
    deflate: bool,
) -> impl Future<Output = (u16, &'static str)> + 'c
where
    R: AsyncRead + Unpin + 'c,
    W: AsyncWrite + Unpin + 'c,
{
    let mut rs = ReadSide {
        reader: Reader::new(cfg.max_message, deflate),
        deflate,
        peer_closed: false,
        failed: false,
        budget: Bucket::new(cfg.max_messages_per_sec.unwrap_or(0), now_ms()),
    };
    if !rest.is_empty() {
        rs.feed(cfg, cbs, state, &mut rest);
    }
    Session {
        cfg,
        cbs,
        state,
        rd,
        wr,
        rs,
        batch: Batch::default(),
        batch_stops: false,
        out_done: false,
        eof: false,
        phase: Phase::Open,
        urgent: Vec::new(),
        urgent_pos: 0,
        idle: false,
        yields: 0,
    }
}

/// A connection `on_connect` rejected: its close frame, then the peer's
/// answer is awaited (read and parsed, so its close frame ends the wait at
/// once; nothing reaches Snow code) for at most the close timeout.
pub(crate) async fn reject<R, W>(cfg: &ServerConfig, mut rd: R, mut wr: W, frame: &CloseFrame)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let _ = timeout(cfg.close_timeout, async {
        if wr.write_all(&close_bytes(frame)).await.is_err() {
            return;
        }
        let mut reader = Reader::new(cfg.max_message, false);
        while !reader.is_done() {
            let r = std::future::poll_fn(|cx| {
                poll_read_worker_buffer(&mut rd, cx, |b| {
                    let _ = reader.feed(b, &mut NoInflate, &mut |e| !matches!(e, Event::Close(_)));
                })
            })
            .await;
            if !matches!(r, Ok(true)) {
                return;
            }
        }
        let _ = wr.shutdown().await;
    })
    .await;
}
