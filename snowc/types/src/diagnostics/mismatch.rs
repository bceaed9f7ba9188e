//! Types that do not fit together: unification failures, branches of
//! different types, calls with the wrong arguments, operands an operator does
//! not take. Types are stored resolved (no inference variable is bound) and
//! printed when rendered, one printer per diagnostic so that type variables
//! are named consistently (`a`, `b`, ...).

use crate::tast::Ty;
use crate::ty::TyPrinter;
use snowc_syntax::diagnostic::plural;
use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// Where a mismatch was found, when that explains it better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MismatchContext {
    Plain,
    /// The condition of an `if`.
    IfCondition,
}

/// A value of one type where another is needed.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeMismatch {
    pub span: Span,
    pub expected: Ty,
    pub found: Ty,
    pub context: MismatchContext,
}

impl Kind for TypeMismatch {
    const CODE: Code = Code("E0028");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "mismatched types",
        text: "A value's type is not the one its place needs: an argument of a function, an \
               annotated `let`, a list element, an `if` condition, ... There are no implicit \
               conversions, not even between Int and Float (use `Float.from_int`, \
               `Float.round`, `Int.to_string`).",
        wrong: r#"
fn twice(n :: Int) -> Int = n * 2
fn main() = println("${twice("2")}")
"#,
        right: r#"
fn twice(n :: Int) -> Int = n * 2
fn main() = println("${twice(2)}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let mut pr = TyPrinter::default();
        let (a, b) = (pr.print(&self.expected), pr.print(&self.found));
        let d = Diagnostic::new(Self::CODE, self.span, format!("expected {a}, found {b}"));
        match self.context {
            MismatchContext::IfCondition => d.with_label("an if condition must be a Bool"),
            MismatchContext::Plain => {
                let d = d.with_label(format!("this is {b}"));
                if matches!(
                    (&self.expected, &self.found),
                    (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int)
                ) {
                    d.with_help("Snow has no implicit conversion between Int and Float: use Float.from_int or Float.round")
                } else {
                    d
                }
            }
        }
    }
}

/// A function value taking a different number of arguments than needed
/// (typically a callback).
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionArityMismatch {
    pub span: Span,
    pub expected: usize,
    pub found: usize,
}

impl Kind for FunctionArityMismatch {
    const CODE: Code = Code("E0029");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "function of the wrong arity",
        text: "A function passed as a value (a callback, a closure given to `List.map`) must \
               take exactly as many arguments as it will be called with.",
        wrong: r#"
fn main() do
  let xs = List.map([1, 2], fn(a, b) -> a + b end)
  println("${List.length(xs)}")
end
"#,
        right: r#"
fn main() do
  let xs = List.map([1, 2], fn(a) -> a + 1 end)
  println("${List.length(xs)}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!(
                "expected a function of {}, found a function of {}",
                plural(self.expected, "argument"),
                plural(self.found, "argument")
            ),
        )
        .with_label(format!(
            "this function takes {}",
            plural(self.found, "argument")
        ))
    }
}

/// `a ~ List<a>`: a type that would contain itself.
#[derive(Clone, Debug, PartialEq)]
pub struct InfiniteType {
    pub span: Span,
    pub expected: Ty,
    pub found: Ty,
}

impl Kind for InfiniteType {
    const CODE: Code = Code("E0030");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "infinite type",
        text: "Inference found that a type would have to contain itself, such as `a` being \
               `List<a>`: typically a recursive call whose argument wraps the parameter.",
        wrong: r#"
fn wrap(x) = wrap([x])
fn main() = println("${List.length(wrap(1))}")
"#,
        right: r#"
fn wrap(x) = [x]
fn main() = println("${List.length(wrap(1))}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let mut pr = TyPrinter::default();
        let (a, b) = (pr.print(&self.expected), pr.print(&self.found));
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("infinite type: {a} would have to contain {b}"),
        )
        .with_label("this value would have an infinitely nested type")
    }
}

/// `if c do 1 else "one" end`.
#[derive(Clone, Debug, PartialEq)]
pub struct IfBranchesDiffer {
    /// The `else` branch's value.
    pub span: Span,
    /// The `then` branch's value.
    pub then_span: Span,
    pub then_ty: Ty,
    pub else_ty: Ty,
}

