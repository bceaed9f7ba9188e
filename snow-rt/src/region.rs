//! Regions: the per-thread Snow heaps, callbacks and pins (docs/ABI.md "Memory").
//!
//! Each thread has a *current region* (a [`Heap`]): [`alloc`] (and so
//! `snow_alloc`) bump-allocates from it. The first region of a thread is its
//! *root region*, which lives as long as the thread (on the main thread it
//! holds what `main` builds).
//!
//! [`run_callback`] swaps in a fresh region, runs the callback, catches any
//! unwinding panic and swaps the previous region back; the callback's region
//! is then freed whole (its chunks go to a small per-thread cache), which is
//! all a short callback ever costs.
//!
//! **Collection.** When a region has been handed [`crate::gc::MIN_GC_BYTES`]
//! (or its live size) since its last collection, the allocator asks for one
//! by signalling the thread (`crate::stack`), and the next safepoint of
//! generated code collects the current region ([`collect_at_safepoint`]).
//! Roots are the thread's stack and callee-saved registers, scanned
//! conservatively, and the region's pins. Only the current region is
//! collected: older regions cannot point into it (values are immutable, and a
//! callback's result never points into its region), and pointers into them
//! are ignored. Collection never runs inside a runtime function, so a runtime
//! function may keep Snow values in Rust memory while it allocates.
//!
//! **Pins.** A closure the runtime keeps (a timer's tick, server callbacks)
//! is [`pin`]ned: its word becomes a root of the current region. When a
//! callback region with live pins ends, it is collected once more from the
//! pins alone and its remaining memory is kept until the last pin is dropped
//! ([`Pin`], e.g. by `Timer.cancel`). A pin made in a nested callback keeps
//! every enclosing region of the thread for ever instead (the closure may
//! capture their values; no runtime function nests callbacks today).
//!
//! **Limits.** A callback region whose live size after a collection exceeds
//! `SNOW_WS_CALLBACK_HEAP_BYTES` panics at that safepoint (`crate::limits`).

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::gc::{Heap, MIN_GC_BYTES};

pub use crate::gc::CHUNK_SIZE;

/// Free standard chunks kept per thread for reuse.
const CACHE_MAX: usize = 16;

static GLOBAL_PINNED_REGIONS: AtomicUsize = AtomicUsize::new(0);
static NEXT_PIN: AtomicU64 = AtomicU64::new(1);

/// The roots the runtime holds in one region, and the memory of that region
/// once its callback ended while pins were still alive.
#[derive(Default)]
pub(crate) struct PinSet {
    words: Mutex<Vec<(u64, i64)>>,
    frozen: Mutex<Option<Heap>>,
}

impl PinSet {
    fn words(&self) -> Vec<i64> {
        let w = self.words.lock().unwrap_or_else(|e| e.into_inner());
        w.iter().map(|&(_, w)| w).collect()
    }
}

