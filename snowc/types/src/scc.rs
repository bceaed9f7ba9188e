//! Inference of one SCC of the call graph: bodies, deferred operator
//! constraints, generalisation, and the final substitution into `TFn`s
//! (then the checks of every `case`, `cases.rs`).

use crate::annot;
use crate::cases::CaseCheck;
use crate::check::{Checker, DeferKind, Scheme};
use crate::diagnostics::{
    CannotInterpolate, FieldOfUnknownType, FunctionEquality, NotAStruct, OperatorClass,
    UnsupportedOperand,
};
use crate::expr::tail_span;
use crate::lang;
use crate::scope::{Binder, FnCtx};
use crate::std_lib::TypeInfo;
use crate::structs::UNKNOWN_INDEX;
use crate::tast::*;
use crate::ty::{is_rigid, Subst};
use rustc_hash::FxHashMap;

impl Checker<'_> {
    /// Infers the functions of one SCC together: their signatures, their
    /// bodies, the deferred operator checks, generalisation, then each
    /// function's final types and `case` checks.
    pub(crate) fn infer_scc(&mut self, scc: &[usize]) {
        self.deferred.clear();
        self.deferred_fields.clear();
        let sigs: Vec<_> = scc.iter().map(|&i| self.signature(i)).collect();
        for (&i, (cx, params, ret)) in scc.iter().zip(sigs) {
            self.infer_body(i, cx, params, ret);
        }
        self.resolve_fields();
        self.resolve_deferred();
        for &i in scc {
            self.generalise(i);
        }
        for &i in scc {
            self.finish_fn(i);
        }
    }

    /// Function `i`'s parameter and return types with a fresh context: its
    /// annotation's (rigid type variables), or fresh variables where it has
    /// none, recorded as its monomorphic type while the SCC is inferred.
    fn signature(&mut self, i: usize) -> (FnCtx, Vec<Ty>, Ty) {
        let def = self.fns[i].def;
        let module = self.fns[i].module;
        let mut cx = FnCtx::new(module);
        if let Some((p, r, tv)) = self.fns[i].rigid_sig.clone() {
            cx.tvars = tv;
            return (cx, p, r);
        }
        let mut env = Checker::fn_types(
            &self.types,
            &self.mods,
            self.table,
            module,
            &mut cx.tvars,
            false,
            &mut self.subst,
        );
        let params: Vec<Ty> = def
            .params
            .iter()
            .map(|p| match &p.ty {
                Some(t) => annot::resolve(t, &mut env, &mut self.errors),
                None => env.subst.fresh(),
            })
            .collect();
        let mut ret = match &def.ret {
            Some(t) => annot::resolve(t, &mut env, &mut self.errors),
            None => env.subst.fresh(),
        };
        let mut params = params;
        if let Some(crate::check::Role::Handler(s, j)) = self.roles.get(i).copied() {
            ret = self.handler_signature(s, j, &mut params);
        }
        self.fns[i].mono = Some(Ty::Fun(params.clone(), Box::new(ret.clone())));
        (cx, params, ret)
    }

    /// Infers function `i`'s body against its signature (the program's
    /// functions also get their unused-local warnings).
    fn infer_body(&mut self, i: usize, mut cx: FnCtx, ptys: Vec<Ty>, ret: Ty) {
        let def = self.fns[i].def;
        let params: Vec<(LocalId, String, Ty)> = def
            .params
            .iter()
            .zip(ptys)
            .map(|(p, t)| {
                let id = cx.bind(&p.name.name, t.clone(), p.name.span, Binder::Param);
                (id, p.name.name.clone(), t)
            })
            .collect();
        let body = self.infer(&mut cx, &def.body);
        match self.roles.get(i).copied() {
            Some(crate::check::Role::Handler(s, j)) => {
                self.check_handler_result(s, j, &ret, &body.ty, tail_span(&def.body))
            }
            _ => {
                self.expect(&ret, &body.ty, tail_span(&def.body));
            }
        }
        if cx.module.is_user() {
            self.warnings.extend(cx.unused_locals());
        }
        self.fns[i].externs = std::mem::take(&mut cx.externs);
        let local_spans = cx.locals.iter().map(|l| l.span).collect();
        self.outs[i] = Some(TFn {
            name: self.fns[i].name.clone(),
            params,
            ret,
            body,
            local_names: cx.locals.into_iter().map(|l| l.name).collect(),
            local_spans,
            span: def.span,
        });
    }

    /// Function `i`'s scheme: its inferred type, generic in the variables
    /// nothing determined (let-polymorphism).
    fn generalise(&mut self, i: usize) {
        if let Some(m) = self.fns[i].mono.take() {
            let ty = self.subst.resolve(&m);
            let mut vars = Vec::new();
            self.subst.free_vars(&ty, &mut vars);
            self.fns[i].scheme = Some(Scheme { vars, ty });
        }
    }

    /// Substitutes function `i`'s final types into its typed body and checks
    /// its `case`s (`cases.rs`).
    fn finish_fn(&mut self, i: usize) {
        let Some(mut f) = self.outs[i].take() else {
            return;
        };
        let mut z = Zonk {
            subst: &self.subst,
            names: FxHashMap::default(),
            types: &self.types,
        };
        for p in &mut f.params {
            z.ty(&mut p.2);
        }
        z.ty(&mut f.ret);
        z.expr(&mut f.body);
        let module = self.fns[i].module;
        // Borrowed, not cloned: the `case` checks ask for a type at every step.
        let lookup = |n: &str| self.type_info(n);
        let mut cases = CaseCheck {
            types: &lookup,
            errors: Vec::new(),
            // Warnings are for the program only; std is not the user's to fix.
            warnings: module.is_user().then(Vec::new),
        };
        cases.expr(&f.body);
        let (errors, warnings) = (cases.errors, cases.warnings);
        self.errors.extend(errors);
        self.warnings.extend(warnings.unwrap_or_default());
        if self.keep_bodies {
            self.outs[i] = Some(f);
        }
    }

    /// Checks operator and interpolation operands now that the SCC is inferred.
    /// An operand type still unknown defaults to Int; an unknown interpolated
    /// value defaults to String.
    fn resolve_deferred(&mut self) {
        let deferred = std::mem::take(&mut self.deferred);
        let (ops, interps): (Vec<_>, Vec<_>) = deferred
            .into_iter()
            .partition(|d| d.kind != DeferKind::Interp);
        for d in ops.iter().chain(&interps) {
            let t = self.subst.shallow(&d.ty);
            if let Ty::Var(_) = t {
                // Still unknown: operands default to Int (`fn add(a, b) = a + b`),
                // interpolated values to String (`fn greet(name) = "Hello, ${name}"`).
                let default = if d.kind == DeferKind::Interp {
                    Ty::String
                } else {
                    Ty::Int
                };
                let _ = self.subst.unify(&t, &default);
                continue;
            }
            let ok = match d.kind {
                DeferKind::Arith(_) => matches!(t, Ty::Int | Ty::Float),
                DeferKind::Compare(_) => matches!(t, Ty::Int | Ty::Float | Ty::String),
                DeferKind::Equality(_) => match self.equatable(&t, &mut Vec::new()) {
                    Ok(()) => true,
                    Err(Some(_)) => {
                        let ty = self.subst.resolve(&t);
                        self.errors
                            .push(FunctionEquality { span: d.span, ty }.into());
                        continue;
                    }
                    Err(None) => false,
                },
                DeferKind::Interp => matches!(t, Ty::Int | Ty::Float | Ty::Bool | Ty::String),
            };
            if ok {
                continue;
            }
            let ty = self.subst.resolve(&t);
            let (op, class) = match d.kind {
                DeferKind::Arith(op) => (op, OperatorClass::Arithmetic),
                DeferKind::Compare(op) => (op, OperatorClass::Ordering),
                DeferKind::Equality(op) => (op, OperatorClass::Equality),
                DeferKind::Interp => {
                    self.errors
                        .push(CannotInterpolate { span: d.span, ty }.into());
                    continue;
                }
            };
            self.errors.push(
                UnsupportedOperand {
                    span: d.span,
                    op,
                    class,
                    ty,
                }
                .into(),
            );
        }
    }
}