impl Kind for IfBranchesDiffer {
    const CODE: Code = Code("E0031");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "if and else of different types",
        text: "An `if` with an `else` is a value: both branches must give the same type. \
               (Without `else`, the `if` is `()`.)",
        wrong: r#"
fn main() do
  let label = if true do 1 else "one" end
  println(label)
end
"#,
        right: r#"
fn main() do
  let label = if true do "1" else "one" end
  println(label)
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let mut pr = TyPrinter::default();
        let (a, b) = (pr.print(&self.then_ty), pr.print(&self.else_ty));
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("if and else have different types: {a} and {b}"),
        )
        .with_label(format!("this is {b}"))
        .with_secondary(self.then_span, format!("this is {a}"))
    }
}

/// Arms of a `case` giving values of different types.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseArmsDiffer {
    /// This arm's value.
    pub span: Span,
    /// The first arm's value.
    pub first: Option<Span>,
    /// The type of the arms before this one.
    pub expected: Ty,
    pub found: Ty,
}

impl Kind for CaseArmsDiffer {
    const CODE: Code = Code("E0032");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "case arms of different types",
        text: "A `case` is a value: every arm must give the same type.",
        wrong: r#"
fn describe(n :: Int) -> String do
  case n do
    0 -> "zero"
    _ -> n
  end
end

fn main() = println(describe(1))
"#,
        right: r#"
fn describe(n :: Int) -> String do
  case n do
    0 -> "zero"
    _ -> Int.to_string(n)
  end
end

fn main() = println(describe(1))
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let mut pr = TyPrinter::default();
        let (a, b) = (pr.print(&self.expected), pr.print(&self.found));
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!("case arms have different types: {a} and {b}"),
        )
        .with_label(format!("this is {b}"));
        match self.first {
            Some(f) => d.with_secondary(f, format!("this is {a}")),
            None => d,
        }
    }
}

/// A call (or constructor) with the wrong number of arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgumentCount {
    /// The whole call.
    pub span: Span,
    /// The function or constructor called (`Ws.join`, `Rect`); `None` for a closure value.
    pub callee: Option<String>,
    pub expected: usize,
    /// `None`: a constructor with fields used without arguments (`Rect`).
    pub given: Option<usize>,
}

impl Kind for ArgumentCount {
    const CODE: Code = Code("E0033");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "wrong number of arguments",
        text: "A function or constructor is called with more or fewer arguments than it \
               takes. Snow has no default arguments and no overloading; with `|>` the piped \
               value is the first argument.",
        wrong: r#"
fn add(a, b) = a + b
fn main() = println("${add(1)}")
"#,
        right: r#"
fn add(a, b) = a + b
fn main() = println("${add(1, 2)}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let who = self.callee.as_deref().unwrap_or("this function");
        let takes = plural(self.expected, "argument");
        let d = match self.given {
            None => Diagnostic::new(Self::CODE, self.span, format!("{who} takes {takes}"))
                .with_help(format!("write {who}(...)")),
            Some(given) => {
                let were = if given == 1 { "was" } else { "were" };
                Diagnostic::new(
                    Self::CODE,
                    self.span,
                    format!("{who} takes {takes} but {given} {were} given"),
                )
            }
        };
        d.with_label(format!("expected {takes}"))
    }
}

/// `x(1)` where `x` is not a function.
#[derive(Clone, Debug, PartialEq)]
pub struct NotAFunction {
    pub span: Span,
    pub ty: Ty,
}

impl Kind for NotAFunction {
    const CODE: Code = Code("E0034");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "call of a value that is not a function",
        text: "Only functions and closures can be called. A local variable shadows a \
               function of the same name.",
        wrong: r#"
fn main() do
  let n = 1
  println("${n(2)}")
end
"#,
        right: r#"
fn main() do
  let n = 1
  println("${n + 2}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let shown = TyPrinter::default().print(&self.ty);
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("cannot call a value of type {shown}"),
        )
        .with_label("this is not a function")
    }
}

/// Which operators an [`UnsupportedOperand`] belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorClass {
    /// `+ - * / %` and unary `-`.
    Arithmetic,
    /// `< <= > >=`.
    Ordering,
    /// `== !=`.
    Equality,
}

/// An operator applied to operands of a type it does not take.
#[derive(Clone, Debug, PartialEq)]
pub struct UnsupportedOperand {
    pub span: Span,
    /// `+`, `<`, `==`.
    pub op: &'static str,
    pub class: OperatorClass,
    pub ty: Ty,
}

