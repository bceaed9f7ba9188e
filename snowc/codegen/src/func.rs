//! Function bodies: MIR blocks, statements and terminators to LLVM.

use std::collections::HashMap;

use inkwell::basic_block::BasicBlock;
use inkwell::values::{
    BasicMetadataValueEnum, CallSiteValue, FunctionValue, IntValue, LLVMTailCallKind, PointerValue,
};
use inkwell::{AtomicOrdering, FloatPredicate, IntPredicate};
use snowc_mir::mir::{BlockId, Function, Operand, PrimOp, Rvalue, Stmt, Terminator, Var};

use crate::module::{Cg, OrStr, R, TAILCC};

/// Word index of the first capture in a closure object `{ c_entry, tail_entry, captures... }`.
const CLOSURE_CAPTURES: u32 = 2;

/// Per-function state.
struct Fx<'ctx, 'f> {
    f: &'f Function,
    /// One `alloca i64` per MIR variable.
    slots: Vec<PointerValue<'ctx>>,
    blocks: HashMap<BlockId, BasicBlock<'ctx>>,
    /// The closure object (`ptr self`) of a lifted closure.
    self_ptr: Option<PointerValue<'ctx>>,
}

impl<'ctx> Fx<'ctx, '_> {
    fn slot(&self, v: Var) -> R<PointerValue<'ctx>> {
        self.slots.get(v.0 as usize).copied().ok_or_else(|| {
            format!(
                "variable {v} out of range in `{}` ({} variables)",
                self.f.name, self.f.vars
            )
        })
    }

    fn block(&self, b: BlockId) -> R<BasicBlock<'ctx>> {
        self.blocks
            .get(&b)
            .copied()
            .ok_or_else(|| format!("jump to unknown block {b} in `{}`", self.f.name))
    }
}

impl<'ctx, 'p> Cg<'ctx, 'p> {
    pub fn gen_function(&mut self, f: &Function, fv: FunctionValue<'ctx>) -> R<()> {
        if f.blocks.is_empty() {
            return Err(format!("MIR function `{}` has no blocks", f.name));
        }
        if f.params > f.vars {
            return Err(format!("`{}` has more parameters than variables", f.name));
        }
        // A separate entry block holds the allocas, so that MIR's `bb0` can be
        // a jump target (self tail calls).
        let entry = self.ctx.append_basic_block(fv, "entry");
        let mut blocks = HashMap::new();
        for b in &f.blocks {
            let bb = self.ctx.append_basic_block(fv, &b.id.to_string());
            if blocks.insert(b.id, bb).is_some() {
                return Err(format!("block {} defined twice in `{}`", b.id, f.name));
            }
        }
        self.builder.position_at_end(entry);
        self.enter_debug_scope(f, fv);
        // The entry block (allocas, parameters stored) has no location, as
        // clang's: its address maps to the function's line, and a debugger's
        // breakpoint on the function lands after it (parameters stored).
        self.builder.unset_current_debug_location();
        let mut slots = Vec::with_capacity(f.vars as usize);
        for v in 0..f.vars {
            let name = match f.var_names.get(v as usize) {
                Some(n) if !n.is_empty() => n.clone(),
                _ => format!("v{v}"),
            };
            slots.push(self.builder.build_alloca(self.i64t, &name).s()?);
        }
        let mut self_ptr = None;
        for i in 0..f.params {
            let p = fv.get_nth_param(i).unwrap();
            let word = if f.is_closure && i == 0 {
                let p = p.into_pointer_value();
                p.set_name("self");
                self_ptr = Some(p);
                self.builder
                    .build_ptr_to_int(p, self.i64t, "self.word")
                    .s()?
            } else {
                p.into_int_value()
            };
            self.builder.build_store(slots[i as usize], word).s()?;
        }
        if let (Some(dbg), Some(scope)) = (&self.dbg, self.scope) {
            dbg.declare_vars(self.ctx, scope, f, &slots, entry);
        }
        let fx = Fx {
            f,
            slots,
            blocks,
            self_ptr,
        };
        self.builder
            .build_unconditional_branch(fx.block(f.blocks[0].id)?)
            .s()?;

        for b in &f.blocks {
            self.builder.position_at_end(fx.block(b.id)?);
            for (i, s) in b.stmts.iter().enumerate() {
                self.set_loc(b.locs.get(i).copied().unwrap_or_default());
                match s {
                    Stmt::Assign(v, rv) => {
                        let val = self.rvalue(&fx, rv)?;
                        self.builder.build_store(fx.slot(*v)?, val).s()?;
                    }
                    Stmt::Eval(rv) => {
                        self.rvalue(&fx, rv)?;
                    }
                    Stmt::Check { file, line, col } => {
                        if self.safepoints {
                            self.check(fv, file.as_deref(), *line, *col, 0)?;
                        }
                    }
                }
            }
            self.set_loc(b.term_loc);
            self.terminator(&fx, &b.term)?;
        }
        self.leave_debug_scope();
        Ok(())
    }

