//! Exhaustiveness of `case` and redundancy of its arms (Maranget's
//! usefulness algorithm: for exhaustiveness producing a witness, the first
//! value no arm matches; for each arm, whether its pattern matches a value
//! the arms above it do not).

use crate::lang;
use crate::std_lib::TypeInfo;
use crate::tast::{TPattern, TPatternKind, Ty};
use crate::ty::subst_params;

#[derive(Clone, Debug, PartialEq)]
enum Key {
    Variant(u32),
    True,
    False,
    Unit,
    Nil,
    Cons,
    /// The one shape of a tuple or struct.
    Product,
    /// An Int, Float or String literal: never a complete set.
    Lit(String),
}

#[derive(Clone, Debug)]
enum Pat {
    Wild,
    Ctor(Key, Vec<Pat>),
}

/// A value no arm matches, printed as a pattern.
#[derive(Clone, Debug)]
enum Witness {
    Wild,
    Ctor {
        key: Key,
        name: String,
        args: Vec<Witness>,
    },
}

impl Witness {
    fn show(&self) -> String {
        match self {
            Witness::Wild => "_".into(),
            Witness::Ctor { key, name, args } => match key {
                Key::Cons => format!("[{} | {}]", args[0].show(), args[1].show()),
                Key::Product if name.is_empty() => {
                    let a: Vec<String> = args.iter().map(|w| w.show()).collect();
                    format!("({})", a.join(", "))
                }
                Key::Product => {
                    // `User { age: 0, .. }`: the fields that matter, by name.
                    let (sname, fields) = name.split_once('|').unwrap_or((name, ""));
                    let shown: Vec<String> = fields
                        .split(',')
                        .zip(args)
                        .filter(|(_, w)| !matches!(w, Witness::Wild))
                        .map(|(f, w)| format!("{f}: {}", w.show()))
                        .collect();
                    if shown.is_empty() {
                        format!("{sname} {{}}")
                    } else {
                        format!("{sname} {{ {} }}", shown.join(", "))
                    }
                }
                _ if args.is_empty() => name.clone(),
                _ => {
                    let a: Vec<String> = args.iter().map(|w| w.show()).collect();
                    format!("{name}({})", a.join(", "))
                }
            },
        }
    }
}

struct CtorInfo {
    key: Key,
    name: String,
    fields: Vec<Ty>,
}

fn lower(p: &TPattern) -> Pat {
    match &p.kind {
        TPatternKind::Wildcard | TPatternKind::Bind(_) => Pat::Wild,
        TPatternKind::Int(n) => Pat::Ctor(Key::Lit(n.to_string()), vec![]),
        TPatternKind::Float(f) => Pat::Ctor(Key::Lit(format!("{:?}", f.to_bits())), vec![]),
        TPatternKind::Str(s) => Pat::Ctor(Key::Lit(format!("{s:?}")), vec![]),
        TPatternKind::Bool(true) => Pat::Ctor(Key::True, vec![]),
        TPatternKind::Bool(false) => Pat::Ctor(Key::False, vec![]),
        TPatternKind::Unit => Pat::Ctor(Key::Unit, vec![]),
        TPatternKind::Ctor { tag, args, .. } => {
            Pat::Ctor(Key::Variant(*tag), args.iter().map(lower).collect())
        }
        TPatternKind::EmptyList => Pat::Ctor(Key::Nil, vec![]),
        TPatternKind::Tuple(args) | TPatternKind::Struct { fields: args, .. } => {
            Pat::Ctor(Key::Product, args.iter().map(lower).collect())
        }
        TPatternKind::Cons { head, tail } => Pat::Ctor(Key::Cons, vec![lower(head), lower(tail)]),
    }
}

struct Exhaust<'t> {
    types: &'t dyn Fn(&str) -> Option<&'t TypeInfo>,
    /// Steps left: usefulness is exponential in the worst case, and a crafted
    /// `case` must not hang the compiler.
    budget: std::cell::Cell<u32>,
}

/// Work allowed for one `case` (matrix specialisations).
const BUDGET: u32 = 200_000;

/// The answer of [`missing_case`].
pub(crate) enum Missing {
    Exhaustive,
    /// A case (printed as a pattern) that no arm matches.
    Case(String),
    /// The check gave up (see [`BUDGET`]).
    TooComplex,
}

