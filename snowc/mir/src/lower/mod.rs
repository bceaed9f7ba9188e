//! Lowering of the typed program (`snowc_types::tast`) to MIR.
//!
//! - [`expr`]: expressions, operators, calls, `if`, `for`, tail calls.
//! - [`pattern`]: `case`, arm by arm (the fallback); [`decision`]: `case`
//!   compiled to a decision tree.
//! - [`closure`]: lambda lifting, capture analysis, extern wrappers.
//!
//! One [`Ctx`] is shared by the whole program (externs used, lifted functions);
//! one [`FnLower`] builds one MIR function.

mod closure;
mod decision;
mod equality;
mod expr;
mod pattern;
mod records;
mod services;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use snowc_syntax::{SourceMap, Span};
use snowc_types::tast::{LocalId, TExtern, TFn, TProgram};

use crate::mir::{
    Block, BlockId, ExternDecl, Function, Loc, Operand, Program, Rvalue, SourcePos, Stmt,
    Terminator, TypeDesc, Var,
};
use snowc_syntax::LineIndex;
use snowc_types::std_lib::TypeInfo;

/// Lower a type-checked program to MIR. Infallible: the input is well typed.
pub fn lower(program: &TProgram, sources: &SourceMap) -> Program {
    lower_with(program, sources, &Options::from_env())
}

/// Choices of the lowering that exist for measurement and testing only.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Compile every `case` arm by arm instead of as a decision tree
    /// (`SNOWC_ARM_BY_ARM=1`; the benchmark compares the two).
    pub arm_by_arm: bool,
}

impl Options {
    pub fn from_env() -> Self {
        Options {
            arm_by_arm: std::env::var_os("SNOWC_ARM_BY_ARM").is_some(),
        }
    }
}

/// [`lower`] with explicit [`Options`].
pub fn lower_with(program: &TProgram, sources: &SourceMap, options: &Options) -> Program {
    let mut cx = Ctx {
        arm_by_arm: options.arm_by_arm,
        sources,
        lines: LineIndex::new(sources),
        file_name: &program.file_name,
        externs: BTreeMap::new(),
        extern_by_name: program
            .externs
            .iter()
            .map(|e| (e.name.as_str(), e))
            .collect(),
        lifted: Vec::new(),
        closure_counter: 0,
        top_name: String::new(),
        local_names: &[],
        wrappers: BTreeMap::new(),
        types: &program.types,
        descs: BTreeMap::new(),
        services: &program.services,
    };
    for ext in &program.externs {
        // `panic` is the runtime's panic service, declared by codegen.
        if ext.name == snowc_types::lang::PANIC {
            continue;
        }
        cx.use_extern(&ext.symbol, ext.type_params + ext.params.len() as u32);
    }
    let mut functions = Vec::new();
    for f in &program.functions {
        cx.top_name = f.name.clone();
        cx.closure_counter = 0;
        cx.local_names = &f.local_names;
        cx.lifted.clear();
        functions.push(lower_fn(&mut cx, f));
        functions.extend(std::mem::take(&mut cx.lifted).into_iter().flatten());
    }
    functions.extend(std::mem::take(&mut cx.wrappers).into_values());
    let externs = cx
        .externs
        .into_iter()
        .map(|(symbol, arity)| ExternDecl { symbol, arity })
        .collect();
    Program {
        functions,
        externs,
        file_name: program.file_name.clone(),
        descs: cx.descs.into_values().collect(),
    }
}

/// Program-wide lowering state.
pub(crate) struct Ctx<'a> {
    /// [`Options::arm_by_arm`].
    arm_by_arm: bool,
    sources: &'a SourceMap,
    lines: LineIndex<'a>,
    /// The program's own file (positions in it carry no file name).
    file_name: &'a str,
    /// Runtime symbols called, with their arity (type descriptors included).
    externs: BTreeMap<String, u32>,
    extern_by_name: FxHashMap<&'a str, &'a TExtern>,
    /// Closures lifted from the current top-level function, indexed by their number.
    lifted: Vec<Option<Function>>,
    closure_counter: u32,
    /// Name of the current top-level function (prefix of its closures' names).
    top_name: String,
    /// Source names of the current top-level function's locals.
    local_names: &'a [String],
    /// Synthesised functions by name: `<extern>$fn` wrappers and the
    /// structural equality of each compound type compared (`$eq.<type>`).
    wrappers: BTreeMap<String, Function>,
    /// Every type by internal name (fields of structs and constructors).
    types: &'a BTreeMap<String, TypeInfo>,
    /// The type descriptors made so far, by name.
    descs: BTreeMap<String, TypeDesc>,
    /// The program's services.
    services: &'a [snowc_types::tast::TService],
}

impl<'a> Ctx<'a> {
    pub(crate) fn use_extern(&mut self, symbol: &str, arity: u32) {
        let e = self.externs.entry(symbol.to_string()).or_insert(arity);
        *e = (*e).max(arity);
    }

