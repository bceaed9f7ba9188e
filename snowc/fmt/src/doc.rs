//! A Wadler-style document and its printer (Lindig's strict variant, as in
//! Gleam's `pretty.rs` and Prettier's printer), with what a formatter that
//! keeps comments needs besides groups:
//!
//! - [`Doc::suffix`]: text deferred to the end of the current line (a
//!   trailing `# comment`), written just before the next newline;
//! - [`Doc::break_parent`] / hard lines: a group containing one can never
//!   be flat, and neither can any group around it (computed once, when the
//!   document is built: every node caches whether it holds a hard break);
//! - [`Doc::line_start`]: a newline unless the line is still empty (an
//!   own-line comment found in the middle of an expression);
//! - [`Doc::choice`]: alternatives tried in order (the first printed flat,
//!   the others in break mode), the first whose first line fits wins: how
//!   a call keeps a closure as its last argument on the call's line.
//!
//! Nodes are reference-counted, so alternatives share their parts: the
//! size of a document stays linear in the source.

use std::rc::Rc;

#[derive(Clone, Debug)]
pub struct Doc(Rc<Node>);

#[derive(Debug)]
struct Node {
    kind: Kind,
    /// Holds a hard break: cannot be printed flat.
    hard: bool,
}

#[derive(Debug)]
enum Kind {
    Nil,
    /// Text without a newline.
    Text(String),
    /// Text that may hold newlines (a string literal kept as written).
    Verbatim(String),
    /// A space (or the given text) when flat, a newline when broken.
    Line(&'static str),
    Hard,
    LineStart,
    Nest(usize, Doc),
    Group(Doc, bool),
    Concat(Vec<Doc>),
    Suffix(String),
    BreakParent,
    /// (when broken, when flat)
    IfBreak(Doc, Doc),
    Choice(Vec<Doc>),
    /// `content sep content sep ...`: each separator (a line) breaks only
    /// when the content after it does not fit on the line.
    Fill(Vec<Doc>),
}

fn node(kind: Kind) -> Doc {
    let hard = match &kind {
        Kind::Nil | Kind::Text(_) | Kind::Verbatim(_) | Kind::Line(_) | Kind::Suffix(_) => false,
        Kind::LineStart => false,
        Kind::Hard | Kind::BreakParent => true,
        Kind::Nest(_, d) => d.is_hard(),
        Kind::Group(d, broken) => *broken || d.is_hard(),
        Kind::Concat(ds) | Kind::Fill(ds) => ds.iter().any(Doc::is_hard),
        Kind::IfBreak(_, flat) => flat.is_hard(),
        Kind::Choice(alts) => alts.first().is_some_and(Doc::is_hard),
    };
    Doc(Rc::new(Node { kind, hard }))
}

impl Doc {
    pub fn nil() -> Doc {
        node(Kind::Nil)
    }
    pub fn text(s: impl Into<String>) -> Doc {
        let s = s.into();
        if s.contains('\n') {
            node(Kind::Verbatim(s))
        } else {
            node(Kind::Text(s))
        }
    }
    /// A space when flat, a newline when broken.
    pub fn line() -> Doc {
        node(Kind::Line(" "))
    }
    /// Nothing when flat, a newline when broken.
    pub fn softline() -> Doc {
        node(Kind::Line(""))
    }
    pub fn hard() -> Doc {
        node(Kind::Hard)
    }
    pub fn line_start() -> Doc {
        node(Kind::LineStart)
    }
    pub fn suffix(s: impl Into<String>) -> Doc {
        node(Kind::Suffix(s.into()))
    }
    pub fn break_parent() -> Doc {
        node(Kind::BreakParent)
    }
    pub fn nest(self, n: usize) -> Doc {
        node(Kind::Nest(n, self))
    }
    pub fn group(self) -> Doc {
        node(Kind::Group(self, false))
    }
    /// A group that is always broken.
    pub fn broken_group(self) -> Doc {
        node(Kind::Group(self, true))
    }
    /// The same group, always broken (other documents unchanged).
    pub fn force_break(&self) -> Doc {
        match &self.0.kind {
            Kind::Group(d, _) => node(Kind::Group(d.clone(), true)),
            _ => self.clone(),
        }
    }
    pub fn if_break(broken: Doc, flat: Doc) -> Doc {
        node(Kind::IfBreak(broken, flat))
    }
    pub fn choice(alts: Vec<Doc>) -> Doc {
        node(Kind::Choice(alts))
    }
    /// Contents at even indices, separators (lines) at odd ones.
    pub fn fill(ds: Vec<Doc>) -> Doc {
        node(Kind::Fill(ds))
    }
    pub fn concat(ds: Vec<Doc>) -> Doc {
        let ds: Vec<Doc> = ds.into_iter().filter(|d| !d.is_nil()).collect();
        if ds.is_empty() {
            return Doc::nil();
        }
        if ds.len() == 1 {
            return ds.into_iter().next().unwrap_or_else(Doc::nil);
        }
        node(Kind::Concat(ds))
    }
    pub fn is_hard(&self) -> bool {
        self.0.hard
    }
    pub fn is_nil(&self) -> bool {
        matches!(self.0.kind, Kind::Nil)
    }
    /// `self` followed by `other`.
    pub fn then(self, other: Doc) -> Doc {
        Doc::concat(vec![self, other])
    }
}

/// `d1 sep d2 sep ... dn`.
pub fn join(ds: Vec<Doc>, sep: Doc) -> Doc {
    let mut out = Vec::with_capacity(ds.len() * 2);
    for (i, d) in ds.into_iter().enumerate() {
        if i > 0 {
            out.push(sep.clone());
        }
        out.push(d);
    }
    Doc::concat(out)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Flat,
    Break,
}

type Cmd<'a> = (usize, Mode, &'a Doc);

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Does `first` (then `rest`, from its top) fit in `avail` columns up to
/// the next newline?
fn fits(first: Cmd<'_>, rest: &[Cmd<'_>], avail: isize) -> bool {
    let mut w = avail;
    let mut stack: Vec<(Mode, &Doc)> = vec![(first.1, first.2)];
    let mut rest_i = rest.len();
    loop {
        let (mode, doc) = match stack.pop() {
            Some(c) => c,
            None => {
                if rest_i == 0 {
                    return true;
                }
                rest_i -= 1;
                (rest[rest_i].1, rest[rest_i].2)
            }
        };
        match &doc.0.kind {
            Kind::Nil | Kind::Suffix(_) | Kind::BreakParent => {}
            Kind::Text(s) => {
                w -= width(s) as isize;
                if w < 0 {
                    return false;
                }
            }
            Kind::Verbatim(s) => {
                let first_line = s.split('\n').next().unwrap_or("");
                w -= width(first_line) as isize;
                return w >= 0;
            }
            Kind::Line(flat) => {
                if mode == Mode::Break {
                    return true;
                }
                w -= flat.len() as isize;
                if w < 0 {
                    return false;
                }
            }
            Kind::Hard | Kind::LineStart => return true,
            Kind::Nest(_, d) => stack.push((mode, d)),
            Kind::Group(d, _) => {
                let m = if doc.is_hard() {
                    Mode::Break
                } else {
                    Mode::Flat
                };
                stack.push((if mode == Mode::Flat { Mode::Flat } else { m }, d));
            }
            Kind::Concat(ds) => {
                for d in ds.iter().rev() {
                    stack.push((mode, d));
                }
            }
            Kind::Fill(ds) => {
                // Up to the first separator that may break: its first part.
                if let Some(d) = ds.first() {
                    stack.push((mode, d));
                }
                if mode == Mode::Flat {
                    for d in ds.iter().skip(1).rev() {
                        stack.push((mode, d));
                    }
                }
            }
            Kind::IfBreak(b, f) => stack.push((mode, if mode == Mode::Break { b } else { f })),
            Kind::Choice(alts) => {
                // As the printer would choose: the first alternative flat
                // when it can be; else the first broken one (the layout a
                // broken closure or value gets when it fits), not the last
                // (whose first line is the shortest): a choice written broken
                // and one broken by an earlier pass then measure alike.
                if let Some(a) = alts.first().filter(|a| !a.is_hard()) {
                    stack.push((Mode::Flat, a));
                } else if let Some(a) = alts.get(1).or(alts.last()) {
                    stack.push((Mode::Break, a));
                }
            }
        }
    }
}

