//! The back half of the pipeline never panics either: mutated versions of the
//! repository's programs that still type check are lowered to MIR and
//! compiled to verified LLVM IR, with and without debug information (the
//! checker's own fuzz test covers programs that are rejected). Mutations
//! delete, duplicate and swap words, which keeps many programs well typed
//! while changing their shape: reordered statements, dropped arguments of
//! generic calls, duplicated arms.

use proptest::prelude::*;
use snowc_syntax::SourceMap;

fn corpus() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in ["examples", "tests/programs", "tests/snapshot", "tests/ws"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        paths.sort();
        out.extend(
            paths
                .iter()
                .filter(|p| p.extension().is_some_and(|x| x == "snow"))
                .map(|p| std::fs::read_to_string(p).unwrap()),
        );
    }
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut words: Vec<&str> = src
        .split_inclusive(|c: char| c.is_whitespace() || "()[],".contains(c))
        .collect();
    for e in edits {
        if words.is_empty() {
            break;
        }
        let n = words.len();
        match *e {
            Edit::Delete(i) => {
                words.remove(i % n);
            }
            Edit::Duplicate(i) => words.insert(i % n, words[i % n]),
            Edit::Swap(i, j) => words.swap(i % n, j % n),
        }
    }
    words.concat()
}

/// Returns whether the mutant type checked (and so went through the back end).
fn back_end(src: &str) -> bool {
    let mut sm = SourceMap::default();
    let file = sm.add("fuzz.snow", src);
    let (module, diags) = snowc_syntax::parse(file, src);
    if !diags.is_empty() {
        return false;
    }
    let (program, diags) = snowc_types::check(&mut sm, file, &module);
    if snowc_syntax::has_errors(&diags) {
        return false;
    }
    let mir = snowc_mir::lower(&program, &sm);
    let text = mir.to_string();
    assert!(!text.is_empty());
    if let Err(e) = snowc_codegen::emit_llvm_ir(&mir, snowc_codegen::OptLevel::O0) {
        panic!("LLVM rejected the IR of a well-typed program: {e}\n--- program\n{src}");
    }
    // With debug information (`-g`) too: every position, or none, of the
    // mutated program's code makes valid DWARF.
    let g = snowc_codegen::Options {
        opt: snowc_codegen::OptLevel::O0,
        debug_info: Some(snowc_codegen::DebugInfo {
            comp_dir: "/fuzz".into(),
        }),
    };
    if let Err(e) = snowc_codegen::emit_llvm_ir(&mir, g) {
        panic!("LLVM rejected the -g IR of a well-typed program: {e}\n--- program\n{src}");
    }
    true
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
    ]
}

#[test]
fn well_typed_mutants_lower_and_compile() {
    let corpus = corpus();
    assert!(corpus.len() >= 10);
    // Every unmutated program goes all the way through.
    for src in &corpus {
        assert!(
            back_end(src),
            "an unmutated repository program failed to check:\n{src}"
        );
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let reached = std::cell::Cell::new(0);
    runner
        .run(
            &(any::<usize>(), prop::collection::vec(edit(), 1..4)),
            |(pick, edits)| {
                let src = apply(&corpus[pick % corpus.len()], &edits);
                if back_end(&src) {
                    reached.set(reached.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    assert!(
        reached.get() >= 20,
        "too few mutants type checked ({}) to exercise the back end",
        reached.get()
    );
}