impl Kind for UnsupportedOperand {
    const CODE: Code = Code("E0036");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "operator on values of an unsupported type",
        text: "Arithmetic works on Int and Float, ordering (`<` ...) on Int, Float and String, \
               `==` and `!=` on every value built from data (numbers, strings, lists, \
               tuples, structs, maps, constructors), not on functions or values of a \
               generic type variable. Strings are concatenated with `<>`.",
        wrong: r#"
fn main() = println("snow" + "ball")
"#,
        right: r#"
fn main() = println("snow" <> "ball")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let shown = TyPrinter::default().print(&self.ty);
        let op = self.op;
        match self.class {
            OperatorClass::Arithmetic => {
                let d = Diagnostic::new(
                    Self::CODE,
                    self.span,
                    format!("cannot apply {op} to values of type {shown}"),
                )
                .with_label("arithmetic works on Int and Float");
                if self.ty == Ty::String && op == "+" {
                    d.with_help("use <> to concatenate strings")
                } else {
                    d
                }
            }
            OperatorClass::Ordering => Diagnostic::new(
                Self::CODE,
                self.span,
                format!("cannot compare values of type {shown} with {op}"),
            )
            .with_label("ordering works on Int, Float and String"),
            OperatorClass::Equality => Diagnostic::new(
                Self::CODE,
                self.span,
                format!("cannot compare values of type {shown} with {op}"),
            )
            .with_label("== and != compare data, not values of a generic or opaque type"),
        }
    }
}

/// `"${xs}"` where `xs` is not an Int, Float, Bool or String.
#[derive(Clone, Debug, PartialEq)]
pub struct CannotInterpolate {
    pub span: Span,
    pub ty: Ty,
}

impl Kind for CannotInterpolate {
    const CODE: Code = Code("E0037");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "value that cannot be interpolated",
        text: "`${...}` in a string accepts Int, Float, Bool and String values. Convert \
               anything else to a String first (for a list, e.g. with `List.map` and \
               `String.join`).",
        wrong: r#"
fn main() do
  let xs = [1, 2]
  println("xs = ${xs}")
end
"#,
        right: r#"
fn main() do
  let xs = [1, 2]
  println("xs = ${String.join(List.map(xs, Int.to_string), ", ")}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let shown = TyPrinter::default().print(&self.ty);
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("cannot interpolate a value of type {shown}"),
        )
        .with_label(format!("this is {shown}"))
        .with_help(
            "only Int, Float, Bool and String can be interpolated; convert it to a String first",
        )
    }
}

/// Two arguments of a call that fit each other's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct SwappedArguments {
    pub first: Span,
    pub second: Span,
    /// `List.fold`; `None` for a closure value.
    pub callee: Option<String>,
    /// 1-based positions of the two arguments.
    pub positions: (usize, usize),
    pub first_ty: Ty,
    pub second_ty: Ty,
}

impl Kind for SwappedArguments {
    const CODE: Code = Code("E0061");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "two arguments are in each other's place",
        text: "Each argument of a call must fit its parameter. These two do not, but each \
               would fit the other's: they are probably swapped. Std signatures are in \
               `std/` (`List.fold(xs, acc, f)` takes the starting value before the \
               function).",
        wrong: r#"
fn main() do
  let total = List.fold([1, 2, 3], fn(acc, x) -> acc + x end, 0)
  println("${total}")
end
"#,
        right: r#"
fn main() do
  let total = List.fold([1, 2, 3], 0, fn(acc, x) -> acc + x end)
  println("${total}")
end
"#,
    };
    fn span(&self) -> Span {
        self.first
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let (i, j) = self.positions;
        let of = match &self.callee {
            Some(c) => format!(" of {c}"),
            None => String::new(),
        };
        let mut p = crate::ty::TyPrinter::default();
        let (a, b) = (p.print(&self.first_ty), p.print(&self.second_ty));
        Diagnostic::new(
            Self::CODE,
            self.first,
            format!("arguments {i} and {j}{of} seem to be swapped"),
        )
        .with_label(format!("this {a} fits parameter {j}"))
        .with_secondary(self.second, format!("and this {b} fits parameter {i}"))
        .with_help(format!("swap arguments {i} and {j}"))
    }
}
