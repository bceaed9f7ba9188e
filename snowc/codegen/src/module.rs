//! Module setup: declarations of MIR functions, externs and runtime services,
//! the C `main`, and verification.

use std::collections::HashMap;

use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::{Linkage, Module};
use inkwell::targets::TargetMachine;
use inkwell::types::{BasicMetadataTypeEnum, FunctionType, IntType, PointerType};
use inkwell::values::{FunctionValue, GlobalValue};
use inkwell::{AddressSpace, ThreadLocalMode};
use snowc_mir::mir::{Function, Loc, Program};

use crate::debug::{Dbg, DebugInfo, FnScope};

pub(crate) type R<T> = Result<T, String>;

/// Turns inkwell builder errors into our String errors.
pub(crate) trait OrStr<T> {
    fn s(self) -> R<T>;
}

impl<T> OrStr<T> for Result<T, BuilderError> {
    fn s(self) -> R<T> {
        self.map_err(|e| format!("LLVM builder error: {e}"))
    }
}

/// LLVM's `tailcc` calling convention (`CallingConv::Tail`): every Snow
/// function uses it, so calls in tail position can be `musttail` whatever
/// the callee's arity (docs/ABI.md "Calls").
pub(crate) const TAILCC: u32 = 18;

/// A function whose frame may exceed this many bytes gets a frame check
/// before its frame is allocated (docs/ABI.md "Stack").
pub(crate) const BIG_FRAME: u64 = 32 * 1024;

/// An upper bound of `f`'s stack frame at -O0: a slot per variable and per
/// statement's temporaries (measured: about 8 bytes per variable), doubled.
pub(crate) fn frame_estimate(f: &Function) -> u64 {
    let stmts: u64 = f.blocks.iter().map(|b| b.stmts.len() as u64 + 1).sum();
    8 * (f.vars as u64 + stmts) + 512
}

/// Symbol prefix of every Snow function.
pub(crate) fn snow_symbol(name: &str) -> String {
    format!("snow.{name}")
}

/// Code generation state for one program. Maps are used for lookups only;
/// everything emitted follows MIR order or order of first use.
pub(crate) struct Cg<'ctx, 'p> {
    pub ctx: &'ctx Context,
    pub module: Module<'ctx>,
    pub builder: Builder<'ctx>,
    pub program: &'p Program,
    pub i64t: IntType<'ctx>,
    pub ptrt: PointerType<'ctx>,
    /// MIR functions by name.
    pub funcs: HashMap<&'p str, (FunctionValue<'ctx>, &'p Function)>,
    /// The bodies of functions with a very large frame: `funcs` holds a
    /// frame-checking entry that tail-calls them.
    pub big_frames: HashMap<&'p str, FunctionValue<'ctx>>,
    /// Declared runtime symbols (externs and the services of ABI.md).
    pub externs: HashMap<String, FunctionValue<'ctx>>,
    pub strings: HashMap<String, GlobalValue<'ctx>>,
    pub ctors: HashMap<u32, GlobalValue<'ctx>>,
    pub fn_refs: HashMap<String, GlobalValue<'ctx>>,
    /// Type descriptors emitted so far, by name.
    pub descs: HashMap<String, GlobalValue<'ctx>>,
    pub snow_alloc: FunctionValue<'ctx>,
    pub snow_panic: FunctionValue<'ctx>,
    /// `void snow_check(ptr file, i64 line, i64 col)`: the slow path of a safepoint.
    pub snow_check: FunctionValue<'ctx>,
    /// `@snow_stack_limit`: the running thread's stack limit (thread-local, docs/ABI.md "Stack").
    pub stack_limit: GlobalValue<'ctx>,
    /// `llvm.read_register.i64` and the name of the stack pointer register.
    pub read_register: FunctionValue<'ctx>,
    pub sp_name: &'static str,
    /// False under `SNOWC_NO_SAFEPOINTS=1`: MIR `Check`s are dropped. Only for
    /// measuring what safepoints cost (bench/compiler.py): such a program
    /// crashes on deep recursion, never collects and ignores callback timeouts.
    pub safepoints: bool,
    /// `uwtable` (async): Snow panics unwind through generated frames.
    pub uwtable: Attribute,
    /// Debug information, when asked for (`snowc build -g`).
    pub dbg: Option<Dbg<'ctx>>,
    /// The debug scope of the function being emitted (with `dbg` only).
    pub scope: Option<FnScope<'ctx>>,
}

/// Names of runtime services whose types are not all-`i64` (declared here, not from externs).
const SPECIAL_SERVICES: [&str; 4] = ["snow_alloc", "snow_panic", "snow_check", "snow_rt_main"];

