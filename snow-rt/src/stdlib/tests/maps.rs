use crate::rt::testing::{ints, opt, rl, rs, s};
use crate::rt::{TD_INT, TD_STRING};
use crate::stdlib::map::*;

const S: i64 = TD_STRING;
const I: i64 = TD_INT;

#[test]
fn string_keys_compare_by_content() {
    let m = snow_map_new(S, I);
    assert_eq!(snow_map_size(S, I, m), 0);
    let m = snow_map_put(S, I, m, s("alice"), 1);
    let m = snow_map_put(S, I, m, s("bob"), 2);
    // Equal content, different allocation.
    let k = s("alice");
    assert_eq!(opt(snow_map_get(S, I, m, k)), Some(1));
    assert_eq!(snow_map_has_key(S, I, m, s("bob")), 1);
    assert_eq!(snow_map_has_key(S, I, m, s("carol")), 0);
    assert_eq!(opt(snow_map_get(S, I, m, s("carol"))), None);
    let m2 = snow_map_put(S, I, m, s("alice"), 10);
    assert_eq!(snow_map_size(S, I, m2), 2);
    assert_eq!(opt(snow_map_get(S, I, m2, s("alice"))), Some(10));
    assert_eq!(
        opt(snow_map_get(S, I, m, s("alice"))),
        Some(1),
        "maps are immutable"
    );
}

#[test]
fn keys_in_insertion_order() {
    let mut m = snow_map_new(S, S);
    for k in ["zeta", "alpha", "mid"] {
        m = snow_map_put(S, S, m, s(k), s(&k.to_uppercase()));
    }
    assert_eq!(rl(snow_map_keys(S, S, m)), ["zeta", "alpha", "mid"]);
    // Re-putting keeps the position.
    let m = snow_map_put(S, S, m, s("zeta"), s("Z"));
    assert_eq!(rl(snow_map_keys(S, S, m)), ["zeta", "alpha", "mid"]);
    assert_eq!(rs(opt(snow_map_get(S, S, m, s("zeta"))).unwrap()), "Z");
    let d = snow_map_delete(S, S, m, s("alpha"));
    assert_eq!(rl(snow_map_keys(S, S, d)), ["zeta", "mid"]);
    assert_eq!(snow_map_size(S, S, d), 2);
    assert_eq!(snow_map_has_key(S, S, d, s("alpha")), 0);
    assert_eq!(snow_map_size(S, S, m), 3);
    let d2 = snow_map_put(S, S, d, s("alpha"), s("again"));
    assert_eq!(rl(snow_map_keys(S, S, d2)), ["zeta", "mid", "alpha"]);
}

#[test]
fn delete_absent_key_returns_same_map() {
    let m = snow_map_put(I, I, snow_map_new(I, I), 1, 100);
    assert_eq!(snow_map_delete(I, I, m, 2), m);
    let e = snow_map_delete(I, I, m, 1);
    assert_eq!(snow_map_size(I, I, e), 0);
    assert_eq!(snow_map_keys(I, I, e), 0);
}

#[test]
fn int_keys() {
    let mut m = snow_map_new(I, I);
    for i in 0..200 {
        m = snow_map_put(I, I, m, i * 7, i);
    }
    assert_eq!(snow_map_size(I, I, m), 200);
    for i in 0..200 {
        assert_eq!(opt(snow_map_get(I, I, m, i * 7)), Some(i));
    }
    assert_eq!(opt(snow_map_get(I, I, m, 1)), None);
    assert_eq!(ints(snow_map_keys(I, I, m))[..3], [0, 7, 14]);
}

#[test]
fn unknown_descriptor_uses_the_maps_own() {
    // Built where the key type was known, used from generic code (descriptor 0).
    let m = snow_map_put(S, I, snow_map_new(S, I), s("k"), 5);
    assert_eq!(opt(snow_map_get(0, 0, m, s("k"))), Some(5));
    let m = snow_map_put(0, 0, m, s("k"), 6);
    assert_eq!(snow_map_size(0, 0, m), 1);
    // Created generically, later used with a known descriptor.
    let g = snow_map_put(0, 0, snow_map_new(0, 0), s("x"), 1);
    let g = snow_map_put(S, I, g, s("x"), 2);
    assert_eq!(snow_map_size(S, I, g), 1);
    assert_eq!(opt(snow_map_get(0, 0, g, s("x"))), Some(2));
}

