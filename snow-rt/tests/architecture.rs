//! The runtime's architecture, checked (in the spirit of Go's
//! `go/build/deps_test.go`): the allowed dependencies are written below as
//! policy, and the test reads the crate's sources, lists which file imports
//! which, and fails on an import the policy does not allow or on any import
//! cycle. It also checks that the code map of docs/ARCHITECTURE.md names
//! exactly the runtime's files, and the `snowc` crates for import cycles.
//!
//! "Imports" are the `crate::`, `super::` and `self::` paths (and paths
//! through a child module or a `use` alias) outside tests and comments:
//! `use` declarations and paths written in code alike. A path is followed
//! through `use` re-exports to the file that defines the item, so importing
//! `crate::rt::new_str` depends on `rt/builders.rs`, not on `rt/mod.rs`.
//! Files under a `tests/` folder and `#[cfg(test)]` items are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

/// The layers of `snow-rt/src`, bottom up, as (folder, the layers it may
/// import besides itself). `lib.rs` is the crate root above them all: it
/// declares the layers and may name anything, and nothing imports it.
const LAYERS: &[(&str, &[&str])] = &[
    // The core: values, memory, threads, panics, callbacks.
    ("rt", &[]),
    // The std modules' runtime, written against the core's API.
    ("stdlib", &["rt"]),
    // The WebSocket server.
    ("ws", &["rt", "stdlib"]),
];

/// The core's files bottom up: each may import only files listed before it
/// (`mod.rs`, the core's public API, re-exports them all and comes last).
/// A new file of the core takes its place here, and in `rt/mod.rs`'s table.
const CORE: &[&str] = &[
    "rt/value.rs",
    "rt/settings.rs",
    "rt/stdout.rs",
    "rt/gc.rs",
    "rt/metrics.rs",
    "rt/stack.rs",
    "rt/panic.rs",
    "rt/region.rs",
    "rt/builders.rs",
    "rt/typedesc.rs",
    "rt/closure.rs",
    "rt/watchdog.rs",
    "rt/callback.rs",
    "rt/safepoint.rs",
    "rt/service.rs",
    "rt/entry.rs",
    "rt/mod.rs",
];

/// The one file of the core that allocates (besides the collector itself):
/// every other file builds values through `rt/builders.rs`.
const ALLOCATION: (&str, &[&str]) = ("rt/region.rs", &["alloc", "alloc_noscan"]);
const MAY_ALLOCATE: &[&str] = &["rt/builders.rs", "rt/region.rs"];

