//! Type helpers shared by the module table and the checker: printing types as
//! Snow source and the unifier (a substitution over `Ty::Var` ids).
//!
//! During inference `Ty::Var(n)` is inference variable `n` of the [`Subst`].
//! Rigid type variables (the `a` of a fully annotated `fn id(x :: a) -> a`,
//! checked against its annotation) are `Ty::Con("a", [])`: a lower-case
//! constructor name, which no real type has.

use crate::tast::Ty;
use rustc_hash::FxHashMap;

pub fn is_rigid(name: &str) -> bool {
    // `user.Option` (a user type shadowing a std one) is not a variable.
    name.starts_with(|c: char| c.is_ascii_lowercase()) && !name.contains('.')
}

pub fn con(name: &str, args: Vec<Ty>) -> Ty {
    Ty::Con(name.to_string(), args)
}

pub fn list(t: Ty) -> Ty {
    Ty::Con(crate::lang::LIST.to_string(), vec![t])
}

/// Prints types as Snow source; type variables become `a`, `b`, ... in order
/// of first appearance, consistently across every type printed with one printer.
#[derive(Default)]
pub struct TyPrinter {
    names: FxHashMap<u32, String>,
}

pub fn var_name(i: usize) -> String {
    if i < 26 {
        ((b'a' + i as u8) as char).to_string()
    } else {
        format!("t{i}")
    }
}

impl TyPrinter {
    pub fn print(&mut self, t: &Ty) -> String {
        let mut s = String::new();
        self.write(t, &mut s);
        s
    }
    fn write(&mut self, t: &Ty, s: &mut String) {
        match t {
            Ty::Int => s.push_str("Int"),
            Ty::Float => s.push_str("Float"),
            Ty::Bool => s.push_str("Bool"),
            Ty::String => s.push_str("String"),
            Ty::Unit => s.push_str("()"),
            Ty::Var(v) => {
                let n = self.names.len();
                let name = self.names.entry(*v).or_insert_with(|| var_name(n));
                s.push_str(name);
            }
            Ty::Con(name, args) if name == crate::lang::TUPLE => {
                s.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    self.write(a, s);
                }
                s.push(')');
            }
            Ty::Con(name, args) => {
                // A user type that shadows a std type of the same name is `user.Name` internally.
                s.push_str(name.strip_prefix("user.").unwrap_or(name));
                if !args.is_empty() {
                    s.push('<');
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            s.push_str(", ");
                        }
                        self.write(a, s);
                    }
                    s.push('>');
                }
            }
            Ty::Fun(params, ret) => {
                s.push_str("Fun(");
                for (i, a) in params.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    self.write(a, s);
                }
                s.push_str(") -> ");
                self.write(ret, s);
            }
        }
    }
}

/// Prints one type on its own (variables named from `a`).
pub fn show(t: &Ty) -> String {
    TyPrinter::default().print(t)
}

/// Why two types do not unify.
#[derive(Debug, Clone, PartialEq)]
pub enum UnifyError {
    Mismatch,
    /// Two function types with different numbers of parameters.
    FunArity(usize, usize),
    /// `a ~ List<a>`
    Occurs,
}

/// The substitution: `binding[v]` is what inference variable `v` stands for.
#[derive(Default)]
pub struct Subst {
    binding: Vec<Option<Ty>>,
    /// Variables bound since the last [`Subst::checkpoint`].
    trail: Vec<u32>,
}

/// A state of a [`Subst`] to [`Subst::rollback`] to.
#[derive(Clone, Copy)]
pub struct Checkpoint {
    vars: usize,
}

impl Subst {
    /// Marks the current state, to try unifications and undo them (only
    /// the latest checkpoint can be rolled back to).
    pub fn checkpoint(&mut self) -> Checkpoint {
        self.trail.clear();
        Checkpoint {
            vars: self.binding.len(),
        }
    }

    /// Undoes every binding made since `cp`.
    pub fn rollback(&mut self, cp: Checkpoint) {
        for v in self.trail.drain(..) {
            if let Some(b) = self.binding.get_mut(v as usize) {
                *b = None;
            }
        }
        self.binding.truncate(cp.vars);
    }

    pub fn fresh(&mut self) -> Ty {
        self.binding.push(None);
        Ty::Var(self.binding.len() as u32 - 1)
    }

    /// Follows variable bindings at the top of `t` only.
    pub fn shallow(&self, t: &Ty) -> Ty {
        let mut t = t;
        while let Ty::Var(v) = t {
            match &self.binding[*v as usize] {
                Some(b) => t = b,
                None => break,
            }
        }
        t.clone()
    }

    /// `t` with every bound variable replaced, recursively.
    pub fn resolve(&self, t: &Ty) -> Ty {
        match t {
            Ty::Var(v) => match &self.binding[*v as usize] {
                Some(b) => self.resolve(b),
                None => t.clone(),
            },
            Ty::Con(n, args) if !args.is_empty() => {
                Ty::Con(n.clone(), args.iter().map(|a| self.resolve(a)).collect())
            }
            Ty::Fun(ps, r) => Ty::Fun(
                ps.iter().map(|a| self.resolve(a)).collect(),
                Box::new(self.resolve(r)),
            ),
            _ => t.clone(),
        }
    }