#[test]
fn from_string_pairs_builds_a_string_map() {
    let m = from_string_pairs(&[("host", "example.com"), ("x-id", "7"), ("host", "other")]);
    assert_eq!(snow_map_size(S, S, m), 2);
    assert_eq!(rs(opt(snow_map_get(S, S, m, s("host"))).unwrap()), "other");
    assert_eq!(rl(snow_map_keys(S, S, m)), ["host", "x-id"]);
}

/// Keys whose hashes share long prefixes and full collisions, checked
/// against a model (std HashMap + insertion order).
#[test]
fn many_keys_against_a_model() {
    use std::collections::HashMap;
    let mut m = snow_map_new(I, I);
    let mut model: HashMap<i64, i64> = HashMap::new();
    let mut order: Vec<i64> = Vec::new();
    let mut rng = 0x2545F4914F6CDD1Du64;
    for step in 0..20_000i64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let k = (rng % 3000) as i64;
        if rng.is_multiple_of(5) {
            m = snow_map_delete(I, I, m, k);
            if model.remove(&k).is_some() {
                order.retain(|x| *x != k);
            }
        } else {
            m = snow_map_put(I, I, m, k, step);
            if model.insert(k, step).is_none() {
                order.push(k);
            }
        }
    }
    assert_eq!(snow_map_size(I, I, m), model.len() as i64);
    for k in 0..3000 {
        assert_eq!(
            opt(snow_map_get(I, I, m, k)),
            model.get(&k).copied(),
            "key {k}"
        );
    }
    assert_eq!(ints(snow_map_keys(I, I, m)), order);
}

#[test]
fn float_keys_by_value() {
    let f = |x: f64| x.to_bits() as i64;
    let fl = crate::rt::TD_FLOAT;
    let m = snow_map_put(fl, I, snow_map_new(fl, I), f(0.0), 1);
    assert_eq!(opt(snow_map_get(fl, I, m, f(-0.0))), Some(1));
    let m = snow_map_put(fl, I, m, f(1.5), 2);
    assert_eq!(opt(snow_map_get(fl, I, m, f(1.5))), Some(2));
    assert_eq!(snow_map_size(fl, I, m), 2);
}

#[test]
fn old_versions_stay_intact() {
    let mut versions = vec![snow_map_new(S, I)];
    for i in 0..100 {
        let prev = *versions.last().unwrap();
        versions.push(snow_map_put(S, I, prev, s(&format!("k{i}")), i));
    }
    for (n, &v) in versions.iter().enumerate() {
        assert_eq!(snow_map_size(S, I, v), n as i64);
        for i in 0..100 {
            let got = opt(snow_map_get(S, I, v, s(&format!("k{i}"))));
            assert_eq!(got, if (i as usize) < n { Some(i) } else { None });
        }
    }
}

#[test]
fn delete_half_of_many_string_keys() {
    let mut m = snow_map_new(S, I);
    let keys: Vec<i64> = (0..2000).map(|i| s(&format!("user-{i}"))).collect();
    for (i, &k) in keys.iter().enumerate() {
        m = snow_map_put(S, I, m, k, i as i64);
    }
    for (i, &k) in keys.iter().enumerate() {
        if i % 2 == 0 {
            m = snow_map_delete(S, I, m, s(&rs(k)));
        }
    }
    assert_eq!(snow_map_size(S, I, m), 1000);
    for (i, &k) in keys.iter().enumerate() {
        let want = if i % 2 == 0 { None } else { Some(i as i64) };
        assert_eq!(opt(snow_map_get(S, I, m, k)), want);
    }
    let ks = rl(snow_map_keys(S, I, m));
    assert_eq!(ks.len(), 1000);
    assert_eq!(ks[0], "user-1");
    assert_eq!(ks[999], "user-1999");
}

#[test]
fn a_map_survives_collections_among_garbage() {
    std::thread::spawn(|| {
        // Map nodes are tagged pointers (low bit set) and share structure
        // with every older version of the map: what the collector keeps is
        // exactly what the newest version reaches.
        let mut m = snow_map_new(I, S);
        for i in 0..20_000 {
            let text = s(&format!("value {i}"));
            s(&format!("garbage {i}"));
            m = snow_map_put(I, S, m, i, text);
        }
        let keep = [m];
        let a = keep.as_ptr() as usize;
        crate::rt::testing::collect_with_roots(&[(a, a + 8)], true);
        for _ in 0..20_000 {
            s("more garbage to reuse the freed runs");
        }
        assert_eq!(snow_map_size(I, S, keep[0]), 20_000);
        for i in [0, 7, 12_345, 19_999] {
            let v = snow_map_get(I, S, keep[0], i);
            assert_eq!(rs(opt(v).unwrap()), format!("value {i}"));
        }
    })
    .join()
    .unwrap();
}

