//! Warnings: reported for programs that check, never for std, never when
//! there is an error; the program still type checks.
mod common;
use common::*;

/// The codes of a program that must check, with the line of each warning.
fn warnings(src: &str) -> Vec<(&'static str, usize)> {
    let (p, d, sources) = check_all(src);
    assert!(p.is_some(), "parse errors: {d:?}");
    assert!(
        !snowc_syntax::has_errors(&d),
        "{}",
        snowc_syntax::render(&d, &sources, false)
    );
    d.iter()
        .map(|d| (d.code.0, sources.line_col(d.span).0))
        .collect()
}

#[test]
fn unused_variables_of_every_binder() {
    let src = r#"
fn f(used, unused) do
  let a = used
  let b = 2
  let g = fn(x, y) -> x end
  let _ = for i in [1, 2] do 0 end
  case Some(a) do
    Some(n) -> g(1, 2)
    None -> 0
  end
end
fn main() = println("${f(1, 2)}")
"#;
    assert_eq!(
        warnings(src),
        [
            ("W0001", 2),
            ("W0001", 4),
            ("W0001", 5),
            ("W0001", 6),
            ("W0001", 8)
        ]
    );
    let (_, d, _) = check_all(src);
    let names: Vec<&str> = d
        .iter()
        .map(|d| d.message.strip_prefix("unused variable ").unwrap())
        .collect();
    assert_eq!(names, ["unused", "b", "y", "i", "n"]);
}

#[test]
fn an_underscore_name_is_unused_on_purpose() {
    let src = r#"
fn on_close(_conn, _code, _reason) = 0
fn main() do
  let _ignored = on_close(1, 2, "x")
  let _ = for _i in [1] do 0 end
end
"#;
    assert_eq!(warnings(src), []);
}

#[test]
fn a_use_inside_a_closure_or_a_guard_counts() {
    let src = r#"
fn main() do
  let n = 3
  let limit = 2
  let f = fn(x) -> x + n end
  let r = case f(1) do
    v when v > limit -> "big"
    _ -> "small"
  end
  println(r)
end
"#;
    assert_eq!(warnings(src), []);
}

#[test]
fn unused_private_functions_are_those_main_does_not_reach() {
    let src = r#"
fn helper() = 1
fn only_called_by_dead_code() = 2
fn dead() = only_called_by_dead_code()
fn recursive_but_dead(n) = if n == 0 do 0 else recursive_but_dead(n - 1) end
fn callback(x) = x + 1
pub fn exported() = 3
fn main() do
  let xs = List.map([helper()], callback)
  println("${List.length(xs)}")
end
"#;
    assert_eq!(
        warnings(src),
        [("W0002", 3), ("W0002", 4), ("W0002", 5)],
        "a pub function and a function used as a value are used"
    );
}

#[test]
fn unreachable_case_arms() {
    let src = r#"
type Shape do
  Circle(Int)
  Rect(Int, Int)
end
fn a(s :: Shape) -> Int do
  case s do
    Circle(r) -> r
    Rect(w, h) -> w * h
    _ -> 0
  end
end
fn b(n :: Int) -> Int do
  case n do
    1 -> 10
    1 -> 20
    k when k > 5 -> k
    _ -> 0
    7 -> 70
  end
end
fn c(xs :: List<Int>) -> Int do
  case xs do
    [] -> 0
    [_ | _] -> 1
    [x] -> x
  end
end
fn d(o :: Option<Bool>) -> Int do
  case o do
    Some(true) -> 1
    None -> 0
    Some(_) when false -> 2
    Some(false) -> 3
  end
end
fn main() = println("${a(Circle(1)) + b(1) + c([]) + d(None)}")
"#;
    // a: `_` after both constructors; b: the second `1`, and `7` after `_`
    // (the guarded arm does not hide it); c: `[x]` after `[_ | _]`.
    // d: nothing: a guarded arm hides nothing, so `Some(false)` is needed.
    assert_eq!(
        warnings(src),
        [("W0003", 10), ("W0003", 16), ("W0003", 19), ("W0003", 26)]
    );
}

#[test]
fn a_guarded_arm_after_a_catch_all_is_unreachable() {
    let src = r#"
fn f(n :: Int) -> Int do
  case n do
    _ -> 0
    k when k > 1 -> k
  end
end
fn main() = println("${f(1)}")
"#;
    assert_eq!(warnings(src), [("W0003", 5)]);
}

#[test]
fn a_let_shadowed_before_use() {
    let src = r#"
fn main() do
  let total = 10
  let total = 20
  let count = 1
  let count = count + 1
  let kept = 1
  let r = if true do
    let kept = 2
    kept
  else
    0
  end
  println("${total} ${count} ${kept} ${r}")
end
"#;
    // `count` is used by its own shadowing `let`; the outer `kept` is
    // hidden in the `if` but used after it.
    assert_eq!(warnings(src), [("W0004", 3)]);
}

#[test]
fn warnings_wait_for_the_errors_to_be_fixed() {
    let (_, d, _) = check_all("fn unused() = 1\nfn main() do\n  let x = nope\nend\n");
    let codes: Vec<&str> = d.iter().map(|d| d.code.0).collect();
    assert_eq!(codes, ["E0012"]);
}

#[test]
fn std_functions_give_no_warnings() {
    // Every std function is checked for the program below; none warns.
    assert_eq!(warnings("fn main() = println(\"hi\")\n"), []);
}

#[test]
fn rendered() {
    insta::assert_snapshot!(source_and_diagnostics(
        r#"
fn describe(n :: Int, unit :: String) -> String do
  let label = "n"
  let label = "number"
  case n do
    _ -> label
    0 -> "zero"
  end
end
fn unused() = 1
fn main() = println(describe(1, "cm"))
"#
    ));
}
