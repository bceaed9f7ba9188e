//! The checker's state ([`Checker`]): every function's entry, name
//! resolution (locals aside, see `scope.rs`), and unification with error
//! reporting. The phases that drive it are in `program.rs`; inference is in
//! `expr.rs`, `call.rs`, `pattern.rs` and `scc.rs`.

use crate::annot::{self, AnnotEnv};
use crate::diagnostics::{
    FunctionArityMismatch, InfiniteType, MismatchContext, PrivateFunction, TypeError, TypeMismatch,
    TypeWarning, UnknownModule, UnknownModuleFunction,
};
use crate::scope::FnCtx;
use crate::std_lib::{CtorRef, ModuleTable, StdItem, StdItemKind, TypeInfo};
use crate::tast::{TExpr, TExprKind, TFn, Ty};
use crate::ty::{subst_params, suggest, Subst, UnifyError};
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{self, Ident};
use snowc_syntax::Span;
use std::collections::{BTreeMap, BTreeSet};

/// A polymorphic type: `vars` are the quantified inference variables of `ty`.
#[derive(Clone, Debug)]
pub(crate) struct Scheme {
    pub vars: Vec<u32>,
    pub ty: Ty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Index into `Checker::fns`.
    Fn(usize),
    /// Index into `ModuleTable::externs`.
    Extern(usize),
}

pub(crate) struct FnEntry<'a> {
    pub name: String,
    pub def: &'a ast::FnDef,
    /// Std module, `None` for the user program.
    pub module: Option<usize>,
    /// Fully annotated: checked against its annotation (rigid type variables).
    pub rigid_sig: Option<(Vec<Ty>, Ty, FxHashMap<String, Ty>)>,
    pub scheme: Option<Scheme>,
    /// Its type while its SCC is being inferred.
    pub mono: Option<Ty>,
    /// Functions it references (call graph).
    pub refs: Vec<usize>,
    pub externs: BTreeSet<usize>,
}

