//! snowc's front end on arbitrary programs: parse, and type check what
//! parses cleanly (as the CLI does). Neither may panic; every diagnostic
//! span lies inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snowc_syntax::{parse, SourceMap};
use std::sync::OnceLock;

fn base() -> &'static (SourceMap, snowc_types::ModuleTable) {
    static B: OnceLock<(SourceMap, snowc_types::ModuleTable)> = OnceLock::new();
    B.get_or_init(|| {
        let mut sm = SourceMap::default();
        let (table, _) = snowc_types::std_lib::load(&mut sm);
        (sm, table)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let (base_sm, table) = base();
    let mut sm = base_sm.clone();
    let file = sm.add("fuzz.snow", src);
    let (module, diags) = parse(file, src);
    for d in &diags {
        assert!(d.span.start <= d.span.end && d.span.end as usize <= src.len());
    }
    if diags.is_empty() {
        let (_, diags) = snowc_types::check_with(table, &sm, file, &module);
        for d in diags.iter().filter(|d| d.span.file == file) {
            assert!(d.span.start <= d.span.end && d.span.end as usize <= src.len());
        }
        let _ = snowc_syntax::render(&diags, &sm, false);
    }
});
