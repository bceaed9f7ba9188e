//! Type annotations (`List<Int>`, `Fun(a) -> b`, `Conn`) to [`Ty`].

use crate::tast::Ty;
use crate::ty::{plural, suggest};
use snowc_syntax::ast::{TypeExpr, TypeExprKind};
use snowc_syntax::{ast::Ident, Diagnostic};

pub(crate) trait AnnotEnv {
    /// A named type: its internal name and number of type parameters.
    fn lookup_type(&self, name: &str) -> Option<(String, usize)>;
    /// Every type name in scope, for "did you mean".
    fn type_names(&self) -> Vec<String>;
    /// A lower-case type variable in an annotation.
    fn type_var(&mut self, name: &Ident, diags: &mut Vec<Diagnostic>) -> Ty;
    /// The type of an erroneous annotation (unifies with anything if possible).
    fn error_ty(&mut self) -> Ty;
}

pub(crate) fn builtin_type(name: &str) -> Option<(Ty, usize)> {
    Some(match name {
        "Int" => (Ty::Int, 0),
        "Float" => (Ty::Float, 0),
        "Bool" => (Ty::Bool, 0),
        "String" => (Ty::String, 0),
        "List" => (Ty::Con("List".into(), vec![]), 1),
        "Map" => (Ty::Con("Map".into(), vec![]), 2),
        _ => return None,
    })
}

pub(crate) fn resolve(te: &TypeExpr, env: &mut dyn AnnotEnv, diags: &mut Vec<Diagnostic>) -> Ty {
    match &te.kind {
        TypeExprKind::Unit => Ty::Unit,
        TypeExprKind::Fun { params, ret } => {
            let ps = params.iter().map(|p| resolve(p, env, diags)).collect();
            Ty::Fun(ps, Box::new(resolve(ret, env, diags)))
        }
        TypeExprKind::Named { name, args } => {
            if name
                .name
                .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            {
                if !args.is_empty() {
                    diags.push(
                        Diagnostic::error(
                            te.span,
                            format!("type variable {} cannot take type arguments", name.name),
                        )
                        .with_label("remove the <...>"),
                    );
                }
                return env.type_var(name, diags);
            }
            let found = match builtin_type(&name.name) {
                Some((Ty::Con(n, _), arity)) => Some((Some(n), None, arity)),
                Some((t, arity)) => Some((None, Some(t), arity)),
                None => env.lookup_type(&name.name).map(|(n, a)| (Some(n), None, a)),
            };
            let Some((con_name, prim, arity)) = found else {
                let mut names: Vec<String> = env.type_names();
                names.extend(["Int", "Float", "Bool", "String", "List", "Map"].map(String::from));
                let mut d = Diagnostic::error(name.span, format!("unknown type {}", name.name))
                    .with_label("not a known type");
                if let Some(s) = suggest(&name.name, names.iter().map(|s| s.as_str())) {
                    d = d.with_help(format!("did you mean {s}?"));
                }
                diags.push(d);
                for a in args {
                    resolve(a, env, diags);
                }
                return env.error_ty();
            };
            if args.len() != arity {
                diags.push(
                    Diagnostic::error(
                        te.span,
                        format!(
                            "{} takes {} but {} given",
                            name.name,
                            plural(arity, "type argument"),
                            args.len()
                        ),
                    )
                    .with_label(format!("expected {}", plural(arity, "type argument"))),
                );
                return env.error_ty();
            }
            if let Some(t) = prim {
                return t;
            }
            let args = args.iter().map(|a| resolve(a, env, diags)).collect();
            Ty::Con(con_name.unwrap(), args)
        }
    }
}
