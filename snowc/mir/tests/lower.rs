//! Lowering of hand-built typed programs: MIR structure and, through a small
//! MIR interpreter, what the lowered code computes. Tests that read better
//! as Snow source are in `from_source.rs`; these build typed trees by hand
//! for what source cannot say (a capture the checker missed, a `case` of
//! guarded arms only) or to pin the exact tree lowered.

mod common;

use common::build::*;
use common::interp::{Interp, Panic};
use snowc_mir::mir::{BlockId, Function, Program, Rvalue, Stmt, Terminator, Var};
use snowc_syntax::ast::BinOp;
use snowc_syntax::Span;
use snowc_types::tast::{TPatternKind, Ty};

fn lower(p: &snowc_types::tast::TProgram) -> Program {
    snowc_mir::lower(p, &sources(""))
}

fn func<'a>(p: &'a Program, name: &str) -> &'a Function {
    p.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name} in\n{p}"))
}

/// Every rvalue of `f`, those of tail calls included.
fn rvalues(f: &Function) -> Vec<&Rvalue> {
    f.blocks
        .iter()
        .flat_map(|b| {
            let tail = match &b.term {
                Terminator::TailCall(rv) => Some(rv),
                _ => None,
            };
            b.stmts
                .iter()
                .filter_map(|s| match s {
                    Stmt::Assign(_, rv) | Stmt::Eval(rv) => Some(rv),
                    Stmt::Check { .. } => None,
                })
                .chain(tail)
        })
        .collect()
}

fn calls_to(f: &Function, name: &str) -> usize {
    rvalues(f)
        .iter()
        .filter(|rv| matches!(rv, Rvalue::Call { func, .. } if func == name))
        .count()
}

fn no_unreachable(p: &Program) {
    common::validate::validate(p);
    for f in &p.functions {
        for (i, b) in f.blocks.iter().enumerate() {
            assert_eq!(b.id, BlockId(i as u32));
            assert!(
                b.term != Terminator::Unreachable,
                "{}: bb{i} unterminated",
                f.name
            );
        }
        assert_eq!(f.vars as usize, f.var_names.len());
    }
}

fn int_sub(a: i64, b: TExprArg) -> snowc_types::tast::TExpr {
    bin(BinOp::Sub, local(a as u32, Ty::Int), b.0, Ty::Int)
}
struct TExprArg(snowc_types::tast::TExpr);

/// fn count(n, acc) = if n == 0 do acc else count(n - 1, acc + 1) end
fn countdown() -> snowc_types::tast::TProgram {
    let body = if_(
        bin(BinOp::Eq, local(0, Ty::Int), int(0), Ty::Bool),
        local(1, Ty::Int),
        Some(call(
            "count",
            vec![
                int_sub(0, TExprArg(int(1))),
                bin(BinOp::Add, local(1, Ty::Int), int(1), Ty::Int),
            ],
            Ty::Int,
        )),
    );
    prog(
        vec![tfn(
            "count",
            vec![(0, "n", Ty::Int), (1, "acc", Ty::Int)],
            Ty::Int,
            body,
            &["n", "acc"],
        )],
        vec![],
    )
}

#[test]
fn tail_self_call_is_a_jump_to_the_loop_header() {
    let p = lower(&countdown());
    no_unreachable(&p);
    let f = func(&p, "count");
    assert_eq!(f.params, 2);
    assert_eq!(f.var_names[..2], ["n".to_string(), "acc".to_string()]);
    // bb0: no statements (the loop allocates nothing, so no region mark), jumps to the loop header bb1.
    assert!(f.blocks[0].stmts.is_empty(), "{p}");
    assert_eq!(f.blocks[0].term, Terminator::Jump(BlockId(1)));
    assert_eq!(calls_to(f, "count"), 0, "{p}");
    let back: Vec<_> = f
        .blocks
        .iter()
        .filter(|b| b.term == Terminator::Jump(BlockId(1)) && b.id != BlockId(0))
        .collect();
    assert_eq!(back.len(), 1, "{p}");
    let assigned: Vec<Var> = back[0]
        .stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Assign(v, _) if v.0 < 2 => Some(*v),
            _ => None,
        })
        .collect();
    assert_eq!(assigned, vec![Var(0), Var(1)]);

    let mut it = Interp::new(&p);
    assert_eq!(it.run("count", vec![1_000_000, 0]), Ok(1_000_000));
    assert_eq!(it.max_depth, 1, "tail recursion must not nest calls");
}