impl Drop for PinSet {
    fn drop(&mut self) {
        let frozen = self.frozen.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(mut heap) = frozen.take() {
            heap.release(&mut Vec::new(), 0);
            GLOBAL_PINNED_REGIONS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A value the runtime keeps alive (see the module documentation). Dropping
/// it lets the value's memory go (at the region's next collection, or at once
/// for a finished callback's region when this was its last pin).
pub struct Pin {
    set: Arc<PinSet>,
    id: u64,
}

impl Pin {
    /// The pinned word.
    pub fn word(&self) -> i64 {
        let w = self.set.words.lock().unwrap_or_else(|e| e.into_inner());
        w.iter()
            .find(|(id, _)| *id == self.id)
            .map(|&(_, w)| w)
            .unwrap_or(0)
    }
}

#[cfg(test)]
impl Pin {
    /// Bytes of the finished callback region kept for this pin's set (0
    /// while the region is still running or for the root region), and a
    /// weak reference that dies with the set and its memory.
    pub(crate) fn kept(&self) -> (usize, std::sync::Weak<PinSet>) {
        let frozen = self.set.frozen.lock().unwrap_or_else(|e| e.into_inner());
        (
            frozen.as_ref().map_or(0, |h| h.bytes()),
            Arc::downgrade(&self.set),
        )
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut w = self.set.words.lock().unwrap_or_else(|e| e.into_inner());
        w.retain(|(id, _)| *id != self.id);
    }
}

struct Region {
    heap: Heap,
    pins: Option<Arc<PinSet>>,
    /// Collect once `heap.taken` reaches this.
    next_gc: usize,
    /// A collection was asked for and has not run yet.
    gc_requested: bool,
    /// Never collected nor freed (a pin was made in a nested callback).
    keep_forever: bool,
    /// A callback's region (subject to the callback heap limit).
    callback: bool,
}

impl Region {
    const fn new(callback: bool) -> Region {
        Region {
            heap: Heap::new(),
            pins: None,
            next_gc: MIN_GC_BYTES,
            gc_requested: false,
            keep_forever: false,
            callback,
        }
    }

    fn set_next_gc(&mut self) {
        let cap = if self.callback {
            crate::limits::callback_heap_bytes() / 2
        } else {
            usize::MAX
        };
        self.next_gc = MIN_GC_BYTES.max(self.heap.live).min(cap.max(1 << 20));
    }
}

struct State {
    cur: Region,
    /// Enclosing regions of active callbacks (`outer[0]` is the root).
    outer: Vec<Region>,
    cache: Vec<usize>,
    pinned_regions: usize,
}

impl State {
    #[inline]
    fn alloc(&mut self, n: usize, noscan: bool) -> *mut u8 {
        let p = self.cur.heap.alloc(n, noscan, &mut self.cache);
        if self.cur.heap.taken >= self.cur.next_gc && !self.cur.gc_requested {
            self.request_gc();
        }
        p
    }

    #[cold]
    fn request_gc(&mut self) {
        if self.cur.keep_forever {
            return;
        }
        self.cur.gc_requested = true;
        crate::stack::with_current(|ctl| {
            if let Some(ctl) = ctl {
                ctl.signal(crate::stack::SIGNAL_GC);
            }
        });
    }

    /// A callback's region ended: free it, keep it for its pins, or keep it for ever.
    fn end_region(&mut self, mut region: Region) {
        if region.keep_forever {
            self.pinned_regions += 1;
            GLOBAL_PINNED_REGIONS.fetch_add(1, Ordering::Relaxed);
            std::mem::forget(region.heap);
            return;
        }
        let pins = region.pins.take();
        match pins {
            Some(set)
                if !set
                    .words
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_empty() =>
            {
                // Keep only what the pins reach.
                let words = set.words();
                region
                    .heap
                    .collect(&[], &words, true, &mut self.cache, CACHE_MAX);
                region.heap.release_free_pages();
                let heap = std::mem::take(&mut region.heap);
                *set.frozen.lock().unwrap_or_else(|e| e.into_inner()) = Some(heap);
                self.pinned_regions += 1;
                GLOBAL_PINNED_REGIONS.fetch_add(1, Ordering::Relaxed);
            }
            _ => region.heap.release(&mut self.cache, CACHE_MAX),
        }
    }
}

// The thread-local state is intentionally never freed: the main thread's
// root region must outlive the TLS destructors that `exit` runs while timer
// or server threads may still read it.
thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State {
            cur: Region::new(false),
            outer: Vec::new(),
            cache: Vec::new(),
            pinned_regions: 0,
        })
    };
}

fn leak_alloc(n: usize) -> *mut u8 {
    let layout = std::alloc::Layout::from_size_align(n.max(8), 8).expect("layout");
    // SAFETY: non-zero size.
    let p = unsafe { std::alloc::alloc(layout) };
    if p.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    p
}

