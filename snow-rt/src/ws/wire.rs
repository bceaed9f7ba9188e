//! The write side of a connection: server frames encoded by hand (server
//! frames are never masked, so a frame is a 2-10 byte header and the
//! payload) and the raw batched writer.
//!
//! tungstenite still reads (and validates) everything the client sends, but
//! it no longer owns the socket's write half: the socket is split in two,
//! tungstenite gets [`WsIo`] (the read half, plus a write side that, once
//! the handshake is done, appends whatever tungstenite writes — pongs and
//! the echo of a client's close frame — to the connection's queue), and the
//! connection's writer task owns the write half.
//!
//! The outbound queue ([`OutQueue`]) is a byte buffer: a broadcast encodes
//! its frame **once** and copies it into each member's buffer (one short
//! mutex hold, no allocation, no refcount); the writer swaps the buffer
//! with its own empty one and writes everything with one `write` call, and
//! is woken (a `Notify`) only when it is idle; once woken it yields to the
//! rest of the scheduling round first ([`WRITER_YIELD`]), so one `write`
//! carries every frame queued in that round. Frames stay in queue order
//! because everything (data, pings, pongs, close) is appended to the same
//! buffer.
//!
//! Close frames the server initiates are written by the writer itself, so
//! tungstenite does not know about them: when the client answers with its
//! close frame, tungstenite's echo goes to the queue after the writer has
//! stopped and never reaches the wire.

use super::conn::{CloseHow, ConnState};
use parking_lot::Mutex;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Bytes;

pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
/// A ping frame without payload (heartbeat).
pub(crate) const PING: [u8; 2] = [0x80 | OP_PING, 0];

/// The outcome of [`OutQueue::push_data`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Push {
    Queued,
    /// The queue would pass its limit (slow consumer): nothing was queued.
    Full,
    /// The connection stopped accepting frames.
    Closed,
}

struct Pending {
    buf: Vec<u8>,
    /// Data bytes in `buf` (counted against the queue limit).
    queued: usize,
    /// Data bytes the writer took and has not finished writing.
    inflight: usize,
    /// The writer waits for a notification.
    idle: bool,
    /// A close frame or the end was queued: nothing more is accepted, and
    /// the writer stops once it wrote `buf`.
    stop: bool,
}

/// A connection's outbound queue (see the module documentation). Its mutex
/// is a leaf lock.
pub(crate) struct OutQueue {
    pending: Mutex<Pending>,
    /// Where the next frame will be copied (`buf`'s end), stored under the
    /// lock and read without it only as a prefetch hint (see
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
            pending: Mutex::new(Pending {
                buf: Vec::new(),
                queued: 0,
                inflight: 0,
                idle: false,
                stop: false,
            }),
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

    /// Appends an encoded data frame of `size` payload bytes unless that
    /// takes the queued bytes (queued + being written) past `limit`.
    pub(crate) fn push_data(&self, frame: &[u8], size: usize, limit: usize) -> Push {
        let wake = {
            let mut p = self.pending.lock();
            if p.stop {
                return Push::Closed;
            }
            if (p.queued + p.inflight).saturating_add(size) > limit {
                return Push::Full;
            }
            p.buf.extend_from_slice(frame);
            p.queued += size;
            self.set_tail(&p);
            std::mem::take(&mut p.idle)
        };
        if wake {
            self.data.notify_one();
        }
        Push::Queued
    }

    /// Appends control bytes (not counted against the limit); with `stop`
    /// the writer ends after them and nothing more is accepted.
    pub(crate) fn push_control(&self, bytes: &[u8], stop: bool) {
        let wake = {
            let mut p = self.pending.lock();
            if p.stop {
                return;
            }
            p.buf.extend_from_slice(bytes);
            p.stop = stop;
            self.set_tail(&p);
            std::mem::take(&mut p.idle)
        };
        if wake {
            self.data.notify_one();
        }
    }

    /// Drops everything queued and accepts nothing more (urgent close).
    pub(crate) fn discard(&self) {
        let mut p = self.pending.lock();
        p.buf = Vec::new();
        p.queued = 0;
        p.stop = true;
        self.set_tail(&p);
    }
}

/// A complete, unfragmented, unmasked server frame.
pub(crate) fn frame(opcode: u8, payload: &[u8]) -> Bytes {
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
    Bytes::from(v)
}

