//! MIR: a small, explicit, printable IR between the typed program and LLVM.
//!
//! - Every value is one 64-bit word (docs/ABI.md): Int, Bool (0/1), unit (0),
//!   Float (its IEEE bits), and pointers to heap objects (strings, list cells,
//!   sum-type objects, closures, maps). So MIR has one value type and generic
//!   functions need no monomorphization.
//! - Functions are control-flow graphs of basic blocks over numbered variables.
//!   Variables are mutable slots (not SSA): a join point is a variable assigned
//!   in each predecessor. Codegen gives each an `alloca`; LLVM's mem2reg makes
//!   SSA of them at -O2.
//! - Every call says exactly what it calls: a MIR function, a runtime symbol,
//!   or a closure value. Closures are converted: a closure is
//!   `MakeClosure { func, captures }`, and the lifted function receives the
//!   closure object as its first parameter and reads captures with `EnvLoad`.
//! - Pattern matching is compiled to a decision tree of tag/literal tests:
//!   `Switch` on a tag, an Int or a string's length, `Branch` otherwise.
//! - A self-recursive call in tail position is a `Jump` back to the entry
//!   block after reassigning the parameters, so it runs in constant stack.
//!   Any other call of a MIR function or closure in tail position is a
//!   `TailCall` terminator (LLVM `musttail`): constant stack too.
//! - Every call of a MIR function or closure and every loop back edge is
//!   preceded by a `Check` (docs/ABI.md "Stack"): the safepoint where stack
//!   overflow, a callback timeout or a wanted collection is noticed.
//! - Every statement and terminator carries the source line and column it
//!   comes from (`Block::locs`), for debug information.

use std::fmt;

/// A variable slot of one function. `Var(0..params)` are the parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// In a deterministic order; `main` is the user's `fn main()`.
    pub functions: Vec<Function>,
    /// Runtime functions called, sorted by symbol (declared from the module table).
    pub externs: Vec<ExternDecl>,
    /// Name of the source file, for panic messages (`snow: panic at chat.snow:12:5: ...`).
    pub file_name: String,
    /// The static type descriptors generic runtime functions receive for
    /// compound types (docs/ABI.md "Type descriptors"), sorted by name.
    pub descs: Vec<TypeDesc>,
}

/// A static type descriptor: `{ i64 kind, i64 n, i64 parts[n] }`, where a
/// part is a descriptor word (a small constant, or another descriptor).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDesc {
    /// The type it describes, as Snow prints it (`List<(Int, String)>`).
    pub name: String,
    pub kind: i64,
    pub parts: Vec<Operand>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExternDecl {
    /// `snow_ws_join`
    pub symbol: String,
    /// Number of word arguments, type descriptors included.
    pub arity: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// Unique symbol-safe name: user `main` -> `main`, `List.map` -> `List.map`,
    /// lifted closures -> `greet$closure0`. Codegen prefixes all with `snow.`.
    pub name: String,
    /// Number of parameters; they are `Var(0)..Var(params)`. A lifted closure's
    /// `Var(0)` is the closure object itself (for `EnvLoad`).
    pub params: u32,
    /// Total variables (params included).
    pub vars: u32,
    /// Debug names of variables (may be empty strings for temporaries).
    pub var_names: Vec<String>,
    /// `blocks[0]` is the entry.
    pub blocks: Vec<Block>,
    /// True for lifted closures (called through a closure object).
    pub is_closure: bool,
    /// Where the function (or lambda) is defined; `line` 0 for functions the
    /// lowering synthesised. Used when a function's own frame is too large
    /// for the stack left (docs/ABI.md "Stack").
    pub pos: SourcePos,
}

/// A source position: `file` is `None` for the program's own file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourcePos {
    pub file: Option<String>,
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub id: BlockId,
    pub stmts: Vec<Stmt>,
    pub term: Terminator,
    /// The source position of each statement (parallel to `stmts`; a block
    /// built by hand may leave it shorter) and of the terminator, in the
    /// function's own file (`Function::pos.file`): the debug information's
    /// line table (`snowc build -g`). Not part of the printed form.
    pub locs: Vec<Loc>,
    pub term_loc: Loc,
}