/// Checks `graph` against the policy above; answers the violations.
fn policy_violations(graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    let layer_of = |file: &str| -> Option<usize> {
        let top = file.split('/').next()?;
        LAYERS.iter().position(|(name, _)| *name == top)
    };
    for e in &graph.edges {
        if e.to == "lib.rs" {
            out.push(format!(
                "{}:{}: imports the crate root (`{}`): name the item's own module instead",
                e.from, e.line, e.path
            ));
            continue;
        }
        let (Some(from), Some(to)) = (layer_of(&e.from), layer_of(&e.to)) else {
            continue;
        };
        if from != to && !LAYERS[from].1.contains(&LAYERS[to].0) {
            let allowed = LAYERS[from].1;
            out.push(format!(
                "upward import: {}:{} imports {} (`{}`): the {} layer may import only {}",
                e.from,
                e.line,
                e.to,
                e.path,
                LAYERS[from].0,
                if allowed.is_empty() {
                    "itself".to_string()
                } else {
                    format!("itself and {}", allowed.join(", "))
                }
            ));
        }
        if from == 0 && to == 0 {
            let rank = |f: &str| CORE.iter().position(|c| *c == f);
            match (rank(&e.from), rank(&e.to)) {
                (Some(a), Some(b)) if b >= a => out.push(format!(
                    "core order: {}:{} imports {} (`{}`), which comes after it in the core's order \
                     (tests/architecture.rs CORE, rt/mod.rs)",
                    e.from, e.line, e.to, e.path
                )),
                (None, _) => out.push(format!("{} is not in the core's order (CORE)", e.from)),
                (_, None) => out.push(format!("{} is not in the core's order (CORE)", e.to)),
                _ => {}
            }
        }
        if e.to == ALLOCATION.0
            && !MAY_ALLOCATE.contains(&e.from.as_str())
            && ALLOCATION
                .1
                .iter()
                .any(|f| e.path.ends_with(&format!("::{f}")))
        {
            out.push(format!(
                "{}:{} allocates directly (`{}`): build values with rt/builders.rs",
                e.from, e.line, e.path
            ));
        }
    }
    for f in graph.files.keys() {
        if f.starts_with("rt/") && !CORE.contains(&f.as_str()) {
            out.push(format!(
                "{f} is not in the core's order (tests/architecture.rs CORE)"
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_runtime_imports_only_downward_and_never_in_a_circle() {
    let graph = Graph::of(&read_sources(&root().join("src")));
    assert!(graph.edges.len() > 100, "the scanner found too few imports");
    let mut problems = policy_violations(&graph);
    problems.extend(
        graph
            .cycles()
            .into_iter()
            .map(|c| format!("import cycle: {}", c.join(" -> "))),
    );
    assert!(
        problems.is_empty(),
        "the runtime's dependencies break the policy of tests/architecture.rs:\n  {}\n",
        problems.join("\n  ")
    );
}

/// `cargo test -p snow-rt --test architecture -- --ignored --nocapture`
/// prints which file imports which (the graph the policy is checked on).
#[test]
#[ignore]
fn print_the_graph() {
    let graph = Graph::of(&read_sources(&root().join("src")));
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in graph.files.keys() {
        deps.entry(f).or_default();
    }
    for e in &graph.edges {
        deps.entry(&e.from).or_default().insert(&e.to);
    }
    for (f, to) in deps {
        println!("{f} -> {}", to.into_iter().collect::<Vec<_>>().join(" "));
    }
}

/// Import cycles of the `snowc` crates found when this test was written,
/// each to be deleted from here once fixed (the test fails on any other
/// cycle, and on a listed one that is gone, so the list only shrinks).
/// `snowc` crates: none today (the cycles the v2 compiler brought, in
/// `snowc/types`, were ended by moving `TypeInfo` to `tast.rs`, `Home` to
/// `scope.rs` and `did_you_mean` to `diagnostics/hint.rs`).
const KNOWN_SNOWC_CYCLES: &[&str] = &[];

#[test]
fn the_snowc_crates_have_no_new_import_cycles() {
    let snowc = root().join("../snowc");
    let mut checked = 0;
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&snowc).expect("snowc/") {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let name = src
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let graph = Graph::of(&read_sources(&src));
        checked += 1;
        for c in graph.cycles() {
            found.push(format!("snowc/{name}: {}", c.join(" -> ")));
        }
    }
    assert!(checked >= 5, "found {checked} snowc crates");
    for c in &found {
        if !KNOWN_SNOWC_CYCLES.contains(&c.as_str()) {
            problems.push(format!("import cycle: {c}"));
        }
    }
    for c in KNOWN_SNOWC_CYCLES {
        if !found.iter().any(|f| f == c) {
            problems.push(format!("fixed, delete it from KNOWN_SNOWC_CYCLES: {c}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The section of docs/ARCHITECTURE.md that maps the runtime's files.
fn code_map() -> String {
    let doc = std::fs::read_to_string(root().join("../docs/ARCHITECTURE.md")).unwrap();
    let start = doc
        .find("### `snow-rt`")
        .expect("a `### `snow-rt`` section in docs/ARCHITECTURE.md");
    let rest = &doc[start + 3..];
    rest[..rest.find("\n### ").unwrap_or(rest.len())].to_string()
}

/// Backticked file names (`rt/value.rs`, `stack.c`) and folders (`ws/`).
fn named_files(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| {
            (t.ends_with(".rs") || t.ends_with(".c") || t.ends_with('/'))
                && !t.contains(' ')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_/.".contains(c))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_code_map_names_exactly_the_runtimes_files() {
    let map = code_map();
    let named = named_files(&map);
    let src = root().join("src");
    // Runtime files by their path under `src/` (`rt/value.rs`), the crate's
    // own under `snow-rt/` (`tests/architecture.rs`), the repository's
    // (`std/`) from its root.
    let missing: Vec<_> = named
        .iter()
        .filter(|f| {
            ![src.clone(), root(), root().join("..")]
                .iter()
                .any(|d| d.join(f).exists())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md names runtime files that do not exist: {missing:?}"
    );
    let unnamed: Vec<_> = all_files(&src)
        .into_iter()
        .filter(|f| {
            !f.split('/').any(|c| c == "tests") && (f.ends_with(".rs") || f.ends_with(".c"))
        })
        .filter(|f| !named.contains(f))
        .collect();
    assert!(
        unnamed.is_empty(),
        "docs/ARCHITECTURE.md's code map leaves out {unnamed:?}"
    );
    for layer in [
        "rt/",
        "stdlib/",
        "ws/",
        "rt/tests/",
        "stdlib/tests/",
        "ws/tests/",
    ] {
        assert!(
            named.contains(layer),
            "the code map does not name the folder {layer}"
        );
    }
}

#[test]
fn the_cores_table_is_the_policys_order() {
    let doc = std::fs::read_to_string(root().join("src/rt/mod.rs")).unwrap();
    let listed: Vec<String> = doc
        .lines()
        .filter(|l| l.starts_with("//! | `"))
        .filter_map(|l| l.split('`').nth(1))
        .map(|f| format!("rt/{f}"))
        .collect();
    let policy: Vec<String> = CORE
        .iter()
        .filter(|f| **f != "rt/mod.rs")
        .map(|f| f.to_string())
        .collect();
    assert_eq!(
        listed, policy,
        "rt/mod.rs's table of files and tests/architecture.rs's CORE differ"
    );
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    for (layer, _) in LAYERS {
        assert!(
            lib.contains(&format!("[`{layer}`]")),
            "lib.rs's layer map does not name {layer}"
        );
    }
}

// The checker checks itself: an upward import and a cycle in a made-up
// crate are found and named.
#[test]
fn the_checker_finds_upward_imports_and_cycles() {
    let files = BTreeMap::from([
        (
            "lib.rs".to_string(),
            "pub mod rt; pub mod stdlib; pub mod ws;".to_string(),
        ),
        (
            "rt/mod.rs".to_string(),
            "mod value; mod region; pub use value::str_ref;".to_string(),
        ),
        (
            "rt/value.rs".to_string(),
            "// crate::ws::conn in a comment is no import\n\
             pub fn str_ref() { let s = \"crate::ws::conn\"; }\n\
             #[cfg(test)]\nmod tests { use crate::ws::conn; }\n"
                .to_string(),
        ),
        (
            "rt/region.rs".to_string(),
            "use super::value;\npub fn alloc() {}\n".to_string(),
        ),
        ("stdlib/mod.rs".to_string(), "pub mod list;".to_string()),
        (
            "stdlib/list.rs".to_string(),
            "use crate::rt::{self, str_ref};\nfn f() { crate::ws::conn::lookup(1); }\n".to_string(),
        ),
        (
            "ws/mod.rs".to_string(),
            "pub(crate) mod conn; mod rooms;".to_string(),
        ),
        (
            "ws/conn.rs".to_string(),
            "use super::rooms::Registry;\npub fn lookup() {}".to_string(),
        ),
        (
            "ws/rooms.rs".to_string(),
            "pub struct Registry;\nfn g() { super::conn::lookup(); crate::rt::str_ref(); }"
                .to_string(),
        ),
    ]);
    let graph = Graph::of(&files);
    let found = policy_violations(&graph);
    assert_eq!(
        found,
        [
            "upward import: stdlib/list.rs:2 imports ws/conn.rs (`crate::ws::conn::lookup`): \
          the stdlib layer may import only itself and rt"
        ],
        "{graph:#?}"
    );
    assert!(
        graph
            .edges
            .iter()
            .any(|e| e.from == "stdlib/list.rs" && e.to == "rt/value.rs"),
        "re-export followed"
    );
    assert_eq!(
        graph.cycles(),
        [["ws/conn.rs", "ws/rooms.rs", "ws/conn.rs"]]
    );
}

// ---------------------------------------------------------------------------
// Reading a crate's sources
// ---------------------------------------------------------------------------

/// Every file under `dir`, as paths relative to it with `/`.
fn all_files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(
                    p.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The `.rs` files of a crate's `src` outside `tests/` folders, by path.
fn read_sources(src: &Path) -> BTreeMap<String, String> {
    all_files(src)
        .into_iter()
        .filter(|f| f.ends_with(".rs") && !f.split('/').any(|c| c == "tests"))
        .map(|f| {
            let text = std::fs::read_to_string(src.join(&f)).unwrap();
            (f, text)
        })
        .collect()
}

/// Comments, string and character literals blanked out (newlines kept, so
/// positions keep their line numbers).
fn strip_comments_and_literals(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (b[i] == b'r' || b[i..].starts_with(b"br")) && (i == 0 || !ident(b[i - 1])) && {
            let k = i + if b[i] == b'b' { 2 } else { 1 };
            let hashes = b[k..].iter().take_while(|&&c| c == b'#').count();
            b.get(k + hashes) == Some(&b'"')
        } {
            let k = i + if b[i] == b'b' { 2 } else { 1 };
            let hashes = b[k..].iter().take_while(|&&c| c == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = k + hashes + 1;
            let end = b[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |n| body + n + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, (j + 1).min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' {
            // A character literal ('a', '\n', '\u{1F600}', 'é') or a lifetime ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map(|n| i + 2 + n + 1)
            } else {
                let len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were replaced")
}

/// The byte range of the item starting at `from` (attributes first): up to
/// its `;`, or its `{ ... }` block.
fn item_end(code: &[u8], from: usize) -> usize {
    let mut i = from;
    let mut depth = 0i32;
    while i < code.len() {
        match code[i] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b';' if depth == 0 => return i + 1,
            b'{' if depth == 0 => {
                let mut d = 0;
                while i < code.len() {
                    match code[i] {
                        b'{' => d += 1,
                        b'}' => {
                            d -= 1;
                            if d == 0 {
                                return i + 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                return code.len();
            }
            _ => {}
        }
        i += 1;
    }
    code.len()
}

/// `#[cfg(test)]` items blanked out.
fn strip_test_items(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    let mut at = 0;
    while let Some(n) = code[at..].find("#[cfg(test)]") {
        let start = at + n;
        let end = item_end(code.as_bytes(), start + "#[cfg(test)]".len());
        for c in &mut out[start..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        at = end;
    }
    String::from_utf8(out).unwrap()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The identifier or `::`/`{`/`}`/`,`/`*` tokens of a `use` tree.
fn use_tokens(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"::") {
            out.push("::".into());
            i += 2;
        } else if is_ident(b[i]) {
            let s = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            out.push(text[s..i].to_string());
        } else {
            if b"{},*".contains(&b[i]) {
                out.push((b[i] as char).to_string());
            }
            i += 1;
        }
    }
    out
}

/// One name a `use` declaration binds (or a glob).
#[derive(Clone, Debug)]
struct UseItem {
    /// The full path (`self` already folded into its module).
    path: Vec<String>,
    /// The name it binds in the file (`None` for a glob).
    name: Option<String>,
}

/// The items of a `use` tree, from its tokens.
fn use_items(tokens: &[String]) -> Vec<UseItem> {
    fn tree(t: &[String], i: &mut usize, prefix: &[String], out: &mut Vec<UseItem>) {
        let mut path = prefix.to_vec();
        loop {
            match t.get(*i).map(String::as_str) {
                Some("{") => {
                    *i += 1;
                    while t.get(*i).map(String::as_str) != Some("}") && *i < t.len() {
                        tree(t, i, &path, out);
                        if t.get(*i).map(String::as_str) == Some(",") {
                            *i += 1;
                        }
                    }
                    *i += 1;
                    return;
                }
                Some("*") => {
                    *i += 1;
                    out.push(UseItem { path, name: None });
                    return;
                }
                Some("::") => *i += 1,
                Some(id) if id != "," && id != "}" => {
                    *i += 1;
                    if id == "self"
                        && !path.is_empty()
                        && t.get(*i).map(String::as_str) != Some("::")
                    {
                        // `use a::b::{self}`: binds `b`.
                        let name = path.last().cloned();
                        let name = alias(t, i).or(name);
                        out.push(UseItem { path, name });
                        return;
                    }
                    path.push(id.to_string());
                    if t.get(*i).map(String::as_str) != Some("::") {
                        let name = alias(t, i).or_else(|| path.last().cloned());
                        out.push(UseItem { path, name });
                        return;
                    }
                }
                _ => return,
            }
        }
    }
    /// `as NAME` after a path.
    fn alias(t: &[String], i: &mut usize) -> Option<String> {
        if t.get(*i).map(String::as_str) == Some("as") {
            *i += 2;
            return t.get(*i - 1).cloned();
        }
        None
    }
    let mut out = Vec::new();
    let mut i = 0;
    tree(tokens, &mut i, &[], &mut out);
    out
}

/// One file of the crate, read.
#[derive(Debug)]
struct File {
    /// Its module path (`rt/value.rs`: `["rt", "value"]`).
    module: Vec<String>,
    /// The code without comments, literals and tests.
    code: String,
    /// `use` declarations: (byte offset, items, whether it re-exports).
    uses: Vec<(usize, Vec<UseItem>, bool)>,
    /// Inline modules: (name, byte range of the block).
    inline: Vec<(String, usize, usize)>,
}

/// An import: `from` names `path` (at `line`), which is defined in `to`.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    line: usize,
    path: String,
}

#[derive(Debug)]
struct Graph {
    files: BTreeMap<String, File>,
    edges: Vec<Edge>,
}

/// The identifiers `code` starts a path or names an item with, outside the
/// byte ranges `skip` (its `use` declarations): not after `.` or `::`.
fn words_used<'c>(code: &'c str, skip: &[(usize, usize)]) -> BTreeSet<&'c str> {
    let b = code.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while i < b.len() {
        if let Some(&(_, end)) = skip.iter().find(|(a, _)| *a == i) {
            i = end;
            continue;
        }
        if is_ident(b[i]) && starts_word(b, i) && (i == 0 || b[i - 1] != b'.') {
            let s = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            if &code[s..i] == "mod" {
                // `mod name;` declares `name`, it does not use it.
                while i < b.len() && !is_ident(b[i]) {
                    i += 1;
                }
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                continue;
            }
            out.insert(&code[s..i]);
            continue;
        }
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        i += 1;
    }
    out
}

/// The names of the items `code` defines.
fn defined_names(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for kw in [
        "fn",
        "struct",
        "enum",
        "const",
        "static",
        "type",
        "trait",
        "union",
        "macro_rules!",
    ] {
        for (i, _) in code.match_indices(kw) {
            if !starts_word(code.as_bytes(), i)
                || !code[i + kw.len()..].starts_with(char::is_whitespace)
            {
                continue;
            }
            let name: String = code[i + kw.len()..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// A word of `code` at `i`: not preceded by an identifier character, `:` or `$`.
fn starts_word(code: &[u8], i: usize) -> bool {
    i == 0 || !(is_ident(code[i - 1]) || code[i - 1] == b':' || code[i - 1] == b'$')
}

impl Graph {
    fn of(sources: &BTreeMap<String, String>) -> Graph {
        let mut files = BTreeMap::new();
        for (path, text) in sources {
            let code = strip_test_items(&strip_comments_and_literals(text));
            let b = code.as_bytes();
            let mut uses = Vec::new();
            let mut inline = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if starts_word(b, i)
                    && b[i..].starts_with(b"use")
                    && b.get(i + 3).is_some_and(|c| c.is_ascii_whitespace())
                {
                    let end = b[i..]
                        .iter()
                        .position(|&c| c == b';')
                        .map_or(b.len(), |n| i + n);
                    let before = code[..i].trim_end();
                    let public = before.ends_with("pub")
                        || (before.ends_with(')')
                            && before[..before.len() - 1]
                                .trim_end()
                                .rsplit('(')
                                .nth(1)
                                .is_some_and(|p| p.trim_end().ends_with("pub")));
                    uses.push((i, use_items(&use_tokens(&code[i + 3..end])), public));
                    i = end;
                    continue;
                }
                if starts_word(b, i)
                    && b[i..].starts_with(b"mod")
                    && b.get(i + 3).is_some_and(|c| c.is_ascii_whitespace())
                {
                    let rest = &code[i + 3..];
                    let name: String = rest
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let after = rest.trim_start()[name.len()..].trim_start();
                    if after.starts_with('{') {
                        let open = i + 3 + (rest.len() - after.len());
                        inline.push((name, open, item_end(b, open)));
                    }
                }
                i += 1;
            }
            files.insert(
                path.clone(),
                File {
                    module: module_of(path),
                    code,
                    uses,
                    inline,
                },
            );
        }
        // Only modules the crate declares outside tests (`#[cfg(test)] mod
        // testing;` declares a test-only module).
        let declared = |files: &BTreeMap<String, File>, path: &str| -> bool {
            let m = module_of(path);
            let Some((name, parent)) = m.split_last() else {
                return true;
            };
            files.values().any(|f| {
                f.module == parent
                    && f.code.match_indices("mod").any(|(i, _)| {
                        starts_word(f.code.as_bytes(), i)
                            && f.code[i + 3..]
                                .trim_start()
                                .strip_prefix(name.as_str())
                                .is_some_and(|r| r.trim_start().starts_with(';'))
                    })
            })
        };
        let keep: Vec<String> = files
            .keys()
            .filter(|p| declared(&files, p))
            .cloned()
            .collect();
        files.retain(|p, _| keep.contains(p));
        let mut graph = Graph {
            files,
            edges: Vec::new(),
        };
        graph.edges = graph.find_edges();
        graph
    }

    /// The file of a module path (a file's own, or an inline module's).
    fn file_of_module(&self, module: &[String]) -> Option<&str> {
        for (path, f) in &self.files {
            if f.module == module {
                return Some(path);
            }
            for (name, _, _) in &f.inline {
                if module.len() == f.module.len() + 1
                    && module[..f.module.len()] == f.module[..]
                    && &module[f.module.len()] == name
                {
                    return Some(path);
                }
            }
        }
        None
    }

    /// The module at byte `at` of file `path` (inline modules included).
    fn module_at(&self, path: &str, at: usize) -> Vec<String> {
        let f = &self.files[path];
        let mut m = f.module.clone();
        for (name, a, b) in &f.inline {
            if at > *a && at < *b {
                m.push(name.clone());
            }
        }
        m
    }

    fn is_module(&self, module: &[String]) -> bool {
        self.file_of_module(module).is_some()
    }

    /// The absolute path `segs` written in module `module` of file `path`
    /// means, or `None` for a path outside the crate.
    fn absolute(&self, path: &str, module: &[String], segs: &[String]) -> Option<Vec<String>> {
        let first = segs.first()?.as_str();
        match first {
            "crate" => Some(segs[1..].to_vec()),
            "super" | "self" => {
                let mut base = module.to_vec();
                let mut k = 0;
                while let Some(s) = segs.get(k) {
                    match s.as_str() {
                        "super" => {
                            base.pop()?;
                        }
                        "self" => {}
                        _ => break,
                    }
                    k += 1;
                }
                base.extend_from_slice(&segs[k..]);
                Some(base)
            }
            _ => {
                let mut child = module.to_vec();
                child.push(first.to_string());
                if self.is_module(&child) {
                    child.extend_from_slice(&segs[1..]);
                    return Some(child);
                }
                // A name a `use` of this file binds to a module of the crate.
                let f = &self.files[path];
                for (_, items, _) in &f.uses {
                    for item in items {
                        if item.name.as_deref() == Some(first) {
                            let mut abs = self.absolute(path, module, &item.path)?;
                            if !self.is_module(&abs) {
                                return None;
                            }
                            abs.extend_from_slice(&segs[1..]);
                            return Some(abs);
                        }
                    }
                }
                None
            }
        }
    }

    /// The file that defines what the absolute path `abs` names, following
    /// `use` re-exports (and `#[macro_export]` macros, which live at the root).
    fn defining_file(&self, abs: &[String], depth: usize) -> Option<String> {
        let mut k = abs.len();
        while k > 0 && !self.is_module(&abs[..k]) {
            k -= 1;
        }
        let file = self.file_of_module(&abs[..k])?.to_string();
        let Some(name) = abs.get(k) else {
            return Some(file);
        };
        if depth > 8 {
            return Some(file);
        }
        let f = &self.files[&file];
        let module = abs[..k].to_vec();
        let defines = |code: &str, name: &str| -> bool {
            [
                "fn",
                "struct",
                "enum",
                "const",
                "static",
                "type",
                "trait",
                "union",
                "macro_rules!",
            ]
            .iter()
            .any(|kw| {
                code.match_indices(kw).any(|(i, _)| {
                    starts_word(code.as_bytes(), i) && {
                        let rest = code[i + kw.len()..].trim_start();
                        rest.starts_with(name)
                            && !rest[name.len()..]
                                .starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    }
                })
            })
        };
        if defines(&f.code, name) {
            return Some(file);
        }
        // Re-exported by a `use` of that module?
        for (_, items, _) in &f.uses {
            for item in items
                .iter()
                .filter(|i| i.name.as_deref() == Some(name.as_str()))
            {
                if let Some(mut target) = self.absolute(&file, &module, &item.path) {
                    target.extend_from_slice(&abs[k + 1..]);
                    return self.defining_file(&target, depth + 1);
                }
            }
        }
        for (_, items, _) in &f.uses {
            for item in items.iter().filter(|i| i.name.is_none()) {
                if let Some(mut target) = self.absolute(&file, &module, &item.path) {
                    target.push(name.clone());
                    target.extend_from_slice(&abs[k + 1..]);
                    if let Some(found) = self.defining_file(&target, depth + 1) {
                        if found != file && defines(&self.files[&found].code, name) {
                            return Some(found);
                        }
                    }
                }
            }
        }
        // A macro exported at the crate root from any file.
        if k == 0 {
            for (p, g) in &self.files {
                if g.code.contains(&format!("macro_rules! {name}")) {
                    return Some(p.clone());
                }
            }
        }
        Some(file)
    }

    fn find_edges(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        for (path, f) in &self.files {
            let b = f.code.as_bytes();
            let line_of = |at: usize| f.code[..at].matches('\n').count() + 1;
            let mut add = |at: usize, segs: &[String], written: String| {
                let module = self.module_at(path, at);
                let Some(abs) = self.absolute(path, &module, segs) else {
                    return;
                };
                if let Some(to) = self.defining_file(&abs, 0) {
                    if &to != path {
                        edges.push(Edge {
                            from: path.clone(),
                            to,
                            line: line_of(at),
                            path: written,
                        });
                    }
                }
            };
            // `use` declarations. A re-export (`pub use`) is a facade, not
            // an import (who imports through it depends on the item's own
            // file), unless this file uses the name itself.
            let mut in_use = Vec::new();
            for (at, _, _) in &f.uses {
                let end = b[*at..]
                    .iter()
                    .position(|&c| c == b';')
                    .map_or(b.len(), |n| at + n);
                in_use.push((*at, end));
            }
            let used = words_used(&f.code, &in_use);
            for (at, items, public) in &f.uses {
                for item in items {
                    let uses_it = match &item.name {
                        _ if !public => true,
                        Some(name) => used.contains(name.as_str()),
                        // A glob: any name its module defines.
                        None => {
                            let module = self.module_at(path, *at);
                            self.absolute(path, &module, &item.path)
                                .and_then(|abs| self.defining_file(&abs, 0))
                                .is_some_and(|t| {
                                    defined_names(&self.files[&t].code)
                                        .iter()
                                        .any(|n| used.contains(n.as_str()))
                                })
                        }
                    };
                    if uses_it {
                        add(*at, &item.path, item.path.join("::"));
                    }
                }
            }
            // Paths written in code: `a::b::c` outside `use` declarations.
            let mut i = 0;
            while i < b.len() {
                if let Some(&(_, end)) = in_use.iter().find(|(a, _)| *a == i) {
                    i = end;
                    continue;
                }
                if is_ident(b[i]) && starts_word(b, i) {
                    let s = i;
                    let mut segs = Vec::new();
                    loop {
                        let w = i;
                        while i < b.len() && is_ident(b[i]) {
                            i += 1;
                        }
                        segs.push(f.code[w..i].to_string());
                        if b[i..].starts_with(b"::") && b.get(i + 2).is_some_and(|&c| is_ident(c)) {
                            i += 2;
                        } else {
                            break;
                        }
                    }
                    if segs.len() > 1 {
                        add(s, &segs, segs.join("::"));
                    }
                    continue;
                }
                i += 1;
            }
        }
        edges
    }

    /// Every import cycle, one per strongly connected set of files, as a
    /// path that comes back to its start.
    fn cycles(&self) -> Vec<Vec<String>> {
        let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for e in &self.edges {
            next.entry(&e.from).or_default().insert(&e.to);
        }
        // Tarjan's strongly connected components.
        struct T<'a> {
            next: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on: BTreeSet<&'a str>,
            sccs: Vec<Vec<&'a str>>,
        }
        fn visit<'a>(t: &mut T<'a>, v: &'a str) {
            let n = t.index.len();
            t.index.insert(v, n);
            t.low.insert(v, n);
            t.stack.push(v);
            t.on.insert(v);
            for &w in t.next.get(v).into_iter().flatten() {
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if t.low[v] == t.index[v] {
                let mut scc = Vec::new();
                loop {
                    let w = t.stack.pop().unwrap();
                    t.on.remove(w);
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                if scc.len() > 1 {
                    t.sccs.push(scc);
                }
            }
        }
        let mut t = T {
            next: &next,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on: BTreeSet::new(),
            sccs: Vec::new(),
        };
        let nodes: Vec<&str> = next.keys().copied().collect();
        for v in nodes {
            if !t.index.contains_key(v) {
                visit(&mut t, v);
            }
        }
        // One concrete cycle per component: the shortest way back to its
        // smallest file (breadth first, inside the component).
        let mut out = Vec::new();
        for scc in t.sccs {
            let inside: BTreeSet<&str> = scc.iter().copied().collect();
            let start = *inside.iter().next().unwrap();
            let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            'search: while let Some(v) = queue.pop_front() {
                for &w in &next[v] {
                    if !inside.contains(w) {
                        continue;
                    }
                    if w == start {
                        let mut back = Vec::new();
                        let mut at = v;
                        while at != start {
                            back.push(at.to_string());
                            at = prev[at];
                        }
                        back.reverse();
                        let mut cycle = vec![start.to_string()];
                        cycle.extend(back);
                        cycle.push(start.to_string());
                        out.push(cycle);
                        break 'search;
                    }
                    if w != start && !prev.contains_key(w) {
                        prev.insert(w, v);
                        queue.push_back(w);
                    }
                }
            }
        }
        out.sort();
        out
    }
}
