//! `List` (std/list.snow): immutable singly linked lists.
//!
//! `[]` is 0; a cell is `{ i64 head; i64 tail }`. Generic externs take the
//! element's type descriptor first (docs/ABI.md "Generic externs"); only
//! `contains` and the sorts use it (`rt::eq_by`, `rt::cmp_by`). Results share structure with their arguments where
//! possible: `drop` returns a tail, `append`/`concat` copy only the prefix,
//! `take` returns the list itself when it is short enough. Lists are built
//! with the core's builders (`rt::cons`, `rt::list_onto`).

use crate::rt::{
    call1, cmp_by, cons, eq_by, list_from_slice, list_iter as iter, list_onto, list_to_vec, none,
    option, uncons, TD_INT, TD_STRING,
};

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

/// `List.contains(xs, x)`: Snow's `==` for the element type (tuples,
/// structs, lists, maps and sum types by their parts; service handles by
/// identity).
#[no_mangle]
pub extern "C-unwind" fn snow_list_contains(td: i64, xs: i64, x: i64) -> i64 {
    // SAFETY: a list whose elements match descriptor `td`.
    unsafe { iter(xs).any(|h| eq_by(td, h, x)) as i64 }
}

/// Sorts `items` stably by `key(item)` under the order of descriptor `td`
/// (`rt::cmp_by`: Int, Bool, Float with NaN last, String by bytes, records
/// element by element; other values keep their order). Fast paths for Int
/// and String keys.
fn sort_by_td<T: Copy>(td: i64, items: &mut [T], key: impl Fn(&T) -> i64) {
    match td {
        TD_INT => items.sort_by_key(|x| key(x)),
        TD_STRING => {
            // SAFETY: String keys (the caller's descriptor says so).
            items.sort_by(|a, b| unsafe {
                crate::rt::bytes_ref(key(a)).cmp(crate::rt::bytes_ref(key(b)))
            })
        }
        // SAFETY: keys of descriptor `td`.
        _ => items.sort_by(|a, b| unsafe { cmp_by(td, key(a), key(b)) }),
    }
}

/// `List.sort(xs)`: ascending and stable (Rust's merge sort, O(n log n)).
#[no_mangle]
pub extern "C-unwind" fn snow_list_sort(td: i64, xs: i64) -> i64 {
    // SAFETY: a list of values of `td`.
    let mut items = unsafe { list_to_vec(xs) };
    if items.len() < 2 {
        return xs;
    }
    sort_by_td(td, &mut items, |&x| x);
    list_from_slice(&items)
}

/// `List.sort_by(xs, key)`: `xs` sorted by `key(x)`, stably. The keys are
/// computed by calling the Snow closure `key` from here (this is an extern,
/// not Snow code, because only its call site knows the key's type, whose
/// descriptor it passes). While `key` runs, a collection may happen: the
/// keys made so far are kept in a list of this region whose head lives in
/// a stack slot (a root of the conservative scan), as are `xs` and `key`.
#[no_mangle]
pub extern "C-unwind" fn snow_list_sort_by(_td_a: i64, td_k: i64, xs: i64, key: i64) -> i64 {
    let mut roots = [xs, key, 0i64];
    let slots = roots.as_mut_ptr();
    std::hint::black_box(slots);
    let mut n = 0usize;
    // SAFETY: a list; `key` a closure of one parameter; the slots are this
    // frame's own array.
    unsafe {
        for x in iter(xs) {
            let k = call1(key, x);
            let keys = cons(k, std::ptr::read_volatile(slots.add(2)));
            std::ptr::write_volatile(slots.add(2), keys);
            n += 1;
        }
        let mut keyed: Vec<(i64, i64)> = Vec::with_capacity(n);
        let keys = list_to_vec(std::ptr::read_volatile(slots.add(2)));
        for (x, k) in iter(xs).zip(keys.into_iter().rev()) {
            keyed.push((k, x));
        }
        sort_by_td(td_k, &mut keyed, |p| p.0);
        let sorted: Vec<i64> = keyed.into_iter().map(|(_, x)| x).collect();
        let out = list_from_slice(&sorted);
        std::hint::black_box(&roots);
        out
    }
}
