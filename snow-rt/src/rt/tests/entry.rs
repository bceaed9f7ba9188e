//! `snow_rt_main` in a child process (the test binary re-run with an
//! environment variable selecting one scenario).

use crate::rt::testing::s;
use crate::rt::{args, write_stdout};
use std::ffi::CString;
use std::process::Command;

const VAR: &str = "SNOW_RT_TEST_CHILD";

fn run_child(test: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(VAR, test)
        .output()
        .unwrap()
}

fn is_child(test: &str) -> bool {
    std::env::var(VAR).as_deref() == Ok(test)
}

fn call_rt_main(args: &[&str], main_fn: extern "C-unwind" fn() -> i64) -> i32 {
    let c: Vec<CString> = args.iter().map(|a| CString::new(*a).unwrap()).collect();
    let ptrs: Vec<*const std::ffi::c_char> = c.iter().map(|a| a.as_ptr()).collect();
    // SAFETY: `ptrs` holds `args.len()` NUL-terminated strings.
    unsafe { crate::rt::entry::snow_rt_main(ptrs.len() as i32, ptrs.as_ptr(), main_fn) }
}

/// What `println` does (stdlib/prelude.rs), with the core alone.
fn println(text: &str) {
    write_stdout(&[text.as_bytes(), b"\n"]);
}

extern "C-unwind" fn main_ok() -> i64 {
    for i in 0..2000 {
        println(&format!("n={i}"));
    }
    write_stdout(&[b"args="]);
    println(&args()[1..].join(","));
    eprintln!("to stderr");
    0
}

extern "C-unwind" fn main_snow_panic() -> i64 {
    for _ in 0..1000 {
        println("before panic");
    }
    write_stdout(&[b"no newline"]);
    crate::rt::panic::snow_panic(s("division by zero"), s("app.snow"), 12, 5)
}

extern "C-unwind" fn main_rust_panic() -> i64 {
    println("line 1");
    let v: Vec<i64> = Vec::new();
    v[3]
}

#[test]
fn child_main_ok() {
    if is_child("rt::tests::entry::child_main_ok") {
        assert_eq!(call_rt_main(&["prog", "a", "b c"], main_ok), 0);
    }
}

#[test]
fn child_main_snow_panic() {
    if is_child("rt::tests::entry::child_main_snow_panic") {
        call_rt_main(&["prog"], main_snow_panic);
        unreachable!("snow_panic returned");
    }
}

#[test]
fn child_main_rust_panic() {
    if is_child("rt::tests::entry::child_main_rust_panic") {
        call_rt_main(&["prog"], main_rust_panic);
        unreachable!("a panic in main returned");
    }
}

#[test]
fn main_returns_and_flushes_all_output() {
    if std::env::var(VAR).is_ok() {
        return;
    }
    let out = run_child("rt::tests::entry::child_main_ok");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for i in [0, 1, 999, 1999] {
        assert!(stdout.contains(&format!("n={i}\n")), "{i}");
    }
    assert_eq!(stdout.matches("n=").count(), 2000);
    assert!(stdout.contains("args=a,b c\n"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("to stderr\n"));
}

#[test]
fn snow_panic_in_main_exits_101_after_flushing() {
    if std::env::var(VAR).is_ok() {
        return;
    }
    let out = run_child("rt::tests::entry::child_main_snow_panic");
    assert_eq!(out.status.code(), Some(101), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("before panic\n").count(), 1000);
    assert!(stdout.contains("no newline"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("snow: panic at app.snow:12:5: division by zero\n"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("panic").count(),
        1,
        "reported once: {stderr}"
    );
}

#[test]
fn rust_panic_in_main_exits_101() {
    if std::env::var(VAR).is_ok() {
        return;
    }
    let out = run_child("rt::tests::entry::child_main_rust_panic");
    assert_eq!(out.status.code(), Some(101), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("line 1\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("snow: panic: index out of bounds"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("panic").count(),
        1,
        "reported once: {stderr}"
    );
}