impl Checker<'_> {
    /// Resolves the deferred field accesses whose struct inference has made
    /// known (repeatedly: one may tell the struct of the next); those still
    /// unknown are errors asking for an annotation.
    fn resolve_fields(&mut self) {
        loop {
            let pending = std::mem::take(&mut self.deferred_fields);
            if pending.is_empty() {
                return;
            }
            let before = pending.len();
            for d in pending {
                let field = snowc_syntax::ast::Ident {
                    name: d.field.clone(),
                    span: d.span,
                };
                match self.field_of(&d.obj, &field) {
                    Ok((_, ft)) => {
                        self.expect(&ft, &d.field_ty, d.span);
                    }
                    Err(Some(t)) => self.errors.push(
                        NotAStruct {
                            span: d.span,
                            ty: t,
                            field: d.field,
                        }
                        .into(),
                    ),
                    Err(None) => self.deferred_fields.push(d),
                }
            }
            if self.deferred_fields.len() == before {
                for d in std::mem::take(&mut self.deferred_fields) {
                    self.errors.push(
                        FieldOfUnknownType {
                            span: d.span,
                            field: d.field,
                        }
                        .into(),
                    );
                }
                return;
            }
        }
    }

    /// Can values of type `t` be compared with `==`? Variables still
    /// unknown default to Int (as a lone unknown operand does). `Err(Some)`:
    /// `t` holds a function; `Err(None)`: another type that cannot be
    /// compared (a rigid type variable, an opaque type). `seen`: the sum
    /// types and structs being checked (recursive types).
    fn equatable(&mut self, t: &Ty, seen: &mut Vec<String>) -> Result<(), Option<Ty>> {
        let t = self.subst.shallow(t);
        match &t {
            Ty::Var(_) => {
                let _ = self.subst.unify(&t, &Ty::Int);
                Ok(())
            }
            Ty::Int | Ty::Float | Ty::Bool | Ty::String | Ty::Unit => Ok(()),
            Ty::Fun(..) => Err(Some(t.clone())),
            Ty::Con(n, args) if n == lang::LIST || n == lang::MAP || n == lang::TUPLE => {
                for a in args {
                    self.equatable(a, seen)?;
                }
                Ok(())
            }
            Ty::Con(n, args) if args.is_empty() && is_rigid(n) => Err(None),
            Ty::Con(n, args) => {
                if lang::is_conn(&t) || n == lang::BYTES {
                    return Ok(());
                }
                let Some(info) = self.type_info(n).cloned() else {
                    return Err(None);
                };
                if info.service {
                    return Ok(());
                }
                if info.opaque {
                    return Err(None);
                }
                for a in args {
                    self.equatable(a, seen)?;
                }
                if seen.contains(n) {
                    return Ok(());
                }
                seen.push(n.clone());
                let fields: Vec<Ty> = info
                    .variants
                    .iter()
                    .flat_map(|v| v.fields.iter())
                    .chain(info.fields.iter().flatten().map(|(_, t)| t))
                    .map(|f| crate::ty::subst_params(f, args))
                    .collect();
                let mut res = Ok(());
                for f in &fields {
                    if let Err(e) = self.equatable(f, seen) {
                        res = Err(e);
                        break;
                    }
                }
                seen.pop();
                res
            }
        }
    }
}

