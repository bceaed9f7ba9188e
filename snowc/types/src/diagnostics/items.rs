//! The program's items: names defined twice, `main`, items a program may not
//! have, and type annotations of the wrong shape.

use snowc_syntax::diagnostic::plural;
use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// Two functions of one name (in the program, or in one std module).
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateFunction {
    /// The second definition's name.
    pub span: Span,
    pub name: String,
    /// The first definition's name, when known.
    pub first: Option<Span>,
    /// The std module both are in; `None` for the program.
    pub module: Option<String>,
}

impl Kind for DuplicateFunction {
    const CODE: Code = Code("E0019");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "function defined twice",
        text: "Functions are told apart by name only (there is no overloading by arity or \
               type): each name is defined once.",
        wrong: r#"
fn greet() = println("hi")
fn greet() = println("hello")
fn main() = greet()
"#,
        right: r#"
fn greet() = println("hi")
fn greet_again() = println("hello")
fn main() do
  greet()
  greet_again()
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let msg = match &self.module {
            Some(m) => format!("function {} is defined twice in module {m}", self.name),
            None => format!("function {} is defined twice", self.name),
        };
        let d = Diagnostic::new(Self::CODE, self.span, msg).with_label("second definition");
        match self.first {
            Some(f) => d.with_secondary(f, "first defined here"),
            None => d,
        }
    }
}

/// Two types of one name.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateType {
    pub span: Span,
    pub name: String,
    pub first: Span,
}

impl Kind for DuplicateType {
    const CODE: Code = Code("E0020");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "type defined twice",
        text: "Each type name is defined once per program (a program's type may shadow a std \
               type of the same name, except the built-in ones).",
        wrong: r#"
type Shape do
  Circle(Int)
end

type Shape do
  Square(Int)
end

fn main() = println("shapes")
"#,
        right: r#"
type Shape do
  Circle(Int)
end

type Polygon do
  Square(Int)
end

fn main() = println("shapes")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("type {} is defined twice", self.name),
        )
        .with_label("second definition")
        .with_secondary(self.first, "first defined here")
    }
}

/// Two constructors of one name (in one type or in two).
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateConstructor {
    pub span: Span,
    pub name: String,
    pub first: Option<Span>,
}

impl Kind for DuplicateConstructor {
    const CODE: Code = Code("E0021");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "constructor defined twice",
        text: "Constructors share one namespace across all the program's types: \
               `Circle(1)` must say which type it builds, so each constructor name is \
               defined once.",
        wrong: r#"
type Shape do
  Circle(Int)
end

type Ring do
  Circle(Int)
end

fn main() = println("shapes")
"#,
        right: r#"
type Shape do
  Circle(Int)
end

type Ring do
  Annulus(Int)
end

fn main() = println("shapes")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!("constructor {} is defined twice", self.name),
        )
        .with_label("second definition");
        match self.first {
            Some(f) => d.with_secondary(f, "first defined here"),
            None => d,
        }
    }
}

/// A program's `type` named like a built-in type (`Int`, `List`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltinTypeName {
    pub span: Span,
    pub name: String,
}

impl Kind for BuiltinTypeName {
    const CODE: Code = Code("E0022");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "type named like a built-in type",
        text: "`Int`, `Float`, `Bool`, `String`, `List` and `Map` are built into the \
               language and the runtime, and cannot be redefined.",
        wrong: r#"
type List<a> do
  Box(a)
end

fn main() = println("boxes")
"#,
        right: r#"
type Stack<a> do
  Box(a)
end

fn main() = println("boxes")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("type {} is built in", self.name),
        )
        .with_label("this name is taken")
        .with_help("choose another name for this type")
    }
}

/// A program without `fn main()`.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingMain {
    /// The start of the file.
    pub span: Span,
}

impl Kind for MissingMain {
    const CODE: Code = Code("E0023");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "missing fn main()",
        text: "A program starts by calling its `fn main()`, which takes no parameters (command \
               line arguments are `Env.args()`).",
        wrong: r#"
fn helper() = 1
"#,
        right: r#"
fn helper() = 1
fn main() = println("${helper()}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "missing fn main()")
            .with_label("a program starts at main")
            .with_help("add fn main() do ... end")
    }
}

/// `fn main(x)`.
#[derive(Clone, Debug, PartialEq)]
pub struct MainWithParameters {
    pub span: Span,
}

impl Kind for MainWithParameters {
    const CODE: Code = Code("E0024");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "main takes parameters",
        text: "`main` is called with no arguments. Command line arguments are `Env.args()`.",
        wrong: r#"
fn main(args) do
  println("${List.length(args)}")
end
"#,
        right: r#"
fn main() do
  let args = Env.args()
  println("${List.length(args)}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "main takes no parameters")
            .with_label("main is called with no arguments")
            .with_help("use fn main() do ... end")
    }
}

/// An `extern fn` in a program (only std modules bind runtime functions).
#[derive(Clone, Debug, PartialEq)]
pub struct ExternInProgram {
    pub span: Span,
}

impl Kind for ExternInProgram {
    const CODE: Code = Code("E0025");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "extern function in a program",
        text: "`extern fn` binds a function of the runtime, and only std modules declare \
               them: a program calls them through their module, `Ws.send(conn, text)`.",
        wrong: r#"
extern fn println(s :: String) -> ()
fn main() = println("hi")
"#,
        right: r#"
fn main() = println("hi")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            "extern functions can only be declared in std modules",
        )
        .with_label("not allowed in a program")
        .with_help("call std functions as Module.name, e.g. Ws.send(conn, text)")
    }
}

/// `List` or `Map<String>`: a type with the wrong number of type arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeArgumentCount {
    pub span: Span,
    pub name: String,
    pub expected: usize,
    pub given: usize,
}

impl Kind for TypeArgumentCount {
    const CODE: Code = Code("E0026");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "wrong number of type arguments",
        text: "A generic type takes all its type arguments in an annotation: `List<Int>`, \
               `Map<String, Int>`, `Option<a>`; a type without parameters takes none.",
        wrong: r#"
fn size(xs :: List) -> Int = List.length(xs)
fn main() = println("${size([1, 2])}")
"#,
        right: r#"
fn size(xs :: List<Int>) -> Int = List.length(xs)
fn main() = println("${size([1, 2])}")
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
                "{} takes {} but {} given",
                self.name,
                plural(self.expected, "type argument"),
                self.given
            ),
        )
        .with_label(format!(
            "expected {}",
            plural(self.expected, "type argument")
        ))
    }
}

/// `a<Int>`: a type variable with type arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeVariableWithArguments {
    pub span: Span,
    pub name: String,
}

impl Kind for TypeVariableWithArguments {
    const CODE: Code = Code("E0027");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "type variable with type arguments",
        text: "A lower-case name in an annotation is a type variable, which stands for a \
               whole type: it takes no `<...>` (Snow has no higher-kinded types).",
        wrong: r#"
fn size(xs :: f<Int>) -> Int = 0
fn main() = println("${size([1])}")
"#,
        right: r#"
fn size(xs :: List<a>) -> Int = List.length(xs)
fn main() = println("${size([1])}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("type variable {} cannot take type arguments", self.name),
        )
        .with_label("remove the <...>")
    }
}
