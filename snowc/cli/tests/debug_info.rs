//! `snowc build -g` end to end (docs/ARCHITECTURE.md "Debug information"):
//! tests/debug/trace.snow is built with DWARF, then
//! - addr2line (binutils, always present where snowc links) maps the
//!   addresses of Snow functions, of a std function and of the call that
//!   panics to their `.snow` file and line, at -O0 and -O2;
//! - gdb (installed by scripts/setup.sh) sets breakpoints by Snow function
//!   name, stops in them with their arguments, and shows the panicking
//!   division's line in the backtrace. Without gdb that test says so and
//!   checks the same mappings with addr2line: it is never skipped.
//!
//! Debug information is on by default at -O0 and `-g0` turns it off.
//! Expected lines are found in the sources, not written down twice.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

const SOURCE: &str = "tests/debug/trace.snow";

/// The 1-based line of `source` (relative to the repository root) that
/// starts with `prefix`.
fn line_of(source: &str, prefix: &str) -> u32 {
    let text = std::fs::read_to_string(repo_root().join(source)).unwrap();
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {source}")) as u32
        + 1
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} (binutils): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The address of local symbol `symbol` in `exe` (`nm`).
fn symbol_address(exe: &Path, symbol: &str) -> String {
    let nm = tool("nm", &[exe.to_str().unwrap()]);
    nm.lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            let (addr, _kind, name) = (it.next()?, it.next()?, it.next()?);
            (name == symbol).then(|| addr.to_string())
        })
        .unwrap_or_else(|| panic!("no symbol {symbol} in {}", exe.display()))
}

/// The addresses of the calls of `snow_panic` in `exe` (`objdump -d`).
fn panic_calls(exe: &Path) -> Vec<String> {
    let dis = tool(
        "objdump",
        &["-d", "--no-show-raw-insn", exe.to_str().unwrap()],
    );
    dis.lines()
        .filter(|l| l.contains("call") && l.trim_end().ends_with("<snow_panic>"))
        .map(|l| l.trim().split(':').next().unwrap().to_string())
        .collect()
}

/// `addr2line -i`: the source positions of `addr`, innermost inlined
/// function first, as `file:line`.
fn addr2line(exe: &Path, addr: &str) -> Vec<String> {
    tool("addr2line", &["-i", "-e", exe.to_str().unwrap(), addr])
        .lines()
        .map(str::to_string)
        .collect()
}

fn build_g(dir: &Path, opt: &str) -> std::path::PathBuf {
    build(SOURCE, dir, &["-g", opt])
}

