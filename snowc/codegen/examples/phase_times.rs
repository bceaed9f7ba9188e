//! Times the back-end phases for a tiny program:
//! `cargo run -p snowc_codegen --example phase_times -- path/to/libsnow_rt.a`.

use std::path::PathBuf;
use std::time::Instant;

use snowc_codegen::{emit_object_timed, link_with, Linker, OptLevel};
use snowc_mir::mir::*;

fn main() {
    let rt = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: phase_times LIBSNOW_RT.a"),
    );
    let main = Function {
        name: "main".into(),
        params: 0,
        vars: 0,
        var_names: vec![],
        blocks: vec![Block {
            id: BlockId(0),
            stmts: vec![Stmt::Eval(Rvalue::CallExtern {
                symbol: "snow_println".into(),
                args: vec![Operand::Str("hello".into())],
            })],
            term: Terminator::Return(Operand::Const(0)),
            locs: vec![],
            term_loc: Loc::default(),
        }],
        is_closure: false,
        pos: Default::default(),
    };
    let p = Program {
        functions: vec![main],
        externs: vec![ExternDecl {
            symbol: "snow_println".into(),
            arity: 1,
        }],
        file_name: "hello.snow".into(),
        descs: Vec::new(),
    };
    let dir = std::env::temp_dir().join(format!("snow-phase-times-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for opt in [OptLevel::O0, OptLevel::O2] {
        for linker in [Linker::Mold, Linker::System] {
            let obj = dir.join("p.o");
            let exe = dir.join("p");
            // warm-up once, then take the best of 5
            let mut best = (f64::MAX, f64::MAX);
            for _ in 0..6 {
                let t = emit_object_timed(&p, opt, &obj).unwrap();
                let t0 = Instant::now();
                link_with(std::slice::from_ref(&obj), &rt, &exe, linker).unwrap();
                let l = t0.elapsed().as_secs_f64() * 1e3;
                let e = (t.build + t.optimize + t.emit).as_secs_f64() * 1e3;
                best = (best.0.min(e), best.1.min(l));
            }
            let out = std::process::Command::new(&exe).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
            println!(
                "{opt:?} {linker:?}: emit_object {:.1} ms, link {:.1} ms",
                best.0, best.1
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
