//! Finding `libsnow_rt.a`, the runtime every Snow executable links against.

use std::path::{Path, PathBuf};

const LIB: &str = "libsnow_rt.a";

/// `SNOW_RT_LIB` if set; otherwise next to the `snowc` executable (how a built
/// workspace lays it out: `target/<profile>/snowc` and `target/<profile>/libsnow_rt.a`),
/// or in `deps/` beside it.
pub fn find() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SNOW_RT_LIB") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "snowc: SNOW_RT_LIB is set to {}, which is not a file",
                p.display()
            ))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("snowc: cannot locate myself: {e}"))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates = [
        dir.join(LIB),
        dir.join("deps").join(LIB),
        dir.join("..").join(LIB),
    ];
    for c in &candidates {
        if c.is_file() {
            return Ok(c.clone());
        }
    }
    Err(format!(
        "snowc: cannot find the Snow runtime library {LIB}\n  looked in: {}\n  build it with `cargo build -p snow-rt` (same profile as snowc), or set SNOW_RT_LIB to its path",
        candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
    ))
}
