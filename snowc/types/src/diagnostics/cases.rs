//! `case` and its patterns: constructor patterns of the wrong arity, and
//! the exhaustiveness check's findings.

use snowc_syntax::diagnostic::plural;
use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// `Rect(w)` for a constructor with two fields.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternFieldCount {
    pub span: Span,
    pub ctor: String,
    pub expected: usize,
    pub given: usize,
}

impl Kind for PatternFieldCount {
    const CODE: Code = Code("E0035");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "constructor pattern with the wrong number of fields",
        text: "A constructor pattern names every field of its constructor; use `_` for the \
               fields the arm does not need.",
        wrong: r#"
type Shape do
  Rect(Int, Int)
end

fn width(s :: Shape) -> Int do
  case s do
    Rect(w) -> w
  end
end

fn main() = println("${width(Rect(2, 3))}")
"#,
        right: r#"
type Shape do
  Rect(Int, Int)
end

fn width(s :: Shape) -> Int do
  case s do
    Rect(w, _) -> w
  end
end

fn main() = println("${width(Rect(2, 3))}")
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
                "constructor {} has {} but the pattern has {}",
                self.ctor,
                plural(self.expected, "field"),
                self.given
            ),
        )
        .with_label(format!("expected {}", plural(self.expected, "field")))
    }
}

/// A `case` that some value of the scrutinee's type matches no arm of.
#[derive(Clone, Debug, PartialEq)]
pub struct NonExhaustiveCase {
    /// The scrutinee.
    pub span: Span,
    /// A value no arm matches, written as a pattern: `Rect(_, _)`, `[]`.
    pub missing: String,
}

impl Kind for NonExhaustiveCase {
    const CODE: Code = Code("E0038");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "case is not exhaustive",
        text: "Every value of the scrutinee's type must match some arm (arms with a `when` \
               guard do not count, since the guard may be false). The message names one \
               value no arm matches. Int, Float and String literals never cover their type: \
               add a `_` or binding arm.",
        wrong: r#"
type Shape do
  Circle(Int)
  Rect(Int, Int)
end

fn area(s :: Shape) -> Int do
  case s do
    Circle(r) -> r * r
  end
end

fn main() = println("${area(Circle(2))}")
"#,
        right: r#"
type Shape do
  Circle(Int)
  Rect(Int, Int)
end

fn area(s :: Shape) -> Int do
  case s do
    Circle(r) -> r * r
    Rect(w, h) -> w * h
  end
end

fn main() = println("${area(Circle(2))}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let m = &self.missing;
        Diagnostic::new(
            Self::CODE,
            self.span,
            format!("case is not exhaustive: missing {m}"),
        )
        .with_label(format!("{m} is not handled"))
        .with_help(format!("add an arm for {m}, or a catch-all arm `_ -> ...`"))
    }
}

/// The exhaustiveness check gave up (its work budget ran out).
#[derive(Clone, Debug, PartialEq)]
pub struct CaseTooComplex {
    /// The scrutinee.
    pub span: Span,
}

impl Kind for CaseTooComplex {
    const CODE: Code = Code("E0039");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "case too complex to check",
        text: "Checking that a `case` is exhaustive takes exponential work in the worst case, \
               and snowc gives up after a fixed budget rather than hang. A catch-all arm \
               makes the check trivial; nested `case`s split the work.",
        wrong: r#"
# A case over a constructor with many fields whose arms fix
# different combinations of them, e.g. P(true, _, false, _, ...).
"#,
        right: r#"
type Pair do
  P(Bool, Bool)
end

fn both(p :: Pair) -> Bool do
  case p do
    P(true, true) -> true
    _ -> false
  end
end

fn main() = println("${both(P(true, false))}")
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(
            Self::CODE,
            self.span,
            "case is too complex to check for exhaustiveness",
        )
        .with_label("these patterns")
        .with_help("split the case into nested cases, or add a catch-all arm `_ -> ...`")
    }
}
