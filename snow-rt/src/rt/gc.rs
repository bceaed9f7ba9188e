//! The Snow heap of one region: bump allocation in aligned chunks, and a
//! conservative, non-moving mark-sweep collector (docs/ABI.md "Memory").
//!
//! **Layout.** A standard chunk is [`CHUNK_SIZE`] bytes aligned to its size,
//! so the chunk of an address is `addr & !(CHUNK_SIZE - 1)`. It starts with
//! three bitmaps of one bit per 8-byte granule: *starts* (an object begins
//! here), *marks* (the object is live) and *noscan* (the object holds no
//! pointers: strings and bytes). Objects are bump-allocated one after the
//! other, so an object extends to the next start bit (or the chunk's end);
//! every gap is covered by a *filler* (a noscan object), so extents are
//! exact. Objects above [`BIG_OBJECT`] get their own allocation ([`Big`]).
//!
//! **Collection.** Roots are scanned conservatively (any word that points
//! into an object of this heap, interior pointers included, keeps it); live
//! objects are traced the same way, word by word, except noscan ones. The
//! sweep turns every maximal run of dead objects into a filler, hands runs of
//! at least [`MIN_RUN`] bytes back to the bump allocator and frees chunks with
//! no live object. Nothing moves, so a conservative root can never be
//! updated wrongly.
//!
//! **Generations for free.** Snow values are immutable, so an object only
//! ever points to objects older than itself (the runtime's list builders
//! finish an object before any safepoint can run). Marks are therefore
//! *sticky*: a minor collection keeps the marks of objects that survived
//! earlier ones (they are old, and everything they reach is old and marked)
//! and only traces what is new; a major collection clears all marks first.
//! The heap decides which one runs ([`Heap::collect`]).

use std::alloc::{self, Layout};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Size (and alignment) of a standard chunk.
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Objects larger than this get an allocation of their own.
pub const BIG_OBJECT: usize = 16 * 1024;
/// Free runs shorter than this are not reused until they merge with others.
const MIN_RUN: usize = 128;
/// Collect after this many bytes were handed to the allocator (at least).
pub const MIN_GC_BYTES: usize = 8 << 20;

const GRANULE: usize = 8;
const GRANULES: usize = CHUNK_SIZE / GRANULE;
const BITMAP_WORDS: usize = GRANULES / 64;
const STARTS: usize = 0;
const MARKS: usize = 1;
const NOSCAN: usize = 2;
/// Bytes of the three bitmaps at the start of a chunk.
const HEADER: usize = 3 * BITMAP_WORDS * 8;
const FIRST_GRANULE: usize = HEADER / GRANULE;
/// The marks bitmap's first words cover the header's own granules, which
/// are never objects: they hold the chunk's bookkeeping for minor sweeps.
/// Word [`META_LIVE`]: live bytes at the chunk's last sweep; word
/// [`META_TOUCHED`]: non-zero once the allocator took memory from the
/// chunk since then. (A major collection clears them with the marks; it
/// sweeps every chunk and writes them again.)
const META_LIVE: usize = 0;
const META_TOUCHED: usize = 1;
const _: () = assert!(META_TOUCHED < FIRST_GRANULE / 64);

/// Reads word `word` (below `FIRST_GRANULE / 64`) of chunk `base`'s marks.
#[inline]
fn meta_get(base: usize, word: usize) -> u64 {
    debug_assert!(word < FIRST_GRANULE / 64);
    // SAFETY: `base` is a chunk and the word lies in its marks bitmap.
    unsafe { *bitmap(base, MARKS).add(word) }
}

/// Writes word `word` (below `FIRST_GRANULE / 64`) of chunk `base`'s marks.
#[inline]
fn meta_set(base: usize, word: usize, v: u64) {
    debug_assert!(word < FIRST_GRANULE / 64);
    // SAFETY: as `meta_get`.
    unsafe { *bitmap(base, MARKS).add(word) = v };
}

/// Marks the chunk holding `p` as allocated from since its last sweep.
#[inline]
fn touch(p: usize) {
    meta_set(p & !(CHUNK_SIZE - 1), META_TOUCHED, 1);
}

/// Bytes of all chunks and big objects of all heaps (statistics).
pub(crate) static GLOBAL_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Collections of all heaps so far (metrics).
pub(crate) static GLOBAL_COLLECTIONS: AtomicU64 = AtomicU64::new(0);

fn chunk_layout() -> Layout {
    Layout::from_size_align(CHUNK_SIZE, CHUNK_SIZE).expect("chunk layout")
}

/// A new chunk with clear bitmaps.
pub(crate) fn new_chunk() -> usize {
    // SAFETY: non-zero size.
    let p = unsafe { alloc::alloc(chunk_layout()) };
    if p.is_null() {
        alloc::handle_alloc_error(chunk_layout());
    }
    GLOBAL_BYTES.fetch_add(CHUNK_SIZE, Ordering::Relaxed);
    clear_bitmaps(p as usize);
    p as usize
}