#[test]
fn to_list_values_and_from_list_keep_insertion_order() {
    let pairs: Vec<i64> = [("a", 1), ("b", 2), ("a", 3)]
        .iter()
        .map(|(k, v)| crate::rt::new_tuple(&[s(k), *v]))
        .collect();
    let m = snow_map_from_list(S, I, crate::rt::list_from_slice(&pairs));
    assert_eq!(snow_map_size(S, I, m), 2, "a later duplicate key wins");
    assert_eq!(
        rl(snow_map_keys(S, I, m)),
        ["a", "b"],
        "in the first one's position"
    );
    assert_eq!(ints(snow_map_values(S, I, m)), [3, 2]);
    let listed = ints(snow_map_to_list(S, I, m));
    // SAFETY: (String, Int) tuples.
    let got: Vec<(String, i64)> = listed
        .iter()
        .map(|&p| unsafe { (rs(crate::rt::word(p, 0)), crate::rt::word(p, 1)) })
        .collect();
    assert_eq!(got, [("a".to_string(), 3), ("b".to_string(), 2)]);
    assert_eq!(snow_map_to_list(S, I, snow_map_new(S, I)), 0);
}

#[test]
fn compound_keys_compare_by_value() {
    use crate::rt::testing::desc;
    use crate::rt::{list_from_slice, new_tuple, TD_LIST, TD_RECORD};
    // Map<(Int, Int), String>
    let pair = desc(TD_RECORD, &[I, I]);
    let mut m = snow_map_new(pair, S);
    for i in 0..200 {
        m = snow_map_put(pair, S, m, new_tuple(&[i, i * 2]), s(&format!("v{i}")));
    }
    assert_eq!(snow_map_size(pair, S, m), 200);
    assert_eq!(
        rs(opt(snow_map_get(pair, S, m, new_tuple(&[7, 14]))).unwrap()),
        "v7"
    );
    assert_eq!(snow_map_has_key(pair, S, m, new_tuple(&[14, 7])), 0);
    let m2 = snow_map_put(pair, S, m, new_tuple(&[7, 14]), s("seven"));
    assert_eq!(snow_map_size(pair, S, m2), 200, "an equal key replaces");
    let m3 = snow_map_delete(pair, S, m2, new_tuple(&[7, 14]));
    assert_eq!(snow_map_size(pair, S, m3), 199);
    // Map<List<String>, Int>
    let strings = desc(TD_LIST, &[S]);
    let key = |ws: &[&str]| list_from_slice(&ws.iter().map(|w| s(w)).collect::<Vec<_>>());
    let m = snow_map_put(strings, I, snow_map_new(strings, I), key(&["a", "b"]), 1);
    let m = snow_map_put(strings, I, m, key(&[]), 2);
    assert_eq!(opt(snow_map_get(strings, I, m, key(&["a", "b"]))), Some(1));
    assert_eq!(opt(snow_map_get(strings, I, m, key(&[]))), Some(2));
    assert_eq!(opt(snow_map_get(strings, I, m, key(&["a"]))), None);
    // A map built by generic code (descriptor 0) meets a typed call.
    let g = snow_map_put(0, 0, snow_map_new(0, 0), new_tuple(&[1, 2]), s("x"));
    assert_eq!(
        rs(opt(snow_map_get(pair, S, g, new_tuple(&[1, 2]))).unwrap()),
        "x"
    );
    let g = snow_map_put(pair, S, g, new_tuple(&[1, 2]), s("y"));
    assert_eq!(snow_map_size(pair, S, g), 1);
}

#[test]
fn maps_are_equal_when_their_entries_are() {
    let a = snow_map_put(
        S,
        I,
        snow_map_put(S, I, snow_map_new(S, I), s("x"), 1),
        s("y"),
        2,
    );
    let b = snow_map_put(
        S,
        I,
        snow_map_put(S, I, snow_map_new(S, I), s("y"), 2),
        s("x"),
        1,
    );
    assert_eq!(snow_map_eq(S, I, a, b), 1, "whatever the insertion order");
    let c = snow_map_put(S, I, b, s("x"), 5);
    assert_eq!(snow_map_eq(S, I, a, c), 0);
    let d = snow_map_delete(S, I, b, s("x"));
    assert_eq!(snow_map_eq(S, I, a, d), 0);
    assert_eq!(snow_map_eq(S, I, snow_map_new(S, I), snow_map_new(S, I)), 1);
}
