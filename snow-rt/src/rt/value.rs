//! Reading values (docs/ABI.md "Values"): the layouts, the fixed
//! constructor tags and the type descriptors shared with generated code.
//!
//! Every Snow value is one `i64` word. Strings and Bytes are pointers to
//! `{ i64 len; u8 bytes[len] }`, constructors are pointers to
//! `{ i64 tag; i64 fields[n] }`, a list is 0 or a pointer to a cell
//! `{ i64 head; i64 tail }`, a tuple or struct a pointer to its n words.
//!
//! This file is the core's leaf: it reads values and never allocates (the
//! static `None` is no allocation); values are built by `builders.rs`.

use std::hash::Hasher;

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

/// Snow `==` for values of descriptor `td`: String/Bytes by content, Float
/// by IEEE value (NaN != NaN, 0.0 == -0.0), everything else by word.
///
/// # Safety
/// For descriptors 4 and 7 both words must be String/Bytes objects.
pub unsafe fn eq_by(td: i64, a: i64, b: i64) -> bool {
    match td {
        // SAFETY: words of these descriptors are String/Bytes objects.
        TD_STRING | TD_BYTES => a == b || unsafe { bytes_ref(a) == bytes_ref(b) },
        TD_FLOAT => f64::from_bits(a as u64) == f64::from_bits(b as u64),
        _ => a == b,
    }
}

/// A hash consistent with [`eq_by`] for the same descriptor.
///
/// # Safety
/// As [`eq_by`].
pub unsafe fn hash_by(td: i64, a: i64) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    match td {
        TD_STRING | TD_BYTES => {
            // SAFETY: words of these descriptors are String/Bytes objects.
            let b = unsafe { bytes_ref(a) };
            h.write(b);
            h.write_usize(b.len());
        }
        TD_FLOAT => {
            let x = f64::from_bits(a as u64);
            // 0.0 and -0.0 are equal, so they must hash alike.
            let bits = if x == 0.0 { 0 } else { x.to_bits() };
            h.write_u64(bits);
        }
        _ => h.write_i64(a),
    }
    h.finish()
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
