//! The core's API for tests of every layer (compiled only for tests):
//! closures built in Rust, values to and from Rust, and what a safepoint
//! or a collection of generated code would do.

use super::value::{list_to_vec, option_get, str_ref};

/// A closure object `{ code, 0, captures... }` in the current region (no
/// tail entry: only the runtime calls it; docs/ABI.md "Calls").
pub fn closure(code: *const u8, captures: &[i64]) -> i64 {
    super::builders::new_words(&[&[code as i64, 0], captures])
}

/// Capture `i` of closure `this`.
///
/// # Safety
/// `this` must be a closure object with more than `i` captures.
pub unsafe fn capture(this: *const u8, i: usize) -> i64 {
    // SAFETY: captures follow the two entry words.
    unsafe { *(this as *const i64).add(2 + i) }
}

/// A String object.
pub fn s(text: &str) -> i64 {
    super::builders::new_str(text)
}

/// The text of a String object.
pub fn rs(w: i64) -> String {
    // SAFETY: tests pass String objects.
    unsafe { str_ref(w) }.to_string()
}

/// The texts of a List<String>.
pub fn rl(xs: i64) -> Vec<String> {
    ints(xs).into_iter().map(rs).collect()
}

/// The elements of a list.
pub fn ints(xs: i64) -> Vec<i64> {
    // SAFETY: tests pass lists.
    unsafe { list_to_vec(xs) }
}

/// Decodes an Option.
pub fn opt(w: i64) -> Option<i64> {
    // SAFETY: tests pass Options.
    unsafe { option_get(w) }
}

pub use super::panic::snow_panic;
pub(crate) use super::region::collect_with_roots;
pub(crate) use super::safepoint::safepoint;

/// A type descriptor `{ kind, n, parts }` leaked for the test (as static as
/// the ones snowc emits).
pub fn desc(kind: i64, parts: &[i64]) -> i64 {
    let mut v = vec![kind, parts.len() as i64];
    v.extend_from_slice(parts);
    Box::leak(v.into_boxed_slice()).as_ptr() as i64
}

/// A closure object outside every region (leaked), like the static
/// closures of named functions in generated code: usable from any thread.
pub fn static_closure(code: *const u8) -> i64 {
    Box::leak(Box::new([code as i64, 0i64])).as_ptr() as i64
}