/// The bytes of a close frame.
pub(crate) fn close_bytes(f: &CloseFrame) -> Bytes {
    let mut p = Vec::with_capacity(2 + f.reason.len());
    p.extend_from_slice(&u16::from(f.code).to_be_bytes());
    p.extend_from_slice(f.reason.as_bytes());
    frame(OP_CLOSE, &p)
}

/// Where the write side of a [`WsIo`] goes.
enum Mode<S> {
    /// During the handshake: straight to the socket.
    Direct(WriteHalf<S>),
    /// After it: to the connection's queue, written by its writer task.
    Queue(Arc<ConnState>),
}

/// Shared between a [`WsIo`] and the server, which detaches the write half
/// once the handshake is done.
pub(crate) struct Link<S>(Mutex<Option<Mode<S>>>);

impl<S> Link<S> {
    /// Takes the socket's write half; from now on what tungstenite writes is
    /// appended to `conn`'s queue.
    pub(crate) fn detach(&self, conn: Arc<ConnState>) -> Option<WriteHalf<S>> {
        match self.0.lock().replace(Mode::Queue(conn)) {
            Some(Mode::Direct(w)) => Some(w),
            _ => None,
        }
    }
}

/// The stream tungstenite sees: the socket's read half, and a write side
/// that goes to the socket or (after [`Link::detach`]) to the queue.
pub(crate) struct WsIo<S> {
    rd: ReadHalf<S>,
    link: Arc<Link<S>>,
}

