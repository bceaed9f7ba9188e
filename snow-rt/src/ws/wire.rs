//! The write side of a connection: server frames encoded by hand (server
//! frames are never masked, so a frame is a 2-10 byte header and the
//! payload), the outbound queue and the batched writer.
//!
//! tungstenite still reads (and validates) everything the client sends, but
//! it never owns the socket's write half: it gets [`WsIo`], the read half
//! plus a write side that splits whatever tungstenite writes (pongs, the
//! echo of a client's close frame) into frames and hands them to the
//! connection's queue, and the connection's writer task owns the write half.
//!
//! # The outbound queue ([`OutQueue`])
//! A byte buffer of small encoded frames plus, in queue order, references
//! to large shared frames: a broadcast encodes its frame **once**
//! ([`Encoded`]); a small frame is copied into each member's buffer (one
//! short mutex hold, no allocation, no refcount: what makes fan-out fast),
//! a frame of [`SHARE_THRESHOLD`] bytes or more is shared by reference
//! (one refcount increment per member), so a broadcast costs the server
//! about one copy of the frame whatever the room's size (ws.md "Resource
//! limits"). Everything queued counts against the connection's limit:
//! data, pings, pongs and close frames alike. Pongs are coalesced (RFC 6455
//! 5.5.3) once a few wait ([`MAX_PONGS`]): the last one is replaced by the
//! answer to the latest ping, so a ping flood cannot grow the queue. The bytes of every queue together are
//! counted in [`outbound_bytes`] (a shared frame once), which the server
//! holds under `SNOW_WS_MAX_QUEUE_TOTAL_BYTES`.
//!
//! The writer swaps the queue with its own empty one and writes everything
//! (the pending pongs, then the buffer with the shared frames in their
//! places) with vectored writes; it is woken (a `Notify`) only when it is
//! idle, and once woken it yields to the rest of the scheduling round first
//! ([`WRITER_YIELD`]), so one `write` carries every frame queued in that
//! round. A socket that accepts no byte for the write timeout while data
//! waits ends the connection.
//!
//! Close frames the server initiates are written by the writer itself, so
//! tungstenite does not know about them: when the client answers with its
//! close frame, tungstenite's echo goes to the queue after the writer has
//! stopped and never reaches the wire.

use super::conn::{CloseHow, ConnState};
use futures_util::FutureExt;
use parking_lot::Mutex;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Bytes;

pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Encoded frames of at least this many bytes are shared between queues by
/// reference instead of copied into each (below it a copy is cheaper than
/// a refcount and keeps the writer's batch in one buffer).
pub(crate) const SHARE_THRESHOLD: usize = 8 << 10;

/// Pongs a queue holds at most before it coalesces them (RFC 6455 5.5.3
/// allows answering only the latest of several pings). A client that pings
/// a little gets a pong for every ping (Autobahn 2.10 checks that); one
/// that floods pings without reading cannot grow the queue.
const MAX_PONGS: usize = 16;

/// Bytes of every outbound queue together: the inline buffers, plus each
/// shared frame once for as long as any queue (or broadcast) holds it.
static OUTBOUND: AtomicUsize = AtomicUsize::new(0);

/// The bytes all outbound queues hold together (see [`OUTBOUND`]).
pub(crate) fn outbound_bytes() -> usize {
    OUTBOUND.load(Ordering::Relaxed)
}

/// Adds inline bytes queued to [`OUTBOUND`]; callers that queue for many
/// connections sum first and call this once.
pub(crate) fn count_outbound(bytes: usize) {
    if bytes > 0 {
        OUTBOUND.fetch_add(bytes, Ordering::Relaxed);
    }
}

