//! The text form of MIR (`snowc build --emit mir`, snapshot tests).
//!
//! ```text
//! file "hello.snow"
//!
//! extern snow_println/1
//!
//! fn main() {
//! bb0:
//!     jump bb1
//! bb1:
//!     call_extern snow_println("hi")
//!     return 0
//! }
//! ```
//! Parameters are listed with their source names, other named variables in a
//! `vars` line; strings are printed with Rust escapes. The output depends only
//! on the program (deterministic).

use std::fmt::{self, Display, Formatter, Write};

use crate::mir::{Function, Operand, PrimOp, Program, Rvalue, Stmt, Terminator};

impl Display for Program {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "file {:?}", self.file_name)?;
        if !self.externs.is_empty() {
            writeln!(f)?;
        }
        for e in &self.externs {
            writeln!(f, "extern {}/{}", e.symbol, e.arity)?;
        }
        if !self.descs.is_empty() {
            writeln!(f)?;
        }
        for d in &self.descs {
            writeln!(f, "desc {} = kind {} [{}]", d.name, d.kind, list(&d.parts))?;
        }
        for func in &self.functions {
            writeln!(f)?;
            write!(f, "{func}")?;
        }
        Ok(())
    }
}

impl Display for Function {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let name = |i: u32| {
            self.var_names
                .get(i as usize)
                .map(String::as_str)
                .unwrap_or("")
        };
        let params: Vec<String> = (0..self.params)
            .map(|i| {
                if name(i).is_empty() {
                    format!("%{i}")
                } else {
                    format!("%{i} {}", name(i))
                }
            })
            .collect();
        let kind = if self.is_closure { "closure fn" } else { "fn" };
        writeln!(f, "{kind} {}({}) {{", self.name, params.join(", "))?;
        let named: Vec<String> = (self.params..self.vars)
            .filter(|i| !name(*i).is_empty())
            .map(|i| format!("%{i} {}", name(i)))
            .collect();
        if !named.is_empty() {
            writeln!(f, "    vars {}", named.join(", "))?;
        }
        for b in &self.blocks {
            writeln!(f, "{}:", b.id)?;
            for s in &b.stmts {
                match s {
                    Stmt::Assign(v, rv) => writeln!(f, "    {v} = {rv}")?,
                    Stmt::Eval(rv) => writeln!(f, "    {rv}")?,
                    Stmt::Check { file, line, col } => match file {
                        None => writeln!(f, "    check {line}:{col}")?,
                        Some(file) => writeln!(f, "    check {file}:{line}:{col}")?,
                    },
                }
            }
            writeln!(f, "    {}", b.term)?;
        }
        writeln!(f, "}}")
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Var(v) => write!(f, "{v}"),
            Operand::Const(n) => write!(f, "{n}"),
            // Debug always shows a decimal point or exponent: `1.0`, `2.5e-8`, `NaN`.
            Operand::Float(x) => write!(f, "{x:?}"),
            Operand::Str(s) => write!(f, "{s:?}"),
            Operand::FnRef(name) => write!(f, "@{name}"),
            Operand::NullaryCtor(tag) => write!(f, "ctor#{tag}"),
            Operand::TypeDesc(name) => write!(f, "td<{name}>"),
        }
    }
}

fn list(ops: &[Operand]) -> String {
    let mut s = String::new();
    for (i, o) in ops.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{o}");
    }
    s
}

impl Display for Rvalue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Rvalue::Use(o) => write!(f, "{o}"),
            Rvalue::Prim(op, args) => write!(f, "{} {}", prim_name(*op), list(args)),
            Rvalue::Call { func, args } => write!(f, "call {func}({})", list(args)),
            Rvalue::CallExtern { symbol, args } => {
                write!(f, "call_extern {symbol}({})", list(args))
            }
            Rvalue::CallClosure { closure, args } => {
                write!(f, "call_closure {closure}({})", list(args))
            }
            Rvalue::MakeClosure { func, captures } => {
                write!(f, "make_closure {func}[{}]", list(captures))
            }
            Rvalue::EnvLoad(i) => write!(f, "env_load {i}"),
            Rvalue::MakeCtor { tag, fields } => write!(f, "make_ctor#{tag}({})", list(fields)),
            Rvalue::MakeRecord(fields) => write!(f, "make_record({})", list(fields)),
            Rvalue::RecordField(o, i) => write!(f, "record_field {o}, {i}"),
            Rvalue::GetTag(o) => write!(f, "get_tag {o}"),
            Rvalue::GetField(o, i) => write!(f, "get_field {o}, {i}"),
            Rvalue::ListHead(o) => write!(f, "list_head {o}"),
            Rvalue::ListTail(o) => write!(f, "list_tail {o}"),
            Rvalue::StrLen(o) => write!(f, "str_len {o}"),
        }
    }
}

impl Display for Terminator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Terminator::Return(o) => write!(f, "return {o}"),
            Terminator::Jump(b) => write!(f, "jump {b}"),
            Terminator::Branch { cond, then, else_ } => write!(f, "branch {cond}, {then}, {else_}"),
            Terminator::Switch {
                value,
                cases,
                default,
            } => {
                write!(f, "switch {value} [")?;
                for (i, (k, b)) in cases.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {b}")?;
                }
                write!(f, "], default {default}")
            }
            Terminator::TailCall(rv) => write!(f, "tail {rv}"),
            Terminator::Panic {
                message,
                file,
                line,
                col,
            } => match file {
                None => write!(f, "panic {message:?} at {line}:{col}"),
                Some(file) => write!(f, "panic {message:?} at {file}:{line}:{col}"),
            },
            Terminator::PanicWith {
                message,
                file,
                line,
                col,
            } => match file {
                None => write!(f, "panic {message} at {line}:{col}"),
                Some(file) => write!(f, "panic {message} at {file}:{line}:{col}"),
            },
            Terminator::Unreachable => write!(f, "unreachable"),
        }
    }
}

pub fn prim_name(op: PrimOp) -> &'static str {
    match op {
        PrimOp::IntAdd => "int_add",
        PrimOp::IntSub => "int_sub",
        PrimOp::IntMul => "int_mul",
        PrimOp::IntDiv => "int_div",
        PrimOp::IntRem => "int_rem",
        PrimOp::IntNeg => "int_neg",
        PrimOp::IntEq => "int_eq",
        PrimOp::IntNe => "int_ne",
        PrimOp::IntLt => "int_lt",
        PrimOp::IntLe => "int_le",
        PrimOp::IntGt => "int_gt",
        PrimOp::IntGe => "int_ge",
        PrimOp::FloatAdd => "float_add",
        PrimOp::FloatSub => "float_sub",
        PrimOp::FloatMul => "float_mul",
        PrimOp::FloatDiv => "float_div",
        PrimOp::FloatNeg => "float_neg",
        PrimOp::FloatEq => "float_eq",
        PrimOp::FloatNe => "float_ne",
        PrimOp::FloatLt => "float_lt",
        PrimOp::FloatLe => "float_le",
        PrimOp::FloatGt => "float_gt",
        PrimOp::FloatGe => "float_ge",
        PrimOp::Not => "not",
    }
}