/// Clears the starts and marks bitmaps (noscan bits are written with every start).
pub(crate) fn clear_bitmaps(base: usize) {
    // SAFETY: `base` is a chunk; the two bitmaps are its first 2 KiB.
    unsafe { std::ptr::write_bytes(base as *mut u64, 0, 2 * BITMAP_WORDS) };
}

/// Returns a chunk to the system.
pub(crate) fn free_chunk(base: usize) {
    GLOBAL_BYTES.fetch_sub(CHUNK_SIZE, Ordering::Relaxed);
    // SAFETY: allocated by `new_chunk` with this layout, freed once.
    unsafe { alloc::dealloc(base as *mut u8, chunk_layout()) }
}

#[inline]
fn bitmap(base: usize, which: usize) -> *mut u64 {
    (base + which * BITMAP_WORDS * 8) as *mut u64
}

#[inline]
fn get_bit(base: usize, which: usize, g: usize) -> bool {
    // SAFETY: `base` is a chunk and `g < GRANULES`.
    unsafe { *bitmap(base, which).add(g / 64) & (1 << (g % 64)) != 0 }
}

#[inline]
fn set_bit(base: usize, which: usize, g: usize) {
    // SAFETY: as `get_bit`.
    unsafe { *bitmap(base, which).add(g / 64) |= 1 << (g % 64) }
}

#[inline]
fn clear_bit(base: usize, which: usize, g: usize) {
    // SAFETY: as `get_bit`.
    unsafe { *bitmap(base, which).add(g / 64) &= !(1 << (g % 64)) }
}

/// Records an object (or filler) starting at `p`.
#[inline]
fn set_start(p: usize, noscan: bool) {
    let base = p & !(CHUNK_SIZE - 1);
    let g = (p - base) / GRANULE;
    set_bit(base, STARTS, g);
    if noscan {
        set_bit(base, NOSCAN, g);
    } else {
        clear_bit(base, NOSCAN, g);
    }
}

/// The start granule of the object containing granule `g` (none before the
/// first object of the chunk).
fn find_start(base: usize, g: usize) -> Option<usize> {
    let starts = bitmap(base, STARTS);
    let mut wi = g / 64;
    // Bits at or below g in its word.
    // SAFETY: `base` is a chunk and `g < GRANULES`, so wi < BITMAP_WORDS.
    let mut bits = unsafe { *starts.add(wi) } & (u64::MAX >> (63 - g % 64));
    loop {
        if bits != 0 {
            return Some(wi * 64 + 63 - bits.leading_zeros() as usize);
        }
        if wi <= FIRST_GRANULE / 64 {
            return None;
        }
        wi -= 1;
        // SAFETY: wi < BITMAP_WORDS.
        bits = unsafe { *starts.add(wi) };
    }
}

/// The granule after the object starting at `s`: the next start, or the chunk's end.
fn object_end(base: usize, s: usize) -> usize {
    let starts = bitmap(base, STARTS);
    let g = s + 1;
    if g >= GRANULES {
        return GRANULES;
    }
    let mut wi = g / 64;
    // SAFETY: wi < BITMAP_WORDS.
    let mut bits = unsafe { *starts.add(wi) } & (u64::MAX << (g % 64));
    loop {
        if bits != 0 {
            return wi * 64 + bits.trailing_zeros() as usize;
        }
        wi += 1;
        if wi >= BITMAP_WORDS {
            return GRANULES;
        }
        // SAFETY: wi < BITMAP_WORDS.
        bits = unsafe { *starts.add(wi) };
    }
}

/// An object above [`BIG_OBJECT`] bytes, in an allocation of its own.
pub(crate) struct Big {
    ptr: usize,
    size: usize,
    marked: bool,
    noscan: bool,
}

impl Big {
    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 16).expect("big object layout")
    }

    pub(crate) fn free(self) {
        GLOBAL_BYTES.fetch_sub(self.size, Ordering::Relaxed);
        // SAFETY: allocated in `Heap::alloc_big` with this layout.
        unsafe { alloc::dealloc(self.ptr as *mut u8, Big::layout(self.size)) }
    }
}

/// What a collection found (`live` decides the next collection; the rest
/// is for tests).
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct CollectStats {
    /// Bytes of live objects (fillers included) after the collection.
    pub live: usize,
    /// Chunks freed.
    pub freed_chunks: usize,
    /// Whether all marks were cleared first.
    pub major: bool,
}

/// The memory of one region.
pub(crate) struct Heap {
    /// Standard chunks (base addresses).
    pub(crate) chunks: Vec<usize>,
    pub(crate) bigs: Vec<Big>,
    /// The bump run: `[cursor, limit)`.
    cursor: usize,
    limit: usize,
    /// Free runs from the last sweep, used from the end.
    runs: Vec<(usize, usize)>,
    /// Bytes handed to the bump allocator (runs, fresh chunks, big objects)
    /// since the last collection.
    pub(crate) taken: usize,
    /// Live bytes after the last collection, and after the last major one.
    pub(crate) live: usize,
    live_at_major: usize,
    /// Collections run (statistics and tests).
    pub(crate) collections: usize,
    /// The next sweep visits every chunk even if minor (the free runs were
    /// dropped, see [`Heap::release_free_pages`]).
    sweep_all: bool,
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

impl Heap {
    pub(crate) const fn new() -> Heap {
        Heap {
            chunks: Vec::new(),
            bigs: Vec::new(),
            cursor: 0,
            limit: 0,
            runs: Vec::new(),
            taken: 0,
            live: 0,
            live_at_major: 0,
            collections: 0,
            sweep_all: false,
        }
    }

