//! The compiler and the runtime agree on what they share: the type
//! descriptor numbers, the tags of the constructors the runtime builds, and
//! the runtime symbols the compiler may call (every std extern, by the
//! naming rule, and every runtime service of `snowc_types::lang::rt`).

mod common;

use common::*;
use snowc_types::lang::{self, td};
use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn type_descriptors_are_the_runtimes() {
    use snow_rt::value::*;
    let pairs = [
        (td::UNKNOWN, TD_UNKNOWN),
        (td::INT, TD_INT),
        (td::FLOAT, TD_FLOAT),
        (td::BOOL, TD_BOOL),
        (td::STRING, TD_STRING),
        (td::UNIT, TD_UNIT),
        (td::CONN, TD_CONN),
        (td::BYTES, TD_BYTES),
        (td::OTHER, TD_OTHER),
    ];
    for (i, (compiler, runtime)) in pairs.iter().enumerate() {
        assert_eq!(compiler, runtime, "type descriptor #{i}");
    }
}

#[test]
fn constructor_tags_are_the_std_declarations() {
    use snow_rt::value::*;
    let mut sources = snowc_syntax::SourceMap::default();
    let (table, diags) = snowc_types::std_lib::load(&mut sources);
    assert!(diags.is_empty(), "{diags:?}");
    for (ctor, tag) in [
        ("Some", TAG_SOME),
        ("None", TAG_NONE),
        ("Ok", TAG_OK),
        ("Err", TAG_ERR),
        ("Text", TAG_TEXT),
        ("Binary", TAG_BINARY),
    ] {
        assert_eq!(table.ctors[ctor].tag as i64, tag, "tag of {ctor}");
    }
}

/// The global symbols `libsnow_rt.a` defines.
fn runtime_symbols() -> BTreeSet<String> {
    ensure_runtime();
    let lib = snowc().parent().unwrap().join("libsnow_rt.a");
    let out = Command::new("nm")
        .args(["--defined-only", "--extern-only", "--format=just-symbols"])
        .arg(&lib)
        .output()
        .expect("cannot run nm (binutils)");
    assert!(
        out.status.success(),
        "nm {}: {}",
        lib.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("snow_"))
        .map(String::from)
        .collect()
}

#[test]
fn every_symbol_the_compiler_calls_is_in_the_runtime() {
    let defined = runtime_symbols();
    let mut sources = snowc_syntax::SourceMap::default();
    let (table, _) = snowc_types::std_lib::load(&mut sources);
    assert!(table.externs.len() > 50);
    for e in &table.externs {
        assert_eq!(e.symbol, lang::runtime_symbol_of(&e.name));
        assert!(
            defined.contains(&e.symbol),
            "std declares {} but the runtime has no {}",
            e.name,
            e.symbol
        );
    }
    for s in lang::rt::ALL {
        assert!(defined.contains(s), "the runtime has no {s}");
    }
}
