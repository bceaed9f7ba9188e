//! Inference of expressions: [`Checker::infer`] dispatches on the expression
//! kind to one function per kind (calls, names and constructors are in
//! `call.rs`, patterns in `pattern.rs`).

use crate::check::{Checker, DeferKind, Deferred};
use crate::diagnostics::{
    CaseArmsDiffer, ForPatternNotTuple, IfBranchesDiffer, MismatchContext, TypeMismatch,
};
use crate::scope::{Binder, FnCtx};
use crate::tast::*;
use crate::ty::list;
use snowc_syntax::ast::{
    self, Arm, BinOp, Expr, ExprKind, Param, Pattern, PatternKind, StrPart, UnOp,
};
use snowc_syntax::Span;

/// The span of the expression that gives a block its value.
pub(crate) fn tail_span(e: &Expr) -> Span {
    match &e.kind {
        ExprKind::Block(xs) if !xs.is_empty() => tail_span(xs.last().unwrap()),
        _ => e.span,
    }
}

pub(crate) fn texpr(kind: TExprKind, ty: Ty, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

impl Checker<'_> {
    /// The typed expression of `e`. Never fails: an erroneous expression is
    /// reported and gets a fresh type, so inference goes on.
    pub fn infer(&mut self, cx: &mut FnCtx, e: &Expr) -> TExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(n) => texpr(TExprKind::Int(*n), Ty::Int, span),
            ExprKind::Float(f) => texpr(TExprKind::Float(*f), Ty::Float, span),
            ExprKind::Bool(b) => texpr(TExprKind::Bool(*b), Ty::Bool, span),
            ExprKind::Nil => texpr(TExprKind::Unit, Ty::Unit, span),
            ExprKind::Error => self.fresh_err(span),
            ExprKind::Str(parts) => self.infer_str(cx, parts, span),
            ExprKind::List(xs) => self.infer_list(cx, xs, span),
            ExprKind::Var(x) => self.infer_var(cx, x),
            ExprKind::Ctor(name) => self.infer_ctor(cx, None, name, None, span),
            ExprKind::QualifiedCtor { module, name } => {
                self.infer_ctor(cx, Some(module), name, None, span)
            }
            ExprKind::Tuple(es) => self.infer_tuple(cx, es, span),
            ExprKind::StructLit {
                module,
                name,
                fields,
            } => self.infer_struct_lit(cx, module.as_deref(), name, fields, span),
            ExprKind::Field { expr, field } => self.infer_field(cx, expr, field, span),
            ExprKind::Update { expr, fields } => self.infer_update(cx, expr, fields, span),
            ExprKind::Cons { items, tail } => self.infer_cons(cx, items, tail, span),
            ExprKind::Qualified { module, name } => self.infer_qualified(cx, module, name, span),
            ExprKind::Call { callee, args } => self.infer_call(cx, callee, args, span),
            ExprKind::Binary { op, lhs, rhs } => self.infer_binary(cx, *op, lhs, rhs, span),
            ExprKind::Unary { op, expr } => self.infer_unary(cx, *op, expr, span),
            ExprKind::Let { pattern, ty, value } => {
                self.infer_let(cx, pattern, ty.as_deref(), value, span)
            }
            ExprKind::Block(xs) => self.infer_block(cx, xs, span),
            ExprKind::If { cond, then, else_ } => {
                self.infer_if(cx, cond, then, else_.as_deref(), span)
            }
            ExprKind::Case { scrutinee, arms } => self.infer_case(cx, scrutinee, arms, span),
            ExprKind::For {
                pattern,
                iter,
                body,
            } => self.infer_for(cx, pattern, iter, body, span),
            ExprKind::Lambda { params, body } => self.infer_lambda(cx, params, body, span),
        }
    }

    /// A string literal, or an interpolation of typed parts (each part's type
    /// is checked once the function is inferred, see `scc.rs`).
    fn infer_str(&mut self, cx: &mut FnCtx, parts: &[StrPart], span: Span) -> TExpr {
        if parts.iter().all(|p| matches!(p, StrPart::Lit(_))) {
            let s: String = parts
                .iter()
                .map(|p| match p {
                    StrPart::Lit(s) => s.as_str(),
                    StrPart::Interp(_) => "",
                })
                .collect();
            return texpr(TExprKind::Str(s), Ty::String, span);
        }
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                StrPart::Lit(s) if s.is_empty() => {}
                StrPart::Lit(s) => out.push(texpr(TExprKind::Str(s.clone()), Ty::String, span)),
                StrPart::Interp(x) => {
                    let t = self.infer(cx, x);
                    self.deferred.push(Deferred {
                        ty: t.ty.clone(),
                        kind: DeferKind::Interp,
                        span: t.span,
                    });
                    out.push(t);
                }
            }
        }
        texpr(TExprKind::Interp(out), Ty::String, span)
    }

    fn infer_list(&mut self, cx: &mut FnCtx, xs: &[Expr], span: Span) -> TExpr {
        let elem = self.subst.fresh();
        let mut items = Vec::with_capacity(xs.len());
        for x in xs {
            let t = self.infer(cx, x);
            self.expect(&elem, &t.ty, t.span);
            items.push(t);
        }
        texpr(TExprKind::List(items), list(elem), span)
    }

    fn infer_unary(&mut self, cx: &mut FnCtx, op: UnOp, operand: &Expr, span: Span) -> TExpr {
        let t = self.infer(cx, operand);
        let ty = match op {
            UnOp::Neg => {
                self.deferred.push(Deferred {
                    ty: t.ty.clone(),
                    kind: DeferKind::Arith("-"),
                    span,
                });
                t.ty.clone()
            }
            UnOp::Not => {
                self.expect(&Ty::Bool, &t.ty, t.span);
                Ty::Bool
            }
        };
        let kind = TExprKind::Unary {
            op,
            expr: Box::new(t),
        };
        texpr(kind, ty, span)
    }

    /// `and`/`or` and `<>` have fixed types; the other operators need both
    /// operands of one type, which is checked once the function is inferred.
    fn infer_binary(
        &mut self,
        cx: &mut FnCtx,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        span: Span,
    ) -> TExpr {
        let l = self.infer(cx, lhs);
        let r = self.infer(cx, rhs);
        let sym = op.symbol();
        let ty = match op {
            BinOp::And | BinOp::Or => {
                self.expect(&Ty::Bool, &l.ty, l.span);
                self.expect(&Ty::Bool, &r.ty, r.span);
                Ty::Bool
            }
            BinOp::Concat => {
                self.expect(&Ty::String, &l.ty, l.span);
                self.expect(&Ty::String, &r.ty, r.span);
                Ty::String
            }
            _ => {
                self.expect(&l.ty, &r.ty, r.span);
                let (kind, ty) = match op {
                    BinOp::Eq | BinOp::Ne => (DeferKind::Equality(sym), Ty::Bool),
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                        (DeferKind::Compare(sym), Ty::Bool)
                    }
                    _ => (DeferKind::Arith(sym), l.ty.clone()),
                };
                self.deferred.push(Deferred {
                    ty: l.ty.clone(),
                    kind,
                    span,
                });
                ty
            }
        };
        let kind = TExprKind::Binary {
            op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        };
        texpr(kind, ty, span)
    }

    /// `let x = v` binds `x` for the rest of the enclosing block; `let
    /// (a, b) = v` binds the pattern's variables (irrefutability is
    /// checked with the `case`s, in `cases.rs`).
    fn infer_let(
        &mut self,
        cx: &mut FnCtx,
        pattern: &Pattern,
        annot: Option<&ast::TypeExpr>,
        value: &Expr,
        span: Span,
    ) -> TExpr {
        let v = self.infer(cx, value);
        let ty = match annot {
            Some(te) => {
                let a = self.annot(cx, te);
                self.expect(&a, &v.ty, tail_span(value));
                a
            }
            None => v.ty.clone(),
        };
        // `let x = v` and `let _ = v` bind one local (as in Snow v1).
        let simple = match &pattern.kind {
            PatternKind::Bind(name) => Some((name.name.as_str(), name.span)),
            PatternKind::Wildcard => Some(("_", pattern.span)),
            _ => None,
        };
        if let Some((name, nspan)) = simple {
            let local = cx.bind(name, ty, nspan, Binder::Let);
            let kind = TExprKind::Let {
                local,
                value: Box::new(v),
            };
            return texpr(kind, Ty::Unit, span);
        }
        cx.binder = Binder::Let;
        let p = self.check_pattern(cx, pattern, &ty);
        cx.binder = Binder::Pattern;
        let kind = TExprKind::LetPat {
            pattern: Box::new(p),
            value: Box::new(v),
        };
        texpr(kind, Ty::Unit, span)
    }

    fn infer_block(&mut self, cx: &mut FnCtx, xs: &[Expr], span: Span) -> TExpr {
        let m = cx.mark();
        let items: Vec<TExpr> = xs.iter().map(|x| self.infer(cx, x)).collect();
        cx.restore(m);
        let ty = items.last().map(|t| t.ty.clone()).unwrap_or(Ty::Unit);
        texpr(TExprKind::Block(items), ty, span)
    }

    fn infer_if(
        &mut self,
        cx: &mut FnCtx,
        cond: &Expr,
        then: &Expr,
        else_: Option<&Expr>,
        span: Span,
    ) -> TExpr {
        let c = self.infer(cx, cond);
        if self.subst.unify(&Ty::Bool, &c.ty).is_err() {
            self.errors.push(
                TypeMismatch {
                    span: c.span,
                    expected: Ty::Bool,
                    found: self.subst.resolve(&c.ty),
                    context: MismatchContext::IfCondition,
                }
                .into(),
            );
        }
        let m = cx.mark();
        let t = self.infer(cx, then);
        cx.restore(m);
        let Some(el) = else_ else {
            let kind = TExprKind::If {
                cond: Box::new(c),
                then: Box::new(t),
                else_: None,
            };
            return texpr(kind, Ty::Unit, span);
        };
        let el_t = self.infer(cx, el);
        cx.restore(m);
        let mut ty = t.ty.clone();
        if self.subst.unify(&t.ty, &el_t.ty).is_err() {
            // The `if` has neither branch's type: no follow-on errors.
            ty = self.subst.fresh();
            self.errors.push(
                IfBranchesDiffer {
                    span: tail_span(el),
                    then_span: tail_span(then),
                    then_ty: self.subst.resolve(&t.ty),
                    else_ty: self.subst.resolve(&el_t.ty),
                }
                .into(),
            );
        }
        let kind = TExprKind::If {
            cond: Box::new(c),
            then: Box::new(t),
            else_: Some(Box::new(el_t)),
        };
        texpr(kind, ty, span)
    }

    /// Every arm's pattern has the scrutinee's type and every body the
    /// case's type (exhaustiveness is checked after inference, in `scc.rs`).
    fn infer_case(&mut self, cx: &mut FnCtx, scrutinee: &Expr, arms: &[Arm], span: Span) -> TExpr {
        let s = self.infer(cx, scrutinee);
        let result = self.subst.fresh();
        let mut tarms = Vec::with_capacity(arms.len());
        let mut first: Option<Span> = None;
        for arm in arms {
            let m = cx.mark();
            let pattern = self.check_pattern(cx, &arm.pattern, &s.ty);
            let guard = arm.guard.as_ref().map(|g| {
                let t = self.infer(cx, g);
                self.expect(&Ty::Bool, &t.ty, t.span);
                t
            });
            let body = self.infer(cx, &arm.body);
            cx.restore(m);
            if self.subst.unify(&result, &body.ty).is_err() {
                self.errors.push(
                    CaseArmsDiffer {
                        span: tail_span(&arm.body),
                        first,
                        expected: self.subst.resolve(&result),
                        found: self.subst.resolve(&body.ty),
                    }
                    .into(),
                );
            }
            first.get_or_insert(tail_span(&arm.body));
            tarms.push(TArm {
                pattern,
                guard,
                body,
            });
        }
        let kind = TExprKind::Case {
            scrutinee: Box::new(s),
            arms: tarms,
        };
        texpr(kind, result, span)
    }

    /// `for x in xs do body end` is the list of the body's values; `for
    /// (k, v) in pairs` takes each element apart.
    fn infer_for(
        &mut self,
        cx: &mut FnCtx,
        pattern: &Pattern,
        iter: &Expr,
        body: &Expr,
        span: Span,
    ) -> TExpr {
        let it = self.infer(cx, iter);
        let elem = self.subst.fresh();
        self.expect(&list(elem.clone()), &it.ty, it.span);
        let m = cx.mark();
        // A tuple pattern over elements known not to be tuples: say so
        // (a newcomer's `for (i, x) in xs`), not a bare mismatch.
        let known = self.subst.shallow(&elem);
        let not_tuple = matches!(pattern.kind, PatternKind::Tuple(_))
            && !matches!(known, Ty::Var(_))
            && crate::lang::tuple_elems(&known).is_none();
        let pat_ty = if not_tuple {
            self.errors.push(
                ForPatternNotTuple {
                    span: pattern.span,
                    elem: self.subst.resolve(&known),
                }
                .into(),
            );
            self.subst.fresh()
        } else {
            elem
        };
        cx.binder = Binder::For;
        let p = self.check_pattern(cx, pattern, &pat_ty);
        cx.binder = Binder::Pattern;
        let b = self.infer(cx, body);
        cx.restore(m);
        let ty = list(b.ty.clone());
        let kind = TExprKind::For {
            pattern: Box::new(p),
            iter: Box::new(it),
            body: Box::new(b),
        };
        texpr(kind, ty, span)
    }

    /// A closure: monomorphic parameters, captures recorded by [`FnCtx`].
    fn infer_lambda(&mut self, cx: &mut FnCtx, params: &[Param], body: &Expr, span: Span) -> TExpr {
        cx.enter_lambda();
        let m = cx.mark();
        let mut ps = Vec::new();
        for p in params {
            let t = match &p.ty {
                Some(te) => self.annot(cx, te),
                None => self.subst.fresh(),
            };
            let id = cx.bind(&p.name.name, t.clone(), p.name.span, Binder::Param);
            ps.push((id, t));
        }
        let b = self.infer(cx, body);
        cx.restore(m);
        let captures = cx.exit_lambda();
        let ty = Ty::Fun(
            ps.iter().map(|p| p.1.clone()).collect(),
            Box::new(b.ty.clone()),
        );
        let kind = TExprKind::Lambda {
            params: ps,
            captures,
            body: Box::new(b),
        };
        texpr(kind, ty, span)
    }
}