    /// A safepoint (docs/ABI.md "Stack"): `sp - frame < snow_stack_limit`
    /// (an atomic load, so a loop re-reads it and another thread may lower
    /// it) enters `snow_check` on a cold path. `frame` is 0 except before a
    /// very large frame is allocated.
    pub(crate) fn check(
        &mut self,
        fv: FunctionValue<'ctx>,
        file: Option<&str>,
        line: u32,
        col: u32,
        frame: u64,
    ) -> R<()> {
        let limit = self
            .builder
            .build_load(self.i64t, self.stack_limit.as_pointer_value(), "limit")
            .s()?;
        let load = limit
            .into_int_value()
            .as_instruction()
            .ok_or("a load is an instruction")?;
        load.set_atomic_ordering(AtomicOrdering::Monotonic)
            .map_err(|e| format!("atomic load: {e}"))?;
        load.set_alignment(8)
            .map_err(|e| format!("atomic load: {e}"))?;
        let reg = self
            .ctx
            .metadata_node(&[self.ctx.metadata_string(self.sp_name).into()]);
        let sp = self
            .builder
            .build_call(self.read_register, &[reg.into()], "sp")
            .s()?;
        let mut sp = self.call_result(sp)?;
        if frame > 0 {
            let f = self.i64t.const_int(frame, false);
            sp = self.builder.build_int_sub(sp, f, "sp.after").s()?;
        }
        let ok = self
            .builder
            .build_int_compare(IntPredicate::UGE, sp, limit.into_int_value(), "sp.ok")
            .s()?;
        let here = self.builder.get_insert_block().ok_or("no insert block")?;
        let cont = self.ctx.insert_basic_block_after(here, "check.ok");
        let slow = self.ctx.append_basic_block(fv, "check.slow");
        let br = self.builder.build_conditional_branch(ok, cont, slow).s()?;
        let i32t = self.ctx.i32_type();
        let weights = self.ctx.metadata_node(&[
            self.ctx.metadata_string("branch_weights").into(),
            i32t.const_int(2000, false).into(),
            i32t.const_int(1, false).into(),
        ]);
        br.set_metadata(weights, self.ctx.get_kind_id("prof"))
            .map_err(|e| format!("branch weights: {e}"))?;
        self.builder.position_at_end(slow);
        let file_name = match file {
            Some(f) => f.to_string(),
            None => self.program.file_name.clone(),
        };
        let file = self.str_global(&file_name).as_pointer_value();
        let line = self.i64t.const_int(line as u64, false);
        let col = self.i64t.const_int(col as u64, false);
        self.builder
            .build_call(self.snow_check, &[file.into(), line.into(), col.into()], "")
            .s()?;
        self.builder.build_unconditional_branch(cont).s()?;
        self.builder.position_at_end(cont);
        Ok(())
    }

