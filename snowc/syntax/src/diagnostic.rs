//! Errors are values. Every stage returns `Vec<Diagnostic>`; nothing prints or
//! exits. `snowc_syntax::render` (ariadne) is the one place that renders them.

use crate::span::Span;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A secondary label: another span with its own message
/// (e.g. "this `do` block is never closed" pointing at the opening `do`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One line, lower case, no trailing period: `expected Conn, found Int`.
    pub message: String,
    /// Where the error is; rendered as `file:line:col` with the span underlined.
    pub span: Span,
    /// Text shown under the primary span (may be empty).
    pub label: String,
    pub secondary: Vec<Label>,
    /// Optional help line (`did you mean join?`).
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            help: None,
        }
    }
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
