//! Embeds every `.snow` file under `../../std` into the compiler: generates
//! `$OUT_DIR/std_files.rs` with a sorted list of `(relative path, contents)`.
//! Adding a std file or function never means editing the compiler.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "snow") {
            println!("cargo:rerun-if-changed={}", path.display());
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let std_dir = manifest
        .join("../../std")
        .canonicalize()
        .expect("std directory next to snowc");
    let mut files = Vec::new();
    walk(&std_dir, &mut files);
    let mut entries: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&std_dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, p)
        })
        .collect();
    entries.sort();
    let mut code = String::from("/// `(path relative to std/, contents)`, sorted by path.\npub static STD_FILES: &[(&str, &str)] = &[\n");
    for (rel, abs) in &entries {
        code.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            rel,
            abs.to_string_lossy()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("std_files.rs");
    std::fs::write(out, code).unwrap();
}
