//! `Json.parse` / `Json.encode`: tags against std/json.snow, numbers, escapes,
//! errors with offsets, nesting limits on small stacks, round trips.

use crate::rt::testing::{rs, s};
use crate::rt::{field, new_ctor, tag, TAG_ERR, TAG_OK};
use crate::stdlib::float::format_float;
use crate::stdlib::json::*;

/// A Json value as text that tells every constructor apart (test oracle).
fn show(j: i64) -> String {
    // SAFETY: Json values built by the parser or by this test.
    unsafe {
        match tag(j) {
            TAG_JNULL => "JNull".into(),
            TAG_JBOOL => format!("JBool({})", field(j, 0) != 0),
            TAG_JINT => format!("JInt({})", field(j, 0)),
            TAG_JFLOAT => format!(
                "JFloat({})",
                format_float(f64::from_bits(field(j, 0) as u64))
            ),
            TAG_JSTR => format!("JStr({:?})", rs(field(j, 0))),
            TAG_JLIST => {
                let items: Vec<String> = crate::rt::list_iter(field(j, 0)).map(show).collect();
                format!("JList[{}]", items.join(", "))
            }
            TAG_JOBJ => {
                let fields: Vec<String> = crate::stdlib::map::entries(field(j, 0))
                    .into_iter()
                    .map(|(k, v)| format!("{:?}: {}", rs(k), show(v)))
                    .collect();
                format!("JObj{{{}}}", fields.join(", "))
            }
            t => panic!("bad tag {t}"),
        }
    }
}

fn parsed(text: &str) -> String {
    match parse(text) {
        Ok(j) => show(j),
        Err(e) => panic!("{text:?} should parse, got {e}"),
    }
}

fn error(text: &str) -> String {
    match parse(text) {
        Ok(j) => panic!("{text:?} should not parse, got {}", show(j)),
        Err(e) => e.to_string(),
    }
}

fn enc(j: i64) -> String {
    // SAFETY: Json values built by the parser or by this test.
    unsafe { encode(j) }
}

fn roundtrip(text: &str) -> String {
    enc(parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}")))
}

#[test]
fn tags_follow_the_declaration_in_std() {
    let src = include_str!("../../../../std/json.snow");
    let body = src
        .split("pub type Json do")
        .nth(1)
        .and_then(|rest| rest.split("\nend").next())
        .expect("std/json.snow declares `pub type Json do ... end`");
    let ctors: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('(').next().unwrap())
        .collect();
    let runtime = [
        ("JNull", TAG_JNULL),
        ("JBool", TAG_JBOOL),
        ("JInt", TAG_JINT),
        ("JFloat", TAG_JFLOAT),
        ("JStr", TAG_JSTR),
        ("JList", TAG_JLIST),
        ("JObj", TAG_JOBJ),
    ];
    assert_eq!(ctors.len(), runtime.len(), "{ctors:?}");
    for (name, t) in runtime {
        assert_eq!(
            ctors.iter().position(|c| *c == name),
            Some(t as usize),
            "{name} must be constructor {t} of Json"
        );
    }
}

