//! Inference of tuples, structs (literals, field access, updates,
//! patterns) and `[h | t]` expressions.
//!
//! A field access whose struct is not known yet (`fn age(u) = u.age + 1`
//! called with a `User` later in the same function) is deferred: its
//! result is a fresh type, unified with the field's type once inference of
//! the SCC has made the struct known (`scc.rs`); the field's index is
//! filled in when the function's types are final. A struct that is still
//! unknown then is an error asking for an annotation.

use crate::annot::TypeLookup;
use crate::check::{Checker, DeferredField};
use crate::diagnostics::{
    MissingField, NotAStruct, PrivateItem, RepeatedField, UnknownField, UnknownModule, UnknownType,
};
use crate::expr::texpr;
use crate::lang;
use crate::scope::FnCtx;
use crate::std_lib::TypeInfo;
use crate::tast::*;
use crate::ty::{list, subst_params, suggest};
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{Expr, FieldInit, FieldPat, Ident, Pattern};
use snowc_syntax::Span;

/// An index not known yet (a deferred field access), filled in by `scc.rs`.
pub(crate) const UNKNOWN_INDEX: u32 = u32::MAX;

impl Checker<'_> {
    pub(crate) fn infer_tuple(&mut self, cx: &mut FnCtx, es: &[Expr], span: Span) -> TExpr {
        let items: Vec<TExpr> = es.iter().map(|e| self.infer(cx, e)).collect();
        let ty = lang::tuple(items.iter().map(|t| t.ty.clone()).collect());
        texpr(TExprKind::Tuple(items), ty, span)
    }

    /// `[a, b | tail]`
    pub(crate) fn infer_cons(
        &mut self,
        cx: &mut FnCtx,
        items: &[Expr],
        tail: &Expr,
        span: Span,
    ) -> TExpr {
        let elem = self.subst.fresh();
        let mut out = Vec::new();
        for x in items {
            let t = self.infer(cx, x);
            self.expect(&elem, &t.ty, t.span);
            out.push(t);
        }
        let tl = self.infer(cx, tail);
        let ty = list(elem);
        self.expect(&ty, &tl.ty, tl.span);
        let kind = TExprKind::Cons {
            items: out,
            tail: Box::new(tl),
        };
        texpr(kind, ty, span)
    }

    /// The struct `module.name` names in the current module, reported when
    /// it is unknown, private or not a struct.
    fn resolve_struct(
        &mut self,
        cx: &FnCtx,
        module: Option<&Ident>,
        name: &Ident,
    ) -> Option<TypeInfo> {
        let shown = match module {
            Some(m) => format!("{}.{}", m.name, name.name),
            None => name.name.clone(),
        };
        match self.lookup_type(cx.module, module.map(|m| m.name.as_str()), &name.name) {
            TypeLookup::Found(internal, _) => {
                let info = self.type_info(&internal)?.clone();
                if info.fields.is_none() {
                    self.errors.push(
                        NotAStruct {
                            span: name.span,
                            ty: Ty::Con(info.name.clone(), Vec::new()),
                            field: String::new(),
                        }
                        .into(),
                    );
                    return None;
                }
                Some(info)
            }
            TypeLookup::Private(m) => {
                self.errors.push(
                    PrivateItem {
                        span: name.span,
                        module: m,
                        name: name.name.clone(),
                        what: "struct",
                    }
                    .into(),
                );
                None
            }
            TypeLookup::NoModule(path) => {
                let m = module.expect("only a qualified name names a module");
                self.errors.push(
                    UnknownModule {
                        span: m.span,
                        name: m.name.clone(),
                        suggestion: None,
                        not_imported: path,
                    }
                    .into(),
                );
                None
            }
            TypeLookup::NotFound => {
                let names: Vec<String> = self
                    .types
                    .values()
                    .filter(|t| t.fields.is_some())
                    .map(|t| t.name.rsplit('.').next().unwrap_or(&t.name).to_string())
                    .collect();
                self.errors.push(
                    UnknownType {
                        span: name.span,
                        name: shown,
                        suggestion: suggest(&name.name, names.iter().map(|s| s.as_str())),
                    }
                    .into(),
                );
                None
            }
        }
    }

    /// `User { name: "ada", age: 36 }`
    pub(crate) fn infer_struct_lit(
        &mut self,
        cx: &mut FnCtx,
        module: Option<&Ident>,
        name: &Ident,
        fields: &[FieldInit],
        span: Span,
    ) -> TExpr {
        let Some(info) = self.resolve_struct(cx, module, name) else {
            for f in fields {
                self.infer(cx, &f.value);
            }
            return self.fresh_err(span);
        };
        let targs: Vec<Ty> = info.params.iter().map(|_| self.subst.fresh()).collect();
        let decl = info.fields.clone().unwrap_or_default();
        let mut given: Vec<Option<TExpr>> = vec![None; decl.len()];
        let mut seen: FxHashMap<&str, Span> = FxHashMap::default();
        for f in fields {
            let v = self.infer(cx, &f.value);
            if let Some(&first) = seen.get(f.name.name.as_str()) {
                self.errors.push(
                    RepeatedField {
                        span: f.name.span,
                        field: f.name.name.clone(),
                        first,
                    }
                    .into(),
                );
                continue;
            }
            seen.insert(&f.name.name, f.name.span);
            match decl.iter().position(|(n, _)| *n == f.name.name) {
                Some(i) => {
                    let ft = subst_params(&decl[i].1, &targs);
                    self.expect(&ft, &v.ty, v.span);
                    given[i] = Some(v);
                }
                None => self.errors.push(
                    UnknownField {
                        span: f.name.span,
                        struct_name: display(&info.name),
                        field: f.name.name.clone(),
                        suggestion: suggest(&f.name.name, decl.iter().map(|(n, _)| n.as_str())),
                    }
                    .into(),
                ),
            }
        }
        let missing: Vec<String> = decl
            .iter()
            .zip(&given)
            .filter(|(_, g)| g.is_none())
            .map(|((n, _), _)| n.clone())
            .collect();
        if !missing.is_empty() {
            self.errors.push(
                MissingField {
                    span: name.span,
                    struct_name: display(&info.name),
                    fields: missing,
                }
                .into(),
            );
        }
        let fields: Vec<TExpr> = given
            .into_iter()
            .map(|g| g.unwrap_or_else(|| self.fresh_err(span)))
            .collect();
        let kind = TExprKind::Struct {
            type_name: info.name.clone(),
            fields,
        };
        texpr(kind, Ty::Con(info.name, targs), span)
    }

    /// The index and type of field `field` of a value of type `obj`, when
    /// `obj` is known to be a struct; `Err(Some(ty))` when it is known not
    /// to be one (or not to have the field: reported), `Err(None)` when it
    /// is not known yet.
    pub(crate) fn field_of(&mut self, obj: &Ty, field: &Ident) -> Result<(u32, Ty), Option<Ty>> {
        let t = self.subst.shallow(obj);
        match &t {
            Ty::Var(_) => Err(None),
            Ty::Con(n, args) => {
                let Some(info) = self.type_info(n).filter(|i| i.fields.is_some()) else {
                    return Err(Some(self.subst.resolve(&t)));
                };
                match info.field(&field.name) {
                    Some((i, ft)) => Ok((i, subst_params(ft, args))),
                    None => {
                        let names: Vec<String> = info
                            .fields
                            .iter()
                            .flatten()
                            .map(|(n, _)| n.clone())
                            .collect();
                        self.errors.push(
                            UnknownField {
                                span: field.span,
                                struct_name: display(n),
                                field: field.name.clone(),
                                suggestion: suggest(&field.name, names.iter().map(|s| s.as_str())),
                            }
                            .into(),
                        );
                        // Reported: no further error about this access.
                        Ok((UNKNOWN_INDEX, self.subst.fresh()))
                    }
                }
            }
            _ => Err(Some(self.subst.resolve(&t))),
        }
    }

    /// `u.name`
    pub(crate) fn infer_field(
        &mut self,
        cx: &mut FnCtx,
        obj: &Expr,
        field: &Ident,
        span: Span,
    ) -> TExpr {
        let o = self.infer(cx, obj);
        let (index, ty) = match self.field_of(&o.ty, field) {
            Ok(x) => x,
            Err(Some(t)) => {
                self.errors.push(
                    NotAStruct {
                        span: o.span,
                        ty: t,
                        field: field.name.clone(),
                    }
                    .into(),
                );
                (UNKNOWN_INDEX, self.subst.fresh())
            }
            Err(None) => {
                let ft = self.subst.fresh();
                self.deferred_fields.push(DeferredField {
                    obj: o.ty.clone(),
                    field_ty: ft.clone(),
                    field: field.name.clone(),
                    span: field.span,
                });
                (UNKNOWN_INDEX, ft)
            }
        };
        let kind = TExprKind::Field {
            expr: Box::new(o),
            index,
            name: field.name.clone(),
        };
        texpr(kind, ty, span)
    }

    /// `%{u | age: 1}`
    pub(crate) fn infer_update(
        &mut self,
        cx: &mut FnCtx,
        obj: &Expr,
        fields: &[FieldInit],
        span: Span,
    ) -> TExpr {
        let o = self.infer(cx, obj);
        let mut out = Vec::new();
        let mut seen: FxHashMap<&str, Span> = FxHashMap::default();
        let mut not_struct = false;
        for f in fields {
            let v = self.infer(cx, &f.value);
            if let Some(&first) = seen.get(f.name.name.as_str()) {
                self.errors.push(
                    RepeatedField {
                        span: f.name.span,
                        field: f.name.name.clone(),
                        first,
                    }
                    .into(),
                );
                continue;
            }
            seen.insert(&f.name.name, f.name.span);
            let index = match self.field_of(&o.ty, &f.name) {
                Ok((i, ft)) => {
                    self.expect(&ft, &v.ty, v.span);
                    i
                }
                Err(Some(t)) => {
                    if !not_struct {
                        not_struct = true;
                        self.errors.push(
                            NotAStruct {
                                span: o.span,
                                ty: t,
                                field: f.name.name.clone(),
                            }
                            .into(),
                        );
                    }
                    UNKNOWN_INDEX
                }
                Err(None) => {
                    self.deferred_fields.push(DeferredField {
                        obj: o.ty.clone(),
                        field_ty: v.ty.clone(),
                        field: f.name.name.clone(),
                        span: v.span,
                    });
                    UNKNOWN_INDEX
                }
            };
            out.push((index, f.name.name.clone(), v));
        }
        let ty = o.ty.clone();
        let kind = TExprKind::Update {
            expr: Box::new(o),
            width: UNKNOWN_INDEX,
            fields: out,
        };
        texpr(kind, ty, span)
    }

    /// `User { name: "ada", age }`: fields not named match anything.
    pub(crate) fn check_struct_pattern(
        &mut self,
        cx: &mut FnCtx,
        p: &Pattern,
        module: Option<&Ident>,
        name: &Ident,
        fields: &[FieldPat],
        expected: &Ty,
    ) -> TPattern {
        let span = p.span;
        let Some(info) = self.resolve_struct(cx, module, name) else {
            for f in fields {
                let t = self.subst.fresh();
                self.check_pattern(cx, &f.pattern, &t);
            }
            return TPattern {
                kind: TPatternKind::Wildcard,
                ty: expected.clone(),
                span,
            };
        };
        let targs: Vec<Ty> = info.params.iter().map(|_| self.subst.fresh()).collect();
        let ty = Ty::Con(info.name.clone(), targs.clone());
        let fits = self.expect(expected, &ty, span);
        let decl = info.fields.clone().unwrap_or_default();
        let mut pats: Vec<Option<TPattern>> = vec![None; decl.len()];
        let mut seen: FxHashMap<&str, Span> = FxHashMap::default();
        for f in fields {
            if let Some(&first) = seen.get(f.name.name.as_str()) {
                self.errors.push(
                    RepeatedField {
                        span: f.name.span,
                        field: f.name.name.clone(),
                        first,
                    }
                    .into(),
                );
                continue;
            }
            seen.insert(&f.name.name, f.name.span);
            match decl.iter().position(|(n, _)| *n == f.name.name) {
                Some(i) => {
                    let ft = subst_params(&decl[i].1, &targs);
                    pats[i] = Some(self.check_pattern(cx, &f.pattern, &ft));
                }
                None => {
                    self.errors.push(
                        UnknownField {
                            span: f.name.span,
                            struct_name: display(&info.name),
                            field: f.name.name.clone(),
                            suggestion: suggest(&f.name.name, decl.iter().map(|(n, _)| n.as_str())),
                        }
                        .into(),
                    );
                    let t = self.subst.fresh();
                    self.check_pattern(cx, &f.pattern, &t);
                }
            }
        }
        let fields = pats
            .into_iter()
            .zip(&decl)
            .map(|(p, (_, ft))| {
                p.unwrap_or_else(|| TPattern {
                    kind: TPatternKind::Wildcard,
                    ty: subst_params(ft, &targs),
                    span,
                })
            })
            .collect();
        if !fits {
            // Reported; keep the exhaustiveness check away from it.
            return TPattern {
                kind: TPatternKind::Wildcard,
                ty: expected.clone(),
                span,
            };
        }
        TPattern {
            kind: TPatternKind::Struct {
                type_name: info.name.clone(),
                fields,
            },
            ty,
            span,
        }
    }
}

/// A type's name in messages (`User`, `Chat.Rooms.Room`).
pub(crate) fn display(internal: &str) -> String {
    internal
        .strip_prefix("user.")
        .unwrap_or(internal)
        .to_string()
}
