//! The checker never panics: mutated versions of every Snow program in the
//! repository (examples, test programs, WebSocket test servers) are parsed
//! and, when they parse cleanly (as the CLI does: parse errors stop before
//! type checking), type checked. Mutations delete, duplicate, swap and
//! replace words with tokens and names the checker has rules for, so most
//! cases are well-formed programs with type, name or exhaustiveness errors.
//! Every diagnostic span must lie inside its file.

use proptest::prelude::*;
use snowc_syntax::{parse, SourceMap};
use std::sync::OnceLock;

/// The repository's Snow programs: (path from the repository root, source).
fn corpus() -> &'static Vec<(String, String)> {
    static C: OnceLock<Vec<(String, String)>> = OnceLock::new();
    C.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut out = Vec::new();
        // A moved or emptied folder fails here instead of shrinking the
        // corpus silently; the minimums are a little below today's counts.
        for (dir, min) in [
            ("examples", 5),
            ("tests/programs", 15),
            ("tests/ws", 5),
            ("tests/snapshot", 5),
        ] {
            let rd = std::fs::read_dir(root.join(dir))
                .unwrap_or_else(|e| panic!("cannot read the folder {dir}: {e}"));
            let mut paths: Vec<_> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "snow"))
                .collect();
            paths.sort();
            assert!(
                paths.len() >= min,
                "expected at least {min} .snow programs in {dir}, found {}",
                paths.len()
            );
            for p in paths {
                let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
                out.push((name, std::fs::read_to_string(&p).unwrap()));
            }
        }
        out
    })
}

/// The std table, loaded once, and the source map holding the std files.
fn base() -> &'static (SourceMap, snowc_types::ModuleTable) {
    static B: OnceLock<(SourceMap, snowc_types::ModuleTable)> = OnceLock::new();
    B.get_or_init(|| {
        let mut sm = SourceMap::default();
        let (table, diags) = snowc_types::std_lib::load(&mut sm);
        assert!(diags.is_empty(), "{diags:?}");
        (sm, table)
    })
}

/// Parse, then check when parsing succeeded; panics on an inconsistency.
/// Answers the diagnostics: the parser's when parsing failed, else the
/// checker's, and whether the program reached the checker.
fn front_end(src: &str) -> (bool, Vec<snowc_syntax::Diagnostic>, SourceMap) {
    let (base_sm, table) = base();
    let mut sm = base_sm.clone();
    let file = sm.add("fuzz.snow", src);
    let (module, diags) = parse(file, src);
    if !diags.is_empty() {
        return (false, diags, sm);
    }
    let (_, diags) = snowc_types::check_with(table, &sm, file, &module);
    for d in &diags {
        if d.span.file == file {
            assert!(
                d.span.start <= d.span.end && d.span.end as usize <= src.len(),
                "{d:?} in {src:?}"
            );
        }
    }
    let _ = snowc_syntax::render(&diags, &sm, false);
    (true, diags, sm)
}

fn words(src: &str) -> Vec<&str> {
    src.split_inclusive(|c: char| c.is_whitespace() || "()[],.".contains(c))
        .collect()
}

/// Replacement words: keywords, literals, operators and std names.
const TOKENS: &[&str] = &[
    "1 ",
    "\"s\" ",
    "true ",
    "nil ",
    "x ",
    "conn ",
    "msg ",
    "+ ",
    "<> ",
    "== ",
    "|> ",
    "-> ",
    ":: ",
    "Int ",
    "String ",
    "Bool ",
    "List<Int> ",
    "Option<String> ",
    "Some(1) ",
    "None ",
    "Ws.send ",
    "Ws.join ",
    "List.map ",
    "Map.get ",
    "String.length ",
    "fn(a) -> a end ",
    "let y = 2\n",
    "case x do\n 1 -> 2\n end\n",
    "if true do 1 else \"a\" end ",
    "[] ",
    "[1, \"a\"] ",
    // Snow v2: tuples, structs, fields, updates, cons, destructuring, services.
    "(1, \"a\") ",
    "(x, y) ",
    "let (a, b) = ",
    "User { name: \"a\", age: 1 } ",
    "User { name } ",
    "Box { value: x } ",
    ".name ",
    ".value ",
    "%{x | name: \"b\"} ",
    "[1 | xs] ",
    "[a, b | t] ",
    "for (k, v) in ",
    "Counter.get ",
    "Counter.start(1) ",
    "List.zip ",
    "Map.to_list ",
    "List.sort ",
    "panic(\"p\") ",
    "-> do\n 1\n end\n",
    "struct P do\n x :: Int\n end\n",
    "service S do\n fn init() -> Int = 0\n call Get() :: Int do |n|\n (n, n)\n end\n end\n",
    "import Util\n",
    "from Util import (f, T)\n",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Swap(usize, usize),
    Replace(usize, usize),
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut ws: Vec<String> = words(src).into_iter().map(str::to_string).collect();
    for e in edits {
        if ws.is_empty() {
            break;
        }
        let n = ws.len();
        match *e {
            Edit::Delete(i, len) => {
                let i = i % n;
                let end = (i + len % 4 + 1).min(n);
                ws.drain(i..end);
            }
            Edit::Duplicate(i, len) => {
                let i = i % n;
                let end = (i + len % 6 + 1).min(n);
                let copy: Vec<String> = ws[i..end].to_vec();
                ws.splice(i..i, copy);
            }
            Edit::Swap(i, j) => ws.swap(i % n, j % n),
            Edit::Replace(i, t) => ws[i % n] = TOKENS[t % TOKENS.len()].to_string(),
        }
    }
    ws.concat()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(i, l)| Edit::Delete(i, l)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, l)| Edit::Duplicate(i, l)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Swap(i, j)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, t)| Edit::Replace(i, t)),
    ]
}

#[test]
fn unmutated_corpus_checks() {
    // The corpus itself parses and type checks without errors (warnings
    // are allowed): the mutations start from real, valid programs.
    for (name, src) in corpus() {
        let (checked, diags, sm) = front_end(src);
        assert!(
            checked && !snowc_syntax::has_errors(&diags),
            "{name} does not {}:\n{}",
            if checked { "type check" } else { "parse" },
            snowc_syntax::render(&diags, &sm, false)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_programs_never_panic_the_checker(
        pick in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let c = corpus();
        let src = apply(&c[pick % c.len()].1, &edits);
        front_end(&src);
    }

    #[test]
    fn token_soup_never_panics_the_checker(
        toks in proptest::collection::vec(0..TOKENS.len(), 0..40),
    ) {
        let body: String = toks.iter().map(|&t| TOKENS[t]).collect();
        front_end(&format!("fn main() do\n{body}\nend\n"));
        front_end(&format!("fn f(x) = {body}\nfn main() = f(1)\n"));
    }
}
