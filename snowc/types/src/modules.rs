//! The program's modules: what each declares (types, structs, constructors,
//! functions), what it imports (modules by name, `from M import` names),
//! and the fields of its types and structs, resolved in its own scope.
//!
//! Internal names keep the program's modules apart: a type `Room` of
//! `chat/rooms.snow` is `Chat.Rooms.Room`, a function `join` of it
//! `Chat.Rooms.join`; the entry file's items keep their own names (a type
//! named like a std type is `user.Name`, as it shadows std's).

use crate::annot::{self, AnnotEnv, TypeLookup};
use crate::check::{lookup_type_in, Checker, FnEntry, Home, ModRef, Target, UserMod};
use crate::diagnostics::{
    BuiltinTypeName, DuplicateConstructor, DuplicateFunction, DuplicateType, ExternInProgram,
    MainWithParameters, MissingMain, PrivateItem, RepeatedField, TypeError, UnknownImport,
    UnknownTypeVariable,
};
use crate::std_lib::{CtorRef, ModuleTable, TypeInfo, VariantInfo};
use crate::tast::Ty;
use crate::ty::suggest;
use rustc_hash::FxHashMap;
use snowc_syntax::ast::{Ident, Item};
use snowc_syntax::graph::Program;
use snowc_syntax::Span;
use std::collections::{BTreeMap, HashMap};

/// Type annotations in a type or struct declaration of a module: the
/// declared parameters are its only type variables.
struct DeclTypes<'x> {
    types: &'x BTreeMap<String, TypeInfo>,
    mods: &'x [UserMod<'x>],
    table: &'x ModuleTable,
    home: Home,
    vars: Vec<String>,
}

impl AnnotEnv for DeclTypes<'_> {
    fn lookup_type(&self, module: Option<&str>, name: &str) -> TypeLookup {
        lookup_type_in(self.types, self.mods, self.table, self.home, module, name)
    }
    fn type_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.table.types.keys().cloned().collect();
        if let Home::User(m) = self.home {
            v.extend(self.mods[m as usize].types.keys().cloned());
        }
        v
    }
    fn type_var(&mut self, name: &Ident, errors: &mut Vec<TypeError>) -> Ty {
        if let Some(i) = self.vars.iter().position(|v| *v == name.name) {
            return Ty::Var(i as u32);
        }
        // Reported, then taken as a parameter (as the help says), so that
        // uses give no follow-on errors.
        errors.push(
            UnknownTypeVariable {
                span: name.span,
                name: name.name.clone(),
            }
            .into(),
        );
        self.vars.push(name.name.clone());
        Ty::Var(self.vars.len() as u32 - 1)
    }
    fn error_ty(&mut self) -> Ty {
        Ty::Unit
    }
}

impl<'a> Checker<'a> {
    /// The internal name of type `name` of module `m`.
    fn internal_type_name(&self, m: usize, name: &str) -> String {
        if m == 0 {
            if self.table.types.contains_key(name) || annot::builtin_type(name).is_some() {
                format!("user.{name}")
            } else {
                name.to_string()
            }
        } else {
            format!("{}.{name}", self.mods[m].name)
        }
    }

    /// Every phase of the program's modules.
    pub(crate) fn collect_user_modules(
        &mut self,
        program: &'a Program,
        synth: &'a crate::services::Synth,
    ) {
        for (i, m) in program.modules.iter().enumerate() {
            self.mods.push(UserMod::new(
                if i == 0 {
                    String::new()
                } else {
                    m.name.clone()
                },
                m.file,
                &m.ast,
            ));
        }
        for m in 0..self.mods.len() {
            self.declare_types(m);
        }
        let n_items: usize = self.mods.iter().map(|m| m.ast.items.len()).sum();
        self.fns.reserve(n_items + self.table.fns.len());
        for m in 0..self.mods.len() {
            self.declare_fns(m);
        }
        for m in 0..self.mods.len() {
            self.declare_service_fns(m, synth);
        }
        // The program's modules by name (`Program::module` is a linear
        // search, once per import: quadratic in a program of many modules).
        let index: HashMap<&str, usize> = program
            .modules
            .iter()
            .enumerate()
            .rev()
            .map(|(i, m)| (m.name.as_str(), i))
            .collect();
        for m in 0..self.mods.len() {
            self.resolve_imports(m, &index);
        }
        for m in 0..self.mods.len() {
            self.define_types(m);
        }
    }

