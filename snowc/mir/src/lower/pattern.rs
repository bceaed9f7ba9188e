//! `case`: compiled to a decision tree ([`super::decision`]), or arm by arm
//! when the tree would be too large (and under `SNOWC_ARM_BY_ARM=1`, for
//! measuring the decision tree against it only). Arm by arm, arms are tried
//! top to bottom: each arm tests its pattern against the scrutinee (jumping
//! to the next arm on a mismatch), binds its variables, checks its guard,
//! then delivers its body. After the last arm (reachable only when guards
//! fail) the function panics.

use snowc_syntax::Span;
use snowc_types::lang::rt;
use snowc_types::tast::{TArm, TExpr, TPattern, TPatternKind};

use super::{decision, Dest, FnLower};
use crate::mir::{BlockId, Operand, PrimOp, Rvalue, Terminator};

impl FnLower<'_, '_> {
    pub(crate) fn lower_case(&mut self, scrutinee: &TExpr, arms: &[TArm], dest: Dest, span: Span) {
        let s = self.lower_expr(scrutinee);
        if !self.cx.arm_by_arm {
            if let Some(tree) = decision::build(arms) {
                self.lower_case_tree(&tree, s, arms, dest, span);
                return;
            }
        }
        // The scrutinee's tag is read once for all constructor arms.
        let tag = arms
            .iter()
            .any(|a| matches!(a.pattern.kind, TPatternKind::Ctor { .. }))
            .then(|| self.temp(Rvalue::GetTag(s.clone())));
        for arm in arms {
            let next = self.new_block();
            match (&arm.pattern.kind, &tag) {
                (
                    TPatternKind::Ctor {
                        tag: want, args, ..
                    },
                    Some(t),
                ) => {
                    self.test_prim(PrimOp::IntEq, t.clone(), Operand::Const(*want as i64), next);
                    self.test_fields(args, s.clone(), next);
                }
                _ => self.test_pattern(&arm.pattern, s.clone(), false, next),
            }
            if let Some(guard) = &arm.guard {
                let g = self.lower_expr(guard);
                let body = self.new_block();
                self.terminate(Terminator::Branch {
                    cond: g,
                    then: body,
                    else_: next,
                });
                self.switch_to(body);
            }
            self.lower_into(&arm.body, dest);
            self.switch_to(next);
        }
        let panic = self.cx.panic("no case clause matched", span);
        self.terminate(panic);
    }

    /// Branch to `fail` unless `value` matches `pat`, binding its variables;
    /// continues in the current block when it matches. `fresh`: `value` is a
    /// temp made for this pattern alone (a field or list part), which a
    /// variable pattern may simply name.
    fn test_pattern(&mut self, pat: &TPattern, value: Operand, fresh: bool, fail: BlockId) {
        match &pat.kind {
            TPatternKind::Wildcard | TPatternKind::Unit => {}
            TPatternKind::Bind(l) if fresh => self.bind_local_to(*l, value),
            TPatternKind::Bind(l) => self.bind_local_to_value(*l, value),
            TPatternKind::Int(n) => self.test_prim(PrimOp::IntEq, value, Operand::Const(*n), fail),
            TPatternKind::Bool(b) => {
                self.test_prim(PrimOp::IntEq, value, Operand::Const(*b as i64), fail)
            }
            TPatternKind::Float(x) => {
                self.test_prim(PrimOp::FloatEq, value, Operand::Float(*x), fail)
            }
            TPatternKind::Str(s) => {
                let eq = self.call_extern(rt::STRING_EQ, vec![value, Operand::Str(s.clone())]);
                self.test(eq, fail);
            }
            TPatternKind::EmptyList => {
                self.test_prim(PrimOp::IntEq, value, Operand::Const(0), fail)
            }
            TPatternKind::Cons { head, tail } => {
                self.test_prim(PrimOp::IntNe, value.clone(), Operand::Const(0), fail);
                if !is_wildcard(head) {
                    let h = self.temp(Rvalue::ListHead(value.clone()));
                    self.test_pattern(head, h, true, fail);
                }
                if !is_wildcard(tail) {
                    let t = self.temp(Rvalue::ListTail(value));
                    self.test_pattern(tail, t, true, fail);
                }
            }
            TPatternKind::Ctor { tag, args, .. } => {
                let t = self.temp(Rvalue::GetTag(value.clone()));
                self.test_prim(PrimOp::IntEq, t, Operand::Const(*tag as i64), fail);
                self.test_fields(args, value, fail);
            }
            TPatternKind::Tuple(ps) | TPatternKind::Struct { fields: ps, .. } => {
                for (i, p) in ps.iter().enumerate() {
                    if !is_wildcard(p) {
                        let f = self.temp(Rvalue::RecordField(value.clone(), i as u32));
                        self.test_pattern(p, f, true, fail);
                    }
                }
            }
        }
    }

    /// Test the field patterns of a constructor whose tag has matched.
    fn test_fields(&mut self, args: &[TPattern], value: Operand, fail: BlockId) {
        for (i, arg) in args.iter().enumerate() {
            if !is_wildcard(arg) {
                let f = self.temp(Rvalue::GetField(value.clone(), i as u32));
                self.test_pattern(arg, f, true, fail);
            }
        }
    }

    fn test_prim(&mut self, op: PrimOp, a: Operand, b: Operand, fail: BlockId) {
        let c = self.temp(Rvalue::Prim(op, vec![a, b]));
        self.test(c, fail);
    }

    /// Continue in a new block if `cond`, else go to `fail`.
    fn test(&mut self, cond: Operand, fail: BlockId) {
        let ok = self.new_block();
        self.terminate(Terminator::Branch {
            cond,
            then: ok,
            else_: fail,
        });
        self.switch_to(ok);
    }

    /// A pattern variable always gets its own named var (the scrutinee may be a
    /// source local or a temp shared by several arms).
    fn bind_local_to_value(&mut self, l: snowc_types::tast::LocalId, value: Operand) {
        let v = self.bind_local(l);
        self.assign(v, Rvalue::Use(value));
    }
}

fn is_wildcard(p: &TPattern) -> bool {
    matches!(p.kind, TPatternKind::Wildcard | TPatternKind::Unit)
}
