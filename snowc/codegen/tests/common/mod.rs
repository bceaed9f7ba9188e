//! Terse builders for hand-written MIR programs, and a compile-link-run helper.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

use snowc_codegen::OptLevel;
use snowc_mir::mir::*;

pub fn v(n: u32) -> Operand {
    Operand::Var(Var(n))
}
pub fn c(n: i64) -> Operand {
    Operand::Const(n)
}
pub fn s(x: &str) -> Operand {
    Operand::Str(x.to_string())
}
pub fn set(n: u32, rv: Rvalue) -> Stmt {
    Stmt::Assign(Var(n), rv)
}
pub fn use_(o: Operand) -> Rvalue {
    Rvalue::Use(o)
}
pub fn prim(op: PrimOp, args: Vec<Operand>) -> Rvalue {
    Rvalue::Prim(op, args)
}
pub fn call(f: &str, args: Vec<Operand>) -> Rvalue {
    Rvalue::Call { func: f.into(), args }
}
pub fn ext(symbol: &str, args: Vec<Operand>) -> Rvalue {
    Rvalue::CallExtern { symbol: symbol.into(), args }
}
/// `println(s)` for effect.
pub fn println(o: Operand) -> Stmt {
    Stmt::Eval(ext("snow_println", vec![o]))
}
pub fn bb(id: u32, stmts: Vec<Stmt>, term: Terminator) -> Block {
    Block { id: BlockId(id), stmts, term }
}
pub fn ret(o: Operand) -> Terminator {
    Terminator::Return(o)
}
pub fn jump(b: u32) -> Terminator {
    Terminator::Jump(BlockId(b))
}
pub fn branch(cond: Operand, then: u32, else_: u32) -> Terminator {
    Terminator::Branch { cond, then: BlockId(then), else_: BlockId(else_) }
}
/// A plain function; `vars` counts the parameters too.
pub fn func(name: &str, params: u32, vars: u32, blocks: Vec<Block>) -> Function {
    Function {
        name: name.into(),
        params,
        vars,
        var_names: vec![String::new(); vars as usize],
        blocks,
        is_closure: false,
    }
}
/// A lifted closure: `Var(0)` is the closure object.
pub fn closure_fn(name: &str, params: u32, vars: u32, blocks: Vec<Block>) -> Function {
    Function { is_closure: true, ..func(name, params, vars, blocks) }
}
pub fn program(functions: Vec<Function>, externs: &[(&str, u32)]) -> Program {
    Program {
        functions,
        externs: externs
            .iter()
            .map(|(s, a)| ExternDecl { symbol: s.to_string(), arity: *a })
            .collect(),
        file_name: "test.snow".into(),
    }
}

/// Path of the runtime static library (built by `cargo build -p snow-rt`).
pub fn runtime_lib() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/libsnow_rt.a");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build -p snow-rt` first",
        p.display()
    );
    p
}

/// Emit an object, link it with the runtime, run it and return its output.
pub fn run(p: &Program, opt: OptLevel) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("prog.o");
    let exe = dir.path().join("prog");
    snowc_codegen::emit_object(p, opt, &obj).unwrap();
    snowc_codegen::link(&[obj], &runtime_lib(), &exe).unwrap();
    std::process::Command::new(&exe).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
