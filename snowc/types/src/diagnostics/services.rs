//! Services (state that outlives a callback).

use crate::tast::Ty;
use crate::ty::show;
use snowc_syntax::{Code, Diagnostic, Explanation, Kind, Span};

/// A handler body that does not evaluate to what a handler returns.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceHandlerResult {
    pub span: Span,
    /// `call` or `cast`.
    pub kind: &'static str,
    pub expected: Ty,
    pub found: Ty,
}

impl Kind for ServiceHandlerResult {
    const CODE: Code = Code("E0056");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a handler returns the wrong thing",
        text: "A `call` handler's body evaluates to a pair `(reply, new_state)`: the reply \
               goes to the caller and the new state replaces the service's. A `cast` \
               handler's body evaluates to the new state alone. The state always has the \
               type `init` gives it.",
        wrong: r#"
service Counter do
  fn init() -> Int = 0
  call Next() :: Int do |n|
    n + 1
  end
end

fn main() do
  let c = Counter.start()
  println("${Counter.next(c)}")
end
"#,
        right: r#"
service Counter do
  fn init() -> Int = 0
  call Next() :: Int do |n|
    (n + 1, n + 1)
  end
end

fn main() do
  let c = Counter.start()
  println("${Counter.next(c)}")
end
"#,
    };
    fn span(&self) -> Span {
        self.span
    }
    fn to_diagnostic(&self) -> Diagnostic {
        let mut p = crate::ty::TyPrinter::default();
        let (expected, found) = (p.print(&self.expected), p.print(&self.found));
        let d = Diagnostic::new(
            Self::CODE,
            self.span,
            format!(
                "this {} handler must evaluate to {expected}, not {found}",
                self.kind
            ),
        );
        if self.kind == "call" {
            d.with_label("should be (reply, new_state)")
                .with_help("end the handler with a pair: the reply first, then the new state")
        } else {
            d.with_label("should be the new state")
                .with_help("a cast handler's value is the service's new state")
        }
    }
}

/// Two handlers of one service with the same operation name (or one named `start`).
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateHandler {
    pub span: Span,
    pub service: String,
    /// The operation's name (`get`).
    pub op: String,
    /// The first handler of that name (`None`: the name is `start`).
    pub first: Option<Span>,
}

impl Kind for DuplicateHandler {
    const CODE: Code = Code("E0057");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "two operations of a service have one name",
        text: "Each handler `call Name` or `cast Name` gives the service an operation named \
               in snake_case (`Name` is `Service.name`), so two handlers cannot share a name, \
               and none can be `Start`: `Service.start` creates the service.",
        wrong: r#"
service Counter do
  fn init() -> Int = 0
  call Get() :: Int do |n|
    (n, n)
  end
  cast Get() do |n|
    n
  end
end

fn main() do
  let c = Counter.start()
  println("${Counter.get(c)}")
end
"#,
        right: r#"
service Counter do
  fn init() -> Int = 0
  call Get() :: Int do |n|
    (n, n)
  end
  cast Touch() do |n|
    n
  end
end

fn main() do
  let c = Counter.start()
  Counter.touch(c)
  println("${Counter.get(c)}")
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
            format!(
                "service {} has two operations named `{}`",
                self.service, self.op
            ),
        );
        match self.first {
            Some(first) => d
                .with_label("second handler of this name")
                .with_secondary(first, "first defined here"),
            None => d.with_label("`start` is taken").with_help(format!(
                "`{}.start` creates the service; rename the handler",
                self.service
            )),
        }
    }
}

/// A service without `fn init`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceWithoutInit {
    pub span: Span,
    pub service: String,
}

impl Kind for ServiceWithoutInit {
    const CODE: Code = Code("E0058");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a service needs `fn init`",
        text: "`fn init(...)` gives a service its first state; its parameters are the ones \
               `Service.start(...)` takes, and its result type is the type of the state.",
        wrong: r#"
service Counter do
  call Get() :: Int do |n|
    (n, n)
  end
end

fn main() = println("none")
"#,
        right: r#"
service Counter do
  fn init() -> Int = 0
  call Get() :: Int do |n|
    (n, n)
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
            format!("service {} has no `fn init`", self.service),
        )
        .with_label("no first state")
        .with_help("add `fn init() -> State = ...`: its result is the first state")
    }
}

/// A state type that inference leaves generic.
#[derive(Clone, Debug, PartialEq)]
pub struct StateTypeUnknown {
    pub span: Span,
    pub service: String,
    pub ty: Ty,
}

impl Kind for StateTypeUnknown {
    const CODE: Code = Code("E0059");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "the state type of a service must be known",
        text: "A service's state has one type, the result type of its `init`, and it must \
               be fully known from `init` alone (the runtime copies values of that type \
               between heaps). An empty list or map says nothing about its elements: \
               annotate `init`'s result.",
        wrong: r#"
service Log do
  fn init() = []
  call Lines() :: List<String> do |lines|
    (lines, lines)
  end
end

fn main() do
  let l = Log.start()
  println("${List.length(Log.lines(l))}")
end
"#,
        right: r#"
service Log do
  fn init() -> List<String> = []
  call Lines() :: List<String> do |lines|
    (lines, lines)
  end
end

fn main() do
  let l = Log.start()
  println("${List.length(Log.lines(l))}")
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
                "the state type of service {} is not fully known: {}",
                self.service,
                show(&self.ty)
            ),
        )
        .with_label("init's result")
        .with_help("annotate init's result type: `fn init() -> List<String> = []`")
    }
}

/// A state, argument or reply of a service that holds a function.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionInService {
    pub span: Span,
    pub service: String,
    pub ty: Ty,
}

impl Kind for FunctionInService {
    const CODE: Code = Code("E0060");
    const EXPLANATION: Explanation = Explanation {
        code: Self::CODE,
        title: "a service's values cannot hold functions",
        text: "A service keeps its state on a heap of its own, and the arguments and \
               replies of its operations are copied between heaps. Functions (closures) \
               cannot be copied that way, so the state, arguments and replies hold data \
               only: keep a name or a tag in the state and choose the function outside.",
        wrong: r#"
service Hooks do
  fn init() -> List<Fun(Int) -> Int> = []
  cast Add(f :: Fun(Int) -> Int) do |fs|
    [f | fs]
  end
end

fn main() do
  let h = Hooks.start()
  Hooks.add(h, fn(x) -> x + 1 end)
end
"#,
        right: r#"
service Hooks do
  fn init() -> List<String> = []
  cast Add(name :: String) do |names|
    [name | names]
  end
end

fn main() do
  let h = Hooks.start()
  Hooks.add(h, "increment")
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
                "service {} would copy a value of type {}, which holds a function",
                self.service,
                show(&self.ty)
            ),
        )
        .with_label("holds a function")
        .with_help("keep data in a service (a name, a tag) and choose the function outside it")
    }
}
