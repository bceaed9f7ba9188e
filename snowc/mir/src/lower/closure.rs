//! Closure conversion: lambdas become lifted functions `<top>$closure<N>`
//! that read their captures from the closure object (`EnvLoad`), and externs
//! used as values get a wrapper function `<extern>$fn`.

use std::collections::BTreeSet;

use snowc_types::tast::{Callee, LocalId, TExpr, TExprKind, TPattern, TPatternKind, Ty};

use super::{Dest, FnLower};
use crate::mir::{Function, Operand, Rvalue, Terminator};

impl FnLower<'_, '_> {
    /// Lift a lambda and return the closure value built at this site.
    pub(crate) fn lower_lambda(
        &mut self,
        params: &[(LocalId, Ty)],
        captures: &[LocalId],
        body: &TExpr,
    ) -> Operand {
        let captures = effective_captures(params, captures, body);
        let n = self.cx.closure_counter;
        self.cx.closure_counter += 1;
        let name = format!("{}$closure{}", self.cx.top_name, n);
        if self.cx.lifted.len() <= n as usize {
            self.cx.lifted.resize(n as usize + 1, None);
        }
        let cap_vals: Vec<Operand> = captures.iter().map(|l| self.local(*l)).collect();

        let func = {
            let mut child = FnLower::new(&mut *self.cx, name.clone(), true);
            child.pos = child.cx.pos(body.span);
            child.at(body.span);
            child.add_param(None, "self".into());
            for (l, _) in params {
                let pname = child.cx.local_name(*l);
                child.add_param(Some(*l), pname);
            }
            for (i, l) in captures.iter().enumerate() {
                let v = child.bind_local(*l);
                child.assign(v, Rvalue::EnvLoad(i as u32));
            }
            child.lower_into(body, Dest::Tail);
            child.finish()
        };
        self.cx.lifted[n as usize] = Some(func);
        self.temp(Rvalue::MakeClosure {
            func: name,
            captures: cap_vals,
        })
    }

    /// The name of the wrapper function for an extern used as a value,
    /// synthesised on first use (one per distinct set of type descriptors).
    pub(crate) fn extern_wrapper(&mut self, name: &str, type_args: &[Ty], ty: &Ty) -> String {
        let (symbol, tds) = self.extern_symbol(name, type_args);
        let tds: Vec<Operand> = tds;
        let arity = match (self.cx.extern_by_name.get(name), ty) {
            (Some(ext), _) => ext.params.len() as u32,
            (None, Ty::Fun(params, _)) => params.len() as u32,
            (None, _) => 0,
        };
        let wname = if tds.is_empty() {
            format!("{name}$fn")
        } else {
            let suffix: Vec<String> = tds.iter().map(|t| t.to_string()).collect();
            format!("{name}$fn${}", suffix.join("_"))
        };
        if self.cx.wrappers.contains_key(&wname) {
            return wname;
        }
        let mut f = FnLower::new(&mut *self.cx, wname.clone(), false);
        if name == snowc_types::lang::PANIC {
            // `panic` as a value: a panic with no position of its own.
            let msg = Operand::Var(f.add_param(None, "msg".into()));
            f.terminate(Terminator::PanicWith {
                message: msg,
                file: None,
                line: 0,
                col: 0,
            });
            let func: Function = f.finish();
            self.cx.wrappers.insert(wname.clone(), func);
            return wname;
        }
        let mut args: Vec<Operand> = tds;
        for i in 0..arity {
            args.push(Operand::Var(f.add_param(None, format!("a{i}"))));
        }
        f.cx.use_extern(&symbol, args.len() as u32);
        let r = f.temp(Rvalue::CallExtern { symbol, args });
        f.terminate(Terminator::Return(r));
        let func: Function = f.finish();
        self.cx.wrappers.insert(wname.clone(), func);
        wname
    }
}

