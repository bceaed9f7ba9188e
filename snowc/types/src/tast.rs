//! The typed program: the checker's output and MIR lowering's input.
//!
//! Every name is resolved (locals are numbered, calls say what they call) and
//! every expression carries its type with all inference variables substituted.
//! Types that stay generic (a polymorphic function's parameters) appear as
//! `Ty::Var`; the back end does not need them because every value has the
//! same one-word representation (see docs/ABI.md).

use snowc_syntax::ast::{BinOp, UnOp};
use snowc_syntax::Span;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    Int,
    Float,
    Bool,
    String,
    Unit,
    /// A named type with arguments: `List<Int>`, `Map<String, Int>`, `Option<a>`,
    /// user sum types, and std's opaque types (`Conn`, `Bytes`).
    Con(String, Vec<Ty>),
    /// `Fun(a, b) -> c`
    Fun(Vec<Ty>, Box<Ty>),
    /// A type variable left generic after inference (numbered per function).
    Var(u32),
}

/// A local variable: function parameter, `let`, pattern binding, closure
/// parameter, `for` variable. Unique within one top-level function, closures
/// nested in it included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

/// How a function is named in the program: `main`, `greet` for user
/// functions, `List.map` / `Ws.broadcast_from` for std functions written in Snow.
pub type FnName = String;

#[derive(Clone, Debug, PartialEq)]
pub struct TProgram {
    /// User functions and the std functions written in Snow that are reachable
    /// from them, in a deterministic order (user functions in source order,
    /// then std functions sorted by name).
    pub functions: Vec<TFn>,
    /// The runtime functions referenced by `functions`, sorted by symbol.
    pub externs: Vec<TExtern>,
    /// Source names of locals, for readable MIR (`LocalId` -> name), per function name.
    pub file_name: String,
    /// Every type by internal name (std's and the program's): what MIR
    /// lowering needs to compare values structurally and describe types
    /// to the runtime.
    pub types: std::collections::BTreeMap<String, TypeInfo>,
    /// The program's services (docs/LANGUAGE.md "Services").
    pub services: Vec<TService>,
}

