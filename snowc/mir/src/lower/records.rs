//! Tuples and structs (records: n words, no tag, docs/ABI.md), functional
//! update, and the irrefutable patterns of `let` and `for`.

use snowc_types::tast::{TExpr, TPattern, TPatternKind};

use super::FnLower;
use crate::mir::{Operand, Rvalue};

impl FnLower<'_, '_> {
    /// `%{s | f: e}`: a new record with the fields not replaced copied from `s`.
    pub(crate) fn lower_update(
        &mut self,
        expr: &TExpr,
        width: u32,
        fields: &[(u32, String, TExpr)],
    ) -> Operand {
        let old = self.lower_expr(expr);
        let mut new: Vec<Option<Operand>> = vec![None; width as usize];
        // Replacements are evaluated in source order.
        for (i, _, v) in fields {
            let val = self.lower_expr(v);
            if let Some(slot) = new.get_mut(*i as usize) {
                *slot = Some(val);
            }
        }
        let words = new
            .into_iter()
            .enumerate()
            .map(|(i, w)| match w {
                Some(w) => w,
                None => self.temp(Rvalue::RecordField(old.clone(), i as u32)),
            })
            .collect();
        self.temp(Rvalue::MakeRecord(words))
    }

    /// Bind the variables of a pattern that matches every value (checked
    /// by the checker): bindings, `_`, tuples and structs of those, and
    /// the one constructor of a type that has only one.
    pub(crate) fn bind_irrefutable(&mut self, p: &TPattern, value: Operand) {
        match &p.kind {
            TPatternKind::Bind(l) => self.bind_local_to(*l, value),
            TPatternKind::Tuple(ps) | TPatternKind::Struct { fields: ps, .. } => {
                for (i, q) in ps.iter().enumerate() {
                    if binds_nothing(q) {
                        continue;
                    }
                    let f = self.temp(Rvalue::RecordField(value.clone(), i as u32));
                    self.bind_irrefutable(q, f);
                }
            }
            TPatternKind::Ctor { args, .. } => {
                for (i, q) in args.iter().enumerate() {
                    if binds_nothing(q) {
                        continue;
                    }
                    let f = self.temp(Rvalue::GetField(value.clone(), i as u32));
                    self.bind_irrefutable(q, f);
                }
            }
            _ => {}
        }
    }
}

/// A pattern with no variable in it.
pub(crate) fn binds_nothing(p: &TPattern) -> bool {
    match &p.kind {
        TPatternKind::Bind(_) => false,
        TPatternKind::Tuple(ps)
        | TPatternKind::Struct { fields: ps, .. }
        | TPatternKind::Ctor { args: ps, .. } => ps.iter().all(binds_nothing),
        TPatternKind::Cons { head, tail } => binds_nothing(head) && binds_nothing(tail),
        _ => true,
    }
}
