//! A small MIR interpreter for tests: runs lowered programs with the ABI's
//! one-word values, so tests check what the MIR computes, and checks the
//! invariants codegen relies on (externs declared, no unchecked division).
#![allow(dead_code)]

use std::collections::HashMap;

use snowc_mir::mir::{Function, Operand, PrimOp, Program, Rvalue, Stmt, Terminator};

#[derive(Clone, Debug)]
pub enum Obj {
    Str(String),
    Cell(i64, i64),
    Ctor(i64, Vec<i64>),
    /// A tuple or struct.
    Record(Vec<i64>),
    /// func, captures, named function (called without `self`)
    Closure(String, Vec<i64>, bool),
}

const BASE: i64 = 1 << 40;

#[derive(Debug, PartialEq)]
pub struct Panic {
    pub message: String,
    /// `None` for the program's own file.
    pub file: Option<String>,
    pub line: u32,
    pub col: u32,
}

pub struct Interp<'p> {
    prog: &'p Program,
    funcs: HashMap<&'p str, &'p Function>,
    heap: Vec<Obj>,
    pub out: String,
    depth: usize,
    pub max_depth: usize,
    /// Safepoints (`Stmt::Check`) executed.
    pub checks: usize,
}

/// How a function body ended.
enum Flow {
    Return(i64),
    /// A `TailCall`: run this function with these arguments in its place.
    Tail(String, Vec<i64>),
}

