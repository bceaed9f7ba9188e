//! Every program in tests/errors is rejected by `snowc check` with exit
//! status 1 and a rendered diagnostic (file:line:col, the source line
//! underlined), pinned here by insta snapshots of the source and snowc's
//! stderr together; warnings, `--deny-warnings` and `snowc explain`.

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
        let source = std::fs::read_to_string(repo_root().join(&rel)).unwrap();
        insta::assert_snapshot!(
            stem,
            format!(
                "----- SOURCE {rel}\n{}\n----- STDERR\n{stderr}",
                source.trim_end_matches('\n')
            )
        );
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

#[test]
fn a_program_with_warnings_checks_builds_and_runs() {
    let src = "tests/warnings/warnings.snow";
    let out = snowc_cmd(&["check", src]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    insta::assert_snapshot!("warnings", stderr);
    // It builds and runs; the warnings go to snowc's stderr, before the
    // program's output.
    ensure_runtime();
    let out = snowc_cmd(&["run", src]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "number\n");
    assert!(text(&out.stderr).contains("warning[W0003]: unreachable case arm"));
}

/// Thousands of warnings must not take longer to print than the program
/// takes to check: past the first 100 diagnostics (drawn in full) each
/// one is a single `file:line:col: kind[CODE]: message` line (the order
/// rule, errors first, is `render.rs`'s unit test).
#[test]
fn past_a_hundred_diagnostics_the_rest_are_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.snow");
    let mut src = String::new();
    for i in 0..150 {
        // Lines 3i+1 .. 3i+3: an unused function with an unused parameter.
        src.push_str(&format!(
            "fn helper{i}(x :: Int, spare{i} :: Int) -> Int do\n  x + {i}\nend\n"
        ));
    }
    src.push_str("fn main() do\n  println(\"hi\")\nend\n");
    std::fs::write(&path, &src).unwrap();
    let p = path.to_str().unwrap();
    let out = snowc_cmd(&["check", p]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // 300 warnings: 100 drawn with their source lines, 200 short lines.
    assert_eq!(stderr.matches("╭─[").count(), 100, "{stderr}");
    let short: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{p}:")))
        .collect();
    assert_eq!(short.len(), 200, "{stderr}");
    assert!(
        short.iter().all(|l| l.contains(": warning[W000")),
        "{short:?}"
    );
    // Exact positions: helper149 is declared on line 448, its spare
    // parameter at column 24.
    for line in [
        format!("{p}:448:4: warning[W0002]: function helper149 is never used"),
        format!("{p}:448:24: warning[W0001]: unused variable spare149"),
    ] {
        assert!(short.contains(&line.as_str()), "{line} not in {short:?}");
    }
    assert!(stderr.ends_with(
        "snowc: the first 100 diagnostics in full (errors first), the other 200 one line each\nsnowc: 300 warnings\n"
    ), "{stderr}");
}

#[test]
fn deny_warnings_makes_them_errors() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("warnings");
    let src = "tests/warnings/warnings.snow";
    let out = snowc_cmd(&["build", src, "-o", exe.to_str().unwrap(), "--deny-warnings"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!exe.exists(), "nothing is built");
    assert!(
        stderr.contains("error[W0001]: unused variable unit"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("snowc: 4 errors found (warnings are errors with --deny-warnings)\n"),
        "{stderr}"
    );
    // A program without warnings is unaffected.
    let out = snowc_cmd(&["check", "examples/hello.snow", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn examples_and_test_programs_have_no_warnings() {
    for dir in [
        "examples",
        "examples/chat-web",
        "tests/programs",
        "tests/ws",
        "tests/snapshot",
        "bench/programs",
        "bench/servers",
    ] {
        for rel in snow_files(dir) {
            // A module of a program of several files (chat-web's
            // protocol.snow) is checked through the entry that imports it.
            let src = std::fs::read_to_string(repo_root().join(&rel)).unwrap();
            if !src.contains("fn main(") {
                continue;
            }
            let out = snowc_cmd(&["check", &rel, "--deny-warnings"]);
            assert!(out.status.success(), "{rel}:\n{}", text(&out.stderr));
        }
    }
}

#[test]
fn explain_prints_a_code_and_lists_them_all() {
    let out = snowc_cmd(&["explain", "E0012"]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(
        s.starts_with("E0012: unknown variable or function\n"),
        "{s}"
    );
    assert!(s.contains("Wrong:\n\n    fn main() do\n"), "{s}");
    assert!(s.contains("Right:\n"), "{s}");
    // Any case; warnings too.
    let out = snowc_cmd(&["explain", "w0003"]);
    assert!(text(&out.stdout).starts_with("W0003: unreachable case arm"));
    let out = snowc_cmd(&["explain"]);
    let list = text(&out.stdout);
    assert!(list.lines().count() >= 40, "{list}");
    assert!(list.contains("E0038  case is not exhaustive\n"), "{list}");
    let out = snowc_cmd(&["explain", "E9999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no diagnostic has the code E9999"));
}