impl<S: AsyncRead + AsyncWrite> WsIo<S> {
    pub(crate) fn new(io: S) -> (WsIo<S>, Arc<Link<S>>) {
        let (rd, wr) = tokio::io::split(io);
        let link = Arc::new(Link(Mutex::new(Some(Mode::Direct(wr)))));
        (
            WsIo {
                rd,
                link: link.clone(),
            },
            link,
        )
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

impl<S: AsyncWrite> AsyncWrite for WsIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut *self.link.0.lock() {
            Some(Mode::Direct(w)) => Pin::new(w).poll_write(cx, buf),
            Some(Mode::Queue(conn)) => {
                // After our own close frame the queue accepts nothing:
                // what tungstenite writes then is dropped.
                conn.out.push_control(buf, false);
                Poll::Ready(Ok(buf.len()))
            }
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut *self.link.0.lock() {
            Some(Mode::Direct(w)) => Pin::new(w).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut *self.link.0.lock() {
            Some(Mode::Direct(w)) => Pin::new(w).poll_shutdown(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
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

/// `write_all` that counts in `written` how much reached the socket, so a
/// caller that stops waiting knows where the bytes were cut.
async fn write_counting<W: AsyncWrite + Unpin>(
    wr: &mut W,
    buf: &[u8],
    written: &mut usize,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt as _;
    while *written < buf.len() {
        let n = wr.write(&buf[*written..]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
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
        let (header, len) = match buf[i + 1] & 0x7f {
            126 if i + 4 <= buf.len() => (4, u16::from_be_bytes([buf[i + 2], buf[i + 3]]) as usize),
            127 if i + 10 <= buf.len() => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[i + 2..i + 10]);
                (10, u64::from_be_bytes(b) as usize)
            }
            126 | 127 => return buf.len(),
            n => (2, n as usize),
        };
        i = i.saturating_add(header).saturating_add(len);
    }
    i.min(buf.len()).max(pos.min(buf.len()))
}

/// Runs `fut` unless an urgent close arrives first (`None`).
async fn guarded<F: std::future::Future>(state: &ConnState, fut: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        _ = state.abort.notified() => None,
        r = fut => Some(r),
    }
}

/// The writer task of one connection: whenever the queue has bytes, takes
/// them all (swapping buffers) and writes them with one `write_all`; ends
/// after a close frame or the end of the connection was written, on a
/// socket error, or on an urgent close (then it tries to write that close
/// frame for at most [`URGENT_CLOSE_WRITE`]).
pub(crate) async fn writer_task<W>(state: Arc<ConnState>, mut wr: W)
where
    W: AsyncWrite + Unpin,
{
    let q = &state.out;
    let mut mine: Vec<u8> = Vec::new();
    loop {
        let stop = {
            let mut p = q.pending.lock();
            if p.buf.is_empty() && !p.stop {
                p.idle = true;
                None
            } else {
                std::mem::swap(&mut p.buf, &mut mine);
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
        let r = if mine.is_empty() {
            Some(Ok(()))
        } else {
            guarded(&state, write_counting(&mut wr, &mine, &mut written)).await
        };
        if r.is_none() && written > 0 {
            // An urgent close cut the write short: finish the frame in
            // progress so the close frame starts at a frame boundary, or
            // drop the socket without one (the peer sees 1006, not garbage).
            let end = frame_end(&mine, written);
            let rest = &mine[written.min(end)..end];
            if !matches!(
                tokio::time::timeout(URGENT_CLOSE_WRITE, wr.write_all(rest)).await,
                Ok(Ok(()))
            ) {
                return;
            }
        }
        q.pending.lock().inflight = 0;
        mine.clear();
        if mine.capacity() > KEEP_BUFFER {
            mine = Vec::new();
        }
        match r {
            None => break,
            Some(Err(_)) => {
                // The socket is gone.
                state.begin_close(1006, "connection lost", CloseHow::NoFrame);
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    #[test]
    fn frame_end_finds_the_boundary_after_a_cut() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&frame(OP_TEXT, b"hello")); // 0..7
        buf.extend_from_slice(&frame(OP_BINARY, &[1u8; 300])); // 7..311 (4-byte header)
        buf.extend_from_slice(&frame(OP_TEXT, &vec![b'x'; 70_000])); // 311..70_321 (10-byte header)
        assert_eq!(frame_end(&buf, 0), 0);
        assert_eq!(frame_end(&buf, 3), 7);
        assert_eq!(frame_end(&buf, 7), 7);
        assert_eq!(frame_end(&buf, 8), 311);
        assert_eq!(frame_end(&buf, 312), 70_321);
        assert_eq!(frame_end(&buf, buf.len()), buf.len());
    }

    #[test]
    fn the_queue_keeps_order_enforces_the_limit_and_stops() {
        let q = OutQueue::new();
        assert_eq!(q.push_data(&frame(OP_TEXT, b"a"), 1, 10), Push::Queued);
        q.push_control(&PING, false);
        assert_eq!(
            q.push_data(&frame(OP_TEXT, b"bcdefghij"), 9, 10),
            Push::Queued
        );
        assert_eq!(
            q.push_data(&frame(OP_TEXT, b"k"), 1, 10),
            Push::Full,
            "11 > 10"
        );
        {
            let p = q.pending.lock();
            assert_eq!(p.queued, 10);
            assert_eq!(&p.buf[..5], &[0x81, 1, b'a', 0x89, 0]);
        }
        q.push_control(&[0x88, 0], true);
        assert_eq!(q.push_data(&frame(OP_TEXT, b"x"), 1, 100), Push::Closed);
        q.push_control(&PING, false); // dropped after the stop
        let p = q.pending.lock();
        assert!(p.stop);
        assert_eq!(&p.buf[p.buf.len() - 2..], &[0x88, 0]);
    }

    /// A slow-consumer close that happens while the writer is not waiting
    /// (here: before it even started, as when it sits in its yield) still
    /// gets its 1008 close frame out, and nothing that was queued before.
    #[test]
    fn the_writer_sends_an_urgent_close_it_sees_only_in_the_queue() {
        use tokio::io::AsyncReadExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let state = Arc::new(ConnState::new(u64::MAX - 7, 1 << 20));
            assert!(state.send(&frame(OP_TEXT, b"dropped"), 7));
            state.close_slow_consumer();
            let (ours, mut peer) = tokio::io::duplex(1 << 16);
            writer_task(state.clone(), ours).await;
            let mut got = Vec::new();
            peer.read_to_end(&mut got).await.unwrap();
            let want = close_bytes(&CloseFrame {
                code: CloseCode::from(1008),
                reason: "outbound queue limit exceeded".into(),
            });
            assert_eq!(got, &want[..]);
        });
    }

    #[test]
    fn frames_have_the_rfc6455_header_for_each_length_class() {
        let f = frame(OP_TEXT, b"hi");
        assert_eq!(&f[..], &[0x81, 2, b'h', b'i']);
        let mid = vec![b'a'; 300];
        let f = frame(OP_BINARY, &mid);
        assert_eq!(&f[..4], &[0x82, 126, 0x01, 0x2c]);
        assert_eq!(f.len(), 304);
        let big = vec![0u8; 70_000];
        let f = frame(OP_TEXT, &big);
        assert_eq!(f[1], 127);
        assert_eq!(u64::from_be_bytes(f[2..10].try_into().unwrap()), 70_000);
        let c = close_bytes(&CloseFrame {
            code: CloseCode::from(1008),
            reason: "slow".into(),
        });
        assert_eq!(&c[..], &[0x88, 6, 0x03, 0xf0, b's', b'l', b'o', b'w']);
    }
}
