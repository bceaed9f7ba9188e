//! Registered threads, their stack limits and their signals (docs/ABI.md
//! "Stack").
//!
//! Generated code runs a *safepoint* before every call of a Snow function or
//! closure and at every loop back edge: it compares the stack pointer with
//! the thread-local `snow_stack_limit` (defined in `stack.c`) and calls
//! `snow_check` (`safepoint.rs`) when the pointer is below it. The limit
//! carries three signals, as Go's stack guard does:
//! - **stack overflow**: the limit is the real one (stack bottom +
//!   [`RESERVE`]) and the stack pointer went below it → a Snow panic
//!   `stack overflow` at the call's position;
//! - **collection wanted**: the allocator stored `u64::MAX` and set
//!   [`SIGNAL_GC`]; the safepoint collects the current region
//!   (`region.rs`), where no runtime function holds a Snow value in memory
//!   the collector cannot see;
//! - **callback timed out**: the watchdog (`watchdog.rs`) stored
//!   `u64::MAX` from its own thread and set [`SIGNAL_TIMEOUT`] → a panic
//!   `callback timed out`, which ends that callback (1011 for a connection).
//!
//! `snow_check` tells them apart by swapping the real limit back in: if it
//! was the real limit, the stack overflowed; otherwise it handles the pending
//! signals (an overflow hidden behind a signal is caught by the next check).
//!
//! A thread takes part once registered ([`register_current_thread`]): the
//! main thread in `snow_rt_main`, any other thread at its first
//! `run_callback`. Threads the runtime creates to run callbacks (server
//! workers, the timer thread) get [`CALLBACK_STACK_SIZE`] of stack.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

extern "C" {
    /// The calling thread's `snow_stack_limit` (stack.c).
    pub(crate) fn snow_stack_limit_addr() -> *mut u64;
}

/// Stack kept free below the limit: room for the runtime functions a Snow
/// function calls between two safepoints, for one Snow frame (frames are
/// small: one word per MIR variable at -O0), and for reporting and
/// unwinding a panic.
pub const RESERVE: usize = 256 * 1024;

/// Stack size of the threads the runtime creates to run callbacks (server
/// workers, the timer thread): deep enough for a recursion of about a
/// million Snow calls. Only the pages a callback touches become resident.
pub const CALLBACK_STACK_SIZE: usize = 64 << 20;

/// A collection is wanted at the next safepoint.
pub(crate) const SIGNAL_GC: u32 = 1;
/// The running callback exceeded `SNOW_WS_CALLBACK_TIMEOUT_MS`.
pub(crate) const SIGNAL_TIMEOUT: u32 = 2;

/// One registered thread, as seen by itself and by the watchdog.
pub(crate) struct ThreadCtl {
    /// The thread's `snow_stack_limit` (valid while the thread is registered).
    limit: *const AtomicU64,
    /// Stack bottom + [`RESERVE`].
    pub(crate) real_limit: u64,
    /// The thread's stack: `[lo, hi)`.
    pub(crate) stack_lo: usize,
    pub(crate) stack_hi: usize,
    pending: AtomicU32,
    /// Bumped when an outermost callback starts and when it ends: odd while
    /// one runs (read by the watchdog).
    pub(crate) callback_seq: AtomicU64,
    /// The `callback_seq` a timeout signal was meant for: a signal that
    /// arrives after its callback ended is ignored.
    timeout_seq: AtomicU64,
    /// The timeout in force when the signal was sent (for the message).
    timeout_ms: AtomicU64,
}

// SAFETY: `limit` points to the owning thread's TLS variable, which lives
// until the thread exits; the thread unregisters (under `THREADS`) before
// that, and other threads only write through it while holding `THREADS`.
unsafe impl Send for ThreadCtl {}
// SAFETY: as for `Send`: the only shared access through `limit` is atomic.
unsafe impl Sync for ThreadCtl {}

impl ThreadCtl {
    fn limit(&self) -> &AtomicU64 {
        // SAFETY: see the Send/Sync comment.
        unsafe { &*self.limit }
    }

    /// Makes the thread's next safepoint enter `snow_check` with `signal`.
    /// Called by the thread itself, or by the watchdog holding `THREADS`.
    pub(crate) fn signal(&self, signal: u32) {
        self.pending.fetch_or(signal, Ordering::SeqCst);
        self.limit().store(u64::MAX, Ordering::SeqCst);
    }

    /// Puts the real limit back (the first thing a safepoint's slow path
    /// does) and answers what the limit was.
    pub(crate) fn restore_limit(&self) -> u64 {
        self.limit().swap(self.real_limit, Ordering::SeqCst)
    }

    /// Takes the pending signals (`SIGNAL_*` bits).
    pub(crate) fn take_signals(&self) -> u32 {
        self.pending.swap(0, Ordering::SeqCst)
    }

    /// The timeout (ms) a timeout signal was sent with, when it was meant
    /// for the callback running now (not for one that already ended).
    pub(crate) fn timeout_of_running_callback(&self) -> Option<u64> {
        let seq = self.callback_seq.load(Ordering::SeqCst);
        (self.timeout_seq.load(Ordering::SeqCst) == seq)
            .then(|| self.timeout_ms.load(Ordering::SeqCst))
    }

