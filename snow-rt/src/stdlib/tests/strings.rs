use crate::rt::testing::{opt, rl, rs, s};
use crate::rt::TD_STRING;
use crate::stdlib::prelude::snow_bool_to_string;
use crate::stdlib::string::*;

#[test]
fn length_counts_scalar_values() {
    assert_eq!(snow_string_length(s("héllo😀")), 6);
    assert_eq!(snow_string_byte_size(s("héllo😀")), 10);
    assert_eq!(snow_string_length(s("")), 0);
    // e + combining acute accent: two scalar values.
    assert_eq!(snow_string_length(s("e\u{301}")), 2);
}

#[test]
fn concat_eq_cmp() {
    let a = s("foo");
    let b = s("bär");
    assert_eq!(rs(snow_string_concat(a, b)), "foobär");
    assert_eq!(snow_string_concat(a, s("")), a);
    assert_eq!(snow_string_concat(s(""), b), b);
    assert_eq!(snow_string_eq(s("abc"), s("abc")), 1);
    assert_eq!(snow_string_eq(s("abc"), s("abd")), 0);
    assert_eq!(snow_string_eq(s(""), s("")), 1);
    assert_eq!(snow_string_cmp(s("abc"), s("abd")), -1);
    assert_eq!(snow_string_cmp(s("b"), s("abc")), 1);
    assert_eq!(snow_string_cmp(s("ab"), s("ab")), 0);
    assert_eq!(snow_string_cmp(s("ab"), s("abc")), -1);
    // Byte order: 'é' (0xC3..) sorts after 'z'.
    assert_eq!(snow_string_cmp(s("é"), s("z")), 1);
}

#[test]
fn contains_starts_ends() {
    let t = s("héllo wörld");
    assert_eq!(snow_string_contains(t, s("o w")), 1);
    assert_eq!(snow_string_contains(t, s("")), 1);
    assert_eq!(snow_string_contains(t, s("xyz")), 0);
    assert_eq!(snow_string_starts_with(t, s("hé")), 1);
    assert_eq!(snow_string_starts_with(t, s("he")), 0);
    assert_eq!(snow_string_ends_with(t, s("rld")), 1);
    assert_eq!(snow_string_ends_with(t, s("wö")), 0);
    assert_eq!(snow_string_ends_with(s("a"), s("ab")), 0);
}

#[test]
fn split_cases() {
    assert_eq!(
        rl(snow_string_split(s("a,b,,c"), s(","))),
        ["a", "b", "", "c"]
    );
    assert_eq!(rl(snow_string_split(s(",a,"), s(","))), ["", "a", ""]);
    assert_eq!(rl(snow_string_split(s("abc"), s(","))), ["abc"]);
    assert_eq!(rl(snow_string_split(s(""), s(","))), [""]);
    assert_eq!(
        rl(snow_string_split(s("a::b::c"), s("::"))),
        ["a", "b", "c"]
    );
    assert_eq!(rl(snow_string_split(s("hé😀"), s(""))), ["h", "é", "😀"]);
    assert!(rl(snow_string_split(s(""), s(""))).is_empty());
}

#[test]
fn join_cases() {
    let parts = crate::rt::list_from_slice(&[s("a"), s("b"), s("c")]);
    assert_eq!(rs(snow_string_join(parts, s(", "))), "a, b, c");
    assert_eq!(rs(snow_string_join(0, s(", "))), "");
    assert_eq!(
        rs(snow_string_join(
            crate::rt::list_from_slice(&[s("x")]),
            s("-")
        )),
        "x"
    );
    let split = snow_string_split(s("1 2 3"), s(" "));
    assert_eq!(rs(snow_string_join(split, s("+"))), "1+2+3");
}

#[test]
fn trim_cases() {
    assert_eq!(rs(snow_string_trim(s("  hi there \t\n"))), "hi there");
    assert_eq!(rs(snow_string_trim(s("\u{3000}x\u{a0}"))), "x");
    assert_eq!(rs(snow_string_trim(s("   "))), "");
    let t = s("same");
    assert_eq!(snow_string_trim(t), t);
}

#[test]
fn case_mapping_is_unicode() {
    assert_eq!(rs(snow_string_to_upper(s("héllo ß"))), "HÉLLO SS");
    assert_eq!(
        rs(snow_string_to_lower(s("ÀÉÎ Straße ΣΑ"))),
        "àéî straße σα"
    );
    assert_eq!(rs(snow_string_to_upper(s("abc123"))), "ABC123");
    assert_eq!(rs(snow_string_to_lower(s("ABC123"))), "abc123");
}

