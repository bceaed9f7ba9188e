//! Stage 4 of snowc: MIR to LLVM IR (inkwell, LLVM 19), objects and linking.
//!
//! Layout of the generated code follows docs/ABI.md: every value is an `i64`
//! word, each MIR function becomes `i64 @"snow.<name>"(i64, ...)` (lifted
//! closures take `ptr self` first), and a C `main` hands `@"snow.main"` to
//! `snow_rt_main`.
//!
//! Phases (timed separately by [`emit_object_timed`]): build (MIR → verified
//! LLVM module), optimize (`default<O2>`), emit (machine code), then [`link`].

mod consts;
mod func;
mod link;
mod module;
mod target;

use std::path::Path;
use std::time::{Duration, Instant};

use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::targets::TargetMachine;
use snowc_mir::mir::Program;

pub use link::{link, link_with, mold_available, Linker, NATIVE_STATIC_LIBS};
pub use target::OptLevel;

/// Wall-clock time of each back-end phase (see [`emit_object_timed`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    /// MIR → LLVM IR, including verification.
    pub build: Duration,
    /// The LLVM optimisation pipeline (zero at O0).
    pub optimize: Duration,
    /// Machine code generation and writing the object file.
    pub emit: Duration,
}

/// Build the verified module for `program` in a fresh context and hand it to `f`.
fn with_module<T>(
    program: &Program,
    opt: OptLevel,
    f: impl FnOnce(&Module<'_>, &TargetMachine) -> Result<T, String>,
) -> Result<T, String> {
    let machine = target::host_machine(opt)?;
    let ctx = Context::create();
    let module = module::build_module(&ctx, program, &machine)?;
    f(&module, &machine)
}

/// Textual LLVM IR of the whole program (after optimisation when O2).
/// Deterministic: the same MIR gives byte-identical text.
pub fn emit_llvm_ir(program: &Program, opt: OptLevel) -> Result<String, String> {
    with_module(program, opt, |module, machine| {
        target::optimize(module, machine, opt)?;
        Ok(module.print_to_string().to_string())
    })
}

/// Write a native object file for the host.
pub fn emit_object(program: &Program, opt: OptLevel, out: &Path) -> Result<(), String> {
    emit_object_timed(program, opt, out).map(|_| ())
}

/// [`emit_object`], also reporting the time of each phase.
pub fn emit_object_timed(program: &Program, opt: OptLevel, out: &Path) -> Result<Timings, String> {
    let t0 = Instant::now();
    let machine = target::host_machine(opt)?;
    let ctx = Context::create();
    let module = module::build_module(&ctx, program, &machine)?;
    let t1 = Instant::now();
    target::optimize(&module, &machine, opt)?;
    let t2 = Instant::now();
    target::write_object(&module, &machine, out)?;
    let t3 = Instant::now();
    Ok(Timings {
        build: t1 - t0,
        optimize: t2 - t1,
        emit: t3 - t2,
    })
}
