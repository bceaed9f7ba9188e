//! The checks of every `case` of an inferred (and substituted) function:
//! exhaustiveness (an error naming a missing value) and, for the program's
//! own functions, arms that can never run (a warning). Both use the
//! usefulness algorithm of `exhaust.rs`.

use crate::diagnostics::{
    CaseTooComplex, NonExhaustiveCase, RefutableLet, TypeError, TypeWarning, UnreachableArm,
};
use crate::exhaust::{missing_case, unreachable_arms, Missing};
use crate::std_lib::TypeInfo;
use crate::tast::*;

pub(crate) struct CaseCheck<'t> {
    /// A type's declaration by internal name.
    /// (Borrowed: a `case` asks for its types at every step of the check.)
    pub types: &'t dyn Fn(&str) -> Option<&'t TypeInfo>,
    pub errors: Vec<TypeError>,
    /// `None`: no warnings wanted (std functions).
    pub warnings: Option<Vec<TypeWarning>>,
}

impl CaseCheck<'_> {
    /// Checks every `case` in `e`.
    pub fn expr(&mut self, e: &TExpr) {
        match &e.kind {
            TExprKind::Interp(xs) | TExprKind::List(xs) | TExprKind::Block(xs) => {
                xs.iter().for_each(|x| self.expr(x))
            }
            TExprKind::Call { callee, args } => {
                if let Callee::Value(c) = callee {
                    self.expr(c)
                }
                args.iter().for_each(|x| self.expr(x))
            }
            TExprKind::Ctor { args, .. }
            | TExprKind::Tuple(args)
            | TExprKind::Struct { fields: args, .. } => args.iter().for_each(|x| self.expr(x)),
            TExprKind::Field { expr, .. } => self.expr(expr),
            TExprKind::Update { expr, fields, .. } => {
                self.expr(expr);
                fields.iter().for_each(|(_, _, v)| self.expr(v));
            }
            TExprKind::Cons { items, tail } => {
                items.iter().for_each(|x| self.expr(x));
                self.expr(tail)
            }
            TExprKind::LetPat { pattern, value } => {
                self.expr(value);
                self.irrefutable(pattern, "let");
            }
            TExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs)
            }
            TExprKind::Unary { expr, .. } => self.expr(expr),
            TExprKind::Let { value, .. } => self.expr(value),
            TExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                self.expr(then);
                if let Some(x) = else_ {
                    self.expr(x)
                }
            }
            TExprKind::For {
                pattern,
                iter,
                body,
            } => {
                self.expr(iter);
                self.irrefutable(pattern, "for");
                self.expr(body)
            }
            TExprKind::Lambda { body, .. } => self.expr(body),
            TExprKind::Case { scrutinee, arms } => {
                self.expr(scrutinee);
                for a in arms {
                    if let Some(g) = &a.guard {
                        self.expr(g)
                    }
                    self.expr(&a.body)
                }
                self.case(scrutinee, arms);
            }
            TExprKind::Int(_)
            | TExprKind::Float(_)
            | TExprKind::Str(_)
            | TExprKind::Bool(_)
            | TExprKind::Unit
            | TExprKind::Local(_)
            | TExprKind::FnRef(_)
            | TExprKind::ExternRef { .. } => {}
        }
    }

    /// A `let` or `for` pattern must match every value of its type.
    fn irrefutable(&mut self, p: &TPattern, binder: &'static str) {
        match missing_case(&[p], &p.ty, self.types) {
            Missing::Exhaustive => {}
            Missing::Case(missing) => self.errors.push(
                RefutableLet {
                    span: p.span,
                    missing,
                    binder,
                }
                .into(),
            ),
            Missing::TooComplex => self.errors.push(CaseTooComplex { span: p.span }.into()),
        }
    }

    fn case(&mut self, scrutinee: &TExpr, arms: &[TArm]) {
        let unguarded: Vec<&TPattern> = arms
            .iter()
            .filter(|a| a.guard.is_none())
            .map(|a| &a.pattern)
            .collect();
        match missing_case(&unguarded, &scrutinee.ty, self.types) {
            Missing::Exhaustive => {}
            Missing::Case(missing) => self.errors.push(
                NonExhaustiveCase {
                    span: scrutinee.span,
                    missing,
                }
                .into(),
            ),
            Missing::TooComplex => self.errors.push(
                CaseTooComplex {
                    span: scrutinee.span,
                }
                .into(),
            ),
        }
        if let Some(warnings) = &mut self.warnings {
            let all: Vec<(&TPattern, bool)> = arms
                .iter()
                .map(|a| (&a.pattern, a.guard.is_some()))
                .collect();
            for i in unreachable_arms(&all, &scrutinee.ty, self.types) {
                warnings.push(
                    UnreachableArm {
                        span: arms[i].pattern.span,
                    }
                    .into(),
                );
            }
        }
    }
}
