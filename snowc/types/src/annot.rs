//! Type annotations (`List<Int>`, `Fun(a) -> b`, `Conn`) to [`Ty`].

use crate::diagnostics::{
    PrivateItem, TypeArgumentCount, TypeError, TypeVariableWithArguments, UnknownModule,
    UnknownType,
};
use crate::lang;
use crate::tast::Ty;
use crate::ty::suggest;
use snowc_syntax::ast::Ident;
use snowc_syntax::ast::{TypeExpr, TypeExprKind};

/// The answer of [`AnnotEnv::lookup_type`].
pub(crate) enum TypeLookup {
    /// Its internal name and number of type parameters.
    Found(String, usize),
    /// A type of another user module that is not `pub` (that module's name).
    Private(String),
    /// `M.T` where no module `M` is in scope (the module's full path when
    /// the program has it but this file does not import it).
    NoModule(Option<String>),
    NotFound,
}

pub(crate) trait AnnotEnv {
    /// A named type (`module`: the `Rooms` of `Rooms.Room`).
    fn lookup_type(&self, module: Option<&str>, name: &str) -> TypeLookup;
    /// Every type name in scope, for "did you mean".
    fn type_names(&self) -> Vec<String>;
    /// A lower-case type variable in an annotation.
    fn type_var(&mut self, name: &Ident, errors: &mut Vec<TypeError>) -> Ty;
    /// The type of an erroneous annotation (unifies with anything if possible).
    fn error_ty(&mut self) -> Ty;
}

/// A built-in type ([`lang::BUILTIN_TYPES`]) and its number of type
/// parameters; `List` and `Map` come without their arguments.
pub(crate) fn builtin_type(name: &str) -> Option<(Ty, usize)> {
    Some(match name {
        lang::INT => (Ty::Int, 0),
        lang::FLOAT => (Ty::Float, 0),
        lang::BOOL => (Ty::Bool, 0),
        lang::STRING => (Ty::String, 0),
        lang::LIST => (Ty::Con(lang::LIST.into(), vec![]), 1),
        lang::MAP => (Ty::Con(lang::MAP.into(), vec![]), 2),
        _ => return None,
    })
}

pub(crate) fn resolve(te: &TypeExpr, env: &mut dyn AnnotEnv, errors: &mut Vec<TypeError>) -> Ty {
    match &te.kind {
        TypeExprKind::Unit => Ty::Unit,
        TypeExprKind::Fun { params, ret } => {
            let ps = params.iter().map(|p| resolve(p, env, errors)).collect();
            Ty::Fun(ps, Box::new(resolve(ret, env, errors)))
        }
        TypeExprKind::Tuple(elems) => {
            let ts = elems.iter().map(|p| resolve(p, env, errors)).collect();
            lang::tuple(ts)
        }
        TypeExprKind::Named { module, name, args } => {
            if module.is_none()
                && name
                    .name
                    .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            {
                if !args.is_empty() {
                    errors.push(
                        TypeVariableWithArguments {
                            span: te.span,
                            name: name.name.clone(),
                        }
                        .into(),
                    );
                }
                return env.type_var(name, errors);
            }
            let builtin = if module.is_none() {
                builtin_type(&name.name)
            } else {
                None
            };
            let found = match builtin {
                Some((Ty::Con(n, _), arity)) => Some((Some(n), None, arity)),
                Some((t, arity)) => Some((None, Some(t), arity)),
                None => match env.lookup_type(module.as_ref().map(|m| m.name.as_str()), &name.name)
                {
                    TypeLookup::Found(n, a) => Some((Some(n), None, a)),
                    TypeLookup::Private(m) => {
                        errors.push(
                            PrivateItem {
                                span: name.span,
                                module: m,
                                name: name.name.clone(),
                                what: "type",
                            }
                            .into(),
                        );
                        for a in args {
                            resolve(a, env, errors);
                        }
                        return env.error_ty();
                    }
                    TypeLookup::NoModule(path) => {
                        let m = module
                            .as_ref()
                            .expect("only a qualified type names a module");
                        errors.push(
                            UnknownModule {
                                span: m.span,
                                name: m.name.clone(),
                                suggestion: None,
                                not_imported: path,
                            }
                            .into(),
                        );
                        for a in args {
                            resolve(a, env, errors);
                        }
                        return env.error_ty();
                    }
                    TypeLookup::NotFound => None,
                },
            };
            let shown = match module {
                Some(m) => format!("{}.{}", m.name, name.name),
                None => name.name.clone(),
            };
            let Some((con_name, prim, arity)) = found else {
                let mut names: Vec<String> = env.type_names();
                names.extend(lang::BUILTIN_TYPES.iter().map(|(n, _)| n.to_string()));
                errors.push(
                    UnknownType {
                        span: name.span,
                        name: shown,
                        suggestion: suggest(&name.name, names.iter().map(|s| s.as_str())),
                    }
                    .into(),
                );
                for a in args {
                    resolve(a, env, errors);
                }
                return env.error_ty();
            };
            if args.len() != arity {
                errors.push(
                    TypeArgumentCount {
                        span: te.span,
                        name: shown,
                        expected: arity,
                        given: args.len(),
                    }
                    .into(),
                );
                return env.error_ty();
            }
            if let Some(t) = prim {
                return t;
            }
            let args = args.iter().map(|a| resolve(a, env, errors)).collect();
            Ty::Con(con_name.unwrap(), args)
        }
    }
}
