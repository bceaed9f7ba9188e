//! `List` (std/list.snow): immutable singly linked lists.
//!
//! `[]` is 0; a cell is `{ i64 head; i64 tail }`. Generic externs take the
//! element's type descriptor first (docs/ABI.md "Generic externs"); only
//! `contains` needs it. Results share structure with their arguments where
//! possible: `drop` returns a tail, `append`/`concat` copy only the prefix,
//! `take` returns the list itself when it is short enough. Lists are built
//! with the core's builders (`rt::cons`, `rt::list_onto`).

use crate::rt::{cons, eq_by, list_iter as iter, list_onto, none, option, uncons};

/// List literal cells and `for`.
#[no_mangle]
pub extern "C-unwind" fn snow_list_cons(head: i64, tail: i64) -> i64 {
    cons(head, tail)
}

/// `List.length`.
#[no_mangle]
pub extern "C-unwind" fn snow_list_length(_td: i64, xs: i64) -> i64 {
    // SAFETY: a list.
    unsafe { iter(xs) }.count() as i64
}

/// `List.get(xs, i)`: `Some` of the element at index `i`, `None` when `i` is
/// negative or too large.
#[no_mangle]
pub extern "C-unwind" fn snow_list_get(_td: i64, xs: i64, i: i64) -> i64 {
    if i < 0 {
        return none();
    }
    // SAFETY: a list.
    option(unsafe { iter(xs) }.nth(i as usize))
}

/// `List.prepend(xs, x)`: O(1).
#[no_mangle]
pub extern "C-unwind" fn snow_list_prepend(_td: i64, xs: i64, x: i64) -> i64 {
    cons(x, xs)
}

/// `List.append(xs, x)`: copies `xs` (O(n)).
#[no_mangle]
pub extern "C-unwind" fn snow_list_append(_td: i64, xs: i64, x: i64) -> i64 {
    // SAFETY: a list.
    list_onto(unsafe { iter(xs) }, cons(x, 0))
}

/// `List.concat(xs, ys)`: copies `xs`, shares `ys`.
#[no_mangle]
pub extern "C-unwind" fn snow_list_concat(_td: i64, xs: i64, ys: i64) -> i64 {
    // SAFETY: lists.
    list_onto(unsafe { iter(xs) }, ys)
}

/// `List.reverse`.
#[no_mangle]
pub extern "C-unwind" fn snow_list_reverse(_td: i64, xs: i64) -> i64 {
    // SAFETY: a list.
    unsafe { iter(xs) }.fold(0, |acc, h| cons(h, acc))
}

/// `List.drop(xs, n)`: the tail after the first `n` elements (shared); `xs`
/// when `n <= 0`, `[]` when `n` is at least the length.
#[no_mangle]
pub extern "C-unwind" fn snow_list_drop(_td: i64, xs: i64, n: i64) -> i64 {
    let mut cur = xs;
    let mut k = n;
    while k > 0 && cur != 0 {
        // SAFETY: `cur` is a non-empty list.
        cur = unsafe { uncons(cur) }.1;
        k -= 1;
    }
    cur
}

/// `List.take(xs, n)`: the first `n` elements (`[]` when `n <= 0`, `xs`
/// itself when it has at most `n` elements).
#[no_mangle]
pub extern "C-unwind" fn snow_list_take(_td: i64, xs: i64, n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    if snow_list_drop(0, xs, n) == 0 {
        return xs;
    }
    // SAFETY: a list.
    list_onto(unsafe { iter(xs) }.take(n as usize), 0)
}

/// `List.contains(xs, x)`: `==` for Int, Float, Bool, String, Conn (and Bytes
/// by content); identity otherwise.
#[no_mangle]
pub extern "C-unwind" fn snow_list_contains(td: i64, xs: i64, x: i64) -> i64 {
    // SAFETY: a list whose elements match descriptor `td`.
    unsafe { iter(xs).any(|h| eq_by(td, h, x)) as i64 }
}
