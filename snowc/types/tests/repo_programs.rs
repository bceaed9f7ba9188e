//! The repository's example and end-to-end programs: valid ones check,
//! the type-error ones fail with the expected message.
mod common;
use std::path::Path;

/// The `.snow` files directly in `dir` (relative to the repository root),
/// sorted by name. A missing or moved folder, or one holding fewer than
/// `min` programs, fails the test instead of checking nothing.
fn snow_files(dir: &str, min: usize) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    let rd = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", root.display()));
    let mut v: Vec<(String, String)> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "snow"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= min,
        "expected at least {min} .snow programs in {dir}, found {}",
        v.len()
    );
    v
}

#[test]
fn examples_and_programs_check() {
    let mut failures = String::new();
    // The minimums are a little below today's counts (6 and 17).
    for (dir, min) in [("examples", 5), ("tests/programs", 15)] {
        for (name, src) in snow_files(dir, min) {
            if let Err(e) = common::check(&src) {
                failures.push_str(&format!("{dir}/{name}:\n{e}\n"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn error_programs_report_the_expected_message() {
    let expected = [
        ("arg_count.snow", "takes"),
        (
            "callback_arity.snow",
            "expected a function of 2 arguments, found a function of 3 arguments",
        ),
        ("if_branches.snow", "if and else have different types"),
        (
            "interp_list.snow",
            "cannot interpolate a value of type List",
        ),
        ("no_main.snow", "missing fn main()"),
        ("non_exhaustive.snow", "case is not exhaustive: missing"),
        ("unknown_variable.snow", "unknown variable"),
        ("ws_join_int.snow", "expected Conn, found Int"),
        ("ws_typo.snow", "no function jion in module Ws"),
    ];
    let files = snow_files("tests/errors", expected.len());
    for (name, needle) in expected {
        let Some((_, src)) = files.iter().find(|(n, _)| n == name) else {
            panic!("tests/errors/{name} is missing");
        };
        let e = common::err(src);
        assert!(e.contains(needle), "{name}: expected {needle:?} in\n{e}");
    }
}

#[test]
fn the_diagnostics_alone_are_those_of_the_full_check() {
    // `snowc check` asks for the diagnostics only (the typed bodies are
    // dropped as they are finished); they must be the full check's, for
    // valid programs, programs with warnings and programs with errors.
    let mut compared = 0;
    for (dir, min) in [
        ("examples", 5),
        ("tests/programs", 15),
        ("tests/errors", 9),
        ("tests/warnings", 1),
        ("tests/ws", 8),
    ] {
        for (name, src) in snow_files(dir, min) {
            let mut sources = snowc_syntax::SourceMap::default();
            let file = sources.add(name.clone(), src.clone());
            let (module, pd) = snowc_syntax::parse(file, &src);
            if !pd.is_empty() {
                continue;
            }
            let (table, _) = snowc_types::std_lib::load(&mut sources);
            let program = snowc_syntax::graph::Program::single(file, module);
            let full = snowc_types::check_program(&table, &sources, &program).1;
            let alone = snowc_types::check_program_diagnostics(&table, &program);
            assert_eq!(full, alone, "{dir}/{name}");
            compared += 1;
        }
    }
    assert!(compared >= 35, "only {compared} programs compared");
}
