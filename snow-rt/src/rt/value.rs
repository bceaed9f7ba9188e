//! Reading values (docs/ABI.md "Values"): the layouts, the fixed
//! constructor tags and the type descriptors shared with generated code.
//!
//! Every Snow value is one `i64` word. Strings and Bytes are pointers to
//! `{ i64 len; u8 bytes[len] }`, constructors are pointers to
//! `{ i64 tag; i64 fields[n] }`, a list is 0 or a pointer to a cell
//! `{ i64 head; i64 tail }`, a tuple or struct a pointer to its n words.
//!
//! The runtime's map object (opaque to generated code, built by
//! `stdlib/map.rs`, read here so that the core can compare, hash and copy
//! maps inside any value) is a persistent hash array mapped trie:
//! - the map `{ td_k, size, next_seq, root }`, where `root` is a *child
//!   word* and `td_k` the key's descriptor as far as it was known;
//! - a child word: 0 (empty, only as a root), an entry pointer (low bit 0)
//!   or a node pointer with the low bit set;
//! - an entry `{ hash, seq, key, value }` (`seq`: insertion order);
//! - a node `{ header, children[n] }`: `header >= 0` is a bitmap node (bit
//!   `i` set when the 5-bit hash digit `i` at this depth has a child,
//!   children in digit order); `header < 0` a collision node of `-header`
//!   entries that all have the same full hash.
//!
//! This file is the core's leaf: it reads values and never allocates (the
//! static `None` is no allocation); values are built by `builders.rs`.

/// `Some` is constructor 0 of `Option` (std/prelude.snow).
pub const TAG_SOME: i64 = 0;
/// `None` is constructor 1 of `Option`.
pub const TAG_NONE: i64 = 1;
/// `Ok` is constructor 0 of `Result`.
pub const TAG_OK: i64 = 0;
/// `Err` is constructor 1 of `Result`.
pub const TAG_ERR: i64 = 1;
/// `Text` is constructor 0 of `Frame` (std/ws/ws.snow).
pub const TAG_TEXT: i64 = 0;
/// `Binary` is constructor 1 of `Frame`.
pub const TAG_BINARY: i64 = 1;

/// Type descriptors passed to generic externs (docs/ABI.md "Generic externs").
pub const TD_UNKNOWN: i64 = 0;
pub const TD_INT: i64 = 1;
pub const TD_FLOAT: i64 = 2;
pub const TD_BOOL: i64 = 3;
pub const TD_STRING: i64 = 4;
pub const TD_UNIT: i64 = 5;
pub const TD_CONN: i64 = 6;
pub const TD_BYTES: i64 = 7;
pub const TD_OTHER: i64 = 8;
/// Kinds of the static descriptors of compound types (docs/ABI.md "Type
/// descriptors"): a descriptor word above [`TD_SUM`] is a pointer to
/// `{ i64 kind; i64 n; i64 parts[n] }` (read by `typedesc.rs`).
pub const TD_RECORD: i64 = 9;
pub const TD_LIST: i64 = 10;
pub const TD_MAP: i64 = 11;
pub const TD_SUM: i64 = 12;

/// The static `None` object: `{ i64 tag = 1 }`. Immutable, shared by all threads.
static NONE_OBJ: [i64; 1] = [TAG_NONE];

/// The bytes of a String or Bytes object.
///
/// # Safety
/// `w` must point to a live `{ i64 len; u8 bytes[len] }` object (guaranteed
/// by the type system for words typed `String`/`Bytes`).
pub unsafe fn bytes_ref<'a>(w: i64) -> &'a [u8] {
    let p = w as *const i64;
    // SAFETY: the caller passes a live String/Bytes object: a length word
    // followed by that many bytes, immutable for as long as it lives.
    unsafe {
        let len = *p;
        debug_assert!(len >= 0);
        std::slice::from_raw_parts(p.add(1) as *const u8, len.max(0) as usize)
    }
}

/// The text of a String object.
///
/// # Safety
/// As [`bytes_ref`]; String objects hold valid UTF-8 (every constructor of a
/// String checks or preserves it).
pub unsafe fn str_ref<'a>(w: i64) -> &'a str {
    // SAFETY: a String object (the caller's promise) holds valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(bytes_ref(w)) }
}

/// `None` (a static object: no allocation).
pub fn none() -> i64 {
    NONE_OBJ.as_ptr() as i64
}

/// The tag of a constructor object.
///
/// # Safety
/// `w` must point to a constructor object.
pub unsafe fn tag(w: i64) -> i64 {
    // SAFETY: a constructor object starts with its tag word.
    unsafe { *(w as *const i64) }
}

/// Field `i` of a constructor object.
///
/// # Safety
/// `w` must point to a constructor object with more than `i` fields.
pub unsafe fn field(w: i64, i: usize) -> i64 {
    // SAFETY: the object has a tag word and more than `i` field words.
    unsafe { *(w as *const i64).add(1 + i) }
}

/// Decodes an `Option` word into a Rust option.
///
/// # Safety
/// `w` must be an `Option` object.
pub unsafe fn option_get(w: i64) -> Option<i64> {
    // SAFETY: an Option object: `Some` has one field, `None` none.
    unsafe {
        if tag(w) == TAG_SOME {
            Some(field(w, 0))
        } else {
            None
        }
    }
}

