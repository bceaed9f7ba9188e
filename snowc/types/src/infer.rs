//! Inference of expressions and patterns (one function body at a time).

use crate::annot;
use crate::check::{Checker, DeferKind, Deferred, Target};
use crate::tast::*;
use crate::ty::{list, subst_params, suggest, TyPrinter, UnifyError};
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{self, BinOp, Expr, ExprKind, Ident, Pattern, PatternKind, StrPart, UnOp};
use snowc_syntax::{Diagnostic, Span};
use std::collections::BTreeSet;

/// State of the function being inferred.
pub(crate) struct FnCtx {
    pub module: Option<usize>,
    /// `LocalId` → (source name, type).
    pub locals: Vec<(String, Ty)>,
    scope: FxHashMap<String, Vec<u32>>,
    /// Locals bound, in order (their names are in `locals`), to undo scopes.
    log: Vec<u32>,
    /// Enclosing closures: (first local id of the closure, captured locals).
    lambdas: Vec<(u32, BTreeSet<LocalId>)>,
    pub tvars: FxHashMap<String, Ty>,
    pub externs: BTreeSet<usize>,
}

impl FnCtx {
    pub fn new(module: Option<usize>) -> FnCtx {
        FnCtx {
            module,
            locals: Vec::new(),
            scope: FxHashMap::default(),
            log: Vec::new(),
            lambdas: Vec::new(),
            tvars: FxHashMap::default(),
            externs: BTreeSet::new(),
        }
    }
    pub fn bind(&mut self, name: &str, ty: Ty) -> LocalId {
        let id = self.locals.len() as u32;
        self.locals.push((name.to_string(), ty));
        match self.scope.get_mut(name) {
            Some(ids) => ids.push(id),
            None => {
                self.scope.insert(name.to_string(), vec![id]);
            }
        }
        self.log.push(id);
        LocalId(id)
    }
    fn mark(&self) -> usize {
        self.log.len()
    }
    fn restore(&mut self, mark: usize) {
        while self.log.len() > mark {
            let id = self.log.pop().unwrap();
            if let Some(v) = self.scope.get_mut(&self.locals[id as usize].0) {
                v.pop();
            }
        }
    }
    fn lookup(&mut self, name: &str) -> Option<(LocalId, Ty)> {
        let id = *self.scope.get(name)?.last()?;
        for (start, caps) in self.lambdas.iter_mut() {
            if id < *start {
                caps.insert(LocalId(id));
            }
        }
        Some((LocalId(id), self.locals[id as usize].1.clone()))
    }
    fn local_names(&self) -> Vec<String> {
        self.scope
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The span of the expression that gives a block its value.
pub(crate) fn tail_span(e: &Expr) -> Span {
    match &e.kind {
        ExprKind::Block(xs) if !xs.is_empty() => tail_span(xs.last().unwrap()),
        _ => e.span,
    }
}

fn texpr(kind: TExprKind, ty: Ty, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

impl Checker<'_> {
    /// Unifies; on failure reports `expected X, found Y` at `span`.
    pub fn expect(&mut self, expected: &Ty, found: &Ty, span: Span) -> bool {
        match self.subst.unify(expected, found) {
            Ok(()) => true,
            Err(e) => {
                let d = self.mismatch(expected, found, e, span);
                self.diags.push(d);
                false
            }
        }
    }

    fn mismatch(&self, expected: &Ty, found: &Ty, err: UnifyError, span: Span) -> Diagnostic {
        let ex = self.subst.resolve(expected);
        let fo = self.subst.resolve(found);
        if let (Ty::Fun(p1, _), Ty::Fun(p2, _)) = (&ex, &fo) {
            if p1.len() != p2.len() {
                return Diagnostic::error(
                    span,
                    format!(
                        "expected a function of {}, found a function of {}",
                        plural(p1.len(), "argument"),
                        plural(p2.len(), "argument")
                    ),
                )
                .with_label(format!(
                    "this function takes {}",
                    plural(p2.len(), "argument")
                ));
            }
        }
        let mut pr = TyPrinter::default();
        let (a, b) = (pr.print(&ex), pr.print(&fo));
        if err == UnifyError::Occurs {
            return Diagnostic::error(
                span,
                format!("infinite type: {a} would have to contain {b}"),
            )
            .with_label("this value would have an infinitely nested type");
        }
        let mut d = Diagnostic::error(span, format!("expected {a}, found {b}"))
            .with_label(format!("this is {b}"));
        if matches!((&ex, &fo), (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int)) {
            d = d.with_help("Snow has no implicit conversion between Int and Float: use Float.from_int or Float.round");
        }
        d
    }

    fn show2(&self, a: &Ty, b: &Ty) -> (String, String) {
        let mut pr = TyPrinter::default();
        (
            pr.print(&self.subst.resolve(a)),
            pr.print(&self.subst.resolve(b)),
        )
    }

    /// The type of function `i` at a use site.
    pub fn fn_type(&mut self, i: usize) -> Ty {
        if let Some(m) = &self.fns[i].mono {
            return m.clone();
        }
        // Borrow the scheme without cloning it (instantiate only touches the substitution).
        if let Some(s) = self.fns[i].scheme.take() {
            let t = self.instantiate(&s);
            self.fns[i].scheme = Some(s);
            return t;
        }
        self.subst.fresh()
    }

    /// An extern's instantiated type and its type arguments.
    fn extern_type(&mut self, e: usize) -> (Ty, Vec<Ty>) {
        let n = self.table.externs[e].type_params;
        let args: Vec<Ty> = (0..n).map(|_| self.subst.fresh()).collect();
        (subst_params(&self.table.externs[e].fun_ty(), &args), args)
    }

    fn fresh_err(&mut self, span: Span) -> TExpr {
        let t = self.subst.fresh();
        texpr(TExprKind::Unit, t, span)
    }

    fn annot(&mut self, cx: &mut FnCtx, te: &ast::TypeExpr) -> Ty {
        let mut env = Checker::fn_types(
            &self.user_types,
            self.table,
            cx.module,
            &mut cx.tvars,
            false,
            &mut self.subst,
        );
        annot::resolve(te, &mut env, &mut self.diags)
    }

    pub fn infer(&mut self, cx: &mut FnCtx, e: &Expr) -> TExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(n) => texpr(TExprKind::Int(*n), Ty::Int, span),
            ExprKind::Float(f) => texpr(TExprKind::Float(*f), Ty::Float, span),
            ExprKind::Bool(b) => texpr(TExprKind::Bool(*b), Ty::Bool, span),
            ExprKind::Nil => texpr(TExprKind::Unit, Ty::Unit, span),
            ExprKind::Error => self.fresh_err(span),
            ExprKind::Str(parts) => {
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
                let mut out = Vec::new();
                for p in parts {
                    match p {
                        StrPart::Lit(s) => {
                            if !s.is_empty() {
                                out.push(texpr(TExprKind::Str(s.clone()), Ty::String, span))
                            }
                        }
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
            ExprKind::List(xs) => {
                let elem = self.subst.fresh();
                let mut items = Vec::new();
                for x in xs {
                    let t = self.infer(cx, x);
                    self.expect(&elem, &t.ty, t.span);
                    items.push(t);
                }
                texpr(TExprKind::List(items), list(elem), span)
            }
            ExprKind::Var(x) => self.infer_var(cx, x),
            ExprKind::Ctor(name) => self.infer_ctor(cx, name, None, span),
            ExprKind::Qualified { module, name } => {
                match self.lookup_qualified(cx.module, module, name) {
                    Ok(t) => self.value_of_target(cx, t, span),
                    Err(d) => {
                        self.diags.push(d);
                        self.fresh_err(span)
                    }
                }
            }
            ExprKind::Call { callee, args } => self.infer_call(cx, callee, args, span),
            ExprKind::Binary { op, lhs, rhs } => self.infer_binary(cx, *op, lhs, rhs, span),
            ExprKind::Unary { op, expr } => {
                let t = self.infer(cx, expr);
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
                texpr(
                    TExprKind::Unary {
                        op: *op,
                        expr: Box::new(t),
                    },
                    ty,
                    span,
                )
            }
            ExprKind::Let { name, ty, value } => {
                let v = self.infer(cx, value);
                let lty = match ty {
                    Some(te) => {
                        let a = self.annot(cx, te);
                        self.expect(&a, &v.ty, tail_span(value));
                        a
                    }
                    None => v.ty.clone(),
                };
                let local = cx.bind(&name.name, lty);
                texpr(
                    TExprKind::Let {
                        local,
                        value: Box::new(v),
                    },
                    Ty::Unit,
                    span,
                )
            }
            ExprKind::Block(xs) => {
                let m = cx.mark();
                let items: Vec<TExpr> = xs.iter().map(|x| self.infer(cx, x)).collect();
                cx.restore(m);
                let ty = items.last().map(|t| t.ty.clone()).unwrap_or(Ty::Unit);
                texpr(TExprKind::Block(items), ty, span)
            }
            ExprKind::If { cond, then, else_ } => {
                let c = self.infer(cx, cond);
                if self.subst.unify(&Ty::Bool, &c.ty).is_err() {
                    let (_, found) = self.show2(&Ty::Bool, &c.ty);
                    self.diags.push(
                        Diagnostic::error(c.span, format!("expected Bool, found {found}"))
                            .with_label("an if condition must be a Bool"),
                    );
                }
                let m = cx.mark();
                let t = self.infer(cx, then);
                cx.restore(m);
                match else_ {
                    None => texpr(
                        TExprKind::If {
                            cond: Box::new(c),
                            then: Box::new(t),
                            else_: None,
                        },
                        Ty::Unit,
                        span,
                    ),
                    Some(el) => {
                        let el_t = self.infer(cx, el);
                        cx.restore(m);
                        if self.subst.unify(&t.ty, &el_t.ty).is_err() {
                            let (a, b) = self.show2(&t.ty, &el_t.ty);
                            self.diags.push(
                                Diagnostic::error(
                                    tail_span(el),
                                    format!("if and else have different types: {a} and {b}"),
                                )
                                .with_label(format!("this is {b}"))
                                .with_secondary(tail_span(then), format!("this is {a}")),
                            );
                        }
                        let ty = t.ty.clone();
                        texpr(
                            TExprKind::If {
                                cond: Box::new(c),
                                then: Box::new(t),
                                else_: Some(Box::new(el_t)),
                            },
                            ty,
                            span,
                        )
                    }
                }
            }
            ExprKind::Case { scrutinee, arms } => {
                let s = self.infer(cx, scrutinee);
                let result = self.subst.fresh();
                let mut tarms = Vec::new();
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
                        let (a, b) = self.show2(&result, &body.ty);
                        let mut d = Diagnostic::error(
                            tail_span(&arm.body),
                            format!("case arms have different types: {a} and {b}"),
                        )
                        .with_label(format!("this is {b}"));
                        if let Some(f) = first {
                            d = d.with_secondary(f, format!("this is {a}"));
                        }
                        self.diags.push(d);
                    }
                    first.get_or_insert(tail_span(&arm.body));
                    tarms.push(TArm {
                        pattern,
                        guard,
                        body,
                    });
                }
                texpr(
                    TExprKind::Case {
                        scrutinee: Box::new(s),
                        arms: tarms,
                    },
                    result,
                    span,
                )
            }
            ExprKind::For { var, iter, body } => {
                let it = self.infer(cx, iter);
                let elem = self.subst.fresh();
                self.expect(&list(elem.clone()), &it.ty, it.span);
                let m = cx.mark();
                let local = cx.bind(&var.name, elem);
                let b = self.infer(cx, body);
                cx.restore(m);
                let ty = list(b.ty.clone());
                texpr(
                    TExprKind::For {
                        local,
                        iter: Box::new(it),
                        body: Box::new(b),
                    },
                    ty,
                    span,
                )
            }
            ExprKind::Lambda { params, body } => {
                let start = cx.locals.len() as u32;
                cx.lambdas.push((start, BTreeSet::new()));
                let m = cx.mark();
                let mut ps = Vec::new();
                for p in params {
                    let t = match &p.ty {
                        Some(te) => self.annot(cx, te),
                        None => self.subst.fresh(),
                    };
                    let id = cx.bind(&p.name.name, t.clone());
                    ps.push((id, t));
                }
                let b = self.infer(cx, body);
                cx.restore(m);
                let (_, caps) = cx.lambdas.pop().unwrap();
                let ty = Ty::Fun(
                    ps.iter().map(|p| p.1.clone()).collect(),
                    Box::new(b.ty.clone()),
                );
                texpr(
                    TExprKind::Lambda {
                        params: ps,
                        captures: caps.into_iter().collect(),
                        body: Box::new(b),
                    },
                    ty,
                    span,
                )
            }
        }
    }

    fn unknown_var(&mut self, cx: &FnCtx, x: &Ident, what: &str) {
        let mut names = cx.local_names();
        names.extend(self.global_names(cx.module));
        let mut d = Diagnostic::error(x.span, format!("unknown {what} {}", x.name))
            .with_label("not found in this scope");
        if let Some(s) = suggest(&x.name, names.iter().map(|s| s.as_str())) {
            d = d.with_help(format!("did you mean {s}?"));
        }
        self.diags.push(d);
    }

    fn infer_var(&mut self, cx: &mut FnCtx, x: &Ident) -> TExpr {
        if let Some((id, ty)) = cx.lookup(&x.name) {
            return texpr(TExprKind::Local(id), ty, x.span);
        }
        match self.lookup_global(cx.module, &x.name) {
            Some(t) => self.value_of_target(cx, t, x.span),
            None => {
                self.unknown_var(cx, x, "variable");
                self.fresh_err(x.span)
            }
        }
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
                texpr(
                    TExprKind::ExternRef {
                        name: self.table.externs[e].name.clone(),
                        type_args,
                    },
                    ty,
                    span,
                )
            }
        }
    }

    fn infer_call(&mut self, cx: &mut FnCtx, callee: &Expr, args: &[Expr], span: Span) -> TExpr {
        let target = match &callee.kind {
            ExprKind::Ctor(name) => return self.infer_ctor(cx, name, Some(args), span),
            ExprKind::Var(x) if cx.scope.get(&x.name).is_none_or(|v| v.is_empty()) => {
                match self.lookup_global(cx.module, &x.name) {
                    Some(t) => Some(t),
                    None => {
                        self.unknown_var(cx, x, "function");
                        None
                    }
                }
            }
            ExprKind::Qualified { module, name } => {
                match self.lookup_qualified(cx.module, module, name) {
                    Ok(t) => Some(t),
                    Err(d) => {
                        self.diags.push(d);
                        None
                    }
                }
            }
            _ => {
                let c = self.infer(cx, callee);
                let fty = c.ty.clone();
                return self.finish_call(
                    cx,
                    Callee::Value(Box::new(c)),
                    fty,
                    None,
                    callee.span,
                    args,
                    span,
                );
            }
        };
        match target {
            None => {
                for a in args {
                    self.infer(cx, a);
                }
                self.fresh_err(span)
            }
            Some(Target::Fn(i)) => {
                let fty = self.fn_type(i);
                let name = self.fns[i].name.clone();
                let display = name.strip_prefix("Prelude.").unwrap_or(&name).to_string();
                self.finish_call(
                    cx,
                    Callee::Fn(name),
                    fty,
                    Some(display),
                    callee.span,
                    args,
                    span,
                )
            }
            Some(Target::Extern(e)) => {
                cx.externs.insert(e);
                let (fty, type_args) = self.extern_type(e);
                let name = self.table.externs[e].name.clone();
                self.finish_call(
                    cx,
                    Callee::Extern {
                        name: name.clone(),
                        type_args,
                    },
                    fty,
                    Some(name),
                    callee.span,
                    args,
                    span,
                )
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_call(
        &mut self,
        cx: &mut FnCtx,
        callee: Callee,
        fty: Ty,
        display: Option<String>,
        callee_span: Span,
        args: &[Expr],
        span: Span,
    ) -> TExpr {
        let targs: Vec<TExpr> = args.iter().map(|a| self.infer(cx, a)).collect();
        let ret = match self.subst.shallow(&fty) {
            Ty::Fun(ps, r) => {
                if ps.len() != targs.len() {
                    let who = display.unwrap_or_else(|| "this function".to_string());
                    let were = if targs.len() == 1 { "was" } else { "were" };
                    self.diags.push(
                        Diagnostic::error(
                            span,
                            format!(
                                "{who} takes {} but {} {were} given",
                                plural(ps.len(), "argument"),
                                targs.len()
                            ),
                        )
                        .with_label(format!("expected {}", plural(ps.len(), "argument"))),
                    );
                }
                if ps.len() == targs.len() {
                    for (p, a) in ps.iter().zip(&targs) {
                        self.expect(p, &a.ty, a.span);
                    }
                }
                *r
            }
            Ty::Var(_) => {
                let r = self.subst.fresh();
                let f = Ty::Fun(
                    targs.iter().map(|a| a.ty.clone()).collect(),
                    Box::new(r.clone()),
                );
                self.expect(&f, &fty, callee_span);
                r
            }
            other => {
                let shown = TyPrinter::default().print(&self.subst.resolve(&other));
                self.diags.push(
                    Diagnostic::error(callee_span, format!("cannot call a value of type {shown}"))
                        .with_label("this is not a function"),
                );
                self.subst.fresh()
            }
        };
        texpr(
            TExprKind::Call {
                callee,
                args: targs,
            },
            ret,
            span,
        )
    }

    fn infer_ctor(
        &mut self,
        cx: &mut FnCtx,
        name: &Ident,
        args: Option<&[Expr]>,
        span: Span,
    ) -> TExpr {
        let Some((type_name, tag, targs, fields)) = self.instantiate_ctor(cx.module, name) else {
            for a in args.unwrap_or(&[]) {
                self.infer(cx, a);
            }
            return self.fresh_err(span);
        };
        let given = args.map_or(0, |a| a.len());
        if given != fields.len() {
            let mut d = if args.is_none() {
                Diagnostic::error(
                    span,
                    format!("{} takes {}", name.name, plural(fields.len(), "argument")),
                )
                .with_help(format!("write {}(...)", name.name))
            } else {
                let were = if given == 1 { "was" } else { "were" };
                Diagnostic::error(
                    span,
                    format!(
                        "{} takes {} but {given} {were} given",
                        name.name,
                        plural(fields.len(), "argument")
                    ),
                )
            };
            d = d.with_label(format!("expected {}", plural(fields.len(), "argument")));
            self.diags.push(d);
        }
        let mut targs_e = Vec::new();
        for (i, a) in args.unwrap_or(&[]).iter().enumerate() {
            let t = self.infer(cx, a);
            if let Some(f) = fields.get(i) {
                self.expect(f, &t.ty, t.span);
            }
            targs_e.push(t);
        }
        texpr(
            TExprKind::Ctor {
                type_name: type_name.clone(),
                ctor: name.name.clone(),
                tag,
                args: targs_e,
            },
            Ty::Con(type_name, targs),
            span,
        )
    }

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
        texpr(
            TExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
            span,
        )
    }

    pub fn check_pattern(&mut self, cx: &mut FnCtx, p: &Pattern, expected: &Ty) -> TPattern {
        let span = p.span;
        let mk = |kind, ty: &Ty| TPattern {
            kind,
            ty: ty.clone(),
            span,
        };
        let lit = |this: &mut Self, kind: TPatternKind, t: Ty| {
            this.expect(expected, &t, span);
            TPattern { kind, ty: t, span }
        };
        match &p.kind {
            PatternKind::Wildcard => mk(TPatternKind::Wildcard, expected),
            PatternKind::Bind(x) => {
                let id = cx.bind(&x.name, expected.clone());
                mk(TPatternKind::Bind(id), expected)
            }
            PatternKind::Int(n) => lit(self, TPatternKind::Int(*n), Ty::Int),
            PatternKind::Float(f) => lit(self, TPatternKind::Float(*f), Ty::Float),
            PatternKind::Str(s) => lit(self, TPatternKind::Str(s.clone()), Ty::String),
            PatternKind::Bool(b) => lit(self, TPatternKind::Bool(*b), Ty::Bool),
            PatternKind::Nil => lit(self, TPatternKind::Unit, Ty::Unit),
            PatternKind::EmptyList => {
                let e = self.subst.fresh();
                lit(self, TPatternKind::EmptyList, list(e))
            }
            PatternKind::Cons { head, tail } => {
                let e = self.subst.fresh();
                let lt = list(e.clone());
                self.expect(expected, &lt, span);
                let h = self.check_pattern(cx, head, &e);
                let t = self.check_pattern(cx, tail, &lt);
                TPattern {
                    kind: TPatternKind::Cons {
                        head: Box::new(h),
                        tail: Box::new(t),
                    },
                    ty: lt,
                    span,
                }
            }
            PatternKind::Ctor { name, args } => {
                let Some((type_name, tag, targs, fields)) = self.instantiate_ctor(cx.module, name)
                else {
                    for a in args {
                        let t = self.subst.fresh();
                        self.check_pattern(cx, a, &t);
                    }
                    return mk(TPatternKind::Wildcard, expected);
                };
                let ty = Ty::Con(type_name.clone(), targs);
                self.expect(expected, &ty, span);
                if args.len() != fields.len() {
                    self.diags.push(
                        Diagnostic::error(
                            span,
                            format!(
                                "constructor {} has {} but the pattern has {}",
                                name.name,
                                plural(fields.len(), "field"),
                                args.len()
                            ),
                        )
                        .with_label(format!("expected {}", plural(fields.len(), "field"))),
                    );
                }
                let mut targ_p = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    let ft = fields.get(i).cloned().unwrap_or_else(|| self.subst.fresh());
                    targ_p.push(self.check_pattern(cx, a, &ft));
                }
                // After an arity error (reported above) the typed pattern still
                // has exactly the constructor's fields, so later passes
                // (exhaustiveness, lowering) never see a ragged pattern.
                targ_p.truncate(fields.len());
                for ft in &fields[targ_p.len()..] {
                    targ_p.push(TPattern {
                        kind: TPatternKind::Wildcard,
                        ty: ft.clone(),
                        span,
                    });
                }
                TPattern {
                    kind: TPatternKind::Ctor {
                        type_name,
                        ctor: name.name.clone(),
                        tag,
                        args: targ_p,
                    },
                    ty,
                    span,
                }
            }
        }
    }
}

