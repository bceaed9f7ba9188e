//! The checker's driver: collects the user program's items, resolves names,
//! orders functions by their call graph (SCCs, dependencies first), infers
//! and generalises each SCC, and assembles the [`TProgram`].

use crate::annot::{self, AnnotEnv};
use crate::std_lib::{collect_types, CtorRef, ModuleTable, StdItem, StdItemKind, TypeInfo};
use crate::tast::{TExtern, TFn, TProgram, Ty};
use crate::ty::{is_rigid, suggest, Subst};
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{self, Ident, Item};
use snowc_syntax::{Diagnostic, FileId, SourceMap, Span};
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
    pub out: Option<TFn>,
}

impl<'a> FnEntry<'a> {
    /// A function before inference: nothing known but its definition.
    fn new(name: String, def: &'a ast::FnDef, module: Option<usize>) -> FnEntry<'a> {
        FnEntry {
            name,
            def,
            module,
            rigid_sig: None,
            scheme: None,
            mono: None,
            refs: Vec::new(),
            externs: BTreeSet::new(),
            out: None,
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
    pub diags: Vec<Diagnostic>,
    pub deferred: Vec<Deferred>,
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
    fn type_var(&mut self, name: &Ident, _diags: &mut Vec<Diagnostic>) -> Ty {
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

fn fully_annotated(def: &ast::FnDef) -> bool {
    def.ret.is_some() && def.params.iter().all(|p| p.ty.is_some())
}

/// Replaces rigid type variables (`Con("a", [])`) by the given inference variables.
fn unrigid(t: &Ty, map: &FxHashMap<String, Ty>) -> Ty {
    match t {
        Ty::Con(n, a) if a.is_empty() && is_rigid(n) => {
            map.get(n).cloned().unwrap_or_else(|| t.clone())
        }
        Ty::Con(n, a) => Ty::Con(n.clone(), a.iter().map(|x| unrigid(x, map)).collect()),
        Ty::Fun(ps, r) => Ty::Fun(
            ps.iter().map(|x| unrigid(x, map)).collect(),
            Box::new(unrigid(r, map)),
        ),
        _ => t.clone(),
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
    fn unknown_module(&self, module: &Ident) -> Diagnostic {
        let mut d = Diagnostic::error(module.span, format!("unknown module {}", module.name))
            .with_label("no std module has this name");
        if let Some(s) = suggest(
            &module.name,
            self.table.modules.iter().map(|m| m.name.as_str()),
        ) {
            d = d.with_help(format!("did you mean {s}?"));
        }
        d
    }

    /// `Module.name`.
    pub fn lookup_qualified(
        &self,
        ctx: Option<usize>,
        module: &Ident,
        name: &Ident,
    ) -> Result<Target, Diagnostic> {
        let Some(m) = self.table.module(&module.name) else {
            return Err(self.unknown_module(module));
        };
        let md = &self.table.modules[m];
        match md.items.get(&name.name) {
            Some(item) if item.public || ctx == Some(m) => Ok(self.std_target(*item)),
            Some(_) => Err(Diagnostic::error(
                name.span,
                format!(
                    "function {} in module {} is private",
                    name.name, module.name
                ),
            )),
            None => {
                let mut d = Diagnostic::error(
                    name.span,
                    format!("no function {} in module {}", name.name, module.name),
                )
                .with_label(format!("not found in {}", module.name));
                let cands = md
                    .items
                    .iter()
                    .filter(|(_, i)| i.public || ctx == Some(m))
                    .map(|(n, _)| n.as_str());
                if let Some(s) = suggest(&name.name, cands) {
                    d = d.with_help(format!("did you mean {s}?"));
                }
                Err(d)
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

/// Checks the user program against the module table.
pub(crate) fn check_program(
    table: &ModuleTable,
    sources: &SourceMap,
    file: FileId,
    module: &ast::Module,
    mut diags: Vec<Diagnostic>,
) -> Result<TProgram, Vec<Diagnostic>> {
    // ---- user types ----
    let mut user_types = BTreeMap::new();
    let mut user_ctors = BTreeMap::new();
    let type_defs = module.items.iter().filter_map(|i| match i {
        Item::Type(t) => Some(t),
        _ => None,
    });
    let std_types = &table.types;
    for t in type_defs.clone() {
        if crate::annot::builtin_type(&t.name.name).is_some() {
            diags.push(
                Diagnostic::error(t.name.span, format!("type {} is built in", t.name.name))
                    .with_label("this name is taken")
                    .with_help("choose another name for this type"),
            );
        }
    }
    collect_types(
        type_defs,
        &mut user_types,
        &mut user_ctors,
        &|n| {
            // A user type never shares an internal name with a std or
            // built-in type (a built-in name is also reported above).
            if std_types.contains_key(n) || crate::annot::builtin_type(n).is_some() {
                format!("user.{n}")
            } else {
                n.to_string()
            }
        },
        &|u| {
            let mut m = std_types.clone();
            m.extend(u.iter().map(|(k, v)| (k.clone(), v.clone())));
            m
        },
        &mut diags,
    );
    let mut ck = Checker {
        table,
        user_types,
        user_ctors,
        fns: Vec::new(),
        n_user: 0,
        user_fns: FxHashMap::default(),
        imports: FxHashMap::default(),
        subst: Subst::default(),
        diags,
        deferred: Vec::new(),
    };
    // ---- user functions, imports ----
    let mut main_seen = false;
    for item in &module.items {
        match item {
            Item::Fn(f) => {
                if let Some(&prev) = ck.user_fns.get(&f.name.name) {
                    let prev_span = ck.fns[prev].def.name.span;
                    ck.diags.push(
                        Diagnostic::error(
                            f.name.span,
                            format!("function {} is defined twice", f.name.name),
                        )
                        .with_label("second definition")
                        .with_secondary(prev_span, "first defined here"),
                    );
                    continue;
                }
                if f.name.name == "main" {
                    main_seen = true;
                    if !f.params.is_empty() {
                        ck.diags.push(
                            Diagnostic::error(f.name.span, "main takes no parameters")
                                .with_label("main is called with no arguments")
                                .with_help("use fn main() do ... end"),
                        );
                    }
                }
                ck.user_fns.insert(f.name.name.clone(), ck.fns.len());
                ck.fns.push(FnEntry::new(f.name.name.clone(), f, None));
            }
            Item::Extern(e) => ck.diags.push(
                Diagnostic::error(
                    e.span,
                    "extern functions can only be declared in std modules",
                )
                .with_label("not allowed in a program")
                .with_help("call std functions as Module.name, e.g. Ws.send(conn, text)"),
            ),
            Item::Import { module: m, .. } | Item::FromImport { module: m, .. }
                if table.module(&m.name).is_none() =>
            {
                let d = ck.unknown_module(m);
                ck.diags.push(d);
            }
            Item::Import { .. } => {}
            Item::FromImport {
                module: m, names, ..
            } => {
                for n in names {
                    match ck.lookup_qualified(None, m, n) {
                        Ok(t) => {
                            ck.imports.insert(n.name.clone(), t);
                        }
                        Err(d) => ck.diags.push(d),
                    }
                }
            }
            Item::Type(_) => {}
        }
    }
    if !main_seen {
        ck.diags.push(
            Diagnostic::error(Span::new(file, 0, 0), "missing fn main()")
                .with_label("a program starts at main")
                .with_help("add fn main() do ... end"),
        );
    }
    ck.n_user = ck.fns.len();
    for f in &table.fns {
        ck.fns
            .push(FnEntry::new(f.name.clone(), &f.def, Some(f.module)));
    }
    // ---- signatures of fully annotated functions ----
    for i in 0..ck.fns.len() {
        let def = ck.fns[i].def;
        if !fully_annotated(def) {
            continue;
        }
        let module = ck.fns[i].module;
        let mut tvars = FxHashMap::default();
        let mut env = Checker::fn_types(
            &ck.user_types,
            ck.table,
            module,
            &mut tvars,
            true,
            &mut ck.subst,
        );
        let params: Vec<Ty> = def
            .params
            .iter()
            .map(|p| annot::resolve(p.ty.as_ref().unwrap(), &mut env, &mut ck.diags))
            .collect();
        let ret = annot::resolve(def.ret.as_ref().unwrap(), &mut env, &mut ck.diags);
        let mut names: Vec<&String> = tvars.keys().collect();
        names.sort();
        let map: FxHashMap<String, Ty> = names
            .iter()
            .map(|n| ((*n).clone(), ck.subst.fresh()))
            .collect();
        let fun = Ty::Fun(params.clone(), Box::new(ret.clone()));
        let ty = unrigid(&fun, &map);
        let mut vars = Vec::new();
        ck.subst.free_vars(&ty, &mut vars);
        ck.fns[i].scheme = Some(Scheme { vars, ty });
        ck.fns[i].rigid_sig = Some((params, ret, tvars));
    }
    // ---- call graph, SCCs ----
    for i in 0..ck.fns.len() {
        let refs = crate::refs::collect(&ck, i);
        ck.fns[i].refs = refs;
    }
    let edges: Vec<Vec<usize>> = ck
        .fns
        .iter()
        .map(|f| {
            f.refs
                .iter()
                .copied()
                .filter(|&j| ck.fns[j].rigid_sig.is_none())
                .collect()
        })
        .collect();
    for scc in crate::refs::tarjan(&edges) {
        ck.infer_scc(&scc);
    }
    // ---- output ----
    if !ck.diags.is_empty() {
        let mut d = ck.diags;
        d.sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
        d.dedup();
        return Err(d);
    }
    let mut reachable = vec![false; ck.fns.len()];
    let mut stack: Vec<usize> = (0..ck.n_user).collect();
    while let Some(i) = stack.pop() {
        if reachable[i] {
            continue;
        }
        reachable[i] = true;
        stack.extend(ck.fns[i].refs.iter().copied());
    }
    let mut std_fns: Vec<usize> = (ck.n_user..ck.fns.len())
        .filter(|&i| reachable[i])
        .collect();
    std_fns.sort_by(|&a, &b| ck.fns[a].name.cmp(&ck.fns[b].name));
    let order: Vec<usize> = (0..ck.n_user).chain(std_fns).collect();
    let mut externs: BTreeSet<usize> = BTreeSet::new();
    let mut functions = Vec::new();
    for i in order {
        externs.extend(ck.fns[i].externs.iter().copied());
        functions.push(ck.fns[i].out.take().expect("every function was inferred"));
    }
    let mut externs: Vec<TExtern> = externs
        .into_iter()
        .map(|e| table.externs[e].to_textern())
        .collect();
    externs.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ok(TProgram {
        functions,
        externs,
        file_name: sources.get(file).name.clone(),
    })
}