/// A line and column (1-based) in the file of the enclosing function; 0:0
/// for code with no source of its own (it is then attributed to the
/// function's definition).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    Assign(Var, Rvalue),
    /// Call for effect only.
    Eval(Rvalue),
    /// A safepoint before a call or a loop back edge: compares the stack
    /// pointer with the thread's limit and enters the runtime when it is
    /// below (stack overflow, or a signal: collection wanted, callback timed
    /// out). The position is the call's (or loop's) source position, used in
    /// the panic message; `file` is `None` for the program's own file.
    Check {
        file: Option<String>,
        line: u32,
        col: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Var(Var),
    /// Int, Bool (0/1), unit (0), type descriptors.
    Const(i64),
    /// A Float constant (stored as its bits).
    Float(f64),
    /// A string literal: a pointer to a static string object (docs/ABI.md).
    Str(String),
    /// A named MIR function as a closure value (static closure object, no captures).
    FnRef(String),
    /// A nullary constructor: a pointer to a static object with this tag and no fields.
    NullaryCtor(u32),
    /// A pointer to the static type descriptor of this name (`Program::descs`).
    TypeDesc(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrimOp {
    IntAdd,
    IntSub,
    IntMul,
    /// Division and remainder are checked by the lowering: it emits the zero
    /// test (a `Panic`) and the `-1` divisor case (`0 - a`, remainder 0) before
    /// them, so codegen emits plain `sdiv`/`srem` only for other divisors.
    IntDiv,
    IntRem,
    IntNeg,
    IntEq,
    IntNe,
    IntLt,
    IntLe,
    IntGt,
    IntGe,
    FloatAdd,
    FloatSub,
    FloatMul,
    FloatDiv,
    FloatNeg,
    FloatEq,
    FloatNe,
    FloatLt,
    FloatLe,
    FloatGt,
    FloatGe,
    /// Bool negation (x xor 1).
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Rvalue {
    Use(Operand),
    Prim(PrimOp, Vec<Operand>),
    /// Direct call of a MIR function.
    Call {
        func: String,
        args: Vec<Operand>,
    },
    /// Call of a runtime function (declared in `Program::externs`).
    CallExtern {
        symbol: String,
        args: Vec<Operand>,
    },
    /// Call through a closure object: loads the code pointer from word 0 and
    /// passes the closure object as the hidden first argument.
    CallClosure {
        closure: Operand,
        args: Vec<Operand>,
    },
    /// Allocate a closure object for lifted function `func` with these captures.
    MakeClosure {
        func: String,
        captures: Vec<Operand>,
    },
    /// Read capture `index` of the current closure (`Var(0)` of a lifted closure).
    EnvLoad(u32),
    /// Allocate a sum-type object `{ tag, fields... }`.
    MakeCtor {
        tag: u32,
        fields: Vec<Operand>,
    },
    /// Allocate a record `{ fields... }` (a tuple or a struct: no tag).
    MakeRecord(Vec<Operand>),
    /// Word `index` of a record.
    RecordField(Operand, u32),
    /// The tag of a sum-type object.
    GetTag(Operand),
    /// Field `index` of a sum-type object (0-based, after the tag).
    GetField(Operand, u32),
    /// Head of a non-empty list cell (word 0).
    ListHead(Operand),
    /// Tail of a non-empty list cell (word 1).
    ListTail(Operand),
    /// The byte length of a String (word 0): `case` on string literals
    /// switches on it before comparing bytes.
    StrLen(Operand),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Terminator {
    Return(Operand),
    Jump(BlockId),
    /// `cond` is a Bool word: nonzero goes to `then`.
    Branch {
        cond: Operand,
        then: BlockId,
        else_: BlockId,
    },
    /// Multi-way branch on an integer word (tags, Int literals).
    Switch {
        value: Operand,
        cases: Vec<(i64, BlockId)>,
        default: BlockId,
    },
    /// A call in tail position of a MIR function (`Rvalue::Call`) or a closure
    /// (`Rvalue::CallClosure`) whose result is returned: a `musttail` call, so
    /// chains of tail calls (mutual recursion, continuation closures) run in
    /// constant stack.
    TailCall(Rvalue),
    /// Runtime panic: `snow: panic at FILE:LINE:COL: MESSAGE`, never returns.
    /// `file` is `None` for the program's own file, else the name of the std
    /// file the panicking code comes from (as in `Stmt::Check`).
    Panic {
        message: String,
        file: Option<String>,
        line: u32,
        col: u32,
    },
    /// `panic(msg)` of Snow code: like `Panic`, with the message a String value.
    PanicWith {
        message: Operand,
        file: Option<String>,
        line: u32,
        col: u32,
    },
    /// Placeholder while building; never present in a finished program.
    Unreachable,
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bb{}", self.0)
    }
}
