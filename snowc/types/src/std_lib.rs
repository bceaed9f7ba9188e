//! The std module table, parsed from the embedded std sources (`std/**/*.snow`).
//!
//! One table is read by the checker and, through `TProgram.externs` and the
//! std `TFn`s, by MIR lowering and codegen: there is no second list of
//! signatures anywhere in the compiler.

use crate::annot::{self, AnnotEnv, TypeLookup};
use crate::diagnostics::{
    DuplicateConstructor, DuplicateFunction, DuplicateType, TypeError, UnknownTypeVariable,
};
use crate::lang;
use crate::tast::{TExtern, Ty};
use crate::ty::var_name;
use snowc_syntax::ast::{self, Ident, Item};
use snowc_syntax::{Diagnostic, FileId, SourceMap, Span};
use std::collections::BTreeMap;

mod files {
    include!(concat!(env!("OUT_DIR"), "/std_files.rs"));
}

/// `(path relative to std/, source text)` of every embedded std file, sorted by path.
pub fn std_files() -> &'static [(&'static str, &'static str)] {
    files::STD_FILES
}

pub use crate::tast::{CtorRef, TypeInfo, VariantInfo};

/// `pub extern fn join(conn :: Conn, room :: String) -> Int` in module `Ws`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternSig {
    /// `Ws.join`, or `println` for the prelude.
    pub name: String,
    /// `snow_ws_join`, `snow_println`.
    pub symbol: String,
    pub param_names: Vec<String>,
    /// `Ty::Var(i)`: the extern's i-th type variable (order of first appearance).
    pub params: Vec<Ty>,
    pub ret: Ty,
    pub type_params: u32,
    pub module: usize,
    pub span: Span,
}

impl ExternSig {
    pub fn to_textern(&self) -> TExtern {
        TExtern {
            name: self.name.clone(),
            symbol: self.symbol.clone(),
            params: self.params.clone(),
            ret: self.ret.clone(),
            type_params: self.type_params,
        }
    }
    /// The signature as a `Fun` type.
    pub fn fun_ty(&self) -> Ty {
        Ty::Fun(self.params.clone(), Box::new(self.ret.clone()))
    }
}