    pub(crate) fn line_col(&self, span: Span) -> (u32, u32) {
        self.lines.line_col(span)
    }

    /// The position of `span`, its file named only when it is not the program's.
    pub(crate) fn pos(&self, span: Span) -> SourcePos {
        let (line, col) = self.line_col(span);
        let file = self
            .sources
            .files
            .get(span.file.0 as usize)
            .map(|f| f.name.as_str())
            .filter(|name| *name != self.file_name)
            .map(str::to_string);
        SourcePos { file, line, col }
    }

    /// A safepoint at `span` (docs/ABI.md "Stack").
    pub(crate) fn check(&self, span: Span) -> Stmt {
        let SourcePos { file, line, col } = self.pos(span);
        Stmt::Check { file, line, col }
    }

    /// A panic with `message` at `span` (its file named as in [`Ctx::pos`]).
    pub(crate) fn panic(&self, message: &str, span: Span) -> Terminator {
        let SourcePos { file, line, col } = self.pos(span);
        Terminator::Panic {
            message: message.to_string(),
            file,
            line,
            col,
        }
    }

    fn local_name(&self, l: LocalId) -> String {
        self.local_names
            .get(l.0 as usize)
            .cloned()
            .unwrap_or_default()
    }
}

/// Where the value of an expression goes.
#[derive(Clone, Copy)]
pub(crate) enum Dest {
    /// Assign to this var, then jump to this block.
    Join(Var, BlockId),
    /// Tail position: return it (or jump back to the loop header for a self call).
    Tail,
}

/// Builder of one MIR function.
pub(crate) struct FnLower<'c, 'a> {
    pub(crate) cx: &'c mut Ctx<'a>,
    name: String,
    params: u32,
    var_names: Vec<String>,
    blocks: Vec<Block>,
    cur: BlockId,
    locals: FxHashMap<LocalId, Var>,
    is_closure: bool,
    /// The loop header a self tail call jumps to (top-level functions only).
    loop_header: Option<BlockId>,
    pub(crate) pos: SourcePos,
    /// The source position of the code being lowered, given to each
    /// statement and terminator as it is emitted (see [`FnLower::at`]).
    loc: Loc,
}

impl<'c, 'a> FnLower<'c, 'a> {
    pub(crate) fn new(cx: &'c mut Ctx<'a>, name: String, is_closure: bool) -> Self {
        let mut fl = FnLower {
            cx,
            name,
            params: 0,
            var_names: Vec::new(),
            blocks: Vec::new(),
            cur: BlockId(0),
            locals: FxHashMap::default(),
            is_closure,
            loop_header: None,
            pos: SourcePos::default(),
            loc: Loc::default(),
        };
        let entry = fl.new_block();
        fl.cur = entry;
        fl
    }

    /// Declare the next parameter (call before any other var is made).
    pub(crate) fn add_param(&mut self, local: Option<LocalId>, name: String) -> Var {
        let v = self.new_named_var(name);
        self.params += 1;
        if let Some(l) = local {
            self.locals.insert(l, v);
        }
        v
    }

    pub(crate) fn new_var(&mut self) -> Var {
        self.new_named_var(String::new())
    }

    pub(crate) fn new_named_var(&mut self, name: String) -> Var {
        self.var_names.push(name);
        Var(self.var_names.len() as u32 - 1)
    }

    /// A fresh var for a source local, named after it.
    pub(crate) fn bind_local(&mut self, l: LocalId) -> Var {
        let name = self.cx.local_name(l);
        let v = self.new_named_var(name);
        self.locals.insert(l, v);
        v
    }

    /// Bind a source local to a value: reuse an unnamed temp, else copy.
    pub(crate) fn bind_local_to(&mut self, l: LocalId, value: Operand) {
        if let Operand::Var(v) = value {
            let i = v.0 as usize;
            if v.0 >= self.params && self.var_names[i].is_empty() {
                self.var_names[i] = self.cx.local_name(l);
                self.locals.insert(l, v);
                return;
            }
        }
        let v = self.bind_local(l);
        self.assign(v, Rvalue::Use(value));
    }

    pub(crate) fn local(&self, l: LocalId) -> Operand {
        // Well-typed input always has the local bound; 0 keeps us panic-free otherwise.
        self.locals
            .get(&l)
            .map(|v| Operand::Var(*v))
            .unwrap_or(Operand::Const(0))
    }

    pub(crate) fn new_block(&mut self) -> BlockId {
        let id = BlockId(self.blocks.len() as u32);
        self.blocks.push(Block {
            id,
            stmts: Vec::new(),
            term: Terminator::Unreachable,
            locs: Vec::new(),
            term_loc: Loc::default(),
        });
        id
    }

