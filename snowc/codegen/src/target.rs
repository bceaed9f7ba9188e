//! Host target machine, the optimisation pipeline and object emission.

use std::path::Path;
use std::sync::OnceLock;

use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine,
};
use inkwell::OptimizationLevel;

/// Optimisation level of the generated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    /// No IR optimisation, fast instruction selection (debug builds).
    O0,
    /// The `default<O2>` new-pass-manager pipeline.
    O2,
}

/// Initialise the native target once per process.
fn init() -> Result<(), String> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| Target::initialize_native(&InitializationConfig::default()))
        .clone()
        .map_err(|e| format!("cannot initialise the native LLVM target: {e}"))
}

/// A target machine for the host triple. The CPU is the triple's generic one
/// (not `-march=native`) so that IR and binaries do not depend on the build
/// machine. PIC, so the objects link into Debian's default PIE executables.
pub(crate) fn host_machine(opt: OptLevel) -> Result<TargetMachine, String> {
    init()?;
    let triple = TargetMachine::get_default_triple();
    let target = Target::from_triple(&triple).map_err(|e| {
        format!(
            "no LLVM target for {}: {e}",
            triple.as_str().to_string_lossy()
        )
    })?;
    let level = match opt {
        OptLevel::O0 => OptimizationLevel::None,
        OptLevel::O2 => OptimizationLevel::Default,
    };
    target
        .create_target_machine(&triple, "", "", level, RelocMode::PIC, CodeModel::Default)
        .ok_or_else(|| {
            format!(
                "cannot create an LLVM target machine for {}",
                triple.as_str().to_string_lossy()
            )
        })
}

/// Run the pipeline of `opt` over `module` (nothing at O0).
pub(crate) fn optimize(
    module: &Module<'_>,
    machine: &TargetMachine,
    opt: OptLevel,
) -> Result<(), String> {
    match opt {
        OptLevel::O0 => Ok(()),
        OptLevel::O2 => module
            .run_passes("default<O2>", machine, PassBuilderOptions::create())
            .map_err(|e| format!("LLVM optimisation failed: {e}")),
    }
}

/// Write `module` as a native object file to `out`.
pub(crate) fn write_object(
    module: &Module<'_>,
    machine: &TargetMachine,
    out: &Path,
) -> Result<(), String> {
    machine
        .write_to_file(module, FileType::Object, out)
        .map_err(|e| format!("cannot write object file {}: {e}", out.display()))
}
