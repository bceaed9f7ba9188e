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

#[test]
fn sort_is_ascending_and_stable() {
    let xs = list_from_slice(&[5, 3, -1, 4, 3]);
    assert_eq!(ints(snow_list_sort(TD_INT, xs)), [-1, 3, 3, 4, 5]);
    assert_eq!(ints(xs), [5, 3, -1, 4, 3], "the list itself is unchanged");
    let words: Vec<i64> = ["pear", "apple", "Zebra", "fig"]
        .iter()
        .map(|w| s(w))
        .collect();
    let sorted = snow_list_sort(TD_STRING, list_from_slice(&words));
    assert_eq!(
        crate::rt::testing::rl(sorted),
        ["Zebra", "apple", "fig", "pear"]
    );
    let f = |x: f64| x.to_bits() as i64;
    let nan = f(f64::NAN);
    let fs = snow_list_sort(TD_FLOAT, list_from_slice(&[f(2.5), nan, f(-1.0), f(0.5)]));
    let got: Vec<f64> = ints(fs)
        .into_iter()
        .map(|w| f64::from_bits(w as u64))
        .collect();
    assert_eq!(&got[..3], &[-1.0, 0.5, 2.5]);
    assert!(got[3].is_nan(), "NaN last");
    // Tuples (Int, String) by their first element, then the second;
    // stable for equal ones.
    let pair = crate::rt::testing::desc(crate::rt::TD_RECORD, &[TD_INT, TD_STRING]);
    let a = crate::rt::new_tuple(&[2, s("b")]);
    let b = crate::rt::new_tuple(&[1, s("z")]);
    let c = crate::rt::new_tuple(&[2, s("a")]);
    let d = crate::rt::new_tuple(&[1, s("z")]);
    assert_eq!(
        ints(snow_list_sort(pair, list_from_slice(&[a, b, c, d]))),
        [b, d, c, a]
    );
    // Unknown types keep their order; short lists are returned as they are.
    assert_eq!(
        ints(snow_list_sort(0, list_from_slice(&[3, 1, 2]))),
        [3, 1, 2]
    );
    let one = list_from_slice(&[7]);
    assert_eq!(snow_list_sort(TD_INT, one), one);
}

extern "C-unwind" fn length_key(_this: *const u8, x: i64) -> i64 {
    crate::stdlib::string::snow_string_length(x)
}

#[test]
fn sort_by_calls_the_key_and_is_stable() {
    let words: Vec<i64> = ["ccc", "a", "bb", "dd", "e"].iter().map(|w| s(w)).collect();
    let key = crate::rt::testing::closure(length_key as *const u8, &[]);
    let sorted = snow_list_sort_by(TD_STRING, TD_INT, list_from_slice(&words), key);
    assert_eq!(
        crate::rt::testing::rl(sorted),
        ["a", "e", "bb", "dd", "ccc"]
    );
    assert_eq!(snow_list_sort_by(TD_STRING, TD_INT, 0, key), 0);
}

#[test]
fn contains_compares_compound_values_by_content() {
    let pair = crate::rt::testing::desc(crate::rt::TD_RECORD, &[TD_INT, TD_STRING]);
    let xs = list_from_slice(&[
        crate::rt::new_tuple(&[1, s("a")]),
        crate::rt::new_tuple(&[2, s("b")]),
    ]);
    assert_eq!(
        snow_list_contains(pair, xs, crate::rt::new_tuple(&[2, s("b")])),
        1
    );
    assert_eq!(
        snow_list_contains(pair, xs, crate::rt::new_tuple(&[2, s("a")])),
        0
    );
    let strings = crate::rt::testing::desc(crate::rt::TD_LIST, &[TD_STRING]);
    let ls = list_from_slice(&[list_from_slice(&[s("x"), s("y")]), 0]);
    assert_eq!(
        snow_list_contains(strings, ls, list_from_slice(&[s("x"), s("y")])),
        1
    );
    assert_eq!(snow_list_contains(strings, ls, 0), 1);
    assert_eq!(
        snow_list_contains(strings, ls, list_from_slice(&[s("x")])),
        0
    );
}