fn uncount_outbound(bytes: usize) {
    if bytes > 0 {
        OUTBOUND.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// The owner of a shared frame's bytes: counted in [`OUTBOUND`] from its
/// creation until the last queue lets go of it.
struct Counted(Vec<u8>);

impl AsRef<[u8]> for Counted {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        uncount_outbound(self.0.len());
    }
}

/// A server frame encoded once (per message, whatever the number of
/// recipients).
pub(crate) struct Encoded {
    bytes: Bytes,
}

impl Encoded {
    /// A complete, unfragmented, unmasked frame.
    pub(crate) fn new(opcode: u8, payload: &[u8]) -> Encoded {
        let v = encode(opcode, payload);
        let bytes = if v.len() >= SHARE_THRESHOLD {
            count_outbound(v.len());
            Bytes::from_owner(Counted(v))
        } else {
            Bytes::from(v)
        };
        Encoded { bytes }
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    fn is_shared(&self) -> bool {
        self.bytes.len() >= SHARE_THRESHOLD
    }
}

/// The outcome of a push onto an [`OutQueue`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Push {
    Queued,
    /// The queue would pass its limit (slow consumer): nothing was queued.
    Full,
    /// The connection stopped accepting frames.
    Closed,
}

#[derive(Default)]
struct Pending {
    /// Small encoded frames, in order.
    buf: Vec<u8>,
    /// Large frames shared with other queues: `(at, frame)` goes before
    /// `buf[at..]` (in order of `at`).
    shared: Vec<(usize, Bytes)>,
    /// Pongs waiting, written before `buf`: at most [`MAX_PONGS`], the last
    /// one replaced by the answer to the latest ping when full.
    pongs: Vec<Bytes>,
    /// Bytes waiting (buffer, shared frames, pongs): counted against the
    /// connection's limit.
    queued: usize,
    /// Bytes the writer took and has not finished writing.
    inflight: usize,
    /// The writer waits for a notification.
    idle: bool,
    /// A close frame or the end was queued: nothing more is accepted, and
    /// the writer stops once it wrote what it has.
    stop: bool,
}

/// A connection's outbound queue (see the module documentation). Its mutex
/// is a leaf lock.
pub(crate) struct OutQueue {
    pending: Mutex<Pending>,
    /// Where the next small frame will be copied (`buf`'s end), stored
    /// under the lock and read without it only as a prefetch hint (see
    /// [`OutQueue::prefetch_tail`]).
    tail: AtomicUsize,
    data: Notify,
}

/// Asks the CPU to fetch the cache line at `addr` for writing. Only a hint:
/// it never faults, whatever the address.
#[inline(always)]
pub(crate) fn prefetch_write(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetchw` has no architectural effect (no fault, no store).
    unsafe {
        std::arch::asm!("prefetchw [{0}]", in(reg) addr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

impl OutQueue {
    pub(crate) fn new() -> OutQueue {
        OutQueue {
            pending: Mutex::new(Pending::default()),
            tail: AtomicUsize::new(0),
            data: Notify::new(),
        }
    }

    /// Prefetches (for writing) the queue's lock word. A broadcast calls this
    /// a few members ahead, so that the cache misses of many members
    /// overlap instead of each stalling the copy (bench/analysis.md).
    #[inline(always)]
    pub(crate) fn prefetch_lock(&self) {
        prefetch_write(&self.pending as *const _ as usize);
        prefetch_write(&self.tail as *const _ as usize);
    }

    /// Prefetches (for writing) the two cache lines the next 64-byte frame
    /// would be copied to; call it after [`OutQueue::prefetch_lock`] had
    /// time to bring the hint in.
    #[inline(always)]
    pub(crate) fn prefetch_tail(&self) {
        let t = self.tail.load(Ordering::Relaxed);
        if t != 0 {
            prefetch_write(t);
            prefetch_write(t + 64);
        }
    }

    fn set_tail(&self, p: &Pending) {
        self.tail
            .store(p.buf.as_ptr() as usize + p.buf.len(), Ordering::Relaxed);
    }

    /// Runs `f` on the pending state and wakes an idle writer afterwards
    /// when `f` queued something.
    fn with_pending<R>(&self, f: impl FnOnce(&mut Pending) -> (R, bool)) -> R {
        let (r, wake) = {
            let mut p = self.pending.lock();
            let (r, queued) = f(&mut p);
            self.set_tail(&p);
            (r, queued && std::mem::take(&mut p.idle))
        };
        if wake {
            self.data.notify_one();
        }
        r
    }

    /// Appends a data frame unless that takes the queue (waiting plus being
    /// written) past `limit`. Adds the bytes copied into the buffer to
    /// `copied` (the caller counts them in [`count_outbound`]).
    pub(crate) fn push_data(&self, f: &Encoded, limit: usize, copied: &mut usize) -> Push {
        self.with_pending(|p| {
            if p.stop {
                return (Push::Closed, false);
            }
            let size = f.len();
            if (p.queued + p.inflight).saturating_add(size) > limit {
                return (Push::Full, false);
            }
            if f.is_shared() {
                let at = p.buf.len();
                p.shared.push((at, f.bytes.clone()));
            } else {
                p.buf.extend_from_slice(&f.bytes);
                *copied += size;
            }
            p.queued += size;
            (Push::Queued, true)
        })
    }

    /// Appends a control frame (a ping, or with `stop` a close frame after
    /// which nothing more is accepted). A ping counts against `limit` like
    /// data; a close frame is always taken (it ends the queue).
    pub(crate) fn push_control(&self, frame: &[u8], stop: bool, limit: usize) -> Push {
        self.with_pending(|p| {
            if p.stop {
                return (Push::Closed, false);
            }
            if !stop && (p.queued + p.inflight).saturating_add(frame.len()) > limit {
                return (Push::Full, false);
            }
            p.buf.extend_from_slice(frame);
            p.queued += frame.len();
            count_outbound(frame.len());
            p.stop = stop;
            (Push::Queued, true)
        })
    }

    /// Queues a pong; when [`MAX_PONGS`] are waiting already, the last of
    /// them is replaced (RFC 6455 5.5.3: only the latest ping needs an
    /// answer).
    pub(crate) fn push_pong(&self, frame: &[u8], limit: usize) -> Push {
        self.with_pending(|p| {
            if p.stop {
                return (Push::Closed, false);
            }
            let old = if p.pongs.len() >= MAX_PONGS {
                p.pongs.last().map_or(0, |b| b.len())
            } else {
                0
            };
            if (p.queued - old + p.inflight).saturating_add(frame.len()) > limit {
                return (Push::Full, false);
            }
            p.queued = p.queued - old + frame.len();
            let pong = Bytes::copy_from_slice(frame);
            if old > 0 {
                *p.pongs.last_mut().expect("full") = pong;
            } else {
                p.pongs.push(pong);
            }
            (Push::Queued, true)
        })
    }

    /// Tells the writer to stop once everything queued so far is written.
    pub(crate) fn stop(&self) {
        self.with_pending(|p| {
            let first = !p.stop;
            p.stop = true;
            ((), first)
        })
    }

    /// Drops everything queued and accepts nothing more (urgent close, or a
    /// socket that is gone).
    pub(crate) fn discard(&self) {
        let mut p = self.pending.lock();
        uncount_outbound(p.buf.len());
        p.buf = Vec::new();
        p.shared = Vec::new();
        p.pongs = Vec::new();
        p.queued = 0;
        p.stop = true;
        self.set_tail(&p);
    }

    /// The code of the close frame waiting at the end of the buffer, if the
    /// queue ends with one (what the fuzz target reports).
    pub(crate) fn queued_close_code(&self) -> Option<u16> {
        let p = self.pending.lock();
        let mut i = 0;
        let mut code = None;
        while let Some((h, n)) = frame_header(&p.buf[i..]) {
            let end = (i + h).saturating_add(n).min(p.buf.len());
            code = (p.buf[i] & 0x0f == OP_CLOSE && n >= 2 && i + h + 2 <= p.buf.len())
                .then(|| u16::from_be_bytes([p.buf[i + h], p.buf[i + h + 1]]));
            i = end;
        }
        code
    }

    /// Bytes waiting or being written.
    pub(crate) fn size(&self) -> usize {
        let p = self.pending.lock();
        p.queued + p.inflight
    }
}

/// The bytes of a complete, unfragmented, unmasked server frame.
fn encode(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut v = Vec::with_capacity(n + 10);
    v.push(0x80 | opcode);
    if n < 126 {
        v.push(n as u8);
    } else if n <= u16::MAX as usize {
        v.push(126);
        v.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        v.push(127);
        v.extend_from_slice(&(n as u64).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

/// A ping frame with `payload` (at most 125 bytes).
pub(crate) fn ping(payload: &[u8]) -> Vec<u8> {
    encode(OP_PING, payload)
}

/// The bytes of a close frame.
pub(crate) fn close_bytes(f: &CloseFrame) -> Vec<u8> {
    let mut p = Vec::with_capacity(2 + f.reason.len());
    p.extend_from_slice(&u16::from(f.code).to_be_bytes());
    p.extend_from_slice(f.reason.as_bytes());
    encode(OP_CLOSE, &p)
}

/// The (header length, payload length) of the frame at the start of `b`,
/// `None` when `b` does not hold a whole header.
fn frame_header(b: &[u8]) -> Option<(usize, usize)> {
    if b.len() < 2 {
        return None;
    }
    match b[1] & 0x7f {
        126 if b.len() >= 4 => Some((4, u16::from_be_bytes([b[2], b[3]]) as usize)),
        127 if b.len() >= 10 => {
            let mut n = [0u8; 8];
            n.copy_from_slice(&b[2..10]);
            Some((
                10,
                usize::try_from(u64::from_be_bytes(n)).unwrap_or(usize::MAX),
            ))
        }
        126 | 127 => None,
        n => Some((2, n as usize)),
    }
}

/// The stream tungstenite sees: the socket's read half, and a write side
/// that hands every frame tungstenite writes (after the handshake, which
/// the server does itself: pongs and the echo of a client's close) to the
/// connection's queue: pongs coalesced, a close frame ending the queue.
pub(crate) struct WsIo<S> {
    rd: ReadHalf<S>,
    conn: Arc<ConnState>,
}

impl<S> WsIo<S> {
    pub(crate) fn new(rd: ReadHalf<S>, conn: Arc<ConnState>) -> WsIo<S> {
        WsIo { rd, conn }
    }
}

impl<S: AsyncRead> AsyncRead for WsIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().rd).poll_read(cx, buf)
    }
}

impl<S> AsyncWrite for WsIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // tungstenite writes whole frames from its output buffer, and this
        // write always takes everything, so `buf` is a run of whole frames.
        let mut rest = buf;
        while let Some((h, n)) = frame_header(rest) {
            let Some(end) = h.checked_add(n).filter(|e| *e <= rest.len()) else {
                break;
            };
            let (frame, tail) = rest.split_at(end);
            self.conn
                .queue_control_from_protocol(frame[0] & 0x0f, frame);
            rest = tail;
        }
        // Anything else (never seen: tungstenite writes whole frames) is
        // dropped rather than risk a broken frame on the wire.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Whether `opcode` is a pong or a close (what [`WsIo`] routes specially).
pub(crate) fn is_pong(opcode: u8) -> bool {
    opcode == OP_PONG
}

pub(crate) fn is_close(opcode: u8) -> bool {
    opcode == OP_CLOSE
}

/// How long the writer tries to deliver the close frame of an urgent close
/// before it gives up on a peer that does not read.
const URGENT_CLOSE_WRITE: Duration = Duration::from_secs(1);

/// How many times a woken writer yields before it takes the queue (default
/// 1, `SNOW_WS_WRITER_YIELD` overrides it for benchmarking; 0 writes at
/// once). `yield_now` defers the writer until its worker ran every task
/// that is ready and polled the socket driver: the readers of that round
/// broadcast first, so each writer sends one round's frames with one
/// `send` (like uWS's cork buffer per event-loop iteration) instead of
/// waking up and sending after each broadcast. Fan-out at 32 clients: 30
/// -> 150 frames per `send`, +20 % deliveries/s (bench/analysis.md).
static WRITER_YIELD: LazyLock<u32> = LazyLock::new(|| {
    std::env::var("SNOW_WS_WRITER_YIELD")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
});

/// A writer keeps a buffer up to this capacity between writes.
const KEEP_BUFFER: usize = 256 << 10;

/// One write of as much of `pieces` (from byte `skip` of the whole) as the
/// socket takes; an error of kind `TimedOut` when it takes nothing for
/// `limit`. Answers the bytes written.
async fn write_some<W: AsyncWrite + Unpin>(
    wr: &mut W,
    pieces: &[&[u8]],
    mut skip: usize,
    limit: Duration,
) -> io::Result<usize> {
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(pieces.len());
    for p in pieces {
        if skip >= p.len() {
            skip -= p.len();
            continue;
        }
        slices.push(IoSlice::new(&p[skip..]));
        skip = 0;
    }
    // Most writes complete at once: arm the timer only when one waits.
    if let Some(r) = wr.write_vectored(&slices).now_or_never() {
        return r;
    }
    match tokio::time::timeout(limit, wr.write_vectored(&slices)).await {
        Ok(r) => r,
        Err(_) => Err(io::ErrorKind::TimedOut.into()),
    }
}

/// Writes all of `pieces`, counting in `written` how much reached the
/// socket, so a caller that stops waiting knows where the bytes were cut.
async fn write_all_pieces<W: AsyncWrite + Unpin>(
    wr: &mut W,
    pieces: &[&[u8]],
    written: &mut usize,
    limit: Duration,
) -> io::Result<()> {
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    while *written < total {
        let n = write_some(wr, pieces, *written, limit).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        *written += n;
    }
    Ok(())
}

/// The end of the frame that contains byte `pos` of `buf`, a run of whole
/// server frames (unmasked: 2, 4 or 10 header bytes, then the payload);
/// `pos` itself when it is at a frame boundary.
pub(crate) fn frame_end(buf: &[u8], pos: usize) -> usize {
    let mut i = 0;
    while i < pos && i + 2 <= buf.len() {
        let Some((header, len)) = frame_header(&buf[i..]) else {
            return buf.len();
        };
        i = i.saturating_add(header).saturating_add(len);
    }
    i.min(buf.len()).max(pos.min(buf.len()))
}

/// The rest of the frame cut at byte `written` of `pieces` (each piece a
/// run of whole frames): what must still be written so the peer sees a
/// frame boundary.
fn rest_of_cut_frame<'a>(pieces: &[&'a [u8]], mut written: usize) -> &'a [u8] {
    for p in pieces {
        if written < p.len() {
            return &p[written..frame_end(p, written)];
        }
        written -= p.len();
    }
    &[]
}

/// Runs `fut` unless an urgent close arrives first (`None`).
async fn guarded<F: std::future::Future>(state: &ConnState, fut: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        _ = state.abort.notified() => None,
        r = fut => Some(r),
    }
}

/// What the writer takes from the queue at once.
#[derive(Default)]
struct Batch {
    pongs: Vec<Bytes>,
    buf: Vec<u8>,
    shared: Vec<(usize, Bytes)>,
}

impl Batch {
    /// The batch in wire order: the pongs, then the buffer with the shared
    /// frames in their places.
    fn pieces(&self) -> Vec<&[u8]> {
        let mut v: Vec<&[u8]> = Vec::with_capacity(1 + self.pongs.len() + 2 * self.shared.len());
        for p in &self.pongs {
            v.push(p);
        }
        let mut from = 0;
        for (at, f) in &self.shared {
            if *at > from {
                v.push(&self.buf[from..*at]);
            }
            v.push(f);
            from = *at;
        }
        if from < self.buf.len() {
            v.push(&self.buf[from..]);
        }
        v
    }
}

/// The writer task of one connection: whenever the queue has bytes, takes
/// them all and writes them; ends after a close frame or the end of the
/// connection was written, on a socket error or write timeout
/// (`write_timeout` without a byte accepted), or on an urgent close (then
/// it tries to write that close frame for at most [`URGENT_CLOSE_WRITE`]).
pub(crate) async fn writer_task<W>(state: Arc<ConnState>, mut wr: W, write_timeout: Duration)
where
    W: AsyncWrite + Unpin,
{
    let q = &state.out;
    let mut batch = Batch::default();
    loop {
        let stop = {
            let mut p = q.pending.lock();
            if p.buf.is_empty() && p.shared.is_empty() && p.pongs.is_empty() && !p.stop {
                p.idle = true;
                None
            } else {
                std::mem::swap(&mut p.buf, &mut batch.buf);
                std::mem::swap(&mut p.shared, &mut batch.shared);
                std::mem::swap(&mut p.pongs, &mut batch.pongs);
                p.inflight = std::mem::take(&mut p.queued);
                q.set_tail(&p);
                Some(p.stop)
            }
        };
        let Some(stop) = stop else {
            tokio::select! {
                biased;
                _ = state.abort.notified() => break,
                _ = q.data.notified() => {}
            }
            for _ in 0..*WRITER_YIELD {
                tokio::task::yield_now().await;
            }
            continue;
        };
        let mut written = 0;
        let r = {
            let pieces = batch.pieces();
            let r = if pieces.is_empty() {
                Some(Ok(()))
            } else {
                guarded(
                    &state,
                    write_all_pieces(&mut wr, &pieces, &mut written, write_timeout),
                )
                .await
            };
            if r.is_none() && written > 0 {
                // An urgent close cut the write short: finish the frame in
                // progress so the close frame starts at a frame boundary, or
                // drop the socket without one (the peer sees 1006, not
                // garbage).
                let rest = rest_of_cut_frame(&pieces, written);
                if !matches!(
                    tokio::time::timeout(URGENT_CLOSE_WRITE, wr.write_all(rest)).await,
                    Ok(Ok(()))
                ) {
                    drop(pieces);
                    finish_batch(q, &mut batch);
                    return;
                }
            }
            r
        };
        finish_batch(q, &mut batch);
        match r {
            None => break,
            Some(Err(e)) => {
                if e.kind() == io::ErrorKind::TimedOut {
                    state.begin_close(1008, "write timeout", CloseHow::Dead);
                } else {
                    // The socket is gone.
                    state.begin_close(1006, "connection lost", CloseHow::Dead);
                }
                return;
            }
            Some(Ok(())) => {}
        }
        if stop {
            // An urgent close (slow consumer) empties the queue and sets
            // `stop`; the writer may see that before the abort signal (it
            // was not waiting for it): its close frame is still due.
            if state.urgent.lock().is_some() {
                break;
            }
            return;
        }
    }
    // Urgent close: the queue was dropped; try to get the close frame out.
    let frame = state.urgent.lock().take();
    if let Some(frame) = frame {
        let _ = tokio::time::timeout(URGENT_CLOSE_WRITE, wr.write_all(&close_bytes(&frame))).await;
    }
}

/// The writer is done with `batch`: its bytes leave the queue's in-flight
/// count and [`OUTBOUND`], and the batch is emptied for reuse.
fn finish_batch(q: &OutQueue, batch: &mut Batch) {
    q.pending.lock().inflight = 0;
    uncount_outbound(batch.buf.len());
    batch.pongs.clear();
    batch.shared.clear();
    batch.buf.clear();
    if batch.buf.capacity() > KEEP_BUFFER {
        batch.buf = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn frame_end_finds_the_boundary_after_a_cut() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&encode(OP_TEXT, b"hello")); // 0..7
        buf.extend_from_slice(&encode(OP_BINARY, &[1u8; 300])); // 7..311 (4-byte header)
        buf.extend_from_slice(&encode(OP_TEXT, &vec![b'x'; 70_000])); // 311..70_321 (10-byte header)
        assert_eq!(frame_end(&buf, 0), 0);
        assert_eq!(frame_end(&buf, 3), 7);
        assert_eq!(frame_end(&buf, 7), 7);
        assert_eq!(frame_end(&buf, 8), 311);
        assert_eq!(frame_end(&buf, 312), 70_321);
        assert_eq!(frame_end(&buf, buf.len()), buf.len());
    }

    #[test]
    fn the_queue_counts_data_and_control_frames_against_its_limit() {
        let q = OutQueue::new();
        let mut copied = 0;
        let a = Encoded::new(OP_TEXT, b"a"); // 3 bytes
        assert_eq!(q.push_data(&a, 10, &mut copied), Push::Queued);
        assert_eq!(q.push_control(&ping(b""), false, 10), Push::Queued); // 2 bytes
        let b = Encoded::new(OP_TEXT, b"bcd"); // 5 bytes
        assert_eq!(q.push_data(&b, 10, &mut copied), Push::Queued);
        assert_eq!(q.size(), 10);
        assert_eq!(copied, 8, "the ping is counted by push_control itself");
        assert_eq!(q.push_data(&a, 10, &mut copied), Push::Full, "13 > 10");
        assert_eq!(
            q.push_control(&ping(b""), false, 10),
            Push::Full,
            "a ping counts too"
        );
        {
            let p = q.pending.lock();
            assert_eq!(&p.buf[..5], &[0x81, 1, b'a', 0x89, 0]);
        }
        // A close frame is always taken and ends the queue.
        assert_eq!(q.push_control(&[0x88, 0], true, 10), Push::Queued);
        assert_eq!(q.push_data(&a, 100, &mut copied), Push::Closed);
        assert_eq!(q.push_control(&ping(b""), false, 100), Push::Closed);
        assert_eq!(q.queued_close_code(), None, "a close frame without a code");
        let p = q.pending.lock();
        assert!(p.stop);
        assert_eq!(&p.buf[p.buf.len() - 2..], &[0x88, 0]);
        drop(p);
        q.discard();
    }

    #[test]
    fn pongs_are_coalesced_so_a_ping_flood_cannot_grow_the_queue() {
        let q = OutQueue::new();
        for i in 0..10_000u32 {
            let pong = encode(OP_PONG, &i.to_be_bytes());
            assert_eq!(q.push_pong(&pong, 1024), Push::Queued);
        }
        assert_eq!(q.size(), MAX_PONGS * 6, "16 pongs of 4 payload bytes wait");
        let p = q.pending.lock();
        for (i, pong) in p.pongs[..MAX_PONGS - 1].iter().enumerate() {
            assert_eq!(
                &pong[2..],
                &(i as u32).to_be_bytes(),
                "the first ones in order"
            );
        }
        assert_eq!(
            &p.pongs[MAX_PONGS - 1][2..],
            &9_999u32.to_be_bytes(),
            "then the latest"
        );
        assert!(p.buf.is_empty());
    }

    /// What a writer puts on the wire for a queue, read by a peer.
    fn written(state: Arc<ConnState>) -> Vec<u8> {
        rt().block_on(async {
            let (ours, mut peer) = tokio::io::duplex(1 << 20);
            state.stop_writer();
            writer_task(state, ours, Duration::from_secs(5)).await;
            let mut got = Vec::new();
            peer.read_to_end(&mut got).await.unwrap();
            got
        })
    }

    #[test]
    fn shared_frames_go_out_in_queue_order_and_are_held_once() {
        let big = Encoded::new(OP_BINARY, &vec![7u8; 3 * SHARE_THRESHOLD]);
        assert!(big.is_shared());
        let small = Encoded::new(OP_TEXT, b"hi");
        let pong = encode(OP_PONG, b"p");
        let states: Vec<Arc<ConnState>> = (0..20)
            .map(|i| Arc::new(ConnState::new(u64::MAX - 100 - i, 1 << 20)))
            .collect();
        for s in &states {
            assert!(s.send(&small));
            assert!(s.send(&big));
            assert!(s.send(&small));
            s.queue_control_from_protocol(OP_PONG, &pong);
        }
        // The 20 queues hold one copy of the big frame (and count it each).
        for s in &states {
            let p = s.out.pending.lock();
            assert_eq!(p.shared.len(), 1);
            assert_eq!(p.shared[0].1.as_ptr(), big.bytes.as_ptr());
            assert_eq!(p.buf.len(), 2 * small.len());
            assert_eq!(p.queued, big.len() + 2 * small.len() + pong.len());
        }
        drop(big);
        let mut want = pong.clone();
        want.extend_from_slice(&small.bytes);
        want.extend_from_slice(&encode(OP_BINARY, &vec![7u8; 3 * SHARE_THRESHOLD]));
        want.extend_from_slice(&small.bytes);
        for s in states {
            assert_eq!(written(s), want, "pong first, then the frames in order");
        }
    }

    /// A slow-consumer close that happens while the writer is not waiting
    /// (here: before it even started, as when it sits in its yield) still
    /// gets its 1008 close frame out, and nothing that was queued before.
    #[test]
    fn the_writer_sends_an_urgent_close_it_sees_only_in_the_queue() {
        let state = Arc::new(ConnState::new(u64::MAX - 7, 1 << 20));
        assert!(state.send(&Encoded::new(OP_TEXT, b"dropped")));
        state.close_slow_consumer();
        let want = close_bytes(&CloseFrame {
            code: CloseCode::from(1008),
            reason: "outbound queue limit exceeded".into(),
        });
        assert_eq!(written(state), want);
    }

    /// A socket that accepts nothing while data waits ends the connection
    /// after the write timeout (1008), instead of holding the queue for ever.
    #[test]
    fn a_socket_that_accepts_nothing_hits_the_write_timeout() {
        rt().block_on(async {
            let state = Arc::new(ConnState::new(u64::MAX - 9, 1 << 20));
            assert!(state.send(&Encoded::new(OP_BINARY, &[1u8; 4096])));
            // The peer never reads; the pipe holds 1 KiB.
            let (ours, _peer) = tokio::io::duplex(1024);
            let t = std::time::Instant::now();
            tokio::time::timeout(
                Duration::from_secs(5),
                writer_task(state.clone(), ours, Duration::from_millis(200)),
            )
            .await
            .expect("the writer gives up");
            assert!(t.elapsed() >= Duration::from_millis(200));
            assert_eq!(
                state.close_info(),
                Some((1008, "write timeout".to_string()))
            );
            assert!(state.is_dead());
        });
    }

    #[test]
    fn frames_have_the_rfc6455_header_for_each_length_class() {
        assert_eq!(encode(OP_TEXT, b"hi"), &[0x81, 2, b'h', b'i']);
        let f = encode(OP_BINARY, &[b'a'; 300]);
        assert_eq!(&f[..4], &[0x82, 126, 0x01, 0x2c]);
        assert_eq!(f.len(), 304);
        let f = encode(OP_TEXT, &vec![0u8; 70_000]);
        assert_eq!(f[1], 127);
        assert_eq!(u64::from_be_bytes(f[2..10].try_into().unwrap()), 70_000);
        let c = close_bytes(&CloseFrame {
            code: CloseCode::from(1008),
            reason: "slow".into(),
        });
        assert_eq!(c, &[0x88, 6, 0x03, 0xf0, b's', b'l', b'o', b'w']);
    }
}