    /// Signals a timeout of the callback numbered `seq` (`timeout_ms` long).
    pub(crate) fn signal_timeout(&self, seq: u64, timeout_ms: u64) {
        self.timeout_seq.store(seq, Ordering::SeqCst);
        self.timeout_ms.store(timeout_ms, Ordering::SeqCst);
        self.signal(SIGNAL_TIMEOUT);
    }
}

/// Every registered thread (the watchdog scans them).
pub(crate) static THREADS: Mutex<Vec<Arc<ThreadCtl>>> = Mutex::new(Vec::new());

/// Unregisters the thread when its thread-locals are destroyed.
struct Registration(Arc<ThreadCtl>);

impl Drop for Registration {
    fn drop(&mut self) {
        let mut threads = THREADS.lock().unwrap_or_else(|e| e.into_inner());
        threads.retain(|t| !Arc::ptr_eq(t, &self.0));
        // No safepoint runs on this thread any more.
        self.0.limit().store(0, Ordering::SeqCst);
    }
}

thread_local! {
    static CTL: RefCell<Option<Registration>> = const { RefCell::new(None) };
}

/// This thread's stack `[lo, hi)` (glibc: the main thread's from the stack
/// rlimit and the mapping, other threads' from their attributes).
fn stack_bounds() -> Option<(usize, usize)> {
    // SAFETY: plain libc calls on the current thread with valid out-pointers.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if r != 0 || addr.is_null() || size == 0 {
            return None;
        }
        let hi = addr as usize + size;
        // An unlimited stack rlimit reports a huge size; the stack cannot
        // really grow that far, so assume the usual 8 MiB.
        let size = if size > (1 << 40) { 8 << 20 } else { size };
        Some((hi - size, hi))
    }
}

/// Registers the calling thread (idempotent): its safepoints now detect
/// stack overflow, and it can receive signals.
pub fn register_current_thread() {
    CTL.with(|c| {
        if c.borrow().is_some() {
            return;
        }
        let Some((lo, hi)) = stack_bounds() else {
            return;
        };
        let size = hi - lo;
        let reserve = RESERVE.min(size / 2);
        // SAFETY: the accessor returns this thread's TLS variable.
        let limit = unsafe { snow_stack_limit_addr() } as *const AtomicU64;
        let ctl = Arc::new(ThreadCtl {
            limit,
            real_limit: (lo + reserve) as u64,
            stack_lo: lo,
            stack_hi: hi,
            pending: AtomicU32::new(0),
            callback_seq: AtomicU64::new(0),
            timeout_seq: AtomicU64::new(u64::MAX),
            timeout_ms: AtomicU64::new(0),
        });
        ctl.limit().store(ctl.real_limit, Ordering::SeqCst);
        THREADS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ctl.clone());
        *c.borrow_mut() = Some(Registration(ctl));
    });
}

/// The calling thread's control block, if it is registered.
pub(crate) fn current() -> Option<Arc<ThreadCtl>> {
    CTL.try_with(|c| c.borrow().as_ref().map(|r| r.0.clone()))
        .ok()
        .flatten()
}

/// Runs `f` with the calling thread's control block (if registered),
/// without touching the reference count.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&ThreadCtl>) -> R) -> R {
    let mut f = Some(f);
    match CTL.try_with(|c| {
        let c = c.borrow();
        (f.take().expect("called once"))(c.as_ref().map(|r| &*r.0))
    }) {
        Ok(r) => r,
        Err(_) => (f.take().expect("not called yet"))(None),
    }
}

/// Whether this thread is running a callback (one that has a time limit).
pub(crate) fn in_callback() -> bool {
    with_current(|c| c.is_some_and(|c| c.callback_seq.load(Ordering::Relaxed) % 2 == 1))
}

/// The timeout (ms) of the running callback of this thread when the
/// watchdog has signalled it and no safepoint has acted on the signal yet:
/// for code that waits without running safepoints (a call waiting for a
/// busy service). `take` also clears the signal.
pub(crate) fn pending_timeout(take: bool) -> Option<u64> {
    with_current(|c| {
        let c = c?;
        if c.pending.load(Ordering::SeqCst) & SIGNAL_TIMEOUT == 0 {
            return None;
        }
        let ms = c.timeout_of_running_callback();
        if take || ms.is_none() {
            c.pending.fetch_and(!SIGNAL_TIMEOUT, Ordering::SeqCst);
        }
        ms
    })
}

/// Releases the pages of this thread's stack below the current frame (minus
/// a margin), after a callback that went deep (a stack overflow): a worker
/// thread would otherwise keep that memory resident for ever.
pub(crate) fn release_unused_stack() {
    with_current(|ctl| {
        let Some(ctl) = ctl else { return };
        let here = &ctl as *const _ as usize;
        let page = 4096;
        let lo = (ctl.stack_lo + page - 1) & !(page - 1);
        let hi = here.saturating_sub(64 * 1024) & !(page - 1);
        if hi > lo && here < ctl.stack_hi && here > ctl.stack_lo {
            // SAFETY: [lo, hi) is this thread's own stack, below every live
            // frame (and the red zone); MADV_DONTNEED makes the pages read
            // back as zero on the next touch, which is all a stack needs.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_DONTNEED);
            }
        }
    })
}
