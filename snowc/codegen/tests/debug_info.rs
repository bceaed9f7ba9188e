//! Debug information (`snowc build -g`, src/debug.rs): every program gets
//! verified IR with it, also code with no source position at all (the
//! hand-built programs here have none, like synthesised MIR functions); a
//! compile unit per file, a subprogram per function, line:column locations
//! from the MIR's line table; the text is deterministic. Without it the IR
//! holds no debug metadata (the snapshots in `snapshots/` stay as they were).
//! The end-to-end checks with gdb and addr2line are in
//! `snowc/cli/tests/debug_info.rs`.

mod common;

use common::*;
use snowc_codegen::{emit_llvm_ir, DebugInfo, OptLevel, Options};
use snowc_mir::mir::{Loc, Program, SourcePos, Terminator};

fn with_g(opt: OptLevel) -> Options {
    Options {
        opt,
        debug_info: Some(DebugInfo {
            comp_dir: "/build/dir".into(),
        }),
    }
}

fn ir_g(p: &Program, opt: OptLevel) -> String {
    let a = emit_llvm_ir(p, with_g(opt)).unwrap_or_else(|e| panic!("{opt:?}: {e}"));
    let b = emit_llvm_ir(p, with_g(opt)).unwrap();
    assert_eq!(a, b, "{opt:?}: debug info is not deterministic");
    a
}

/// A function whose frame estimate exceeds `BIG_FRAME`: it gets a
/// frame-checking entry and a `$body`, each with a subprogram.
fn big_frame() -> Program {
    let big = func(
        "big",
        0,
        5000,
        vec![bb(0, vec![set(4999, use_(c(1)))], ret(v(4999)))],
    );
    let main = func(
        "main",
        0,
        1,
        vec![bb(0, vec![set(0, call("big", vec![]))], ret(c(0)))],
    );
    program(vec![big, main], &[])
}

#[test]
fn code_without_positions_gets_verified_debug_info() {
    let programs = [
        ("countdown", countdown()),
        ("closures", closures()),
        ("data", data()),
        ("arith", arith()),
        ("div_by_zero", div_by_zero()),
        ("nested_panic", nested_panic()),
        ("mutual", mutual()),
        ("big_frame", big_frame()),
    ];
    for (name, p) in &programs {
        for opt in [OptLevel::O0, OptLevel::O2] {
            let ir = ir_g(p, opt);
            assert!(
                ir.contains("!llvm.dbg.cu") && ir.contains("distinct !DISubprogram(name: \"main\""),
                "{name} {opt:?}:\n{ir}"
            );
        }
        // Without -g: no debug metadata at all.
        let plain = emit_llvm_ir(p, OptLevel::O0).unwrap();
        assert!(
            !plain.contains("!dbg") && !plain.contains("DICompileUnit"),
            "{name}: debug metadata without -g"
        );
    }
    let ir = ir_g(&big_frame(), OptLevel::O0);
    assert_eq!(ir.matches("!DISubprogram(name: \"big\"").count(), 2, "{ir}");
}

#[test]
fn units_subprograms_and_locations_follow_the_mir() {
    // `main` in the program's file calls `List.twice`, a function of a std
    // file; both carry a line table.
    let mut twice = func(
        "List.twice",
        1,
        2,
        vec![bb(
            0,
            vec![set(
                1,
                prim(snowc_mir::mir::PrimOp::IntAdd, vec![v(0), v(0)]),
            )],
            ret(v(1)),
        )],
    );
    twice.pos = SourcePos {
        file: Some("std/list.snow".into()),
        line: 40,
        col: 1,
    };
    twice.var_names = vec!["x".into(), String::new()];
    twice.blocks[0].locs = vec![Loc { line: 41, col: 5 }];
    twice.blocks[0].term_loc = Loc { line: 42, col: 3 };
    let mut main = func(
        "main",
        0,
        1,
        vec![bb(
            0,
            vec![set(0, call("List.twice", vec![c(21)])), println(v(0))],
            // No position of its own: the function's line.
            ret(c(0)),
        )],
    );
    main.pos = SourcePos {
        file: None,
        line: 3,
        col: 1,
    };
    main.var_names = vec!["n".into()];
    // Shorter than the statements, as a hand-built block may be.
    main.blocks[0].locs = vec![Loc { line: 4, col: 11 }];
    let p = program(vec![twice, main], &[("snow_println", 1)]);
    for opt in [OptLevel::O0, OptLevel::O2] {
        let ir = ir_g(&p, opt);
        assert!(
            ir.contains("!DIFile(filename: \"test.snow\", directory: \"/build/dir\")"),
            "{ir}"
        );
        // std files are named as snowc names them, with no directory (their
        // text is embedded in snowc): nothing machine-specific.
        assert!(
            ir.contains("!DIFile(filename: \"std/list.snow\", directory: \"\")"),
            "{ir}"
        );
        assert_eq!(ir.matches("distinct !DICompileUnit(").count(), 2, "{ir}");
        // (At -O2 `List.twice` is inlined and folded away, its subprogram too.)
        if opt == OptLevel::O0 {
            for want in [
                "!DISubprogram(name: \"List.twice\"",
                "!DILocation(line: 41, column: 5",
                "!DILocation(line: 42, column: 3",
                "!DILocation(line: 4, column: 11",
                "!DILocation(line: 3, column: 1",
                "!DILocalVariable(name: \"x\", arg: 1",
                "!DILocalVariable(name: \"n\"",
            ] {
                assert!(ir.contains(want), "no {want} in:\n{ir}");
            }
        }
    }
}

#[test]
fn a_panic_in_std_code_names_the_std_file() {
    let main = func(
        "main",
        0,
        0,
        vec![bb(
            0,
            vec![],
            Terminator::Panic {
                message: "boom".into(),
                file: Some("std/json.snow".into()),
                line: 12,
                col: 3,
            },
        )],
    );
    let p = program(vec![main], &[]);
    for opt in [OptLevel::O0, OptLevel::O2] {
        let out = run(&p, opt);
        assert_eq!(out.status.code(), Some(101), "{opt:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("snow: panic at std/json.snow:12:3: boom"),
            "{opt:?}: {}",
            stderr(&out)
        );
    }
}
