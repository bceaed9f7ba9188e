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
    let mut out = String::new();
    // One cache for all diagnostics: ariadne indexes each source's lines once.
    let mut cache = ariadne::sources(
        sources
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (SrcId(i as u32, f.name.clone()), f.text.clone())),
    );
    for d in diags {
        out.push_str(&render_one(d, sources, color, &mut cache));
    }
    out
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
