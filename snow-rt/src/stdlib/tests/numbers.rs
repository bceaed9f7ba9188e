use crate::rt::testing::{opt, rs, s};
use crate::stdlib::float::*;
use crate::stdlib::int::*;

fn f(x: f64) -> i64 {
    x.to_bits() as i64
}

#[test]
fn int_to_string() {
    for n in [0i64, 7, -7, 42, 1_000_000, i64::MAX, i64::MIN, -10] {
        assert_eq!(rs(snow_int_to_string(n)), n.to_string());
    }
}

#[test]
fn int_parse() {
    let p = |t: &str| opt(snow_int_parse(s(t)));
    assert_eq!(p("42"), Some(42));
    assert_eq!(p("-0"), Some(0));
    assert_eq!(p("+5"), Some(5));
    assert_eq!(p("-17"), Some(-17));
    assert_eq!(p("007"), Some(7));
    assert_eq!(p("9223372036854775807"), Some(i64::MAX));
    assert_eq!(p("-9223372036854775808"), Some(i64::MIN));
    assert_eq!(p("9223372036854775808"), None);
    assert_eq!(p("-9223372036854775809"), None);
    assert_eq!(p(""), None);
    assert_eq!(p(" 5"), None);
    assert_eq!(p("5 "), None);
    assert_eq!(p("-"), None);
    assert_eq!(p("+"), None);
    assert_eq!(p("+-5"), None);
    assert_eq!(p("1_000"), None);
    assert_eq!(p("0x10"), None);
    assert_eq!(p("12a"), None);
    assert_eq!(p("٣"), None);
}

#[test]
fn float_to_string() {
    let t = |x: f64| rs(snow_float_to_string(f(x)));
    assert_eq!(t(3.0), "3.0");
    assert_eq!(t(0.25), "0.25");
    assert_eq!(t(-1.5), "-1.5");
    assert_eq!(t(0.1 + 0.2), "0.30000000000000004");
    assert_eq!(t(0.0), "0.0");
    assert_eq!(t(-0.0), "-0.0");
    assert_eq!(t(1e21), "1.0e21");
    assert_eq!(t(1.5e-7), "1.5e-7");
    assert_eq!(t(123456.0), "123456.0");
    assert_eq!(t(f64::NAN), "NaN");
    assert_eq!(t(f64::INFINITY), "Infinity");
    assert_eq!(t(f64::NEG_INFINITY), "-Infinity");
    // Every finite result has a decimal point and reads back exactly.
    for x in [
        1e16,
        1e300,
        5e-324,
        2.5e-5,
        123.456,
        f64::MAX,
        f64::MIN_POSITIVE,
    ] {
        let text = t(x);
        assert!(text.contains('.'), "{text}");
        assert_eq!(
            text.replace(".0e", "e").parse::<f64>().unwrap(),
            x,
            "{text}"
        );
    }
}

#[test]
fn float_from_int_and_round() {
    assert_eq!(f64::from_bits(snow_float_from_int(-3) as u64), -3.0);
    assert_eq!(
        f64::from_bits(snow_float_from_int(1 << 53) as u64),
        9007199254740992.0
    );
    assert_eq!(snow_float_round(f(2.5)), 3);
    assert_eq!(snow_float_round(f(-2.5)), -3);
    assert_eq!(snow_float_round(f(2.4999)), 2);
    assert_eq!(snow_float_round(f(-0.4)), 0);
    assert_eq!(snow_float_round(f(1e300)), i64::MAX);
    assert_eq!(snow_float_round(f(-1e300)), i64::MIN);
    assert_eq!(snow_float_round(f(f64::INFINITY)), i64::MAX);
    assert_eq!(snow_float_round(f(f64::NAN)), 0);
}

#[test]
fn float_parse_and_conversions_to_int() {
    let f = |x: f64| x.to_bits() as i64;
    let back = |w: i64| f64::from_bits(w as u64);
    assert_eq!(opt(snow_float_parse(s("2.5"))).map(back), Some(2.5));
    assert_eq!(opt(snow_float_parse(s("-2"))).map(back), Some(-2.0));
    assert_eq!(opt(snow_float_parse(s("3e8"))).map(back), Some(3e8));
    assert!(opt(snow_float_parse(s("NaN"))).map(back).unwrap().is_nan());
    assert_eq!(opt(snow_float_parse(s("abc"))), None);
    assert_eq!(
        opt(snow_float_parse(s(" 1.5"))),
        None,
        "no surrounding whitespace"
    );
    assert_eq!(snow_float_floor(f(2.7)), 2);
    assert_eq!(snow_float_floor(f(-0.5)), -1);
    assert_eq!(snow_float_ceil(f(2.1)), 3);
    assert_eq!(snow_float_to_int(f(-2.9)), -2);
    assert_eq!(snow_float_to_int(f(1e300)), i64::MAX, "saturating");
    assert_eq!(snow_float_floor(f(-1e300)), i64::MIN);
    assert_eq!(snow_float_ceil(f(f64::NAN)), 0, "NaN gives 0");
}

#[test]
fn clocks() {
    use crate::stdlib::time::{snow_time_monotonic_ms, snow_time_now_ms};
    assert!(snow_time_now_ms() > 1_700_000_000_000);
    let a = snow_time_monotonic_ms();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let b = snow_time_monotonic_ms();
    assert!(b >= a + 20, "{a} {b}");
}
