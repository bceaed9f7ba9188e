//! Snapshot tests of rendered syntax errors (plain text, no color): each
//! snapshot shows the source and its diagnostics.

use snowc_syntax::{parse, render, SourceMap};

/// The source and its rendered syntax errors, for one snapshot.
fn diag(src: &str) -> String {
    let mut sm = SourceMap::default();
    let id = sm.add("main.snow", src);
    let (_, diags) = parse(id, src);
    assert!(!diags.is_empty(), "expected diagnostics for {src:?}");
    format!(
        "----- SOURCE\n{}\n----- DIAGNOSTICS\n{}",
        src.trim_end_matches('\n'),
        render(&diags, &sm, false)
    )
}

#[test]
fn missing_end() {
    insta::assert_snapshot!(diag(
        "fn main() do\n  if x do\n    foo()\n  bar()\nend\n\nfn other() = 1\n"
    ));
}

#[test]
fn missing_end_at_eof() {
    insta::assert_snapshot!(diag("fn main() do\n  println(\"hi\")\n"));
}

#[test]
fn bad_token() {
    insta::assert_snapshot!(diag("fn main() do\n  let x = 1 @ 2\nend\n"));
}

#[test]
fn unexpected_paren() {
    insta::assert_snapshot!(diag("fn main() do\n  let x = )\nend\n"));
}

#[test]
fn unterminated_string() {
    insta::assert_snapshot!(diag("fn main() do\n  println(\"hello)\nend\n"));
}

#[test]
fn missing_paren() {
    insta::assert_snapshot!(diag("fn main() do\n  println(\"a\"\n  1\nend\n"));
}

#[test]
fn two_errors_in_one_file() {
    insta::assert_snapshot!(diag(
        "fn a() = 1 +\n\nfn b() do\n  [1, 2\nend\n\nfn c() = 3\n"
    ));
}

#[test]
fn extern_without_types() {
    insta::assert_snapshot!(diag("pub extern fn join(conn, room :: String) -> Int\n"));
}

#[test]
fn int_overflow_and_bad_escape() {
    insta::assert_snapshot!(diag(
        "fn main() do\n  let x = 99999999999999999999\n  \"\\q\"\nend\n"
    ));
}

#[test]
fn several_errors_in_one_function() {
    // Each statement's error is reported; the parser goes on at the next
    // line, and an unclosed bracket ends at its own line.
    insta::assert_snapshot!(diag(
        "fn main() do\n  let a = )\n  let c = [1, 2\n  let d = foo(1,, 2)\n  println(\"ok\")\nend\n"
    ));
}

#[test]
fn missing_do_and_errors_after_it() {
    // The `if` without `do` still ends at its `end`: no error for that
    // `end`, and the error after it is reported.
    insta::assert_snapshot!(diag(
        "fn main() do\n  if x == 1\n    println(\"a\")\n  end\n  let z = )\nend\n"
    ));
}

#[test]
fn missing_end_and_errors_in_the_same_function() {
    insta::assert_snapshot!(diag(
        "fn main() do\n  if true do\n    println(\"a\")\n  let c = )\nend\n\nfn other() = [1, 2\n"
    ));
}

#[test]
fn errors_in_case_arms() {
    insta::assert_snapshot!(diag(
        "fn f(x) do\n  case x do\n    [a | -> 1\n    Some(y) when -> y\n    _ -> 0\n  end\n  let z = )\nend\n"
    ));
}

#[test]
fn a_multi_line_list_missing_its_bracket() {
    insta::assert_snapshot!(diag(
        "fn main() do\n  let xs = [\n    1,\n    2\n  let y = +\nend\n"
    ));
}

#[test]
fn what_snow_does_not_have() {
    insta::assert_snapshot!(diag(
        "fn main() do\n  let i = 0\n  while i < 3 do\n    println(\"${i}\")\n  end\n  i = i + 1\nend\n\nservice S do\n  fn init() = 0\n  fn helper() = 1\n  cast Go() do |s|\n    s\n  end\nend\n"
    ));
}