/// Allocates `n` bytes, 8-aligned, from the current thread's current region.
/// The memory is uninitialized; the object may hold pointers (words).
pub fn alloc(n: usize) -> *mut u8 {
    // Thread-local storage already destroyed (thread exit): leak from the heap.
    STATE
        .try_with(|s| s.borrow_mut().alloc(n, false))
        .unwrap_or_else(|_| leak_alloc(n))
}

/// [`alloc`] for an object that holds no pointers (String, Bytes): the
/// collector does not look inside it.
pub fn alloc_noscan(n: usize) -> *mut u8 {
    STATE
        .try_with(|s| s.borrow_mut().alloc(n, true))
        .unwrap_or_else(|_| leak_alloc(n))
}

/// True while this thread runs inside [`run_callback`].
pub fn in_callback() -> bool {
    STATE
        .try_with(|s| !s.borrow().outer.is_empty())
        .unwrap_or(false)
}

/// Runs `f` in a fresh region on this thread and frees the region afterwards
/// (unless pinned). Nested calls are allowed. Any unwinding panic (a Snow
/// panic from `snow_panic`, or a Rust panic) is caught and returned as
/// `Err(message)`. The outermost callback of a thread is subject to
/// `SNOW_WS_CALLBACK_TIMEOUT_MS` (`crate::watchdog`).
///
/// The result must not point into the callback's region (it is freed before
/// this returns): copy out what you need inside `f`.
pub fn run_callback<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let outermost = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let prev = std::mem::replace(&mut s.cur, Region::new(true));
        s.outer.push(prev);
        s.outer.len() == 1
    });
    if outermost {
        // Also registers the thread (its safepoints need a limit).
        crate::watchdog::callback_started();
    }
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    if outermost {
        crate::watchdog::callback_ended();
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let prev = s.outer.pop().expect("pushed above");
        let region = std::mem::replace(&mut s.cur, prev);
        s.end_region(region);
    });
    result.map_err(|p| {
        let msg = crate::panic::message(p);
        if msg == "stack overflow" {
            crate::stack::release_unused_stack();
        }
        msg
    })
}

/// Keeps `word` (a closure or any value of the current region) alive until
/// the returned [`Pin`] is dropped, whatever the region does meanwhile.
pub fn pin(word: i64) -> Pin {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.outer.len() > 1 {
            // A nested callback: the value may reach any enclosing region.
            s.outer.iter_mut().for_each(|r| r.keep_forever = true);
        }
        let set = s.cur.pins.get_or_insert_with(Default::default).clone();
        let id = NEXT_PIN.fetch_add(1, Ordering::Relaxed);
        set.words
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, word));
        Pin { set, id }
    })
}

/// [`pin`] for values kept until the process exits (server callbacks).
pub fn pin_forever(words: &[i64]) {
    for &w in words {
        std::mem::forget(pin(w));
    }
}

