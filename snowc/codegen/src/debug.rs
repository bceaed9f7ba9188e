//! Debug information (DWARF 4, `snowc build -g`, docs/ARCHITECTURE.md
//! "Debug information").
//!
//! - One compile unit per `.snow` file that has code in the program: the
//!   program's own file (named as it was given to snowc, in the directory
//!   snowc ran in) and each std file under its own name (`std/list.snow`,
//!   no directory: the sources are embedded in snowc).
//! - One subprogram per MIR function, named after the Snow function
//!   (`area`, `List.map`, `main$closure0`), its linkage name the symbol
//!   (`snow.area`), in the unit of the file the function comes from.
//! - Every instruction made from a MIR statement or terminator carries that
//!   statement's line and column (`Block::locs`); code without a position of
//!   its own (synthesised functions) carries the function's; the entry
//!   block that stores the parameters carries none (as clang's), so that its
//!   address maps to the function's line and the "prologue" ends after it
//!   (a breakpoint on a function sees its parameters).
//! - Named MIR variables (parameters and locals) are described as 64-bit
//!   words (`word`): MIR does not know their Snow types.
//!
//! Everything is created in MIR order, so the metadata numbering, like the
//! rest of the IR, is the same on every run.

use std::collections::HashMap;

use inkwell::basic_block::BasicBlock;
use inkwell::context::Context;
use inkwell::debug_info::{
    AsDIScope, DICompileUnit, DIFile, DIFlags, DIFlagsConstants, DILocation, DISubprogram, DIType,
    DWARFEmissionKind, DWARFSourceLanguage, DebugInfoBuilder,
};
use inkwell::module::{FlagBehavior, Module};
use inkwell::values::{AsValueRef, FunctionValue, PointerValue};
use snowc_mir::mir::{Function, Loc, Stmt};

/// What the debug information needs beyond the MIR program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugInfo {
    /// The directory the program's file name is relative to (snowc's
    /// working directory): DWARF's `DW_AT_comp_dir` of its compile unit.
    pub comp_dir: String,
}

/// `DW_ATE_signed`.
const DW_ATE_SIGNED: u32 = 0x05;

/// The compile unit of one file.
struct Unit<'ctx> {
    builder: DebugInfoBuilder<'ctx>,
    _cu: DICompileUnit<'ctx>,
    file: DIFile<'ctx>,
    word: DIType<'ctx>,
}

/// The debug information of one module.
pub(crate) struct Dbg<'ctx> {
    info: DebugInfo,
    optimized: bool,
    units: Vec<Unit<'ctx>>,
    /// Unit index by file (`None`: the program's own file).
    unit_of: HashMap<Option<String>, usize>,
}

/// The debug scope of the function being emitted.
#[derive(Clone, Copy)]
pub(crate) struct FnScope<'ctx> {
    unit: usize,
    sp: DISubprogram<'ctx>,
    /// The function's own position (for code without one).
    line: u32,
    col: u32,
}

impl<'ctx> Dbg<'ctx> {
    pub(crate) fn new(
        module: &Module<'ctx>,
        ctx: &'ctx Context,
        info: DebugInfo,
        optimized: bool,
    ) -> Self {
        let i32t = ctx.i32_type();
        module.add_basic_value_flag(
            "Dwarf Version",
            FlagBehavior::Warning,
            i32t.const_int(4, false),
        );
        module.add_basic_value_flag(
            "Debug Info Version",
            FlagBehavior::Warning,
            i32t.const_int(inkwell::debug_info::debug_metadata_version() as u64, false),
        );
        Dbg {
            info,
            optimized,
            units: Vec::new(),
            unit_of: HashMap::new(),
        }
    }

    /// The unit of `file` (`None`: the program's own file `program_file`),
    /// created on first use.
    fn unit(&mut self, module: &Module<'ctx>, file: Option<&str>, program_file: &str) -> usize {
        let key = file.map(str::to_string);
        if let Some(&u) = self.unit_of.get(&key) {
            return u;
        }
        let (name, dir) = match file {
            None => (program_file, self.info.comp_dir.as_str()),
            Some(std_file) => (std_file, ""),
        };
        let (builder, cu) = module.create_debug_info_builder(
            true,
            DWARFSourceLanguage::C,
            name,
            dir,
            concat!("snowc ", env!("CARGO_PKG_VERSION")),
            self.optimized,
            "",
            0,
            "",
            DWARFEmissionKind::Full,
            0,
            false,
            false,
            "",
            "",
        );
        let file = cu.get_file();
        let word = builder
            .create_basic_type("word", 64, DW_ATE_SIGNED, DIFlags::ZERO)
            .expect("the name is not empty")
            .as_type();
        self.units.push(Unit {
            builder,
            _cu: cu,
            file,
            word,
        });
        self.unit_of.insert(key, self.units.len() - 1);
        self.units.len() - 1
    }