    /// Make `span` the position of the code emitted from now on; returns the
    /// previous one, which the caller restores when it is done with `span`.
    pub(crate) fn at(&mut self, span: Span) -> Loc {
        let (line, col) = self.cx.line_col(span);
        std::mem::replace(&mut self.loc, Loc { line, col })
    }

    /// Restore a position returned by [`FnLower::at`].
    pub(crate) fn restore(&mut self, loc: Loc) {
        self.loc = loc;
    }

    pub(crate) fn switch_to(&mut self, b: BlockId) {
        self.cur = b;
    }

    pub(crate) fn emit(&mut self, s: Stmt) {
        let cur = self.cur.0 as usize;
        self.blocks[cur].stmts.push(s);
        self.blocks[cur].locs.push(self.loc);
    }

    pub(crate) fn assign(&mut self, v: Var, rv: Rvalue) {
        self.emit(Stmt::Assign(v, rv));
    }

    /// Evaluate an rvalue into a fresh temp.
    pub(crate) fn temp(&mut self, rv: Rvalue) -> Operand {
        let v = self.new_var();
        self.assign(v, rv);
        Operand::Var(v)
    }

    pub(crate) fn terminate(&mut self, t: Terminator) {
        let cur = self.cur.0 as usize;
        self.blocks[cur].term = t;
        self.blocks[cur].term_loc = self.loc;
    }

    /// `Branch` on `cond` to two fresh blocks; returns (then, else).
    pub(crate) fn branch_new(&mut self, cond: Operand) -> (BlockId, BlockId) {
        let then = self.new_block();
        let else_ = self.new_block();
        self.terminate(Terminator::Branch { cond, then, else_ });
        (then, else_)
    }

    pub(crate) fn finish(self) -> Function {
        let blocks = renumber(self.blocks);
        Function {
            name: self.name,
            params: self.params,
            vars: self.var_names.len() as u32,
            var_names: self.var_names,
            blocks,
            is_closure: self.is_closure,
            pos: self.pos,
        }
    }
}

/// A top-level function: bb0 (entry) jumps to bb1 (loop header for self tail calls).
fn lower_fn(cx: &mut Ctx<'_>, f: &TFn) -> Function {
    let mut fl = FnLower::new(cx, f.name.clone(), false);
    fl.pos = fl.cx.pos(f.span);
    fl.at(f.span);
    for (l, name, _) in &f.params {
        fl.add_param(Some(*l), name.clone());
    }
    let header = fl.new_block();
    fl.terminate(Terminator::Jump(header));
    fl.switch_to(header);
    fl.loop_header = Some(header);
    fl.lower_into(&f.body, Dest::Tail);
    fl.finish()
}

fn successors(t: &Terminator) -> Vec<BlockId> {
    match t {
        Terminator::Jump(b) => vec![*b],
        Terminator::Branch { then, else_, .. } => vec![*then, *else_],
        Terminator::Switch { cases, default, .. } => cases
            .iter()
            .map(|c| c.1)
            .chain(std::iter::once(*default))
            .collect(),
        Terminator::Return(_)
        | Terminator::TailCall(_)
        | Terminator::Panic { .. }
        | Terminator::PanicWith { .. }
        | Terminator::Unreachable => vec![],
    }
}

/// Keep only the blocks reachable from the entry, numbered in depth-first
/// preorder (then-successor first), so a block's code follows the test that
/// leads to it and the entry stays `bb0` (and its loop header `bb1`).
fn renumber(blocks: Vec<Block>) -> Vec<Block> {
    let mut new_id: Vec<Option<BlockId>> = vec![None; blocks.len()];
    let mut order = Vec::new();
    let mut stack = vec![BlockId(0)];
    while let Some(b) = stack.pop() {
        let i = b.0 as usize;
        if new_id[i].is_some() {
            continue;
        }
        new_id[i] = Some(BlockId(order.len() as u32));
        order.push(i);
        for s in successors(&blocks[i].term).into_iter().rev() {
            if new_id[s.0 as usize].is_none() {
                stack.push(s);
            }
        }
    }
    let map =
        |b: BlockId| new_id[b.0 as usize].expect("successor of a reachable block is reachable");
    let mut slots: Vec<Option<Block>> = blocks.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| {
            let mut b = slots[i].take().expect("each block once");
            b.id = map(b.id);
            b.term = match b.term {
                Terminator::Jump(t) => Terminator::Jump(map(t)),
                Terminator::Branch { cond, then, else_ } => Terminator::Branch {
                    cond,
                    then: map(then),
                    else_: map(else_),
                },
                Terminator::Switch {
                    value,
                    cases,
                    default,
                } => Terminator::Switch {
                    value,
                    cases: cases.into_iter().map(|(k, t)| (k, map(t))).collect(),
                    default: map(default),
                },
                // A block left open can only be unreachable; keep the function well formed.
                Terminator::Unreachable => Terminator::Return(Operand::Const(0)),
                t => t,
            };
            b
        })
        .collect()
}