/// Print `doc` at `width` columns. Indentation is written lazily (only
/// before text), so no line ends with spaces.
pub fn print(doc: &Doc, width: usize) -> String {
    let mut p = Printer {
        out: String::new(),
        col: 0,
        pending_indent: Some(0),
        line_indent: 0,
        suffixes: Vec::new(),
    };
    print_into(&mut p, (0, Mode::Break, doc), width);
    p.flush_suffixes();
    p.out
}

/// Print one command completely (a fill prints its parts one by one
/// through this, so the column is known when each separator is decided).
fn print_into(p: &mut Printer, first: Cmd<'_>, width: usize) {
    let mut cmds: Vec<Cmd<'_>> = vec![first];
    while let Some((ind, mode, doc)) = cmds.pop() {
        match &doc.0.kind {
            Kind::Nil | Kind::BreakParent => {}
            Kind::Text(s) => p.write(s),
            Kind::Verbatim(s) => p.write(s),
            Kind::Line(flat) => {
                if mode == Mode::Flat {
                    p.write(flat);
                } else {
                    p.newline(ind);
                }
            }
            Kind::Hard => p.newline(ind),
            Kind::LineStart => {
                if p.pending_indent.is_none() {
                    p.newline(ind);
                }
            }
            Kind::Suffix(s) => p.suffixes.push(s.clone()),
            Kind::Nest(n, d) => cmds.push((ind + n, mode, d)),
            Kind::Concat(ds) => {
                for d in ds.iter().rev() {
                    cmds.push((ind, mode, d));
                }
            }
            Kind::Group(d, _) => {
                // Flat inside a flat group, or when it fits; else broken.
                let flat = !doc.is_hard()
                    && (mode == Mode::Flat
                        || fits((ind, Mode::Flat, d), &cmds, width as isize - p.col as isize));
                let m = if flat { Mode::Flat } else { Mode::Break };
                cmds.push((ind, m, d));
            }
            Kind::IfBreak(b, f) => cmds.push((ind, mode, if mode == Mode::Break { b } else { f })),
            Kind::Fill(ds) => {
                if mode == Mode::Flat
                    || !doc.is_hard()
                        && fits((ind, Mode::Flat, doc), &[], width as isize - p.col as isize)
                {
                    for d in ds.iter().rev() {
                        cmds.push((ind, Mode::Flat, d));
                    }
                    continue;
                }
                // Decide each separator when it is reached: print the
                // content, then the separator flat if the next content
                // fits after it.
                let mut i = 0;
                while i < ds.len() {
                    let content = &ds[i];
                    let avail = width as isize - p.col as isize;
                    let cm = if !content.is_hard() && fits((ind, Mode::Flat, content), &[], avail) {
                        Mode::Flat
                    } else {
                        Mode::Break
                    };
                    print_into(p, (ind, cm, content), width);
                    if let (Some(sep), Some(next)) = (ds.get(i + 1), ds.get(i + 2)) {
                        let avail = width as isize - p.col as isize;
                        let pair = Doc::concat(vec![sep.clone(), next.clone()]);
                        let sm = if !pair.is_hard() && fits((ind, Mode::Flat, &pair), &[], avail) {
                            Mode::Flat
                        } else {
                            Mode::Break
                        };
                        print_into(p, (ind, sm, sep), width);
                    }
                    i += 2;
                }
            }
            Kind::Choice(alts) => {
                if mode == Mode::Flat {
                    if let Some(a) = alts.first() {
                        cmds.push((ind, Mode::Flat, a));
                    }
                    continue;
                }
                let avail = width as isize - p.col as isize;
                let mut chosen = None;
                for (i, a) in alts.iter().enumerate() {
                    if i + 1 == alts.len() {
                        chosen = Some((Mode::Break, a));
                        break;
                    }
                    let m = if i == 0 { Mode::Flat } else { Mode::Break };
                    if m == Mode::Flat && a.is_hard() {
                        continue;
                    }
                    if fits((ind, m, a), &cmds, avail) {
                        chosen = Some((m, a));
                        break;
                    }
                }
                if let Some((m, a)) = chosen {
                    cmds.push((ind, m, a));
                }
            }
        }
    }
}

