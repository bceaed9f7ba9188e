//! A connection's outbound queue, and the pieces the connection's task
//! (`session.rs`) writes it with. Frames are encoded by `frame.rs`.
//!
//! # The outbound queue ([`OutQueue`])
//! A byte buffer of small encoded frames plus, in queue order, references
//! to large shared frames: a broadcast encodes its frame **once**
//! ([`Encoded`]; with permessage-deflate, also compressed once per window
//! size in use); a small frame is copied into each member's buffer (one
//! short mutex hold, no allocation, no refcount: what makes fan-out fast),
//! a frame of [`SHARE_THRESHOLD`] bytes or more is shared by reference
//! (one refcount increment per member), so a broadcast costs the server
//! about one copy of the frame whatever the room's size (ws.md "Resource
//! limits"). Everything queued counts against the connection's limit:
//! data, pings, pongs and close frames alike. Pongs are coalesced (RFC 6455
//! 5.5.3) once a few wait ([`MAX_PONGS`]): the last one is replaced by the
//! answer to the latest ping, so a ping flood cannot grow the queue. The
//! bytes of every queue together are counted in [`outbound_bytes`] (a
//! shared frame once), which the server holds under
//! `SNOW_WS_MAX_QUEUE_TOTAL_BYTES`.
//!
//! The connection's task takes everything queued at once ([`Batch`]: the
//! pending pongs, then the buffer with the shared frames in their places)
//! and writes it with vectored writes; another task's send wakes it (a
//! `Notify`) only when it is idle.

use super::deflate;
use super::frame::{encode, frame_end, RSV1};
use bytes::Bytes;
use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use std::cell::OnceCell;
use std::io::IoSlice;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Waker;

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

/// Messages shorter than this go uncompressed even to a connection that
/// negotiated permessage-deflate (`SNOW_WS_COMPRESSION_THRESHOLD`).
static COMPRESS_MIN: AtomicUsize = AtomicUsize::new(usize::MAX);

pub(crate) fn set_compression_threshold(bytes: usize) {
    COMPRESS_MIN.store(bytes, Ordering::Relaxed);
}

/// Frame bytes, shared by reference from [`SHARE_THRESHOLD`] on (and then
/// counted in [`OUTBOUND`] while they live).
fn frame_bytes(v: Vec<u8>) -> Bytes {
    if v.len() >= SHARE_THRESHOLD {
        count_outbound(v.len());
        Bytes::from_owner(Counted(v))
    } else {
        Bytes::from(v)
    }
}

/// A message encoded once, whatever the number of recipients: the plain
/// frame, and (made on first need, for members that negotiated
/// permessage-deflate) the compressed frame per window size.
pub(crate) struct Encoded<'p> {
    opcode: u8,
    payload: &'p [u8],
    plain: Bytes,
    /// Index `bits - 9`; `None` inside: not worth compressing.
    deflated: [OnceCell<Option<Bytes>>; 7],
}

