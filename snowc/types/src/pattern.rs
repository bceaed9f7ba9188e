//! Checking patterns against the type they match, binding their variables,
//! and instantiating constructors (shared with constructor expressions).

use crate::check::{Checker, Home};
use crate::diagnostics::{PatternFieldCount, UnknownConstructor};
use crate::scope::FnCtx;
use crate::tast::*;
use crate::ty::{list, subst_params, suggest};
use snowc_syntax::ast::{Ident, Pattern, PatternKind};

impl Checker<'_> {
    /// The typed pattern of `p`, which must match values of type `expected`;
    /// binds its variables in `cx`.
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
                let id = cx.bind(&x.name, expected.clone(), x.span, cx.binder);
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
                let kind = TPatternKind::Cons {
                    head: Box::new(h),
                    tail: Box::new(t),
                };
                TPattern { kind, ty: lt, span }
            }
            PatternKind::Ctor { module, name, args } => {
                self.check_ctor_pattern(cx, p, module.as_ref(), name, args, expected)
            }
            PatternKind::Tuple(ps) => {
                let elems: Vec<Ty> = ps.iter().map(|_| self.subst.fresh()).collect();
                let ty = crate::lang::tuple(elems.clone());
                let fits = self.expect(expected, &ty, span);
                let args = ps
                    .iter()
                    .zip(&elems)
                    .map(|(p, t)| self.check_pattern(cx, p, t))
                    .collect();
                if !fits {
                    // Reported; a pattern of another shape than its value's
                    // type must not reach the exhaustiveness check.
                    return TPattern {
                        kind: TPatternKind::Wildcard,
                        ty: expected.clone(),
                        span,
                    };
                }
                TPattern {
                    kind: TPatternKind::Tuple(args),
                    ty,
                    span,
                }
            }
            PatternKind::Struct {
                module,
                name,
                fields,
            } => self.check_struct_pattern(cx, p, module.as_ref(), name, fields, expected),
        }
    }

    fn check_ctor_pattern(
        &mut self,
        cx: &mut FnCtx,
        p: &Pattern,
        module: Option<&Ident>,
        name: &Ident,
        args: &[Pattern],
        expected: &Ty,
    ) -> TPattern {
        let span = p.span;
        let Some((type_name, tag, targs, fields)) = self.instantiate_ctor(cx.module, module, name)
        else {
            for a in args {
                let t = self.subst.fresh();
                self.check_pattern(cx, a, &t);
            }
            return TPattern {
                kind: TPatternKind::Wildcard,
                ty: expected.clone(),
                span,
            };
        };
        let ty = Ty::Con(type_name.clone(), targs);
        self.expect(expected, &ty, span);
        if args.len() != fields.len() {
            self.errors.push(
                PatternFieldCount {
                    span,
                    ctor: name.name.clone(),
                    expected: fields.len(),
                    given: args.len(),
                }
                .into(),
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
        let kind = TPatternKind::Ctor {
            type_name,
            ctor: name.name.clone(),
            tag,
            args: targ_p,
        };
        TPattern { kind, ty, span }
    }

    /// The constructor `name` with fresh type arguments: its type's name, its
    /// tag, the type arguments and the instantiated field types. An unknown
    /// constructor is reported (with a did-you-mean) and gives `None`.
    pub(crate) fn instantiate_ctor(
        &mut self,
        module: Home,
        qualifier: Option<&Ident>,
        name: &Ident,
    ) -> Option<(String, u32, Vec<Ty>, Vec<Ty>)> {
        let found = match qualifier {
            None => self.lookup_ctor(module, &name.name).ok_or(None),
            Some(q) => self.lookup_qualified_ctor(module, q, name),
        };
        let (cref, info) = match found {
            Ok(x) => x,
            Err(Some(d)) => {
                self.errors.push(*d);
                return None;
            }
            Err(None) => {
                let names = self.ctor_names(module);
                let shown = match qualifier {
                    Some(q) => format!("{}.{}", q.name, name.name),
                    None => name.name.clone(),
                };
                self.errors.push(
                    UnknownConstructor {
                        span: name.span,
                        name: shown,
                        suggestion: suggest(&name.name, names.iter().map(|s| s.as_str())),
                    }
                    .into(),
                );
                return None;
            }
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
