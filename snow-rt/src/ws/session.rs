//! One upgraded connection, from its first frame to its end, in **one
//! task**: it reads the client's bytes, runs the connection's callbacks,
//! writes the connection's queue, sends heartbeat pings and enforces the
//! pong, close and write timeouts.
//!
//! # Reading
//! The task waits until the socket is readable and reads into its worker
//! thread's shared read buffer ([`READ_BUF`]), and the frame reader
//! (`reader.rs`) turns those bytes into messages synchronously, within that
//! same poll: an idle connection owns no read buffer, and a message that
//! arrived whole is handed to its callback straight from the shared buffer.
//! Callbacks run here, so a connection's callbacks run one at a time in
//! arrival order, while different connections run in parallel on the
//! workers.
//!
//! # Writing
//! Everything sent to the connection goes through its queue (`wire.rs`).
//! After each read (and each notification from another connection's send)
//! the task takes what is queued and writes it, usually at once: an echo
//! (a callback sending to its own connection) is written by the same task
//! in the same scheduling round, without waking anyone. Only a socket that
//! does not take everything leaves a write pending, and the task keeps
//! reading while it waits for the socket to drain. A notification from
//! another task yields once first ([`WRITER_YIELD`]), so one `write` carries
//! every frame queued in that scheduling round.
//!
//! # Closing
//! The peer's close frame is echoed and ends the connection once the echo
//! is written. A close the server starts (`Ws.close`, heartbeat, shutdown,
//! 1003) is written after what was queued, then the task keeps reading until
//! the peer's close, the end of the socket or `SNOW_WS_CLOSE_TIMEOUT_MS`. A
//! protocol violation (1002, 1007, 1009) queues its close frame and ends the
//! connection once it is written. An urgent close (slow consumer) abandons
//! the queue, finishes the frame a cut write left half-sent, and sends its
//! close frame. A socket error or a write timeout ends it at once.

use super::config::ServerConfig;
use super::conn::{CloseHow, ConnState};
use super::deflate;
use super::reader::{Event, Inflate, NoInflate, Reader};
use super::server::Callbacks;
use super::wire::{self, close_bytes, Batch};
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::{sleep_until, timeout, Instant};

/// Size of each worker's shared read buffer.
const READ_BUF_SIZE: usize = 64 << 10;

thread_local! {
    /// The worker's read buffer: borrowed for one synchronous read and the
    /// processing of its bytes, never across an `.await`.
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; READ_BUF_SIZE].into_boxed_slice());
}

/// How many times a task woken by another connection's send yields before
/// it takes its queue (default 1, `SNOW_WS_WRITER_YIELD` overrides it for
/// benchmarking; 0 writes at once). `yield_now` defers the task until its
/// worker ran every task that is ready and polled the socket driver: the
/// readers of that round broadcast first, so each connection sends one
/// round's frames with one `send` (like uWS's cork buffer per event-loop
/// iteration) instead of one `send` per broadcast (bench/analysis.md).
static WRITER_YIELD: LazyLock<u32> = LazyLock::new(|| {
    std::env::var("SNOW_WS_WRITER_YIELD")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
});

/// How long an urgent close tries to finish a cut frame and to deliver its
/// close frame to a peer that does not read.
const URGENT_CLOSE_WRITE: Duration = Duration::from_secs(1);

