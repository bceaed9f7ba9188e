//! Shared helpers of the end-to-end tests: paths, building with the real
//! `snowc` binary, and running the executables it makes.
#![allow(dead_code)]

pub mod redis;
pub mod wsproc;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn snowc() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_snowc"))
}

static RUNTIME: Once = Once::new();

/// Make sure `libsnow_rt.a` beside `snowc` is fresh: `cargo test` does not
/// build staticlibs of other packages by itself. The whole workspace, not
/// `-p snow-rt`: features are unified over the packages a command selects,
/// and `-p snow-rt` alone would resolve tokio's and futures' features
/// differently from `cargo test --workspace` (and from `scripts/setup.sh`),
/// rebuilding the runtime and its dependencies every time the two alternate.
pub fn ensure_runtime() {
    RUNTIME.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--workspace", "--quiet"])
            .current_dir(repo_root())
            .status()
            .expect("cannot run cargo to build the runtime");
        assert!(status.success(), "building snow-rt failed");
    });
}

/// `snowc <args>` with colours off.
pub fn snowc_cmd(args: &[&str]) -> Output {
    Command::new(snowc())
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(repo_root())
        .output()
        .expect("cannot run snowc")
}

/// Build `source` (a path relative to the repository root) into `dir`; panics
/// with snowc's diagnostics if it fails.
pub fn build(source: &str, dir: &Path, extra: &[&str]) -> PathBuf {
    ensure_runtime();
    let name = Path::new(source)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let exe = dir.join(name);
    let mut args = vec!["build", source, "-o", exe.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = snowc_cmd(&args);
    assert!(
        out.status.success(),
        "snowc build {source} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `.snow` files directly in `dir` (relative to the repository root), as
/// `dir/name.snow` paths, sorted.
pub fn snow_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo_root().join(dir))
        .unwrap_or_else(|e| panic!("reading {dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "snow"))
        .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}