impl<'p> Encoded<'p> {
    /// A complete, unfragmented, unmasked frame of `payload`.
    pub(crate) fn new(opcode: u8, payload: &'p [u8]) -> Encoded<'p> {
        Encoded {
            opcode,
            payload,
            plain: frame_bytes(encode(opcode, payload)),
            deflated: Default::default(),
        }
    }

    /// The frame for a connection compressing with window bits `window`
    /// (0: it does not): compressed when that is negotiated, the message is
    /// at least the threshold and compression makes it shorter.
    fn frame_for(&self, window: u8) -> &Bytes {
        if window < 9 || self.payload.len() < COMPRESS_MIN.load(Ordering::Relaxed) {
            return &self.plain;
        }
        self.deflated[(window.min(15) - 9) as usize]
            .get_or_init(|| {
                deflate::compress(self.payload, window)
                    .map(|c| frame_bytes(encode(RSV1 | self.opcode, &c)))
            })
            .as_ref()
            .unwrap_or(&self.plain)
    }

    /// The plain frame's length.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.plain.len()
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
    /// The connection's task, woken when its queue gets something while it
    /// is idle, or when the connection must act (closing).
    waker: AtomicWaker,
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
            waker: AtomicWaker::new(),
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
            self.waker.wake();
        }
        r
    }

    /// Wakes the connection's task (it looks at its state and queue again).
    pub(crate) fn wake(&self) {
        self.waker.wake();
    }

    /// The connection's task will be woken by the next push or [`OutQueue::wake`].
    pub(crate) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Appends a data frame (compressed for window bits `window`, 0 for
    /// none) unless that takes the queue (waiting plus being written) past
    /// `limit`. Adds the bytes copied into the buffer to `copied` (the
    /// caller counts them in [`count_outbound`]).
    pub(crate) fn push_data(
        &self,
        f: &Encoded<'_>,
        window: u8,
        limit: usize,
        copied: &mut usize,
    ) -> Push {
        let bytes = f.frame_for(window);
        self.with_pending(|p| {
            if p.stop {
                return (Push::Closed, false);
            }
            let size = bytes.len();
            if (p.queued + p.inflight).saturating_add(size) > limit {
                return (Push::Full, false);
            }
            if size >= SHARE_THRESHOLD {
                let at = p.buf.len();
                p.shared.push((at, bytes.clone()));
            } else {
                p.buf.extend_from_slice(bytes);
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

    /// Bytes waiting or being written.
    pub(crate) fn size(&self) -> usize {
        let p = self.pending.lock();
        p.queued + p.inflight
    }
}

/// Everything a connection's task took from its queue at once, and how much
/// of it is written: the pongs, then the buffer with the shared frames in
/// their places. Each piece is a run of whole frames.
#[derive(Default)]
pub(crate) struct Batch {
    pongs: Vec<Bytes>,
    buf: Vec<u8>,
    shared: Vec<(usize, Bytes)>,
    total: usize,
    pos: usize,
}

/// A batch is written in at most this many slices per `writev`.
pub(crate) const MAX_SLICES: usize = 32;

impl Batch {
    /// Nothing left to write.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.total
    }

    /// `n` more bytes were written.
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.total);
    }

    /// Calls `f` with each piece in wire order, until it answers `false`.
    fn pieces<'a>(&'a self, mut f: impl FnMut(&'a [u8]) -> bool) {
        for p in &self.pongs {
            if !f(p) {
                return;
            }
        }
        let mut from = 0;
        for (at, frame) in &self.shared {
            if *at > from && !f(&self.buf[from..*at]) {
                return;
            }
            if !f(frame) {
                return;
            }
            from = *at;
        }
        if from < self.buf.len() {
            f(&self.buf[from..]);
        }
    }

    /// The rest of the frame a write cut: what must still be written so the
    /// peer sees a frame boundary (empty when the cut is at one).
    pub(crate) fn rest_of_cut_frame(&self) -> &[u8] {
        let mut skip = self.pos;
        let mut rest: &[u8] = &[];
        self.pieces(|p| {
            if skip < p.len() {
                if skip > 0 {
                    rest = &p[skip..frame_end(p, skip)];
                }
                return false;
            }
            skip -= p.len();
            true
        });
        rest
    }
}

/// A batch is written with one `writev` of at most this many slices.
pub(crate) type Slices<'a> = [IoSlice<'a>; MAX_SLICES];

impl Batch {
    /// What is left to write, as slices; answers how many of `slices` it
    /// filled.
    pub(crate) fn slices<'a>(&'a self, slices: &mut Slices<'a>) -> usize {
        let mut n = 0;
        let mut skip = self.pos;
        self.pieces(|p| {
            if skip >= p.len() {
                skip -= p.len();
                return true;
            }
            slices[n] = IoSlice::new(&p[skip..]);
            skip = 0;
            n += 1;
            n < MAX_SLICES
        });
        n
    }
}