    /// Allocates `n` bytes (8-aligned); `noscan` for objects without pointers.
    #[inline]
    pub(crate) fn alloc(&mut self, n: usize, noscan: bool, cache: &mut Vec<usize>) -> *mut u8 {
        let n = round8(n);
        if n <= self.limit - self.cursor {
            let p = self.cursor;
            self.cursor += n;
            set_start(p, noscan);
            return p as *mut u8;
        }
        self.alloc_slow(n, noscan, cache)
    }

    #[cold]
    fn alloc_slow(&mut self, n: usize, noscan: bool, cache: &mut Vec<usize>) -> *mut u8 {
        if n > BIG_OBJECT {
            return self.alloc_big(n, noscan);
        }
        self.close_run();
        loop {
            match self.runs.pop() {
                Some((a, b)) if b - a >= n => {
                    touch(a);
                    self.cursor = a;
                    self.limit = b;
                    self.taken += b - a;
                    break;
                }
                // Too short: it stays a filler until the next sweep (which
                // must visit its chunk to find it again).
                Some((a, _)) => touch(a),
                None => {
                    let base = match cache.pop() {
                        // Cached chunks with the low bit set have clear bitmaps.
                        Some(c) if c & 1 == 1 => c & !1,
                        Some(c) => {
                            clear_bitmaps(c);
                            c
                        }
                        None => new_chunk(),
                    };
                    self.chunks.push(base);
                    touch(base);
                    self.cursor = base + HEADER;
                    self.limit = base + CHUNK_SIZE;
                    self.taken += CHUNK_SIZE - HEADER;
                    break;
                }
            }
        }
        let p = self.cursor;
        self.cursor += n;
        set_start(p, noscan);
        p as *mut u8
    }

    fn alloc_big(&mut self, n: usize, noscan: bool) -> *mut u8 {
        // SAFETY: n > 0.
        let p = unsafe { alloc::alloc(Big::layout(n)) };
        if p.is_null() {
            alloc::handle_alloc_error(Big::layout(n));
        }
        GLOBAL_BYTES.fetch_add(n, Ordering::Relaxed);
        self.bigs.push(Big {
            ptr: p as usize,
            size: n,
            marked: false,
            noscan,
        });
        self.taken += n;
        p
    }

    /// Ends the bump run: its unused rest becomes a filler.
    fn close_run(&mut self) {
        if self.cursor < self.limit {
            set_start(self.cursor, true);
        }
        self.cursor = 0;
        self.limit = 0;
    }

    /// Bytes of chunks and big objects owned.
    pub(crate) fn bytes(&self) -> usize {
        self.chunks.len() * CHUNK_SIZE + self.bigs.iter().map(|b| b.size).sum::<usize>()
    }

    /// Collects: `ranges` (address ranges, e.g. the stack) and `words` are the
    /// roots, scanned conservatively. `force_major` clears all marks first
    /// (also chosen when live data grew to twice what the last major
    /// collection found). Freed chunks go to `cache` (up to `cache_max`) or
    /// back to the system.
    pub(crate) fn collect(
        &mut self,
        ranges: &[(usize, usize)],
        words: &[i64],
        force_major: bool,
        cache: &mut Vec<usize>,
        cache_max: usize,
    ) -> CollectStats {
        self.close_run();
        // The free runs not taken since the last sweep: a minor sweep keeps
        // those of the chunks it skips.
        let old_runs = std::mem::take(&mut self.runs);
        self.chunks.sort_unstable();
        self.bigs.sort_unstable_by_key(|b| b.ptr);
        let major = force_major || self.live > 2 * self.live_at_major + (1 << 20);
        if major {
            for &c in &self.chunks {
                // SAFETY: the marks bitmap of a chunk.
                unsafe { std::ptr::write_bytes(bitmap(c, MARKS), 0, BITMAP_WORDS) };
            }
            for b in &mut self.bigs {
                b.marked = false;
            }
        }
        let mut m = Marker {
            heap: self,
            lo: 0,
            hi: 0,
            stack: Vec::new(),
            chunk_bits: Vec::new(),
            chunk_base: 0,
            chunk_set: Default::default(),
        };
        m.bounds();
        for &(a, b) in ranges {
            m.scan(a, b);
        }
        for &w in words {
            m.mark(w as usize);
        }
        m.drain();
        let freed_chunks = self.sweep(cache, cache_max, major, &old_runs);
        if major {
            self.live_at_major = self.live;
        }
        self.taken = 0;
        self.collections += 1;
        GLOBAL_COLLECTIONS.fetch_add(1, Ordering::Relaxed);
        #[cfg(test)]
        self.verify();
        CollectStats {
            live: self.live,
            freed_chunks,
            major,
        }
    }