#[test]
fn tail_call_evaluates_all_arguments_before_reassigning_parameters() {
    // fn swap(a, b, n) = if n == 0 do a - b else swap(b, a, n - 1) end
    let body = if_(
        bin(BinOp::Eq, local(2, Ty::Int), int(0), Ty::Bool),
        int_sub(0, TExprArg(local(1, Ty::Int))),
        Some(call(
            "swap",
            vec![
                local(1, Ty::Int),
                local(0, Ty::Int),
                int_sub(2, TExprArg(int(1))),
            ],
            Ty::Int,
        )),
    );
    let p = lower(&prog(
        vec![tfn(
            "swap",
            vec![(0, "a", Ty::Int), (1, "b", Ty::Int), (2, "n", Ty::Int)],
            Ty::Int,
            body,
            &["a", "b", "n"],
        )],
        vec![],
    ));
    let mut it = Interp::new(&p);
    assert_eq!(it.run("swap", vec![1, 2, 1]), Ok(1));
    assert_eq!(it.run("swap", vec![1, 2, 2]), Ok(-1));
}

#[test]
fn non_tail_self_call_stays_a_call() {
    // fn fact(n) = if n == 0 do 1 else n * fact(n - 1) end
    let body = if_(
        bin(BinOp::Eq, local(0, Ty::Int), int(0), Ty::Bool),
        int(1),
        Some(bin(
            BinOp::Mul,
            local(0, Ty::Int),
            call("fact", vec![int_sub(0, TExprArg(int(1)))], Ty::Int),
            Ty::Int,
        )),
    );
    let p = lower(&prog(
        vec![tfn("fact", vec![(0, "n", Ty::Int)], Ty::Int, body, &["n"])],
        vec![],
    ));
    assert_eq!(calls_to(func(&p, "fact"), "fact"), 1);
    let mut it = Interp::new(&p);
    assert_eq!(it.run("fact", vec![10]), Ok(3_628_800));
    assert_eq!(it.max_depth, 11);
}

#[test]
fn tail_call_through_case_arms_and_blocks() {
    // fn sum(xs, acc) = case xs do [] -> acc  [h | t] -> do let s = acc + h; sum(t, s) end end
    let lt = list_ty(Ty::Int);
    let body = case(
        local(0, lt.clone()),
        vec![
            arm(
                pat(TPatternKind::EmptyList, lt.clone()),
                None,
                local(1, Ty::Int),
            ),
            arm(
                pat(
                    TPatternKind::Cons {
                        head: Box::new(p_bind(2, Ty::Int)),
                        tail: Box::new(p_bind(3, lt.clone())),
                    },
                    lt.clone(),
                ),
                None,
                block(vec![
                    let_(
                        4,
                        bin(BinOp::Add, local(1, Ty::Int), local(2, Ty::Int), Ty::Int),
                    ),
                    call(
                        "sum",
                        vec![local(3, lt.clone()), local(4, Ty::Int)],
                        Ty::Int,
                    ),
                ]),
            ),
        ],
        Ty::Int,
    );
    let main = tfn(
        "main",
        vec![],
        Ty::Int,
        call(
            "sum",
            vec![list((1..=100).map(int).collect(), Ty::Int), int(0)],
            Ty::Int,
        ),
        &[],
    );
    let p = lower(&prog(
        vec![
            main,
            tfn(
                "sum",
                vec![(0, "xs", lt.clone()), (1, "acc", Ty::Int)],
                Ty::Int,
                body,
                &["xs", "acc", "h", "t", "s"],
            ),
        ],
        vec![],
    ));
    no_unreachable(&p);
    assert_eq!(calls_to(func(&p, "sum"), "sum"), 0, "{p}");
    let mut it = Interp::new(&p);
    assert_eq!(it.run("main", vec![]), Ok(5050));
    // `main`'s call of `sum` is in tail position too: a TailCall, no nesting.
    assert_eq!(it.max_depth, 1);
    assert!(matches!(
        func(&p, "main").blocks.last().map(|b| &b.term),
        Some(Terminator::TailCall(Rvalue::Call { func, .. })) if func == "sum"
    ));
    // The let-bound local is named in the MIR.
    assert!(func(&p, "sum").var_names.contains(&"s".to_string()));
}

