//! The fuzz corpus of the formatter: the repository's programs mutated
//! (words dropped or repeated, as in `snowc_syntax`'s fuzz test) and
//! random token soups. Whatever parses must format without an internal
//! error (the output parses to the same tree with the same comments:
//! `format` checks that itself) and idempotently; whatever does not parse
//! is refused. Nothing panics.

use proptest::prelude::*;
use snowc_fmt::{format, Error};
use std::path::Path;

fn sources() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (files, _) = snowc_fmt::files::collect(&[root]);
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect()
}

fn words(src: &str) -> Vec<&str> {
    src.split_inclusive(|c: char| c.is_whitespace() || "()[],".contains(c))
        .collect()
}

fn check(src: &str) {
    match format(src) {
        Ok(out) => match format(&out) {
            Ok(again) => {
                if out != again {
                    // The last failure written is proptest's smallest.
                    if let Ok(path) = std::env::var("SNOWC_FMT_FAILURE") {
                        let _ = std::fs::write(path, src);
                    }
                }
                assert_eq!(out, again, "not idempotent for {src:?}")
            }
            Err(e) => panic!("formatted text refused: {e:?}\n{src:?}\n{out}"),
        },
        Err(Error::Syntax(_)) => {}
        Err(Error::Internal(m)) => {
            if let Ok(path) = std::env::var("SNOWC_FMT_FAILURE") {
                let _ = std::fs::write(path, src);
            }
            panic!("{m} for {src:?}")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_programs(
        which in 0usize..1000,
        edits in proptest::collection::vec((0u8..4, any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..6),
    ) {
        let all = sources();
        let src = &all[which % all.len()];
        let mut ws: Vec<&str> = words(src);
        for (kind, a, b) in edits {
            if ws.is_empty() {
                break;
            }
            let i = a.index(ws.len());
            match kind {
                0 => { ws.remove(i); }
                1 => { let w = ws[b.index(ws.len())]; ws.insert(i, w); }
                2 => { let w = ws[i]; ws.insert(i, w); }
                // A comment or a blank line somewhere.
                _ => { ws.insert(i, if b.index(2) == 0 { "# c\n" } else { "\n\n" }); }
            }
        }
        check(&ws.concat());
    }

    #[test]
    fn token_soup(parts in proptest::collection::vec(
        prop::sample::select(vec![
            "fn f() do\n", "end\n", "(", ")", "[", "]", "\"s\"", "\"a${x}b\"", "\n", "x", "Foo", "1",
            "->", "|>", "case x do\n", "if c do ", " else ", "let y = ", ",", "|", "<>", "+", "# c\n",
            "fn(a) -> ", " end", "%{u | a: 1}", "U { a: 1 }", "(1, 2)", "y.z", "\n\n",
        ]), 0..60)) {
        check(&parts.concat());
    }
}