    fn occurs(&self, v: u32, t: &Ty) -> bool {
        match t {
            Ty::Var(w) => match &self.binding[*w as usize] {
                Some(b) => self.occurs(v, b),
                None => *w == v,
            },
            Ty::Con(_, args) => args.iter().any(|a| self.occurs(v, a)),
            Ty::Fun(ps, r) => ps.iter().any(|a| self.occurs(v, a)) || self.occurs(v, r),
            _ => false,
        }
    }

    pub fn unify(&mut self, a: &Ty, b: &Ty) -> Result<(), UnifyError> {
        // Follow bound variables (like `shallow`), cloning only what the
        // substitution owns.
        if let Ty::Var(x) = a {
            if let Some(t) = &self.binding[*x as usize] {
                let t = t.clone();
                return self.unify(&t, b);
            }
        }
        if let Ty::Var(y) = b {
            if let Some(t) = &self.binding[*y as usize] {
                let t = t.clone();
                return self.unify(a, &t);
            }
        }
        match (a, b) {
            (Ty::Var(x), Ty::Var(y)) if x == y => Ok(()),
            (Ty::Var(x), _) => self.bind(*x, b),
            (_, Ty::Var(y)) => self.bind(*y, a),
            (Ty::Int, Ty::Int)
            | (Ty::Float, Ty::Float)
            | (Ty::Bool, Ty::Bool)
            | (Ty::String, Ty::String)
            | (Ty::Unit, Ty::Unit) => Ok(()),
            (Ty::Con(n1, a1), Ty::Con(n2, a2)) if n1 == n2 && a1.len() == a2.len() => {
                let mut res = Ok(());
                for (x, y) in a1.iter().zip(a2) {
                    if let Err(e) = self.unify(x, y) {
                        if res.is_ok() {
                            res = Err(e);
                        }
                    }
                }
                res
            }
            (Ty::Fun(p1, r1), Ty::Fun(p2, r2)) => {
                if p1.len() != p2.len() {
                    return Err(UnifyError::FunArity(p1.len(), p2.len()));
                }
                let mut res = Ok(());
                for (x, y) in p1.iter().zip(p2).chain(std::iter::once((&**r1, &**r2))) {
                    if let Err(e) = self.unify(x, y) {
                        if res.is_ok() {
                            res = Err(e);
                        }
                    }
                }
                res
            }
            _ => Err(UnifyError::Mismatch),
        }
    }

    fn bind(&mut self, v: u32, t: &Ty) -> Result<(), UnifyError> {
        if self.occurs(v, t) {
            return Err(UnifyError::Occurs);
        }
        self.binding[v as usize] = Some(t.clone());
        self.trail.push(v);
        Ok(())
    }

    /// Free (unbound) variables of `t` in order of first appearance.
    pub fn free_vars(&self, t: &Ty, out: &mut Vec<u32>) {
        match t {
            Ty::Var(v) => match &self.binding[*v as usize] {
                Some(b) => self.free_vars(b, out),
                None => {
                    if !out.contains(v) {
                        out.push(*v)
                    }
                }
            },
            Ty::Con(_, args) => args.iter().for_each(|a| self.free_vars(a, out)),
            Ty::Fun(ps, r) => {
                ps.iter().for_each(|a| self.free_vars(a, out));
                self.free_vars(r, out)
            }
            _ => {}
        }
    }
}

/// Replaces `Ty::Var(i)` by `args[i]` (instantiating a signature or a variant's fields).
pub fn subst_params(t: &Ty, args: &[Ty]) -> Ty {
    match t {
        Ty::Var(i) => args.get(*i as usize).cloned().unwrap_or_else(|| t.clone()),
        Ty::Con(n, a) if !a.is_empty() => {
            Ty::Con(n.clone(), a.iter().map(|x| subst_params(x, args)).collect())
        }
        Ty::Fun(ps, r) => Ty::Fun(
            ps.iter().map(|x| subst_params(x, args)).collect(),
            Box::new(subst_params(r, args)),
        ),
        _ => t.clone(),
    }
}

/// Variables of `t` (no substitution) in order of first appearance.
pub fn vars_in(t: &Ty, out: &mut Vec<u32>) {
    match t {
        Ty::Var(v) if !out.contains(v) => out.push(*v),
        Ty::Var(_) => {}
        Ty::Con(_, args) => args.iter().for_each(|a| vars_in(a, out)),
        Ty::Fun(ps, r) => {
            ps.iter().for_each(|a| vars_in(a, out));
            vars_in(r, out)
        }
        _ => {}
    }
}

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { 0 } else { 1 };
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate within a distance that scales with the name's length.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let max = match name.chars().count() {
        0..=2 => 1,
        3..=5 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = edit_distance(name, c);
        if d <= max && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}