#[test]
fn lambda_is_lifted_with_its_captures() {
    // fn main() do let k = 10; let add = fn(x) -> x + k end; add(5) end
    let add_ty = Ty::Fun(vec![Ty::Int], Box::new(Ty::Int));
    let body = block(vec![
        let_(0, int(10)),
        let_(
            1,
            lambda(
                vec![(2, Ty::Int)],
                vec![0],
                bin(BinOp::Add, local(2, Ty::Int), local(0, Ty::Int), Ty::Int),
            ),
        ),
        call_val(local(1, add_ty), vec![int(5)], Ty::Int),
    ]);
    let p = lower(&prog(
        vec![tfn("main", vec![], Ty::Int, body, &["k", "add", "x"])],
        vec![],
    ));
    no_unreachable(&p);
    assert_eq!(
        p.functions
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["main", "main$closure0"]
    );
    let c = func(&p, "main$closure0");
    assert!(c.is_closure);
    assert_eq!(c.params, 2);
    assert_eq!(c.var_names[..2], ["self".to_string(), "x".to_string()]);
    assert!(matches!(
        &c.blocks[0].stmts[0],
        Stmt::Assign(_, Rvalue::EnvLoad(0))
    ));
    let main = func(&p, "main");
    let made: Vec<_> = rvalues(main)
        .into_iter()
        .filter_map(|rv| match rv {
            Rvalue::MakeClosure { func, captures } => Some((func.clone(), captures.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].0, "main$closure0");
    assert_eq!(made[0].1.len(), 1);
    assert!(rvalues(main)
        .iter()
        .any(|rv| matches!(rv, Rvalue::CallClosure { .. })));
    assert_eq!(Interp::new(&p).run("main", vec![]), Ok(15));
}

#[test]
fn nested_lambdas_capture_through_their_parent() {
    // fn main() do let a = 1; let b = 20; let f = fn(x) -> fn(y) -> x + y + a + b end end; f(300)(4000) end
    let inner_ty = Ty::Fun(vec![Ty::Int], Box::new(Ty::Int));
    let sum = bin(
        BinOp::Add,
        bin(
            BinOp::Add,
            bin(BinOp::Add, local(3, Ty::Int), local(4, Ty::Int), Ty::Int),
            local(0, Ty::Int),
            Ty::Int,
        ),
        local(1, Ty::Int),
        Ty::Int,
    );
    let inner = lambda(vec![(4, Ty::Int)], vec![0, 1, 3], sum);
    let outer = lambda(vec![(3, Ty::Int)], vec![0, 1], inner);
    let outer_ty = outer.ty.clone();
    let body = block(vec![
        let_(0, int(1)),
        let_(1, int(20)),
        let_(2, outer),
        call_val(
            call_val(local(2, outer_ty), vec![int(300)], inner_ty),
            vec![int(4000)],
            Ty::Int,
        ),
    ]);
    let p = lower(&prog(
        vec![tfn(
            "main",
            vec![],
            Ty::Int,
            body,
            &["a", "b", "f", "x", "y"],
        )],
        vec![],
    ));
    no_unreachable(&p);
    assert_eq!(
        p.functions
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["main", "main$closure0", "main$closure1"]
    );
    // The inner closure is created inside the outer one with 3 captures.
    let outer_f = func(&p, "main$closure0");
    assert!(rvalues(outer_f)
        .iter()
        .any(|rv| matches!(rv, Rvalue::MakeClosure { func, captures } if func == "main$closure1" && captures.len() == 3)));
    assert_eq!(Interp::new(&p).run("main", vec![]), Ok(4321));
}

#[test]
fn capture_missing_from_the_checker_is_still_captured() {
    // Lambda.captures left empty although the body uses `k`.
    let body = block(vec![
        let_(0, int(7)),
        let_(1, lambda(vec![], vec![], local(0, Ty::Int))),
        call_val(
            local(1, Ty::Fun(vec![], Box::new(Ty::Int))),
            vec![],
            Ty::Int,
        ),
    ]);
    let p = lower(&prog(
        vec![tfn("main", vec![], Ty::Int, body, &["k", "f"])],
        vec![],
    ));
    assert_eq!(Interp::new(&p).run("main", vec![]), Ok(7));
}

#[test]
fn case_with_only_guarded_arms_panics_when_none_matches() {
    let src = "fn f(x) = case x do n when n > 0 -> n end\n";
    let mut c = case(
        local(0, Ty::Int),
        vec![arm(
            p_bind(1, Ty::Int),
            Some(bin(BinOp::Gt, local(1, Ty::Int), int(0), Ty::Bool)),
            local(1, Ty::Int),
        )],
        Ty::Int,
    );
    c.span = Span::new(Default::default(), 10, src.len() - 1);
    let p = snowc_mir::lower(
        &prog(
            vec![tfn("f", vec![(0, "x", Ty::Int)], Ty::Int, c, &["x", "n"])],
            vec![],
        ),
        &sources(src),
    );
    let mut it = Interp::new(&p);
    assert_eq!(it.run("f", vec![3]), Ok(3));
    assert_eq!(
        it.run("f", vec![-3]),
        Err(Panic {
            message: "no case clause matched".into(),
            file: None,
            line: 1,
            col: 11
        })
    );
}

#[test]
fn display_is_readable_and_deterministic() {
    let body = block(vec![
        let_(0, str_("hi \"you\"\n")),
        call_ext("println", vec![], vec![local(0, Ty::String)], Ty::Unit),
        int(0),
    ]);
    let tp = prog(
        vec![tfn("main", vec![], Ty::Int, body, &["greeting"])],
        vec![println_ext()],
    );
    let text = lower(&tp).to_string();
    let want = r#"file "t.snow"

extern snow_println/1

fn main() {
    vars %0 greeting
bb0:
    jump bb1
bb1:
    %0 = "hi \"you\"\n"
    call_extern snow_println(%0)
    return 0
}
"#;
    assert_eq!(text, want);
    assert_eq!(lower(&tp).to_string(), text);
    let again = lower(&countdown()).to_string();
    assert_eq!(lower(&countdown()).to_string(), again);
}