/// Waits until `rd` has bytes, reads them into the worker's buffer and
/// hands them to `feed` (synchronously, inside this poll). `Ok(false)` at
/// the end of the stream.
fn read_into_worker_buffer<'a, R, F>(
    rd: &'a mut R,
    mut feed: F,
) -> impl Future<Output = io::Result<bool>> + 'a
where
    R: AsyncRead + Unpin,
    F: FnMut(&mut [u8]) + 'a,
{
    std::future::poll_fn(move |cx| {
        READ_BUF.with(|cell| {
            let mut buf = cell.borrow_mut();
            let mut rb = ReadBuf::new(&mut buf[..]);
            match Pin::new(&mut *rd).poll_read(cx, &mut rb) {
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
    })
}

/// The reading side's state: the frame reader and what the events told.
struct ReadSide {
    reader: Reader,
    /// permessage-deflate was negotiated (compressed messages are inflated
    /// with the worker's shared inflater).
    deflate: bool,
    /// Heartbeat: each ping carries a new number; only the pong that
    /// echoes the latest one proves the client reads.
    ping_seq: u64,
    pong_deadline: Option<Instant>,
    /// The peer's close frame arrived (and its echo is queued).
    peer_closed: bool,
    /// The reader failed the connection (its close frame is queued).
    failed: bool,
}

impl ReadSide {
    /// Reads `bytes` and acts on every event in them.
    fn feed(&mut self, cbs: Callbacks, state: &ConnState, bytes: &mut [u8]) {
        let ReadSide {
            reader,
            deflate,
            ping_seq,
            pong_deadline,
            peer_closed,
            ..
        } = self;
        let mut sink =
            |e: Event<'_>| on_event(cbs, state, e, *ping_seq, pong_deadline, peer_closed);
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
    ping_seq: u64,
    pong_deadline: &mut Option<Instant>,
    peer_closed: &mut bool,
) -> bool {
    let id = state.id as i64;
    match e {
        // Messages that arrive once the connection is closing are dropped.
        Event::Text(_) | Event::Binary(_) if state.is_closed() => {}
        Event::Text(t) => {
            let r = crate::region::run_callback(|| {
                let s = crate::value::new_str(t);
                let arg = if cbs.frames {
                    crate::value::new_ctor(crate::value::TAG_TEXT, &[s])
                } else {
                    s
                };
                // SAFETY: a Snow closure of two parameters.
                unsafe { crate::closure::call2(cbs.on_message, id, arg) }
            });
            if r.is_err() {
                state.begin_close(1011, "internal error", CloseHow::Queue);
            }
        }
        Event::Binary(b) => {
            if !cbs.frames {
                state.begin_close(1003, "binary messages are not supported", CloseHow::Queue);
            } else {
                let r = crate::region::run_callback(|| {
                    let bytes = crate::value::new_bytes(b);
                    let arg = crate::value::new_ctor(crate::value::TAG_BINARY, &[bytes]);
                    // SAFETY: a Snow closure of two parameters.
                    unsafe { crate::closure::call2(cbs.on_message, id, arg) }
                });
                if r.is_err() {
                    state.begin_close(1011, "internal error", CloseHow::Queue);
                }
            }
        }
        Event::Ping(p) => state.send_pong(p),
        Event::Pong(p) => {
            if p == ping_seq.to_be_bytes() {
                *pong_deadline = None;
            }
        }
        Event::Close(c) => {
            *peer_closed = true;
            let (code, reason) = c.unwrap_or((1005, ""));
            // Echo the code (RFC 6455 5.5.1); no code for a close without one.
            let echo = match c {
                Some((code, _)) => close_bytes(&super::conn::close_frame(code, "")),
                None => wire::close_frame_without_code(),
            };
            state.queue_close_echo(&echo);
            state.begin_close(code, reason, CloseHow::NoFrame);
            return false;
        }
    }
    true
}

/// Runs the connection until it ends; answers the close code and reason to
/// report if none was recorded (the peer vanished, a timeout). `rest` holds
/// bytes the client sent right after its request head.
pub(crate) async fn run<R, W>(
    cfg: &ServerConfig,
    cbs: Callbacks,
    state: &Arc<ConnState>,
    mut rd: R,
    mut wr: W,
    mut rest: Vec<u8>,
    deflate: bool,
) -> (u16, String)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let q = &state.out;
    let mut rs = ReadSide {
        reader: Reader::new(cfg.max_message, deflate),
        deflate,
        ping_seq: 0,
        pong_deadline: None,
        peer_closed: false,
        failed: false,
    };
    if !rest.is_empty() {
        rs.feed(cbs, state, &mut rest);
        rest = Vec::new();
    }
    drop(rest);
    let mut batch = Batch::default();
    // Bytes of `batch` written so far; whether it ends the queue.
    let mut written = 0;
    let mut batch_stops = false;
    // The queue's last frame (ours or the echo) has been written.
    let mut out_done = false;
    let mut eof = false;
    let mut last_progress = Instant::now();
    let mut next_ping = Instant::now() + cfg.ping_interval;
    let mut close_deadline: Option<Instant> = None;
    let result = loop {
        if state.is_dead() {
            break (1006, "connection lost");
        }
        if batch.is_empty() && !out_done {
            match q.take(&mut batch) {
                Some(stop) => {
                    written = 0;
                    batch_stops = stop;
                    last_progress = Instant::now();
                    if batch.is_empty() {
                        // The queue ended with nothing left to write.
                        out_done = stop;
                    }
                }
                None => {}
            }
        }
        if out_done && (rs.peer_closed || rs.failed || eof) {
            break (1000, "");
        }
        if eof {
            // The peer is gone; nothing more can be delivered.
            break (1006, "connection lost");
        }
        if close_deadline.is_none() && state.is_closed() {
            close_deadline = Some(Instant::now() + cfg.close_timeout);
        }
        let mut wake = match close_deadline {
            Some(d) => d,
            None => rs.pong_deadline.map_or(next_ping, |p| p.min(next_ping)),
        };
        if !batch.is_empty() {
            wake = wake.min(last_progress + cfg.write_timeout);
        }
        let reading = !rs.reader.is_done();
        tokio::select! {
            biased;
            _ = state.abort.notified() => {
                if state.is_dead() {
                    break (1006, "connection lost");
                }
                urgent_close(state, &mut wr, &batch, written).await;
                q.written(&mut batch);
                out_done = true;
                // Go on reading until the peer's close or the close timeout.
            }
            r = wire::write_some(&mut wr, &batch), if !batch.is_empty() => match r {
                Ok(n) if n > 0 => {
                    last_progress = Instant::now();
                    written += n;
                    batch.consume(n);
                    if batch.is_empty() {
                        q.written(&mut batch);
                        out_done = batch_stops;
                    }
                }
                _ => {
                    state.begin_close(1006, "connection lost", CloseHow::Dead);
                    break (1006, "connection lost");
                }
            },
            r = read_into_worker_buffer(&mut rd, |b| rs.feed(cbs, state, b)), if reading => match r {
                Ok(true) => {}
                Ok(false) | Err(_) => eof = true,
            },
            _ = q.notified(), if batch.is_empty() && !out_done => {
                for _ in 0..*WRITER_YIELD {
                    tokio::task::yield_now().await;
                }
            }
            _ = sleep_until(wake) => {
                let now = Instant::now();
                if close_deadline.is_some_and(|d| now >= d) {
                    break (1006, "close timeout");
                }
                if !batch.is_empty() && now >= last_progress + cfg.write_timeout {
                    state.begin_close(1008, "write timeout", CloseHow::Dead);
                    break (1008, "write timeout");
                }
                if close_deadline.is_none() {
                    if rs.pong_deadline.is_some_and(|d| now >= d) {
                        rs.pong_deadline = None;
                        state.begin_close(1001, "heartbeat timeout", CloseHow::Queue);
                    } else if now >= next_ping {
                        rs.ping_seq += 1;
                        state.send_ping(&rs.ping_seq.to_be_bytes());
                        if rs.pong_deadline.is_none() {
                            rs.pong_deadline = Some(now + cfg.pong_timeout);
                        }
                        next_ping = now + cfg.ping_interval;
                    }
                }
            }
        }
    };
    if !batch.is_empty() {
        q.written(&mut batch);
    }
    if !state.is_dead() {
        // A clean end: FIN (and TLS close_notify) after the last frame.
        let _ = timeout(Duration::from_millis(200), wr.shutdown()).await;
    }
    (result.0, result.1.to_string())
}

/// An urgent close (slow consumer): the queue was dropped; finish the frame
/// a cut write left half-sent (or give up on the socket), then send the
/// close frame, each within [`URGENT_CLOSE_WRITE`].
async fn urgent_close<W: AsyncWrite + Unpin>(
    state: &ConnState,
    wr: &mut W,
    batch: &Batch,
    written: usize,
) {
    if written > 0 && !batch.is_empty() {
        let rest = batch.rest_of_cut_frame();
        if !matches!(
            timeout(URGENT_CLOSE_WRITE, wr.write_all(rest)).await,
            Ok(Ok(()))
        ) {
            return;
        }
    }
    let frame = state.urgent.lock().take();
    if let Some(frame) = frame {
        let _ = timeout(URGENT_CLOSE_WRITE, wr.write_all(&close_bytes(&frame))).await;
    }
}

/// A connection `on_connect` rejected: its close frame, then the peer's
/// answer is awaited (read and parsed, so its close frame ends the wait at
/// once; nothing reaches Snow code) for at most the close timeout.
pub(crate) async fn reject<R, W>(
    cfg: &ServerConfig,
    mut rd: R,
    mut wr: W,
    frame: &super::wire::CloseFrame,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let _ = timeout(cfg.close_timeout, async {
        if wr.write_all(&close_bytes(frame)).await.is_err() {
            return;
        }
        let mut reader = Reader::new(cfg.max_message, false);
        while !reader.is_done() {
            let r = read_into_worker_buffer(&mut rd, |b| {
                let _ = reader.feed(b, &mut NoInflate, &mut |e| !matches!(e, Event::Close(_)));
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