/// `Lambda.captures` in its order, followed by any other free local of the
/// body (sorted) in case the checker left one out, so lowering never loses a value.
fn effective_captures(
    params: &[(LocalId, Ty)],
    captures: &[LocalId],
    body: &TExpr,
) -> Vec<LocalId> {
    let mut used = BTreeSet::new();
    let mut bound: BTreeSet<LocalId> = params.iter().map(|(l, _)| *l).collect();
    free_vars(body, &mut used, &mut bound);
    let mut out = captures.to_vec();
    for l in used {
        if !bound.contains(&l) && !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// Collect locals used and bound in `e` (locals are unique per top-level function).
fn free_vars(e: &TExpr, used: &mut BTreeSet<LocalId>, bound: &mut BTreeSet<LocalId>) {
    let go = |x: &TExpr, used: &mut BTreeSet<LocalId>, bound: &mut BTreeSet<LocalId>| {
        free_vars(x, used, bound)
    };
    match &e.kind {
        TExprKind::Int(_)
        | TExprKind::Float(_)
        | TExprKind::Str(_)
        | TExprKind::Bool(_)
        | TExprKind::Unit
        | TExprKind::FnRef(_)
        | TExprKind::ExternRef { .. } => {}
        TExprKind::Local(l) => {
            used.insert(*l);
        }
        TExprKind::Interp(xs) | TExprKind::List(xs) | TExprKind::Block(xs) => {
            xs.iter().for_each(|x| go(x, used, bound));
        }
        TExprKind::Call { callee, args } => {
            if let Callee::Value(f) = callee {
                go(f, used, bound);
            }
            args.iter().for_each(|x| go(x, used, bound));
        }
        TExprKind::Ctor { args, .. }
        | TExprKind::Tuple(args)
        | TExprKind::Struct { fields: args, .. } => args.iter().for_each(|x| go(x, used, bound)),
        TExprKind::Field { expr, .. } => go(expr, used, bound),
        TExprKind::Update { expr, fields, .. } => {
            go(expr, used, bound);
            fields.iter().for_each(|(_, _, v)| go(v, used, bound));
        }
        TExprKind::Cons { items, tail } => {
            items.iter().for_each(|x| go(x, used, bound));
            go(tail, used, bound);
        }
        TExprKind::LetPat { pattern, value } => {
            pattern_binds(pattern, bound);
            go(value, used, bound);
        }
        TExprKind::Binary { lhs, rhs, .. } => {
            go(lhs, used, bound);
            go(rhs, used, bound);
        }
        TExprKind::Unary { expr, .. } => go(expr, used, bound),
        TExprKind::Let { local, value } => {
            bound.insert(*local);
            go(value, used, bound);
        }
        TExprKind::If { cond, then, else_ } => {
            go(cond, used, bound);
            go(then, used, bound);
            if let Some(x) = else_ {
                go(x, used, bound);
            }
        }
        TExprKind::Case { scrutinee, arms } => {
            go(scrutinee, used, bound);
            for arm in arms {
                pattern_binds(&arm.pattern, bound);
                if let Some(g) = &arm.guard {
                    go(g, used, bound);
                }
                go(&arm.body, used, bound);
            }
        }
        TExprKind::For {
            pattern,
            iter,
            body,
        } => {
            pattern_binds(pattern, bound);
            go(iter, used, bound);
            go(body, used, bound);
        }
        TExprKind::Lambda { params, body, .. } => {
            bound.extend(params.iter().map(|(l, _)| *l));
            go(body, used, bound);
        }
    }
}

fn pattern_binds(p: &TPattern, bound: &mut BTreeSet<LocalId>) {
    match &p.kind {
        TPatternKind::Bind(l) => {
            bound.insert(*l);
        }
        TPatternKind::Ctor { args, .. }
        | TPatternKind::Tuple(args)
        | TPatternKind::Struct { fields: args, .. } => {
            args.iter().for_each(|a| pattern_binds(a, bound))
        }
        TPatternKind::Cons { head, tail } => {
            pattern_binds(head, bound);
            pattern_binds(tail, bound);
        }
        _ => {}
    }
}
