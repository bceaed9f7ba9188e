//! Programs that must not check: each snapshot shows the source and its
//! rendered diagnostics; message and code lists are asserted directly.
mod common;
use common::*;

#[test]
fn wrong_argument_type() {
    insta::assert_snapshot!(error_snapshot(
        "fn main() do\n  Ws.join(42, \"lobby\")\nend\n"
    ));
}

#[test]
fn unknown_function_in_module() {
    insta::assert_snapshot!(error_snapshot(
        "fn main() do\nend\nfn f(c) = Ws.jion(c, \"r\")\n"
    ));
}

#[test]
fn unknown_module() {
    insta::assert_snapshot!(error_snapshot("fn main() do\n  Wz.join(1, \"r\")\nend\n"));
}

#[test]
fn unknown_variable_with_suggestion() {
    insta::assert_snapshot!(error_snapshot(
        "fn main() do\n  let greting = \"hi\"\n  println(greeting)\nend\n"
    ));
}

#[test]
fn wrong_argument_count() {
    insta::assert_snapshot!(error_snapshot(
        "fn f(c) = Ws.join(c, \"a\", \"b\")\nfn main() do\nend\n"
    ));
}

#[test]
fn callback_of_the_wrong_arity() {
    insta::assert_snapshot!(error_snapshot(
        r#"
fn on_connect(conn, path, headers) = true
fn on_message(conn, text, extra) = 0
fn on_close(conn, code, reason) = 0
fn main() do
  Ws.serve(on_connect, on_message, on_close, 8080)
end
"#
    ));
}

#[test]
fn if_branches_differ_and_condition_not_bool() {
    insta::assert_snapshot!(error_snapshot(
        r#"
fn main() do
  let x = if 1 do 2 else "three" end
end
"#
    ));
}

#[test]
fn interpolation_and_equality_on_lists() {
    insta::assert_snapshot!(error_snapshot(
        r#"
fn main() do
  let xs = [1, 2]
  println("${xs}")
  let _ = xs == [1]
  let _ = "a" + "b"
end
"#
    ));
}

#[test]
fn unknown_type_constructor_and_arity() {
    insta::assert_snapshot!(error_snapshot(
        r#"
type Shape do
  Circle(Int)
  Rect(Int, Int)
end
fn area(s :: Shap) -> Int = 0
fn main() do
  let _ = Circl(1)
  let _ = Rect(1)
  let _ = case Circle(1) do
    Rect(w) -> w
    _ -> 0
  end
end
"#
    ));
}

#[test]
fn duplicate_function_missing_main_and_user_extern() {
    insta::assert_snapshot!(error_snapshot(
        r#"
fn f() = 1
fn f() = 2
extern fn g(x :: Int) -> Int
"#
    ));
}

#[test]
fn pattern_of_the_wrong_type() {
    insta::assert_snapshot!(error_snapshot(
        r#"
fn f(n :: Int) -> Int do
  case n do
    "one" -> 1
    _ -> 0
  end
end
fn main() do
end
"#
    ));
}

#[test]
fn rigid_annotation_is_respected() {
    insta::assert_snapshot!(error_snapshot(
        "fn id(x :: a) -> a = 1\nfn main() do\nend\n"
    ));
}

#[test]
fn many_errors_in_one_file() {
    let m = messages(
        r#"
fn main() do
  let a = 1 + "x"
  let b = nope
  Ws.send(1, 2)
  let c = if true do 1 else "s" end
end
"#,
    );
    assert_eq!(
        m,
        vec![
            "expected Int, found String",
            "unknown variable nope",
            "expected Conn, found Int",
            "expected String, found Int",
            "if and else have different types: Int and String",
        ]
    );
    let c = codes(
        r#"
fn main() do
  let a = 1 + "x"
  let b = nope
  Ws.send(1, 2)
  let c = if true do 1 else "s" end
end
"#,
    );
    assert_eq!(c, ["E0028", "E0012", "E0028", "E0028", "E0031"]);
}

#[test]
fn int_and_float_do_not_mix() {
    let m = messages("fn main() do\n  let _ = 1 + 2.5\nend\n");
    assert_eq!(m, vec!["expected Int, found Float"]);
}

#[test]
fn calling_a_non_function_and_wrong_closure_arity() {
    let m =
        messages("fn main() do\n  let x = 1\n  x(2)\n  let f = fn(a) -> a end\n  f(1, 2)\nend\n");
    assert_eq!(
        m,
        vec![
            "cannot call a value of type Int",
            "this function takes 1 argument but 2 were given"
        ]
    );
}

#[test]
fn private_std_function_is_not_reachable() {
    let m = messages("fn main() do\n  let _ = List.map_rev([1], fn(x) -> x end, [])\nend\n");
    assert_eq!(m, vec!["function map_rev in module List is private"]);
}

#[test]
fn from_import_of_unknown_name() {
    let m = messages("from Ws import jion\nfn main() do\nend\n");
    assert_eq!(m, vec!["no function jion in module Ws"]);
}

#[test]
fn occurs_check() {
    let m = messages("fn f(x) = f([x])\nfn main() do\nend\n");
    assert_eq!(m.len(), 1);
    assert!(m[0].starts_with("infinite type"), "{m:?}");
}

#[test]
fn no_cascade_after_an_unknown_name() {
    let m = messages("fn main() do\n  let x = nope\n  println(\"${x}\")\nend\n");
    assert_eq!(m, vec!["unknown variable nope"]);
}

#[test]
fn wrong_arity_reports_only_the_count() {
    let m = messages("fn main() do\n  Ws.join(1, 2, 3)\nend\n");
    assert_eq!(m, vec!["Ws.join takes 2 arguments but 3 were given"]);
}

#[test]
fn user_type_shadowing_a_std_type_is_distinct() {
    let src = "type Option do\n  Some(Int)\n  Nothing\nend\nfn main() do\n  let o :: Option = Some(1)\n  let _ = case o do\n    Some(n) -> n\n    Nothing -> 0\n  end\n  let h :: Option = List.head([1])\nend\n";
    let m = messages(src);
    assert_eq!(m, vec!["expected Option, found Option<Int>"]);
}

#[test]
fn kinds_hold_the_facts() {
    use snowc_types::diagnostics::*;
    use snowc_types::tast::Ty;
    let (_, d, _) = check_all("fn main() do\n  Ws.join(42, \"lobby\")\nend\n");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code, <TypeMismatch as snowc_syntax::Kind>::CODE);
    // The same error as a value: the facts, rendered the same way.
    let e = TypeError::from(TypeMismatch {
        span: d[0].span,
        expected: Ty::Con("Conn".into(), vec![]),
        found: Ty::Int,
        context: MismatchContext::Plain,
    });
    assert_eq!(e.code().0, "E0028");
    assert_eq!(e.to_diagnostic(), d[0]);
}

#[test]
fn an_empty_else_block_has_a_valid_span() {
    // chumsky gives a node that consumed nothing an inverted span; the
    // parser makes it empty, so the error renders at the `end`.
    insta::assert_snapshot!(source_and_diagnostics(
        "fn f(n :: Int) -> String do\n  if n < 0 do\n    \"negative\"\n  else\n  end\nend\nfn main() = println(f(1))\n"
    ));
}
