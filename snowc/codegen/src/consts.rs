//! Static objects: string literals, nullary constructors and named functions
//! used as closure values (with their trampolines). All are deduplicated and
//! named in order of first use, so the output is deterministic.

use inkwell::attributes::AttributeLoc;
use inkwell::module::Linkage;
use inkwell::values::{BasicMetadataValueEnum, BasicValue, GlobalValue};

use crate::module::{snow_symbol, Cg, OrStr, R};

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

    /// The static closure object `{ ptr code }` of MIR function `name` used as a
    /// value (`@"fn.<name>"`). Plain functions get a trampoline
    /// `i64 @"snow.<name>$tramp"(ptr self, i64...)` that drops `self`.
    pub fn fn_ref_global(&mut self, name: &str) -> R<GlobalValue<'ctx>> {
        if let Some(&g) = self.fn_refs.get(name) {
            return Ok(g);
        }
        let code = self.closure_code(name)?;
        let init = self.ctx.const_struct(&[code.into()], false);
        let g = self.private_constant(&format!("fn.{name}"), &init);
        self.fn_refs.insert(name.to_string(), g);
        Ok(g)
    }

    /// A code pointer with the closure calling convention for MIR function
    /// `name`: the function itself when it is a lifted closure, else its
    /// trampoline (created on first use).
    pub fn closure_code(&mut self, name: &str) -> R<inkwell::values::PointerValue<'ctx>> {
        let (fv, f) = *self
            .funcs
            .get(name)
            .ok_or_else(|| format!("reference to unknown MIR function `{name}`"))?;
        if f.is_closure {
            return Ok(fv.as_global_value().as_pointer_value());
        }
        let tname = format!("{}$tramp", snow_symbol(name));
        if let Some(t) = self.module.get_function(&tname) {
            return Ok(t.as_global_value().as_pointer_value());
        }
        let tramp = self.module.add_function(
            &tname,
            self.word_fn_type(true, f.params),
            Some(Linkage::Private),
        );
        tramp.add_attribute(AttributeLoc::Function, self.uwtable);
        // A separate builder: we may be in the middle of another function.
        let b = self.ctx.create_builder();
        b.position_at_end(self.ctx.append_basic_block(tramp, "entry"));
        let args: Vec<BasicMetadataValueEnum> = (0..f.params)
            .map(|i| tramp.get_nth_param(i + 1).unwrap().into())
            .collect();
        let call = b.build_call(fv, &args, "r").s()?;
        call.set_tail_call(true);
        let r = call
            .try_as_basic_value()
            .basic()
            .ok_or("MIR function returns no value")?;
        b.build_return(Some(&r)).s()?;
        Ok(tramp.as_global_value().as_pointer_value())
    }
}