    /// A call of a MIR function (`Rvalue::Call`) or closure (`Rvalue::CallClosure`), `tailcc`.
    fn snow_call(&mut self, fx: &Fx<'ctx, '_>, rv: &Rvalue) -> R<CallSiteValue<'ctx>> {
        let call = match rv {
            Rvalue::Call { func, args } => {
                let (fv, f) = *self
                    .funcs
                    .get(func.as_str())
                    .ok_or_else(|| format!("call of unknown MIR function `{func}`"))?;
                if f.is_closure {
                    return Err(format!("direct call of lifted closure `{func}`"));
                }
                if args.len() != f.params as usize {
                    return Err(format!(
                        "`{func}` takes {} arguments but is called with {}",
                        f.params,
                        args.len()
                    ));
                }
                let args = self.operands(fx, args)?;
                self.builder.build_call(fv, &args, "").s()?
            }
            Rvalue::CallClosure { closure, args } => {
                let clo = self.operand(fx, closure)?;
                let clo = self.builder.build_int_to_ptr(clo, self.ptrt, "clo").s()?;
                // Word 1: the tailcc entry (word 0 is the runtime's C entry).
                let code_ptr = self.word_ptr(clo, 1)?;
                let code = self
                    .builder
                    .build_load(self.ptrt, code_ptr, "code")
                    .s()?
                    .into_pointer_value();
                let mut all: Vec<BasicMetadataValueEnum> = vec![clo.into()];
                all.extend(self.operands(fx, args)?);
                let ty = self.word_fn_type(true, args.len() as u32);
                self.builder.build_indirect_call(ty, code, &all, "").s()?
            }
            other => return Err(format!("tail call of `{other}`, which is not a Snow call")),
        };
        call.set_call_convention(TAILCC);
        Ok(call)
    }

    fn terminator(&mut self, fx: &Fx<'ctx, '_>, t: &Terminator) -> R<()> {
        match t {
            Terminator::Return(op) => {
                let v = self.operand(fx, op)?;
                self.builder.build_return(Some(&v)).s()?;
            }
            Terminator::TailCall(rv) => {
                let call = self.snow_call(fx, rv)?;
                call.set_tail_call_kind(LLVMTailCallKind::LLVMTailCallKindMustTail);
                let v = self.call_result(call)?;
                self.builder.build_return(Some(&v)).s()?;
            }
            Terminator::Jump(b) => {
                self.builder.build_unconditional_branch(fx.block(*b)?).s()?;
            }
            Terminator::Branch { cond, then, else_ } => {
                let c = self.operand(fx, cond)?;
                let zero = self.i64t.const_zero();
                let c = self
                    .builder
                    .build_int_compare(IntPredicate::NE, c, zero, "cond")
                    .s()?;
                self.builder
                    .build_conditional_branch(c, fx.block(*then)?, fx.block(*else_)?)
                    .s()?;
            }
            Terminator::Switch {
                value,
                cases,
                default,
            } => {
                let v = self.operand(fx, value)?;
                let mut seen = std::collections::HashSet::new();
                let mut llcases = Vec::with_capacity(cases.len());
                for (k, b) in cases {
                    // A repeated value can never be reached: the first one wins.
                    if seen.insert(*k) {
                        llcases.push((self.i64t.const_int(*k as u64, true), fx.block(*b)?));
                    }
                }
                self.builder
                    .build_switch(v, fx.block(*default)?, &llcases)
                    .s()?;
            }
            Terminator::Panic {
                message,
                file,
                line,
                col,
            } => {
                let msg = self.str_global(message).as_pointer_value();
                let file_name = file
                    .clone()
                    .unwrap_or_else(|| self.program.file_name.clone());
                let file = self.str_global(&file_name).as_pointer_value();
                let line = self.i64t.const_int(*line as u64, false);
                let col = self.i64t.const_int(*col as u64, false);
                self.builder
                    .build_call(
                        self.snow_panic,
                        &[msg.into(), file.into(), line.into(), col.into()],
                        "",
                    )
                    .s()?;
                self.builder.build_unreachable().s()?;
            }
            Terminator::PanicWith {
                message,
                file,
                line,
                col,
            } => {
                let msg = self.operand(fx, message)?;
                let msg = self.builder.build_int_to_ptr(msg, self.ptrt, "msg").s()?;
                let file_name = file
                    .clone()
                    .unwrap_or_else(|| self.program.file_name.clone());
                let file = self.str_global(&file_name).as_pointer_value();
                let line = self.i64t.const_int(*line as u64, false);
                let col = self.i64t.const_int(*col as u64, false);
                self.builder
                    .build_call(
                        self.snow_panic,
                        &[msg.into(), file.into(), line.into(), col.into()],
                        "",
                    )
                    .s()?;
                self.builder.build_unreachable().s()?;
            }
            Terminator::Unreachable => {
                self.builder.build_unreachable().s()?;
            }
        }
        Ok(())
    }

    /// The word value of an operand.
    fn operand(&mut self, fx: &Fx<'ctx, '_>, op: &Operand) -> R<IntValue<'ctx>> {
        Ok(match op {
            Operand::Var(v) => self
                .builder
                .build_load(self.i64t, fx.slot(*v)?, "")
                .s()?
                .into_int_value(),
            Operand::Const(c) => self.i64t.const_int(*c as u64, true),
            Operand::Float(x) => self.i64t.const_int(x.to_bits(), false),
            Operand::Str(s) => self
                .str_global(s)
                .as_pointer_value()
                .const_to_int(self.i64t),
            Operand::NullaryCtor(tag) => self
                .ctor_global(*tag)
                .as_pointer_value()
                .const_to_int(self.i64t),
            Operand::FnRef(name) => self
                .fn_ref_global(name)?
                .as_pointer_value()
                .const_to_int(self.i64t),
            Operand::TypeDesc(name) => self
                .desc_global(name)?
                .as_pointer_value()
                .const_to_int(self.i64t),
        })
    }

    fn operands(
        &mut self,
        fx: &Fx<'ctx, '_>,
        ops: &[Operand],
    ) -> R<Vec<BasicMetadataValueEnum<'ctx>>> {
        ops.iter()
            .map(|o| self.operand(fx, o).map(Into::into))
            .collect()
    }

    /// Pointer to word `index` of the object whose address is `base`.
    fn word_ptr(&self, base: PointerValue<'ctx>, index: u32) -> R<PointerValue<'ctx>> {
        if index == 0 {
            return Ok(base);
        }
        let idx = self.i64t.const_int(index as u64, false);
        unsafe {
            self.builder
                .build_in_bounds_gep(self.i64t, base, &[idx], "")
        }
        .s()
    }

    /// Load word `index` of the object whose address is the word `obj`.
    fn load_word(&self, obj: IntValue<'ctx>, index: u32) -> R<IntValue<'ctx>> {
        let base = self.builder.build_int_to_ptr(obj, self.ptrt, "").s()?;
        self.load_word_at(base, index)
    }

    fn load_word_at(&self, base: PointerValue<'ctx>, index: u32) -> R<IntValue<'ctx>> {
        let p = self.word_ptr(base, index)?;
        Ok(self
            .builder
            .build_load(self.i64t, p, "")
            .s()?
            .into_int_value())
    }

    /// `snow_alloc(8 * (code.len() + words.len()))`, filled with the `code`
    /// pointers then `words`; returns the object as a word.
    fn alloc_object(
        &mut self,
        words: &[IntValue<'ctx>],
        code: &[PointerValue<'ctx>],
    ) -> R<IntValue<'ctx>> {
        let n = words.len() + code.len();
        let size = self.i64t.const_int(8 * n as u64, false);
        let obj = self
            .builder
            .build_call(self.snow_alloc, &[size.into()], "obj")
            .s()?
            .try_as_basic_value()
            .basic()
            .ok_or("snow_alloc returns no value")?
            .into_pointer_value();
        let mut i = 0;
        for c in code {
            let p = self.word_ptr(obj, i)?;
            self.builder.build_store(p, *c).s()?;
            i += 1;
        }
        for w in words {
            let p = self.word_ptr(obj, i)?;
            self.builder.build_store(p, *w).s()?;
            i += 1;
        }
        self.builder.build_ptr_to_int(obj, self.i64t, "").s()
    }

    fn call_result(&self, call: inkwell::values::CallSiteValue<'ctx>) -> R<IntValue<'ctx>> {
        Ok(call
            .try_as_basic_value()
            .basic()
            .ok_or("call returns no value")?
            .into_int_value())
    }

    fn rvalue(&mut self, fx: &Fx<'ctx, '_>, rv: &Rvalue) -> R<IntValue<'ctx>> {
        match rv {
            Rvalue::Use(op) => self.operand(fx, op),
            Rvalue::Prim(op, args) => {
                let vals = args
                    .iter()
                    .map(|a| self.operand(fx, a))
                    .collect::<R<Vec<_>>>()?;
                self.prim(*op, &vals)
            }
            Rvalue::Call { .. } | Rvalue::CallClosure { .. } => {
                let call = self.snow_call(fx, rv)?;
                self.call_result(call)
            }
            Rvalue::CallExtern { symbol, args } => {
                let ext = self.extern_fn(symbol, args.len() as u32)?;
                let args = self.operands(fx, args)?;
                let call = self.builder.build_call(ext, &args, "").s()?;
                self.call_result(call)
            }
            Rvalue::MakeClosure { func, captures } => {
                let (c_entry, tail_entry) = self.closure_code(func)?;
                let caps = captures
                    .iter()
                    .map(|c| self.operand(fx, c))
                    .collect::<R<Vec<_>>>()?;
                self.alloc_object(&caps, &[c_entry, tail_entry])
            }
            Rvalue::EnvLoad(i) => {
                let base = fx
                    .self_ptr
                    .ok_or_else(|| format!("EnvLoad in `{}`, which is not a closure", fx.f.name))?;
                self.load_word_at(base, i + CLOSURE_CAPTURES)
            }
            Rvalue::MakeCtor { tag, fields } => {
                let mut words = vec![self.i64t.const_int(*tag as u64, false)];
                for fl in fields {
                    words.push(self.operand(fx, fl)?);
                }
                self.alloc_object(&words, &[])
            }
            Rvalue::MakeRecord(fields) => {
                if fields.is_empty() {
                    // A struct without fields: nothing to hold.
                    return Ok(self.i64t.const_zero());
                }
                let words = fields
                    .iter()
                    .map(|fl| self.operand(fx, fl))
                    .collect::<R<Vec<_>>>()?;
                self.alloc_object(&words, &[])
            }
            Rvalue::RecordField(op, i) => {
                let o = self.operand(fx, op)?;
                self.load_word(o, *i)
            }
            Rvalue::GetTag(op) => {
                let o = self.operand(fx, op)?;
                self.load_word(o, 0)
            }
            Rvalue::GetField(op, i) => {
                let o = self.operand(fx, op)?;
                self.load_word(o, i + 1)
            }
            Rvalue::ListHead(op) => {
                let o = self.operand(fx, op)?;
                self.load_word(o, 0)
            }
            Rvalue::ListTail(op) => {
                let o = self.operand(fx, op)?;
                self.load_word(o, 1)
            }
            Rvalue::StrLen(op) => {
                let o = self.operand(fx, op)?;
                self.load_word(o, 0)
            }
        }
    }

    fn prim(&mut self, op: PrimOp, a: &[IntValue<'ctx>]) -> R<IntValue<'ctx>> {
        use PrimOp::*;
        let arity = match op {
            IntNeg | FloatNeg | Not => 1,
            _ => 2,
        };
        if a.len() != arity {
            return Err(format!("{op:?} takes {arity} operands, got {}", a.len()));
        }
        let b = &self.builder;
        let f64t = self.ctx.f64_type();
        let float = |v: IntValue<'ctx>| -> R<_> {
            Ok(b.build_bit_cast(v, f64t, "").s()?.into_float_value())
        };
        let unfloat = |v: inkwell::values::FloatValue<'ctx>| -> R<IntValue<'ctx>> {
            Ok(b.build_bit_cast(v, self.i64t, "").s()?.into_int_value())
        };
        let icmp = |p: IntPredicate| -> R<IntValue<'ctx>> {
            let c = b.build_int_compare(p, a[0], a[1], "").s()?;
            b.build_int_z_extend(c, self.i64t, "").s()
        };
        let fcmp = |p: FloatPredicate| -> R<IntValue<'ctx>> {
            let c = b
                .build_float_compare(p, float(a[0])?, float(a[1])?, "")
                .s()?;
            b.build_int_z_extend(c, self.i64t, "").s()
        };
        match op {
            IntAdd => b.build_int_add(a[0], a[1], "").s(),
            IntSub => b.build_int_sub(a[0], a[1], "").s(),
            IntMul => b.build_int_mul(a[0], a[1], "").s(),
            IntDiv => b.build_int_signed_div(a[0], a[1], "").s(),
            IntRem => b.build_int_signed_rem(a[0], a[1], "").s(),
            IntNeg => b.build_int_sub(self.i64t.const_zero(), a[0], "").s(),
            IntEq => icmp(IntPredicate::EQ),
            IntNe => icmp(IntPredicate::NE),
            IntLt => icmp(IntPredicate::SLT),
            IntLe => icmp(IntPredicate::SLE),
            IntGt => icmp(IntPredicate::SGT),
            IntGe => icmp(IntPredicate::SGE),
            FloatAdd => unfloat(b.build_float_add(float(a[0])?, float(a[1])?, "").s()?),
            FloatSub => unfloat(b.build_float_sub(float(a[0])?, float(a[1])?, "").s()?),
            FloatMul => unfloat(b.build_float_mul(float(a[0])?, float(a[1])?, "").s()?),
            FloatDiv => unfloat(b.build_float_div(float(a[0])?, float(a[1])?, "").s()?),
            FloatNeg => unfloat(b.build_float_neg(float(a[0])?, "").s()?),
            FloatEq => fcmp(FloatPredicate::OEQ),
            FloatNe => fcmp(FloatPredicate::UNE),
            FloatLt => fcmp(FloatPredicate::OLT),
            FloatLe => fcmp(FloatPredicate::OLE),
            FloatGt => fcmp(FloatPredicate::OGT),
            FloatGe => fcmp(FloatPredicate::OGE),
            Not => b.build_xor(a[0], self.i64t.const_int(1, false), "").s(),
        }
    }
}
