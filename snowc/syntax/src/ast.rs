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
    /// `import String`
    Import {
        module: Ident,
        span: Span,
    },
    /// `from Ws import join, broadcast`
    FromImport {
        module: Ident,
        names: Vec<Ident>,
        span: Span,
    },
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
    /// (lower-case name, no args).
    Named { name: Ident, args: Vec<TypeExpr> },
    /// `()`
    Unit,
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
    /// `let x [:: T] = value`; the binding scopes over the rest of the enclosing block.
    /// Its own value is `()`.
    Let {
        name: Ident,
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
    /// `for x in list do body end`
    For {
        var: Ident,
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
    /// `Some(x)`, `Empty`, `Rect(w, _)`
    Ctor {
        name: Ident,
        args: Vec<Pattern>,
    },
    /// `[]`
    EmptyList,
    /// `[head | tail]`
    Cons {
        head: Box<Pattern>,
        tail: Box<Pattern>,
    },
}
