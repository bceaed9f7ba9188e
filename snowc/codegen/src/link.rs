//! Linking objects with the runtime static library through the system `cc`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Native libraries a Rust staticlib needs, from
/// `rustc --crate-type staticlib --print native-static-libs` (rustc 1.95,
/// x86_64-unknown-linux-gnu): `-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc`.
/// Computed once by hand and hard-coded so that linking never runs rustc.
pub const NATIVE_STATIC_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// Which linker `cc` should drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linker {
    /// mold when installed, else the default linker.
    Auto,
    /// `-fuse-ld=mold` (fails if mold is not installed).
    Mold,
    /// The compiler's default linker (GNU ld on Debian).
    System,
}

/// Whether `mold` is on `PATH` (checked once per process).
pub fn mold_available() -> bool {
    static MOLD: OnceLock<bool> = OnceLock::new();
    *MOLD.get_or_init(|| {
        std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join("mold").is_file()))
            .unwrap_or(false)
    })
}

/// Link `objects` with the runtime static library into the executable `out`,
/// using mold when it is installed.
pub fn link(objects: &[PathBuf], runtime_lib: &Path, out: &Path) -> Result<(), String> {
    link_with(objects, runtime_lib, out, Linker::Auto)
}

/// [`link`] with an explicit choice of linker.
pub fn link_with(
    objects: &[PathBuf],
    runtime_lib: &Path,
    out: &Path,
    linker: Linker,
) -> Result<(), String> {
    if !runtime_lib.is_file() {
        return Err(format!(
            "the Snow runtime library {} does not exist",
            runtime_lib.display()
        ));
    }
    let mut cmd = Command::new("cc");
    let use_mold = match linker {
        Linker::Auto => mold_available(),
        Linker::Mold => true,
        Linker::System => false,
    };
    if use_mold {
        cmd.arg("-fuse-ld=mold");
    }
    cmd.arg("-o").arg(out);
    cmd.args(objects);
    cmd.arg(runtime_lib);
    // Drop the parts of the runtime the program does not use.
    cmd.arg("-Wl,--gc-sections");
    cmd.args(NATIVE_STATIC_LIBS);
    let output = cmd.output().map_err(|e| {
        format!("cannot run the C compiler `cc` to link (is a C toolchain installed?): {e}")
    })?;
    if !output.status.success() {
        return Err(format!(
            "linking {} failed ({}): {:?}\n{}",
            out.display(),
            output.status,
            cmd,
            String::from_utf8_lossy(&output.stderr).trim_end()
        ));
    }
    Ok(())
}