/// A std function written in Snow.
#[derive(Clone, Debug, PartialEq)]
pub struct StdFn {
    /// `List.map`, `Prelude.f` for prelude functions.
    pub name: String,
    pub module: usize,
    pub def: ast::FnDef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdItemKind {
    /// Index into [`ModuleTable::externs`].
    Extern(usize),
    /// Index into [`ModuleTable::fns`].
    Fn(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StdItem {
    pub kind: StdItemKind,
    pub public: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StdModule {
    /// `String`, `Ws`; `Prelude` for the prelude.
    pub name: String,
    pub prelude: bool,
    pub files: Vec<FileId>,
    /// Functions and externs by unqualified name.
    pub items: BTreeMap<String, StdItem>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModuleTable {
    /// Sorted by name.
    pub modules: Vec<StdModule>,
    pub types: BTreeMap<String, TypeInfo>,
    pub ctors: BTreeMap<String, CtorRef>,
    pub externs: Vec<ExternSig>,
    pub fns: Vec<StdFn>,
}

impl ModuleTable {
    pub fn module(&self, name: &str) -> Option<usize> {
        self.modules.iter().position(|m| m.name == name)
    }
    pub fn prelude(&self) -> Option<usize> {
        self.modules.iter().position(|m| m.prelude)
    }
    /// A public item `Module.name`.
    pub fn lookup(&self, module: &str, name: &str) -> Option<StdItem> {
        let m = self.module(module)?;
        self.modules[m]
            .items
            .get(name)
            .copied()
            .filter(|i| i.public)
    }
    pub fn extern_by_name(&self, qualified: &str) -> Option<&ExternSig> {
        self.externs.iter().find(|e| e.name == qualified)
    }
}

/// `prelude.snow` → prelude, `string.snow` → `String`, `ws/ws.snow` → `Ws`.
pub fn module_name(rel_path: &str) -> (String, bool) {
    let first = rel_path.split('/').next().unwrap_or(rel_path);
    let stem = if rel_path.contains('/') {
        first
    } else {
        first.strip_suffix(".snow").unwrap_or(first)
    };
    if stem == lang::PRELUDE_FILE {
        return (lang::PRELUDE.to_string(), true);
    }
    let mut cs = stem.chars();
    let name = match cs.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + cs.as_str(),
        None => String::new(),
    };
    (name, false)
}

/// The names of the std modules (`String`, `Ws`, ...; the prelude aside),
/// from the embedded files' paths.
pub fn std_module_names() -> Vec<String> {
    let mut v: Vec<String> = std_files()
        .iter()
        .map(|(rel, _)| module_name(rel))
        .filter(|(_, prelude)| !prelude)
        .map(|(n, _)| n)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Parses every embedded std file (adding it to `sources` as `std/<path>`) and
/// builds the module table.
pub fn load(sources: &mut SourceMap) -> (ModuleTable, Vec<Diagnostic>) {
    let mut parsed = Vec::new();
    let mut diags = Vec::new();
    for (rel, text) in std_files() {
        let file = sources.add(format!("std/{rel}"), *text);
        let (module, ds) = snowc_syntax::parse(file, text);
        diags.extend(ds);
        parsed.push((rel.to_string(), file, module));
    }
    let (table, ds) = build(parsed);
    diags.extend(ds);
    (table, diags)
}

struct StdTypes<'a> {
    types: &'a BTreeMap<String, TypeInfo>,
    vars: Vec<String>,
    /// Type variables must be declared (type declarations) or are collected (signatures).
    declared_only: bool,
}

impl AnnotEnv for StdTypes<'_> {
    fn lookup_type(&self, module: Option<&str>, name: &str) -> TypeLookup {
        if module.is_some() {
            return TypeLookup::NoModule(None);
        }
        match self.types.get(name) {
            Some(t) => TypeLookup::Found(t.name.clone(), t.params.len()),
            None => TypeLookup::NotFound,
        }
    }
    fn type_names(&self) -> Vec<String> {
        self.types.keys().cloned().collect()
    }
    fn type_var(&mut self, name: &Ident, errors: &mut Vec<TypeError>) -> Ty {
        if let Some(i) = self.vars.iter().position(|v| *v == name.name) {
            return Ty::Var(i as u32);
        }
        if self.declared_only {
            // Reported, then taken as a parameter of the type (as the help
            // says), so that uses of the constructor give no follow-on errors.
            errors.push(
                UnknownTypeVariable {
                    span: name.span,
                    name: name.name.clone(),
                }
                .into(),
            );
        }
        self.vars.push(name.name.clone());
        Ty::Var(self.vars.len() as u32 - 1)
    }
    fn error_ty(&mut self) -> Ty {
        Ty::Unit
    }
}

/// Types by source name.
type TypeMap = BTreeMap<String, TypeInfo>;

/// The files of one std module, parsed.
type ModuleFiles = Vec<(FileId, ast::Module)>;

/// Registers type declarations (names first, then fields) — shared with user programs.
pub(crate) fn collect_types<'a>(
    defs: impl Iterator<Item = &'a ast::TypeDef> + Clone,
    types: &mut BTreeMap<String, TypeInfo>,
    ctors: &mut BTreeMap<String, CtorRef>,
    internal_name: &dyn Fn(&str) -> String,
    env_types: &dyn Fn(&TypeMap) -> TypeMap,
    errors: &mut Vec<TypeError>,
) {
    let mut fresh: Vec<&ast::TypeDef> = Vec::new();
    for td in defs.clone() {
        if let Some(prev) = types.get(&td.name.name) {
            errors.push(
                DuplicateType {
                    span: td.name.span,
                    name: td.name.name.clone(),
                    first: prev.span,
                }
                .into(),
            );
            continue;
        }
        types.insert(
            td.name.name.clone(),
            TypeInfo {
                name: internal_name(&td.name.name),
                params: td.params.iter().map(|p| p.name.clone()).collect(),
                variants: Vec::new(),
                opaque: td.opaque,
                span: td.name.span,
                fields: None,
                field_spans: Vec::new(),
                service: false,
                public: td.public,
            },
        );
        fresh.push(td);
    }
    let scope = env_types(types);
    for td in fresh {
        let mut env = StdTypes {
            types: &scope,
            vars: td.params.iter().map(|p| p.name.clone()).collect(),
            declared_only: true,
        };
        let mut variants = Vec::new();
        for (tag, v) in td.variants.iter().enumerate() {
            if let Some(prev) = ctors.get(&v.name.name) {
                let first = types
                    .get(&prev.type_name)
                    .or_else(|| types.values().find(|t| t.name == prev.type_name));
                let first = first
                    .and_then(|t| t.variants.iter().find(|x| x.name == v.name.name))
                    .map(|t| t.span);
                errors.push(
                    DuplicateConstructor {
                        span: v.name.span,
                        name: v.name.name.clone(),
                        first,
                    }
                    .into(),
                );
            } else {
                ctors.insert(
                    v.name.name.clone(),
                    CtorRef {
                        type_name: internal_name(&td.name.name),
                        tag: tag as u32,
                    },
                );
            }
            let fields = v
                .fields
                .iter()
                .map(|f| annot::resolve(f, &mut env, errors))
                .collect();
            variants.push(VariantInfo {
                name: v.name.name.clone(),
                fields,
                span: v.name.span,
            });
        }
        if let Some(t) = types.get_mut(&td.name.name) {
            t.variants = variants;
            t.params = env.vars;
        }
    }
}

/// Builds the table from parsed std files `(path relative to std/, file, module)`.
pub fn build(parsed: Vec<(String, FileId, ast::Module)>) -> (ModuleTable, Vec<Diagnostic>) {
    let mut errors: Vec<TypeError> = Vec::new();
    let mut table = ModuleTable::default();
    // Modules, sorted by name.
    let mut by_name: BTreeMap<String, (bool, Vec<(FileId, ast::Module)>)> = BTreeMap::new();
    for (rel, file, module) in parsed {
        let (name, prelude) = module_name(&rel);
        by_name
            .entry(name)
            .or_insert((prelude, Vec::new()))
            .1
            .push((file, module));
    }
    let modules: Vec<(String, bool, ModuleFiles)> =
        by_name.into_iter().map(|(n, (p, fs))| (n, p, fs)).collect();
    for (name, prelude, files) in &modules {
        table.modules.push(StdModule {
            name: name.clone(),
            prelude: *prelude,
            files: files.iter().map(|f| f.0).collect(),
            items: BTreeMap::new(),
        });
    }
    // Types of every module share one namespace.
    let type_defs = modules.iter().flat_map(|(_, _, fs)| {
        fs.iter().flat_map(|(_, m)| {
            m.items.iter().filter_map(|i| match i {
                Item::Type(t) => Some(t),
                _ => None,
            })
        })
    });
    let mut types = BTreeMap::new();
    let mut ctors = BTreeMap::new();
    collect_types(
        type_defs,
        &mut types,
        &mut ctors,
        &|n| n.to_string(),
        &|t| t.clone(),
        &mut errors,
    );
    table.types = types;
    table.ctors = ctors;
    // Functions and externs.
    for (mi, (mname, prelude, files)) in modules.iter().enumerate() {
        for (_, m) in files {
            for item in &m.items {
                let (ident, kind, public) = match item {
                    Item::Extern(ex) => {
                        let mut env = StdTypes {
                            types: &table.types,
                            vars: Vec::new(),
                            declared_only: false,
                        };
                        let params: Vec<Ty> = ex
                            .params
                            .iter()
                            .map(|p| match &p.ty {
                                Some(t) => annot::resolve(t, &mut env, &mut errors),
                                // The parser reported it (UntypedExternParam).
                                None => Ty::Unit,
                            })
                            .collect();
                        let ret = match &ex.ret {
                            Some(t) => annot::resolve(t, &mut env, &mut errors),
                            None => Ty::Unit,
                        };
                        let module = (!*prelude).then_some(mname.as_str());
                        let symbol = lang::runtime_symbol(module, &ex.name.name);
                        let name = match module {
                            Some(m) => format!("{m}.{}", ex.name.name),
                            None => ex.name.name.clone(),
                        };
                        table.externs.push(ExternSig {
                            name,
                            symbol,
                            param_names: ex.params.iter().map(|p| p.name.name.clone()).collect(),
                            params,
                            ret,
                            type_params: env.vars.len() as u32,
                            module: mi,
                            span: ex.name.span,
                        });
                        (
                            &ex.name,
                            StdItemKind::Extern(table.externs.len() - 1),
                            ex.public,
                        )
                    }
                    Item::Fn(f) => {
                        table.fns.push(StdFn {
                            name: format!("{mname}.{}", f.name.name),
                            module: mi,
                            def: f.clone(),
                        });
                        (&f.name, StdItemKind::Fn(table.fns.len() - 1), f.public)
                    }
                    _ => continue,
                };
                match table.modules[mi].items.get(&ident.name) {
                    Some(first) => {
                        let first = match first.kind {
                            StdItemKind::Extern(i) => table.externs[i].span,
                            StdItemKind::Fn(i) => table.fns[i].def.name.span,
                        };
                        errors.push(
                            DuplicateFunction {
                                span: ident.span,
                                name: ident.name.clone(),
                                first: Some(first),
                                module: Some(mname.clone()),
                            }
                            .into(),
                        );
                    }
                    None => {
                        table.modules[mi]
                            .items
                            .insert(ident.name.clone(), StdItem { kind, public });
                    }
                }
            }
        }
    }
    let diags = errors.iter().map(TypeError::to_diagnostic).collect();
    (table, diags)
}

/// A compact listing of the table (for tests and tools): one line per type and function.
pub fn describe(table: &ModuleTable) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for t in table.types.values() {
        let params = if t.params.is_empty() {
            String::new()
        } else {
            format!("<{}>", t.params.join(", "))
        };
        if t.opaque {
            let _ = writeln!(s, "type {}{params}", t.name);
        } else {
            let vs: Vec<String> = t
                .variants
                .iter()
                .map(|v| {
                    if v.fields.is_empty() {
                        v.name.clone()
                    } else {
                        let names: Vec<String> = t.params.clone();
                        let fs: Vec<String> =
                            v.fields.iter().map(|f| show_with(f, &names)).collect();
                        format!("{}({})", v.name, fs.join(", "))
                    }
                })
                .collect();
            let _ = writeln!(s, "type {}{params} = {}", t.name, vs.join(" | "));
        }
    }
    for e in &table.externs {
        let names: Vec<String> = (0..e.type_params as usize).map(var_name).collect();
        let ps: Vec<String> = e.params.iter().map(|p| show_with(p, &names)).collect();
        let _ = writeln!(
            s,
            "extern {} ({}): ({}) -> {}",
            e.name,
            e.symbol,
            ps.join(", "),
            show_with(&e.ret, &names)
        );
    }
    for f in &table.fns {
        let _ = writeln!(s, "fn {}/{}", f.name, f.def.params.len());
    }
    s
}

fn show_with(t: &Ty, names: &[String]) -> String {
    let args: Vec<Ty> = names.iter().map(|n| Ty::Con(n.clone(), vec![])).collect();
    crate::ty::show(&crate::ty::subst_params(t, &args))
}
