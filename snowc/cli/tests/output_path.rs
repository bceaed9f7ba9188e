//! `snowc build app.snow` without `-o` writes `./app`: into the current
//! directory, named after the source file (as rustc, go build and gcc do),
//! never next to the source; `--help` says so.

mod common;

use common::*;
use std::process::Command;

#[test]
fn build_without_o_writes_into_the_current_directory() {
    ensure_runtime();
    let cwd = tempfile::tempdir().unwrap();
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("greet.snow");
    std::fs::write(&src, "fn main() = println(\"hi from greet\")\n").unwrap();
    let out = Command::new(snowc())
        .args(["build", src.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exe = cwd.path().join("greet");
    assert!(exe.is_file(), "no ./greet in the current directory");
    assert!(
        !src_dir.path().join("greet").exists(),
        "the executable went next to the source"
    );
    let run = Command::new(&exe).output().unwrap();
    assert_eq!(text(&run.stdout), "hi from greet\n");
    // A relative source path from another directory: still `./greet`.
    std::fs::remove_file(&exe).unwrap();
    let sub = cwd.path().join("src");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(&src, sub.join("greet.snow")).unwrap();
    let out = Command::new(snowc())
        .args(["build", "src/greet.snow"])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(exe.is_file() && !sub.join("greet").exists());
}

#[test]
fn build_refuses_to_overwrite_a_source_without_extension() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("app"), "fn main() = println(\"x\")\n").unwrap();
    let out = Command::new(snowc())
        .args(["build", "app"])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("would overwrite the source app"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(cwd.path().join("app")).unwrap(),
        "fn main() = println(\"x\")\n"
    );
}

#[test]
fn help_says_where_the_executable_goes() {
    let out = snowc_cmd(&["build", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("default: the source file's name without `.snow`, in the current directory"),
        "{help}"
    );
}
