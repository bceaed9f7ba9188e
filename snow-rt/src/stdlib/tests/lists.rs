use crate::rt::list_from_slice;
use crate::rt::testing::{ints, opt, s};
use crate::rt::{TD_FLOAT, TD_INT, TD_STRING};
use crate::stdlib::list::*;

#[test]
fn build_and_read() {
    let xs = list_from_slice(&[1, 2, 3]);
    assert_eq!(ints(xs), [1, 2, 3]);
    assert_eq!(ints(snow_list_cons(0, xs)), [0, 1, 2, 3]);
    assert_eq!(snow_list_length(TD_INT, xs), 3);
    assert_eq!(snow_list_length(TD_INT, 0), 0);
    assert_eq!(list_from_slice(&[]), 0);
}

#[test]
fn get() {
    let xs = list_from_slice(&[10, 20, 30]);
    assert_eq!(opt(snow_list_get(TD_INT, xs, 0)), Some(10));
    assert_eq!(opt(snow_list_get(TD_INT, xs, 2)), Some(30));
    assert_eq!(opt(snow_list_get(TD_INT, xs, 3)), None);
    assert_eq!(opt(snow_list_get(TD_INT, xs, -1)), None);
    assert_eq!(opt(snow_list_get(TD_INT, 0, 0)), None);
}

#[test]
fn prepend_append_concat_share_structure() {
    let xs = list_from_slice(&[1, 2]);
    let p = snow_list_prepend(TD_INT, xs, 0);
    assert_eq!(ints(p), [0, 1, 2]);
    assert_eq!(snow_list_drop(TD_INT, p, 1), xs, "prepend shares xs");
    let a = snow_list_append(TD_INT, xs, 3);
    assert_eq!(ints(a), [1, 2, 3]);
    assert_eq!(ints(xs), [1, 2], "append leaves xs alone");
    assert_eq!(ints(snow_list_append(TD_INT, 0, 9)), [9]);
    let ys = list_from_slice(&[7, 8]);
    let c = snow_list_concat(TD_INT, xs, ys);
    assert_eq!(ints(c), [1, 2, 7, 8]);
    assert_eq!(snow_list_drop(TD_INT, c, 2), ys, "concat shares ys");
    assert_eq!(snow_list_concat(TD_INT, 0, ys), ys);
    assert_eq!(ints(snow_list_concat(TD_INT, xs, 0)), [1, 2]);
}

#[test]
fn reverse_drop_take() {
    let xs = list_from_slice(&[1, 2, 3, 4]);
    assert_eq!(ints(snow_list_reverse(TD_INT, xs)), [4, 3, 2, 1]);
    assert_eq!(snow_list_reverse(TD_INT, 0), 0);
    assert_eq!(ints(snow_list_drop(TD_INT, xs, 1)), [2, 3, 4]);
    assert_eq!(snow_list_drop(TD_INT, xs, 0), xs);
    assert_eq!(snow_list_drop(TD_INT, xs, -5), xs);
    assert_eq!(snow_list_drop(TD_INT, xs, 4), 0);
    assert_eq!(snow_list_drop(TD_INT, xs, 99), 0);
    assert_eq!(ints(snow_list_take(TD_INT, xs, 2)), [1, 2]);
    assert_eq!(
        snow_list_take(TD_INT, xs, 4),
        xs,
        "take of the whole list shares it"
    );
    assert_eq!(snow_list_take(TD_INT, xs, 100), xs);
    assert_eq!(snow_list_take(TD_INT, xs, 0), 0);
    assert_eq!(snow_list_take(TD_INT, xs, -1), 0);
    assert_eq!(ints(xs), [1, 2, 3, 4]);
}

#[test]
fn contains_uses_descriptor() {
    let xs = list_from_slice(&[s("a"), s("b")]);
    assert_eq!(snow_list_contains(TD_STRING, xs, s("b")), 1);
    assert_eq!(snow_list_contains(TD_STRING, xs, s("c")), 0);
    assert_eq!(snow_list_contains(TD_STRING, 0, s("a")), 0);
    let ns = list_from_slice(&[1, 5, 9]);
    assert_eq!(snow_list_contains(TD_INT, ns, 5), 1);
    assert_eq!(snow_list_contains(TD_INT, ns, 6), 0);
    let fs = list_from_slice(&[(0.0f64).to_bits() as i64, f64::NAN.to_bits() as i64]);
    assert_eq!(
        snow_list_contains(TD_FLOAT, fs, (-0.0f64).to_bits() as i64),
        1
    );
    assert_eq!(
        snow_list_contains(TD_FLOAT, fs, f64::NAN.to_bits() as i64),
        0
    );
}

#[test]
fn long_lists_do_not_recurse() {
    let items: Vec<i64> = (0..1_000_000).collect();
    let xs = list_from_slice(&items);
    assert_eq!(snow_list_length(TD_INT, xs), 1_000_000);
    let r = snow_list_reverse(TD_INT, xs);
    assert_eq!(opt(snow_list_get(TD_INT, r, 0)), Some(999_999));
    let c = snow_list_concat(TD_INT, xs, r);
    assert_eq!(snow_list_length(TD_INT, c), 2_000_000);
}
