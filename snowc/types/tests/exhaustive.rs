//! Exhaustiveness of `case`.
mod common;
use common::*;

fn missing(arms: &str, scrutinee: &str, pre: &str) -> Vec<String> {
    messages(&format!(
        "{pre}\nfn main() do\n  let _ = case {scrutinee} do\n{arms}\n  end\nend\n"
    ))
}

const SHAPE: &str = "type Shape do\n  Circle(Int)\n  Rect(Int, Int)\n  Empty\nend\nfn s() = Empty";

#[test]
fn missing_constructor() {
    assert_eq!(
        missing("Circle(_) -> 1\nEmpty -> 0", "s()", SHAPE),
        vec!["case is not exhaustive: missing Rect(_, _)"]
    );
    assert!(missing("Circle(_) -> 1\nEmpty -> 0\nRect(_, _) -> 2", "s()", SHAPE).is_empty());
    assert!(missing("Circle(_) -> 1\n_ -> 0", "s()", SHAPE).is_empty());
}

#[test]
fn int_and_string_literals_need_a_catch_all() {
    assert_eq!(
        missing("0 -> 1\n1 -> 2", "3", ""),
        vec!["case is not exhaustive: missing _"]
    );
    assert_eq!(
        missing("\"a\" -> 1", "\"b\"", ""),
        vec!["case is not exhaustive: missing _"]
    );
    assert!(missing("0 -> 1\nn -> n", "3", "").is_empty());
}

#[test]
fn guarded_arms_do_not_count() {
    assert_eq!(
        missing("Some(x) when x > 0 -> 1\nNone -> 0", "Some(1)", ""),
        vec!["case is not exhaustive: missing Some(_)"]
    );
}

#[test]
fn nested_options() {
    let o = "Some(Some(1))";
    assert_eq!(
        missing("Some(Some(_)) -> 1\nNone -> 0", o, ""),
        vec!["case is not exhaustive: missing Some(None)"]
    );
    assert_eq!(
        missing("Some(None) -> 1\nNone -> 0", o, ""),
        vec!["case is not exhaustive: missing Some(Some(_))"]
    );
    assert!(missing("Some(None) -> 1\nSome(Some(_)) -> 2\nNone -> 0", o, "").is_empty());
}

#[test]
fn lists() {
    assert_eq!(
        missing("[] -> 0", "[1]", ""),
        vec!["case is not exhaustive: missing [_ | _]"]
    );
    assert_eq!(
        missing("[h | _] -> h", "[1]", ""),
        vec!["case is not exhaustive: missing []"]
    );
    assert_eq!(
        missing("[] -> 0\n[_ | []] -> 1", "[1]", ""),
        vec!["case is not exhaustive: missing [_ | [_ | _]]"]
    );
    assert!(missing("[] -> 0\n[_ | []] -> 1\n[_ | [_ | _]] -> 2", "[1]", "").is_empty());
}

#[test]
fn bools_and_unit() {
    assert_eq!(
        missing("true -> 0", "1 > 2", ""),
        vec!["case is not exhaustive: missing false"]
    );
    assert!(missing("true -> 0\nfalse -> 1", "1 > 2", "").is_empty());
    assert!(missing("nil -> 0", "nil", "").is_empty());
}

#[test]
fn tuples_of_results_in_nested_positions() {
    assert_eq!(
        missing(
            "Ok(Some(_)) -> 0\nErr(_) -> 1",
            "Int.parse(\"1\") |> to_result",
            "fn to_result(o) = Ok(o)"
        ),
        vec!["case is not exhaustive: missing Ok(None)"]
    );
}

#[test]
fn rendered() {
    insta::assert_snapshot!(error_snapshot(&format!("{SHAPE}\nfn main() do\n  let _ = case s() do\n    Circle(_) -> 1\n    Empty -> 0\n  end\nend\n")));
}

/// Found by the checker fuzzer: a constructor pattern of the wrong arity made
/// the exhaustiveness matrix ragged and panicked. Now only the arity error is
/// reported, once.
#[test]
fn wrong_constructor_arity_is_an_error_not_a_panic() {
    let msgs = missing(
        "Rect(w) -> w\nCircle(r, extra) -> r\nEmpty -> 0",
        "s()",
        SHAPE,
    );
    assert!(!msgs.is_empty());
    assert!(
        msgs.iter()
            .all(|m| m.contains("Rect") || m.contains("Circle")),
        "{msgs:?}"
    );
    assert!(
        !msgs.iter().any(|m| m.contains("not exhaustive")),
        "{msgs:?}"
    );
}
