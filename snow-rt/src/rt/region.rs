//! Regions: the Snow heaps of a thread, allocation and pins (docs/ABI.md
//! "Memory").
//!
//! Each thread has a *current region* (a [`Heap`] and its pins): [`alloc`]
//! (and so `snow_alloc`) bump-allocates from it. The first region of a
//! thread is its *root region*, which lives as long as the thread (on the
//! main thread it holds what `main` builds). Entering another region pushes
//! the current one on the thread's stack of *enclosing* regions; leaving it
//! pops that back:
//! - a callback runs in a fresh region freed whole when it returns
//!   ([`begin_callback`]/[`end_callback`], used by `callback.rs`'s
//!   `run_callback`), which is all a short callback ever costs;
//! - an [`OwnRegion`] is a heap not tied to a thread or a callback (a
//!   service's state, issue 23): [`with_region`] makes it the current region
//!   for the length of a call, on whatever thread runs it.
//!
//! **Collection.** When a region has been handed [`MIN_GC_BYTES`] (or its
//! live size) since its last collection, the allocator asks for one by
//! signalling the thread (`stack.rs`), and the next safepoint of generated
//! code collects the current region ([`collect_at_safepoint`]). Roots are
//! the thread's stack and callee-saved registers, scanned conservatively,
//! and the region's pins. Only the current region is collected: enclosing
//! regions cannot point into it (values are immutable, and a callback's
//! result never points into its region), and pointers into them are
//! ignored. Collection never runs inside a runtime function, so a runtime
//! function may keep Snow values in Rust memory while it allocates.
//!
//! **Pins.** A closure the runtime keeps (a timer's tick, server callbacks)
//! is [`pin`]ned: its word becomes a root of the current region. When a
//! callback region with live pins ends, it is collected once more from the
//! pins alone and its remaining memory is kept until the last pin is dropped
//! ([`Pin`], e.g. by `Timer.cancel`). A pin made in a nested callback keeps
//! every enclosing region of the thread (up to the nearest own region) for
//! ever instead (the closure may capture their values; no runtime function
//! nests callbacks today).
//!
//! **Limits.** A callback region whose live size after a collection exceeds
//! `SNOW_WS_CALLBACK_HEAP_BYTES` panics at that safepoint (`settings.rs`).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::gc::{self, Heap, MIN_GC_BYTES};
use super::panic::Abort;

pub use super::gc::CHUNK_SIZE;

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

pub(crate) struct Region {
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
    /// An [`OwnRegion`]: its values never point into enclosing regions.
    own: bool,
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
            own: false,
        }
    }

    /// Whether it has been handed enough memory since its last collection
    /// to want one.
    fn wants_collection(&self) -> bool {
        self.heap.taken >= self.next_gc && !self.keep_forever
    }

    fn set_next_gc(&mut self) {
        let cap = if self.callback {
            super::settings::get().callback_heap_bytes / 2
        } else {
            usize::MAX
        };
        self.next_gc = MIN_GC_BYTES.max(self.heap.live).min(cap.max(1 << 20));
    }
}

