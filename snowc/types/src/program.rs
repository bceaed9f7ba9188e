//! The checker's driver, in phases: the program's modules (their types,
//! structs and functions, then their imports, then the fields of their
//! types: `modules.rs`), the signatures of fully annotated functions,
//! inference of the call graph's SCCs in dependency order, and the typed
//! program of the functions the program can reach.

use crate::check::{Checker, FnEntry, Home, Scheme};
use crate::diagnostics::{TypeError, TypeWarning, UnusedFunction};
use crate::std_lib::ModuleTable;
use crate::tast::{TExtern, TFn, TProgram, Ty};
use crate::ty::{is_rigid, Subst};
use rustc_hash::FxHashMap;
use snowc_syntax::ast;
use snowc_syntax::graph::Program;
use snowc_syntax::{Diagnostic, SourceMap};
use std::collections::BTreeSet;

/// Checks the program's modules against the module table: the typed
/// program and its diagnostics, sorted by position. The program is well
/// typed (and MIR lowering may take it) only when no diagnostic is an error.
pub(crate) fn check_program(
    table: &ModuleTable,
    sources: &SourceMap,
    program: &Program,
) -> (TProgram, Vec<Diagnostic>) {
    let synth = crate::services::synthesize(program);
    let (ck, services, diags) = run(table, program, &synth, true);
    let entry = program.modules.first().map(|m| m.file);
    let file_name = entry
        .map(|f| sources.get(f).name.clone())
        .unwrap_or_default();
    (ck.into_program(file_name, services), diags)
}

/// The diagnostics of [`check_program`] without its typed program (`snowc
/// check`): each function's typed body is dropped once its SCC is
/// finished, so the typed tree is never whole in memory and the next
/// SCC's nodes reuse its memory (a large program's check is bounded by
/// fresh pages: bench/RESULTS-compiler.md).
pub(crate) fn check_program_diagnostics(table: &ModuleTable, program: &Program) -> Vec<Diagnostic> {
    let synth = crate::services::synthesize(program);
    run(table, program, &synth, false).2
}

/// Phases 1-4 and the services' types; the typed bodies are kept in
/// `outs` when `keep_bodies`.
fn run<'a>(
    table: &'a ModuleTable,
    program: &'a Program,
    synth: &'a crate::services::Synth,
    keep_bodies: bool,
) -> (Checker<'a>, Vec<crate::tast::TService>, Vec<Diagnostic>) {
    let mut ck = Checker {
        table,
        types: table.types.clone(),
        mods: Vec::new(),
        fns: Vec::new(),
        n_user: 0,
        subst: Subst::default(),
        errors: Vec::new(),
        warnings: Vec::new(),
        deferred: Vec::new(),
        deferred_fields: Vec::new(),
        outs: Vec::new(),
        services: Vec::new(),
        service_of: FxHashMap::default(),
        roles: Vec::new(),
        state_reported: Vec::new(),
        keep_bodies,
    };
    ck.collect_modules(program, synth);
    ck.annotated_signatures();
    ck.infer_in_dependency_order();
    let services = ck.finish_services();
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
    (ck, services, diags)
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
    /// Phase 1 (`modules.rs`), then every std function after the program's
    /// in `fns`.
    fn collect_modules(&mut self, program: &'a Program, synth: &'a crate::services::Synth) {
        self.collect_user_modules(program, synth);
        self.n_user = self.fns.len();
        self.fns.reserve(self.table.fns.len());
        for f in &self.table.fns {
            self.fns.push(FnEntry::new(
                f.name.clone(),
                &f.def,
                Home::Std(f.module as u32),
            ));
        }
        self.outs.resize_with(self.fns.len(), || None);
    }

    /// Phase 2: a fully annotated function has its scheme before inference
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
                &self.types,
                &self.mods,
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
                .map(|t| crate::annot::resolve(t, &mut env, &mut self.errors))
                .collect();
            let ret = crate::annot::resolve(ret, &mut env, &mut self.errors);
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

    /// Phase 3: the call graph (edges to functions without a signature yet)
    /// and its SCCs, each inferred after the SCCs it calls.
    fn infer_in_dependency_order(&mut self) {
        for i in 0..self.fns.len() {
            let mut refs = crate::refs::collect(self, i);
            // A handler is inferred after its service's init (whose result
            // is the state type).
            if let Some(crate::check::Role::Handler(s, _)) = self.roles.get(i) {
                if let Some(init) = self.services[*s].init {
                    refs.push(init);
                }
            }
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

    /// Phase 4: the warnings about the program's functions that neither
    /// the entry file's `main` nor a `pub` function reaches.
    fn unused_functions(&mut self) {
        let mut reached = vec![false; self.n_user];
        let mut stack: Vec<usize> = (0..self.n_user)
            .filter(|&i| {
                let f = &self.fns[i];
                f.def.public
                    || (f.name == "main" && f.module == Home::User(0))
                    || self.roles[i] != crate::check::Role::Plain
            })
            .collect();
        while let Some(i) = stack.pop() {
            if i >= self.n_user || reached[i] {
                continue;
            }
            reached[i] = true;
            stack.extend(self.fns[i].refs.iter().copied());
        }
        for (i, f) in self.fns[..self.n_user].iter().enumerate() {
            let short = f.def.name.name.as_str();
            if !reached[i] && !short.starts_with('_') {
                self.warnings.push(
                    UnusedFunction {
                        span: f.def.name.span,
                        name: short.to_string(),
                    }
                    .into(),
                );
            }
        }
    }

    /// Phase 5: the typed program: the program's functions (module by
    /// module, each in source order), then the std functions they reach
    /// (sorted by name), and the externs those use (sorted by symbol).
    fn into_program(mut self, file_name: String, services: Vec<crate::tast::TService>) -> TProgram {
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
            types: std::mem::take(&mut self.types),
            services,
        }
    }
}
