//! LLVM IR snapshots of hand-built MIR programs, determinism and error reporting.

mod common;

use common::*;
use snowc_codegen::{emit_llvm_ir, OptLevel};
use snowc_mir::mir::*;

/// Emit twice (fresh LLVM contexts) and insist on byte-identical text.
fn ir(p: &Program, opt: OptLevel) -> String {
    let a = emit_llvm_ir(p, opt).unwrap();
    let b = emit_llvm_ir(p, opt).unwrap();
    assert_eq!(a, b, "IR is not deterministic");
    a
}

#[test]
fn countdown_o0() {
    insta::assert_snapshot!(ir(&countdown(), OptLevel::O0));
}

#[test]
fn countdown_o2_is_folded_without_allocas() {
    let text = ir(&countdown(), OptLevel::O2);
    assert!(!text.contains("alloca"), "mem2reg did not run:\n{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn tail_calls_and_safepoints_o0() {
    let text = ir(&mutual(), OptLevel::O0);
    assert_eq!(
        text.matches("musttail call tailcc i64 @snow.").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("call void @snow_check(").count(), 3, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn safepoints_survive_o2() {
    // The limit is re-read at every check (an atomic load LLVM may not hoist
    // out of the recursion), so another thread can still signal the loop.
    let text = ir(&mutual(), OptLevel::O2);
    assert!(
        text.contains("load atomic i64, ptr @snow_stack_limit monotonic"),
        "{text}"
    );
}

#[test]
fn closures_o0() {
    let text = ir(&closures(), OptLevel::O0);
    // One static closure object and one trampoline for `double`, despite two uses.
    assert_eq!(
        text.matches("@\"snow.double$tramp\"(ptr").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("@fn.double = private").count(), 1, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn data_o0() {
    let text = ir(&data(), OptLevel::O0);
    // "None" is used twice but stored once; `snow_string_concat` is declared from externs.
    assert_eq!(text.matches("c\"None\"").count(), 1, "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn arith_o0() {
    insta::assert_snapshot!(ir(&arith(), OptLevel::O0));
}

#[test]
fn panic_o0() {
    let text = ir(&div_by_zero(), OptLevel::O0);
    assert!(text.contains("c\"test.snow\""), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn functions_unwind_and_have_uwtables() {
    let text = ir(&closures(), OptLevel::O2);
    assert!(text.contains("uwtable"), "{text}");
    assert!(
        !text.contains("nounwind"),
        "a Snow frame was marked nounwind:\n{text}"
    );
}

#[test]
fn undeclared_runtime_symbol_is_declared_from_the_call() {
    let main = func(
        "main",
        0,
        1,
        vec![bb(
            0,
            vec![set(0, ext("snow_string_eq", vec![s("a"), s("b")]))],
            ret(v(0)),
        )],
    );
    let text = ir(&program(vec![main], &[]), OptLevel::O0);
    assert!(
        text.contains("declare i64 @snow_string_eq(i64, i64)"),
        "{text}"
    );
}

fn err(p: Program) -> String {
    emit_llvm_ir(&p, OptLevel::O0).unwrap_err()
}

#[test]
fn errors_are_reported_not_panics() {
    let no_main = program(vec![func("f", 0, 0, vec![bb(0, vec![], ret(c(0)))])], &[]);
    assert!(err(no_main).contains("no `main`"));

    let bad_arity = program(
        vec![
            func("f", 1, 1, vec![bb(0, vec![], ret(v(0)))]),
            func(
                "main",
                0,
                1,
                vec![bb(0, vec![set(0, call("f", vec![]))], ret(c(0)))],
            ),
        ],
        &[],
    );
    assert!(err(bad_arity).contains("`f` takes 1 arguments but is called with 0"));

    let bad_extern = program(
        vec![func(
            "main",
            0,
            1,
            vec![bb(0, vec![set(0, ext("snow_println", vec![]))], ret(c(0)))],
        )],
        &[("snow_println", 1)],
    );
    assert!(
        err(bad_extern).contains("extern `snow_println` takes 1 arguments but is called with 0")
    );

    let bad_block = program(vec![func("main", 0, 0, vec![bb(0, vec![], jump(9))])], &[]);
    assert!(err(bad_block).contains("unknown block bb9"));

    let bad_var = program(
        vec![func("main", 0, 1, vec![bb(0, vec![], ret(v(5)))])],
        &[],
    );
    assert!(err(bad_var).contains("variable %5 out of range"));

    let env_outside_closure = program(
        vec![func(
            "main",
            0,
            1,
            vec![bb(0, vec![set(0, Rvalue::EnvLoad(0))], ret(c(0)))],
        )],
        &[],
    );
    assert!(err(env_outside_closure).contains("not a closure"));

    let clash = program(
        vec![func("main", 0, 0, vec![bb(0, vec![], ret(c(0)))])],
        &[("snow_alloc", 1)],
    );
    assert!(err(clash).contains("clashes"));
}
