//! Regions: per-thread bump allocation (docs/ABI.md "Memory").
//!
//! Each thread has a *current region*: a list of chunks (64 KiB, or one
//! dedicated chunk for a big object) and a bump pointer. [`alloc`] (and so
//! `snow_alloc`) carves 8-aligned blocks out of it. The first region of a
//! thread is its *root region*, which is never freed (on the main thread it
//! holds everything `main` builds, including closures given to
//! `Timer.every` / `Ws.serve`, which other threads read until exit).
//!
//! [`run_callback`] swaps in a fresh region, runs the callback, catches any
//! unwinding panic and swaps the previous region back; the callback's region
//! is then freed (its standard chunks go to a small per-thread cache), unless
//! [`pin_current`] was called during the callback, in which case it (and
//! every enclosing callback region on this thread) is kept forever.

use std::alloc::{self, Layout};
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Size of a standard chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Objects larger than this get a dedicated chunk.
const BIG_OBJECT: usize = CHUNK_SIZE / 4;
/// Free standard chunks kept per thread for reuse.
const CACHE_MAX: usize = 16;
const CHUNK_ALIGN: usize = 16;

static GLOBAL_LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static GLOBAL_PINNED_REGIONS: AtomicUsize = AtomicUsize::new(0);

struct Chunk {
    ptr: *mut u8,
    size: usize,
}

impl Chunk {
    fn new(size: usize) -> Chunk {
        let layout = Layout::from_size_align(size, CHUNK_ALIGN).expect("chunk layout");
        // SAFETY: size > 0 (callers pass at least CHUNK_SIZE or a rounded object size > BIG_OBJECT).
        let ptr = unsafe { alloc::alloc(layout) };
        if ptr.is_null() {
            alloc::handle_alloc_error(layout);
        }
        GLOBAL_LIVE_BYTES.fetch_add(size, Ordering::Relaxed);
        Chunk { ptr, size }
    }

    fn free(self) {
        GLOBAL_LIVE_BYTES.fetch_sub(self.size, Ordering::Relaxed);
        let layout = Layout::from_size_align(self.size, CHUNK_ALIGN).expect("chunk layout");
        // SAFETY: allocated in `Chunk::new` with this layout, freed once (moved in).
        unsafe { alloc::dealloc(self.ptr, layout) }
    }
}

#[derive(Default)]
struct Region {
    chunks: Vec<Chunk>,
    next: usize,
    end: usize,
    pinned: bool,
    /// Bumped by every [`pin_current`]; a [`snow_region_reset`] whose mark
    /// predates a pin does nothing, so pinned values are never freed.
    pin_epoch: u64,
}

struct State {
    cur: Region,
    /// Number of `run_callback` frames active on this thread.
    depth: usize,
    cache: Vec<Chunk>,
    live_chunks: usize,
    live_bytes: usize,
    pinned_regions: usize,
}

impl State {
    const fn new() -> State {
        State {
            cur: Region {
                chunks: Vec::new(),
                next: 0,
                end: 0,
                pinned: false,
                pin_epoch: 0,
            },
            depth: 0,
            cache: Vec::new(),
            live_chunks: 0,
            live_bytes: 0,
            pinned_regions: 0,
        }
    }

    fn alloc(&mut self, n: usize) -> *mut u8 {
        let n = round8(n);
        if n <= self.cur.end - self.cur.next {
            let p = self.cur.next;
            self.cur.next += n;
            return p as *mut u8;
        }
        self.alloc_slow(n)
    }

    #[cold]
    fn alloc_slow(&mut self, n: usize) -> *mut u8 {
        if n > BIG_OBJECT {
            let c = Chunk::new(n);
            let p = c.ptr;
            self.live_chunks += 1;
            self.live_bytes += c.size;
            self.cur.chunks.push(c);
            return p;
        }
        let c = self.cache.pop().unwrap_or_else(|| Chunk::new(CHUNK_SIZE));
        self.live_chunks += 1;
        self.live_bytes += c.size;
        let p = c.ptr as usize;
        self.cur.next = p + n;
        self.cur.end = p + c.size;
        self.cur.chunks.push(c);
        p as *mut u8
    }

    fn release(&mut self, region: Region) {
        for c in region.chunks {
            self.live_chunks -= 1;
            self.live_bytes -= c.size;
            if c.size == CHUNK_SIZE && self.cache.len() < CACHE_MAX {
                self.cache.push(c);
            } else {
                c.free();
            }
        }
    }
}

// The thread-local state is intentionally never freed: the main thread's
// root region must outlive the TLS destructors that `exit` runs while timer
// or server threads may still read it.
thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::new()) };
}

fn round8(n: usize) -> usize {
    n.max(8).checked_add(7).expect("allocation size overflow") & !7
}

/// Allocates `n` bytes, 8-aligned, from the current thread's current region.
/// The memory is uninitialized and lives as long as the region.
pub fn alloc(n: usize) -> *mut u8 {
    match STATE.try_with(|s| s.borrow_mut().alloc(n)) {
        Ok(p) => p,
        // Thread-local storage already destroyed (thread exit): leak from the heap.
        Err(_) => {
            let layout = Layout::from_size_align(round8(n), 8).expect("layout");
            // SAFETY: non-zero size.
            let p = unsafe { alloc::alloc(layout) };
            if p.is_null() {
                alloc::handle_alloc_error(layout);
            }
            p
        }
    }
}

