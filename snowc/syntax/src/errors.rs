//! The kinds of syntax error (lexer and parser): each one's facts, code,
//! rendering and explanation. Codes `E0001`-`E0011`, `E0040`-`E0042`.

use crate::diagnostic::{Code, Diagnostic, Explanation, Kind};
use crate::span::Span;

crate::diagnostic_kinds! {
    /// A syntax error, as the lexer and parser find them.
    pub enum SyntaxError {
        UnexpectedCharacter,
        IntegerTooLarge,
        UnknownEscape,
        InvalidUnicodeEscape,
        UnterminatedString,
        UnexpectedToken,
        UnclosedBlock,
        UntypedExternParam,
        NestedTooDeeply,
        ExpressionTooLong,
        TooManyErrors,
        WhileLoop,
        Reassignment,
        ServiceMember,
    }
}

/// Characters that start no token: `@`, `'`, a `$` outside a string.
#[derive(Clone, Debug, PartialEq)]
pub struct UnexpectedCharacter {
    pub span: Span,
    /// The run of bad characters.
    pub text: String,
}

impl Kind for UnexpectedCharacter {
    const CODE: Code = Code("E0001");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unexpected character",
        text: "A character that starts no Snow token, such as `@`, `'` or a `$` outside a \
               string. Strings use double quotes, and `${...}` interpolation only works \
               inside a string.",
        wrong: r#"
fn main() do
  let total = 1 @ 2
  println("${total}")
end
"#,
        right: r#"
fn main() do
  let total = 1 + 2
  println("${total}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let t = &self.text;
        let msg = if t.chars().count() == 1 {
            format!("unexpected character '{}'", t.escape_debug())
        } else {
            format!("unexpected characters '{}'", t.escape_debug())
        };
        let d =
            Diagnostic::new(Self::CODE, self.span, msg).with_label("not part of any Snow token");
        if t.starts_with('$') {
            d.with_help("interpolation `${...}` only works inside a string")
        } else if t.starts_with('\'') {
            d.with_help("strings use double quotes: \"...\"")
        } else {
            d
        }
    }
}

/// An integer literal beyond `i64`.
#[derive(Clone, Debug, PartialEq)]
pub struct IntegerTooLarge {
    pub span: Span,
}

impl Kind for IntegerTooLarge {
    const CODE: Code = Code("E0002");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "integer literal is too large",
        text: "An `Int` is a 64-bit signed integer: a literal must be at most \
               9223372036854775807 (0x7FFFFFFFFFFFFFFF). Use a `Float` for larger magnitudes.",
        wrong: r#"
fn main() do
  let big = 99999999999999999999
  println("${big}")
end
"#,
        right: r#"
fn main() do
  let big = 99999999999999999999.0
  println("${big}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "integer literal is too large")
            .with_label("does not fit in a 64-bit Int")
            .with_help("the largest Int is 9223372036854775807")
    }
}

/// `\q` in a string: not one of the escapes.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownEscape {
    pub span: Span,
    /// The character after the backslash.
    pub escape: char,
}

impl Kind for UnknownEscape {
    const CODE: Code = Code("E0003");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unknown escape in a string",
        text: "A backslash in a string starts an escape: `\\n`, `\\t`, `\\r`, `\\\"`, `\\\\`, \
               `\\$` or `\\u{...}`. Any other character after a backslash is an error; write \
               `\\\\` for a backslash itself.",
        wrong: r#"
fn main() do
  println("C:\snow")
end
"#,
        right: r#"
fn main() do
  println("C:\\snow")
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
            format!("unknown escape '\\{}'", self.escape.escape_debug()),
        )
        .with_label("unknown escape")
        .with_help("valid escapes are \\n \\t \\r \\\" \\\\ \\$ \\u{...}")
    }
}

/// `\u{...}` that is not a Unicode scalar value, or `\u` without braces.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidUnicodeEscape {
    pub span: Span,
    /// The hex digits between the braces; `None` when there are no braces.
    pub digits: Option<String>,
}

impl Kind for InvalidUnicodeEscape {
    const CODE: Code = Code("E0004");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "invalid unicode escape",
        text: "`\\u{...}` takes 1 to 6 hexadecimal digits naming a Unicode scalar value \
               (at most 10FFFF, and not a surrogate D800-DFFF).",
        wrong: r#"
fn main() do
  println("\u{110000}")
end
"#,
        right: r#"
fn main() do
  println("\u{1F600}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        match &self.digits {
            Some(hex) => Diagnostic::new(
                Self::CODE,
                self.span,
                format!("invalid unicode escape '\\u{{{hex}}}'"),
            )
            .with_label("not a Unicode scalar value")
            .with_help("write 1 to 6 hex digits, e.g. \\u{1F600}"),
            None => Diagnostic::new(Self::CODE, self.span, "invalid unicode escape")
                .with_label("expected \\u{...}")
                .with_help("write the code point in braces, e.g. \\u{1F600}"),
        }
    }
}

