//! Formatting never changes what a program does: every end-to-end program
//! of tests/programs (files and the program of several modules) is
//! formatted at the real width and at a narrow one (where nearly every
//! call, pipe and operator chain breaks), built at -O0 and run; stdout and
//! the exit status must be the expected ones (NAME.stdout, NAME.status).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Copy `src` (a file or a folder) to `dst`, formatting every `.snow` file
/// at `width`.
fn copy_formatted(src: &Path, dst: &Path, width: usize) {
    if src.is_dir() {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap().flatten() {
            copy_formatted(&e.path(), &dst.join(e.file_name()), width);
        }
    } else if src.extension().is_some_and(|e| e == "snow") {
        let text = std::fs::read_to_string(src).unwrap();
        let out = snowc_fmt::format_at(&text, width)
            .unwrap_or_else(|e| panic!("{}: {e:?}", src.display()));
        std::fs::write(dst, out).unwrap();
    } else {
        std::fs::copy(src, dst).unwrap();
    }
}

#[test]
fn formatted_programs_behave_the_same() {
    ensure_runtime();
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(PathBuf, String)> = snow_files("tests/programs")
        .into_iter()
        .map(|f| {
            let stem = Path::new(&f)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .to_string();
            (root.join(&f), stem)
        })
        .collect();
    for e in std::fs::read_dir(root.join("tests/programs"))
        .unwrap()
        .flatten()
    {
        if e.path().is_dir() {
            cases.push((e.path(), e.file_name().to_string_lossy().to_string()));
        }
    }
    let mut checked = 0;
    for (src, stem) in cases {
        let expected = std::fs::read_to_string(root.join(format!("tests/programs/{stem}.stdout")))
            .unwrap_or_else(|_| panic!("no {stem}.stdout"));
        let status: i32 =
            std::fs::read_to_string(root.join(format!("tests/programs/{stem}.status")))
                .map(|s| s.trim().parse().unwrap())
                .unwrap_or(0);
        for width in [snowc_fmt::WIDTH, 30] {
            let variant = dir.path().join(format!("w{width}"));
            std::fs::create_dir_all(&variant).unwrap();
            let copy = variant.join(src.file_name().unwrap());
            copy_formatted(&src, &copy, width);
            let exe = variant.join(format!("{stem}.exe"));
            let out = snowc_cmd(&[
                "build",
                copy.to_str().unwrap(),
                "-O0",
                "-g0",
                "-o",
                exe.to_str().unwrap(),
            ]);
            if !out.status.success() {
                // Only the formatter's failures count: a program that does
                // not build as it is (a runtime function not written yet)
                // is skipped.
                let orig = snowc_cmd(&[
                    "build",
                    src.to_str().unwrap(),
                    "-O0",
                    "-g0",
                    "-o",
                    exe.to_str().unwrap(),
                ]);
                assert!(
                    !orig.status.success(),
                    "{stem} at width {width}: {}",
                    text(&out.stderr)
                );
                eprintln!("skipped {stem}: it does not build unformatted either");
                continue;
            }
            let scratch = variant.join(format!("{stem}.scratch"));
            std::fs::create_dir_all(&scratch).unwrap();
            let run = Command::new(&exe)
                .args(["a", "b c"])
                .env("SNOW_TEST_VALUE", "snowy")
                .env("SNOW_TEST_DIR", &scratch)
                .current_dir(&root)
                .output()
                .unwrap();
            assert_eq!(
                text(&run.stdout),
                expected,
                "{stem} formatted at width {width}: stdout"
            );
            assert_eq!(
                run.status.code(),
                Some(status),
                "{stem} formatted at width {width}: status"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} programs");
}