/// A service: its handle type's internal name, the functions the runtime
/// runs for it and the types of what it copies between heaps.
#[derive(Clone, Debug, PartialEq)]
pub struct TService {
    /// The handle type's internal name (`Counter`, `Chat.Rooms.History`).
    pub name: String,
    /// Its `init` (a function of `TProgram::functions`).
    pub init: FnName,
    pub init_params: Vec<Ty>,
    /// The state type (init's result).
    pub state: Ty,
    pub handlers: Vec<THandler>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct THandler {
    /// The operation's name (`add`).
    pub op: String,
    /// A call (replies) or a cast.
    pub call: bool,
    /// The handler's function: `(state, params...) -> (reply, state)` for
    /// a call, `-> state` for a cast.
    pub fun: FnName,
    /// The operation's parameters (the state aside).
    pub params: Vec<Ty>,
    /// A call's reply type (`()` for a cast).
    pub reply: Ty,
}

/// What a service operation does.
#[derive(Clone, Debug, PartialEq)]
pub enum ServiceOp {
    /// `Counter.start(...)`
    Start,
    /// The operation of handler `index` (in `TService::handlers`).
    Handler(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TFn {
    pub name: FnName,
    pub params: Vec<(LocalId, String, Ty)>,
    pub ret: Ty,
    pub body: TExpr,
    /// Name of each local of this function (closures inside included), indexed by `LocalId.0`.
    pub local_names: Vec<String>,
    /// Where each local is bound (its name in the parameter, `let`,
    /// pattern or `for`), indexed like `local_names` (go to definition).
    pub local_spans: Vec<Span>,
    pub span: Span,
}

/// A runtime function from the module table: `pub extern fn join(conn :: Conn, room :: String) -> Int`
/// in `std/ws/ws.snow` becomes `{ name: "Ws.join", symbol: "snow_ws_join", .. }`.
#[derive(Clone, Debug, PartialEq)]
pub struct TExtern {
    pub name: FnName,
    pub symbol: String,
    pub params: Vec<Ty>,
    pub ret: Ty,
    /// Number of distinct type variables in the signature. The ABI passes one
    /// type descriptor per type variable before the declared arguments
    /// (docs/ABI.md, "generic externs").
    pub type_params: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Callee {
    /// A user function or std function written in Snow.
    Fn(FnName),
    /// A runtime function. `type_args` are the instantiated types of the
    /// extern's type variables at this call, in order of first appearance in
    /// its signature (a type still generic here is `Ty::Var`).
    Extern { name: FnName, type_args: Vec<Ty> },
    /// Any other callee: a closure value held in an expression.
    Value(Box<TExpr>),
    /// An operation of a service (index into `TProgram::services`).
    Service { service: usize, op: ServiceOp },
}

#[derive(Clone, Debug, PartialEq)]
pub enum TExprKind {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Unit,
    /// String interpolation: parts of type Int, Float, Bool or String, concatenated.
    Interp(Vec<TExpr>),
    List(Vec<TExpr>),
    Local(LocalId),
    /// A named function used as a value (`List.map(xs, shout)`, `Ws.serve(on_connect, ..)`).
    FnRef(FnName),
    /// An extern used as a value.
    ExternRef {
        name: FnName,
        type_args: Vec<Ty>,
    },
    Call {
        callee: Callee,
        args: Vec<TExpr>,
    },
    /// A constructor applied to its fields (nullary: no args). `tag` is the
    /// variant's index in its type's declaration.
    Ctor {
        type_name: String,
        ctor: String,
        tag: u32,
        args: Vec<TExpr>,
    },
    /// A tuple `(a, b, ...)`: two or more elements (docs/ABI.md: n words).
    Tuple(Vec<TExpr>),
    /// A struct literal: the fields in declaration order (docs/ABI.md: n words).
    Struct {
        type_name: String,
        fields: Vec<TExpr>,
    },
    /// Field `index` of a struct (`u.name`): a load of word `index`.
    Field {
        expr: Box<TExpr>,
        index: u32,
        name: String,
    },
    /// `%{u | f: e}`: a copy of the struct with fields replaced
    /// `(index, name, value)`.
    Update {
        expr: Box<TExpr>,
        /// Number of fields of the struct.
        width: u32,
        fields: Vec<(u32, String, TExpr)>,
    },
    /// `[a, b | tail]`: `items` prepended to `tail`.
    Cons {
        items: Vec<TExpr>,
        tail: Box<TExpr>,
    },
    /// Arithmetic, comparison, `<>`, `and`/`or` (short-circuit). Operand type: `lhs.ty`.
    Binary {
        op: BinOp,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    Unary {
        op: UnOp,
        expr: Box<TExpr>,
    },
    /// Binds `local` for the rest of the enclosing block; value `()`.
    Let {
        local: LocalId,
        value: Box<TExpr>,
    },
    /// `let (a, b) = v`: binds the variables of an irrefutable pattern for
    /// the rest of the enclosing block; value `()`.
    LetPat {
        /// Boxed, as in `For`: a `TPattern` is 144 bytes, and the largest
        /// variant sets the size of every `TExpr` (bench/RESULTS-compiler.md).
        pattern: Box<TPattern>,
        value: Box<TExpr>,
    },
    Block(Vec<TExpr>),
    If {
        cond: Box<TExpr>,
        then: Box<TExpr>,
        else_: Option<Box<TExpr>>,
    },
    /// Exhaustiveness has been checked.
    Case {
        scrutinee: Box<TExpr>,
        arms: Vec<TArm>,
    },
    /// `for p in xs do body end`; `pattern` is irrefutable (a binding for
    /// the plain `for x in`).
    For {
        pattern: Box<TPattern>,
        iter: Box<TExpr>,
        body: Box<TExpr>,
    },
    /// `captures`: the locals of enclosing scopes used in `body`, sorted.
    Lambda {
        params: Vec<(LocalId, Ty)>,
        captures: Vec<LocalId>,
        body: Box<TExpr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TArm {
    pub pattern: TPattern,
    pub guard: Option<TExpr>,
    pub body: TExpr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TPattern {
    pub kind: TPatternKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TPatternKind {
    Wildcard,
    Bind(LocalId),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Unit,
    Ctor {
        type_name: String,
        ctor: String,
        tag: u32,
        args: Vec<TPattern>,
    },
    EmptyList,
    Cons {
        head: Box<TPattern>,
        tail: Box<TPattern>,
    },
    /// `(p, q)`: one pattern per element.
    Tuple(Vec<TPattern>),
    /// `User { name: p }`: one pattern per field, in declaration order
    /// (fields not named are `Wildcard`).
    Struct {
        type_name: String,
        fields: Vec<TPattern>,
    },
}

/// A sum type, struct, service handle or opaque type (std or user).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TypeInfo {
    /// Internal name, used in `Ty::Con`.
    pub name: String,
    pub params: Vec<String>,
    pub variants: Vec<VariantInfo>,
    pub opaque: bool,
    pub span: Span,
    /// A struct's fields in declaration order (`Ty::Var(i)`: the struct's
    /// i-th parameter); `None` for any other type.
    pub fields: Option<Vec<(String, Ty)>>,
    /// Where each struct field is declared (its name), parallel to `fields`
    /// (go to definition from a field access).
    pub field_spans: Vec<Span>,
    /// The handle type of a `service` (opaque, compared by identity).
    pub service: bool,
    /// `pub` (std types are all public).
    pub public: bool,
}

impl TypeInfo {
    /// The index and type of a struct's field.
    pub fn field(&self, name: &str) -> Option<(u32, &Ty)> {
        let fields = self.fields.as_ref()?;
        fields
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| (i as u32, &fields[i].1))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct VariantInfo {
    pub name: String,
    /// Field types; `Ty::Var(i)` is the type's i-th parameter.
    pub fields: Vec<Ty>,
    pub span: Span,
}

/// A constructor: its type's (internal) name and its tag.
#[derive(Clone, Debug, PartialEq)]
pub struct CtorRef {
    pub type_name: String,
    pub tag: u32,
}