/// A string still open at the end of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct UnterminatedString {
    /// The opening quote.
    pub span: Span,
}

impl Kind for UnterminatedString {
    const CODE: Code = Code("E0005");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unterminated string",
        text: "A string's closing `\"` is missing, so the rest of the file would be part of \
               it. A `\"` inside a string is written `\\\"`.",
        wrong: r#"
fn main() do
  println("hello)
end
"#,
        right: r#"
fn main() do
  println("hello")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "unterminated string")
            .with_label("this string is never closed")
            .with_help("add a closing \" at the end of the string")
    }
}

/// The parser found a token (or the end of the item) where the grammar
/// allows none of it.
#[derive(Clone, Debug, PartialEq)]
pub struct UnexpectedToken {
    pub span: Span,
    /// What was found, described: `keyword 'end'`, `number 1`, `end of file`.
    pub found: String,
    /// What could have come instead, described (`an expression`, `')'`).
    pub expected: Vec<String>,
    /// The bracket left open when its closing one was expected.
    pub unclosed: Option<(Span, String)>,
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

impl Kind for UnexpectedToken {
    const CODE: Code = Code("E0006");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "unexpected token",
        text: "The code does not follow Snow's grammar at this point: the message says what \
               was found and what could have come instead. Common causes are a missing comma \
               or closing bracket, and an operator at the start of a line (a line ends an \
               expression unless it ends with an operator or a comma).",
        wrong: r#"
fn main() do
  println("a" "b")
end
"#,
        right: r#"
fn main() do
  println("a" <> "b")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let (msg, label) = if self.expected.is_empty() {
            (
                format!("unexpected {}", self.found),
                "unexpected here".to_string(),
            )
        } else {
            let e = join_or(&self.expected);
            (
                format!("unexpected {}, expected {e}", self.found),
                format!("expected {e}"),
            )
        };
        let d = Diagnostic::new(Self::CODE, self.span, msg).with_label(label);
        match &self.unclosed {
            Some((span, bracket)) => {
                d.with_secondary(*span, format!("this '{bracket}' is not closed"))
            }
            None => d,
        }
    }
}

/// A `do` block or `fn` closure without its `end`.
#[derive(Clone, Debug, PartialEq)]
pub struct UnclosedBlock {
    /// The `do` (or the closure's `fn`).
    pub span: Span,
    pub lambda: bool,
}

impl Kind for UnclosedBlock {
    const CODE: Code = Code("E0007");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "block never closed with end",
        text: "Every `do` (of a function, `if`, `case`, `for`) and every closure `fn(...) ->` \
               is closed by its own `end`. The error points at the block whose `end` is \
               missing, judged by indentation when an `end` further down closes an outer block.",
        wrong: r#"
fn main() do
  if true do
    println("yes")
end
"#,
        right: r#"
fn main() do
  if true do
    println("yes")
  end
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let (msg, label) = if self.lambda {
            (
                "this fn is never closed with end",
                "this `fn` has no matching `end`",
            )
        } else {
            (
                "this do block is never closed with end",
                "this `do` has no matching `end`",
            )
        };
        Diagnostic::new(Self::CODE, self.span, msg)
            .with_label(label)
            .with_help("add `end` after the last line of the block")
    }
}

/// `extern fn f(x)`: an extern's parameters need types (std modules only).
#[derive(Clone, Debug, PartialEq)]
pub struct UntypedExternParam {
    pub span: Span,
    pub name: String,
}

impl Kind for UntypedExternParam {
    const CODE: Code = Code("E0008");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "extern parameter without a type",
        text: "An `extern fn` (declared in std modules only) binds a runtime function, whose \
               signature cannot be inferred: every parameter needs a `:: Type`.",
        wrong: r#"
pub extern fn join(conn, room :: String) -> Int
"#,
        right: r#"
pub extern fn join(conn :: Conn, room :: String) -> Int
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("parameter {} of an extern fn needs a type", self.name),
        )
        .with_label(format!("write `{} :: Type`", self.name))
    }
}

/// Brackets, blocks or prefix operators nested beyond the limit.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedTooDeeply {
    pub span: Span,
    pub limit: usize,
}

impl Kind for NestedTooDeeply {
    const CODE: Code = Code("E0009");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "expression is nested too deeply",
        text: "Brackets, blocks, interpolations and prefix operators may nest at most 200 \
               levels deep, so that no stage of the compiler can run out of stack. Name the \
               inner parts with `let` or move them into functions.",
        wrong: r#"
fn main() = println("${((((((((((((((((((((((( ... 200 levels ... )))))))))))))))))))))}")
"#,
        right: r#"
fn inner() = 1
fn main() = println("${inner()}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "expression is nested too deeply")
            .with_label(format!("more than {} levels deep here", self.limit))
            .with_help("split the expression with `let` bindings or helper functions")
    }
}