#[derive(Hash, PartialEq, Eq)]
enum VarKey {
    Infer(u32),
    Rigid(String),
}

/// Has `t` no inference variables and no rigid type variables?
fn is_ground(t: &Ty) -> bool {
    match t {
        Ty::Var(_) => false,
        Ty::Con(n, a) => {
            if a.is_empty() {
                !is_rigid(n)
            } else {
                a.iter().all(is_ground)
            }
        }
        Ty::Fun(ps, r) => ps.iter().all(is_ground) && is_ground(r),
        _ => true,
    }
}

/// Applies the substitution and renumbers leftover variables from 0 (per function).
struct Zonk<'s> {
    subst: &'s Subst,
    names: FxHashMap<VarKey, u32>,
    /// Every type, to fill in the indices of deferred field accesses.
    types: &'s std::collections::BTreeMap<String, TypeInfo>,
}

impl<'s> Zonk<'s> {
    /// The struct a (zonked) type is.
    fn struct_of(&self, t: &Ty) -> Option<&'s TypeInfo> {
        match t {
            Ty::Con(n, _) => self.types.get(n).filter(|i| i.fields.is_some()),
            _ => None,
        }
    }
    fn rename(&mut self, t: Ty) -> Ty {
        match t {
            Ty::Var(v) => {
                let n = self.names.len() as u32;
                Ty::Var(*self.names.entry(VarKey::Infer(v)).or_insert(n))
            }
            Ty::Con(n, a) if a.is_empty() && is_rigid(&n) => {
                let k = self.names.len() as u32;
                Ty::Var(*self.names.entry(VarKey::Rigid(n)).or_insert(k))
            }
            Ty::Con(n, a) => Ty::Con(n, a.into_iter().map(|x| self.rename(x)).collect()),
            Ty::Fun(ps, r) => Ty::Fun(
                ps.into_iter().map(|x| self.rename(x)).collect(),
                Box::new(self.rename(*r)),
            ),
            t => t,
        }
    }
    fn ty(&mut self, t: &mut Ty) {
        // A type without variables (rigid or not) is its own zonk.
        if is_ground(t) {
            return;
        }
        let r = self.subst.resolve(t);
        *t = self.rename(r);
    }
    fn pattern(&mut self, p: &mut TPattern) {
        self.ty(&mut p.ty);
        match &mut p.kind {
            TPatternKind::Ctor { args, .. }
            | TPatternKind::Tuple(args)
            | TPatternKind::Struct { fields: args, .. } => {
                args.iter_mut().for_each(|a| self.pattern(a))
            }
            TPatternKind::Cons { head, tail } => {
                self.pattern(head);
                self.pattern(tail)
            }
            _ => {}
        }
    }
    fn expr(&mut self, e: &mut TExpr) {
        self.ty(&mut e.ty);
        match &mut e.kind {
            TExprKind::Interp(xs) | TExprKind::List(xs) | TExprKind::Block(xs) => {
                xs.iter_mut().for_each(|x| self.expr(x))
            }
            TExprKind::ExternRef { type_args, .. } => type_args.iter_mut().for_each(|t| self.ty(t)),
            TExprKind::Call { callee, args } => {
                match callee {
                    Callee::Extern { type_args, .. } => {
                        type_args.iter_mut().for_each(|t| self.ty(t))
                    }
                    Callee::Value(c) => self.expr(c),
                    Callee::Fn(_) | Callee::Service { .. } => {}
                }
                args.iter_mut().for_each(|x| self.expr(x))
            }
            TExprKind::Ctor { args, .. } => args.iter_mut().for_each(|x| self.expr(x)),
            TExprKind::Tuple(xs) | TExprKind::Struct { fields: xs, .. } => {
                xs.iter_mut().for_each(|x| self.expr(x))
            }
            TExprKind::Field { expr, index, name } => {
                self.expr(expr);
                if *index == UNKNOWN_INDEX {
                    if let Some((i, _)) = self.struct_of(&expr.ty).and_then(|t| t.field(name)) {
                        *index = i;
                    }
                }
            }
            TExprKind::Update {
                expr,
                width,
                fields,
            } => {
                self.expr(expr);
                let info = self.struct_of(&expr.ty);
                if let Some(info) = info {
                    *width = info.fields.as_ref().map_or(0, |f| f.len() as u32);
                }
                for (index, name, v) in fields.iter_mut() {
                    if *index == UNKNOWN_INDEX {
                        if let Some((i, _)) = info.and_then(|t| t.field(name)) {
                            *index = i;
                        }
                    }
                    self.expr(v);
                }
            }
            TExprKind::Cons { items, tail } => {
                items.iter_mut().for_each(|x| self.expr(x));
                self.expr(tail)
            }
            TExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs)
            }
            TExprKind::Unary { expr, .. } => self.expr(expr),
            TExprKind::Let { value, .. } => self.expr(value),
            TExprKind::LetPat { pattern, value } => {
                self.pattern(pattern);
                self.expr(value)
            }
            TExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                self.expr(then);
                if let Some(e) = else_ {
                    self.expr(e)
                }
            }
            TExprKind::Case { scrutinee, arms } => {
                self.expr(scrutinee);
                for a in arms {
                    self.pattern(&mut a.pattern);
                    if let Some(g) = &mut a.guard {
                        self.expr(g)
                    }
                    self.expr(&mut a.body)
                }
            }
            TExprKind::For {
                pattern,
                iter,
                body,
            } => {
                self.pattern(pattern);
                self.expr(iter);
                self.expr(body)
            }
            TExprKind::Lambda { params, body, .. } => {
                params.iter_mut().for_each(|p| self.ty(&mut p.1));
                self.expr(body)
            }
            TExprKind::Int(_)
            | TExprKind::Float(_)
            | TExprKind::Str(_)
            | TExprKind::Bool(_)
            | TExprKind::Unit
            | TExprKind::Local(_)
            | TExprKind::FnRef(_) => {}
        }
    }
}
