//! The checker's state ([`Checker`]): every function's entry, the program's
//! modules and what each can see, name resolution (locals aside, see
//! `scope.rs`), and unification with error reporting. The phases that
//! drive it are in `program.rs` (and `modules.rs` for the program's
//! modules); inference is in `expr.rs`, `call.rs`, `pattern.rs`,
//! `structs.rs` and `scc.rs`.

use crate::annot::{self, AnnotEnv, TypeLookup};
use crate::diagnostics::{
    FunctionArityMismatch, InfiniteType, MismatchContext, PrivateFunction, PrivateItem, TypeError,
    TypeMismatch, TypeWarning, UnknownModule, UnknownModuleFunction,
};
use crate::scope::FnCtx;
use crate::std_lib::{CtorRef, ModuleTable, StdItem, StdItemKind, TypeInfo};
use crate::tast::{TExpr, TExprKind, TFn, Ty};
use crate::ty::{subst_params, suggest, Subst, UnifyError};
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{self, HandlerKind, Ident};
use snowc_syntax::{FileId, Span};
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
    /// `Counter.start` of service `s` (index into `Checker::services`).
    ServiceStart(usize),
    /// The operation of handler `j` of service `s`.
    ServiceOp(usize, usize),
}

pub(crate) use crate::scope::Home;

/// A module a qualified name (`Rooms.f`) can refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModRef {
    User(usize),
    Std(usize),
}

pub(crate) struct FnEntry<'a> {
    pub name: String,
    pub def: &'a ast::FnDef,
    pub module: Home,
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
    pub(crate) fn new(name: String, def: &'a ast::FnDef, module: Home) -> FnEntry<'a> {
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

/// A field access (or an update's field) whose struct was not known when
/// it was inferred: resolved once the SCC is inferred (see `scc.rs`).
pub(crate) struct DeferredField {
    /// The type of the value whose field is read.
    pub obj: Ty,
    /// The type the field must have.
    pub field_ty: Ty,
    pub field: String,
    pub span: Span,
}

/// What a function of the program is to its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Plain,
    /// The `init` of service `s` (index into `Checker::services`).
    Init(usize),
    /// Handler `j` of service `s`.
    Handler(usize, usize),
}

pub(crate) struct HandlerInfo {
    pub kind: HandlerKind,
    /// The operation's name (`add`).
    pub op: String,
    /// Its function (index into `Checker::fns`).
    pub fun: usize,
    pub span: Span,
}

pub(crate) struct ServiceInfo<'a> {
    /// The handle type's internal name.
    pub type_name: String,
    pub def: &'a ast::ServiceDef,
    pub module: usize,
    pub init: Option<usize>,
    pub handlers: Vec<HandlerInfo>,
}

/// One module of the program and what its code can see.
pub(crate) struct UserMod<'a> {
    /// `Chat.Rooms`; empty for the entry file.
    pub name: String,
    pub file: FileId,
    pub ast: &'a ast::Module,
    /// Its functions (indices into `Checker::fns`).
    pub fns: FxHashMap<String, usize>,
    /// Its types, structs and services: source name → internal name.
    pub types: FxHashMap<String, String>,
    /// The constructors of its types.
    pub ctors: FxHashMap<String, CtorRef>,
    /// `from M import` names.
    pub imported_fns: FxHashMap<String, Target>,
    pub imported_types: FxHashMap<String, String>,
    pub imported_ctors: FxHashMap<String, CtorRef>,
    /// The modules it can name: `import Chat.Rooms` is `Rooms`, `import
    /// Chat.Rooms as R` is `R`.
    pub aliases: FxHashMap<String, ModRef>,
}

