//! End to end: compile every program in tests/programs and tests/examples'
//! examples with the real `snowc`, run them, and compare stdout exactly, the
//! exit status, (where given) lines that stderr must contain, and (where a
//! `NAME.maxrss` file gives a bound in MiB) the program's peak RSS: the
//! kernel's high-water mark `VmHWM` at exit, as `wait4` reports it.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

struct Case {
    source: String,
    stdout: String,
    stderr: Option<String>,
    status: i32,
    /// Bound on the peak RSS, MiB.
    max_rss_mib: Option<u64>,
}

fn cases() -> Vec<Case> {
    let root = repo_root();
    let mut cases = Vec::new();
    let read = |p: &Path| std::fs::read_to_string(p).ok();
    // tests/programs/NAME.snow with NAME.stdout [NAME.stderr] [NAME.status];
    // a program of several files is a folder tests/programs/NAME/ (built as
    // `snowc build tests/programs/NAME/`, i.e. its main.snow).
    let dir = root.join("tests/programs");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "snow") || p.join("main.snow").is_file())
        .collect();
    names.sort();
    for p in names {
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        let source = if p.is_dir() {
            format!("tests/programs/{stem}/")
        } else {
            format!("tests/programs/{stem}.snow")
        };
        cases.push(Case {
            source,
            stdout: read(&dir.join(format!("{stem}.stdout")))
                .unwrap_or_else(|| panic!("missing {stem}.stdout")),
            stderr: read(&dir.join(format!("{stem}.stderr"))),
            status: read(&dir.join(format!("{stem}.status")))
                .map(|s| s.trim().parse().unwrap())
                .unwrap_or(0),
            max_rss_mib: read(&dir.join(format!("{stem}.maxrss")))
                .map(|s| s.trim().parse().unwrap()),
        });
    }
    // tests/examples/NAME.stdout is the expected output of examples/NAME.snow
    let dir = root.join("tests/examples");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for p in names {
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        cases.push(Case {
            source: format!("examples/{stem}.snow"),
            stdout: read(&p).unwrap(),
            stderr: None,
            status: 0,
            max_rss_mib: None,
        });
    }
    cases
}

/// Runs `cmd` to completion: its output, and its peak RSS in KiB (the
/// child's `ru_maxrss` from `wait4`, which is its `VmHWM` at exit).
// The child is reaped by `wait4` (which also gives its rusage), not `wait`.
#[allow(clippy::zombie_processes)]
fn output_and_peak_rss(mut cmd: Command) -> (std::process::Output, u64) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let mut stdout = Vec::new();
    out_pipe.read_to_end(&mut stdout).unwrap();
    let stderr = err_reader.join().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    use std::os::unix::process::ExitStatusExt;
    let out = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout,
        stderr,
    };
    (out, usage.ru_maxrss as u64)
}

fn run_all(opt: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(
        cases.len() >= 8,
        "expected the program suite, found {} programs",
        cases.len()
    );
    for case in &cases {
        let exe = build(&case.source, dir.path(), &[opt]);
        let mut cmd = Command::new(&exe);
        cmd.args(["a", "b c"])
            .env("SNOW_TEST_VALUE", "snowy")
            .env("SNOW_TEST_DIR", dir.path());
        let (out, peak_kib) = output_and_peak_rss(cmd);
        if let Some(max) = case.max_rss_mib {
            if peak_kib > max * 1024 {
                failures.push(format!(
                    "{} {opt}: peak RSS {} KiB, bound {max} MiB",
                    case.source, peak_kib
                ));
            }
        }
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        if stdout != case.stdout {
            failures.push(format!(
                "{} {opt}: stdout differs\n--- expected\n{}--- actual\n{}--- stderr\n{}",
                case.source, case.stdout, stdout, stderr
            ));
        }
        if out.status.code() != Some(case.status) {
            failures.push(format!(
                "{} {opt}: exit status {:?}, expected {}\n{}",
                case.source,
                out.status.code(),
                case.status,
                stderr
            ));
        }
        if let Some(want) = &case.stderr {
            for line in want.lines() {
                if !stderr.contains(line) {
                    failures.push(format!(
                        "{} {opt}: stderr lacks {line:?}\n--- stderr\n{stderr}",
                        case.source
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn programs_at_o0() {
    run_all("-O0");
}

#[test]
fn programs_at_o2() {
    run_all("-O2");
}

#[test]
fn snowc_run_passes_args_and_exit_status() {
    ensure_runtime();
    let out = snowc_cmd(&["run", "tests/programs/panic.snow"]);
    assert_eq!(out.status.code(), Some(101), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "before\n");
    assert!(
        text(&out.stderr)
            .contains("snow: panic at tests/programs/panic.snow:1:40: division by zero"),
        "{}",
        text(&out.stderr)
    );
    let out = snowc_cmd(&["run", "tests/programs/env_args.snow", "--", "x", "y"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("x+y\n"),
        "{}",
        text(&out.stdout)
    );
}
