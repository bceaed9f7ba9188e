//! The checker's driver, in phases: the user's types, the user's items
//! (functions, imports, `main`), the signatures of fully annotated functions,
//! inference of the call graph's SCCs in dependency order, and the typed
//! program of the functions `main` can reach.

use crate::annot;
use crate::check::{Checker, FnEntry, Scheme};
use crate::diagnostics::{
    BuiltinTypeName, DuplicateFunction, ExternInProgram, MainWithParameters, MissingMain,
    TypeError, TypeWarning, UnusedFunction,
};
use crate::std_lib::{collect_types, CtorRef, ModuleTable, TypeInfo};
use crate::tast::{TExtern, TFn, TProgram, Ty};
use crate::ty::{is_rigid, Subst};
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{self, Item};
use snowc_syntax::{Diagnostic, FileId, SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet};

/// Checks the user program against the module table: the typed program and
/// its diagnostics, sorted by position. The program is well typed (and MIR
/// lowering may take it) only when no diagnostic is an error.
pub(crate) fn check_program(
    table: &ModuleTable,
    sources: &SourceMap,
    file: FileId,
    module: &ast::Module,
) -> (TProgram, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let (user_types, user_ctors) = collect_user_types(table, module, &mut errors);
    let mut ck = Checker {
        table,
        user_types,
        user_ctors,
        fns: Vec::new(),
        n_user: 0,
        user_fns: FxHashMap::default(),
        imports: FxHashMap::default(),
        subst: Subst::default(),
        errors,
        warnings: Vec::new(),
        deferred: Vec::new(),
        outs: Vec::new(),
    };
    ck.collect_items(file, module);
    ck.annotated_signatures();
    ck.infer_in_dependency_order();
    // Warnings only for a program without errors: an error's recovery could
    // make them wrong, and the errors are what to fix first.
    let mut diags: Vec<Diagnostic> = if ck.errors.is_empty() {
        ck.unused_functions();
        ck.warnings.iter().map(TypeWarning::to_diagnostic).collect()
    } else {
        ck.errors.iter().map(TypeError::to_diagnostic).collect()
    };
    diags.sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
    diags.dedup();
    (ck.into_program(sources.get(file).name.clone()), diags)
}