impl<'a> FnEntry<'a> {
    /// A function before inference: nothing known but its definition.
    pub(crate) fn new(name: String, def: &'a ast::FnDef, module: Option<usize>) -> FnEntry<'a> {
        FnEntry {
            name,
            def,
            module,
            rigid_sig: None,
            scheme: None,
            mono: None,
            refs: Vec::new(),
            externs: BTreeSet::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeferKind {
    Arith(&'static str),
    Compare(&'static str),
    Equality(&'static str),
    Interp,
}

pub(crate) struct Deferred {
    pub ty: Ty,
    pub kind: DeferKind,
    pub span: Span,
}

pub(crate) struct Checker<'a> {
    pub table: &'a ModuleTable,
    pub user_types: BTreeMap<String, TypeInfo>,
    pub user_ctors: BTreeMap<String, CtorRef>,
    pub fns: Vec<FnEntry<'a>>,
    pub n_user: usize,
    pub user_fns: FxHashMap<String, usize>,
    pub imports: FxHashMap<String, Target>,
    pub subst: Subst,
    /// Errors found so far.
    pub errors: Vec<TypeError>,
    /// Warnings found so far (reported only if there is no error).
    pub warnings: Vec<TypeWarning>,
    pub deferred: Vec<Deferred>,
    /// Each function's typed body once inferred, indexed like `fns` (kept
    /// apart so that `into_program` can reuse this vector for the typed
    /// program's functions instead of copying them into a new one).
    pub outs: Vec<Option<TFn>>,
}

/// Type annotations of one function: std or user types in scope; type
/// variables by name (new names are fresh, or rigid for a full signature).
pub(crate) struct FnTypes<'x> {
    pub user: Option<&'x BTreeMap<String, TypeInfo>>,
    pub std: &'x BTreeMap<String, TypeInfo>,
    pub tvars: &'x mut FxHashMap<String, Ty>,
    pub rigid: bool,
    pub subst: &'x mut Subst,
}

impl AnnotEnv for FnTypes<'_> {
    fn lookup_type(&self, name: &str) -> Option<(String, usize)> {
        self.user
            .and_then(|u| u.get(name))
            .or_else(|| self.std.get(name))
            .map(|t| (t.name.clone(), t.params.len()))
    }
    fn type_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.std.keys().cloned().collect();
        if let Some(u) = self.user {
            v.extend(u.keys().cloned());
        }
        v
    }
    fn type_var(&mut self, name: &Ident, _errors: &mut Vec<TypeError>) -> Ty {
        if let Some(t) = self.tvars.get(&name.name) {
            return t.clone();
        }
        let t = if self.rigid {
            Ty::Con(name.name.clone(), vec![])
        } else {
            self.subst.fresh()
        };
        self.tvars.insert(name.name.clone(), t.clone());
        t
    }
    fn error_ty(&mut self) -> Ty {
        self.subst.fresh()
    }
}

impl<'a> Checker<'a> {
    pub fn std_target(&self, item: StdItem) -> Target {
        match item.kind {
            StdItemKind::Fn(i) => Target::Fn(self.n_user + i),
            StdItemKind::Extern(i) => Target::Extern(i),
        }
    }

    /// An unqualified function name in the context of `module` (None: the user program).
    pub fn lookup_global(&self, module: Option<usize>, name: &str) -> Option<Target> {
        match module {
            None => {
                if let Some(&i) = self.user_fns.get(name) {
                    return Some(Target::Fn(i));
                }
                if let Some(&t) = self.imports.get(name) {
                    return Some(t);
                }
            }
            Some(m) => {
                if let Some(&item) = self.table.modules[m].items.get(name) {
                    return Some(self.std_target(item));
                }
            }
        }
        let p = self.table.prelude()?;
        let item = self.table.modules[p]
            .items
            .get(name)
            .filter(|i| i.public || Some(p) == module)?;
        Some(self.std_target(*item))
    }

    /// Names visible unqualified in `module` (for "did you mean").
    pub fn global_names(&self, module: Option<usize>) -> Vec<String> {
        let mut v: Vec<String> = match module {
            None => self
                .user_fns
                .keys()
                .chain(self.imports.keys())
                .cloned()
                .collect(),
            Some(m) => self.table.modules[m].items.keys().cloned().collect(),
        };
        if let Some(p) = self.table.prelude() {
            v.extend(
                self.table.modules[p]
                    .items
                    .iter()
                    .filter(|(_, i)| i.public)
                    .map(|(n, _)| n.clone()),
            );
        }
        v.sort();
        v
    }

    /// `unknown module Wz`, with a did-you-mean among the std modules.
    pub(crate) fn unknown_module(&self, module: &Ident) -> TypeError {
        UnknownModule {
            span: module.span,
            name: module.name.clone(),
            suggestion: suggest(
                &module.name,
                self.table.modules.iter().map(|m| m.name.as_str()),
            ),
        }
        .into()
    }

    /// `Module.name`. (The error is boxed: lookups succeed far more often.)
    pub fn lookup_qualified(
        &self,
        ctx: Option<usize>,
        module: &Ident,
        name: &Ident,
    ) -> Result<Target, Box<TypeError>> {
        let Some(m) = self.table.module(&module.name) else {
            return Err(Box::new(self.unknown_module(module)));
        };
        let md = &self.table.modules[m];
        match md.items.get(&name.name) {
            Some(item) if item.public || ctx == Some(m) => Ok(self.std_target(*item)),
            Some(_) => Err(Box::new(
                PrivateFunction {
                    span: name.span,
                    module: module.name.clone(),
                    name: name.name.clone(),
                }
                .into(),
            )),
            None => {
                let cands = md
                    .items
                    .iter()
                    .filter(|(_, i)| i.public || ctx == Some(m))
                    .map(|(n, _)| n.as_str());
                Err(Box::new(
                    UnknownModuleFunction {
                        span: name.span,
                        module: module.name.clone(),
                        name: name.name.clone(),
                        suggestion: suggest(&name.name, cands),
                    }
                    .into(),
                ))
            }
        }
    }

    /// A type by internal name (`Ty::Con`).
    pub fn type_info(&self, internal: &str) -> Option<&TypeInfo> {
        if let Some(src) = internal.strip_prefix("user.") {
            return self.user_types.get(src);
        }
        match self.user_types.get(internal) {
            Some(t) if t.name == internal => Some(t),
            _ => self.table.types.get(internal),
        }
    }

    pub fn lookup_ctor(&self, module: Option<usize>, name: &str) -> Option<(&CtorRef, &TypeInfo)> {
        let c = if module.is_none() {
            self.user_ctors.get(name)
        } else {
            None
        };
        let c = c.or_else(|| self.table.ctors.get(name))?;
        Some((c, self.type_info(&c.type_name)?))
    }

    pub fn ctor_names(&self, module: Option<usize>) -> Vec<String> {
        let mut v: Vec<String> = self.table.ctors.keys().cloned().collect();
        if module.is_none() {
            v.extend(self.user_ctors.keys().cloned());
        }
        v
    }

    pub fn fn_types<'x>(
        user_types: &'x BTreeMap<String, TypeInfo>,
        table: &'x ModuleTable,
        module: Option<usize>,
        tvars: &'x mut FxHashMap<String, Ty>,
        rigid: bool,
        subst: &'x mut Subst,
    ) -> FnTypes<'x> {
        FnTypes {
            user: module.is_none().then_some(user_types),
            std: &table.types,
            tvars,
            rigid,
            subst,
        }
    }

    pub fn instantiate(&mut self, s: &Scheme) -> Ty {
        if s.vars.is_empty() {
            return s.ty.clone();
        }
        let fresh: Vec<Ty> = s.vars.iter().map(|_| self.subst.fresh()).collect();
        fn go(t: &Ty, vars: &[u32], fresh: &[Ty]) -> Ty {
            match t {
                Ty::Var(v) => match vars.iter().position(|x| x == v) {
                    Some(i) => fresh[i].clone(),
                    None => t.clone(),
                },
                Ty::Con(n, a) if !a.is_empty() => {
                    Ty::Con(n.clone(), a.iter().map(|x| go(x, vars, fresh)).collect())
                }
                Ty::Fun(ps, r) => Ty::Fun(
                    ps.iter().map(|x| go(x, vars, fresh)).collect(),
                    Box::new(go(r, vars, fresh)),
                ),
                _ => t.clone(),
            }
        }
        go(&s.ty, &s.vars, &fresh)
    }
}

/// Unification with error reporting, and the types of names at a use site.
impl Checker<'_> {
    /// Unifies; on failure reports `expected X, found Y` at `span`.
    pub fn expect(&mut self, expected: &Ty, found: &Ty, span: Span) -> bool {
        match self.subst.unify(expected, found) {
            Ok(()) => true,
            Err(e) => {
                let d = self.mismatch(expected, found, e, span);
                self.errors.push(d);
                false
            }
        }
    }

