//! Static objects: string literals, nullary constructors and named functions
//! used as closure values (with their trampolines). All are deduplicated and
//! named in order of first use, so the output is deterministic.

use inkwell::attributes::AttributeLoc;
use inkwell::module::Linkage;
use inkwell::values::{
    BasicMetadataValueEnum, BasicValue, FunctionValue, GlobalValue, LLVMTailCallKind, PointerValue,
};

use crate::module::{snow_symbol, Cg, OrStr, R, TAILCC};

impl<'ctx, 'p> Cg<'ctx, 'p> {
    /// A private, 8-aligned, unnamed_addr constant global.
    fn private_constant(&self, name: &str, init: &dyn BasicValue<'ctx>) -> GlobalValue<'ctx> {
        let ty = init.as_basic_value_enum().get_type();
        let g = self.module.add_global(ty, None, name);
        g.set_linkage(Linkage::Private);
        g.set_constant(true);
        g.set_unnamed_addr(true);
        g.set_alignment(8);
        g.set_initializer(init);
        g
    }

    /// The string object `{ i64 len, [N x i8] bytes }` for literal `s` (`@str.K`).
    pub fn str_global(&mut self, s: &str) -> GlobalValue<'ctx> {
        if let Some(&g) = self.strings.get(s) {
            return g;
        }
        let len = self.i64t.const_int(s.len() as u64, false);
        let bytes = self.ctx.const_string(s.as_bytes(), false);
        let init = self.ctx.const_struct(&[len.into(), bytes.into()], false);
        let g = self.private_constant(&format!("str.{}", self.strings.len()), &init);
        self.strings.insert(s.to_string(), g);
        g
    }

    /// The static object `{ i64 tag }` of a nullary constructor (`@ctor.TAG`).
    pub fn ctor_global(&mut self, tag: u32) -> GlobalValue<'ctx> {
        if let Some(&g) = self.ctors.get(&tag) {
            return g;
        }
        let init = self
            .ctx
            .const_struct(&[self.i64t.const_int(tag as u64, false).into()], false);
        let g = self.private_constant(&format!("ctor.{tag}"), &init);
        self.ctors.insert(tag, g);
        g
    }

    /// The static type descriptor `{ i64 kind, i64 n, i64 parts[n] }` named
    /// `name` in the program (`@"td.<name>"`, docs/ABI.md "Type
    /// descriptors"). Descriptors may refer to each other, and to
    /// themselves (recursive types): each global is created before its
    /// initializer is built.
    pub fn desc_global(&mut self, name: &str) -> R<GlobalValue<'ctx>> {
        if let Some(&g) = self.descs.get(name) {
            return Ok(g);
        }
        let d = self
            .program
            .descs
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| format!("reference to unknown type descriptor `{name}`"))?;
        let n = d.parts.len() as u32;
        let ty = self.ctx.struct_type(
            &[
                self.i64t.into(),
                self.i64t.into(),
                self.i64t.array_type(n).into(),
            ],
            false,
        );
        let g = self.module.add_global(ty, None, &format!("td.{name}"));
        g.set_linkage(Linkage::Private);
        g.set_constant(true);
        g.set_unnamed_addr(true);
        g.set_alignment(8);
        self.descs.insert(name.to_string(), g);
        let mut parts = Vec::with_capacity(d.parts.len());
        for p in &d.parts {
            parts.push(match p {
                snowc_mir::mir::Operand::Const(c) => self.i64t.const_int(*c as u64, true),
                snowc_mir::mir::Operand::TypeDesc(other) => self
                    .desc_global(other)?
                    .as_pointer_value()
                    .const_to_int(self.i64t),
                other => return Err(format!("type descriptor part {other:?}")),
            });
        }
        let init = self.ctx.const_struct(
            &[
                self.i64t.const_int(d.kind as u64, true).into(),
                self.i64t.const_int(n as u64, false).into(),
                self.i64t.const_array(&parts).into(),
            ],
            false,
        );
        g.set_initializer(&init);
        Ok(g)
    }

    /// The static closure object `{ ptr c_entry, ptr tail_entry }` of MIR
    /// function `name` used as a value (`@"fn.<name>"`).
    pub fn fn_ref_global(&mut self, name: &str) -> R<GlobalValue<'ctx>> {
        if let Some(&g) = self.fn_refs.get(name) {
            return Ok(g);
        }
        let (c_entry, tail_entry) = self.closure_code(name)?;
        let init = self
            .ctx
            .const_struct(&[c_entry.into(), tail_entry.into()], false);
        let g = self.private_constant(&format!("fn.{name}"), &init);
        self.fn_refs.insert(name.to_string(), g);
        Ok(g)
    }

    /// The two code pointers of a closure of MIR function `name`
    /// (docs/ABI.md "Calls"): its C-ABI entry `i64 (ptr self, i64...)` for
    /// the runtime, and its `tailcc` entry of the same parameters for Snow
    /// code. A lifted closure is its own `tailcc` entry and gets a C thunk
    /// `@"snow.<name>$c"`; a named function gets trampolines that drop
    /// `self`: `@"snow.<name>$tramp"` (tailcc, a `musttail` call) and
    /// `@"snow.<name>$ctramp"` (C). All are created on first use.
    pub fn closure_code(&mut self, name: &str) -> R<(PointerValue<'ctx>, PointerValue<'ctx>)> {
        let (fv, f) = *self
            .funcs
            .get(name)
            .ok_or_else(|| format!("reference to unknown MIR function `{name}`"))?;
        let ptr = |f: FunctionValue<'ctx>| f.as_global_value().as_pointer_value();
        if f.is_closure {
            let c = self.c_entry(
                &format!("{}$c", snow_symbol(name)),
                fv,
                f,
                true,
                false,
                f.params - 1,
            )?;
            return Ok((ptr(c), ptr(fv)));
        }
        let c = self.c_entry(
            &format!("{}$ctramp", snow_symbol(name)),
            fv,
            f,
            true,
            true,
            f.params,
        )?;
        let tname = format!("{}$tramp", snow_symbol(name));
        if let Some(t) = self.module.get_function(&tname) {
            return Ok((ptr(c), ptr(t)));
        }
        let tramp = self.module.add_function(
            &tname,
            self.word_fn_type(true, f.params),
            Some(Linkage::Private),
        );
        tramp.set_call_conventions(TAILCC);
        tramp.add_attribute(AttributeLoc::Function, self.uwtable);
        // A separate builder: we may be in the middle of another function.
        let b = self.ctx.create_builder();
        b.position_at_end(self.ctx.append_basic_block(tramp, "entry"));
        self.thunk_debug(f, tramp, &b);
        let args: Vec<BasicMetadataValueEnum> = (0..f.params)
            .map(|i| tramp.get_nth_param(i + 1).unwrap().into())
            .collect();
        let call = b.build_call(fv, &args, "r").s()?;
        call.set_call_convention(TAILCC);
        call.set_tail_call_kind(LLVMTailCallKind::LLVMTailCallKindMustTail);
        let r = call
            .try_as_basic_value()
            .basic()
            .ok_or("MIR function returns no value")?;
        b.build_return(Some(&r)).s()?;
        Ok((ptr(c), ptr(tramp)))
    }
}