impl<'a> UserMod<'a> {
    pub fn new(name: String, file: FileId, ast: &'a ast::Module) -> UserMod<'a> {
        UserMod {
            name,
            file,
            ast,
            fns: FxHashMap::default(),
            types: FxHashMap::default(),
            ctors: FxHashMap::default(),
            imported_fns: FxHashMap::default(),
            imported_types: FxHashMap::default(),
            imported_ctors: FxHashMap::default(),
            aliases: FxHashMap::default(),
        }
    }
}

pub(crate) struct Checker<'a> {
    pub table: &'a ModuleTable,
    /// Every type by internal name: std's and the program's.
    pub types: BTreeMap<String, TypeInfo>,
    /// The program's modules; `mods[0]` is the entry file.
    pub mods: Vec<UserMod<'a>>,
    pub fns: Vec<FnEntry<'a>>,
    /// The program's functions are `fns[..n_user]`, std's follow.
    pub n_user: usize,
    pub subst: Subst,
    /// Errors found so far.
    pub errors: Vec<TypeError>,
    /// Warnings found so far (reported only if there is no error).
    pub warnings: Vec<TypeWarning>,
    pub deferred: Vec<Deferred>,
    pub deferred_fields: Vec<DeferredField>,
    /// Each function's typed body once inferred, indexed like `fns` (kept
    /// apart so that `into_program` can reuse this vector for the typed
    /// program's functions instead of copying them into a new one).
    pub outs: Vec<Option<TFn>>,
    /// Whether `outs` keeps each typed body once its SCC is finished
    /// (false for a check that only wants the diagnostics).
    pub keep_bodies: bool,
    /// The program's services, and which handle type is which.
    pub services: Vec<ServiceInfo<'a>>,
    pub service_of: FxHashMap<String, usize>,
    /// What each of the program's functions is to a service, indexed like
    /// `fns` (the program's functions only).
    pub roles: Vec<Role>,
    /// Services whose unknown state type was reported.
    pub state_reported: Vec<usize>,
}

/// Type annotations in one module: its types, imports and std's; type
/// variables by name (new names are fresh, or rigid for a full signature).
pub(crate) struct FnTypes<'x> {
    pub types: &'x BTreeMap<String, TypeInfo>,
    pub mods: &'x [UserMod<'x>],
    pub table: &'x ModuleTable,
    pub home: Home,
    pub tvars: &'x mut FxHashMap<String, Ty>,
    pub rigid: bool,
    pub subst: &'x mut Subst,
}