/// The program runs as without -g, and its panic names its file and line.
fn runs_and_panics(exe: &Path, div_line: u32) {
    let out = Command::new(exe).output().unwrap();
    assert_eq!(text(&out.stdout), "20\n");
    assert_eq!(out.status.code(), Some(101));
    assert!(
        text(&out.stderr).contains(&format!(
            "snow: panic at {SOURCE}:{div_line}:3: division by zero"
        )),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn addr2line_maps_functions_and_the_panic_to_snow_lines() {
    addr2line_checks();
}

fn addr2line_checks() {
    let dir = tempfile::tempdir().unwrap();
    let area = line_of(SOURCE, "fn area(");
    let ratio = line_of(SOURCE, "fn ratio(");
    let div = line_of(SOURCE, "  a / b");
    let fold = line_of("std/list.snow", "pub fn fold(");
    // The program's file is named as given to snowc, under the directory
    // snowc ran in (the repository root here).
    let ours = |line: u32| format!("{}:{line}", repo_root().join(SOURCE).display());

    let exe = build_g(dir.path(), "-O0");
    runs_and_panics(&exe, div);
    for (symbol, want) in [
        ("snow.area", ours(area)),
        ("snow.ratio", ours(ratio)),
        // A std function: its own file, under the name snowc gives it.
        ("snow.List.fold", format!("std/list.snow:{fold}")),
    ] {
        let addr = symbol_address(&exe, symbol);
        assert_eq!(addr2line(&exe, &addr), [want], "{symbol} at {addr}");
    }
    // The division's check, and any (unreachable) case fallback of a std
    // function, each at its own file's line (the decision tree leaves no
    // fallback where the patterns cover the type, as for lists).
    let calls: Vec<Vec<String>> = panic_calls(&exe)
        .iter()
        .map(|a| addr2line(&exe, a))
        .collect();
    assert_eq!(
        calls.iter().filter(|c| **c == [ours(div)]).count(),
        1,
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .all(|c| *c == [ours(div)] || c[0].starts_with("std/")),
        "{calls:?}"
    );

    // -O2 inlines `ratio` into `main`: the panic's address still maps to
    // the division, then to the call of `ratio`.
    let exe = build_g(dir.path(), "-O2");
    runs_and_panics(&exe, div);
    let call_line = line_of(SOURCE, "  println(\"${ratio(");
    let inlined = panic_calls(&exe)
        .iter()
        .map(|a| addr2line(&exe, a))
        .find(|chain| chain.first() == Some(&ours(div)))
        .expect("a panic call at the division");
    assert_eq!(inlined.get(1), Some(&ours(call_line)), "{inlined:?}");
}

/// `gdb -batch` on the -O0 build.
/// gdb's output, or `None` when the environment forbids tracing (a
/// container without ptrace).
fn gdb(exe: &Path, commands: &[&str]) -> Option<String> {
    let mut args = vec![
        "-batch".to_string(),
        "-nx".into(),
        "-iex".into(),
        "set debuginfod enabled off".into(),
    ];
    for c in commands {
        args.push("-ex".into());
        args.push(c.to_string());
    }
    args.push(exe.to_str().unwrap().into());
    let out = Command::new("timeout")
        .arg("120")
        .arg("gdb")
        .args(&args)
        .output()
        .expect("cannot run timeout gdb");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    (!all.contains("ptrace: Operation not permitted")).then_some(all)
}

#[test]
fn gdb_breaks_on_snow_functions_and_shows_snow_lines() {
    let found = Command::new("gdb").arg("--version").output();
    if !matches!(&found, Ok(o) if o.status.success()) {
        // Not skipped: the same mappings are checked with binutils instead.
        eprintln!("gdb is not installed (scripts/setup.sh installs it): checking with addr2line");
        addr2line_checks();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = build_g(dir.path(), "-O0");
    let area = line_of(SOURCE, "fn area(");
    let div = line_of(SOURCE, "  a / b");
    let call_line = line_of(SOURCE, "  println(\"${ratio(");
    let fold = line_of("std/list.snow", "pub fn fold(");
    let Some(out) = gdb(
        &exe,
        &[
            "break area",
            "break List.fold",
            "run",
            "bt 4",
            "delete",
            "break snow_panic",
            "continue",
            "bt 3",
        ],
    ) else {
        // Not skipped: the same mappings are checked with binutils instead.
        eprintln!("gdb may not trace processes here (ptrace forbidden): checking with addr2line");
        addr2line_checks();
        return;
    };
    for want in [
        // Breakpoints by Snow name, in the program's file and in a std file.
        "Breakpoint 1 at ".to_string(),
        format!(": file {SOURCE}, line {area}."),
        format!(": file std/list.snow, line {fold}."),
        // Stopped in `area` with its arguments (List.map calls it with
        // x = 1 first: area(x, x + 1)), called from std code.
        format!("area (w=1, h=2) at {SOURCE}:{area}"),
        "in List.map (".to_string(),
        // The panic: the division in `ratio`, called from `main`.
        format!("ratio (a=20, b=0) at {SOURCE}:{div}"),
        format!("main () at {SOURCE}:{call_line}"),
    ] {
        assert!(out.contains(&want), "no {want:?} in gdb's output:\n{out}");
    }
}

/// Debug information is on by default for an executable at -O0 (its cost
/// is in docs/ARCHITECTURE.md "Debug information"), off at -O2 unless -g,
/// off with -g0 (the last of -g and -g0 wins); `--emit llvm-ir` has it only
/// with -g, so the IR snapshots never hold a machine's directory.
#[test]
fn on_by_default_at_o0_and_g0_turns_it_off() {
    let dir = tempfile::tempdir().unwrap();
    // The closure passed to List.map: not inlined away at -O2 either.
    let closure = line_of(SOURCE, "  let areas = List.map(");
    let ours = format!("{}:{closure}", repo_root().join(SOURCE).display());
    for (flags, with) in [
        (&[][..], true),
        (&["-O2"][..], false),
        (&["-g0"][..], false),
        (&["-g0", "-g"][..], true),
        (&["-g", "-g0"][..], false),
        (&["-O2", "-g"][..], true),
    ] {
        let exe = build(SOURCE, dir.path(), flags);
        let addr = symbol_address(&exe, "snow.main$closure0");
        let got = addr2line(&exe, &addr);
        if with {
            assert_eq!(got, std::slice::from_ref(&ours), "{flags:?}");
        } else {
            // No line (addr2line may still name the object's file, from
            // the symbol table: `trace.snow:?`).
            assert!(
                got.len() == 1 && (got[0].ends_with(":?") || got[0].ends_with(":0")),
                "{flags:?}: {got:?}"
            );
        }
    }
    for (flags, with) in [(&[][..], false), (&["-g"][..], true)] {
        let mut args = vec!["build", SOURCE, "--emit", "llvm-ir"];
        args.extend_from_slice(flags);
        let out = snowc_cmd(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout).contains("!DICompileUnit"),
            with,
            "{flags:?}"
        );
    }
}