impl Checker<'_> {
    /// The constructor `name` with fresh type arguments: its type's name, its
    /// tag, the type arguments and the instantiated field types. An unknown
    /// constructor is reported (with a did-you-mean) and gives `None`.
    fn instantiate_ctor(
        &mut self,
        module: Option<usize>,
        name: &Ident,
    ) -> Option<(String, u32, Vec<Ty>, Vec<Ty>)> {
        let Some((cref, info)) = self.lookup_ctor(module, &name.name) else {
            let names = self.ctor_names(module);
            let mut d = Diagnostic::error(name.span, format!("unknown constructor {}", name.name))
                .with_label("no type defines this constructor");
            if let Some(s) = suggest(&name.name, names.iter().map(|s| s.as_str())) {
                d = d.with_help(format!("did you mean {s}?"));
            }
            self.diags.push(d);
            return None;
        };
        let (type_name, tag) = (info.name.clone(), cref.tag);
        let nparams = info.params.len();
        let fields_decl = info.variants[tag as usize].fields.clone();
        let targs: Vec<Ty> = (0..nparams).map(|_| self.subst.fresh()).collect();
        let fields = fields_decl
            .iter()
            .map(|f| subst_params(f, &targs))
            .collect();
        Some((type_name, tag, targs, fields))
    }
}