    /// Rebuilds the free runs from the marks, frees empty chunks and dead big
    /// objects, and recounts `live`.
    ///
    /// A minor sweep skips the chunks nothing was allocated in since the last
    /// sweep: marks are sticky, so such a chunk still holds only marked
    /// objects and the fillers that sweep made, and its free runs are the
    /// ones still in `old_runs` (taking a run touches its chunk). The one change
    /// a minor collection can make there is marking a filler (a conservative
    /// root pointing into free memory): that run is then live, as a full
    /// sweep would count it. A program with a large live heap (a million
    /// words in a list) thus pays for what it allocated, not for what it
    /// keeps.
    fn sweep(
        &mut self,
        cache: &mut Vec<usize>,
        cache_max: usize,
        major: bool,
        old_runs: &[(usize, usize)],
    ) -> usize {
        let mut live = 0;
        let mut kept = Vec::with_capacity(self.chunks.len());
        let mut freed = 0;
        let mut runs = Vec::new();
        let skip = !major && !self.sweep_all;
        self.sweep_all = false;
        let untouched = |base: usize| meta_get(base, META_TOUCHED) == 0;
        if skip {
            for &(a, b) in old_runs {
                let base = a & !(CHUNK_SIZE - 1);
                if !untouched(base) {
                    continue;
                }
                if get_bit(base, MARKS, (a - base) / GRANULE) {
                    meta_set(base, META_LIVE, meta_get(base, META_LIVE) + (b - a) as u64);
                } else {
                    runs.push((a, b));
                }
            }
        }
        for &base in &self.chunks {
            if skip && untouched(base) {
                live += meta_get(base, META_LIVE) as usize;
                kept.push(base);
                continue;
            }
            let mut chunk_live = 0;
            let mut free_from: Option<usize> = None;
            let mut chunk_runs: Vec<(usize, usize)> = Vec::new();
            let starts = bitmap(base, STARTS);
            for wi in FIRST_GRANULE / 64..BITMAP_WORDS {
                // SAFETY: wi < BITMAP_WORDS.
                let mut bits = unsafe { *starts.add(wi) };
                while bits != 0 {
                    let s = wi * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if get_bit(base, MARKS, s) {
                        if let Some(f) = free_from.take() {
                            chunk_runs.push((f, s));
                        }
                        chunk_live += (object_end(base, s) - s) * GRANULE;
                    } else if free_from.is_none() {
                        free_from = Some(s);
                    }
                }
            }
            if let Some(f) = free_from {
                chunk_runs.push((f, GRANULES));
            }
            if chunk_live == 0 {
                freed += 1;
                if cache.len() < cache_max {
                    cache.push(base);
                } else {
                    free_chunk(base);
                }
                continue;
            }
            for (a, b) in chunk_runs {
                // The run becomes one filler: clear the dead starts inside it.
                clear_range(base, a, b);
                set_bit(base, STARTS, a);
                set_bit(base, NOSCAN, a);
                if (b - a) * GRANULE >= MIN_RUN {
                    runs.push((base + a * GRANULE, base + b * GRANULE));
                }
            }
            meta_set(base, META_LIVE, chunk_live as u64);
            meta_set(base, META_TOUCHED, 0);
            live += chunk_live;
            kept.push(base);
        }
        self.chunks = kept;
        let mut bigs = Vec::with_capacity(self.bigs.len());
        for b in self.bigs.drain(..) {
            if b.marked {
                live += b.size;
                bigs.push(b);
            } else {
                b.free();
            }
        }
        self.bigs = bigs;
        self.runs = runs;
        self.live = live;
        freed
    }

    /// Returns the pages of the free runs to the system (`MADV_DONTNEED`):
    /// for a heap that will not allocate again (a finished callback's region
    /// kept for a pin), so its resident size is about what is live. The
    /// bitmaps at the start of each chunk stay.
    pub(crate) fn release_free_pages(&mut self) {
        const PAGE: usize = 4096;
        for &(a, b) in &self.runs {
            let lo = (a + PAGE - 1) & !(PAGE - 1);
            let hi = b & !(PAGE - 1);
            if hi > lo {
                // SAFETY: [lo, hi) lies inside a free run of a chunk this heap
                // owns; nothing reads it until it is allocated again (never,
                // for a kept region), and then it reads back as zeros.
                unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_DONTNEED) };
            }
        }
        self.runs.clear();
        // The runs are gone from the list: the next sweep finds them again.
        self.sweep_all = true;
    }

    /// Gives every chunk to `cache` (up to `cache_max`) or back to the
    /// system, and frees the big objects. A heap that never collected has no
    /// marks, so its chunks are cleaned here over the part used only (a
    /// short callback used a few hundred bytes of one chunk) and cached as
    /// clean (low bit set): the next callback need not clear 2 KiB of bitmaps.
    pub(crate) fn release(&mut self, cache: &mut Vec<usize>, cache_max: usize) {
        let current = if self.cursor != 0 {
            Some(self.cursor & !(CHUNK_SIZE - 1))
        } else {
            None
        };
        let clean_used = self.collections == 0;
        for c in self.chunks.drain(..) {
            if cache.len() >= cache_max {
                free_chunk(c);
            } else if clean_used {
                let used = if Some(c) == current {
                    (self.cursor - c).div_ceil(GRANULE)
                } else {
                    GRANULES
                };
                // SAFETY: the starts bitmap of chunk `c`, words up to `used`.
                unsafe {
                    std::ptr::write_bytes(bitmap(c, STARTS), 0, used.div_ceil(64).min(BITMAP_WORDS))
                };
                cache.push(c | 1);
            } else {
                cache.push(c);
            }
        }
        for b in self.bigs.drain(..) {
            b.free();
        }
        *self = Heap::default();
    }
}

