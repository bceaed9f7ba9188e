//! `snowc fmt [--check] [files or folders]` over the file system (the CLI
//! only parses its arguments and calls [`run`]).

use crate::{format, Error};
use snowc_syntax::{render, SourceMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Every `.snow` file named, or under a folder named (recursively, in
/// sorted order; hidden folders and `target/` skipped). Errors name the
/// paths that do not exist.
pub fn collect(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            errors.push(format!("{}: no such file or folder", p.display()));
        }
    }
    (files, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk(&p, out);
            }
        } else if name.ends_with(".snow") {
            out.push(p);
        }
    }
}

/// Format (or with `check`, only compare) the files; messages on `err`,
/// the files that would change (`check`) on `out`. The exit status: 0, or
/// 1 when a file does not parse, cannot be read or written, or (`check`)
/// would change.
pub fn run(paths: &[PathBuf], check: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let (files, missing) = collect(paths);
    let mut status = 0;
    for m in missing {
        let _ = writeln!(err, "error: {m}");
        status = 1;
    }
    for f in files {
        let name = f.display().to_string();
        let src = match std::fs::read(&f) {
            Ok(b) => match String::from_utf8(b) {
                Ok(s) => s,
                Err(_) => {
                    let _ = writeln!(err, "error: {name}: not UTF-8");
                    status = 1;
                    continue;
                }
            },
            Err(e) => {
                let _ = writeln!(err, "error: {name}: {e}");
                status = 1;
                continue;
            }
        };
        match format(&src) {
            Ok(formatted) if formatted == src => {}
            Ok(formatted) => {
                if check {
                    let _ = writeln!(out, "{name}");
                    status = 1;
                } else if let Err(e) = write_atomically(&f, &formatted) {
                    let _ = writeln!(err, "error: {name}: {e}");
                    status = 1;
                }
            }
            Err(Error::Syntax(diags)) => {
                let mut sm = SourceMap::default();
                sm.add(name.clone(), src);
                let _ = write!(err, "{}", render(&diags, &sm, false));
                let _ = writeln!(err, "error: {name} does not parse: not formatted");
                status = 1;
            }
            Err(Error::Internal(msg)) => {
                let _ = writeln!(
                    err,
                    "error: {name}: not formatted: {msg} (a bug in snowc fmt; the file is unchanged)"
                );
                status = 1;
            }
        }
    }
    status
}

/// Write through a temporary file in the same folder and a rename, so a
/// failure never leaves half a file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.fmt-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