impl OutQueue {
    /// Moves everything queued into `batch` (empty): `Some(stop)`, with
    /// `stop` when the queue ended (nothing more will come), or `None` when
    /// nothing is queued; the queue then wakes its owner (the waker given
    /// to [`OutQueue::register`]) on the next push.
    pub(crate) fn take(&self, batch: &mut Batch) -> Option<bool> {
        let mut p = self.pending.lock();
        if p.buf.is_empty() && p.shared.is_empty() && p.pongs.is_empty() && !p.stop {
            p.idle = true;
            return None;
        }
        std::mem::swap(&mut p.buf, &mut batch.buf);
        std::mem::swap(&mut p.shared, &mut batch.shared);
        std::mem::swap(&mut p.pongs, &mut batch.pongs);
        p.inflight = std::mem::take(&mut p.queued);
        batch.total = batch.pongs.iter().map(|b| b.len()).sum::<usize>()
            + batch.buf.len()
            + batch.shared.iter().map(|(_, b)| b.len()).sum::<usize>();
        batch.pos = 0;
        self.set_tail(&p);
        Some(p.stop)
    }

    /// The owner is done with `batch` (written, or given up): its bytes
    /// leave the in-flight count and [`OUTBOUND`], and it is emptied for
    /// reuse.
    pub(crate) fn written(&self, batch: &mut Batch) {
        self.pending.lock().inflight = 0;
        uncount_outbound(batch.buf.len());
        batch.pongs.clear();
        batch.shared.clear();
        batch.buf.clear();
        if batch.buf.capacity() > KEEP_BUFFER {
            batch.buf = Vec::new();
        }
        batch.total = 0;
        batch.pos = 0;
    }
}

