#![allow(dead_code)]
use snowc_syntax::{has_errors, Diagnostic, SourceMap};
use snowc_types::tast::TProgram;

/// Parses and checks `src` as `test.snow`: the typed program and the
/// diagnostics (parse errors stop before checking), with the source map.
pub fn check_all(src: &str) -> (Option<TProgram>, Vec<Diagnostic>, SourceMap) {
    let mut sources = SourceMap::default();
    let file = sources.add("test.snow", src);
    let (module, pd) = snowc_syntax::parse(file, src);
    if !pd.is_empty() {
        return (None, pd, sources);
    }
    let (p, d) = snowc_types::check(&mut sources, file, &module);
    (Some(p), d, sources)
}

/// Parses and checks `src` as `test.snow`; Err is the rendered diagnostics
/// when there is an error (warnings alone are not one).
pub fn check(src: &str) -> Result<TProgram, String> {
    match check_all(src) {
        (None, pd, sources) => Err(format!(
            "PARSE ERRORS:\n{}",
            snowc_syntax::render::render(&pd, &sources, false)
        )),
        (Some(p), d, _) if !has_errors(&d) => Ok(p),
        (Some(_), d, sources) => Err(snowc_syntax::render::render(&d, &sources, false)),
    }
}

pub fn ok(src: &str) -> TProgram {
    match check(src) {
        Ok(p) => p,
        Err(e) => panic!("expected the program to check, got:\n{e}"),
    }
}

pub fn sigs(src: &str) -> String {
    snowc_types::print::signatures(&ok(src))
}

/// The rendered errors of a program that must not check.
pub fn err(src: &str) -> String {
    match check(src) {
        Ok(p) => panic!(
            "expected errors, but it checked:\n{}",
            snowc_types::print::signatures(&p)
        ),
        Err(e) => e,
    }
}

/// The snapshot of a program that must not check: its source and its
/// rendered diagnostics together.
pub fn error_snapshot(src: &str) -> String {
    err(src);
    source_and_diagnostics(src)
}

/// A snapshot body showing the source and its rendered diagnostics together.
pub fn source_and_diagnostics(src: &str) -> String {
    let (_, d, sources) = check_all(src);
    format!(
        "----- SOURCE\n{}\n----- DIAGNOSTICS\n{}",
        src.trim_matches('\n'),
        snowc_syntax::render::render(&d, &sources, false)
    )
}

/// Just the diagnostic messages, in order.
pub fn messages(src: &str) -> Vec<String> {
    let (p, d, _) = check_all(src);
    assert!(p.is_some(), "parse errors: {d:?}");
    d.into_iter().map(|d| d.message).collect()
}

/// Just the diagnostic codes, in order.
pub fn codes(src: &str) -> Vec<&'static str> {
    let (_, d, _) = check_all(src);
    d.into_iter().map(|d| d.code.0).collect()
}
