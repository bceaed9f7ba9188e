//! Every `.snow` file of the repository (std, examples, tests, bench):
//! formatting succeeds (or is refused for the files that are meant not to
//! parse), is idempotent, and keeps every comment and every string literal
//! byte for byte.

use snowc_fmt::{comment_texts, format, format_at, Error};
use snowc_syntax::lexer::{lex_raw, Token};
use snowc_syntax::FileId;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn snow_files() -> Vec<PathBuf> {
    let (files, errors) = snowc_fmt::files::collect(&[repo_root()]);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(files.len() > 40, "{} files", files.len());
    files
}

/// The source text of every string literal, in order.
fn string_literals(src: &str) -> Vec<String> {
    let (toks, _) = lex_raw(FileId(0), src);
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (t, s) in toks {
        match t {
            Token::StrStart => {
                if depth == 0 {
                    start = s.start as usize;
                }
                depth += 1;
            }
            Token::StrEnd => {
                depth -= 1;
                if depth == 0 {
                    out.push(src[start..s.end as usize].to_string());
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_file_formats_idempotently_keeping_comments_and_strings() {
    let mut formatted = 0;
    let mut refused = Vec::new();
    for f in snow_files() {
        let src = std::fs::read_to_string(&f).unwrap();
        let name = f.display().to_string();
        match format(&src) {
            Ok(out) => {
                formatted += 1;
                let again = format(&out).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert_eq!(out, again, "{name}: not idempotent");
                assert_eq!(comment_texts(&src), comment_texts(&out), "{name}: comments");
                assert_eq!(
                    string_literals(&src),
                    string_literals(&out),
                    "{name}: strings"
                );
                // Narrow widths break everything that can break: still the
                // same program, still idempotent.
                for w in [20, 50] {
                    let narrow =
                        format_at(&src, w).unwrap_or_else(|e| panic!("{name} at {w}: {e:?}"));
                    let again = format_at(&narrow, w).unwrap();
                    assert_eq!(narrow, again, "{name}: not idempotent at width {w}");
                }
            }
            Err(Error::Syntax(_)) => refused.push(name),
            Err(Error::Internal(m)) => panic!("{name}: {m}"),
        }
    }
    // Only the files that are meant not to parse are refused.
    assert!(
        refused.iter().all(|n| n.contains("tests/errors/")),
        "{refused:?}"
    );
    assert!(formatted > 40);
}