/// Clears the start bits of granules `[a, b)`.
fn clear_range(base: usize, a: usize, b: usize) {
    let starts = bitmap(base, STARTS);
    let mut g = a;
    while g < b {
        let wi = g / 64;
        let lo = g % 64;
        let hi = (b - wi * 64).min(64);
        let mask = if hi - lo == 64 {
            u64::MAX
        } else {
            ((1u64 << (hi - lo)) - 1) << lo
        };
        // SAFETY: wi < BITMAP_WORDS.
        unsafe { *starts.add(wi) &= !mask };
        g = wi * 64 + hi;
    }
}

fn round8(n: usize) -> usize {
    n.max(8).checked_add(7).expect("allocation size overflow") & !7
}

/// The mark phase of one collection.
struct Marker<'h> {
    heap: &'h mut Heap,
    /// Lowest and highest address of any object of the heap.
    lo: usize,
    hi: usize,
    /// Objects marked whose words are still to scan: `[start, end)`.
    stack: Vec<(usize, usize)>,
    /// One bit per 64 KiB of `[lo & !(CHUNK_SIZE-1), hi)`: a standard chunk
    /// of this heap starts there (empty when that range is too large: then
    /// `chunk_set` answers).
    chunk_bits: Vec<u64>,
    chunk_base: usize,
    chunk_set: rustc_hash::FxHashSet<usize>,
}

impl Marker<'_> {
    fn bounds(&mut self) {
        let h = &self.heap;
        let mut lo = usize::MAX;
        let mut hi = 0;
        if let (Some(&a), Some(&b)) = (h.chunks.first(), h.chunks.last()) {
            lo = a;
            hi = b + CHUNK_SIZE;
        }
        if let (Some(a), Some(b)) = (h.bigs.first(), h.bigs.last()) {
            lo = lo.min(a.ptr);
            hi = hi.max(b.ptr + b.size);
        }
        self.lo = lo;
        self.hi = hi;
        // Chunks usually come from a compact address range; a bitmap over it
        // (at most 1 MiB for 64 GiB) answers "is this a chunk of ours" in O(1).
        if let (Some(&a), Some(&b)) = (h.chunks.first(), h.chunks.last()) {
            let units = (b - a) / CHUNK_SIZE + 1;
            if units <= 1 << 23 {
                let mut bits = vec![0u64; units.div_ceil(64)];
                for &c in &h.chunks {
                    let u = (c - a) / CHUNK_SIZE;
                    bits[u / 64] |= 1 << (u % 64);
                }
                self.chunk_bits = bits;
                self.chunk_base = a;
            } else {
                self.chunk_set = h.chunks.iter().copied().collect();
            }
        }
    }

    /// Whether `base` (64 KiB aligned) is one of the heap's standard chunks.
    #[inline]
    fn is_chunk(&self, base: usize) -> bool {
        if self.chunk_bits.is_empty() {
            return self.chunk_set.contains(&base);
        }
        if base < self.chunk_base {
            return false;
        }
        let u = (base - self.chunk_base) / CHUNK_SIZE;
        self.chunk_bits
            .get(u / 64)
            .is_some_and(|w| w & (1 << (u % 64)) != 0)
    }

    /// Marks the object `w` points into, if any.
    #[inline]
    fn mark(&mut self, w: usize) {
        if w < self.lo || w >= self.hi {
            return;
        }
        let base = w & !(CHUNK_SIZE - 1);
        if self.is_chunk(base) {
            let g = (w - base) / GRANULE;
            if g < FIRST_GRANULE {
                return;
            }
            let Some(s) = find_start(base, g) else { return };
            if get_bit(base, MARKS, s) {
                return;
            }
            set_bit(base, MARKS, s);
            if !get_bit(base, NOSCAN, s) {
                let e = object_end(base, s);
                self.stack.push((base + s * GRANULE, base + e * GRANULE));
            }
            return;
        }
        let bigs = &mut self.heap.bigs;
        let i = bigs.partition_point(|b| b.ptr <= w);
        if i == 0 {
            return;
        }
        let b = &mut bigs[i - 1];
        if w < b.ptr + b.size && !b.marked {
            b.marked = true;
            if !b.noscan {
                self.stack.push((b.ptr, b.ptr + b.size));
            }
        }
    }

    /// Marks from every aligned word of `[a, b)`.
    fn scan(&mut self, a: usize, b: usize) {
        let mut p = (a + 7) & !7;
        while p + 8 <= b {
            // SAFETY: the caller passes readable memory (a stack, an object).
            let w = unsafe { std::ptr::read_volatile(p as *const usize) };
            self.mark(w);
            p += 8;
        }
    }

    fn drain(&mut self) {
        while let Some((a, b)) = self.stack.pop() {
            self.scan(a, b);
        }
    }
}

