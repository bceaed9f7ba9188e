//! The parser's first passes must give exactly what the rich-error grammar
//! gives: same tree, same spans, same diagnostics, on valid and invalid
//! programs alike.
//!
//! - `parse` (the hand-written `fast.rs`, then chumsky's cheap-error pass,
//!   then the rich pass), `parse_chumsky_only` and `parse_rich_only` agree
//!   on whole files.
//! - Item by item, whenever `fast.rs` gives a tree, chumsky's cheap pass
//!   succeeds without an error and gives the same tree (`first_passes`):
//!   `fast.rs` never accepts what the grammar rejects, nor builds another
//!   tree.
//!
//! on every `.snow` file of the repository, the Snow code blocks of `docs/`,
//! generated programs (`bench/gen_program.py`, v1 and v2) and many mutants
//! of all of them.

use snowc_syntax::ast::Item;
use snowc_syntax::parser::{first_passes, parse_chumsky_only, parse_rich_only};
use snowc_syntax::{parse, FileId};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

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

/// Every `.snow` file of the repository and the ```snow blocks of docs/*.md.
fn repository_programs() -> Vec<(String, String)> {
    let root = root();
    let mut files = Vec::new();
    for d in ["examples", "tests", "std", "bench", "snowc", "editors"] {
        snow_files(&root.join(d), &mut files);
    }
    files.sort();
    let mut out: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
        .collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    for d in docs {
        let text = std::fs::read_to_string(&d).unwrap();
        let mut block: Option<String> = None;
        for line in text.lines() {
            match &mut block {
                None if line.trim_start().starts_with("```snow") => block = Some(String::new()),
                Some(b) if line.trim_start().starts_with("```") => {
                    out.push((format!("{} block", d.display()), std::mem::take(b)));
                    block = None;
                }
                Some(b) => {
                    b.push_str(line);
                    b.push('\n');
                }
                None => {}
            }
        }
    }
    out
}