struct State {
    /// Regions are boxed so that making one current (a callback, a
    /// service's heap for one message) moves a pointer, not the region.
    cur: Box<Region>,
    /// Enclosing regions of active callbacks and own regions (`outer[0]`
    /// is the root). Boxed, as `cur`: swapping one with `cur` moves a
    /// pointer.
    #[allow(clippy::vec_box)]
    outer: Vec<Box<Region>>,
    /// Boxes of ended callback regions, for the next ones.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Region>>,
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
        super::stack::with_current(|ctl| {
            if let Some(ctl) = ctl {
                ctl.signal(super::stack::SIGNAL_GC);
            }
        });
    }

    /// Makes `region` the current one, the current one enclosing it.
    #[inline]
    fn enter(&mut self, region: Box<Region>) {
        let mut prev = std::mem::replace(&mut self.cur, region);
        // A collection it asked for and that has not run yet is asked for
        // again by its next allocation: a safepoint in `region` may take
        // the thread's signal meanwhile (and collect `region` instead).
        prev.gc_requested = false;
        self.outer.push(prev);
    }

    /// Makes the region [`State::enter`] covered current again; answers
    /// the one it replaces.
    #[inline]
    fn leave(&mut self) -> Box<Region> {
        let prev = self.outer.pop().expect("a region was entered");
        let mut left = std::mem::replace(&mut self.cur, prev);
        left.gc_requested = false;
        // The region current again asks at once for the collection it is
        // due (the signal it sent may have been taken by a safepoint of the
        // region just left): its own code may allocate nothing more before
        // its next safepoint (a loop calling a service whose handler holds
        // the next safepoint would otherwise never collect it).
        if self.cur.wants_collection() && !self.cur.gc_requested {
            self.request_gc();
        }
        left
    }

    /// A callback's region (or an own region) ended: free it, keep it for
    /// its pins, or keep it for ever.
    fn end_region(&mut self, mut region: Box<Region>) {
        self.end_region_memory(&mut region);
        if self.spare.len() < 4 {
            self.spare.push(region);
        }
    }

    fn end_region_memory(&mut self, region: &mut Region) {
        if region.keep_forever {
            self.pinned_regions += 1;
            GLOBAL_PINNED_REGIONS.fetch_add(1, Ordering::Relaxed);
            std::mem::forget(std::mem::take(&mut region.heap));
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

// The regions' memory is intentionally never freed with the thread-local
// state (a `Heap` frees nothing when dropped): the main thread's root
// region must outlive the TLS destructors that `exit` runs while timer or
// server threads may still read it.
thread_local! {
    static STATE: RefCell<State> = RefCell::new(State {
        cur: Box::new(Region::new(false)),
        outer: Vec::new(),
        spare: Vec::new(),
        cache: Vec::new(),
        pinned_regions: 0,
    });
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

/// Enters a fresh callback region (`callback.rs`); answers whether it is
/// the thread's outermost one (no other callback region is active).
#[inline]
pub(crate) fn begin_callback() -> bool {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let region = match s.spare.pop() {
            Some(mut b) => {
                *b = Region::new(true);
                b
            }
            None => Box::new(Region::new(true)),
        };
        s.enter(region);
        !s.outer.iter().any(|r| r.callback)
    })
}

/// Leaves the callback region [`begin_callback`] entered: it is freed
/// (kept for its pins, or for ever, see the module documentation).
#[inline]
pub(crate) fn end_callback() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let region = s.leave();
        s.end_region(region);
    });
}

/// A region of its own, not tied to a thread or a callback: the heap of
/// something that outlives callbacks (a service's state, issue 23). It is
/// the current region only inside [`with_region`], on whatever thread
/// runs that; in between it is a value that may move between threads.
/// Collections of it run at safepoints while it is current, with the
/// thread's stack and its pins as roots, like any region's.
///
/// Contract (as for any region: values only point to older regions): a
/// value of an own region never points into another region, so whoever
/// runs code in it copies values in ([`with_region`]) and results out.
/// Its memory is released when it is dropped (kept, collected to what they
/// reach, while pins into it are alive).
pub struct OwnRegion(Option<Box<Region>>);

impl OwnRegion {
    /// An empty region of its own.
    pub fn new() -> OwnRegion {
        OwnRegion(Some(Box::new(Region {
            own: true,
            ..Region::new(false)
        })))
    }

    fn region(&self) -> &Region {
        self.0
            .as_deref()
            .expect("an own region is not current twice")
    }

    fn region_mut(&mut self) -> &mut Region {
        self.0
            .as_deref_mut()
            .expect("an own region is not current twice")
    }

    /// Bytes of its chunks and big objects.
    pub fn bytes(&self) -> usize {
        self.region().heap.bytes()
    }

    /// Bytes found live by its last collection, and collections so far.
    pub fn live(&self) -> (usize, usize) {
        let r = self.region();
        (r.heap.live, r.heap.collections)
    }

    /// Whether it has been handed enough memory since its last collection
    /// to want one (what makes the allocator signal a safepoint).
    pub fn wants_collection(&self) -> bool {
        self.region().wants_collection()
    }

    /// Collects it, while it is not current, with `roots` and its pins as
    /// the only roots: for a moment when the caller knows every value of
    /// the region that is still alive (a service between two messages: its
    /// state). Nothing is scanned conservatively, so nothing else may point
    /// into the region from a stack or Rust memory at that moment.
    pub fn collect_with_roots(&mut self, roots: &[i64]) {
        let region = self.region_mut();
        region.gc_requested = false;
        if region.keep_forever {
            return;
        }
        let mut words = region.pins.as_ref().map(|p| p.words()).unwrap_or_default();
        words.extend_from_slice(roots);
        let heap = &mut region.heap;
        let done = STATE.try_with(|s| {
            let mut s = s.borrow_mut();
            heap.collect(&[], &words, false, &mut s.cache, CACHE_MAX);
        });
        if done.is_err() {
            heap.collect(&[], &words, false, &mut Vec::new(), 0);
        }
        region.set_next_gc();
    }
}

