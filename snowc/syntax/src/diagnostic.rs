//! Errors are values, at two levels.
//!
//! - Each stage has enums of *kinds* (`SyntaxError`, `snowc_types`'
//!   `TypeError` and `TypeWarning`): every variant is a type implementing
//!   [`Kind`], holding the facts (spans, names, types), with a stable
//!   [`Code`], its rendering, and its [`Explanation`] for `snowc explain`,
//!   all in one place per kind. [`diagnostic_kinds!`] declares such an enum.
//! - Every stage returns its kinds rendered as [`Diagnostic`]s, the one type
//!   the CLI sees; nothing prints or exits. `snowc_syntax::render` (ariadne)
//!   is the one place that turns them into text.
//!
//! Codes are stable: a code is never reused for another kind, and a kind
//! that is removed leaves a gap. `E` codes are errors, `W` codes warnings.

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A diagnostic's stable code: `E0001`..., `W0001`...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub &'static str);

impl Code {
    /// The severity a code's diagnostics have (before `--deny-warnings`).
    pub fn severity(self) -> Severity {
        if self.0.starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// What `snowc explain CODE` prints: a short text and a wrong and a right
/// example. Both examples are whole programs; a test checks that `wrong`
/// gets this code and that `right` compiles without any diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub code: Code,
    /// One line, lower case: `unknown variable or function`.
    pub title: &'static str,
    /// A few sentences: what is wrong and how to fix it.
    pub text: &'static str,
    pub wrong: &'static str,
    pub right: &'static str,
}

/// One kind of diagnostic: a type whose values hold the facts of one error
/// or warning. Implemented once per kind, next to its explanation.
pub trait Kind {
    const CODE: Code;
    const EXPLANATION: Explanation;
    /// Where it is (also the order diagnostics are reported in).
    fn span(&self) -> Span;
    /// The rendered form: message, labels, help.
    fn to_diagnostic(&self) -> Diagnostic;
}

/// Declares a stage's enum of diagnostic kinds: one variant per [`Kind`]
/// type, named like it. Generates `code()`, `span()`, `to_diagnostic()`
/// (dispatching to each kind's own), `EXPLANATIONS` (every kind's, in
/// order) and `From<Kind>` for each kind.
#[macro_export]
macro_rules! diagnostic_kinds {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($kind:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        $vis enum $name {
            $($kind($kind)),+
        }

        impl $name {
            /// The explanation of every kind of this enum, in declaration order.
            pub const EXPLANATIONS: &'static [$crate::Explanation] =
                &[$(<$kind as $crate::Kind>::EXPLANATION),+];

            pub fn code(&self) -> $crate::Code {
                match self {
                    $(Self::$kind(_) => <$kind as $crate::Kind>::CODE),+
                }
            }

            pub fn span(&self) -> $crate::Span {
                match self {
                    $(Self::$kind(k) => $crate::Kind::span(k)),+
                }
            }

            pub fn to_diagnostic(&self) -> $crate::Diagnostic {
                match self {
                    $(Self::$kind(k) => $crate::Kind::to_diagnostic(k)),+
                }
            }
        }

        $(
            impl From<$kind> for $name {
                fn from(k: $kind) -> Self {
                    Self::$kind(k)
                }
            }
        )+
    };
}

/// A secondary label: another span with its own message
/// (e.g. "this `do` block is never closed" pointing at the opening `do`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A rendered diagnostic: what every stage returns and the CLI prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The kind's code (`E0012`).
    pub code: Code,
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
    /// A diagnostic of `code`, with the code's severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
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
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Does the list hold an error (not only warnings)?
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// `1 argument`, `2 arguments`: for messages.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
