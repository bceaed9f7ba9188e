//! Every std source must parse with zero diagnostics.

use snowc_syntax::{parse, FileId};
use std::path::Path;

fn snow_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            snow_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "snow") {
            out.push(p);
        }
    }
}

#[test]
fn std_sources_parse_without_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../std");
    let mut files = Vec::new();
    snow_files(&root, &mut files);
    assert!(
        files.len() >= 9,
        "std sources not found under {}",
        root.display()
    );
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let (module, diags) = parse(FileId(0), &src);
        assert!(diags.is_empty(), "{}: {:#?}", f.display(), diags);
        let expected_items = src
            .lines()
            .filter(|l| {
                ["pub ", "fn ", "type ", "extern ", "struct ", "service "]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .count();
        assert_eq!(module.items.len(), expected_items, "{}", f.display());
    }
}
