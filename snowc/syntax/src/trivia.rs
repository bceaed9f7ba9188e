//! Comments, which the lexer skips: the tools (`snowc fmt`, `snowc lsp`)
//! need them with their positions. A comment lies in a gap between two
//! tokens of [`lex_raw`](crate::lexer::lex_raw) (never inside a string's
//! text, which is tokens end to end), so this scans those gaps only.

use crate::lexer::lex_raw;
use crate::span::{FileId, Span};

/// One `#` comment: from the `#` to the end of its line (the newline, and a
/// `\r` before it, excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// Code precedes it on its line (`x + 1  # why`): a trailing comment.
    pub trailing: bool,
}

impl Comment {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.span.range()]
    }
}

/// Every comment of `src`, in source order.
pub fn comments(file: FileId, src: &str) -> Vec<Comment> {
    let (toks, _) = lex_raw(file, src);
    let mut out = Vec::new();
    let mut gap_start = 0usize;
    for (_, s) in toks.iter() {
        let start = s.start as usize;
        if start > gap_start {
            scan_gap(file, src, gap_start, start, &mut out);
        }
        gap_start = gap_start.max(s.end as usize);
    }
    if src.len() > gap_start {
        scan_gap(file, src, gap_start, src.len(), &mut out);
    }
    out
}

fn scan_gap(file: FileId, src: &str, from: usize, to: usize, out: &mut Vec<Comment>) {
    let bytes = src.as_bytes();
    let mut i = from;
    while i < to {
        if bytes[i] == b'#' {
            let mut end = bytes[i..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(src.len(), |n| i + n);
            let next = end;
            while end > i && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            let line_start = bytes[..i]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |n| n + 1);
            let trailing = bytes[line_start..i]
                .iter()
                .any(|b| !b.is_ascii_whitespace());
            out.push(Comment {
                span: Span::new(file, i, end),
                trailing,
            });
            i = next;
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(String, bool)> {
        comments(FileId(0), src)
            .iter()
            .map(|c| (c.text(src).to_string(), c.trailing))
            .collect()
    }

    #[test]
    fn comments_outside_strings_only() {
        let src = "# head\nfn f() do # after do\n  \"a # not ${x # inner\n} b\"\nend\n#tail";
        assert_eq!(
            texts(src),
            vec![
                ("# head".into(), false),
                ("# after do".into(), true),
                ("# inner".into(), true),
                ("#tail".into(), false)
            ]
        );
        assert_eq!(texts("x # crlf\r\ny"), vec![("# crlf".into(), true)]);
    }
}