impl<'p> Interp<'p> {
    pub fn new(prog: &'p Program) -> Self {
        let funcs = prog
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f))
            .collect();
        Interp {
            prog,
            funcs,
            heap: Vec::new(),
            out: String::new(),
            depth: 0,
            max_depth: 0,
            checks: 0,
        }
    }

    pub fn alloc(&mut self, o: Obj) -> i64 {
        self.heap.push(o);
        BASE + 8 * (self.heap.len() as i64 - 1)
    }

    pub fn obj(&self, w: i64) -> &Obj {
        assert!(w >= BASE && (w - BASE) % 8 == 0, "not a pointer: {w}");
        &self.heap[((w - BASE) / 8) as usize]
    }

    pub fn string(&self, w: i64) -> String {
        match self.obj(w) {
            Obj::Str(s) => s.clone(),
            o => panic!("not a string: {o:?}"),
        }
    }

    pub fn list(&self, mut w: i64) -> Vec<i64> {
        let mut v = Vec::new();
        while w != 0 {
            match self.obj(w) {
                Obj::Cell(h, t) => {
                    v.push(*h);
                    w = *t;
                }
                o => panic!("not a list cell: {o:?}"),
            }
        }
        v
    }

    pub fn run(&mut self, name: &str, args: Vec<i64>) -> Result<i64, Panic> {
        self.call(name, args)
    }

    /// Calls `name`; a `TailCall` replaces the running function without
    /// nesting (one depth level), as `musttail` does.
    fn call(&mut self, name: &str, args: Vec<i64>) -> Result<i64, Panic> {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let mut next = (name.to_string(), args);
        let r = loop {
            let (name, args) = next;
            let f = *self
                .funcs
                .get(name.as_str())
                .unwrap_or_else(|| panic!("no MIR function {name}"));
            assert_eq!(args.len() as u32, f.params, "arity of {name}");
            match self.exec(f, args) {
                Ok(Flow::Tail(n, a)) => next = (n, a),
                Ok(Flow::Return(v)) => break Ok(v),
                Err(e) => break Err(e),
            }
        };
        self.depth -= 1;
        r
    }

    /// The function and full arguments of a call of closure `c`.
    fn closure_target(&self, c: i64, a: Vec<i64>) -> (String, Vec<i64>) {
        match self.obj(c).clone() {
            Obj::Closure(func, _, true) => (func, a),
            Obj::Closure(func, _, false) => {
                let mut full = vec![c];
                full.extend(a);
                (func, full)
            }
            o => panic!("call of non-closure {o:?}"),
        }
    }

    fn exec(&mut self, f: &'p Function, args: Vec<i64>) -> Result<Flow, Panic> {
        let mut vars = vec![0i64; f.vars as usize];
        vars[..args.len()].copy_from_slice(&args);
        let mut b = 0usize;
        loop {
            let block = &f.blocks[b];
            assert_eq!(block.id.0 as usize, b);
            for s in &block.stmts {
                match s {
                    Stmt::Assign(v, rv) => {
                        let x = self.rvalue(rv, &vars)?;
                        vars[v.0 as usize] = x;
                    }
                    Stmt::Eval(rv) => {
                        self.rvalue(rv, &vars)?;
                    }
                    Stmt::Check { .. } => self.checks += 1,
                }
            }
            match &block.term {
                Terminator::Return(o) => return Ok(Flow::Return(self.op(o, &vars))),
                Terminator::TailCall(Rvalue::Call { func, args }) => {
                    let a = self.ops(args, &vars);
                    return Ok(Flow::Tail(func.clone(), a));
                }
                Terminator::TailCall(Rvalue::CallClosure { closure, args }) => {
                    let c = self.op(closure, &vars);
                    let a = self.ops(args, &vars);
                    let (func, a) = self.closure_target(c, a);
                    return Ok(Flow::Tail(func, a));
                }
                Terminator::TailCall(rv) => panic!("tail call of {rv} in {}", f.name),
                Terminator::Jump(t) => b = t.0 as usize,
                Terminator::Branch { cond, then, else_ } => {
                    b = if self.op(cond, &vars) != 0 {
                        then.0
                    } else {
                        else_.0
                    } as usize
                }
                Terminator::Switch {
                    value,
                    cases,
                    default,
                } => {
                    let v = self.op(value, &vars);
                    b = cases
                        .iter()
                        .find(|(k, _)| *k == v)
                        .map(|c| c.1)
                        .unwrap_or(*default)
                        .0 as usize;
                }
                Terminator::Panic {
                    message,
                    file,
                    line,
                    col,
                } => {
                    return Err(Panic {
                        message: message.clone(),
                        file: file.clone(),
                        line: *line,
                        col: *col,
                    })
                }
                Terminator::PanicWith {
                    message,
                    file,
                    line,
                    col,
                } => {
                    let m = self.op(message, &vars);
                    return Err(Panic {
                        message: self.string(m).to_string(),
                        file: file.clone(),
                        line: *line,
                        col: *col,
                    });
                }
                Terminator::Unreachable => panic!("reached Unreachable in {}", f.name),
            }
        }
    }

    fn op(&mut self, o: &Operand, vars: &[i64]) -> i64 {
        match o {
            Operand::Var(v) => vars[v.0 as usize],
            Operand::Const(n) => *n,
            Operand::Float(x) => x.to_bits() as i64,
            Operand::Str(s) => self.alloc(Obj::Str(s.clone())),
            Operand::FnRef(name) => {
                assert!(
                    self.funcs.contains_key(name.as_str()),
                    "FnRef to unknown {name}"
                );
                self.alloc(Obj::Closure(name.clone(), vec![], true))
            }
            Operand::NullaryCtor(t) => self.alloc(Obj::Ctor(*t as i64, vec![])),
            // Descriptors only matter to the runtime: an opaque word here.
            Operand::TypeDesc(_) => 8,
        }
    }

    fn ops(&mut self, os: &[Operand], vars: &[i64]) -> Vec<i64> {
        os.iter().map(|o| self.op(o, vars)).collect()
    }

    fn rvalue(&mut self, rv: &Rvalue, vars: &[i64]) -> Result<i64, Panic> {
        Ok(match rv {
            Rvalue::Use(o) => self.op(o, vars),
            Rvalue::Prim(p, args) => {
                let a = self.ops(args, vars);
                prim(*p, &a)
            }
            Rvalue::Call { func, args } => {
                let a = self.ops(args, vars);
                self.call(func, a)?
            }
            Rvalue::CallExtern { symbol, args } => {
                let a = self.ops(args, vars);
                let decl = self.prog.externs.iter().find(|e| &e.symbol == symbol);
                let decl = decl.unwrap_or_else(|| panic!("extern {symbol} not declared"));
                assert_eq!(decl.arity as usize, a.len(), "arity of {symbol}");
                self.builtin(symbol, &a)
            }
            Rvalue::CallClosure { closure, args } => {
                let c = self.op(closure, vars);
                let a = self.ops(args, vars);
                let (func, a) = self.closure_target(c, a);
                self.call(&func, a)?
            }
            Rvalue::MakeClosure { func, captures } => {
                assert!(
                    self.funcs[func.as_str()].is_closure,
                    "{func} is not a closure"
                );
                let c = self.ops(captures, vars);
                self.alloc(Obj::Closure(func.clone(), c, false))
            }
            Rvalue::EnvLoad(i) => match self.obj(vars[0]) {
                Obj::Closure(_, caps, false) => caps[*i as usize],
                o => panic!("EnvLoad from {o:?}"),
            },
            Rvalue::MakeCtor { tag, fields } => {
                let f = self.ops(fields, vars);
                self.alloc(Obj::Ctor(*tag as i64, f))
            }
            Rvalue::MakeRecord(fields) => {
                let f = self.ops(fields, vars);
                self.alloc(Obj::Record(f))
            }
            Rvalue::RecordField(o, i) => {
                let w = self.op(o, vars);
                match self.obj(w) {
                    Obj::Record(f) => f[*i as usize],
                    o => panic!("RecordField of {o:?}"),
                }
            }
            Rvalue::GetTag(o) => {
                let w = self.op(o, vars);
                match self.obj(w) {
                    Obj::Ctor(t, _) => *t,
                    o => panic!("GetTag of {o:?}"),
                }
            }
            Rvalue::GetField(o, i) => {
                let w = self.op(o, vars);
                match self.obj(w) {
                    Obj::Ctor(_, f) => f[*i as usize],
                    o => panic!("GetField of {o:?}"),
                }
            }
            Rvalue::StrLen(o) => {
                let w = self.op(o, vars);
                self.string(w).len() as i64
            }
            Rvalue::ListHead(o) | Rvalue::ListTail(o) => {
                let w = self.op(o, vars);
                match (self.obj(w), rv) {
                    (Obj::Cell(h, _), Rvalue::ListHead(_)) => *h,
                    (Obj::Cell(_, t), _) => *t,
                    (o, _) => panic!("list access of {o:?}"),
                }
            }
        })
    }

    fn builtin(&mut self, symbol: &str, a: &[i64]) -> i64 {
        match symbol {
            "snow_println" => {
                let s = self.string(a[0]);
                self.out.push_str(&s);
                self.out.push('\n');
                0
            }
            "snow_list_cons" => self.alloc(Obj::Cell(a[0], a[1])),
            "snow_list_reverse" => {
                let mut acc = 0;
                for x in self.list(a[1]) {
                    acc = self.alloc(Obj::Cell(x, acc));
                }
                acc
            }
            "snow_string_concat" => {
                let s = self.string(a[0]) + &self.string(a[1]);
                self.alloc(Obj::Str(s))
            }
            "snow_string_eq" => (self.string(a[0]) == self.string(a[1])) as i64,
            "snow_string_cmp" => match self.string(a[0]).cmp(&self.string(a[1])) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            },
            "snow_int_to_string" => self.alloc(Obj::Str(a[0].to_string())),
            "snow_float_to_string" => {
                self.alloc(Obj::Str(format!("{:?}", f64::from_bits(a[0] as u64))))
            }
            "snow_bool_to_string" => {
                self.alloc(Obj::Str(if a[0] != 0 { "true" } else { "false" }.into()))
            }
            "snow_list_length" => self.list(a[1]).len() as i64,
            "snow_list_prepend" => self.alloc(Obj::Cell(a[2], a[1])),
            "snow_string_to_upper" => {
                let s = self.string(a[0]).to_uppercase();
                self.alloc(Obj::Str(s))
            }
            // Regions are not modelled: marks and resets are no-ops here.
            "snow_region_mark" | "snow_region_reset" => 0,
            "snow_float_rem" => {
                (f64::from_bits(a[0] as u64) % f64::from_bits(a[1] as u64)).to_bits() as i64
            }
            "snow_string_join" => {
                let parts: Vec<String> = self
                    .list(a[0])
                    .into_iter()
                    .map(|w| self.string(w))
                    .collect();
                let s = parts.join(&self.string(a[1]));
                self.alloc(Obj::Str(s))
            }
            "snow_string_length" => self.string(a[0]).chars().count() as i64,
            other => panic!("interp: unknown extern {other}"),
        }
    }
}

