//! Structs, tuples, fields, destructuring and equality (Snow v2).

use super::hint::did_you_mean;
use crate::tast::Ty;
use crate::ty::show;
use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// A struct literal without some of the struct's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingField {
    pub span: Span,
    pub struct_name: String,
    pub fields: Vec<String>,
}

impl Kind for MissingField {
    const CODE: Code = Code("E0046");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a struct literal misses fields",
        text: "A struct literal gives every field of the struct exactly once, in any order. \
               There are no default values; a field that may be absent has an `Option` type.",
        wrong: r#"
struct User do
  name :: String
  age :: Int
end

fn main() do
  let u = User { name: "ada" }
  println(u.name)
end
"#,
        right: r#"
struct User do
  name :: String
  age :: Int
end

fn main() do
  let u = User { name: "ada", age: 36 }
  println("${u.name} ${u.age}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let list = self
            .fields
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (noun, it) = if self.fields.len() == 1 {
            ("field", "it")
        } else {
            ("fields", "them")
        };
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("missing {noun} {list} of struct {}", self.struct_name),
        )
        .with_label(format!("{} needs {list}", self.struct_name))
        .with_help(format!("give {it} a value: every field is required"))
    }
}

/// A field the struct does not have (in a literal, an update, a pattern or an access).
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownField {
    pub span: Span,
    pub struct_name: String,
    pub field: String,
    pub suggestion: Option<String>,
}

impl Kind for UnknownField {
    const CODE: Code = Code("E0047");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "the struct has no such field",
        text: "A struct's fields are the ones its `struct` declaration lists. A literal, an \
               update `%{s | f: e}`, a pattern or an access `s.f` can only name those.",
        wrong: r#"
struct User do
  name :: String
end

fn main() do
  let u = User { name: "ada" }
  println(u.nme)
end
"#,
        right: r#"
struct User do
  name :: String
end

fn main() do
  let u = User { name: "ada" }
  println(u.name)
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
            format!("struct {} has no field `{}`", self.struct_name, self.field),
        )
        .with_label(format!("not a field of {}", self.struct_name));
        did_you_mean(d, &self.suggestion)
    }
}

/// A field given twice in a struct literal, update or pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct RepeatedField {
    pub span: Span,
    pub field: String,
    pub first: Span,
}

impl Kind for RepeatedField {
    const CODE: Code = Code("E0048");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a field is given twice",
        text: "Each field appears at most once in a struct literal, an update or a pattern.",
        wrong: r#"
struct Point do
  x :: Int
  y :: Int
end

fn main() do
  let p = Point { x: 1, y: 2, x: 3 }
  println("${p.x}")
end
"#,
        right: r#"
struct Point do
  x :: Int
  y :: Int
end

fn main() do
  let p = Point { x: 3, y: 2 }
  println("${p.x} ${p.y}")
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
            format!("field `{}` is given twice", self.field),
        )
        .with_label("given again here")
        .with_secondary(self.first, "first given here")
    }
}

/// `let Some(x) = o`: a pattern that does not match every value.
#[derive(Clone, Debug, PartialEq)]
pub struct RefutableLet {
    pub span: Span,
    /// A value the pattern does not match, printed as a pattern.
    pub missing: String,
    /// `let` or `for`.
    pub binder: &'static str,
}

impl Kind for RefutableLet {
    const CODE: Code = Code("E0049");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a `let` or `for` pattern must match every value",
        text: "`let` and `for` take values apart with patterns that cannot fail: names, `_`, \
               tuples and structs of those. A pattern that tests something (a constructor of \
               a type with several, a literal, a list shape) may not match, so it goes in a \
               `case`, which says what to do otherwise.",
        wrong: r#"
fn main() do
  let Some(x) = List.head([1, 2])
  println("${x}")
end
"#,
        right: r#"
fn main() do
  case List.head([1, 2]) do
    Some(x) -> println("${x}")
    None -> println("empty")
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
            format!(
                "this `{}` pattern does not match every value: {} is not matched",
                self.binder, self.missing
            ),
        )
        .with_label("may not match")
        .with_help("take the value apart with `case`, which says what to do when it does not match")
    }
}