#[test]
fn scalars() {
    assert_eq!(parsed("null"), "JNull");
    assert_eq!(parsed(" true "), "JBool(true)");
    assert_eq!(parsed("\t\r\nfalse\n"), "JBool(false)");
    assert_eq!(parsed(r#""hi""#), r#"JStr("hi")"#);
    assert_eq!(parsed("[]"), "JList[]");
    assert_eq!(parsed("{}"), "JObj{}");
    assert_eq!(parsed("[ ]"), "JList[]");
    assert_eq!(parsed("{ }"), "JObj{}");
}

#[test]
fn int_or_float() {
    let cases = [
        ("0", "JInt(0)"),
        ("-0", "JInt(0)"),
        ("42", "JInt(42)"),
        ("9223372036854775807", "JInt(9223372036854775807)"),
        ("-9223372036854775808", "JInt(-9223372036854775808)"),
        ("9223372036854775808", "JFloat(9.223372036854776e18)"),
        ("-9223372036854775809", "JFloat(-9.223372036854776e18)"),
        ("18446744073709551616", "JFloat(1.8446744073709552e19)"),
        ("-0.0", "JFloat(-0.0)"),
        ("0e0", "JFloat(0.0)"),
        ("1e2", "JFloat(100.0)"),
        ("1E+2", "JFloat(100.0)"),
        ("1.0", "JFloat(1.0)"),
        ("0.1", "JFloat(0.1)"),
        ("-1.5e-3", "JFloat(-0.0015)"),
        ("1e-400", "JFloat(0.0)"),
        ("1.7976931348623157e308", "JFloat(1.7976931348623157e308)"),
    ];
    for (text, want) in cases {
        assert_eq!(parsed(text), want, "{text}");
    }
    assert_eq!(error("1e400"), "number out of range at byte 0");
    assert_eq!(error("[-1e309]"), "number out of range at byte 1");
    // The Float range ends between 308 and 309 nines.
    assert_eq!(parsed(&"9".repeat(308)), "JFloat(1.0e308)");
    assert_eq!(error(&"9".repeat(309)), "number out of range at byte 0");
    assert_eq!(
        error(&format!("[{}]", "9".repeat(5000))),
        "number out of range at byte 1"
    );
    assert!(parsed(&format!("0.{}1", "0".repeat(5000))).starts_with("JFloat(0.0"));
}

#[test]
fn strings_and_escapes() {
    assert_eq!(
        parsed(r#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac""#),
        r#"JStr("\"\\/\u{8}\u{c}\n\r\tAé€")"#
    );
    assert_eq!(parsed(r#""\ud83d\ude00""#), r#"JStr("😀")"#);
    assert_eq!(parsed("\"héllo 😀\""), r#"JStr("héllo 😀")"#);
    assert_eq!(parsed(r#""\u0000""#), r#"JStr("\0")"#);
    // DEL is not a control character for JSON.
    assert_eq!(parsed("\"\u{7f}\""), r#"JStr("\u{7f}")"#);
}

#[test]
fn objects_keep_document_order_and_last_duplicate_wins() {
    assert_eq!(
        parsed(r#"{"b": 1, "a": [true, null], "c": {"z": "y"}}"#),
        r#"JObj{"b": JInt(1), "a": JList[JBool(true), JNull], "c": JObj{"z": JStr("y")}}"#
    );
    assert_eq!(
        parsed(r#"{"a": 1, "b": 2, "a": 3}"#),
        r#"JObj{"a": JInt(3), "b": JInt(2)}"#
    );
    assert_eq!(parsed(r#"{"\u0061": 1}"#), r#"JObj{"a": JInt(1)}"#);
}

#[test]
fn errors_name_the_byte_offset() {
    let cases = [
        ("", "unexpected end of input, expected a value at byte 0"),
        ("   ", "unexpected end of input, expected a value at byte 3"),
        ("[1, 2", "unexpected end of input in a list at byte 5"),
        ("[1,", "unexpected end of input, expected a value at byte 3"),
        (
            r#"{"a": 1"#,
            "unexpected end of input in an object at byte 7",
        ),
        (r#"{"a""#, "unexpected end of input in an object at byte 4"),
        (r#""abc"#, "unexpected end of input in a string at byte 4"),
        (r#"{"a" 1}"#, "expected `:` at byte 5"),
        ("[1 2]", "expected `,` or `]` at byte 3"),
        (r#"{"a": 1 "b": 2}"#, "expected `,` or `}` at byte 8"),
        ("tru", "unexpected end of input, expected a value at byte 3"),
        (
            "trux",
            "invalid literal, expected `true`, `false` or `null` at byte 3",
        ),
        (
            "nul1",
            "invalid literal, expected `true`, `false` or `null` at byte 3",
        ),
        ("x", "expected a value at byte 0"),
        ("[1, }", "expected a value at byte 4"),
        ("NaN", "expected a value at byte 0"),
        ("Infinity", "expected a value at byte 0"),
        ("'a'", "expected a value at byte 0"),
        (r#""\x""#, "invalid escape at byte 2"),
        (r#""\u12g4""#, "invalid escape at byte 5"),
        ("01", "invalid number at byte 1"),
        ("1.", "unexpected end of input, expected a value at byte 2"),
        ("1.x", "invalid number at byte 2"),
        ("-", "unexpected end of input, expected a value at byte 1"),
        ("-a", "invalid number at byte 1"),
        ("+1", "expected a value at byte 0"),
        (".5", "expected a value at byte 0"),
        ("1e", "unexpected end of input, expected a value at byte 2"),
        (
            "\"a\nb\"",
            "unescaped control character in a string at byte 2",
        ),
        (
            "\"\t\"",
            "unescaped control character in a string at byte 1",
        ),
        ("{1: 2}", "expected a string key at byte 1"),
        (r#"{"a": 1, 2: 3}"#, "expected a string key at byte 9"),
        (
            r#""\ude00""#,
            "unpaired surrogate in a \\u escape at byte 6",
        ),
        (
            r#""\ud83d""#,
            "unpaired surrogate in a \\u escape at byte 7",
        ),
        (
            r#""\ud83dx""#,
            "unpaired surrogate in a \\u escape at byte 7",
        ),
        (
            r#""\ud83d\u0041""#,
            "unpaired surrogate in a \\u escape at byte 12",
        ),
        ("[1,]", "trailing comma at byte 3"),
        (r#"{"a": 1,}"#, "trailing comma at byte 8"),
        ("1 2", "unexpected characters after the value at byte 2"),
        ("{} x", "unexpected characters after the value at byte 3"),
        ("[]]", "unexpected characters after the value at byte 2"),
        ("\u{feff}1", "expected a value at byte 0"),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, want)| error(text) != *want)
        .map(|(text, want)| format!("{text:?}: got {:?}, want {want:?}", error(text)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn nested(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

#[test]
fn nesting_limit_is_512() {
    assert_eq!(roundtrip(&nested(512)), nested(512));
    assert_eq!(error(&nested(513)), "nesting deeper than 512 at byte 512");
    let objects = r#"{"a":"#.repeat(512) + "1" + &"}".repeat(512);
    assert_eq!(roundtrip(&objects), objects);
    let objects = r#"{"a":"#.repeat(513) + "1" + &"}".repeat(513);
    assert_eq!(error(&objects), "nesting deeper than 512 at byte 2560");
    // Mixed: the limit counts arrays and objects alike.
    let mixed = r#"[{"k":"#.repeat(256) + "0" + &"}]".repeat(256);
    assert_eq!(roundtrip(&mixed), mixed);
    assert!(error(&format!("[{mixed}]")).starts_with("nesting deeper than 512"));
}

/// Runs `f` on a thread with a small stack: parse and encode must not
/// recurse, whatever the depth.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_input_never_uses_the_stack() {
    on_small_stack(|| {
        assert_eq!(
            error(&"[".repeat(100_000)),
            "nesting deeper than 512 at byte 512"
        );
        assert_eq!(
            error(&"{\"a\":".repeat(100_000)),
            "nesting deeper than 512 at byte 2560"
        );
        assert_eq!(roundtrip(&nested(512)), nested(512));
    });
}

#[test]
fn encode_any_depth() {
    on_small_stack(|| {
        // Deeper than parse accepts: values built in Snow can be.
        let mut j = new_ctor(TAG_JINT, &[7]);
        for i in 0..100_000 {
            j = if i % 2 == 0 {
                new_ctor(TAG_JLIST, &[crate::rt::list_from_slice(&[j])])
            } else {
                let m = crate::stdlib::map::snow_map_new(4, 8);
                new_ctor(
                    TAG_JOBJ,
                    &[crate::stdlib::map::snow_map_put(4, 8, m, s("k"), j)],
                )
            };
        }
        let want = r#"{"k":["#.repeat(50_000) + "7" + &"]}".repeat(50_000);
        assert!(enc(j) == want, "encoding of a 100000-deep value differs");
    });
}

#[test]
fn encode_is_compact_and_canonical() {
    let cases = [
        ("null", "null"),
        (
            " [ 1 , 2.5 , true , false , null , \"x\" ] ",
            r#"[1,2.5,true,false,null,"x"]"#,
        ),
        (r#"{ "b" : { } , "a" : [ ] }"#, r#"{"b":{},"a":[]}"#),
        ("-0", "0"),
        ("-0.0", "-0.0"),
        ("1e2", "100.0"),
        ("1E-7", "1.0e-7"),
        ("1e21", "1.0e21"),
        ("123456789012345678901234567890", "1.2345678901234568e29"),
        ("0.1", "0.1"),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("9223372036854775808", "9.223372036854776e18"),
        (r#""\u00e9\ud83d\ude00""#, "\"é😀\""),
        (r#""\/""#, r#""/""#),
        (r#"{"a":1,"a":2}"#, r#"{"a":2}"#),
    ];
    for (text, want) in cases {
        assert_eq!(roundtrip(text), want, "{text}");
    }
}

#[test]
fn encode_escapes_per_rfc_8259() {
    let all_controls: String = (0u8..0x20).map(|b| b as char).collect();
    let j = new_ctor(
        TAG_JSTR,
        &[s(&format!("{all_controls}\"\\/\u{7f}é\u{2028}😀"))],
    );
    let text = enc(j);
    assert_eq!(
        text,
        concat!(
            r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#,
            r#"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#,
            "\\\"\\\\/\u{7f}é\u{2028}😀\""
        )
    );
    // And it reads back as the same string.
    assert_eq!(roundtrip(&text), text);
    // Keys are escaped the same way.
    let m = crate::stdlib::map::snow_map_put(
        4,
        8,
        crate::stdlib::map::snow_map_new(4, 8),
        s("a\"\n"),
        jnull(),
    );
    assert_eq!(enc(new_ctor(TAG_JOBJ, &[m])), r#"{"a\"\n":null}"#);
}

#[test]
fn encode_floats() {
    let f = |x: f64| enc(new_ctor(TAG_JFLOAT, &[x.to_bits() as i64]));
    assert_eq!(f(1.0), "1.0");
    assert_eq!(f(-0.0), "-0.0");
    assert_eq!(f(0.25), "0.25");
    assert_eq!(f(1e300), "1.0e300");
    assert_eq!(f(5e-324), "5.0e-324");
    assert_eq!(f(f64::NAN), "null");
    assert_eq!(f(f64::INFINITY), "null");
    assert_eq!(f(f64::NEG_INFINITY), "null");
    // Every finite float reads back as itself, as a JFloat.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        if !v.is_finite() {
            continue;
        }
        let text = f(v);
        let back = parse(&text).unwrap();
        // SAFETY: Json values built by the parser or by this test.
        assert_eq!(unsafe { tag(back) }, TAG_JFLOAT, "{text}");
        // SAFETY: Json values built by the parser or by this test.
        assert_eq!(unsafe { field(back, 0) } as u64, v.to_bits(), "{text}");
    }
}

#[test]
fn snow_entry_points_build_results() {
    let ok = snow_json_parse(s(r#"{"n": 1}"#));
    // SAFETY: Json values built by the parser or by this test.
    assert_eq!(unsafe { tag(ok) }, TAG_OK);
    // SAFETY: Json values built by the parser or by this test.
    assert_eq!(show(unsafe { field(ok, 0) }), r#"JObj{"n": JInt(1)}"#);
    let err = snow_json_parse(s("[1,"));
    // SAFETY: Json values built by the parser or by this test.
    assert_eq!(unsafe { tag(err) }, TAG_ERR);
    assert_eq!(
        // SAFETY: Json values built by the parser or by this test.
        rs(unsafe { field(err, 0) }),
        "unexpected end of input, expected a value at byte 3"
    );
    // SAFETY: Json values built by the parser or by this test.
    let text = snow_json_encode(unsafe { field(ok, 0) });
    assert_eq!(rs(text), r#"{"n":1}"#);
}