/// A type name in module `home` (`module`: the qualifier of `Rooms.Room`).
pub(crate) fn lookup_type_in(
    types: &BTreeMap<String, TypeInfo>,
    mods: &[UserMod<'_>],
    table: &ModuleTable,
    home: Home,
    module: Option<&str>,
    name: &str,
) -> TypeLookup {
    let found = |internal: &str| match types.get(internal) {
        Some(t) => TypeLookup::Found(t.name.clone(), t.params.len()),
        None => TypeLookup::NotFound,
    };
    let Home::User(m) = home else {
        if module.is_some() {
            return TypeLookup::NoModule(None);
        }
        return match table.types.get(name) {
            Some(t) => TypeLookup::Found(t.name.clone(), t.params.len()),
            None => TypeLookup::NotFound,
        };
    };
    let md = &mods[m as usize];
    match module {
        Some(q) => match md.aliases.get(q) {
            Some(ModRef::User(t)) => match mods[*t].types.get(name) {
                Some(internal) => match types.get(internal) {
                    Some(info) if info.public => found(internal),
                    Some(_) => TypeLookup::Private(mods[*t].name.clone()),
                    None => TypeLookup::NotFound,
                },
                None => TypeLookup::NotFound,
            },
            Some(ModRef::Std(_)) => match table.types.get(name) {
                Some(t) => TypeLookup::Found(t.name.clone(), t.params.len()),
                None => TypeLookup::NotFound,
            },
            None if table.module(q).is_some() => match table.types.get(name) {
                Some(t) => TypeLookup::Found(t.name.clone(), t.params.len()),
                None => TypeLookup::NotFound,
            },
            None => TypeLookup::NoModule(
                mods.iter()
                    .find(|x| x.name.rsplit('.').next() == Some(q))
                    .map(|x| x.name.clone()),
            ),
        },
        None => {
            if let Some(internal) = md.types.get(name).or_else(|| md.imported_types.get(name)) {
                return found(internal);
            }
            match table.types.get(name) {
                Some(t) => TypeLookup::Found(t.name.clone(), t.params.len()),
                None => TypeLookup::NotFound,
            }
        }
    }
}

impl AnnotEnv for FnTypes<'_> {
    fn lookup_type(&self, module: Option<&str>, name: &str) -> TypeLookup {
        lookup_type_in(self.types, self.mods, self.table, self.home, module, name)
    }
    fn type_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.table.types.keys().cloned().collect();
        if let Home::User(m) = self.home {
            let md = &self.mods[m as usize];
            v.extend(md.types.keys().cloned());
            v.extend(md.imported_types.keys().cloned());
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

    /// An unqualified function name in the context of `module`.
    pub fn lookup_global(&self, module: Home, name: &str) -> Option<Target> {
        match module {
            Home::User(m) => {
                let md = &self.mods[m as usize];
                if let Some(&i) = md.fns.get(name) {
                    return Some(Target::Fn(i));
                }
                if let Some(&t) = md.imported_fns.get(name) {
                    return Some(t);
                }
            }
            Home::Std(m) => {
                if let Some(&item) = self.table.modules[m as usize].items.get(name) {
                    return Some(self.std_target(item));
                }
            }
        }
        let p = self.table.prelude()?;
        let item = self.table.modules[p]
            .items
            .get(name)
            .filter(|i| i.public || module.std() == Some(p))?;
        Some(self.std_target(*item))
    }

    /// Names visible unqualified in `module` (for "did you mean").
    pub fn global_names(&self, module: Home) -> Vec<String> {
        let mut v: Vec<String> = match module {
            Home::User(m) => {
                let md = &self.mods[m as usize];
                md.fns
                    .keys()
                    .chain(md.imported_fns.keys())
                    .cloned()
                    .collect()
            }
            Home::Std(m) => self.table.modules[m as usize]
                .items
                .keys()
                .cloned()
                .collect(),
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

    /// The module a qualifier names in `ctx`: an imported module of the
    /// program (by its last segment or its `as` name) or a std module.
    pub fn module_ref(&self, ctx: Home, name: &str) -> Option<ModRef> {
        if let Home::User(m) = ctx {
            if let Some(&r) = self.mods[m as usize].aliases.get(name) {
                return Some(r);
            }
        }
        self.table.module(name).map(ModRef::Std)
    }

    /// `unknown module Wz`, with a did-you-mean among the modules in scope,
    /// or the import a module of the program needs.
    pub(crate) fn unknown_module(&self, ctx: Home, module: &Ident) -> TypeError {
        let not_imported = match ctx {
            Home::User(_) => self
                .mods
                .iter()
                .find(|x| !x.name.is_empty() && x.name.rsplit('.').next() == Some(&module.name))
                .map(|x| x.name.clone()),
            Home::Std(_) => None,
        };
        let mut names: Vec<&str> = self.table.modules.iter().map(|m| m.name.as_str()).collect();
        if let Home::User(m) = ctx {
            names.extend(self.mods[m as usize].aliases.keys().map(|s| s.as_str()));
        }
        UnknownModule {
            span: module.span,
            name: module.name.clone(),
            suggestion: suggest(&module.name, names),
            not_imported,
        }
        .into()
    }

    /// `Module.name`. (The error is boxed: lookups succeed far more often.)
    pub fn lookup_qualified(
        &self,
        ctx: Home,
        module: &Ident,
        name: &Ident,
    ) -> Result<Target, Box<TypeError>> {
        match self.module_ref(ctx, &module.name) {
            None => match self.service_in_scope(ctx, &module.name) {
                Some(s) => self.service_target(s, module, name),
                None => Err(Box::new(self.unknown_module(ctx, module))),
            },
            Some(ModRef::User(t)) => self.user_item(ctx, t, module, name),
            Some(ModRef::Std(m)) => {
                let md = &self.table.modules[m];
                match md.items.get(&name.name) {
                    Some(item) if item.public || ctx.std() == Some(m) => Ok(self.std_target(*item)),
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
                            .filter(|(_, i)| i.public || ctx.std() == Some(m))
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
        }
    }

    /// Function `name` of the program's module `t`, seen from `ctx`.
    fn user_item(
        &self,
        ctx: Home,
        t: usize,
        module: &Ident,
        name: &Ident,
    ) -> Result<Target, Box<TypeError>> {
        let md = &self.mods[t];
        match md.fns.get(&name.name) {
            Some(&i) if self.fns[i].def.public || ctx == Home::User(t as u32) => Ok(Target::Fn(i)),
            Some(_) => Err(Box::new(
                PrivateItem {
                    span: name.span,
                    module: md.name.clone(),
                    name: name.name.clone(),
                    what: "function",
                }
                .into(),
            )),
            None => {
                let cands = md
                    .fns
                    .iter()
                    .filter(|(_, &i)| self.fns[i].def.public)
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
        self.types.get(internal)
    }

    /// A constructor by name in `module`: its own types', its imports', std's.
    pub fn lookup_ctor(&self, module: Home, name: &str) -> Option<(&CtorRef, &TypeInfo)> {
        let c = match module {
            Home::User(m) => {
                let md = &self.mods[m as usize];
                md.ctors.get(name).or_else(|| md.imported_ctors.get(name))
            }
            Home::Std(_) => None,
        };
        let c = c.or_else(|| self.table.ctors.get(name))?;
        Some((c, self.type_info(&c.type_name)?))
    }

    /// `Rooms.Open`: a constructor of an imported module's public type.
    pub fn lookup_qualified_ctor(
        &self,
        ctx: Home,
        module: &Ident,
        name: &Ident,
    ) -> Result<(&CtorRef, &TypeInfo), Option<Box<TypeError>>> {
        match self.module_ref(ctx, &module.name) {
            None => Err(Some(Box::new(self.unknown_module(ctx, module)))),
            Some(ModRef::Std(_)) => {
                let c = self.table.ctors.get(&name.name).ok_or(None)?;
                Ok((c, self.type_info(&c.type_name).ok_or(None)?))
            }
            Some(ModRef::User(t)) => {
                let c = self.mods[t].ctors.get(&name.name).ok_or(None)?;
                let info = self.type_info(&c.type_name).ok_or(None)?;
                if !info.public && ctx != Home::User(t as u32) {
                    return Err(Some(Box::new(
                        PrivateItem {
                            span: name.span,
                            module: self.mods[t].name.clone(),
                            name: name.name.clone(),
                            what: "constructor",
                        }
                        .into(),
                    )));
                }
                Ok((c, info))
            }
        }
    }

    pub fn ctor_names(&self, module: Home) -> Vec<String> {
        let mut v: Vec<String> = self.table.ctors.keys().cloned().collect();
        if let Home::User(m) = module {
            let md = &self.mods[m as usize];
            v.extend(md.ctors.keys().cloned());
            v.extend(md.imported_ctors.keys().cloned());
        }
        v
    }

    /// A type name (for struct literals and patterns) in `module`.
    pub fn lookup_type(&self, module: Home, qualifier: Option<&str>, name: &str) -> TypeLookup {
        lookup_type_in(&self.types, &self.mods, self.table, module, qualifier, name)
    }

    pub fn fn_types<'x>(
        types: &'x BTreeMap<String, TypeInfo>,
        mods: &'x [UserMod<'x>],
        table: &'x ModuleTable,
        module: Home,
        tvars: &'x mut FxHashMap<String, Ty>,
        rigid: bool,
        subst: &'x mut Subst,
    ) -> FnTypes<'x> {
        FnTypes {
            types,
            mods,
            table,
            home: module,
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
            &self.types,
            &self.mods,
            self.table,
            cx.module,
            &mut cx.tvars,
            false,
            &mut self.subst,
        );
        annot::resolve(te, &mut env, &mut self.errors)
    }
}
