//! Stage 2 of snowc: the std module table and type checking.
//!
//! [`check`] loads the std module table (parsed from the embedded `std/`
//! sources, see [`std_lib`]), checks the user program with Hindley–Milner
//! inference and returns the typed program ([`tast::TProgram`]) or every
//! error found.

mod annot;
mod call;
mod check;
mod exhaust;
mod expr;
mod pattern;
pub mod print;
mod program;
mod refs;
mod scc;
mod scope;
pub mod std_lib;
pub mod tast;
pub mod ty;

use snowc_syntax::{ast, Diagnostic, FileId, SourceMap};
pub use std_lib::ModuleTable;

/// Loads the std module table (adding std files to `sources`), checks the
/// user module `module` of `file`, and returns the typed program or all errors.
pub fn check(
    sources: &mut SourceMap,
    file: FileId,
    module: &ast::Module,
) -> Result<tast::TProgram, Vec<Diagnostic>> {
    let (table, diags) = std_lib::load(sources);
    check_with(&table, sources, file, module, diags)
}

/// Checks `module` against an already loaded table (`diags`: errors so far, e.g. from loading std).
pub fn check_with(
    table: &ModuleTable,
    sources: &SourceMap,
    file: FileId,
    module: &ast::Module,
    diags: Vec<Diagnostic>,
) -> Result<tast::TProgram, Vec<Diagnostic>> {
    program::check_program(table, sources, file, module, diags)
}