/// Phase 1: the user's type declarations (their internal names never clash
/// with a std or built-in type's).
fn collect_user_types(
    table: &ModuleTable,
    module: &ast::Module,
    errors: &mut Vec<TypeError>,
) -> (BTreeMap<String, TypeInfo>, BTreeMap<String, CtorRef>) {
    let mut user_types = BTreeMap::new();
    let mut user_ctors = BTreeMap::new();
    let type_defs = module.items.iter().filter_map(|i| match i {
        Item::Type(t) => Some(t),
        _ => None,
    });
    let std_types = &table.types;
    for t in type_defs.clone() {
        if annot::builtin_type(&t.name.name).is_some() {
            errors.push(
                BuiltinTypeName {
                    span: t.name.span,
                    name: t.name.name.clone(),
                }
                .into(),
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
            if std_types.contains_key(n) || annot::builtin_type(n).is_some() {
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
        errors,
    );
    (user_types, user_ctors)
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
    /// Phase 2: the user's functions (then every std function, after them in
    /// `fns`), `from M import` names, `main`, and items a program may not have.
    fn collect_items(&mut self, file: FileId, module: &'a ast::Module) {
        let mut main_seen = false;
        // One entry per item at most, then the std functions: sized once
        // (an entry is large; doubling would copy and fault it in again).
        self.fns.reserve(module.items.len() + self.table.fns.len());
        self.user_fns.reserve(module.items.len());
        for item in &module.items {
            match item {
                Item::Fn(f) => {
                    if let Some(&prev) = self.user_fns.get(&f.name.name) {
                        self.errors.push(
                            DuplicateFunction {
                                span: f.name.span,
                                name: f.name.name.clone(),
                                first: Some(self.fns[prev].def.name.span),
                                module: None,
                            }
                            .into(),
                        );
                        continue;
                    }
                    if f.name.name == "main" {
                        main_seen = true;
                        if !f.params.is_empty() {
                            self.errors
                                .push(MainWithParameters { span: f.name.span }.into());
                        }
                    }
                    self.user_fns.insert(f.name.name.clone(), self.fns.len());
                    self.fns.push(FnEntry::new(f.name.name.clone(), f, None));
                }
                Item::Extern(e) => self.errors.push(ExternInProgram { span: e.span }.into()),
                Item::Import { module: m, .. } | Item::FromImport { module: m, .. }
                    if self.table.module(&m.name).is_none() =>
                {
                    let d = self.unknown_module(m);
                    self.errors.push(d);
                }
                Item::Import { .. } => {}
                Item::FromImport {
                    module: m, names, ..
                } => {
                    for n in names {
                        match self.lookup_qualified(None, m, n) {
                            Ok(t) => {
                                self.imports.insert(n.name.clone(), t);
                            }
                            Err(d) => self.errors.push(*d),
                        }
                    }
                }
                Item::Type(_) => {}
            }
        }
        if !main_seen {
            self.errors.push(
                MissingMain {
                    span: Span::new(file, 0, 0),
                }
                .into(),
            );
        }
        self.n_user = self.fns.len();
        for f in &self.table.fns {
            self.fns
                .push(FnEntry::new(f.name.clone(), &f.def, Some(f.module)));
        }
        self.outs.resize_with(self.fns.len(), || None);
    }

    /// Phase 3: a fully annotated function has its scheme before inference
    /// (so its callers need not wait for it), and is checked against it with
    /// rigid type variables.
    fn annotated_signatures(&mut self) {
        for i in 0..self.fns.len() {
            let def = self.fns[i].def;
            let (Some(ret), true) = (&def.ret, fully_annotated(def)) else {
                continue;
            };
            let module = self.fns[i].module;
            let mut tvars = FxHashMap::default();
            let mut env = Checker::fn_types(
                &self.user_types,
                self.table,
                module,
                &mut tvars,
                true,
                &mut self.subst,
            );
            let params: Vec<Ty> = def
                .params
                .iter()
                .filter_map(|p| p.ty.as_ref())
                .map(|t| annot::resolve(t, &mut env, &mut self.errors))
                .collect();
            let ret = annot::resolve(ret, &mut env, &mut self.errors);
            let mut names: Vec<&String> = tvars.keys().collect();
            names.sort();
            let map: FxHashMap<String, Ty> = names
                .iter()
                .map(|n| ((*n).clone(), self.subst.fresh()))
                .collect();
            let fun = Ty::Fun(params.clone(), Box::new(ret.clone()));
            let ty = unrigid(&fun, &map);
            let mut vars = Vec::new();
            self.subst.free_vars(&ty, &mut vars);
            self.fns[i].scheme = Some(Scheme { vars, ty });
            self.fns[i].rigid_sig = Some((params, ret, tvars));
        }
    }

    /// Phase 4: the call graph (edges to functions without a signature yet)
    /// and its SCCs, each inferred after the SCCs it calls.
    fn infer_in_dependency_order(&mut self) {
        for i in 0..self.fns.len() {
            let refs = crate::refs::collect(self, i);
            self.fns[i].refs = refs;
        }
        let edges: Vec<Vec<usize>> = self
            .fns
            .iter()
            .map(|f| {
                f.refs
                    .iter()
                    .copied()
                    .filter(|&j| self.fns[j].rigid_sig.is_none())
                    .collect()
            })
            .collect();
        for scc in crate::refs::tarjan(&edges) {
            self.infer_scc(&scc);
        }
    }

    /// Phase 5: the warnings about the program's functions that neither
    /// `main` nor a `pub` function reaches.
    fn unused_functions(&mut self) {
        let mut reached = vec![false; self.n_user];
        let mut stack: Vec<usize> = (0..self.n_user)
            .filter(|&i| self.fns[i].def.public || self.fns[i].name == "main")
            .collect();
        while let Some(i) = stack.pop() {
            if i >= self.n_user || reached[i] {
                continue;
            }
            reached[i] = true;
            stack.extend(self.fns[i].refs.iter().copied());
        }
        for (i, f) in self.fns[..self.n_user].iter().enumerate() {
            if !reached[i] && !f.name.starts_with('_') {
                self.warnings.push(
                    UnusedFunction {
                        span: f.def.name.span,
                        name: f.name.clone(),
                    }
                    .into(),
                );
            }
        }
    }

    /// Phase 6: the typed program: the user's functions in source order,
    /// then the std functions they reach (sorted by name), and the externs
    /// those use (sorted by symbol).
    fn into_program(mut self, file_name: String) -> TProgram {
        let mut reachable = vec![false; self.fns.len()];
        let mut stack: Vec<usize> = (0..self.n_user).collect();
        while let Some(i) = stack.pop() {
            if reachable[i] {
                continue;
            }
            reachable[i] = true;
            stack.extend(self.fns[i].refs.iter().copied());
        }
        let mut std_fns: Vec<usize> = (self.n_user..self.fns.len())
            .filter(|&i| reachable[i])
            .collect();
        std_fns.sort_by(|&a, &b| self.fns[a].name.cmp(&self.fns[b].name));
        let mut externs: BTreeSet<usize> = BTreeSet::new();
        for i in (0..self.n_user).chain(std_fns.iter().copied()) {
            externs.extend(self.fns[i].externs.iter().copied());
        }
        let std_outs: Vec<TFn> = std_fns
            .iter()
            .map(|&i| self.outs[i].take().expect("every function was inferred"))
            .collect();
        let mut outs = std::mem::take(&mut self.outs);
        outs.truncate(self.n_user);
        // Collected in place (an `Option<TFn>` is the size of a `TFn`): the
        // user's typed functions, several MB for a large program, are not
        // copied into a new vector, whose pages would all be faulted in.
        let mut functions: Vec<TFn> = outs
            .into_iter()
            .map(|f| f.expect("every function was inferred"))
            .collect();
        functions.extend(std_outs);
        let mut externs: Vec<TExtern> = externs
            .into_iter()
            .map(|e| self.table.externs[e].to_textern())
            .collect();
        externs.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        TProgram {
            functions,
            externs,
            file_name,
        }
    }
}