/// The heap checker (Lua's `lua_checkmemory`): test builds run it after
/// every collection (`Heap::collect`), and GC tests call it between
/// allocations too.
#[cfg(test)]
impl Heap {
    /// Checks the heap's invariants and panics, naming the broken one:
    /// - chunks are distinct and aligned, big objects do not overlap;
    /// - in each chunk, objects tile the space after the bitmaps: the first
    ///   granule starts an object, no start or mark bit lies in the
    ///   bitmaps' own granules, marks are only on object starts;
    /// - the open bump run and every free run lie inside a chunk of this
    ///   heap, hold no start bit past their first granule, and end where
    ///   an object starts (or at the chunk's end); a free run is one
    ///   unmarked filler;
    /// - **a marked object points only to marked objects** (invariant 1
    ///   of `rt/mod.rs`: an old object points only to older ones, so
    ///   sticky marks are sound): every word of a marked, scannable object
    ///   that points into an object of this heap points into a marked one;
    /// - `live` (from the last sweep) is the bytes of the marked objects.
    pub(crate) fn verify(&self) {
        let mut chunks = self.chunks.clone();
        chunks.sort_unstable();
        for w in chunks.windows(2) {
            assert!(w[0] != w[1], "chunk {:#x} listed twice", w[0]);
        }
        for &c in &chunks {
            assert_eq!(c % CHUNK_SIZE, 0, "chunk {c:#x} is not aligned");
        }
        let mut bigs: Vec<&Big> = self.bigs.iter().collect();
        bigs.sort_unstable_by_key(|b| b.ptr);
        for w in bigs.windows(2) {
            assert!(w[0].ptr + w[0].size <= w[1].ptr, "big objects overlap");
        }
        for b in &bigs {
            assert!(b.size > BIG_OBJECT, "a big object of {} bytes", b.size);
        }
        let chunk_of = |p: usize| {
            chunks
                .binary_search(&(p & !(CHUNK_SIZE - 1)))
                .ok()
                .map(|i| chunks[i])
        };
        // The open bump run: [cursor, limit) is not yet objects.
        let open = (self.cursor != 0).then_some((self.cursor, self.limit));
        if let Some((a, b)) = open {
            let base = chunk_of(a).expect("the bump run lies in a chunk of the heap");
            assert!(
                a <= b && b <= base + CHUNK_SIZE,
                "bump run [{a:#x}, {b:#x}) leaves its chunk"
            );
            self.verify_run(base, a, b);
        }
        for &(a, b) in &self.runs {
            let base = chunk_of(a).expect("a free run lies in a chunk of the heap");
            assert!(
                a < b && b <= base + CHUNK_SIZE,
                "free run [{a:#x}, {b:#x}) leaves its chunk"
            );
            if open.is_some_and(|(oa, _)| oa == a) {
                continue;
            }
            let g = (a - base) / GRANULE;
            assert!(
                get_bit(base, STARTS, g) && get_bit(base, NOSCAN, g),
                "free run at {a:#x} is not a filler"
            );
            assert!(!get_bit(base, MARKS, g), "free run at {a:#x} is marked");
            self.verify_run(base, a, b);
        }
        // Objects: where they are, whether marked, and what marked ones reach.
        let marked_at = |w: usize| -> Option<bool> {
            if let Some(base) = chunk_of(w) {
                let g = (w - base) / GRANULE;
                if g < FIRST_GRANULE || open.is_some_and(|(a, b)| w >= a && w < b) {
                    return None;
                }
                return find_start(base, g).map(|s| get_bit(base, MARKS, s));
            }
            let i = bigs.partition_point(|b| b.ptr <= w);
            (i > 0 && w < bigs[i - 1].ptr + bigs[i - 1].size).then(|| bigs[i - 1].marked)
        };
        let check_words = |from: usize, to: usize| {
            let mut p = from;
            while p < to {
                // SAFETY: [from, to) is an object of this heap (readable).
                let w = unsafe { *(p as *const usize) };
                if marked_at(w) == Some(false) {
                    panic!("the marked object at {from:#x} points to an unmarked object ({w:#x}, word at {p:#x})");
                }
                p += GRANULE;
            }
        };
        let mut live = 0;
        for &base in &chunks {
            for g in 0..FIRST_GRANULE {
                assert!(
                    !get_bit(base, STARTS, g),
                    "a start bit in the bitmaps of chunk {base:#x}"
                );
                // (The first words of the marks are the chunk's bookkeeping.)
                assert!(
                    g < 64 * (META_TOUCHED + 1) || !get_bit(base, MARKS, g),
                    "a mark bit in the bitmaps of chunk {base:#x}"
                );
            }
            assert!(
                get_bit(base, STARTS, FIRST_GRANULE),
                "chunk {base:#x} does not start with an object"
            );
            let mut chunk_live = 0;
            for wi in FIRST_GRANULE / 64..BITMAP_WORDS {
                // SAFETY: the bitmaps of a chunk of this heap.
                let (starts, marks) =
                    unsafe { (*bitmap(base, STARTS).add(wi), *bitmap(base, MARKS).add(wi)) };
                assert_eq!(
                    marks & !starts,
                    0,
                    "a mark bit off an object start in chunk {base:#x}"
                );
                let mut bits = marks;
                while bits != 0 {
                    let s = wi * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let (from, to) = (base + s * GRANULE, base + object_end(base, s) * GRANULE);
                    assert!(
                        open.is_none_or(|(a, b)| to <= a || from >= b),
                        "the marked object at {from:#x} overlaps the bump run"
                    );
                    chunk_live += to - from;
                    if !get_bit(base, NOSCAN, s) {
                        check_words(from, to);
                    }
                }
            }
            // A chunk not allocated from since the last sweep knows its live
            // bytes (a minor sweep skips it and reads them).
            if meta_get(base, META_TOUCHED) == 0 {
                assert_eq!(
                    meta_get(base, META_LIVE) as usize,
                    chunk_live,
                    "chunk {base:#x}: the live bytes of its last sweep are not its marked objects"
                );
            }
            live += chunk_live;
        }
        for b in bigs.iter().filter(|b| b.marked) {
            live += b.size;
            if !b.noscan {
                check_words(b.ptr, b.ptr + b.size);
            }
        }
        assert_eq!(
            live, self.live,
            "the marked objects are not the live bytes of the last sweep"
        );
    }