pub(crate) fn build_module<'ctx>(
    ctx: &'ctx Context,
    program: &Program,
    machine: &TargetMachine,
    debug: Option<&DebugInfo>,
    optimized: bool,
) -> R<Module<'ctx>> {
    let module = ctx.create_module(&program.file_name);
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    let i64t = ctx.i64_type();
    let ptrt = ctx.ptr_type(AddressSpace::default());
    let attr = |name: &str, val: u64| {
        ctx.create_enum_attribute(Attribute::get_named_enum_kind_id(name), val)
    };
    // uwtable(async) is kind value 2 (UWTableKind::Async).
    let uwtable = attr("uwtable", 2);

    // Runtime services with non-word types (docs/ABI.md).
    let snow_alloc = module.add_function(
        "snow_alloc",
        ptrt.fn_type(&[i64t.into()], false),
        Some(Linkage::External),
    );
    snow_alloc.add_attribute(AttributeLoc::Return, attr("noalias", 0));
    let snow_panic = module.add_function(
        "snow_panic",
        ctx.void_type()
            .fn_type(&[ptrt.into(), ptrt.into(), i64t.into(), i64t.into()], false),
        Some(Linkage::External),
    );
    // noreturn and cold, but NOT nounwind: the panic unwinds.
    snow_panic.add_attribute(AttributeLoc::Function, attr("noreturn", 0));
    snow_panic.add_attribute(AttributeLoc::Function, attr("cold", 0));
    // Returns (after a collection, or a false alarm) or unwinds (a panic).
    let snow_check = module.add_function(
        "snow_check",
        ctx.void_type()
            .fn_type(&[ptrt.into(), i64t.into(), i64t.into()], false),
        Some(Linkage::External),
    );
    snow_check.add_attribute(AttributeLoc::Function, attr("cold", 0));
    // Defined in snow-rt (src/stack.c) and so in the executable itself:
    // local-exec TLS is one `mov %fs:OFFSET` per check.
    let stack_limit = module.add_global(i64t, None, "snow_stack_limit");
    stack_limit.set_linkage(Linkage::External);
    stack_limit.set_thread_local_mode(Some(ThreadLocalMode::LocalExecTLSModel));
    stack_limit.set_alignment(8);
    let read_register = Intrinsic::find("llvm.read_register")
        .and_then(|i| i.get_declaration(&module, &[i64t.into()]))
        .ok_or("LLVM has no llvm.read_register intrinsic")?;
    let triple = machine.get_triple();
    let triple = triple.as_str().to_string_lossy();
    let sp_name = if triple.starts_with("x86_64") {
        "rsp"
    } else if triple.starts_with("aarch64") {
        "sp"
    } else {
        return Err(format!("unsupported target {triple}: snowc knows the stack pointer register of x86_64 and aarch64 only"));
    };

    let mut cg = Cg {
        ctx,
        module,
        builder: ctx.create_builder(),
        program,
        i64t,
        ptrt,
        funcs: HashMap::new(),
        big_frames: HashMap::new(),
        externs: HashMap::new(),
        strings: HashMap::new(),
        ctors: HashMap::new(),
        fn_refs: HashMap::new(),
        descs: HashMap::new(),
        snow_alloc,
        snow_panic,
        snow_check,
        stack_limit,
        read_register,
        sp_name,
        safepoints: std::env::var_os("SNOWC_NO_SAFEPOINTS").is_none(),
        uwtable,
        dbg: None,
        scope: None,
    };
    cg.dbg = debug.map(|d| Dbg::new(&cg.module, ctx, d.clone(), optimized));

    // Externs, in Program order.
    for ext in &program.externs {
        if SPECIAL_SERVICES.contains(&ext.symbol.as_str()) {
            return Err(format!(
                "extern `{}` clashes with the runtime service of the same name",
                ext.symbol
            ));
        }
        if cg.externs.contains_key(&ext.symbol) {
            return Err(format!("extern `{}` is declared twice", ext.symbol));
        }
        let f = cg.module.add_function(
            &ext.symbol,
            cg.word_fn_type(false, ext.arity),
            Some(Linkage::External),
        );
        cg.externs.insert(ext.symbol.clone(), f);
    }

    // MIR functions: declare all first (calls may go forward), in MIR order.
    for f in &program.functions {
        if f.is_closure && f.params == 0 {
            return Err(format!(
                "closure function `{}` has no self parameter",
                f.name
            ));
        }
        let ty = cg.snow_fn_type(f);
        let fv = cg
            .module
            .add_function(&snow_symbol(&f.name), ty, Some(Linkage::Internal));
        fv.set_call_conventions(TAILCC);
        fv.add_attribute(AttributeLoc::Function, uwtable);
        if cg.funcs.insert(&f.name, (fv, f)).is_some() {
            return Err(format!("MIR function `{}` is defined twice", f.name));
        }
        if frame_estimate(f) > BIG_FRAME {
            let body = cg.module.add_function(
                &format!("{}$body", snow_symbol(&f.name)),
                ty,
                Some(Linkage::Internal),
            );
            body.set_call_conventions(TAILCC);
            body.add_attribute(AttributeLoc::Function, uwtable);
            body.add_attribute(AttributeLoc::Function, attr("noinline", 0));
            cg.big_frames.insert(&f.name, body);
        }
    }
    for f in &program.functions {
        let fv = cg.funcs[f.name.as_str()].0;
        match cg.big_frames.get(f.name.as_str()).copied() {
            Some(body) => {
                cg.gen_function(f, body)?;
                cg.gen_frame_check_entry(f, fv, body)?;
            }
            None => cg.gen_function(f, fv)?,
        }
    }
    cg.gen_c_main()?;
    if let Some(dbg) = &cg.dbg {
        dbg.finalize();
    }

    cg.module.verify().map_err(|e| {
        format!(
            "internal compiler error: invalid LLVM module: {}",
            e.to_string().trim_end()
        )
    })?;
    Ok(cg.module)
}