fn prim(p: PrimOp, a: &[i64]) -> i64 {
    let f = |i: usize| f64::from_bits(a[i] as u64);
    let fb = |x: f64| x.to_bits() as i64;
    match p {
        PrimOp::IntAdd => a[0].wrapping_add(a[1]),
        PrimOp::IntSub => a[0].wrapping_sub(a[1]),
        PrimOp::IntMul => a[0].wrapping_mul(a[1]),
        PrimOp::IntDiv | PrimOp::IntRem => {
            assert!(a[1] != 0 && a[1] != -1, "unchecked division by {}", a[1]);
            if p == PrimOp::IntDiv {
                a[0] / a[1]
            } else {
                a[0] % a[1]
            }
        }
        PrimOp::IntNeg => a[0].wrapping_neg(),
        PrimOp::IntEq => (a[0] == a[1]) as i64,
        PrimOp::IntNe => (a[0] != a[1]) as i64,
        PrimOp::IntLt => (a[0] < a[1]) as i64,
        PrimOp::IntLe => (a[0] <= a[1]) as i64,
        PrimOp::IntGt => (a[0] > a[1]) as i64,
        PrimOp::IntGe => (a[0] >= a[1]) as i64,
        PrimOp::FloatAdd => fb(f(0) + f(1)),
        PrimOp::FloatSub => fb(f(0) - f(1)),
        PrimOp::FloatMul => fb(f(0) * f(1)),
        PrimOp::FloatDiv => fb(f(0) / f(1)),
        PrimOp::FloatNeg => fb(-f(0)),
        PrimOp::FloatEq => (f(0) == f(1)) as i64,
        PrimOp::FloatNe => (f(0) != f(1)) as i64,
        PrimOp::FloatLt => (f(0) < f(1)) as i64,
        PrimOp::FloatLe => (f(0) <= f(1)) as i64,
        PrimOp::FloatGt => (f(0) > f(1)) as i64,
        PrimOp::FloatGe => (f(0) >= f(1)) as i64,
        PrimOp::Not => a[0] ^ 1,
    }
}
