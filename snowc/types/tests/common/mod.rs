#![allow(dead_code)]
use snowc_syntax::SourceMap;
use snowc_types::tast::TProgram;

/// Parses and checks `src` as `test.snow`; Err is the rendered diagnostics.
pub fn check(src: &str) -> Result<TProgram, String> {
    let mut sources = SourceMap::default();
    let file = sources.add("test.snow", src);
    let (module, pd) = snowc_syntax::parse(file, src);
    if !pd.is_empty() {
        return Err(format!(
            "PARSE ERRORS:\n{}",
            snowc_syntax::render::render(&pd, &sources, false)
        ));
    }
    snowc_types::check(&mut sources, file, &module)
        .map_err(|d| snowc_syntax::render::render(&d, &sources, false))
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

/// Just the diagnostic messages (first line of each `Error:` block).
pub fn messages(src: &str) -> Vec<String> {
    let mut sources = SourceMap::default();
    let file = sources.add("test.snow", src);
    let (module, pd) = snowc_syntax::parse(file, src);
    assert!(pd.is_empty(), "parse errors: {pd:?}");
    match snowc_types::check(&mut sources, file, &module) {
        Ok(_) => vec![],
        Err(d) => d.into_iter().map(|d| d.message).collect(),
    }
}
