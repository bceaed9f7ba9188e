//! Stage 1 of snowc: source text to AST.
//!
//! Architecture invariant: parsing never fails. [`parse`] always returns a
//! [`ast::Module`] (with `ExprKind::Error` nodes where it had to recover) and
//! the list of diagnostics; it never panics, whatever the input.

pub mod ast;
pub mod diagnostic;
pub mod errors;
pub mod graph;
pub mod lexer;
pub mod lines;
pub mod parser;
pub mod render;
pub mod sexpr;
pub mod span;
pub mod trivia;

pub use diagnostic::{has_errors, Code, Diagnostic, Explanation, Kind, Label, Severity};
pub use errors::SyntaxError;
pub use graph::GraphError;
pub use lines::LineIndex;
pub use parser::parse;
pub use render::render;
pub use span::{FileId, SourceFile, SourceMap, Span};
