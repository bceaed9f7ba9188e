//! MIR and LLVM IR of every example and of the focused programs in
//! tests/snapshot, pinned in the top-level `snapshots/` folder so a reviewer
//! sees every lowering change as a diff. Emitting twice must give
//! byte-identical text.

mod common;

use common::*;

fn emit(source: &str, what: &str) -> String {
    let out = snowc_cmd(&["build", source, "--emit", what]);
    assert!(
        out.status.success(),
        "snowc build {source} --emit {what} failed:\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Every example and focused program, and the programs of several files
/// (folders with a `main.snow`) in tests/snapshot.
fn sources() -> Vec<String> {
    let mut v: Vec<String> = ["examples", "tests/snapshot"]
        .into_iter()
        .flat_map(snow_files)
        .collect();
    let mut dirs: Vec<String> = std::fs::read_dir(repo_root().join("tests/snapshot"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("main.snow").is_file())
        .map(|p| {
            format!(
                "tests/snapshot/{}/",
                p.file_name().unwrap().to_string_lossy()
            )
        })
        .collect();
    dirs.sort();
    v.extend(dirs);
    v
}

fn snapshot_all(what: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for source in sources() {
            let first = emit(&source, what);
            let second = emit(&source, what);
            assert!(
                first == second,
                "{source}: --emit {what} is not deterministic"
            );
            let name = format!(
                "{}__{}",
                what.replace('-', "_"),
                std::path::Path::new(&source)
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
            );
            insta::assert_snapshot!(name, first);
        }
    });
}

#[test]
fn mir_snapshots() {
    snapshot_all("mir");
}

#[test]
fn llvm_ir_snapshots() {
    snapshot_all("llvm-ir");
}

#[test]
fn ws_calls_lower_to_runtime_symbols() {
    let mir = emit("examples/chat.snow", "mir");
    let ir = emit("examples/chat.snow", "llvm-ir");
    for f in [
        "join",
        "leave",
        "broadcast",
        "broadcast_except",
        "send",
        "count",
        "rooms",
        "serve",
    ] {
        let sym = format!("snow_ws_{f}");
        assert!(mir.contains(&sym), "MIR of chat lacks a call of {sym}");
        assert!(
            ir.contains(&format!("@{sym}(")),
            "LLVM IR of chat lacks a call of {sym}"
        );
    }
}