impl Default for OwnRegion {
    fn default() -> OwnRegion {
        OwnRegion::new()
    }
}

impl Drop for OwnRegion {
    fn drop(&mut self) {
        // Thread-local storage already destroyed (thread exit): the memory
        // is leaked, as the thread's own regions are.
        if let Some(region) = self.0.take() {
            let _ = STATE.try_with(|s| s.borrow_mut().end_region(region));
        }
    }
}

/// Runs `f` with `region` as this thread's current region: every value
/// built meanwhile (by generated code and by the runtime) is allocated in
/// it, collections at safepoints collect it, and [`pin`]s go to it. The
/// previous current region is restored when `f` returns or unwinds.
pub fn with_region<R>(region: &mut OwnRegion, f: impl FnOnce() -> R) -> R {
    struct Leave<'r>(&'r mut OwnRegion);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            STATE.with(|s| self.0 .0 = Some(s.borrow_mut().leave()));
        }
    }
    let own = region.0.take().expect("an own region is not current twice");
    STATE.with(|s| s.borrow_mut().enter(own));
    let _leave = Leave(region);
    f()
}

/// Keeps `word` (a closure or any value of the current region) alive until
/// the returned [`Pin`] is dropped, whatever the region does meanwhile.
pub fn pin(word: i64) -> Pin {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if !s.cur.own && s.outer.len() > 1 {
            // A nested callback: the value may reach any enclosing region,
            // down to the nearest own region (whose values point nowhere
            // else).
            for r in s.outer.iter_mut().rev() {
                r.keep_forever = true;
                if r.own {
                    break;
                }
            }
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
/// by `safepoint.rs`'s `snow_check`) when it wants a collection (the
/// thread's signal may come from another region, current when it asked:
/// that one asks again when it is current again). `Err` when a callback's
/// live heap exceeds its limit.
#[inline(never)]
pub(crate) fn collect_at_safepoint() -> Result<(), Abort> {
    let wanted = STATE.with(|s| {
        let s = s.borrow();
        s.cur.gc_requested || s.cur.wants_collection()
    });
    if !wanted {
        return Ok(());
    }
    let mut regs = [0usize; 12];
    // A register holding the buffer's address is itself callee-saved by this
    // function's prologue, i.e. stored above `regs`, inside the scanned range.
    spill_callee_saved!(regs);
    let lo = regs.as_ptr() as usize;
    let hi = super::stack::with_current(|c| c.map(|c| c.stack_hi)).unwrap_or(0);
    let r = collect_current(&[(lo, hi.max(lo))], false);
    std::hint::black_box(&regs);
    r.map(|_| ())
}

/// Collects the current region with these root ranges (plus its pins).
fn collect_current(ranges: &[(usize, usize)], major: bool) -> Result<gc::CollectStats, Abort> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let s = &mut *s;
        let region = &mut *s.cur;
        region.gc_requested = false;
        if region.keep_forever {
            return Ok(Default::default());
        }
        let words = region.pins.as_ref().map(|p| p.words()).unwrap_or_default();
        let st = region
            .heap
            .collect(ranges, &words, major, &mut s.cache, CACHE_MAX);
        region.set_next_gc();
        let limit = super::settings::get().callback_heap_bytes;
        if region.callback && st.live > limit {
            return Err(Abort::HeapLimit {
                live: st.live,
                limit,
            });
        }
        Ok(st)
    })
}

/// `snow_alloc(bytes) -> ptr`: every heap object built by generated code.
#[no_mangle]
pub extern "C-unwind" fn snow_alloc(bytes: i64) -> *mut u8 {
    if bytes < 0 {
        super::panic::runtime_panic("allocation of a negative size");
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
    /// Regions entered and not left (callbacks and own regions).
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
        let regions = std::iter::once(&*s.cur).chain(s.outer.iter().map(|r| &**r));
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
            global_bytes: gc::GLOBAL_BYTES.load(Ordering::Relaxed),
            global_pinned_regions: GLOBAL_PINNED_REGIONS.load(Ordering::Relaxed),
        }
    })
}

/// Collects the current region now with `ranges` as the only roots besides
/// its pins (tests: a collection as a safepoint would run it).
#[cfg(test)]
pub(crate) fn collect_with_roots(ranges: &[(usize, usize)], major: bool) -> gc::CollectStats {
    collect_current(ranges, major).unwrap_or_default()
}