struct Printer {
    out: String,
    col: usize,
    /// At the start of a line: the indentation to write before any text.
    pending_indent: Option<usize>,
    /// The indentation of the current line.
    line_indent: usize,
    suffixes: Vec<String>,
}

impl Printer {
    fn write(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(ind) = self.pending_indent.take() {
            self.out.extend(std::iter::repeat_n(' ', ind));
            self.col = ind;
            self.line_indent = ind;
        }
        self.out.push_str(s);
        match s.rfind('\n') {
            Some(i) => self.col = width(&s[i + 1..]),
            None => self.col += width(s),
        }
    }

    /// Write the comments waiting for the end of the line: the first at
    /// the end of it, any other on a line of its own (two comments on one
    /// line would be one).
    fn flush_suffixes(&mut self) {
        for (i, s) in std::mem::take(&mut self.suffixes).into_iter().enumerate() {
            if i > 0 {
                let ind = self.line_indent;
                self.out.push('\n');
                self.col = 0;
                self.pending_indent = Some(ind);
            }
            if self.pending_indent.is_some() {
                // Nothing on this line: the comment takes it alone.
                self.write(s.trim_start());
            } else {
                self.write(&s);
            }
        }
    }

    fn newline(&mut self, ind: usize) {
        self.flush_suffixes();
        self.out.push('\n');
        self.col = 0;
        self.pending_indent = Some(ind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(args: &[&str]) -> Doc {
        let args: Vec<Doc> = args.iter().map(|a| Doc::text(*a)).collect();
        Doc::concat(vec![
            Doc::text("f("),
            Doc::concat(vec![
                Doc::softline(),
                join(args, Doc::text(",").then(Doc::line())),
            ])
            .nest(2),
            Doc::softline(),
            Doc::text(")"),
        ])
        .group()
    }

    #[test]
    fn groups_break_only_when_needed() {
        assert_eq!(print(&call(&["a", "b"]), 80), "f(a, b)");
        assert_eq!(print(&call(&["aaaa", "bbbb"]), 8), "f(\n  aaaa,\n  bbbb\n)");
    }

    #[test]
    fn hard_breaks_propagate_and_suffixes_wait_for_the_newline() {
        let d = Doc::concat(vec![
            Doc::text("f("),
            Doc::concat(vec![
                Doc::softline(),
                Doc::text("a,"),
                Doc::suffix(" # c"),
                Doc::break_parent(),
                Doc::line(),
                Doc::text("b"),
            ])
            .nest(2),
            Doc::softline(),
            Doc::text(")"),
        ])
        .group();
        assert_eq!(print(&d, 80), "f(\n  a, # c\n  b\n)");
    }

    #[test]
    fn blank_lines_have_no_indentation() {
        let d = Doc::concat(vec![
            Doc::text("do"),
            Doc::concat(vec![
                Doc::hard(),
                Doc::text("a"),
                Doc::hard(),
                Doc::hard(),
                Doc::text("b"),
            ])
            .nest(2),
            Doc::hard(),
            Doc::text("end"),
        ]);
        assert_eq!(print(&d, 80), "do\n  a\n\n  b\nend");
    }

    #[test]
    fn choice_takes_the_first_alternative_that_fits() {
        let flat = Doc::text("short");
        let alts = Doc::choice(vec![Doc::text("a-very-long-alternative"), flat]);
        assert_eq!(print(&alts, 10), "short");
        assert_eq!(print(&alts, 40), "a-very-long-alternative");
    }
}