/// The callee-saved registers, stored in a local of the calling frame so a
/// conservative scan of the stack from that local up sees them (values of
/// outer frames may live only in those registers at a safepoint).
macro_rules! spill_callee_saved {
    ($buf:ident) => {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: stores six registers into `$buf` (six words), nothing else.
        unsafe {
            std::arch::asm!(
                "mov [{0}], rbx",
                "mov [{0} + 8], rbp",
                "mov [{0} + 16], r12",
                "mov [{0} + 24], r13",
                "mov [{0} + 32], r14",
                "mov [{0} + 40], r15",
                in(reg) $buf.as_mut_ptr(),
                options(nostack, preserves_flags)
            );
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: stores x19..x29 into `$buf` (eleven words), nothing else.
        unsafe {
            std::arch::asm!(
                "stp x19, x20, [{0}]",
                "stp x21, x22, [{0}, #16]",
                "stp x23, x24, [{0}, #32]",
                "stp x25, x26, [{0}, #48]",
                "stp x27, x28, [{0}, #64]",
                "str x29, [{0}, #80]",
                in(reg) $buf.as_mut_ptr(),
                options(nostack, preserves_flags)
            );
        }
    };
}

/// Collects the current region from a safepoint of generated code (called
/// by `crate::stack::snow_check`). `Err` when a callback's live heap exceeds
/// its limit.
#[inline(never)]
pub(crate) fn collect_at_safepoint() -> Result<(), String> {
    let mut regs = [0usize; 12];
    // A register holding the buffer's address is itself callee-saved by this
    // function's prologue, i.e. stored above `regs`, inside the scanned range.
    spill_callee_saved!(regs);
    let lo = regs.as_ptr() as usize;
    let hi = crate::stack::with_current(|c| c.map(|c| c.stack_hi)).unwrap_or(0);
    let r = collect_current(&[(lo, hi.max(lo))], false);
    std::hint::black_box(&regs);
    r.map(|_| ())
}

/// Collects the current region with these root ranges (plus its pins).
fn collect_current(
    ranges: &[(usize, usize)],
    major: bool,
) -> Result<crate::gc::CollectStats, String> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let s = &mut *s;
        let region = &mut s.cur;
        region.gc_requested = false;
        if region.keep_forever {
            return Ok(Default::default());
        }
        let words = region.pins.as_ref().map(|p| p.words()).unwrap_or_default();
        let st = region
            .heap
            .collect(ranges, &words, major, &mut s.cache, CACHE_MAX);
        region.set_next_gc();
        let limit = crate::limits::callback_heap_bytes();
        if region.callback && st.live > limit {
            return Err(format!(
                "callback heap limit exceeded: {} MiB live (SNOW_WS_CALLBACK_HEAP_BYTES = {limit})",
                st.live >> 20
            ));
        }
        Ok(st)
    })
}

/// `snow_alloc(bytes) -> ptr`: every heap object built by generated code.
#[no_mangle]
pub extern "C-unwind" fn snow_alloc(bytes: i64) -> *mut u8 {
    if bytes < 0 {
        crate::panic::runtime_panic("allocation of a negative size");
    }
    alloc(bytes as usize)
}

/// Memory statistics of the current thread's regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Chunks owned by live regions of this thread (root, active callbacks).
    pub live_chunks: usize,
    /// Bytes of those chunks and of their big objects.
    pub live_bytes: usize,
    /// Free standard chunks cached for reuse.
    pub cached_chunks: usize,
    /// Callback regions kept for pins (or for ever) on this thread so far.
    pub pinned_regions: usize,
    /// `run_callback` depth.
    pub depth: usize,
    /// Collections of the current region so far.
    pub collections: usize,
    /// Bytes of all chunks and big objects of all threads (caches and kept
    /// regions included).
    pub global_bytes: usize,
    /// Callback regions kept for pins on all threads right now.
    pub global_pinned_regions: usize,
}

/// This thread's region statistics.
pub fn stats() -> Stats {
    STATE.with(|s| {
        let s = s.borrow();
        let regions = std::iter::once(&s.cur).chain(s.outer.iter());
        let (chunks, bytes) = regions.fold((0, 0), |(c, b), r| {
            (c + r.heap.chunks.len(), b + r.heap.bytes())
        });
        Stats {
            live_chunks: chunks,
            live_bytes: bytes,
            cached_chunks: s.cache.len(),
            pinned_regions: s.pinned_regions,
            depth: s.outer.len(),
            collections: s.cur.heap.collections,
            global_bytes: crate::gc::GLOBAL_BYTES.load(Ordering::Relaxed),
            global_pinned_regions: GLOBAL_PINNED_REGIONS.load(Ordering::Relaxed),
        }
    })
}

/// Collects the current region now with `ranges` as the only roots besides
/// its pins (tests: a collection as a safepoint would run it).
#[cfg(test)]
pub(crate) fn collect_with_roots(
    ranges: &[(usize, usize)],
    major: bool,
) -> crate::gc::CollectStats {
    collect_current(ranges, major).unwrap_or_default()
}
