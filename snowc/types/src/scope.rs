//! The locals of the function being inferred: numbering, lexical scopes
//! (undone with a mark/restore log), closure captures, and which locals are
//! used (for the unused-variable warnings).

use crate::diagnostics::{ShadowedLet, TypeWarning, UnusedVariable};
use crate::tast::{LocalId, Ty};
use rustc_hash::FxHashMap;
use snowc_syntax::Span;
use std::collections::BTreeSet;

/// The module a function (or any code) belongs to: one of the program's
/// (index into `Checker::mods`; 0 is the entry file) or a std module
/// (index into `ModuleTable::modules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Home {
    User(u32),
    Std(u32),
}

impl Home {
    pub fn is_user(self) -> bool {
        matches!(self, Home::User(_))
    }
    pub fn std(self) -> Option<usize> {
        match self {
            Home::Std(m) => Some(m as usize),
            Home::User(_) => None,
        }
    }
}

/// What binds a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binder {
    /// A function's or closure's parameter.
    Param,
    Let,
    /// A `case` pattern's variable.
    Pattern,
    /// A `for` loop's variable.
    For,
}

/// One local of the function.
pub(crate) struct Local {
    pub name: String,
    pub ty: Ty,
    /// Its name where it is bound.
    pub span: Span,
    pub binder: Binder,
    /// Referred to at least once.
    pub used: bool,
    /// The binding of the same name that hid it while it was still unused.
    pub shadowed_at: Option<Span>,
}

/// State of the function being inferred.
pub(crate) struct FnCtx {
    /// The module the function belongs to.
    pub module: Home,
    /// Indexed by `LocalId`.
    pub locals: Vec<Local>,
    scope: FxHashMap<String, Vec<u32>>,
    /// Locals bound, in order (their names are in `locals`), to undo scopes.
    log: Vec<u32>,
    /// Enclosing closures: (first local id of the closure, captured locals).
    lambdas: Vec<(u32, BTreeSet<LocalId>)>,
    /// Type variables named in the function's annotations.
    pub tvars: FxHashMap<String, Ty>,
    /// Externs the function refers to (indices into the module table).
    pub externs: BTreeSet<usize>,
    /// What binds the variables of the pattern being checked (a `case`
    /// arm's, a `let`'s or a `for`'s).
    pub binder: Binder,
}

impl FnCtx {
    pub fn new(module: Home) -> FnCtx {
        FnCtx {
            module,
            locals: Vec::new(),
            scope: FxHashMap::default(),
            log: Vec::new(),
            lambdas: Vec::new(),
            tvars: FxHashMap::default(),
            externs: BTreeSet::new(),
            binder: Binder::Pattern,
        }
    }

    /// Binds `name` (written at `span`) for the rest of the current scope.
    pub fn bind(&mut self, name: &str, ty: Ty, span: Span, binder: Binder) -> LocalId {
        let id = self.locals.len() as u32;
        self.locals.push(Local {
            name: name.to_string(),
            ty,
            span,
            binder,
            used: false,
            shadowed_at: None,
        });
        match self.scope.get_mut(name) {
            Some(ids) => {
                if let Some(&prev) = ids.last() {
                    let prev = &mut self.locals[prev as usize];
                    if !prev.used {
                        prev.shadowed_at.get_or_insert(span);
                    }
                }
                ids.push(id)
            }
            None => {
                self.scope.insert(name.to_string(), vec![id]);
            }
        }
        self.log.push(id);
        LocalId(id)
    }

    /// The current scope, to [`restore`](Self::restore) when it ends.
    pub fn mark(&self) -> usize {
        self.log.len()
    }

    /// Ends every scope opened since `mark`.
    pub fn restore(&mut self, mark: usize) {
        while self.log.len() > mark {
            let id = self.log.pop().unwrap();
            if let Some(v) = self.scope.get_mut(&self.locals[id as usize].name) {
                v.pop();
            }
        }
    }

    /// Is `name` a local in scope?
    pub fn is_local(&self, name: &str) -> bool {
        self.scope.get(name).is_some_and(|v| !v.is_empty())
    }

    /// The local `name` refers to, recorded as a capture of every enclosing
    /// closure it comes from outside of.
    pub fn lookup(&mut self, name: &str) -> Option<(LocalId, Ty)> {
        let id = *self.scope.get(name)?.last()?;
        for (start, caps) in self.lambdas.iter_mut() {
            if id < *start {
                caps.insert(LocalId(id));
            }
        }
        let local = &mut self.locals[id as usize];
        local.used = true;
        Some((LocalId(id), local.ty.clone()))
    }

    /// Starts a closure: locals bound from now on are its own.
    pub fn enter_lambda(&mut self) {
        self.lambdas
            .push((self.locals.len() as u32, BTreeSet::new()));
    }

    /// Ends the innermost closure; returns its captures, sorted.
    pub fn exit_lambda(&mut self) -> Vec<LocalId> {
        self.lambdas
            .pop()
            .map(|(_, caps)| caps.into_iter().collect())
            .unwrap_or_default()
    }

    /// Names of the locals in scope (for "did you mean").
    pub fn local_names(&self) -> Vec<String> {
        self.scope
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }
}

impl FnCtx {
    /// The warnings about locals never used: a `let` hidden by a later
    /// binding of its name is [`ShadowedLet`], any other local
    /// [`UnusedVariable`]. Names starting with `_` are unused on purpose.
    pub fn unused_locals(&self) -> Vec<TypeWarning> {
        self.locals
            .iter()
            .filter(|l| !l.used && !l.name.starts_with('_'))
            .map(|l| match (l.binder, l.shadowed_at) {
                (Binder::Let, Some(at)) => ShadowedLet {
                    span: l.span,
                    name: l.name.clone(),
                    shadowed_at: at,
                }
                .into(),
                _ => UnusedVariable {
                    span: l.span,
                    name: l.name.clone(),
                }
                .into(),
            })
            .collect()
    }
}
