//! Documents as the editor has them: positions in LSP's UTF-16 code units
//! to byte offsets and back, and incremental edits.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// Line starts of a text, for position conversions.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex { text, starts }
    }

    /// The byte offset of a position (clamped to the text: a position past
    /// the end of a line is its end, past the last line the text's end).
    pub fn offset(&self, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(p.line as usize + 1)
            .map_or(self.text.len(), |e| e - 1);
        let line = &self.text[start..end.max(start)];
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= p.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        start + line.len()
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let mut o = offset;
        while o > start && !self.text.is_char_boundary(o) {
            o -= 1;
        }
        let character: usize = self.text[start..o].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end.max(start)))
    }
}

/// Apply one change of `textDocument/didChange` (a range, or the whole text).
pub fn apply_change(text: &mut String, change: &TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text.clone(),
        Some(r) => {
            let idx = LineIndex::new(text);
            let a = idx.offset(r.start);
            let b = idx.offset(r.end).max(a);
            text.replace_range(a..b, &change.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip() {
        let t = "aé😀b\nxy\n";
        let idx = LineIndex::new(t);
        // 😀 is two UTF-16 units.
        assert_eq!(idx.offset(Position::new(0, 4)), "aé😀".len());
        assert_eq!(idx.position("aé😀".len()), Position::new(0, 4));
        assert_eq!(idx.offset(Position::new(1, 1)), t.find('y').unwrap());
        assert_eq!(idx.offset(Position::new(1, 99)), t.find("y\n").unwrap() + 1);
        assert_eq!(idx.offset(Position::new(9, 0)), t.len());
    }

    #[test]
    fn incremental_edits() {
        let mut t = "fn main() do\n  x\nend\n".to_string();
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(1, 2), Position::new(1, 3))),
            range_length: None,
            text: "println(\"é\")".into(),
        };
        apply_change(&mut t, &change);
        assert_eq!(t, "fn main() do\n  println(\"é\")\nend\n");
    }
}