/// `x.f` where nothing tells which struct `x` is.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldOfUnknownType {
    pub span: Span,
    pub field: String,
}

impl Kind for FieldOfUnknownType {
    const CODE: Code = Code("E0050");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "the struct of a field access is not known",
        text: "Field names are not unique to one struct, so `x.f` needs the type of `x` to \
               be known from the rest of the function: from a literal, a pattern, a call, or \
               an annotation. Annotate the parameter or binding with its struct.",
        wrong: r#"
struct User do
  name :: String
end

fn name_of(u) = u.name

fn main() = println(name_of(User { name: "ada" }))
"#,
        right: r#"
struct User do
  name :: String
end

fn name_of(u :: User) = u.name

fn main() = println(name_of(User { name: "ada" }))
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
                "the type of this value must be known to access its field `{}`",
                self.field
            ),
        )
        .with_label("which struct is this?")
        .with_help("annotate the value with its struct: `x :: User`")
    }
}

/// A field access or update on a value that is not a struct.
#[derive(Clone, Debug, PartialEq)]
pub struct NotAStruct {
    pub span: Span,
    pub ty: Ty,
    pub field: String,
}

impl Kind for NotAStruct {
    const CODE: Code = Code("E0051");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "only structs have fields",
        text: "`x.f` and `%{x | f: e}` work on structs. Tuples are taken apart with \
               patterns (`let (a, b) = pair`), sum types with `case`, and std values with \
               their module's functions (`String.length(s)`).",
        wrong: r#"
fn main() do
  let s = "hello"
  println("${s.length}")
end
"#,
        right: r#"
fn main() do
  let s = "hello"
  println("${String.length(s)}")
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
                "a value of type {} has no field `{}`",
                show(&self.ty),
                self.field
            ),
        )
        .with_label("not a struct")
    }
}

/// `==` or `!=` on functions, or on a type that holds one.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionEquality {
    pub span: Span,
    pub ty: Ty,
}

impl Kind for FunctionEquality {
    const CODE: Code = Code("E0052");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "functions cannot be compared",
        text: "`==` and `!=` compare values structurally, and two functions cannot be \
               compared that way (nor a list, tuple, struct or constructor holding one). \
               Compare what the functions are for instead, e.g. a name kept beside them.",
        wrong: r#"
fn double(x) = x * 2

fn main() do
  let f = double
  println("${f == double}")
end
"#,
        right: r#"
fn double(x) = x * 2

fn main() do
  let f = double
  println("${f(2) == double(2)}")
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
                "values of type {} cannot be compared: it holds a function",
                show(&self.ty)
            ),
        )
        .with_label("comparison of functions")
    }
}

/// `for (a, b) in xs` where the elements are not tuples.
#[derive(Clone, Debug, PartialEq)]
pub struct ForPatternNotTuple {
    pub span: Span,
    pub elem: Ty,
}

impl Kind for ForPatternNotTuple {
    const CODE: Code = Code("E0053");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "`for (a, b) in` needs a list of tuples",
        text: "A `for` takes each element apart with its pattern, so `for (k, v) in xs` \
               needs `xs` to be a list of pairs, such as `Map.to_list(m)` or \
               `List.enumerate(xs)` gives. To walk two lists side by side, `List.zip` them.",
        wrong: r#"
fn main() do
  let names = ["ada", "bo"]
  for (i, name) in names do
    println("${i}: ${name}")
  end
end
"#,
        right: r#"
fn main() do
  let names = ["ada", "bo"]
  for (i, name) in List.enumerate(names) do
    println("${i}: ${name}")
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
            format!(
                "this pattern takes apart a tuple, but the elements are {}",
                show(&self.elem)
            ),
        )
        .with_label("a tuple pattern")
        .with_help(
            "use a name (`for x in xs`), or make pairs first: `List.enumerate(xs)`, \
             `List.zip(xs, ys)`, `Map.to_list(m)`",
        )
    }
}