/// Programs of `bench/gen_program.py` (v1: one file; v2: the files of a
/// program of modules), when python3 is there.
fn generated_programs(lines: usize) -> Vec<(String, String)> {
    let gen = root().join("bench/gen_program.py");
    let mut out = Vec::new();
    if let Ok(o) = std::process::Command::new("python3")
        .arg(&gen)
        .arg(lines.to_string())
        .output()
    {
        if o.status.success() {
            out.push(("gen v1".to_string(), String::from_utf8(o.stdout).unwrap()));
        }
    }
    // One folder per call: the tests of this file run in parallel in one
    // process, and each removes its folder when done.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("snow-fast-path-{}-{call}", std::process::id()));
    let ok = std::process::Command::new("python3")
        .arg(&gen)
        .args(["--v2", &lines.to_string()])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        let mut files = Vec::new();
        snow_files(&dir, &mut files);
        files.sort();
        for f in files {
            out.push((
                format!("gen v2 {}", f.display()),
                std::fs::read_to_string(&f).unwrap(),
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    out
}

/// Whole files: all three pass sequences agree.
fn assert_same(name: &str, src: &str) {
    let all = parse(FileId(0), src);
    let chumsky = parse_chumsky_only(FileId(0), src);
    let rich = parse_rich_only(FileId(0), src);
    assert_eq!(
        all.0, chumsky.0,
        "trees differ (all / chumsky only) for {name}:\n{src}"
    );
    assert_eq!(
        all.0, rich.0,
        "trees differ (all / rich only) for {name}:\n{src}"
    );
    let d = |ds: &[snowc_syntax::Diagnostic]| format!("{ds:?}");
    assert_eq!(
        d(&all.1),
        d(&chumsky.1),
        "diagnostics differ for {name}:\n{src}"
    );
    assert_eq!(
        d(&all.1),
        d(&rich.1),
        "diagnostics differ for {name}:\n{src}"
    );
}

/// Item by item: what `fast.rs` accepts, chumsky accepts with the same
/// tree. Returns (items, items `fast.rs` gave up on).
fn assert_first_pass_agrees(name: &str, src: &str) -> (usize, Vec<Item>) {
    let mut given_up = Vec::new();
    let items = first_passes(FileId(0), src);
    for (fast, chumsky) in &items {
        match (fast, chumsky) {
            (Some(f), Some(c)) => assert_eq!(f, c, "fast.rs builds another tree in {name}:\n{src}"),
            (Some(f), None) => {
                panic!("fast.rs accepts an item the grammar rejects in {name}: {f:?}\n{src}")
            }
            (None, Some(c)) => given_up.push(c.clone()),
            (None, None) => {}
        }
    }
    (items.len(), given_up)
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens inserted by mutations: every keyword, bracket and operator.
const SOUP: &[&str] = &[
    "fn",
    "do",
    "end",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "${",
    "\n",
    "x",
    "Foo",
    "1",
    "-1",
    "2.5",
    "->",
    "|>",
    "case",
    "if",
    "else",
    "let",
    "=",
    ",",
    "|",
    "::",
    ":",
    "<",
    ">",
    "-",
    "not",
    "!",
    "pub",
    "type",
    "struct",
    "service",
    "extern",
    "from",
    "import",
    "as",
    "when",
    "for",
    "in",
    ".",
    "%{",
    "%",
    "+",
    "*",
    "/",
    "==",
    "!=",
    "<=",
    ">=",
    "and",
    "or",
    "&&",
    "||",
    "<>",
    "true",
    "false",
    "nil",
    "_",
    "while",
    "call",
    "cast",
    "init",
    "Fun",
    "\"s\"",
    "\"a${b}c\"",
    " ",
    "\n  ",
    "# c\n",
    "Int",
    "List<",
    "M.f",
    "M.C",
    "u.f",
];

/// Split into words (keeping separators), for mutation.
fn words(src: &str) -> Vec<&str> {
    src.split_inclusive(|c: char| c.is_whitespace() || "()[]{},.:|".contains(c))
        .collect()
}

/// `n` mutants of `src`: 1 to 4 edits each (delete, duplicate, move,
/// insert a token of [`SOUP`], swap neighbours).
fn mutants(src: &str, n: usize, rng: &mut Rng) -> Vec<String> {
    let base = words(src);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut ws: Vec<&str> = base.clone();
        for _ in 0..1 + rng.below(4) {
            if ws.is_empty() {
                break;
            }
            let i = rng.below(ws.len());
            match rng.below(5) {
                0 => {
                    ws.remove(i);
                }
                1 => {
                    let w = ws[i];
                    ws.insert(i, w);
                }
                2 => {
                    let w = ws[rng.below(ws.len())];
                    ws.insert(i, w);
                }
                3 => {
                    let t = SOUP[rng.below(SOUP.len())];
                    ws.insert(i, t);
                }
                _ => {
                    if i + 1 < ws.len() {
                        ws.swap(i, i + 1);
                    }
                }
            }
        }
        out.push(ws.concat());
    }
    out
}

#[test]
fn fast_path_matches_rich_parse_on_repository_programs() {
    let files = repository_programs();
    assert!(files.len() > 20, "found only {} programs", files.len());
    let mut items = 0;
    let mut given_up = Vec::new();
    for (name, src) in &files {
        assert_same(name, src);
        let (n, g) = assert_first_pass_agrees(name, src);
        items += n;
        given_up.extend(g);
    }
    // fast.rs is only worth having if it takes (nearly) every valid item.
    assert!(
        given_up.len() * 100 <= items,
        "fast.rs gives up on {} of {items} items the grammar accepts, e.g. {:?}",
        given_up.len(),
        given_up.first()
    );
}

#[test]
fn fast_path_matches_on_generated_programs() {
    let progs = generated_programs(3000);
    for (name, src) in &progs {
        assert_same(name, src);
        let (_, given_up) = assert_first_pass_agrees(name, src);
        assert!(given_up.is_empty(), "fast.rs gives up on {:?}", given_up[0]);
    }
}

#[test]
fn fast_path_matches_on_mutated_programs() {
    let mut progs = repository_programs();
    progs.extend(generated_programs(300));
    let per_file: usize = std::env::var("SNOW_FAST_PATH_MUTANTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut rng = Rng(0x5eed);
    let (mut items, mut given_up) = (0, 0);
    for (name, src) in &progs {
        for (k, m) in mutants(src, per_file, &mut rng).iter().enumerate() {
            let name = format!("{name} (mutant {k})");
            let (n, g) = assert_first_pass_agrees(&name, m);
            items += n;
            given_up += g.len();
        }
        // Whole-file comparisons (slower: the rich pass) on some of them.
        for (k, m) in mutants(src, per_file / 10, &mut rng).iter().enumerate() {
            assert_same(&format!("{name} (mutant {k}, whole)"), m);
        }
    }
    eprintln!("mutants: {items} items, fast.rs gave up on {given_up} the grammar accepts");
}

#[test]
fn fast_path_matches_on_token_soup() {
    let mut rng = Rng(0x50_0b);
    let n: usize = std::env::var("SNOW_FAST_PATH_SOUP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    for k in 0..n {
        let mut src = String::from(["fn f(x) = ", "fn f() do\n  ", "fn g(a, b) do\n  "][k % 3]);
        for _ in 0..1 + rng.below(25) {
            src.push_str(SOUP[rng.below(SOUP.len())]);
            src.push(' ');
        }
        if k % 3 != 0 {
            src.push_str("\nend\n");
        }
        assert_first_pass_agrees(&format!("soup {k}"), &src);
        if k % 10 == 0 {
            assert_same(&format!("soup {k}"), &src);
        }
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
        // What the grammar parses only to report it.
        "fn f() do\n  x = 1\n  while x do\n    1\n  end\nend\n",
        "service S do\n  fn init() = 0\n  fn init() = 1\nend\n",
        "service S do\n  fn other() = 0\nend\n",
        // Recovery inside brackets.
        "fn f() = g(1, +)\n",
        "fn f() = [1, +]\n",
        "fn f() = (1 +)\n",
        "fn f() = g(1)(+)\n",
        // Empty blocks, arms, trailing separators.
        "fn f() do\nend\n",
        "fn f() = if x do else end\n",
        "fn f() = case x do end\n",
        "fn f() = case x do\n  1 -> a\n  b\n  2 when c -> d\nend\n",
        "fn f() = fn() -> end\n",
        "fn f(a,) = [1, 2,]\n",
        "fn f() = (1,)\n",
        "from M import (a, B,)\n",
        "from M import a, B,\n",
        "type T<a,> do\n  A(a,)\n  B\nend\n",
        "struct S do\nend\n",
        "fn f() = %{u | a: 1,}\n",
        "fn f() = S { a, b: 1 }\n",
        "fn f() = case x do\n  [a, b | t] -> 1\n  [] -> 2\n  [a] -> 3\n  S { a, b: _ } -> 4\n  M.C(x) -> 5\nend\n",
    ];
    for src in cases {
        assert_same(src, src);
        assert_first_pass_agrees(src, src);
    }
}