    /// A subprogram for `fv`, the code of MIR function `f` (or of its
    /// frame-checking entry), attached to `fv`.
    pub(crate) fn subprogram(
        &mut self,
        module: &Module<'ctx>,
        program_file: &str,
        f: &Function,
        fv: FunctionValue<'ctx>,
    ) -> FnScope<'ctx> {
        self.subprogram_named(module, program_file, f, &f.name, fv, DIFlags::PROTOTYPED)
    }

    /// An artificial subprogram `name` for `fv`, a thunk that calls MIR
    /// function `f` (a C entry or a trampoline, docs/ABI.md "Calls"), at
    /// `f`'s position. Without it, code of `f` that -O2 inlines into the
    /// thunk would have no line information.
    pub(crate) fn thunk_subprogram(
        &mut self,
        module: &Module<'ctx>,
        program_file: &str,
        f: &Function,
        name: &str,
        fv: FunctionValue<'ctx>,
    ) -> FnScope<'ctx> {
        let flags = DIFlags::PROTOTYPED | DIFlags::ARTIFICIAL;
        self.subprogram_named(module, program_file, f, name, fv, flags)
    }

    fn subprogram_named(
        &mut self,
        module: &Module<'ctx>,
        program_file: &str,
        f: &Function,
        name: &str,
        fv: FunctionValue<'ctx>,
        flags: DIFlags,
    ) -> FnScope<'ctx> {
        let unit = self.unit(module, f.pos.file.as_deref(), program_file);
        let u = &self.units[unit];
        let params: Vec<DIType<'ctx>> = (0..fv.count_params()).map(|_| u.word).collect();
        let ty = u
            .builder
            .create_subroutine_type(u.file, Some(u.word), &params, DIFlags::ZERO);
        // No linkage name: debuggers then know the function by its Snow name
        // (`break area`, `break List.map`), not by its symbol `snow.area`.
        let sp = u.builder.create_function(
            u.file.as_debug_info_scope(),
            name,
            Some(""),
            u.file,
            f.pos.line,
            ty,
            true,
            true,
            f.pos.line,
            flags,
            self.optimized,
        );
        fv.set_subprogram(sp);
        FnScope {
            unit,
            sp,
            line: f.pos.line,
            col: f.pos.col,
        }
    }

    /// The location of code at `loc` in `scope`'s function (its own
    /// position when `loc` has none).
    pub(crate) fn location(
        &self,
        ctx: &'ctx Context,
        scope: FnScope<'ctx>,
        loc: Loc,
    ) -> DILocation<'ctx> {
        let (line, col) = if loc.line == 0 {
            (scope.line, scope.col)
        } else {
            (loc.line, loc.col)
        };
        self.units[scope.unit].builder.create_debug_location(
            ctx,
            line,
            col,
            scope.sp.as_debug_info_scope(),
            None,
        )
    }

    /// Describe the named variables of `f` (their `alloca` slots), declared
    /// at the end of the entry block: parameters at the function's line,
    /// other variables at the line of their first assignment.
    pub(crate) fn declare_vars(
        &self,
        ctx: &'ctx Context,
        scope: FnScope<'ctx>,
        f: &Function,
        slots: &[PointerValue<'ctx>],
        entry: BasicBlock<'ctx>,
    ) {
        let u = &self.units[scope.unit];
        let mut first_line = vec![0u32; f.vars as usize];
        for b in &f.blocks {
            for (s, loc) in b.stmts.iter().zip(&b.locs) {
                if let Stmt::Assign(v, _) = s {
                    if let Some(l) = first_line.get_mut(v.0 as usize) {
                        if *l == 0 {
                            *l = loc.line;
                        }
                    }
                }
            }
        }
        for (i, slot) in slots.iter().enumerate() {
            let name = match f.var_names.get(i) {
                Some(n) if !n.is_empty() => n,
                _ => continue,
            };
            let scope_md = scope.sp.as_debug_info_scope();
            let var = if (i as u32) < f.params {
                u.builder.create_parameter_variable(
                    scope_md,
                    name,
                    i as u32 + 1,
                    u.file,
                    scope.line,
                    u.word,
                    true,
                    DIFlags::ZERO,
                )
            } else {
                let line = match first_line[i] {
                    0 => scope.line,
                    l => l,
                };
                u.builder.create_auto_variable(
                    scope_md,
                    name,
                    u.file,
                    line,
                    u.word,
                    true,
                    DIFlags::ZERO,
                    64,
                )
            };
            let loc = self.location(ctx, scope, Loc::default());
            let expr = u.builder.create_expression(Vec::new());
            // SAFETY: every handle is live and belongs to this module's
            // context; the returned record is owned by the block. (inkwell's
            // `insert_declare_at_end` would wrap the record as an instruction.)
            unsafe {
                llvm_sys::debuginfo::LLVMDIBuilderInsertDeclareRecordAtEnd(
                    u.builder.as_mut_ptr(),
                    slot.as_value_ref(),
                    var.as_mut_ptr(),
                    expr.as_mut_ptr(),
                    loc.as_mut_ptr(),
                    entry.as_mut_ptr(),
                );
            }
        }
    }

    /// Resolve every unit's metadata (before verification).
    pub(crate) fn finalize(&self) {
        for u in &self.units {
            u.builder.finalize();
        }
    }
}
