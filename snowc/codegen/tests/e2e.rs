//! End to end: emit an object, link it with the runtime (target/debug/libsnow_rt.a,
//! built by `cargo build -p snow-rt`), run it and check its output.

mod common;

use common::*;
use snowc_codegen::OptLevel;

fn both(p: &snowc_mir::mir::Program, expected_stdout: &str) {
    for opt in [OptLevel::O0, OptLevel::O2] {
        let out = run(p, opt);
        assert!(
            out.status.success(),
            "{opt:?}: exit {:?}, stderr:\n{}",
            out.status,
            stderr(&out)
        );
        assert_eq!(stdout(&out), expected_stdout, "{opt:?}");
    }
}

#[test]
fn self_tail_call_loops_ten_million_times() {
    both(&countdown(), "50000005000000\n");
}

#[test]
fn mutual_tail_calls_run_in_constant_stack() {
    both(&mutual(), "0\n");
}

#[test]
fn closures_and_function_values() {
    both(&closures(), "42\n42\n100\n-10\n");
}

#[test]
fn constructors_switch_lists_strings() {
    both(&data(), "Some 7\nNone\n12\nNone\n");
}

#[test]
fn arithmetic() {
    both(&arith(), "3\n2\n-2\n1\n0\n1\n1\n1\n0\n0\n");
}

#[test]
fn division_by_zero_panics_with_status_101() {
    for opt in [OptLevel::O0, OptLevel::O2] {
        let out = run(&div_by_zero(), opt);
        assert_eq!(
            out.status.code(),
            Some(101),
            "{opt:?}: stderr:\n{}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("snow: panic at test.snow:3:7: division by zero"),
            "{opt:?}: stderr:\n{}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "");
    }
}

#[test]
fn link_reports_a_missing_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let e =
        snowc_codegen::link(&[], &dir.path().join("nope.a"), &dir.path().join("x")).unwrap_err();
    assert!(e.contains("nope.a"), "{e}");
}

#[test]
fn link_shows_the_linker_error() {
    // An object whose `main` calls a function nobody defines.
    let main = func(
        "main",
        0,
        1,
        vec![bb(
            0,
            vec![set(0, ext("snow_no_such_fn", vec![]))],
            ret(c(0)),
        )],
    );
    let p = program(vec![main], &[("snow_no_such_fn", 0)]);
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("p.o");
    snowc_codegen::emit_object(&p, OptLevel::O0, &obj).unwrap();
    let e = snowc_codegen::link(&[obj], &runtime_lib(), &dir.path().join("p")).unwrap_err();
    assert!(e.contains("snow_no_such_fn"), "{e}");
}

#[test]
fn panic_unwinds_through_generated_frames() {
    // Each tick panics three generated frames deep inside a callback; without
    // unwind tables the Rust unwinder would abort the process (status 134).
    // The timer must report every panic and go on, and `main` finish.
    for opt in [OptLevel::O0, OptLevel::O2] {
        let out = run(&nested_panic(), opt);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{opt:?}: stderr:\n{err}");
        assert_eq!(stdout(&out), "before\nafter\n", "{opt:?}");
        let reports = err.matches("snow: panic at test.snow:9:1: boom").count();
        assert!(reports >= 2, "{opt:?}: {reports} reports\n{err}");
    }
}