    /// A run `[a, b)` of chunk `base`: no object starts inside it past `a`
    /// (a free run's filler, or a bump run not yet used, starts at `a`), and
    /// it ends where an object starts or at the chunk's end.
    fn verify_run(&self, base: usize, a: usize, b: usize) {
        let (ga, gb) = ((a - base) / GRANULE, (b - base) / GRANULE);
        for g in ga + 1..gb {
            assert!(
                !get_bit(base, STARTS, g),
                "an object starts inside the run [{a:#x}, {b:#x})"
            );
        }
        assert!(
            gb == GRANULES || get_bit(base, STARTS, gb),
            "the run [{a:#x}, {b:#x}) does not end at an object"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(h: &mut Heap, cache: &mut Vec<usize>, ws: &[i64]) -> i64 {
        let p = h.alloc(8 * ws.len(), false, cache) as *mut i64;
        // SAFETY: `p` has room for `ws.len()` words.
        unsafe { std::ptr::copy_nonoverlapping(ws.as_ptr(), p, ws.len()) };
        p as i64
    }

    #[test]
    fn unreachable_objects_are_reused_and_reachable_ones_kept() {
        let mut h = Heap::default();
        let mut cache = Vec::new();
        // A list of 1000 cells, the rest garbage.
        let mut list = 0i64;
        for i in 0..20_000i64 {
            let cell = words(&mut h, &mut cache, &[i, list]);
            if i % 20 == 0 {
                list = cell;
            } else {
                // garbage pointing at the list, so tracing must not follow it back
                words(&mut h, &mut cache, &[list, list]);
            }
        }
        let before = h.bytes();
        let st = h.collect(&[], &[list], true, &mut cache, 0);
        assert!(st.major);
        // 1000 kept cells of 16 bytes (plus fillers between them).
        assert!(st.live >= 1000 * 16, "{st:?}");
        assert!(h.bytes() <= before);
        // The list is intact.
        let mut n = 0;
        let mut cur = list;
        while cur != 0 {
            let c = cur as *const i64;
            // SAFETY: `cur` is a kept cell of two words (checked here).
            let (head, tail) = unsafe { (*c, *c.add(1)) };
            assert_eq!(head % 20, 0);
            cur = tail;
            n += 1;
        }
        assert_eq!(n, 1000);
        h.verify();
        // New allocations reuse freed runs (no new chunk) and never overlap the list.
        let chunks = h.chunks.len();
        for _ in 0..1000 {
            let w = words(&mut h, &mut cache, &[-1, -1]);
            let mut cur = list;
            while cur != 0 {
                assert_ne!(w, cur);
                // SAFETY: a kept cell of two words.
                cur = unsafe { *(cur as *const i64).add(1) };
            }
        }
        assert_eq!(h.chunks.len(), chunks);
        h.verify();
        h.release(&mut cache, 0);
    }

    #[test]
    fn the_verifier_catches_an_old_object_pointing_to_a_young_one() {
        let mut h = Heap::default();
        let mut cache = Vec::new();
        let old = words(&mut h, &mut cache, &[1, 2]);
        h.collect(&[], &[old], true, &mut cache, 0);
        let young = words(&mut h, &mut cache, &[3]);
        h.verify();
        // What immutability forbids: writing a younger object into an old one
        // (a minor collection would then free `young` under `old`).
        // SAFETY: `old` is a live two-word object of this heap.
        unsafe { *(old as *mut i64).add(1) = young };
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.verify()))
            .expect_err("the verifier must fail");
        let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(text.contains("points to an unmarked object"), "{text}");
        h.release(&mut cache, 0);
    }