    /// The names of a module's types and structs, and its constructors.
    fn declare_types(&mut self, m: usize) {
        let ast = self.mods[m].ast;
        for item in &ast.items {
            const NO_PARAMS: &Vec<Ident> = &Vec::new();
            let (name, params, public, opaque, is_struct) = match item {
                Item::Type(t) => (&t.name, &t.params, t.public, t.opaque, false),
                Item::Struct(s) => (&s.name, &s.params, s.public, false, true),
                Item::Service(s) => (&s.name, NO_PARAMS, s.public, true, false),
                _ => continue,
            };
            if annot::builtin_type(&name.name).is_some() {
                self.errors.push(
                    BuiltinTypeName {
                        span: name.span,
                        name: name.name.clone(),
                    }
                    .into(),
                );
            }
            if let Some(prev) = self.mods[m].types.get(&name.name) {
                let first = self.types.get(prev).map_or(name.span, |t| t.span);
                self.errors.push(
                    DuplicateType {
                        span: name.span,
                        name: name.name.clone(),
                        first,
                    }
                    .into(),
                );
                continue;
            }
            let internal = self.internal_type_name(m, &name.name);
            self.types.insert(
                internal.clone(),
                TypeInfo {
                    name: internal.clone(),
                    params: params.iter().map(|p| p.name.clone()).collect(),
                    variants: Vec::new(),
                    opaque,
                    span: name.span,
                    fields: is_struct.then(Vec::new),
                    field_spans: Vec::new(),
                    service: matches!(item, Item::Service(_)),
                    public,
                },
            );
            self.mods[m]
                .types
                .insert(name.name.clone(), internal.clone());
            if let Item::Type(t) = item {
                for (tag, v) in t.variants.iter().enumerate() {
                    if let Some(prev) = self.mods[m].ctors.get(&v.name.name) {
                        let first = self.types.get(&prev.type_name).and_then(|t| {
                            t.variants
                                .iter()
                                .find(|x| x.name == v.name.name)
                                .map(|x| x.span)
                        });
                        let first = first.or_else(|| {
                            // Declared by a type whose variants are not defined yet:
                            // find it in the syntax.
                            ast.items.iter().find_map(|it| match it {
                                Item::Type(t) => t
                                    .variants
                                    .iter()
                                    .find(|x| x.name.name == v.name.name)
                                    .map(|x| x.name.span),
                                _ => None,
                            })
                        });
                        self.errors.push(
                            DuplicateConstructor {
                                span: v.name.span,
                                name: v.name.name.clone(),
                                first,
                            }
                            .into(),
                        );
                        continue;
                    }
                    self.mods[m].ctors.insert(
                        v.name.name.clone(),
                        CtorRef {
                            type_name: internal.clone(),
                            tag: tag as u32,
                        },
                    );
                }
            }
        }
    }