impl Exhaust<'_> {
    /// All constructors of `ty`, or `None` when the set is infinite or unknown.
    fn ctors(&self, ty: &Ty) -> Option<Vec<CtorInfo>> {
        let c = |key, name: &str, fields| CtorInfo {
            key,
            name: name.to_string(),
            fields,
        };
        match ty {
            Ty::Bool => Some(vec![
                c(Key::True, "true", vec![]),
                c(Key::False, "false", vec![]),
            ]),
            Ty::Unit => Some(vec![c(Key::Unit, "nil", vec![])]),
            Ty::Con(n, args) if n == lang::LIST && args.len() == 1 => Some(vec![
                c(Key::Nil, "[]", vec![]),
                c(Key::Cons, "[_ | _]", vec![args[0].clone(), ty.clone()]),
            ]),
            Ty::Con(n, args) if n == lang::TUPLE => Some(vec![c(Key::Product, "", args.clone())]),
            Ty::Con(n, args) => {
                let info = (self.types)(n)?;
                if let Some(fields) = &info.fields {
                    // The witness names the struct and its fields: `Name|a,b`.
                    let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
                    let shown = crate::structs::display(&info.name);
                    return Some(vec![c(
                        Key::Product,
                        &format!("{shown}|{}", names.join(",")),
                        fields.iter().map(|(_, t)| subst_params(t, args)).collect(),
                    )]);
                }
                if info.opaque {
                    return None;
                }
                Some(
                    info.variants
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            c(
                                Key::Variant(i as u32),
                                &v.name,
                                v.fields.iter().map(|f| subst_params(f, args)).collect(),
                            )
                        })
                        .collect(),
                )
            }
            _ => None,
        }
    }

    fn missing(&self, rows: &[Vec<Pat>], tys: &[Ty]) -> Option<Vec<Witness>> {
        let left = self.budget.get();
        if left == 0 {
            return None;
        }
        self.budget.set(left - 1);
        if tys.is_empty() {
            return rows.is_empty().then(Vec::new);
        }
        let heads: Vec<&Key> = rows
            .iter()
            .filter_map(|r| match &r[0] {
                Pat::Ctor(k, _) => Some(k),
                Pat::Wild => None,
            })
            .collect();
        let ctors = self.ctors(&tys[0]);
        if let Some(cs) = &ctors {
            if !heads.is_empty() && cs.iter().all(|c| heads.contains(&&c.key)) {
                for c in cs {
                    let arity = c.fields.len();
                    let spec: Vec<Vec<Pat>> = rows
                        .iter()
                        .filter_map(|r| {
                            let mut head: Vec<Pat> = match &r[0] {
                                Pat::Wild => vec![Pat::Wild; arity],
                                Pat::Ctor(k, args) if *k == c.key => fit(args, arity),
                                Pat::Ctor(..) => return None,
                            };
                            head.extend_from_slice(&r[1..]);
                            Some(head)
                        })
                        .collect();
                    let mut tys2 = c.fields.clone();
                    tys2.extend_from_slice(&tys[1..]);
                    if let Some(mut w) = self.missing(&spec, &tys2) {
                        let rest = w.split_off(arity);
                        let mut out = vec![Witness::Ctor {
                            key: c.key.clone(),
                            name: c.name.clone(),
                            args: w,
                        }];
                        out.extend(rest);
                        return Some(out);
                    }
                }
                return None;
            }
        }
        let default: Vec<Vec<Pat>> = rows
            .iter()
            .filter(|r| matches!(r[0], Pat::Wild))
            .map(|r| r[1..].to_vec())
            .collect();
        let rest = self.missing(&default, &tys[1..])?;
        let head = match ctors {
            Some(cs) if !heads.is_empty() => cs
                .into_iter()
                .find(|c| !heads.contains(&&c.key))
                .map(|c| Witness::Ctor {
                    args: vec![Witness::Wild; c.fields.len()],
                    key: c.key,
                    name: c.name,
                })
                .unwrap_or(Witness::Wild),
            _ => Witness::Wild,
        };
        let mut out = vec![head];
        out.extend(rest);
        Some(out)
    }
}

