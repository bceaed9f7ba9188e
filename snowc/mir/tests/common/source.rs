//! Lowering real Snow source (parsed and type checked), for tests that are
//! clearer written as a program than as a hand-built typed tree.
#![allow(dead_code)]

use snowc_mir::mir::Program;
use snowc_syntax::SourceMap;

/// Parses, checks and lowers `src` (as `test.snow`); validates the MIR and
/// checks that lowering is deterministic. Panics on a parse or type error.
pub fn lower_src(src: &str) -> Program {
    lower_src_with(&snowc_mir::Options::default(), src)
}

/// [`lower_src`] with the lowering's test options (e.g. arm by arm).
pub fn lower_src_with(options: &snowc_mir::Options, src: &str) -> Program {
    let mut sm = SourceMap::default();
    let file = sm.add("test.snow", src);
    let (module, diags) = snowc_syntax::parse(file, src);
    assert!(diags.is_empty(), "parse errors: {diags:?}");
    let (tp, d) = snowc_types::check(&mut sm, file, &module);
    assert!(!snowc_syntax::has_errors(&d), "type errors: {d:?}");
    let p = snowc_mir::lower_with(&tp, &sm, options);
    super::validate::validate(&p);
    // Deterministic: lowering again prints the same text.
    assert_eq!(
        snowc_mir::lower_with(&tp, &sm, options).to_string(),
        p.to_string()
    );
    p
}
