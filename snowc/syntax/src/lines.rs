//! Byte offsets to 1-based line and column, in O(log lines) per lookup.
//!
//! MIR lowering asks for the position of every statement (debug
//! information) and the renderer for every diagnostic it prints on one line
//! (`render.rs`), so `SourceMap::line_col`, which scans the file from its
//! start, would make both quadratic in the file's size. The answers are the same: the line
//! counts `\n`s before the offset, the column counts characters (Unicode
//! scalar values) since the line's start, and an offset inside a character
//! or past the end is first moved back to a character boundary.

use crate::span::{SourceMap, Span};

/// The line starts of every file of a source map.
pub struct LineIndex<'a> {
    files: Vec<FileLines<'a>>,
}

struct FileLines<'a> {
    text: &'a str,
    /// Byte offset of each line's first byte.
    starts: Vec<u32>,
    /// Whether each line is ASCII: then a column is a byte difference, so a
    /// very long line does not make every lookup in it linear.
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    pub fn new(sources: &'a SourceMap) -> Self {
        let files = sources
            .files
            .iter()
            .map(|f| {
                let text = f.text.as_str();
                let starts: Vec<u32> = std::iter::once(0)
                    .chain(
                        text.bytes()
                            .enumerate()
                            .filter(|(_, b)| *b == b'\n')
                            .map(|(i, _)| i as u32 + 1),
                    )
                    .collect();
                let ascii = starts
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| {
                        let end = starts.get(i + 1).map_or(text.len(), |&e| e as usize);
                        text.as_bytes()[s as usize..end].is_ascii()
                    })
                    .collect();
                FileLines {
                    text,
                    starts,
                    ascii,
                }
            })
            .collect();
        LineIndex { files }
    }

    /// Line and column of the start of `span`; `(0, 0)` when its file is not
    /// in the source map (hand-built programs in tests).
    pub fn line_col(&self, span: Span) -> (u32, u32) {
        let Some(f) = self.files.get(span.file.0 as usize) else {
            return (0, 0);
        };
        let mut pos = (span.start as usize).min(f.text.len());
        while pos > 0 && !f.text.is_char_boundary(pos) {
            pos -= 1;
        }
        let line = f.starts.partition_point(|&s| s as usize <= pos);
        let start = f.starts[line - 1] as usize;
        let col = if f.ascii[line - 1] {
            pos - start
        } else {
            f.text[start..pos].chars().count()
        } + 1;
        (line as u32, col as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    #[test]
    fn agrees_with_the_source_map_at_every_offset() {
        let mut sm = SourceMap::default();
        let text = "fn main() do\n  println(\"é→ ü\")\n\n  x\nend";
        sm.add("a.snow", text);
        sm.add("b.snow", "\n\nz");
        let idx = LineIndex::new(&sm);
        for file in 0..2u32 {
            let len = sm.files[file as usize].text.len();
            for start in 0..=len + 2 {
                let span = Span::new(FileId(file), start, start);
                let (l, c) = sm.line_col(span);
                assert_eq!(idx.line_col(span), (l as u32, c as u32), "{file}:{start}");
            }
        }
        assert_eq!(idx.line_col(Span::new(FileId(7), 0, 0)), (0, 0));
    }
}