impl Exhaust<'_> {
    /// Is there a value that `q` matches and no row of `rows` does? (`None`:
    /// the budget ran out.)
    fn useful(&self, rows: &[Vec<Pat>], q: &[Pat], tys: &[Ty]) -> Option<bool> {
        let left = self.budget.get();
        if left == 0 {
            return None;
        }
        self.budget.set(left - 1);
        let Some(head) = q.first() else {
            return Some(rows.is_empty());
        };
        // Rows specialised to constructor `key` of `arity` fields.
        let specialise = |key: &Key, arity: usize| -> Vec<Vec<Pat>> {
            rows.iter()
                .filter_map(|r| {
                    let mut row: Vec<Pat> = match &r[0] {
                        Pat::Wild => vec![Pat::Wild; arity],
                        Pat::Ctor(k, args) if k == key => fit(args, arity),
                        Pat::Ctor(..) => return None,
                    };
                    row.extend_from_slice(&r[1..]);
                    Some(row)
                })
                .collect()
        };
        let Some(ty0) = tys.first() else {
            // Only after a type error: the rows are not of the value's shape.
            return Some(false);
        };
        let ctors = self.ctors(ty0);
        let fields_of = |key: &Key, arity: usize| -> Vec<Ty> {
            ctors
                .as_ref()
                .and_then(|cs| cs.iter().find(|c| c.key == *key && c.fields.len() == arity))
                .map(|c| c.fields.clone())
                // A literal, or a type the table does not describe: fields
                // of unknown type (only their patterns matter).
                .unwrap_or_else(|| vec![Ty::Unit; arity])
        };
        match head {
            Pat::Ctor(key, args) => {
                let mut q2 = args.clone();
                q2.extend_from_slice(&q[1..]);
                let mut tys2 = fields_of(key, args.len());
                tys2.extend_from_slice(&tys[1..]);
                self.useful(&specialise(key, args.len()), &q2, &tys2)
            }
            Pat::Wild => {
                let heads: Vec<&Key> = rows
                    .iter()
                    .filter_map(|r| match &r[0] {
                        Pat::Ctor(k, _) => Some(k),
                        Pat::Wild => None,
                    })
                    .collect();
                match &ctors {
                    Some(cs) if !heads.is_empty() && cs.iter().all(|c| heads.contains(&&c.key)) => {
                        for c in cs {
                            let arity = c.fields.len();
                            let mut q2 = vec![Pat::Wild; arity];
                            q2.extend_from_slice(&q[1..]);
                            let mut tys2 = c.fields.clone();
                            tys2.extend_from_slice(&tys[1..]);
                            if self.useful(&specialise(&c.key, arity), &q2, &tys2)? {
                                return Some(true);
                            }
                        }
                        Some(false)
                    }
                    _ => {
                        let default: Vec<Vec<Pat>> = rows
                            .iter()
                            .filter(|r| matches!(r[0], Pat::Wild))
                            .map(|r| r[1..].to_vec())
                            .collect();
                        self.useful(&default, &q[1..], &tys[1..])
                    }
                }
            }
        }
    }
}

/// The arms (indices into `arms`: each arm's pattern and whether it has a
/// guard) that can never run: every value their pattern matches is matched
/// by an unguarded arm above. An arm the budget does not decide is kept.
pub(crate) fn unreachable_arms<'t>(
    arms: &[(&TPattern, bool)],
    scrutinee: &Ty,
    types: &'t dyn Fn(&str) -> Option<&'t TypeInfo>,
) -> Vec<usize> {
    let ex = Exhaust {
        types,
        budget: std::cell::Cell::new(BUDGET),
    };
    let tys = std::slice::from_ref(scrutinee);
    let mut rows: Vec<Vec<Pat>> = Vec::new();
    let mut out = Vec::new();
    for (i, (p, guarded)) in arms.iter().enumerate() {
        let q = vec![lower(p)];
        if ex.useful(&rows, &q, tys) == Some(false) {
            out.push(i);
        }
        if !guarded {
            rows.push(q);
        }
    }
    out
}

/// The first case (printed as a pattern) that none of `arms` matches, or
/// `None` when the arms are exhaustive. Arms with a guard must not be passed.
pub(crate) fn missing_case<'t>(
    arms: &[&TPattern],
    scrutinee: &Ty,
    types: &'t dyn Fn(&str) -> Option<&'t TypeInfo>,
) -> Missing {
    let rows: Vec<Vec<Pat>> = arms.iter().map(|p| vec![lower(p)]).collect();
    let ex = Exhaust {
        types,
        budget: std::cell::Cell::new(BUDGET),
    };
    let found = ex.missing(&rows, std::slice::from_ref(scrutinee));
    match found {
        Some(w) => Missing::Case(w[0].show()),
        None if ex.budget.get() == 0 => Missing::TooComplex,
        None => Missing::Exhaustive,
    }
}

/// A constructor pattern's arguments made `arity` long: after a type error
/// (reported) a pattern may not have its type's shape; the checks go on
/// without panicking.
fn fit(args: &[Pat], arity: usize) -> Vec<Pat> {
    let mut v: Vec<Pat> = args.iter().take(arity).cloned().collect();
    v.resize(arity, Pat::Wild);
    v
}