impl<'ctx, 'p> Cg<'ctx, 'p> {
    /// `i64 (i64 × n)`, or `i64 (ptr, i64 × n)` when `with_self`.
    pub fn word_fn_type(&self, with_self: bool, n: u32) -> FunctionType<'ctx> {
        let mut params: Vec<BasicMetadataTypeEnum> = Vec::with_capacity(n as usize + 1);
        if with_self {
            params.push(self.ptrt.into());
        }
        params.extend((0..n).map(|_| BasicMetadataTypeEnum::from(self.i64t)));
        self.i64t.fn_type(&params, false)
    }

    /// The LLVM type of a MIR function (closures take `ptr self` as `Var(0)`).
    pub fn snow_fn_type(&self, f: &Function) -> FunctionType<'ctx> {
        if f.is_closure {
            self.word_fn_type(true, f.params - 1)
        } else {
            self.word_fn_type(false, f.params)
        }
    }

    /// The declaration of runtime symbol `symbol` called with `arity` words.
    /// Symbols missing from `Program.externs` (e.g. `snow_string_concat`) are
    /// declared from the call site: all their arguments are words.
    pub fn extern_fn(&mut self, symbol: &str, arity: u32) -> R<FunctionValue<'ctx>> {
        if SPECIAL_SERVICES.contains(&symbol) {
            return Err(format!(
                "CallExtern of runtime service `{symbol}`, which does not take words"
            ));
        }
        if let Some(&f) = self.externs.get(symbol) {
            if f.count_params() != arity {
                return Err(format!(
                    "extern `{symbol}` takes {} arguments but is called with {arity}",
                    f.count_params()
                ));
            }
            return Ok(f);
        }
        let f = self.module.add_function(
            symbol,
            self.word_fn_type(false, arity),
            Some(Linkage::External),
        );
        self.externs.insert(symbol.to_string(), f);
        Ok(f)
    }

    /// The entry of a function with a very large frame: a safepoint that
    /// requires room for the whole frame, then a `musttail` call of the body
    /// (whose frame then replaces this small one).
    fn gen_frame_check_entry(
        &mut self,
        f: &Function,
        fv: FunctionValue<'ctx>,
        body: FunctionValue<'ctx>,
    ) -> R<()> {
        let entry = self.ctx.append_basic_block(fv, "entry");
        self.builder.position_at_end(entry);
        self.enter_debug_scope(f, fv);
        self.set_loc(Loc::default());
        self.check(
            fv,
            f.pos.file.as_deref(),
            f.pos.line,
            f.pos.col,
            frame_estimate(f),
        )?;
        let args: Vec<inkwell::values::BasicMetadataValueEnum> =
            fv.get_param_iter().map(Into::into).collect();
        let call = self.builder.build_call(body, &args, "r").s()?;
        call.set_call_convention(TAILCC);
        call.set_tail_call_kind(inkwell::values::LLVMTailCallKind::LLVMTailCallKindMustTail);
        let r = call
            .try_as_basic_value()
            .basic()
            .ok_or("MIR function returns no value")?;
        self.builder.build_return(Some(&r)).s()?;
        self.leave_debug_scope();
        Ok(())
    }

    /// With debug information, give `fv` (the code of `f`) a subprogram and
    /// make it the scope of the locations set from now on.
    pub fn enter_debug_scope(&mut self, f: &Function, fv: FunctionValue<'ctx>) {
        let file = &self.program.file_name;
        self.scope = self
            .dbg
            .as_mut()
            .map(|d| d.subprogram(&self.module, file, f, fv));
    }

    /// Give the instructions built from now on the source position `loc`
    /// (the function's own when `loc` has none); nothing without debug information.
    pub fn set_loc(&self, loc: Loc) {
        if let (Some(dbg), Some(scope)) = (&self.dbg, self.scope) {
            let l = dbg.location(self.ctx, scope, loc);
            self.builder.set_current_debug_location(l);
        }
    }

    /// With debug information, give `thunk` (a C entry or trampoline of MIR
    /// function `f`) an artificial subprogram named after its symbol without
    /// `snow.` (`main$c`), and put `b`'s location at `f`'s position in it:
    /// code of `f` that -O2 inlines into the thunk keeps its lines. `b` is
    /// the thunk's own builder (the current function's scope is untouched).
    pub fn thunk_debug(&mut self, f: &Function, thunk: FunctionValue<'ctx>, b: &Builder<'ctx>) {
        let file = &self.program.file_name;
        if let Some(dbg) = self.dbg.as_mut() {
            let symbol = thunk.get_name().to_string_lossy().into_owned();
            let name = symbol.strip_prefix("snow.").unwrap_or(&symbol);
            let scope = dbg.thunk_subprogram(&self.module, file, f, name, thunk);
            b.set_current_debug_location(dbg.location(self.ctx, scope, Loc::default()));
        }
    }

    /// Done with the current function: no more locations.
    pub fn leave_debug_scope(&mut self) {
        if self.scope.take().is_some() {
            self.builder.unset_current_debug_location();
        }
    }

    /// A C-ABI function `i64 name(ptr self?, i64...)` that calls the `tailcc`
    /// function `target` with its arguments (dropping `self` when
    /// `drop_self`): the runtime calls Snow code only through such entries.
    /// `of` is the MIR function `target` is the code of.
    pub fn c_entry(
        &mut self,
        name: &str,
        target: FunctionValue<'ctx>,
        of: &Function,
        with_self: bool,
        drop_self: bool,
        n: u32,
    ) -> R<FunctionValue<'ctx>> {
        if let Some(f) = self.module.get_function(name) {
            return Ok(f);
        }
        let f = self.module.add_function(
            name,
            self.word_fn_type(with_self, n),
            Some(Linkage::Private),
        );
        f.add_attribute(AttributeLoc::Function, self.uwtable);
        // A separate builder: we may be in the middle of another function.
        let b = self.ctx.create_builder();
        b.position_at_end(self.ctx.append_basic_block(f, "entry"));
        self.thunk_debug(of, f, &b);
        let skip = (with_self && drop_self) as u32;
        let args: Vec<inkwell::values::BasicMetadataValueEnum> = (skip..f.count_params())
            .map(|i| f.get_nth_param(i).unwrap().into())
            .collect();
        let call = b.build_call(target, &args, "r").s()?;
        call.set_call_convention(TAILCC);
        let r = call
            .try_as_basic_value()
            .basic()
            .ok_or("MIR function returns no value")?;
        b.build_return(Some(&r)).s()?;
        Ok(f)
    }

    /// `define i32 @main(i32 %argc, ptr %argv)` → `snow_rt_main(argc, argv, @"snow.main$c")`.
    fn gen_c_main(&mut self) -> R<()> {
        let (snow_main, mf) = *self
            .funcs
            .get("main")
            .ok_or("the program has no `main` function")?;
        if mf.params != 0 || mf.is_closure {
            return Err("`main` must take no parameters".to_string());
        }
        let i32t = self.ctx.i32_type();
        let rt_main = self.module.add_function(
            "snow_rt_main",
            i32t.fn_type(&[i32t.into(), self.ptrt.into(), self.ptrt.into()], false),
            Some(Linkage::External),
        );
        let main = self.module.add_function(
            "main",
            i32t.fn_type(&[i32t.into(), self.ptrt.into()], false),
            Some(Linkage::External),
        );
        main.add_attribute(AttributeLoc::Function, self.uwtable);
        let argc = main.get_nth_param(0).unwrap();
        let argv = main.get_nth_param(1).unwrap();
        argc.set_name("argc");
        argv.set_name("argv");
        let entry = self.ctx.append_basic_block(main, "entry");
        self.builder.position_at_end(entry);
        let entry_fn = self.c_entry("snow.main$c", snow_main, mf, false, false, 0)?;
        let fp = entry_fn.as_global_value().as_pointer_value();
        let status = self
            .builder
            .build_call(rt_main, &[argc.into(), argv.into(), fp.into()], "status")
            .s()?
            .try_as_basic_value()
            .basic()
            .ok_or("snow_rt_main returns no value")?;
        self.builder.build_return(Some(&status)).s()?;
        Ok(())
    }
}
