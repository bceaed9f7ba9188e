//! Building values (docs/ABI.md "Values"): every object the runtime makes
//! for Snow code is made here, in the current region (`region.rs`).
//!
//! The standard library and the server build values only through these
//! functions, never with `region::alloc` (Lua's `lstrlib.c` is written
//! against `lua.h` alone in the same way): the layouts and the
//! collector's rules stay in the core. The one rule a builder keeps for
//! the collector (docs/ABI.md "Memory"): an object is complete before it
//! is handed out, and only objects made by the same builder call are
//! written after their allocation, so an older object never points to a
//! younger one.

use super::region::{alloc, alloc_noscan};
use super::value::{none, TAG_SOME};

/// A new Bytes object (copy of `b`) in the current region.
pub fn new_bytes(b: &[u8]) -> i64 {
    let p = alloc_noscan(8 + b.len());
    // SAFETY: `p` has room for the length word and `b.len()` bytes.
    unsafe {
        *(p as *mut i64) = b.len() as i64;
        std::ptr::copy_nonoverlapping(b.as_ptr(), p.add(8), b.len());
    }
    p as i64
}

/// A new String object (copy of `s`) in the current region.
pub fn new_str(s: &str) -> i64 {
    new_bytes(s.as_bytes())
}

/// A new String from several pieces, without an intermediate Rust buffer.
pub fn new_str_concat(parts: &[&str]) -> i64 {
    let len: usize = parts.iter().map(|s| s.len()).sum();
    let p = alloc_noscan(8 + len);
    // SAFETY: `p` has room for the length word and `len` bytes.
    unsafe {
        *(p as *mut i64) = len as i64;
        let mut at = p.add(8);
        for s in parts {
            std::ptr::copy_nonoverlapping(s.as_ptr(), at, s.len());
            at = at.add(s.len());
        }
    }
    p as i64
}

/// A constructor object `{ tag, fields... }` in the current region.
pub fn new_ctor(tag: i64, fields: &[i64]) -> i64 {
    let p = alloc(8 * (1 + fields.len())) as *mut i64;
    // SAFETY: `p` has room for 1 + fields.len() words.
    unsafe {
        *p = tag;
        std::ptr::copy_nonoverlapping(fields.as_ptr(), p.add(1), fields.len());
    }
    p as i64
}

/// A tuple or struct: a pointer to its `fields` (no header), in the current
/// region. A tuple of no fields still gets a (one-word) object of its own.
pub fn new_tuple(fields: &[i64]) -> i64 {
    new_words(&[fields])
}

/// An object of words (a tuple, or the runtime's own structures: map
/// nodes, closures in tests) made of the concatenation of `parts`.
pub fn new_words(parts: &[&[i64]]) -> i64 {
    let n: usize = parts.iter().map(|p| p.len()).sum();
    let p = alloc(8 * n) as *mut i64;
    let mut at = p;
    for part in parts {
        // SAFETY: `p` has room for `n` words, the sum of the parts' lengths.
        unsafe {
            std::ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
            at = at.add(part.len());
        }
    }
    p as i64
}

/// `Some(x)`.
pub fn some(x: i64) -> i64 {
    new_ctor(TAG_SOME, &[x])
}

/// An `Option` from a Rust option (`None` is the static object).
pub fn option(x: Option<i64>) -> i64 {
    match x {
        Some(x) => some(x),
        None => none(),
    }
}

/// A new list cell `{ head, tail }`.
pub fn cons(head: i64, tail: i64) -> i64 {
    let p = alloc(16) as *mut i64;
    // SAFETY: 16 fresh bytes.
    unsafe {
        *p = head;
        *p.add(1) = tail;
    }
    p as i64
}

/// A list of `items` in order.
pub fn list_from_slice(items: &[i64]) -> i64 {
    items.iter().rev().fold(0, |tail, &h| cons(h, tail))
}

/// A list of the elements of `items` in order followed by `tail` (shared):
/// `[items... | tail]`, copying only the prefix.
pub fn list_onto<I: Iterator<Item = i64>>(items: I, tail: i64) -> i64 {
    let mut first = 0i64;
    let mut last: *mut i64 = std::ptr::null_mut();
    for h in items {
        let c = cons(h, 0);
        if last.is_null() {
            first = c;
        } else {
            // SAFETY: `last` is a cell built just now by this call (the
            // rule in the module documentation: both cells are new).
            unsafe { *last.add(1) = c };
        }
        last = c as *mut i64;
    }
    if last.is_null() {
        return tail;
    }
    // SAFETY: as above.
    unsafe { *last.add(1) = tail };
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::value::{field, list_to_vec, str_ref, tag, word};

    #[test]
    fn builders_make_the_abi_layouts() {
        let s = new_str_concat(&["ab", "", "cd"]);
        // SAFETY: built above.
        unsafe {
            assert_eq!(str_ref(s), "abcd");
            let c = new_ctor(3, &[s, 7]);
            assert_eq!((tag(c), field(c, 0), field(c, 1)), (3, s, 7));
            assert_eq!(
                list_to_vec(list_onto([1, 2].into_iter(), list_from_slice(&[3]))),
                [1, 2, 3]
            );
            assert_eq!(
                list_onto(std::iter::empty(), 5),
                5,
                "an empty prefix is the tail itself"
            );
        }
    }

    #[test]
    fn a_tuple_is_its_words_without_a_header() {
        let s = new_str("x");
        let t = new_tuple(&[1, s, -3]);
        // SAFETY: a tuple of three words.
        unsafe {
            assert_eq!((word(t, 0), word(t, 1), word(t, 2)), (1, s, -3));
            assert_eq!(
                *(t as *const i64),
                1,
                "word 0 is the first field, not a tag"
            );
        }
        assert_ne!(new_tuple(&[]), 0, "the empty tuple is an object too");
    }
}
