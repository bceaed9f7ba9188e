//! `snowc fmt`: Snow source to its one canonical layout.
//!
//! [`format`] parses the file with the compiler's own parser, lays the
//! syntax tree out ([`layout`]) as a Wadler-style document ([`doc`]) with
//! the comments taken from the gaps between tokens, and prints it at
//! [`WIDTH`] columns. Before returning, it checks its own output: the
//! result must parse without error to the same tree (spans aside) and hold
//! the same comments in the same order; otherwise the file is refused with
//! [`Error::Internal`] rather than changed. So formatting can never change
//! what a program does, whatever bug the layout has.

pub mod doc;
pub mod files;
pub mod layout;

use snowc_syntax::ast::Module;
use snowc_syntax::trivia::comments;
use snowc_syntax::{has_errors, parse, Diagnostic, FileId};

/// The one line width.
pub const WIDTH: usize = 100;

#[derive(Debug)]
pub enum Error {
    /// The file does not parse: its syntax errors (`snowc check`'s).
    Syntax(Vec<Diagnostic>),
    /// The formatter's own output failed its check (a formatter bug): the
    /// file is left as it is.
    Internal(String),
}

/// Format one file's text.
pub fn format(src: &str) -> Result<String, Error> {
    format_at(src, WIDTH)
}

/// [`format`] at another width (tests: the same program laid out
/// differently must behave the same).
pub fn format_at(src: &str, width: usize) -> Result<String, Error> {
    let (module, diags) = parse(FileId(0), src);
    if has_errors(&diags) {
        return Err(Error::Syntax(diags));
    }
    let out = format_module(src, &module, width);
    verify(src, &module, &out)?;
    Ok(out)
}

/// Lay out a parsed module (no check of the result).
pub fn format_module(src: &str, module: &Module, width: usize) -> String {
    let mut l = layout::Layout::new(src);
    let d = l.module(module);
    let mut out = doc::print(&d, width);
    // Exactly one newline at the end; none for an empty file.
    while out.ends_with('\n') {
        out.pop();
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The tree without its spans, for comparing two parses.
pub fn shape(m: &Module) -> String {
    strip_spans(&format!("{m:?}"))
}

fn strip_spans(debug: &str) -> String {
    const PAT: &str = "span: Span {";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(i) = rest.find(PAT) {
        out.push_str(&rest[..i]);
        let after = &rest[i + PAT.len()..];
        match after.find('}') {
            Some(j) => rest = &after[j + 1..],
            None => {
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of every comment, in order (trailing blanks aside).
pub fn comment_texts(src: &str) -> Vec<String> {
    comments(FileId(0), src)
        .iter()
        .map(|c| c.text(src).trim_end().to_string())
        .collect()
}

fn verify(src: &str, module: &Module, out: &str) -> Result<(), Error> {
    let (m2, d2) = parse(FileId(0), out);
    if has_errors(&d2) {
        let first = d2.first().map(|d| d.message.clone()).unwrap_or_default();
        return Err(Error::Internal(format!(
            "the formatted text does not parse ({first})"
        )));
    }
    if shape(module) != shape(&m2) {
        return Err(Error::Internal(
            "the formatted text would be a different program".into(),
        ));
    }
    if comment_texts(src) != comment_texts(out) {
        return Err(Error::Internal(
            "the formatted text would lose or reorder a comment".into(),
        ));
    }
    Ok(())
}
