//! Stage 2 of snowc: the std module table and type checking.
//!
//! [`check`] loads the std module table (parsed from the embedded `std/`
//! sources, see [`std_lib`]), checks the user program with Hindley–Milner
//! inference and returns the typed program ([`tast::TProgram`]) with every
//! diagnostic found (kinds and codes in [`diagnostics`]).

mod annot;
mod call;
mod cases;
mod check;
pub mod diagnostics;
mod exhaust;
mod expr;
pub mod lang;
mod modules;
mod pattern;
pub mod print;
mod program;
mod refs;
mod scc;
mod scope;
pub mod services;
pub mod std_lib;
mod structs;
pub mod tast;
pub mod ty;

use snowc_syntax::graph::Program;
use snowc_syntax::{ast, Diagnostic, FileId, SourceMap};
pub use std_lib::ModuleTable;

/// Loads the std module table (adding std files to `sources`), checks the
/// one-file program `module` of `file`, and returns the typed program with
/// every diagnostic (of std and of the program). The program is well typed
/// only when no diagnostic is an error (`snowc_syntax::has_errors`).
pub fn check(
    sources: &mut SourceMap,
    file: FileId,
    module: &ast::Module,
) -> (tast::TProgram, Vec<Diagnostic>) {
    let (table, mut diags) = std_lib::load(sources);
    let (program, more) = check_with(&table, sources, file, module);
    diags.extend(more);
    (program, diags)
}

/// Checks the one-file program `module` against an already loaded table.
pub fn check_with(
    table: &ModuleTable,
    sources: &SourceMap,
    file: FileId,
    module: &ast::Module,
) -> (tast::TProgram, Vec<Diagnostic>) {
    let program = Program::single(file, module.clone());
    program::check_program(table, sources, &program)
}

/// Checks a program of many modules (loaded by `snowc_syntax::graph::load`)
/// against an already loaded table.
pub fn check_program(
    table: &ModuleTable,
    sources: &SourceMap,
    program: &Program,
) -> (tast::TProgram, Vec<Diagnostic>) {
    program::check_program(table, sources, program)
}

/// The diagnostics of [`check_program`] alone (`snowc check`): the typed
/// bodies are dropped as soon as their SCC is finished.
pub fn check_program_diagnostics(table: &ModuleTable, program: &Program) -> Vec<Diagnostic> {
    program::check_program_diagnostics(table, program)
}
