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
    Rvalue::Call {
        func: f.into(),
        args,
    }
}
pub fn ext(symbol: &str, args: Vec<Operand>) -> Rvalue {
    Rvalue::CallExtern {
        symbol: symbol.into(),
        args,
    }
}
/// `println(s)` for effect.
pub fn println(o: Operand) -> Stmt {
    Stmt::Eval(ext("snow_println", vec![o]))
}
/// A safepoint at `line:col` of the program's file.
pub fn check(line: u32, col: u32) -> Stmt {
    Stmt::Check {
        file: None,
        line,
        col,
    }
}
pub fn bb(id: u32, stmts: Vec<Stmt>, term: Terminator) -> Block {
    Block {
        id: BlockId(id),
        stmts,
        term,
        locs: Vec::new(),
        term_loc: Default::default(),
    }
}
pub fn ret(o: Operand) -> Terminator {
    Terminator::Return(o)
}
pub fn jump(b: u32) -> Terminator {
    Terminator::Jump(BlockId(b))
}
pub fn branch(cond: Operand, then: u32, else_: u32) -> Terminator {
    Terminator::Branch {
        cond,
        then: BlockId(then),
        else_: BlockId(else_),
    }
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
        pos: Default::default(),
    }
}
/// A lifted closure: `Var(0)` is the closure object.
pub fn closure_fn(name: &str, params: u32, vars: u32, blocks: Vec<Block>) -> Function {
    Function {
        is_closure: true,
        ..func(name, params, vars, blocks)
    }
}
pub fn program(functions: Vec<Function>, externs: &[(&str, u32)]) -> Program {
    Program {
        functions,
        externs: externs
            .iter()
            .map(|(s, a)| ExternDecl {
                symbol: s.to_string(),
                arity: *a,
            })
            .collect(),
        file_name: "test.snow".into(),
        descs: Vec::new(),
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

// ---- sample programs shared by the IR snapshots and the end-to-end tests ----

fn print_int(o: Operand, tmp: u32) -> Vec<Stmt> {
    vec![
        set(tmp, ext("snow_int_to_string", vec![o])),
        println(v(tmp)),
    ]
}

/// `count(n, acc)` sums n..1 by a self tail call (a `Jump` to bb0); main prints count(10_000_000, 0).
pub fn countdown() -> Program {
    use PrimOp::*;
    let count = func(
        "count",
        2,
        3,
        vec![
            bb(
                0,
                vec![set(2, prim(IntEq, vec![v(0), c(0)]))],
                branch(v(2), 1, 2),
            ),
            bb(1, vec![], ret(v(1))),
            bb(
                2,
                vec![
                    set(1, prim(IntAdd, vec![v(1), v(0)])),
                    set(0, prim(IntSub, vec![v(0), c(1)])),
                ],
                jump(0),
            ),
        ],
    );
    let mut stmts = vec![set(0, call("count", vec![c(10_000_000), c(0)]))];
    stmts.extend(print_int(v(0), 1));
    let main = func("main", 0, 2, vec![bb(0, stmts, ret(c(0)))]);
    program(
        vec![count, main],
        &[("snow_int_to_string", 1), ("snow_println", 1)],
    )
}

/// A lifted closure with a capture, and a named function passed as a value.
pub fn closures() -> Program {
    use PrimOp::*;
    let adder = closure_fn(
        "main$closure0",
        2,
        3,
        vec![bb(
            0,
            vec![
                set(2, Rvalue::EnvLoad(0)),
                set(2, prim(IntAdd, vec![v(2), v(1)])),
            ],
            ret(v(2)),
        )],
    );
    let double = func(
        "double",
        1,
        2,
        vec![bb(
            0,
            vec![set(1, prim(IntMul, vec![v(0), c(2)]))],
            ret(v(1)),
        )],
    );
    let apply = func(
        "apply",
        2,
        3,
        vec![bb(
            0,
            vec![set(
                2,
                Rvalue::CallClosure {
                    closure: v(0),
                    args: vec![v(1)],
                },
            )],
            ret(v(2)),
        )],
    );
    let mut stmts = vec![
        set(
            0,
            Rvalue::MakeClosure {
                func: "main$closure0".into(),
                captures: vec![c(40)],
            },
        ),
        set(
            1,
            Rvalue::CallClosure {
                closure: v(0),
                args: vec![c(2)],
            },
        ),
    ];
    stmts.extend(print_int(v(1), 3));
    stmts.push(set(
        2,
        call("apply", vec![Operand::FnRef("double".into()), c(21)]),
    ));
    stmts.extend(print_int(v(2), 3));
    stmts.push(set(
        2,
        call("apply", vec![Operand::FnRef("double".into()), c(50)]),
    ));
    stmts.extend(print_int(v(2), 3));
    stmts.push(set(2, call("apply", vec![v(0), c(-50)])));
    stmts.extend(print_int(v(2), 3));
    let main = func("main", 0, 4, vec![bb(0, stmts, ret(c(0)))]);
    program(
        vec![adder, double, apply, main],
        &[("snow_int_to_string", 1), ("snow_println", 1)],
    )
}

/// Sum-type objects and a `Switch` on their tag, list cells, string literals.
pub fn data() -> Program {
    use PrimOp::*;
    // describe(x): match x { Some(n) -> "Some " <> to_string(n), None -> "None" }
    let describe = func(
        "describe",
        1,
        3,
        vec![
            bb(
                0,
                vec![set(1, Rvalue::GetTag(v(0)))],
                Terminator::Switch {
                    value: v(1),
                    cases: vec![(0, BlockId(1)), (1, BlockId(2))],
                    default: BlockId(3),
                },
            ),
            bb(
                1,
                vec![
                    set(1, Rvalue::GetField(v(0), 0)),
                    set(2, ext("snow_int_to_string", vec![v(1)])),
                    set(2, ext("snow_string_concat", vec![s("Some "), v(2)])),
                ],
                ret(v(2)),
            ),
            bb(2, vec![], ret(s("None"))),
            bb(3, vec![], Terminator::Unreachable),
        ],
    );
    let stmts = vec![
        set(
            0,
            Rvalue::MakeCtor {
                tag: 0,
                fields: vec![c(7)],
            },
        ),
        set(1, call("describe", vec![v(0)])),
        println(v(1)),
        set(1, call("describe", vec![Operand::NullaryCtor(1)])),
        println(v(1)),
        // [1, 2]: head * 10 + head of tail
        set(0, ext("snow_list_cons", vec![c(2), c(0)])),
        set(0, ext("snow_list_cons", vec![c(1), v(0)])),
        set(1, Rvalue::ListHead(v(0))),
        set(2, Rvalue::ListTail(v(0))),
        set(2, Rvalue::ListHead(v(2))),
        set(1, prim(IntMul, vec![v(1), c(10)])),
        set(1, prim(IntAdd, vec![v(1), v(2)])),
        set(1, ext("snow_int_to_string", vec![v(1)])),
        println(v(1)),
        println(s("None")),
    ];
    let main = func("main", 0, 3, vec![bb(0, stmts, ret(c(0)))]);
    program(
        vec![describe, main],
        &[
            ("snow_int_to_string", 1),
            ("snow_list_cons", 2),
            ("snow_println", 1),
            ("snow_string_concat", 2),
        ],
    )
}

/// Integer and float primitives; prints one line per result.
pub fn arith() -> Program {
    use PrimOp::*;
    let f = |x: f64| Operand::Float(x);
    // id(x) = x keeps LLVM from folding everything at O2 (it still may; results must agree).
    let id = func("id", 1, 1, vec![bb(0, vec![], ret(v(0)))]);
    let mut stmts = vec![set(0, call("id", vec![c(17)]))];
    stmts.push(set(1, prim(IntDiv, vec![v(0), c(5)])));
    stmts.extend(print_int(v(1), 2)); // 3
    stmts.push(set(1, prim(IntRem, vec![v(0), c(5)])));
    stmts.extend(print_int(v(1), 2)); // 2
    stmts.push(set(1, prim(IntNeg, vec![v(0)])));
    stmts.push(set(1, prim(IntRem, vec![v(1), c(5)])));
    stmts.extend(print_int(v(1), 2)); // -2
    stmts.push(set(1, prim(IntLt, vec![v(0), c(18)])));
    stmts.extend(print_int(v(1), 2)); // 1
    stmts.push(set(1, prim(IntGe, vec![v(0), c(18)])));
    stmts.extend(print_int(v(1), 2)); // 0
    stmts.push(set(1, prim(Not, vec![v(1)])));
    stmts.extend(print_int(v(1), 2)); // 1
                                      // floats: 1.5 * 4.0 == 6.0, -(6.0) < 0.0, 7.0 / 2.0 > 3.4
    stmts.push(set(1, call("id", vec![f(1.5)])));
    stmts.push(set(1, prim(FloatMul, vec![v(1), f(4.0)])));
    stmts.push(set(2, prim(FloatEq, vec![v(1), f(6.0)])));
    stmts.extend(print_int(v(2), 2)); // 1
    stmts.push(set(1, prim(FloatNeg, vec![v(1)])));
    stmts.push(set(2, prim(FloatLt, vec![v(1), f(0.0)])));
    stmts.extend(print_int(v(2), 2)); // 1
    stmts.push(set(1, prim(FloatDiv, vec![f(7.0), f(2.0)])));
    stmts.push(set(1, prim(FloatSub, vec![v(1), f(0.25)])));
    stmts.push(set(2, prim(FloatGt, vec![v(1), f(3.4)])));
    stmts.extend(print_int(v(2), 2)); // 0 (3.25 > 3.4 is false)
    stmts.push(set(2, prim(FloatNe, vec![v(1), f(3.25)])));
    stmts.extend(print_int(v(2), 2)); // 0
    let main = func("main", 0, 3, vec![bb(0, stmts, ret(c(0)))]);
    program(
        vec![id, main],
        &[("snow_int_to_string", 1), ("snow_println", 1)],
    )
}

/// `10 / zero()` with the lowering's zero test: panics at test.snow:3:7.
pub fn div_by_zero() -> Program {
    use PrimOp::*;
    let zero = func("zero", 0, 0, vec![bb(0, vec![], ret(c(0)))]);
    let main = func(
        "main",
        0,
        2,
        vec![
            bb(
                0,
                vec![
                    set(0, call("zero", vec![])),
                    set(1, prim(IntEq, vec![v(0), c(0)])),
                ],
                branch(v(1), 1, 2),
            ),
            bb(
                1,
                vec![],
                Terminator::Panic {
                    message: "division by zero".into(),
                    file: None,
                    line: 3,
                    col: 7,
                },
            ),
            bb(2, vec![set(1, prim(IntDiv, vec![c(10), v(0)]))], ret(c(0))),
        ],
    );
    program(vec![zero, main], &[])
}

/// `main` starts a timer whose tick panics three generated frames deep
/// (tick -> apply -> boom, through closure entries), then spins in a loop
/// of 200 million safepoints and prints "after". Each tick's panic must
/// unwind through the generated frames to the runtime, which reports it and
/// keeps the timer (and the program) going.
pub fn nested_panic() -> Program {
    let boom = func(
        "boom",
        1,
        1,
        vec![bb(
            0,
            vec![],
            Terminator::Panic {
                message: "boom".into(),
                file: None,
                line: 9,
                col: 1,
            },
        )],
    );
    let apply = func(
        "apply",
        2,
        3,
        vec![bb(
            0,
            vec![
                check(4, 1),
                set(
                    2,
                    Rvalue::CallClosure {
                        closure: v(0),
                        args: vec![v(1)],
                    },
                ),
            ],
            ret(v(2)),
        )],
    );
    let tick = func(
        "tick",
        0,
        1,
        vec![bb(
            0,
            vec![
                check(5, 1),
                set(0, call("apply", vec![Operand::FnRef("boom".into()), c(1)])),
            ],
            ret(v(0)),
        )],
    );
    // fn spin(n) = if n == 0 do 0 else spin(n - 1) end, as a loop.
    let spin = func(
        "spin",
        1,
        2,
        vec![
            bb(0, vec![], jump(1)),
            bb(
                1,
                vec![set(1, prim(PrimOp::IntEq, vec![v(0), c(0)]))],
                branch(v(1), 2, 3),
            ),
            bb(2, vec![], ret(c(0))),
            bb(
                3,
                vec![set(0, prim(PrimOp::IntSub, vec![v(0), c(1)])), check(6, 1)],
                jump(1),
            ),
        ],
    );
    let main = func(
        "main",
        0,
        1,
        vec![bb(
            0,
            vec![
                println(s("before")),
                set(
                    0,
                    ext(
                        "snow_timer_every",
                        vec![c(0), c(1), Operand::FnRef("tick".into())],
                    ),
                ),
                check(7, 1),
                set(0, call("spin", vec![c(200_000_000)])),
                println(s("after")),
            ],
            ret(c(0)),
        )],
    );
    program(
        vec![boom, apply, tick, spin, main],
        &[("snow_println", 1), ("snow_timer_every", 3)],
    )
}

/// `even(n)`/`odd(n)` calling each other in tail position (`TailCall`, each
/// after a safepoint), and `main` printing `even(10_000_001)` (0).
pub fn mutual() -> Program {
    let parity = |name: &str, other: &str, base: i64| {
        func(
            name,
            1,
            3,
            vec![
                bb(
                    0,
                    vec![set(1, prim(PrimOp::IntEq, vec![v(0), c(0)]))],
                    branch(v(1), 1, 2),
                ),
                bb(1, vec![], ret(c(base))),
                bb(
                    2,
                    vec![set(2, prim(PrimOp::IntSub, vec![v(0), c(1)])), check(2, 3)],
                    Terminator::TailCall(call(other, vec![v(2)])),
                ),
            ],
        )
    };
    let main = func(
        "main",
        0,
        2,
        vec![bb(
            0,
            vec![
                check(1, 1),
                set(0, call("even", vec![c(10_000_001)])),
                set(1, ext("snow_int_to_string", vec![v(0)])),
                println(v(1)),
            ],
            ret(c(0)),
        )],
    );
    program(
        vec![parity("even", "odd", 1), parity("odd", "even", 0), main],
        &[("snow_int_to_string", 1), ("snow_println", 1)],
    )
}