/// True while this thread runs inside [`run_callback`].
pub fn in_callback() -> bool {
    STATE.try_with(|s| s.borrow().depth > 0).unwrap_or(false)
}

/// Runs `f` in a fresh region on this thread and frees the region afterwards
/// (unless pinned). Nested calls are allowed. Any unwinding panic (a Snow
/// panic from `snow_panic`, or a Rust panic) is caught and returned as
/// `Err(message)`.
///
/// The result must not point into the callback's region (it is freed before
/// this returns): copy out what you need inside `f`.
pub fn run_callback<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    crate::stack::register_current_thread();
    let saved = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.depth += 1;
        std::mem::take(&mut s.cur)
    });
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.depth -= 1;
        let region = std::mem::replace(&mut s.cur, saved);
        if region.pinned {
            // Keep it forever; an enclosing region may hold values the pinned
            // closure captured, so keep that too (and let no loop mark in it
            // free them: bump its epoch).
            s.cur.pin_epoch += 1;
            if s.depth > 0 {
                s.cur.pinned = true;
            }
            s.pinned_regions += 1;
            GLOBAL_PINNED_REGIONS.fetch_add(1, Ordering::Relaxed);
            std::mem::forget(region.chunks);
        } else {
            s.release(region);
        }
    });
    result.map_err(|p| {
        let msg = crate::panic::message(p);
        if msg == "stack overflow" {
            crate::stack::release_unused_stack();
        }
        msg
    })
}

/// A collection at a safepoint (`crate::stack::snow_check`).
pub(crate) fn collect_at_safepoint() -> Result<(), String> {
    Ok(())
}

/// Marks the current callback region (and the enclosing ones on this thread)
/// to be kept until the process exits. Outside callbacks (root region) this
/// is a no-op: the root region is never freed anyway.
pub fn pin_current() {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.cur.pin_epoch += 1;
        if s.depth > 0 {
            s.cur.pinned = true;
        }
    });
}

/// A position in the current region, allocated in the region itself (so it
/// lies below the position it records).
#[repr(C)]
struct Mark {
    chunks: usize,
    next: usize,
    end: usize,
    pin_epoch: u64,
}

/// `snow_region_mark() -> mark`: the current position of this thread's
/// region. Generated code takes one at the entry of a loop (a function with a
/// self tail call) whose parameters are all scalars (docs/ABI.md "Memory").
#[no_mangle]
pub extern "C-unwind" fn snow_region_mark() -> i64 {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let m = s.alloc(std::mem::size_of::<Mark>()) as *mut Mark;
        let mark = Mark {
            chunks: s.cur.chunks.len(),
            next: s.cur.next,
            end: s.cur.end,
            pin_epoch: s.cur.pin_epoch,
        };
        // SAFETY: freshly allocated, 8-aligned, large enough.
        unsafe { m.write(mark) };
        m as i64
    })
}

/// `snow_region_reset(mark)`: frees everything allocated in this region
/// since `mark`. Generated code calls it before a self tail call whose new
/// arguments are all scalars, when no value allocated in the iteration can
/// be live any more. If the region was pinned since the mark, nothing is
/// freed this time and the mark moves up to the current position.
#[no_mangle]
pub extern "C-unwind" fn snow_region_reset(mark: i64) -> i64 {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        // SAFETY: `mark` was returned by `snow_region_mark` on this thread, in
        // this region (same function activation), and lies below the reset point.
        let m = unsafe { &mut *(mark as *mut Mark) };
        debug_assert!(
            m.chunks <= s.cur.chunks.len(),
            "region mark from another region"
        );
        if m.chunks > s.cur.chunks.len() {
            return 0;
        }
        if m.pin_epoch != s.cur.pin_epoch {
            // Something was pinned since the mark: keep everything up to
            // here and move the mark to the current position, so later
            // iterations are freed again (only scalars are live at a reset).
            *m = Mark {
                chunks: s.cur.chunks.len(),
                next: s.cur.next,
                end: s.cur.end,
                pin_epoch: s.cur.pin_epoch,
            };
            return 0;
        }
        let extra: Vec<Chunk> = s.cur.chunks.drain(m.chunks..).collect();
        let freed = Region {
            chunks: extra,
            ..Region::default()
        };
        s.release(freed);
        s.cur.next = m.next;
        s.cur.end = m.end;
        0
    })
}

/// Memory statistics of the current thread's regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Chunks owned by live regions of this thread (root, active callbacks, pinned).
    pub live_chunks: usize,
    /// Bytes of those chunks.
    pub live_bytes: usize,
    /// Free standard chunks cached for reuse.
    pub cached_chunks: usize,
    /// Callback regions pinned on this thread so far.
    pub pinned_regions: usize,
    /// `run_callback` depth.
    pub depth: usize,
    /// Bytes of all chunks of all threads (including caches and pinned regions).
    pub global_bytes: usize,
}

/// This thread's region statistics.
pub fn stats() -> Stats {
    STATE.with(|s| {
        let s = s.borrow();
        Stats {
            live_chunks: s.live_chunks,
            live_bytes: s.live_bytes,
            cached_chunks: s.cache.len(),
            pinned_regions: s.pinned_regions,
            depth: s.depth,
            global_bytes: GLOBAL_LIVE_BYTES.load(Ordering::Relaxed),
        }
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