/// Head and tail of a non-empty list.
///
/// # Safety
/// `xs` must be a non-empty list (a pointer to a cell).
pub unsafe fn uncons(xs: i64) -> (i64, i64) {
    let p = xs as *const i64;
    // SAFETY: a cell is two words, head then tail.
    unsafe { (*p, *p.add(1)) }
}

/// Iterates the elements of a list.
///
/// # Safety
/// `xs` must be a list (0 or a chain of cells ending in 0) that outlives
/// the iterator.
pub unsafe fn list_iter(xs: i64) -> impl Iterator<Item = i64> {
    let mut cur = xs;
    std::iter::from_fn(move || {
        if cur == 0 {
            None
        } else {
            // SAFETY: `cur` is a cell of the list the caller vouched for.
            let (h, t) = unsafe { uncons(cur) };
            cur = t;
            Some(h)
        }
    })
}

/// The elements of a list.
///
/// # Safety
/// `xs` must be a list.
pub unsafe fn list_to_vec(xs: i64) -> Vec<i64> {
    // SAFETY: as the caller promises.
    unsafe { list_iter(xs) }.collect()
}

/// Word `i` of a tuple or struct (a pointer to its words, no header).
///
/// # Safety
/// `w` must point to an object of more than `i` words.
pub unsafe fn word(w: i64, i: usize) -> i64 {
    // SAFETY: as the caller promises.
    unsafe { *(w as *const i64).add(i) }
}

/// The more precise of two descriptors for the same type variable (a generic
/// call site passes 0, "unknown").
pub fn join_td(a: i64, b: i64) -> i64 {
    if a != TD_UNKNOWN {
        a
    } else {
        b
    }
}

/// A String object in static memory (same layout as a heap one).
#[repr(C, align(8))]
pub struct StaticStr<const N: usize> {
    len: i64,
    bytes: [u8; N],
}

impl<const N: usize> StaticStr<N> {
    /// `bytes` must be UTF-8 when used as a String.
    pub const fn new(bytes: [u8; N]) -> Self {
        StaticStr {
            len: N as i64,
            bytes,
        }
    }

    /// The word for this object.
    pub fn word(&'static self) -> i64 {
        self as *const Self as i64
    }
}

/// The fields of a map object.
#[derive(Clone, Copy, Debug)]
pub struct MapHeader {
    /// The key's descriptor (0 when the map was built by generic code).
    pub td: i64,
    pub size: i64,
    pub next_seq: i64,
    pub root: i64,
}

/// The header of a map object.
///
/// # Safety
/// `m` must be a map object.
pub unsafe fn map_header(m: i64) -> MapHeader {
    // SAFETY: a map object is four words (the caller's promise).
    unsafe {
        let p = m as *const i64;
        MapHeader {
            td: *p,
            size: *p.add(1),
            next_seq: *p.add(2),
            root: *p.add(3),
        }
    }
}

/// `[hash, seq, key, value]` of a map entry.
///
/// # Safety
/// `e` must be an entry word of a map.
pub unsafe fn map_entry(e: i64) -> [i64; 4] {
    // SAFETY: an entry is four words (the caller's promise).
    unsafe { *(e as *const [i64; 4]) }
}

/// Whether a (non-zero) child word of a map is a node (else an entry).
pub fn map_is_node(w: i64) -> bool {
    w & 1 == 1
}

/// The header and children of a map node word.
///
/// # Safety
/// `w` must be a node word of a map that outlives the slice.
pub unsafe fn map_node<'a>(w: i64) -> (i64, &'a [i64]) {
    // SAFETY: a node word, low bit cleared, points to a header word and as
    // many children as the header says (a bitmap's bits, or -header entries).
    unsafe {
        let p = (w & !1) as *const i64;
        let h = *p;
        let n = if h >= 0 {
            (h as u64).count_ones() as usize
        } else {
            h.unsigned_abs() as usize
        };
        (h, std::slice::from_raw_parts(p.add(1), n))
    }
}

/// Appends every entry word under the child word `w` (any order; an
/// explicit stack, though a trie is at most 13 levels deep).
///
/// # Safety
/// `w` must be a child word of a map.
pub unsafe fn map_entry_words(w: i64, out: &mut Vec<i64>) {
    let mut stack = vec![w];
    while let Some(w) = stack.pop() {
        if w == 0 {
            continue;
        }
        if map_is_node(w) {
            // SAFETY: a node of the caller's map.
            stack.extend_from_slice(unsafe { map_node(w) }.1);
        } else {
            out.push(w);
        }
    }
}

/// The entries of a map in insertion order.
///
/// # Safety
/// `m` must be a map object.
pub unsafe fn map_entries(m: i64) -> Vec<[i64; 4]> {
    // SAFETY: `m` is a map (the caller's promise), its root a child word.
    unsafe {
        let h = map_header(m);
        let mut ws = Vec::with_capacity(h.size.max(0) as usize);
        map_entry_words(h.root, &mut ws);
        let mut es: Vec<[i64; 4]> = ws.into_iter().map(|e| map_entry(e)).collect();
        es.sort_unstable_by_key(|e| e[1]);
        es
    }
}