    fn mismatch(&self, expected: &Ty, found: &Ty, err: UnifyError, span: Span) -> TypeError {
        let expected = self.subst.resolve(expected);
        let found = self.subst.resolve(found);
        if let (Ty::Fun(p1, _), Ty::Fun(p2, _)) = (&expected, &found) {
            if p1.len() != p2.len() {
                return FunctionArityMismatch {
                    span,
                    expected: p1.len(),
                    found: p2.len(),
                }
                .into();
            }
        }
        if err == UnifyError::Occurs {
            return InfiniteType {
                span,
                expected,
                found,
            }
            .into();
        }
        TypeMismatch {
            span,
            expected,
            found,
            context: MismatchContext::Plain,
        }
        .into()
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
    pub fn extern_type(&mut self, e: usize) -> (Ty, Vec<Ty>) {
        let n = self.table.externs[e].type_params;
        let args: Vec<Ty> = (0..n).map(|_| self.subst.fresh()).collect();
        (subst_params(&self.table.externs[e].fun_ty(), &args), args)
    }

    /// The value of an erroneous expression: a fresh type, so no follow-on errors.
    pub fn fresh_err(&mut self, span: Span) -> TExpr {
        let t = self.subst.fresh();
        TExpr {
            kind: TExprKind::Unit,
            ty: t,
            span,
        }
    }

    /// A type annotation inside a function body.
    pub fn annot(&mut self, cx: &mut FnCtx, te: &ast::TypeExpr) -> Ty {
        let mut env = Checker::fn_types(
            &self.user_types,
            self.table,
            cx.module,
            &mut cx.tvars,
            false,
            &mut self.subst,
        );
        annot::resolve(te, &mut env, &mut self.errors)
    }
}
