//! Names that resolve to nothing: variables and functions, modules, functions
//! of a module, constructors, types, type variables. Each carries the closest
//! name in scope, if one is close enough to be a likely typo.

use super::hint::did_you_mean;
use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// What an unknown plain name was used as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameUse {
    /// A value: `println(greting)`.
    Variable,
    /// Called: `greet(x)`.
    Function,
}

/// A name that is neither a local nor a function in scope.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownName {
    pub span: Span,
    pub name: String,
    pub used_as: NameUse,
    pub suggestion: Option<String>,
}

impl Kind for UnknownName {
    const CODE: Code = Code("E0012");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unknown variable or function",
        text: "A name is neither a local (a parameter, a `let`, a pattern or `for` binding in \
               scope) nor a function of the program, the prelude or a `from M import`. A \
               `let` is only visible after it, in its own block. Std functions are called \
               with their module: `String.length(s)`.",
        wrong: r#"
fn main() do
  let greeting = "hi"
  println(greting)
end
"#,
        right: r#"
fn main() do
  let greeting = "hi"
  println(greeting)
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let what = match self.used_as {
            NameUse::Variable => "variable",
            NameUse::Function => "function",
        };
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!("unknown {what} {}", self.name),
        )
        .with_label("not found in this scope");
        did_you_mean(d, &self.suggestion)
    }
}

/// `Wz.join(...)`: no std module has this name.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownModule {
    pub span: Span,
    pub name: String,
    pub suggestion: Option<String>,
    /// A module of the program with this name that is not imported here:
    /// its full path, for the help.
    pub not_imported: Option<String>,
}

impl Kind for UnknownModule {
    const CODE: Code = Code("E0013");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unknown module",
        text: "A qualified name `Module.name` or an import names a module that does not exist. \
               The std modules are the files under `std/`: String, List, Map, Ws and others.",
        wrong: r#"
fn main() = println(Strng.to_upper("hi"))
"#,
        right: r#"
fn main() = println(String.to_upper("hi"))
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        if let Some(path) = &self.not_imported {
            return Diagnostic::new(
                Self::CODE,
                self.span,
                format!("module {} is not imported here", self.name),
            )
            .with_label("not imported in this file")
            .with_help(format!("add `import {path}` at the top of this file"));
        }
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!("unknown module {}", self.name),
        )
        .with_label("no std or imported module has this name");
        did_you_mean(d, &self.suggestion)
    }
}

/// `Ws.jion`: the module has no function of this name.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownModuleFunction {
    pub span: Span,
    pub module: String,
    pub name: String,
    pub suggestion: Option<String>,
}

impl Kind for UnknownModuleFunction {
    const CODE: Code = Code("E0014");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "no such function in the module",
        text: "The module exists but has no public function of this name. The std modules \
               are Snow source under `std/`: each function is one line there.",
        wrong: r#"
fn main() = println(String.upper("hi"))
"#,
        right: r#"
fn main() = println(String.to_upper("hi"))
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!("no function {} in module {}", self.name, self.module),
        )
        .with_label(format!("not found in {}", self.module));
        did_you_mean(d, &self.suggestion)
    }
}

/// A std function that is not `pub`, used from outside its module.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateFunction {
    pub span: Span,
    pub module: String,
    pub name: String,
}

impl Kind for PrivateFunction {
    const CODE: Code = Code("E0015");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "private function",
        text: "A std function without `pub` is a helper of its module and cannot be called \
               from a program. Use the public function it helps.",
        wrong: r#"
fn main() do
  let xs = List.map_rev([1, 2], fn(x) -> x * 2 end, [])
  println("${List.length(xs)}")
end
"#,
        right: r#"
fn main() do
  let xs = List.map([1, 2], fn(x) -> x * 2 end)
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
                "function {} in module {} is private",
                self.name, self.module
            ),
        )
        .with_label(format!("not pub in {}", self.module))
    }
}

/// A constructor no type in scope defines.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownConstructor {
    pub span: Span,
    pub name: String,
    pub suggestion: Option<String>,
}

impl Kind for UnknownConstructor {
    const CODE: Code = Code("E0016");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unknown constructor",
        text: "A capitalised name in an expression or pattern is a constructor, which a \
               `type` of the program or of std (`Some`, `None`, `Ok`, `Err`, `Text`, \
               `Binary`, ...) must define.",
        wrong: r#"
fn main() do
  case Som(1) do
    Some(n) -> println("${n}")
    None -> println("none")
  end
end
"#,
        right: r#"
fn main() do
  case Some(1) do
    Some(n) -> println("${n}")
    None -> println("none")
  end
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!("unknown constructor {}", self.name),
        )
        .with_label("no type defines this constructor");
        did_you_mean(d, &self.suggestion)
    }
}

/// A type annotation naming no type.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownType {
    pub span: Span,
    pub name: String,
    pub suggestion: Option<String>,
}

impl Kind for UnknownType {
    const CODE: Code = Code("E0017");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unknown type",
        text: "An annotation names a type that is neither built in (`Int`, `Float`, `Bool`, \
               `String`, `List<a>`, `Map<k, v>`), nor a std type (`Option<a>`, \
               `Result<a, e>`, `Conn`, ...), nor a `type` of the program. Lower-case names \
               are type variables.",
        wrong: r#"
fn twice(n :: Integer) -> Int = n * 2
fn main() = println("${twice(2)}")
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
        let d = Diagnostic::new(Self::CODE, self.span, format!("unknown type {}", self.name))
            .with_label("not a known type");
        did_you_mean(d, &self.suggestion)
    }
}

/// A type variable in a `type` declaration's fields that is not one of its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownTypeVariable {
    pub span: Span,
    pub name: String,
}

impl Kind for UnknownTypeVariable {
    const CODE: Code = Code("E0018");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "undeclared type variable in a type",
        text: "The fields of a `type`'s constructors may only use the type variables the \
               type declares as its parameters: `type Box<a> do Box(a) end`.",
        wrong: r#"
type Box do
  Box(a)
end

fn main() do
  case Box(1) do
    Box(n) -> println("${n}")
  end
end
"#,
        right: r#"
type Box<a> do
  Box(a)
end

fn main() do
  case Box(1) do
    Box(n) -> println("${n}")
  end
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
            format!("unknown type variable {}", self.name),
        )
        .with_label("not a parameter of this type")
        .with_help(format!(
            "declare it as a type parameter: type Name<{}>",
            self.name
        ))
    }
}
