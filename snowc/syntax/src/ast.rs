//! The untyped, spanned syntax tree produced by the parser.
//!
//! Sugar is removed by the parser where it is purely syntactic:
//! - `x |> f(a)` becomes `Call { callee: f, args: [x, a] }` (also `Module.f`);
//! - `if a do .. else if b do .. else .. end` becomes nested `If`;
//! - `&&`/`||`/`!` become `And`/`Or`/`Not`.
//!
//! Everything that needs name resolution or types (which `f` is meant, whether
//! `Foo` is a constructor of a user type or of std) is left to the checker.

use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed file (a user program or one std module file).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Fn(FnDef),
    Extern(ExternFn),
    Type(TypeDef),
    /// `struct User do name :: String ... end`
    Struct(StructDef),
    /// `service Counter do fn init(..) .. call Get() :: Int do |n| .. end .. end`
    Service(ServiceDef),
    /// `import String`, `import Chat.Rooms`, `import Chat.Rooms as R`
    Import {
        path: ModPath,
        alias: Option<Ident>,
        span: Span,
    },
    /// `from Ws import join, broadcast`, `from Chat.Rooms import (join_all, Room)`
    FromImport {
        path: ModPath,
        /// Lower-case (functions) and capitalised (types, structs,
        /// constructors, services) names.
        names: Vec<Ident>,
        span: Span,
    },
}

/// A module path as written: `Chat.Rooms` is `[Chat, Rooms]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModPath {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl ModPath {
    /// `Chat.Rooms`
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
    /// The last segment (`Rooms`), the name an `import` gives the module.
    pub fn last(&self) -> &Ident {
        self.segments.last().expect("a module path has a segment")
    }
}