#[test]
fn replace_cases() {
    assert_eq!(rs(snow_string_replace(s("a-b-c"), s("-"), s("+"))), "a+b+c");
    assert_eq!(rs(snow_string_replace(s("aaa"), s("aa"), s("b"))), "ba");
    assert_eq!(rs(snow_string_replace(s("héllo"), s("é"), s("e"))), "hello");
    assert_eq!(rs(snow_string_replace(s("ab"), s(""), s("-"))), "-a-b-");
    assert_eq!(rs(snow_string_replace(s("abc"), s("x"), s("y"))), "abc");
    assert_eq!(rs(snow_string_replace(s("abc"), s("b"), s(""))), "ac");
}

#[test]
fn slice_by_scalar_values_clamped() {
    let t = s("héllo😀");
    assert_eq!(rs(snow_string_slice(t, 1, 3)), "éll");
    assert_eq!(rs(snow_string_slice(t, 5, 1)), "😀");
    assert_eq!(rs(snow_string_slice(t, 4, 100)), "o😀");
    assert_eq!(rs(snow_string_slice(t, 6, 1)), "");
    assert_eq!(rs(snow_string_slice(t, 100, 1)), "");
    assert_eq!(rs(snow_string_slice(t, -3, 2)), "hé");
    assert_eq!(rs(snow_string_slice(t, 1, -1)), "");
    assert_eq!(rs(snow_string_slice(t, 0, i64::MAX)), "héllo😀");
    assert_eq!(rs(snow_string_slice(t, i64::MIN, i64::MIN)), "");
}

#[test]
fn bool_to_string() {
    assert_eq!(rs(snow_bool_to_string(1)), "true");
    assert_eq!(rs(snow_bool_to_string(0)), "false");
    assert_eq!(snow_string_eq(snow_bool_to_string(1), s("true")), 1);
}

#[test]
fn bytes_functions() {
    use crate::stdlib::bytes::*;
    let b = snow_bytes_from_string(s("hé"));
    assert_eq!(snow_bytes_size(b), 3);
    assert_eq!(rs(opt(snow_bytes_to_string(b)).unwrap()), "hé");
    let bad = crate::rt::new_bytes(&[0xff, 0x00, 0x41]);
    assert_eq!(snow_bytes_size(bad), 3);
    assert_eq!(opt(snow_bytes_to_string(bad)), None);
    // SAFETY: String/Bytes objects built by this test.
    assert_eq!(unsafe { crate::rt::bytes_ref(bad) }, &[0xff, 0x00, 0x41]);
    assert_eq!(snow_bytes_size(crate::rt::new_bytes(&[])), 0);
}

#[test]
fn string_hash_and_eq_by_content() {
    let a = s("key");
    let b = s("key");
    assert_ne!(a, b);
    // SAFETY: String/Bytes objects built by this test.
    unsafe {
        assert!(crate::rt::eq_by(TD_STRING, a, b));
        assert_eq!(
            crate::rt::hash_by(TD_STRING, a),
            crate::rt::hash_by(TD_STRING, b)
        );
        assert!(!crate::rt::eq_by(TD_STRING, a, s("kez")));
        // Descriptor 0: identity.
        assert!(!crate::rt::eq_by(0, a, b));
    }
}

#[test]
fn env_get() {
    std::env::set_var("SNOW_RT_TEST_ENV_GET", "värde");
    let got = opt(crate::stdlib::env::snow_env_get(s("SNOW_RT_TEST_ENV_GET")));
    assert_eq!(rs(got.unwrap()), "värde");
    assert_eq!(
        opt(crate::stdlib::env::snow_env_get(s(
            "SNOW_RT_TEST_UNSET_VAR"
        ))),
        None
    );
    assert_eq!(opt(crate::stdlib::env::snow_env_get(s(""))), None);
    assert_eq!(opt(crate::stdlib::env::snow_env_get(s("A=B"))), None);
}

#[test]
fn index_of_counts_scalar_values_and_repeat() {
    assert_eq!(
        opt(snow_string_index_of(s("snowflake"), s("flake"))),
        Some(4)
    );
    assert_eq!(opt(snow_string_index_of(s("héllo"), s("llo"))), Some(2));
    assert_eq!(opt(snow_string_index_of(s("a"), s("b"))), None);
    assert_eq!(opt(snow_string_index_of(s("abc"), s(""))), Some(0));
    assert_eq!(rs(snow_string_repeat(s("ab"), 3)), "ababab");
    assert_eq!(rs(snow_string_repeat(s("ab"), 0)), "");
    assert_eq!(rs(snow_string_repeat(s("ab"), -2)), "");
    assert_eq!(rs(snow_string_repeat(s("é"), 2)), "éé");
}
