//! Every program in tests/errors is rejected by `snowc check` with exit
//! status 1 and a rendered diagnostic (file:line:col, the source line
//! underlined), pinned here by insta snapshots.

mod common;

use common::*;

#[test]
fn error_programs_are_rejected_with_pinned_diagnostics() {
    let files = snow_files("tests/errors");
    assert!(files.len() >= 10);
    for rel in files {
        let stem = std::path::Path::new(&rel)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let out = snowc_cmd(&["check", &rel]);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{rel}: expected exit status 1\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("{rel}:")),
            "{rel}: no file:line:col in\n{stderr}"
        );
        assert!(
            !stderr.contains("panicked"),
            "{rel}: snowc panicked\n{stderr}"
        );
        insta::assert_snapshot!(stem, stderr);
    }
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = snowc_cmd(&["check", "tests/errors/does_not_exist.snow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read tests/errors/does_not_exist.snow"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_example_checks() {
    let files = snow_files("examples");
    assert!(files.len() >= 6);
    for rel in files {
        let out = snowc_cmd(&["check", &rel]);
        assert!(out.status.success(), "{rel}:\n{}", text(&out.stderr));
    }
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let out = snowc_cmd(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("<FILE>"),
        "{}",
        text(&out.stderr)
    );
    let out = snowc_cmd(&["build", "examples/hello.snow", "--emit", "asm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("possible values: mir, llvm-ir"),
        "{}",
        text(&out.stderr)
    );
    let out = snowc_cmd(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("check"));
}

#[test]
fn invalid_utf8_source_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.snow");
    std::fs::write(&path, b"fn main() = println(\"\xff\")").unwrap();
    let out = snowc_cmd(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not valid UTF-8"),
        "{}",
        text(&out.stderr)
    );
}