/// `[pub] struct Name<a> do field :: Type ... end`
#[derive(Clone, Debug, PartialEq)]
pub struct StructDef {
    pub public: bool,
    pub name: Ident,
    pub params: Vec<Ident>,
    pub fields: Vec<FieldDef>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `[pub] service Name do fn init(params) [-> T] ... handlers ... end`
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceDef {
    pub public: bool,
    pub name: Ident,
    /// `fn init(...)`: its parameters are `start`'s, its value the first state.
    pub init: Option<FnDef>,
    pub handlers: Vec<Handler>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerKind {
    Call,
    Cast,
}

/// `call Name(params) :: T do |state| body end` (body: `(reply, new_state)`)
/// or `cast Name(params) do |state| body end` (body: the new state).
#[derive(Clone, Debug, PartialEq)]
pub struct Handler {
    pub kind: HandlerKind,
    /// Capitalised, as written (`Get`); the function is its snake_case (`get`).
    pub name: Ident,
    pub params: Vec<Param>,
    /// A call's reply type (`:: T`); `None` for a cast or when omitted.
    pub reply: Option<TypeExpr>,
    /// The state parameter between bars.
    pub state: Param,
    pub body: Expr,
    pub span: Span,
}

/// `[pub] fn name(params) [-> Ret] do ... end` or `[pub] fn name(params) [-> Ret] = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    pub public: bool,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Expr,
    pub span: Span,
}

/// `pub extern fn join(conn :: Conn, room :: String) -> Int` (std sources only;
/// the checker reports an error for externs in user programs).
#[derive(Clone, Debug, PartialEq)]
pub struct ExternFn {
    pub public: bool,
    pub name: Ident,
    /// All parameters are annotated (the parser reports an error otherwise).
    pub params: Vec<Param>,
    /// `None` when `-> T` is omitted: the return type is `()`.
    pub ret: Option<TypeExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub span: Span,
}

/// `type Shape do Circle(Int) Rect(Int, Int) Empty end`, `type Pair<a, b> do Pair(a, b) end`,
/// or the opaque `pub type Conn` (no `do`, `opaque = true`, no variants).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    pub public: bool,
    pub name: Ident,
    pub params: Vec<Ident>,
    pub variants: Vec<Variant>,
    pub opaque: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: Ident,
    pub fields: Vec<TypeExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `Int`, `List<a>`, `Map<String, Int>`, a user type, or a type variable `a`
    /// (lower-case name, no args); `Rooms.Room` names a type of an imported module.
    Named {
        module: Option<Ident>,
        name: Ident,
        args: Vec<TypeExpr>,
    },
    /// `()`
    Unit,
    /// `(Int, String)`: two or more elements.
    Tuple(Vec<TypeExpr>),
    /// `Fun(a, b) -> c`, `Fun() -> ()`
    Fun {
        params: Vec<TypeExpr>,
        ret: Box<TypeExpr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `<>`
    Concat,
}

impl BinOp {
    /// The operator as written in Snow source (`and` for `&&` too).
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Concat => "<>",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `not x`, `!x`
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Lit(String),
    /// `${expr}`
    Interp(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    /// A string literal; a literal without interpolation is one `Lit` part
    /// (or no parts for `""`). Escapes are already decoded.
    Str(Vec<StrPart>),
    Bool(bool),
    /// `nil`, the unit value.
    Nil,
    /// `[1, 2, 3]`
    List(Vec<Expr>),
    /// A lower-case name: local, function, or `from`-imported std function.
    Var(Ident),
    /// A capitalised name alone: a constructor (`Empty`, `None`, or the callee of `Circle(2)`).
    Ctor(Ident),
    /// `Rooms.Open`: a constructor of an imported module's type (alone or as
    /// a callee).
    QualifiedCtor {
        module: Box<Ident>,
        name: Ident,
    },
    /// `(a, b)`, `(1, "one", x)`: two or more elements.
    Tuple(Vec<Expr>),
    /// `User { name: "ada", age: 36 }`, `Rooms.Room { name: "a" }`
    StructLit {
        module: Option<Box<Ident>>,
        name: Ident,
        fields: Vec<FieldInit>,
    },
    /// `u.name`
    Field {
        expr: Box<Expr>,
        field: Ident,
    },
    /// `%{u | age: 1, name: "x"}`: a copy of `u` with those fields replaced.
    Update {
        expr: Box<Expr>,
        fields: Vec<FieldInit>,
    },
    /// `[h | t]`, `[a, b | t]`: the items prepended to the list `tail`.
    Cons {
        items: Vec<Expr>,
        tail: Box<Expr>,
    },
    /// `Module.name` (a std function, as callee or as a value).
    Qualified {
        // Boxed, like `Let`'s annotation, to keep every `Expr` small (the
        // largest variant sets the size of all of them).
        module: Box<Ident>,
        name: Ident,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    /// `let x [:: T] = value`, `let (a, b) = pair`, `let User { name } = u`;
    /// the bindings scope over the rest of the enclosing block. Its own
    /// value is `()`. The pattern must be irrefutable (checked by the checker).
    Let {
        pattern: Box<Pattern>,
        ty: Option<Box<TypeExpr>>,
        value: Box<Expr>,
    },
    /// `do ... end` bodies and function bodies: value of the last expression
    /// (`()` when empty).
    Block(Vec<Expr>),
    /// `if c do .. [else ..] end`; `else if` is a nested `If` in `else_`.
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Option<Box<Expr>>,
    },
    Case {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    /// `for x in list do body end`, `for (k, v) in pairs do .. end`
    For {
        pattern: Box<Pattern>,
        iter: Box<Expr>,
        body: Box<Expr>,
    },
    /// `fn(x) -> x + 1 end`, `fn(x :: Int, y) do ... end`
    Lambda {
        params: Vec<Param>,
        body: Box<Expr>,
    },
    /// Produced by error recovery in place of an unparsable expression.
    /// The parser has already reported a diagnostic; later stages skip it silently.
    Error,
}

/// `name: value` in a struct literal or update; `name` alone is `name: name`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldInit {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// `x`
    Bind(Ident),
    /// `0`, `-1`
    Int(i64),
    /// `1.5`
    Float(f64),
    /// `"join"` (no interpolation allowed)
    Str(String),
    Bool(bool),
    Nil,
    /// `Some(x)`, `Empty`, `Rect(w, _)`, `Rooms.Open(x)`
    Ctor {
        module: Option<Ident>,
        name: Ident,
        args: Vec<Pattern>,
    },
    /// `(x, _)`: two or more elements.
    Tuple(Vec<Pattern>),
    /// `User { name: "ada", age }`: a field alone binds a variable of its
    /// name; fields not named match anything.
    Struct {
        module: Option<Ident>,
        name: Ident,
        fields: Vec<FieldPat>,
    },
    /// `[]`
    EmptyList,
    /// `[head | tail]`
    Cons {
        head: Box<Pattern>,
        tail: Box<Pattern>,
    },
}

/// `field: pattern`, or `field` alone (a binding of that name: `pattern`
/// is then a `Bind` with the field's span).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldPat {
    pub name: Ident,
    pub pattern: Pattern,
}

impl Pattern {
    /// A binding, `_` or a tuple or struct of those: matches every value of
    /// its type (what a `let` or `for` pattern must be).
    pub fn is_irrefutable(&self) -> bool {
        match &self.kind {
            PatternKind::Wildcard | PatternKind::Bind(_) | PatternKind::Nil => true,
            PatternKind::Tuple(ps) => ps.iter().all(Pattern::is_irrefutable),
            PatternKind::Struct { fields, .. } => fields.iter().all(|f| f.pattern.is_irrefutable()),
            _ => false,
        }
    }
}