    #[test]
    fn interior_and_tagged_pointers_keep_objects() {
        let mut h = Heap::default();
        let mut cache = Vec::new();
        let a = words(&mut h, &mut cache, &[1, 2, 3, 4]);
        let b = words(&mut h, &mut cache, &[5, 6]);
        let c = words(&mut h, &mut cache, &[7]);
        // a: an interior pointer; b: tagged like a map node (low bit set); c: nothing.
        h.collect(&[], &[a + 16, b | 1], true, &mut cache, 0);
        let starts_marked = |p: i64| {
            let base = p as usize & !(CHUNK_SIZE - 1);
            get_bit(base, MARKS, (p as usize - base) / GRANULE)
        };
        assert!(starts_marked(a));
        assert!(starts_marked(b));
        assert!(!starts_marked(c));
        h.release(&mut cache, 0);
    }

    #[test]
    fn noscan_objects_are_not_traced_and_big_objects_are_freed() {
        let mut h = Heap::default();
        let mut cache = Vec::new();
        let target = words(&mut h, &mut cache, &[42]);
        // A "string" whose bytes happen to hold the target's address.
        let s = h.alloc(16, true, &mut cache) as *mut i64;
        // SAFETY: 16 fresh bytes.
        unsafe {
            *s = 8;
            *s.add(1) = target
        };
        let big = h.alloc(100_000, false, &mut cache) as *mut i64;
        // SAFETY: 100,000 fresh bytes.
        unsafe { *big = target };
        let st = h.collect(&[], &[s as i64], true, &mut cache, 0);
        let base = target as usize & !(CHUNK_SIZE - 1);
        assert!(!get_bit(base, MARKS, (target as usize - base) / GRANULE));
        assert!(h.bigs.is_empty(), "the unreachable big object is freed");
        assert!(st.live < 4096, "{st:?}");
        h.release(&mut cache, 0);
    }

    #[test]
    fn minor_sweeps_skip_untouched_chunks_and_keep_their_runs() {
        let mut h = Heap::default();
        let mut cache = Vec::new();
        // An old list over many chunks, with garbage between its cells.
        let mut list = 0i64;
        for i in 0..40_000i64 {
            let cell = words(&mut h, &mut cache, &[i, list]);
            if i % 4 == 0 {
                list = cell;
            } else {
                words(&mut h, &mut cache, &[i; 20]);
            }
        }
        h.collect(&[], &[list], true, &mut cache, 0);
        let chunks = h.chunks.len();
        assert!(chunks > 20, "{chunks} chunks");
        let runs_before = h.runs.len();
        assert!(runs_before > 100, "{runs_before} free runs");
        // A root pointing into a free run of a chunk nobody allocates from:
        // its filler gets marked, and that run must not be handed out again.
        let (fa, fb) = h.runs[0];
        let st = h.collect(&[], &[list, fa as i64 + 8], false, &mut cache, 0);
        assert!(!st.major);
        assert!(
            !h.runs.contains(&(fa, fb)),
            "a marked filler's run is not free"
        );
        // Young objects in a few chunks: a minor collection keeps the live
        // ones, frees the rest, and every untouched chunk keeps its runs
        // (`verify`, run by every test collection, checks each chunk's
        // live bytes against its marks).
        let mut young = 0i64;
        for i in 0..2_000i64 {
            let cell = words(&mut h, &mut cache, &[i, young]);
            if i % 2 == 0 {
                young = cell;
            }
        }
        let st = h.collect(&[], &[list, young], false, &mut cache, 0);
        assert!(!st.major);
        assert!(
            h.runs.len() >= runs_before - 200,
            "{} of {runs_before} runs",
            h.runs.len()
        );
        let mut n = 0;
        let mut cur = young;
        while cur != 0 {
            // SAFETY: a kept cell of two words.
            cur = unsafe { *(cur as *const i64).add(1) };
            n += 1;
        }
        assert_eq!(n, 1000);
        // A major collection agrees with what the minor ones kept.
        let minor_live = h.live;
        let st = h.collect(&[], &[list, young], true, &mut cache, 0);
        assert!(st.major);
        assert!(st.live <= minor_live);
        h.release(&mut cache, 0);
    }

    #[test]
    fn minor_collections_keep_old_objects_without_tracing_them() {
        let mut h = Heap::default();
        let mut cache = Vec::new();
        let old = words(&mut h, &mut cache, &[1, 2]);
        h.collect(&[], &[old], true, &mut cache, 0);
        // `old` is marked (old). A young object pointing to it survives a
        // minor collection, and so does `old` without a root of its own.
        let young = words(&mut h, &mut cache, &[old, 3]);
        let st = h.collect(&[], &[young], false, &mut cache, 0);
        assert!(!st.major);
        let marked = |p: i64| {
            let base = p as usize & !(CHUNK_SIZE - 1);
            get_bit(base, MARKS, (p as usize - base) / GRANULE)
        };
        assert!(marked(old) && marked(young));
        // A major collection without roots frees both (the chunk goes away).
        let st = h.collect(&[], &[], true, &mut cache, 0);
        assert_eq!(st.freed_chunks, 1);
        assert!(h.chunks.is_empty());
        for c in cache.drain(..) {
            free_chunk(c & !1);
        }
    }
}