/// A batch buffer keeps up to this capacity between writes.
const KEEP_BUFFER: usize = 16 << 10;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::conn::ConnState;
    use crate::ws::frame::{close_frame_without_code, ping, pong, OP_BINARY, OP_TEXT};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn the_queue_counts_data_and_control_frames_against_its_limit() {
        let q = OutQueue::new();
        let mut copied = 0;
        let a = Encoded::new(OP_TEXT, b"a"); // 3 bytes
        assert_eq!(q.push_data(&a, 0, 10, &mut copied), Push::Queued);
        assert_eq!(q.push_control(&ping(b""), false, 10), Push::Queued); // 2 bytes
        let b = Encoded::new(OP_TEXT, b"bcd"); // 5 bytes
        assert_eq!(q.push_data(&b, 0, 10, &mut copied), Push::Queued);
        assert_eq!(q.size(), 10);
        assert_eq!(copied, 8, "the ping is counted by push_control itself");
        assert_eq!(q.push_data(&a, 0, 10, &mut copied), Push::Full, "13 > 10");
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
        assert_eq!(q.push_data(&a, 0, 100, &mut copied), Push::Closed);
        assert_eq!(q.push_control(&ping(b""), false, 100), Push::Closed);
        // As every caller does: the copied bytes count in OUTBOUND (else
        // `written` below would take them off a count that never had them,
        // and the process-wide total, which other tests' servers check
        // against their cap, would wrap around).
        count_outbound(copied);
        let mut batch = Batch::default();
        assert_eq!(q.take(&mut batch), Some(true), "the batch ends the queue");
        assert_eq!(batch.total, 12);
        q.written(&mut batch);
        q.discard();
    }

    #[test]
    fn pongs_are_coalesced_so_a_ping_flood_cannot_grow_the_queue() {
        let q = OutQueue::new();
        for i in 0..10_000u32 {
            assert_eq!(q.push_pong(&pong(&i.to_be_bytes()), 1024), Push::Queued);
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

    /// What a connection's task puts on the wire for its queue, written in
    /// pieces of at most `step` bytes by a socket that takes little at a time.
    fn written(state: &ConnState, step: usize) -> Vec<u8> {
        rt().block_on(async {
            let (mut ours, mut peer) = tokio::io::duplex(step);
            let mut batch = Batch::default();
            let reader = tokio::spawn(async move {
                let mut got = Vec::new();
                peer.read_to_end(&mut got).await.unwrap();
                got
            });
            while let Some(stop) = state.out.take(&mut batch) {
                while !batch.is_empty() {
                    let n = {
                        let mut slices: Slices<'_> = [IoSlice::new(&[]); MAX_SLICES];
                        let k = batch.slices(&mut slices);
                        ours.write_vectored(&slices[..k]).await.unwrap()
                    };
                    batch.consume(n);
                }
                state.out.written(&mut batch);
                if stop {
                    break;
                }
            }
            drop(ours);
            reader.await.unwrap()
        })
    }

    #[test]
    fn shared_frames_go_out_in_queue_order_and_are_held_once() {
        let payload = vec![7u8; 3 * SHARE_THRESHOLD];
        let big = Encoded::new(OP_BINARY, &payload);
        let small = Encoded::new(OP_TEXT, b"hi");
        let pong_frame = pong(b"p");
        let states: Vec<Arc<ConnState>> = (0..20)
            .map(|i| Arc::new(ConnState::new(u64::MAX - 100 - i, 1 << 20)))
            .collect();
        for s in &states {
            assert!(s.send(&small));
            assert!(s.send(&big));
            assert!(s.send(&small));
            s.send_pong(b"p");
            s.queue_close_echo(&close_frame_without_code());
        }
        // The 20 queues hold one copy of the big frame (and count it each).
        for s in &states {
            let p = s.out.pending.lock();
            assert_eq!(p.shared.len(), 1);
            assert_eq!(p.shared[0].1.as_ptr(), big.plain.as_ptr());
            assert_eq!(p.queued, big.len() + 2 * small.len() + pong_frame.len() + 2);
        }
        let mut want = pong_frame.clone();
        want.extend_from_slice(&small.plain);
        want.extend_from_slice(&encode(OP_BINARY, &payload));
        want.extend_from_slice(&small.plain);
        want.extend_from_slice(&[0x88, 0]);
        drop(big);
        for (i, s) in states.iter().enumerate() {
            let step = [1, 7, 1000, 1 << 20][i % 4];
            assert_eq!(
                written(s, step),
                want,
                "pong first, then the frames in order"
            );
        }
    }

    #[test]
    fn a_cut_write_is_finished_at_the_frame_boundary() {
        let state = ConnState::new(u64::MAX - 3, 1 << 20);
        let big = vec![1u8; 2 * SHARE_THRESHOLD];
        assert!(state.send(&Encoded::new(OP_TEXT, b"first")));
        assert!(state.send(&Encoded::new(OP_BINARY, &big)));
        assert!(state.send(&Encoded::new(OP_TEXT, b"last")));
        let mut batch = Batch::default();
        state.out.take(&mut batch);
        let first = encode(OP_TEXT, b"first").len();
        let big_frame = encode(OP_BINARY, &big);
        assert_eq!(
            batch.rest_of_cut_frame(),
            &[] as &[u8],
            "nothing written yet"
        );
        batch.consume(3);
        assert_eq!(batch.rest_of_cut_frame(), &encode(OP_TEXT, b"first")[3..]);
        batch.consume(first - 3);
        assert_eq!(batch.rest_of_cut_frame(), &[] as &[u8], "at a boundary");
        batch.consume(100);
        assert_eq!(batch.rest_of_cut_frame(), &big_frame[100..]);
        state.out.written(&mut batch);
    }

    #[test]
    fn compressed_frames_are_made_once_per_window_and_only_when_shorter() {
        set_compression_threshold(16);
        let text = "chat chat chat chat chat chat chat chat".repeat(10);
        let e = Encoded::new(OP_TEXT, text.as_bytes());
        let f15 = e.frame_for(15).clone();
        assert_eq!(f15[0], 0x80 | RSV1 | OP_TEXT, "FIN, RSV1, text");
        assert!(f15.len() < e.plain.len() / 4);
        assert_eq!(e.frame_for(15).as_ptr(), f15.as_ptr(), "made once");
        assert_eq!(e.frame_for(0), &e.plain, "no compression negotiated");
        assert_eq!(e.frame_for(8), &e.plain, "window 8: never compressed");
        // Short or incompressible messages go plain.
        let short = Encoded::new(OP_TEXT, b"hi hi hi");
        assert_eq!(short.frame_for(15), &short.plain);
        let noise: Vec<u8> = (0..512u32)
            .map(|i| (i.wrapping_mul(0x9E37_79B9) >> 24) as u8)
            .collect();
        let n = Encoded::new(OP_BINARY, &noise);
        assert!(n.frame_for(15).len() <= n.plain.len());
    }
}
