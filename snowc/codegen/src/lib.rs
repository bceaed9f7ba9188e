//! Stage 4 of snowc: MIR to LLVM IR (inkwell, LLVM 19), objects and linking.
//!
//! Layout of the generated code follows docs/ABI.md: every value is an `i64`
//! word, each MIR function becomes `i64 @"snow.<name>"(i64, ...)` (lifted
//! closures take `ptr self` first), and a C `main` hands `@"snow.main"` to
//! `snow_rt_main`.
//!
//! Phases (timed separately by [`emit_object_timed`]): build (MIR → verified
//! LLVM module), optimize (`default<O2>`), emit (machine code), then [`link`].
//! With [`Options::debug_info`] the module carries DWARF (`debug.rs`).

mod consts;
mod debug;
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

pub use debug::DebugInfo;
pub use link::{link, link_with, mold_available, Linker, NATIVE_STATIC_LIBS};
pub use target::OptLevel;

/// How to generate code. An [`OptLevel`] alone converts to options without
/// debug information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub opt: OptLevel,
    /// Emit DWARF debug information (`snowc build -g`).
    pub debug_info: Option<DebugInfo>,
}

impl From<OptLevel> for Options {
    fn from(opt: OptLevel) -> Self {
        Options {
            opt,
            debug_info: None,
        }
    }
}

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

fn build<'ctx>(
    ctx: &'ctx Context,
    program: &Program,
    options: &Options,
    machine: &TargetMachine,
) -> Result<Module<'ctx>, String> {
    module::build_module(
        ctx,
        program,
        machine,
        options.debug_info.as_ref(),
        options.opt == OptLevel::O2,
    )
}

/// Textual LLVM IR of the whole program (after optimisation when O2).
/// Deterministic: the same MIR gives byte-identical text.
pub fn emit_llvm_ir(program: &Program, options: impl Into<Options>) -> Result<String, String> {
    let options = options.into();
    let machine = target::host_machine(options.opt)?;
    let ctx = Context::create();
    let module = build(&ctx, program, &options, &machine)?;
    target::optimize(&module, &machine, options.opt)?;
    Ok(module.print_to_string().to_string())
}

/// Write a native object file for the host.
pub fn emit_object(
    program: &Program,
    options: impl Into<Options>,
    out: &Path,
) -> Result<(), String> {
    emit_object_timed(program, options, out).map(|_| ())
}

/// [`emit_object`], also reporting the time of each phase.
pub fn emit_object_timed(
    program: &Program,
    options: impl Into<Options>,
    out: &Path,
) -> Result<Timings, String> {
    let options = options.into();
    let opt = options.opt;
    let t0 = Instant::now();
    let machine = target::host_machine(opt)?;
    let ctx = Context::create();
    let module = build(&ctx, program, &options, &machine)?;
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
