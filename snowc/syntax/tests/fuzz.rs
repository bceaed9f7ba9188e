//! parse() must never panic: random bytes, mutated valid programs, and
//! pathological nesting. Also checks that every diagnostic span lies inside the
//! source and that rendering them never panics either.

use proptest::prelude::*;
use snowc_syntax::{parse, render, FileId, SourceMap};

const PROGRAM: &str = r#"
import String
from Ws import join, broadcast

type Shape do
  Circle(Int)
  Rect(Int, Int)
  Empty
end

fn area(s :: Shape) -> Int do
  case s do
    Circle(r) -> 3 * r * r
    Rect(w, h) when w > 0 -> w * h
    _ -> 0
  end
end

fn main() do
  let xs = [1, 2, 3]
  let total = List.fold(xs, 0, fn(acc, x) -> acc + x end)
  println("total: ${total}, first: ${List.head(xs) |> show}")
  for x in xs do
    if x > 1 do println("big") else if x == 1 do println("one") else println("small") end
  end
  Ws.serve(fn(conn, path, headers) -> true end, fn(conn, msg) do
    Ws.broadcast("lobby", "${Ws.id(conn)}: ${msg}")
  end, fn(c, code, reason) -> nil end, 8080)
end

import Chat.Rooms as R
from Util import (
  helper,
  Thing
)

pub struct User<a> do
  name :: String
  tag :: a
end

service Counter do
  fn init(start :: Int) -> Int = start
  call Add(k :: Int) :: Int do |n|
    (n + k, n + k)
  end
  cast Reset() do |_n|
    0
  end
end

fn v2(u :: User<Int>, pairs) do
  let (a, b) = (u.name, u.tag)
  let v = %{u | name: "x", tag: b + 1}
  let xs = [1, 2 | [3]]
  for (k, w) in pairs do
    case (k, v) do
      (0, User { name: "x", tag }) -> do
        tag
      end
      (_, R.Thing(t)) -> t
      _ -> 0
    end
  end
end
"#;

fn std_sources() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../std");
    let mut out = vec![PROGRAM.to_string()];
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "snow") {
                out.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

/// Parse and render; panics (failing the test) if anything is inconsistent.
fn check(src: &str) {
    let (_, diags) = parse(FileId(0), src);
    for d in &diags {
        assert!(
            d.span.start <= d.span.end && d.span.end as usize <= src.len(),
            "{d:?} in {src:?}"
        );
    }
    let mut sm = SourceMap::default();
    sm.add("fuzz.snow", src);
    let _ = render(&diags, &sm, false);
}

/// Split into whitespace-separated words, keeping separators, for mutation.
fn words(src: &str) -> Vec<&str> {
    src.split_inclusive(|c: char| c.is_whitespace() || "()[],".contains(c))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_token_soup(parts in proptest::collection::vec(
        prop::sample::select(vec![
            "fn", "do", "end", "(", ")", "[", "]", "\"", "${", "}", "\n", "x", "Foo", "1", "->",
            "|>", "case", "if", "else", "let", "=", ",", "|", "::", "<", ">", "-", "not", " ", "#",
            "\\", "pub", "type", "extern", "from", "import", "when", "for", "in", ".", "é", "0x",
        ]), 0..80)) {
        check(&parts.concat());
    }

    #[test]
    fn mutated_programs(
        which in 0usize..100,
        edits in proptest::collection::vec((0u8..3, any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..6),
    ) {
        let sources = std_sources();
        let src = &sources[which % sources.len()];
        let mut ws: Vec<&str> = words(src);
        for (kind, a, b) in edits {
            if ws.is_empty() {
                break;
            }
            let i = a.index(ws.len());
            match kind {
                0 => { ws.remove(i); }
                1 => { let w = ws[b.index(ws.len())]; ws.insert(i, w); }
                _ => { let w = ws[i]; ws.insert(i, w); }
            }
        }
        check(&ws.concat());
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    for open in [
        "(",
        "[",
        "-",
        "not ",
        "f(",
        "\"${",
        "if x do ",
        "fn() -> ",
        "case x do _ -> ",
    ] {
        let src = format!("fn main() = {}", open.repeat(50_000));
        let (_, diags) = parse(FileId(0), &src);
        assert!(!diags.is_empty(), "{open}");
    }
    // Balanced and deep: rejected with a clear message rather than parsed.
    let src = format!("fn main() = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let (_, diags) = parse(FileId(0), &src);
    assert_eq!(diags[0].message, "expression is nested too deeply");
    // Very long operator chains are rejected too (they nest to the left).
    let src = format!("fn main() = 1{}", " + 1".repeat(100_000));
    let (_, diags) = parse(FileId(0), &src);
    assert_eq!(diags[0].message, "expression is too long");
    let src = format!("fn main() = f{}", "(1)".repeat(100_000));
    let (_, diags) = parse(FileId(0), &src);
    assert_eq!(diags[0].message, "expression is too long");
    let src = format!("fn main() = 1{}", " + 1".repeat(250));
    assert!(parse(FileId(0), &src).1.is_empty());
    // Moderately deep nesting is fine, in patterns and types too.
    let src = format!(
        "fn main(x :: {}Int{}) = case x do {}y{} -> 1 end",
        "List<".repeat(150),
        ">".repeat(150),
        "[".repeat(150),
        "]".repeat(150)
    );
    let (_, diags) = parse(FileId(0), &src);
    assert!(diags.is_empty(), "{diags:?}");
    let src = format!("fn main() = {}1{}", "[f(-".repeat(66), ")]".repeat(66));
    let (_, diags) = parse(FileId(0), &src);
    assert!(diags.is_empty(), "{diags:?}");
    let src = format!("fn main() = {}1{}", "[".repeat(100), "]".repeat(100));
    let (_, diags) = parse(FileId(0), &src);
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn large_input_is_fast_enough() {
    // Linear time: 20k lines must parse quickly even in debug builds.
    let body: String = (0..2_000)
        .map(|i| format!("fn f{i}(x :: Int) -> Int do\n  let y = x + {i}\n  case y do\n    0 -> 1\n    n -> n * 2\n  end\nend\n\n"))
        .collect();
    let t = std::time::Instant::now();
    let (m, diags) = parse(FileId(0), &body);
    assert!(diags.is_empty());
    assert_eq!(m.items.len(), 2_000);
    assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
}

#[test]
fn many_errors_are_recovered_from_in_linear_time() {
    // A hang guard, not a benchmark: every statement is an error the parser
    // recovers from; at most 50 are reported.
    let src = format!(
        "fn main() do\n{}end\n",
        "  let a = )\n  foo(1, 2\n".repeat(10_000)
    );
    let t = std::time::Instant::now();
    let (_, diags) = parse(FileId(0), &src);
    assert_eq!(diags.len(), snowc_syntax::parser::MAX_DIAGNOSTICS);
    assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
}