/// More binary operators (or call suffixes) chained in one expression than allowed.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpressionTooLong {
    pub span: Span,
    pub limit: usize,
}

impl Kind for ExpressionTooLong {
    const CODE: Code = Code("E0010");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "expression is too long",
        text: "One expression may chain at most 256 binary operators (or call suffixes \
               `f(a)(b)`), so that no stage of the compiler can run out of stack. Name parts \
               of it with `let`.",
        wrong: r#"
fn main() = println("${1 + 1 + 1 + 1 + ... 300 times ... + 1}")
"#,
        right: r#"
fn main() do
  let a = 1 + 1 + 1
  let b = a + 1 + 1
  println("${b}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "expression is too long")
            .with_label(format!(
                "more than {} operators in one expression",
                self.limit
            ))
            .with_help("split the expression with `let` bindings or helper functions")
    }
}

/// The parser stops reporting after this many errors in one file.
#[derive(Clone, Debug, PartialEq)]
pub struct TooManyErrors {
    /// The last error reported.
    pub span: Span,
}

impl Kind for TooManyErrors {
    const CODE: Code = Code("E0011");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "too many syntax errors",
        text: "After 50 syntax errors in one file the parser stops reporting more: the first \
               ones are the reliable ones. Fix them and compile again.",
        wrong: r#"
fn a() = )
fn b() = )
# ... 50 more functions like these
"#,
        right: r#"
fn a() = 1
fn b() = 2
fn main() = println("${a() + b()}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            "too many syntax errors; stopping here",
        )
        .with_label("the last error reported")
        .with_help("fix the errors above first")
    }
}

/// `while cond do ... end`: Snow has no loops that mutate; it has recursion
/// and `for`.
#[derive(Clone, Debug, PartialEq)]
pub struct WhileLoop {
    pub span: Span,
}

impl Kind for WhileLoop {
    const CODE: Code = Code("E0040");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "Snow has no `while` loop",
        text: "Snow's values are immutable, so a loop that tests a condition changed by its \
               body cannot be written. Loop with a function that calls itself in tail \
               position (it runs in constant stack, like a `while`), or walk a list with \
               `for x in xs do ... end`, `List.range(0, n)`, `List.map` or `List.fold`.",
        wrong: r#"
fn main() do
  let i = 0
  while i < 3 do
    println("${i}")
  end
end
"#,
        right: r#"
fn count(i, n) do
  if i < n do
    println("${i}")
    count(i + 1, n)
  end
end

fn main() do
  count(0, 3)
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Self::CODE, self.span, "Snow has no `while` loop")
            .with_label("not a Snow loop")
            .with_help(
                "loop with a function that calls itself in tail position (constant stack), \
                 or with `for x in List.range(0, n) do ... end`",
            )
    }
}

/// `x = e`: bindings are immutable.
#[derive(Clone, Debug, PartialEq)]
pub struct Reassignment {
    pub span: Span,
    pub name: String,
}

impl Kind for Reassignment {
    const CODE: Code = Code("E0041");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a binding cannot be assigned again",
        text: "Snow's bindings are immutable: `x = e` does not change `x`. Write a new \
               `let x = e`, which shadows the old binding for the rest of the block, or \
               pass the new value to a recursive call. State that must outlive a \
               callback lives in a service.",
        wrong: r#"
fn main() do
  let total = 1
  total = total + 1
  println("${total}")
end
"#,
        right: r#"
fn main() do
  let total = 1
  let total = total + 1
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
            format!("cannot assign to `{}`: bindings are immutable", self.name),
        )
        .with_label("assignment")
        .with_help(format!(
            "write `let {} = ...` to bind the new value (it shadows the old one)",
            self.name
        ))
    }
}

/// Something other than `fn init`, `call` or `cast` in a service body.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceMember {
    pub span: Span,
    /// What was found (`fn helper`).
    pub found: String,
}

impl Kind for ServiceMember {
    const CODE: Code = Code("E0042");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a service holds `fn init`, `call` and `cast` only",
        text: "A service body has one `fn init(...)` that gives the first state, and \
               `call Name(...) :: T do |state| ... end` and `cast Name(...) do |state| ... \
               end` handlers. Helper functions go at the top level of the file.",
        wrong: r#"
service Counter do
  fn init() = 0
  fn double(n) = n * 2
  call Get() :: Int do |n|
    (double(n), n)
  end
end

fn main() do
  let c = Counter.start()
  println("${Counter.get(c)}")
end
"#,
        right: r#"
fn double(n) = n * 2

service Counter do
  fn init() = 0
  call Get() :: Int do |n|
    (double(n), n)
  end
end

fn main() do
  let c = Counter.start()
  println("${Counter.get(c)}")
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
            format!("`{}` cannot be part of a service", self.found),
        )
        .with_label("not `fn init`, `call` or `cast`")
        .with_help("a service has one `fn init`; move helper functions to the top level")
    }
}
