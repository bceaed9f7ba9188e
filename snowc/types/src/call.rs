//! Inference of names and calls: variables, `Module.name`, named functions
//! and externs used as values, calls of functions, externs and closures, and
//! constructors.

use crate::check::{Checker, Target};
use crate::diagnostics::{ArgumentCount, NameUse, NotAFunction, SwappedArguments, UnknownName};
use crate::expr::texpr;
use crate::lang;
use crate::scope::{Binder, FnCtx};
use crate::tast::*;
use crate::ty::suggest;
use snowc_syntax::ast::{Expr, ExprKind, Ident};
use snowc_syntax::Span;

/// A call whose callee is resolved, before its arguments are inferred.
struct CallSite<'e> {
    callee: Callee,
    /// The callee's type at this call.
    fty: Ty,
    /// The callee's name in messages (`Ws.join`), `None` for a closure value.
    display: Option<String>,
    callee_span: Span,
    args: &'e [Expr],
    /// The whole call.
    span: Span,
}

impl Checker<'_> {
    pub(crate) fn infer_var(&mut self, cx: &mut FnCtx, x: &Ident) -> TExpr {
        if let Some((id, ty)) = cx.lookup(&x.name) {
            return texpr(TExprKind::Local(id), ty, x.span);
        }
        match self.lookup_global(cx.module, &x.name) {
            Some(t) => self.value_of_target(cx, t, x.span),
            None => {
                self.unknown_var(cx, x, NameUse::Variable);
                self.fresh_err(x.span)
            }
        }
    }

    pub(crate) fn infer_qualified(
        &mut self,
        cx: &mut FnCtx,
        module: &Ident,
        name: &Ident,
        span: Span,
    ) -> TExpr {
        match self.lookup_qualified(cx.module, module, name) {
            Ok(t) => self.value_of_target(cx, t, span),
            Err(d) => {
                self.errors.push(*d);
                self.fresh_err(span)
            }
        }
    }

    fn unknown_var(&mut self, cx: &FnCtx, x: &Ident, used_as: NameUse) {
        let mut names = cx.local_names();
        names.extend(self.global_names(cx.module));
        self.errors.push(
            UnknownName {
                span: x.span,
                name: x.name.clone(),
                used_as,
                suggestion: suggest(&x.name, names.iter().map(|s| s.as_str())),
            }
            .into(),
        );
    }

    /// A named function or extern used as a value.
    fn value_of_target(&mut self, cx: &mut FnCtx, t: Target, span: Span) -> TExpr {
        match t {
            Target::Fn(i) => {
                let ty = self.fn_type(i);
                texpr(TExprKind::FnRef(self.fns[i].name.clone()), ty, span)
            }
            Target::Extern(e) => {
                cx.externs.insert(e);
                let (ty, type_args) = self.extern_type(e);
                let kind = TExprKind::ExternRef {
                    name: self.table.externs[e].name.clone(),
                    type_args,
                };
                texpr(kind, ty, span)
            }
            Target::ServiceStart(_) | Target::ServiceOp(..) => {
                // An operation as a value: the closure `fn(a...) -> op(a...) end`.
                let fty = self.service_op_type(t);
                let (ps, r) = match self.subst.shallow(&fty) {
                    Ty::Fun(ps, r) => (ps, *r),
                    other => (Vec::new(), other),
                };
                cx.enter_lambda();
                let m = cx.mark();
                let params: Vec<(LocalId, Ty)> = ps
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let l = cx.bind(&format!("_a{i}"), p.clone(), span, Binder::Param);
                        (l, p.clone())
                    })
                    .collect();
                cx.restore(m);
                cx.exit_lambda();
                let args = params
                    .iter()
                    .map(|(l, t)| texpr(TExprKind::Local(*l), t.clone(), span))
                    .collect();
                let body = texpr(
                    TExprKind::Call {
                        callee: service_callee(t),
                        args,
                    },
                    r,
                    span,
                );
                let kind = TExprKind::Lambda {
                    params,
                    captures: Vec::new(),
                    body: Box::new(body),
                };
                texpr(kind, fty, span)
            }
        }
    }

    /// `f(args)`: a constructor, a named function or extern (resolved here,
    /// so a call to an unknown name is one error), or any other expression
    /// whose value is called.
    pub(crate) fn infer_call(
        &mut self,
        cx: &mut FnCtx,
        callee: &Expr,
        args: &[Expr],
        span: Span,
    ) -> TExpr {
        let target = match &callee.kind {
            ExprKind::Ctor(name) => return self.infer_ctor(cx, None, name, Some(args), span),
            ExprKind::QualifiedCtor { module, name } => {
                return self.infer_ctor(cx, Some(module), name, Some(args), span)
            }
            ExprKind::Var(x) if !cx.is_local(&x.name) => {
                let t = self.lookup_global(cx.module, &x.name);
                if t.is_none() {
                    self.unknown_var(cx, x, NameUse::Function);
                }
                t
            }
            ExprKind::Qualified { module, name } => {
                match self.lookup_qualified(cx.module, module, name) {
                    Ok(t) => Some(t),
                    Err(d) => {
                        self.errors.push(*d);
                        None
                    }
                }
            }
            _ => {
                let c = self.infer(cx, callee);
                let fty = c.ty.clone();
                let site = CallSite {
                    callee: Callee::Value(Box::new(c)),
                    fty,
                    display: None,
                    callee_span: callee.span,
                    args,
                    span,
                };
                return self.finish_call(cx, site);
            }
        };
        let site = match target {
            None => {
                for a in args {
                    self.infer(cx, a);
                }
                return self.fresh_err(span);
            }
            Some(Target::Fn(i)) => {
                let name = self.fns[i].name.clone();
                let display = lang::display_name(&name).to_string();
                CallSite {
                    fty: self.fn_type(i),
                    callee: Callee::Fn(name),
                    display: Some(display),
                    callee_span: callee.span,
                    args,
                    span,
                }
            }
            Some(t @ (Target::ServiceStart(_) | Target::ServiceOp(..))) => CallSite {
                fty: self.service_op_type(t),
                callee: service_callee(t),
                display: Some(match &callee.kind {
                    ExprKind::Qualified { module, name } => {
                        format!("{}.{}", module.name, name.name)
                    }
                    _ => String::new(),
                }),
                callee_span: callee.span,
                args,
                span,
            },
            Some(Target::Extern(e)) => {
                cx.externs.insert(e);
                let (fty, type_args) = self.extern_type(e);
                let name = self.table.externs[e].name.clone();
                CallSite {
                    callee: Callee::Extern {
                        name: name.clone(),
                        type_args,
                    },
                    fty,
                    display: Some(name),
                    callee_span: callee.span,
                    args,
                    span,
                }
            }
        };
        self.finish_call(cx, site)
    }

    /// Infers the arguments and checks them against the callee's type.
    fn finish_call(&mut self, cx: &mut FnCtx, site: CallSite<'_>) -> TExpr {
        let targs: Vec<TExpr> = site.args.iter().map(|a| self.infer(cx, a)).collect();
        let ret = match self.subst.shallow(&site.fty) {
            Ty::Fun(ps, r) => {
                if ps.len() != targs.len() {
                    self.errors.push(
                        ArgumentCount {
                            span: site.span,
                            callee: site.display,
                            expected: ps.len(),
                            given: Some(targs.len()),
                        }
                        .into(),
                    );
                } else {
                    self.check_args(&ps, &targs, site.display.as_deref());
                }
                *r
            }
            Ty::Var(_) => {
                let r = self.subst.fresh();
                let f = Ty::Fun(
                    targs.iter().map(|a| a.ty.clone()).collect(),
                    Box::new(r.clone()),
                );
                self.expect(&f, &site.fty, site.callee_span);
                r
            }
            other => {
                self.errors.push(
                    NotAFunction {
                        span: site.callee_span,
                        ty: self.subst.resolve(&other),
                    }
                    .into(),
                );
                self.subst.fresh()
            }
        };
        let kind = TExprKind::Call {
            callee: site.callee,
            args: targs,
        };
        texpr(kind, ret, site.span)
    }

    /// Unifies each argument with its parameter. When one does not fit and
    /// two arguments fit each other's parameters instead, the error says
    /// they are swapped (`List.fold(xs, f, 0)`) rather than reporting a
    /// function type at the wrong argument.
    fn check_args(&mut self, ps: &[Ty], args: &[TExpr], callee: Option<&str>) {
        let cp = self.subst.checkpoint();
        let fits = ps
            .iter()
            .zip(args)
            .all(|(p, a)| self.subst.unify(p, &a.ty).is_ok());
        if fits {
            return;
        }
        self.subst.rollback(cp);
        let n = args.len();
        for i in 0..n {
            for j in i + 1..n {
                let cp = self.subst.checkpoint();
                let swapped = (0..n).all(|k| {
                    let a = if k == i {
                        j
                    } else if k == j {
                        i
                    } else {
                        k
                    };
                    self.subst.unify(&ps[k], &args[a].ty).is_ok()
                });
                self.subst.rollback(cp);
                if swapped {
                    let (ti, tj) = (
                        self.subst.resolve(&args[i].ty),
                        self.subst.resolve(&args[j].ty),
                    );
                    self.errors.push(
                        SwappedArguments {
                            first: args[i].span,
                            second: args[j].span,
                            callee: callee.map(str::to_string),
                            positions: (i + 1, j + 1),
                            first_ty: ti,
                            second_ty: tj,
                        }
                        .into(),
                    );
                    // Check the call as it was probably meant.
                    for (k, p) in ps.iter().enumerate().take(n) {
                        let a = if k == i {
                            j
                        } else if k == j {
                            i
                        } else {
                            k
                        };
                        let _ = self.subst.unify(p, &args[a].ty);
                    }
                    return;
                }
            }
        }
        for (p, a) in ps.iter().zip(args) {
            self.expect(p, &a.ty, a.span);
        }
    }

    /// A constructor, applied (`args`: `Some`) or on its own.
    pub(crate) fn infer_ctor(
        &mut self,
        cx: &mut FnCtx,
        qualifier: Option<&Ident>,
        name: &Ident,
        args: Option<&[Expr]>,
        span: Span,
    ) -> TExpr {
        let Some((type_name, tag, targs, fields)) =
            self.instantiate_ctor(cx.module, qualifier, name)
        else {
            for a in args.unwrap_or(&[]) {
                self.infer(cx, a);
            }
            return self.fresh_err(span);
        };
        let given = args.map_or(0, |a| a.len());
        if given != fields.len() {
            self.errors.push(
                ArgumentCount {
                    span,
                    callee: Some(name.name.clone()),
                    expected: fields.len(),
                    given: args.map(|a| a.len()),
                }
                .into(),
            );
        }
        let mut targs_e = Vec::with_capacity(args.map_or(0, |a| a.len()));
        for (i, a) in args.unwrap_or(&[]).iter().enumerate() {
            let t = self.infer(cx, a);
            if let Some(f) = fields.get(i) {
                self.expect(f, &t.ty, t.span);
            }
            targs_e.push(t);
        }
        let kind = TExprKind::Ctor {
            type_name: type_name.clone(),
            ctor: name.name.clone(),
            tag,
            args: targs_e,
        };
        texpr(kind, Ty::Con(type_name, targs), span)
    }
}

/// The callee of a service operation.
fn service_callee(t: Target) -> Callee {
    match t {
        Target::ServiceStart(s) => Callee::Service {
            service: s,
            op: ServiceOp::Start,
        },
        Target::ServiceOp(s, j) => Callee::Service {
            service: s,
            op: ServiceOp::Handler(j),
        },
        _ => unreachable!("only service targets"),
    }
}
