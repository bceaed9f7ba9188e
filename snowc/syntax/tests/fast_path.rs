//! The parser's fast first pass (cheap errors, precedence climbing) must give
//! exactly what the rich-error grammar gives: same tree, same spans, same
//! diagnostics, on valid and invalid programs alike.

use snowc_syntax::parser::parse_rich_only;
use snowc_syntax::{parse, FileId};
use std::path::{Path, PathBuf};

fn snow_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            snow_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "snow") {
            out.push(p);
        }
    }
}

fn assert_same(name: &str, src: &str) {
    let fast = parse(FileId(0), src);
    let rich = parse_rich_only(FileId(0), src);
    assert_eq!(fast.0, rich.0, "trees differ for {name}");
    assert_eq!(
        format!("{:?}", fast.1),
        format!("{:?}", rich.1),
        "diagnostics differ for {name}"
    );
}

#[test]
fn fast_path_matches_rich_parse_on_repository_programs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for d in ["examples", "tests", "std", "bench"] {
        snow_files(&root.join(d), &mut files);
    }
    assert!(files.len() > 20, "found only {} .snow files", files.len());
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        assert_same(&f.display().to_string(), &src);
    }
}

#[test]
fn fast_path_matches_rich_parse_on_operators_and_errors() {
    let cases = [
        // Every precedence level, mixed, with pipes and unary operators.
        "fn f(a, b) = a + b * c - d / e % g <> h |> k(1) < 2 == not x and y or -z\n",
        "fn f() = a || b && c != d >= e <= f > g |> h |> i(j) <> \"s${a + b}\"\n",
        "fn f() = - - a * !b + f(x)(y) * [1, 2 + 3] |> List.map(fn(x) -> x * 2 end)\n",
        "fn f() do\n  let x = 1 +\n    2\n  x\n  |> g\nend\n",
        // Operator with a missing right operand, unclosed brackets, stray tokens.
        "fn f() = a + \nfn g() = 1\n",
        "fn f() = a * (b + \n",
        "fn f() do\n  let x = [1, 2\n  x +* y\nend\n",
        "fn f(a) = a |> \nfn g() = b == == c\n",
        "extern fn e(x) -> Int\n",
        "fn f() do\n  case x do\n    1 when y > 2 -> a + b\n    _ -> c\n  end\nend\n",
    ];
    for src in cases {
        assert_same(src, src);
    }
}
