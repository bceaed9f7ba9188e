//! Rendering diagnostics as text with ariadne: the one place that turns
//! [`Diagnostic`] values into what the user reads.
//!
//! ```text
//! error[E0006]: unexpected token ')', expected an expression
//!    ╭─[ main.snow:2:11 ]
//!    │
//!  2 │   let x = )
//!    │           ┬
//!    │           ╰── expected an expression
//! ───╯
//! ```

use crate::diagnostic::{Diagnostic, Severity};
use crate::lines::LineIndex;
use crate::span::{SourceMap, Span};
use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
use std::fmt;
use std::ops::Range;

/// Source id for ariadne: the file index (unique) shown as the file name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SrcId(u32, String);

impl fmt::Display for SrcId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.1)
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// A byte range that is valid for `text`, on char boundaries, and not empty
/// when the text allows (an empty span points at the character after it, or
/// at the end of the last line).
fn clamp(text: &str, span: Span) -> Range<usize> {
    let start = floor_boundary(text, span.start as usize);
    let end = ceil_boundary(text, (span.end as usize).max(start));
    if start < end {
        return start..end;
    }
    match text[start..].chars().next() {
        Some(c) if c != '\n' => start..start + c.len_utf8(),
        _ => start..start,
    }
}

/// Render every diagnostic; `color = false` gives plain text (for snapshots).
pub fn render(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    render_capped(diags, sources, color, usize::MAX)
}

/// How many diagnostics `snowc` renders in full (with the source lines)
/// before it gives the rest one line each (see [`render_capped`]).
pub const FULL_DIAGNOSTICS: usize = 100;

/// Renders the first `full` diagnostics in full and every later one as a
/// single line, `file:line:col: warning[W0001]: message`, so that a
/// program with thousands of warnings is reported in time proportional to
/// their number, not to their number times the work of drawing each one
/// (a full report costs about 5 us: 19,000 of them would take longer than
/// checking the program). When there are more than `full`, errors come
/// first (in their order), then warnings, so no error ends up among the
/// short lines behind thousands of warnings.
pub fn render_capped(
    diags: &[Diagnostic],
    sources: &SourceMap,
    color: bool,
    full: usize,
) -> String {
    let mut ordered: Vec<&Diagnostic> = diags.iter().collect();
    if diags.len() > full {
        // A stable sort: errors first, each group in its order.
        ordered.sort_by_key(|d| !d.is_error());
    }
    let (long, short) = ordered.split_at(full.min(ordered.len()));
    let mut out = String::new();
    // One cache for the diagnostics drawn in full, of the files they point
    // into only: ariadne indexes each of those sources' lines once.
    let mut used: Vec<u32> = long
        .iter()
        .flat_map(|d| {
            std::iter::once(d.span.file.0).chain(d.secondary.iter().map(|l| l.span.file.0))
        })
        .collect();
    used.sort_unstable();
    used.dedup();
    let mut cache = ariadne::sources(used.iter().filter_map(|&i| {
        let f = sources.files.get(i as usize)?;
        Some((SrcId(i, f.name.clone()), f.text.clone()))
    }));
    for d in long {
        out.push_str(&render_one(d, sources, color, &mut cache));
    }
    if !short.is_empty() {
        let lines = LineIndex::new(sources);
        for d in short {
            render_short(d, sources, color, &lines, &mut out);
        }
    }
    out
}

/// One diagnostic on one line: `file:line:col: kind[CODE]: message`.
fn render_short(
    d: &Diagnostic,
    sources: &SourceMap,
    color: bool,
    lines: &LineIndex,
    out: &mut String,
) {
    use std::fmt::Write;
    let (kind, ansi) = match d.severity {
        Severity::Error => ("error", "\x1b[31m"),
        Severity::Warning => ("warning", "\x1b[33m"),
    };
    if let Some(f) = sources.files.get(d.span.file.0 as usize) {
        let (line, col) = lines.line_col(d.span);
        let _ = write!(out, "{}:{line}:{col}: ", f.name);
    }
    if color {
        let _ = writeln!(out, "{ansi}{kind}[{}]\x1b[0m: {}", d.code, d.message);
    } else {
        let _ = writeln!(out, "{kind}[{}]: {}", d.code, d.message);
    }
}