    /// A module's functions (and the items a program may not have).
    fn declare_fns(&mut self, m: usize) {
        let ast = self.mods[m].ast;
        let mut main_seen = false;
        for item in &ast.items {
            match item {
                Item::Fn(f) => {
                    if let Some(&prev) = self.mods[m].fns.get(&f.name.name) {
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
                    if m == 0 && f.name.name == "main" {
                        main_seen = true;
                        if !f.params.is_empty() {
                            self.errors
                                .push(MainWithParameters { span: f.name.span }.into());
                        }
                    }
                    let name = if m == 0 {
                        f.name.name.clone()
                    } else {
                        format!("{}.{}", self.mods[m].name, f.name.name)
                    };
                    self.mods[m].fns.insert(f.name.name.clone(), self.fns.len());
                    self.fns.push(FnEntry::new(name, f, Home::User(m as u32)));
                    self.roles.push(crate::check::Role::Plain);
                }
                Item::Extern(e) => self.errors.push(ExternInProgram { span: e.span }.into()),
                _ => {}
            }
        }
        if m == 0 && !main_seen {
            self.errors.push(
                MissingMain {
                    span: Span::new(self.mods[0].file, 0, 0),
                }
                .into(),
            );
        }
    }

    /// A module's imports: the modules it names and its `from` names.
    fn resolve_imports(&mut self, m: usize, modules: &HashMap<&str, usize>) {
        let ast = self.mods[m].ast;
        for item in &ast.items {
            match item {
                Item::Import { path, alias, .. } => {
                    let dotted = path.dotted();
                    let target = match modules.get(dotted.as_str()).copied() {
                        Some(t) if t != 0 => Some(ModRef::User(t)),
                        _ if path.segments.len() == 1 => {
                            self.table.module(&dotted).map(ModRef::Std)
                        }
                        _ => None,
                    };
                    // A module whose file is missing was reported by the graph.
                    if let Some(t) = target {
                        let name = alias.as_ref().unwrap_or(path.last()).name.clone();
                        self.mods[m].aliases.insert(name, t);
                    }
                }
                Item::FromImport { path, names, .. } => {
                    let dotted = path.dotted();
                    match modules.get(dotted.as_str()).copied() {
                        Some(t) if t != 0 => {
                            for n in names {
                                self.import_user_name(m, t, n);
                            }
                        }
                        _ => {
                            if let (1, Some(s)) = (path.segments.len(), self.table.module(&dotted))
                            {
                                for n in names {
                                    self.import_std_name(m, s, path.last(), n);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// `from Std import n`: a public function (std types and constructors
    /// are in scope everywhere already).
    fn import_std_name(&mut self, m: usize, s: usize, module: &Ident, n: &Ident) {
        if n.name.starts_with(|c: char| c.is_ascii_uppercase()) {
            if self.table.types.contains_key(&n.name) || self.table.ctors.contains_key(&n.name) {
                return;
            }
            let cands: Vec<&str> = self.table.types.keys().map(|k| k.as_str()).collect();
            self.errors.push(
                UnknownImport {
                    span: n.span,
                    module: module.name.clone(),
                    name: n.name.clone(),
                    suggestion: suggest(&n.name, cands),
                }
                .into(),
            );
            return;
        }
        match self.lookup_qualified(Home::User(m as u32), module, n) {
            Ok(t) => {
                self.mods[m].imported_fns.insert(n.name.clone(), t);
            }
            Err(d) => self.errors.push(*d),
        }
        let _ = s;
    }

    /// `from M import n` of the program's module `t`.
    fn import_user_name(&mut self, m: usize, t: usize, n: &Ident) {
        let module = self.mods[t].name.clone();
        let private = |what| -> TypeError {
            PrivateItem {
                span: n.span,
                module: module.clone(),
                name: n.name.clone(),
                what,
            }
            .into()
        };
        if let Some(&i) = self.mods[t].fns.get(&n.name) {
            if self.fns[i].def.public {
                self.mods[m]
                    .imported_fns
                    .insert(n.name.clone(), Target::Fn(i));
            } else {
                self.errors.push(private("function"));
            }
            return;
        }
        if let Some(internal) = self.mods[t].types.get(&n.name).cloned() {
            let public = self.types.get(&internal).is_some_and(|i| i.public);
            if !public {
                self.errors.push(private("type"));
                return;
            }
            self.mods[m]
                .imported_types
                .insert(n.name.clone(), internal.clone());
            // A type's constructors come with it.
            let ctors: Vec<(String, CtorRef)> = self.mods[t]
                .ctors
                .iter()
                .filter(|(_, c)| c.type_name == internal)
                .map(|(k, c)| (k.clone(), c.clone()))
                .collect();
            self.mods[m].imported_ctors.extend(ctors);
            return;
        }
        if let Some(c) = self.mods[t].ctors.get(&n.name).cloned() {
            let public = self.types.get(&c.type_name).is_some_and(|i| i.public);
            if !public {
                self.errors.push(private("constructor"));
                return;
            }
            self.mods[m].imported_ctors.insert(n.name.clone(), c);
            return;
        }
        let cands: Vec<String> = self.mods[t]
            .fns
            .keys()
            .chain(self.mods[t].types.keys())
            .chain(self.mods[t].ctors.keys())
            .cloned()
            .collect();
        self.errors.push(
            UnknownImport {
                span: n.span,
                module,
                name: n.name.clone(),
                suggestion: suggest(&n.name, cands.iter().map(|s| s.as_str())),
            }
            .into(),
        );
    }

    /// The fields of a module's types' constructors and of its structs.
    fn define_types(&mut self, m: usize) {
        let ast = self.mods[m].ast;
        #[allow(clippy::type_complexity)]
        let mut defs: Vec<(
            String,
            Vec<VariantInfo>,
            Option<Vec<(String, Ty)>>,
            Vec<String>,
            Vec<Span>,
        )> = Vec::new();
        {
            let mut errors = Vec::new();
            for item in &ast.items {
                let (name, params) = match item {
                    Item::Type(t) => (&t.name, &t.params),
                    Item::Struct(s) => (&s.name, &s.params),
                    _ => continue,
                };
                let Some(internal) = self.mods[m].types.get(&name.name).cloned() else {
                    continue;
                };
                // A duplicate declaration (reported) keeps the first one's fields.
                if self.types.get(&internal).map(|t| t.span) != Some(name.span) {
                    continue;
                }
                let mut env = DeclTypes {
                    types: &self.types,
                    mods: &self.mods,
                    table: self.table,
                    home: Home::User(m as u32),
                    vars: params.iter().map(|p| p.name.clone()).collect(),
                };
                match item {
                    Item::Type(t) => {
                        let variants = t
                            .variants
                            .iter()
                            .map(|v| VariantInfo {
                                name: v.name.name.clone(),
                                fields: v
                                    .fields
                                    .iter()
                                    .map(|f| annot::resolve(f, &mut env, &mut errors))
                                    .collect(),
                                span: v.name.span,
                            })
                            .collect();
                        defs.push((internal, variants, None, env.vars, Vec::new()));
                    }
                    Item::Struct(s) => {
                        let mut fields: Vec<(String, Ty)> = Vec::new();
                        let mut field_spans: Vec<Span> = Vec::new();
                        let mut spans: FxHashMap<&str, Span> = FxHashMap::default();
                        for f in &s.fields {
                            let ty = annot::resolve(&f.ty, &mut env, &mut errors);
                            if let Some(&first) = spans.get(f.name.name.as_str()) {
                                errors.push(
                                    RepeatedField {
                                        span: f.name.span,
                                        field: f.name.name.clone(),
                                        first,
                                    }
                                    .into(),
                                );
                                continue;
                            }
                            spans.insert(&f.name.name, f.name.span);
                            fields.push((f.name.name.clone(), ty));
                            field_spans.push(f.name.span);
                        }
                        defs.push((internal, Vec::new(), Some(fields), env.vars, field_spans));
                    }
                    _ => {}
                }
            }
            self.errors.extend(errors);
        }
        for (internal, variants, fields, params, field_spans) in defs {
            if let Some(t) = self.types.get_mut(&internal) {
                t.variants = variants;
                if fields.is_some() {
                    t.fields = fields;
                }
                t.params = params;
                t.field_spans = field_spans;
            }
        }
    }
}
