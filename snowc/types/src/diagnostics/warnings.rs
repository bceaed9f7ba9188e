//! Warnings: code that compiles but is probably a mistake. A program with
//! warnings still builds (unless `--deny-warnings`); they are reported only
//! for programs without errors. A local whose name starts with `_` is
//! unused on purpose and never warned about. Codes `W0001`-`W0004`.

use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// A local (parameter, `let`, pattern or `for` variable) never used.
#[derive(Clone, Debug, PartialEq)]
pub struct UnusedVariable {
    pub span: Span,
    pub name: String,
}

impl Kind for UnusedVariable {
    const CODE: Code = Code("W0001");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unused variable",
        text: "A parameter, `let`, pattern variable or `for` variable is never used. Remove \
               it, or start its name with `_` (`_reason`) to say it is unused on purpose, as \
               for a callback's parameters the program does not need.",
        wrong: r#"
fn area(w :: Int, h :: Int) -> Int do
  let unit = "cm2"
  w * h
end

fn main() = println("${area(2, 3)}")
"#,
        right: r#"
fn area(w :: Int, h :: Int) -> Int do
  let _unit = "cm2"
  w * h
end

fn main() = println("${area(2, 3)}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("unused variable {}", self.name),
        )
        .with_label("never used")
        .with_help(format!(
            "remove it, or name it _{} if it is unused on purpose",
            self.name
        ))
    }
}

/// A function of the program that `main` (or a `pub` function) never
/// reaches, directly or through other functions.
#[derive(Clone, Debug, PartialEq)]
pub struct UnusedFunction {
    /// Its name in its definition.
    pub span: Span,
    pub name: String,
}

impl Kind for UnusedFunction {
    const CODE: Code = Code("W0002");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unused function",
        text: "A function of the program is never called or used as a value by `main` or by \
               the functions `main` reaches (or by a `pub` function): it is dead code. Remove \
               it, or call it.",
        wrong: r#"
fn greet(name) = println("Hello, ${name}")
fn shout(name) = println(String.to_upper(name))

fn main() = greet("snow")
"#,
        right: r#"
fn greet(name) = println("Hello, ${name}")

fn main() = greet("snow")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("function {} is never used", self.name),
        )
        .with_label("not reachable from main")
        .with_help("remove it, or call it")
    }
}

/// A `case` arm whose pattern only matches values the arms above it
/// (without guards) already match.
#[derive(Clone, Debug, PartialEq)]
pub struct UnreachableArm {
    /// The arm's pattern.
    pub span: Span,
}

impl Kind for UnreachableArm {
    const CODE: Code = Code("W0003");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unreachable case arm",
        text: "Arms are tried from top to bottom, and every value this arm's pattern matches \
               is already matched by an arm above it (arms with a `when` guard do not count), \
               so it never runs. Typically a catch-all `_` or a variable pattern comes too \
               early: move the specific arms above it.",
        wrong: r#"
fn describe(n :: Int) -> String do
  case n do
    _ -> "many"
    0 -> "none"
  end
end

fn main() = println(describe(0))
"#,
        right: r#"
fn describe(n :: Int) -> String do
  case n do
    0 -> "none"
    _ -> "many"
  end
end

fn main() = println(describe(0))
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "unreachable case arm")
            .with_label("the arms above already match every value this pattern matches")
            .with_help("remove this arm, or move it above the arms that match its values")
    }
}

/// `let x = a` followed by another binding of `x` before `x` is used: the
/// first value is computed and discarded.
#[derive(Clone, Debug, PartialEq)]
pub struct ShadowedLet {
    /// The first `let`'s name.
    pub span: Span,
    pub name: String,
    /// The binding that hides it.
    pub shadowed_at: Span,
}

impl Kind for ShadowedLet {
    const CODE: Code = Code("W0004");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "let shadowed before it is used",
        text: "A `let` binds a name that a later binding of the same name hides before the \
               first value was ever used: the first value is computed for nothing. Often the \
               second `let` meant to use the first (`let x = x + 1`), or one of the names is \
               a typo.",
        wrong: r#"
fn main() do
  let total = 10
  let total = 20
  println("${total}")
end
"#,
        right: r#"
fn main() do
  let total = 10
  let total = total + 20
  println("${total}")
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
            format!("let {} is shadowed before it is used", self.name),
        )
        .with_label("this value is never used")
        .with_secondary(
            self.shadowed_at,
            format!("{} is bound again here", self.name),
        )
        .with_help("remove the first let, or use its value in the second")
    }
}