fn render_one(
    d: &Diagnostic,
    sources: &SourceMap,
    color: bool,
    cache: &mut impl ariadne::Cache<SrcId>,
) -> String {
    // `error[E0006]`, as rustc writes it (ariadne's own code format is `[E0006] error`).
    let kind_name = match d.severity {
        Severity::Error => format!("error[{}]", d.code),
        Severity::Warning => format!("warning[{}]", d.code),
    };
    let Some(file) = sources.files.get(d.span.file.0 as usize) else {
        // No source to show (should not happen): the message alone.
        let mut s = format!("{kind_name}: {}\n", d.message);
        if let Some(h) = &d.help {
            s.push_str(&format!("  help: {h}\n"));
        }
        return s;
    };
    let kind = match d.severity {
        Severity::Error => ReportKind::Custom(&kind_name, Color::Red),
        Severity::Warning => ReportKind::Custom(&kind_name, Color::Yellow),
    };
    let id = SrcId(d.span.file.0, file.name.clone());
    let primary = clamp(&file.text, d.span);
    let mut report = Report::build(kind, (id.clone(), primary.clone()))
        .with_config(
            Config::default()
                .with_color(color)
                .with_index_type(IndexType::Byte)
                .with_compact(false),
        )
        .with_message(&d.message);
    let mut label = Label::new((id.clone(), primary)).with_color(Color::Red);
    if !d.label.is_empty() {
        label = label.with_message(&d.label);
    }
    // ariadne starts a new source group when a label lies above the previous
    // one, so add labels in source order.
    let mut labels = vec![(d.span.start, label)];
    for l in &d.secondary {
        let Some(f) = sources.files.get(l.span.file.0 as usize) else {
            continue;
        };
        let sid = SrcId(l.span.file.0, f.name.clone());
        labels.push((
            l.span.start,
            Label::new((sid, clamp(&f.text, l.span)))
                .with_message(&l.message)
                .with_color(Color::Blue),
        ));
    }
    labels.sort_by_key(|(start, _)| *start);
    report = report.with_labels(labels.into_iter().map(|(_, l)| l));
    if let Some(h) = &d.help {
        report = report.with_help(h);
    }
    let mut buf = Vec::new();
    if report.finish().write(cache, &mut buf).is_err() {
        return format!("{kind_name}: {}\n", d.message);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    // ariadne writes `Help:`; our messages are lower case throughout.
    let text = text.replace("Help: ", "help: ");
    if color {
        text
    } else {
        strip_ansi(&text)
    }
}

/// Remove ANSI escape sequences (ariadne colours custom report kinds even
/// when colour is off).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;

    fn at(file: u32, start: usize, code: &'static str, msg: &str) -> Diagnostic {
        Diagnostic::new(
            Code(code),
            Span::new(crate::span::FileId(file), start, start + 1),
            msg,
        )
    }

    #[test]
    fn past_the_cap_errors_come_first_and_the_rest_is_one_line_each() {
        let mut sources = SourceMap::default();
        sources.add("a.snow", "let a = 1\nlet b = 2\n  let é = 3\n");
        sources.add("b.snow", "x\ny\n");
        let diags = vec![
            at(0, 0, "W0001", "first warning"),
            at(0, 10, "W0001", "second warning"),
            at(0, 29, "W0002", "third warning"),
            at(1, 2, "E0012", "the error"),
        ];
        let out = render_capped(&diags, &sources, false, 2);
        // The error (found last) and the first warning in full, in that order.
        let error = out.find("error[E0012]: the error").unwrap();
        let first = out.find("warning[W0001]: first warning").unwrap();
        assert!(error < first, "{out}");
        assert_eq!(out.matches("╭─[").count(), 2, "{out}");
        assert!(out.contains("╭─[ b.snow:2:1 ]"), "{out}");
        // The other two one line each, with line and column (in
        // characters: `é` is two bytes).
        assert!(out.ends_with("a.snow:2:1: warning[W0001]: second warning\na.snow:3:9: warning[W0002]: third warning\n"), "{out}");
        // Under the cap: everything in full, in the order given.
        let all = render_capped(&diags, &sources, false, 100);
        assert_eq!(all.matches("╭─[").count(), 4, "{all}");
        assert!(all.find("first warning").unwrap() < all.find("the error").unwrap());
        assert_eq!(all, render(&diags, &sources, false));
    }
}
