//! Keeps docs/LANGUAGE.md honest.
//!
//! - Every fenced block marked ```snow is checked with the real `snowc
//!   check`. A block with a line `fn main(` is a whole program; a block whose
//!   first line of code starts an item (`fn name`, `pub`, `type`, `struct`,
//!   `service`, `import`, `from`) is a fragment of items, checked with an
//!   empty `fn main() = nil` added; any other block is a fragment of
//!   statements, checked as the body of `fn main() do ... end`. Lines
//!   `# file: path.snow` split a block into several files (the text before
//!   the first one is `main.snow`), written to a temporary folder and
//!   checked from the entry. A program or a fragment of statements must
//!   check with no diagnostic at all, warnings included; a fragment of
//!   items may only get W0002 (its functions are not called from `main`).
//! - A block marked ```snow,error shows a mistake: `snowc check` must report
//!   exactly the codes the block names in its comments (`# E0041`), each at
//!   least once, and no other.
//! - Every std module has a section (`### List`), every std type is named,
//!   and every public std function appears with its exact signature, as
//!   written in `std/` (`List.map(xs :: List<a>, f :: Fun(a) -> b) ->
//!   List<b>`), in a table row that says whether it is written in Snow or in
//!   the runtime: a std function added, changed or moved without updating
//!   the document fails here.
//! - Every diagnostic code the document names exists (`snowc explain`), and
//!   every relative link points at a file of the repository.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;

const DOC: &str = "docs/LANGUAGE.md";

fn doc_text() -> String {
    std::fs::read_to_string(repo_root().join(DOC)).expect("docs/LANGUAGE.md")
}

/// A fenced code block: the line of its opening fence (1-based), its info
/// string and its text.
struct Block {
    line: usize,
    info: String,
    code: String,
}

fn fenced_blocks(doc: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some(Block {
                        line: i + 1,
                        info: info.trim().to_string(),
                        code: String::new(),
                    });
                }
            }
            Some(b) => {
                if trimmed.starts_with("```") {
                    blocks.push(open.take().unwrap());
                } else {
                    b.code.push_str(line);
                    b.code.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "{DOC}: a code block is never closed");
    blocks
}

#[derive(Debug, PartialEq)]
enum Shape {
    Program,
    Items,
    Statements,
}

fn shape(code: &str) -> Shape {
    if code.lines().any(|l| l.starts_with("fn main(")) {
        return Shape::Program;
    }
    let first = code
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let starts_item = ["pub ", "type ", "struct ", "service ", "import ", "from "]
        .iter()
        .any(|k| first.starts_with(k))
        || (first.starts_with("fn ") && !first.starts_with("fn("));
    if starts_item {
        Shape::Items
    } else {
        Shape::Statements
    }
}

/// The diagnostic codes in snowc's rendered output (`error[E0041]`,
/// `warning[W0001]`).
fn reported_codes(stderr: &str) -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    for prefix in ["error[", "warning["] {
        for (i, _) in stderr.match_indices(prefix) {
            let rest = &stderr[i + prefix.len()..];
            if let Some(end) = rest.find(']') {
                codes.insert(rest[..end].to_string());
            }
        }
    }
    codes
}

/// The diagnostic codes named in a text (`E0041`, `W0002`).
fn named_codes(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut codes = BTreeSet::new();
    for i in 0..bytes.len().saturating_sub(4) {
        let c = bytes[i];
        if (c == b'E' || c == b'W')
            && bytes[i + 1..i + 5].iter().all(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 5).is_none_or(|b| !b.is_ascii_alphanumeric())
        {
            codes.insert(text[i..i + 5].to_string());
        }
    }
    codes
}

/// Writes the block's files into `dir` (the entry as `main.snow`) and runs
/// `snowc check` on the entry: (exit status, stderr, the entry's text).
fn check_block(block: &Block, dir: &Path) -> (Option<i32>, String, String) {
    let (entry, files) = snowc_syntax::graph::split_files(&block.code);
    let entry = match shape(&entry) {
        Shape::Program => entry,
        Shape::Items => format!("{entry}\nfn main() = nil\n"),
        Shape::Statements => {
            let body: String = entry.lines().map(|l| format!("  {l}\n")).collect();
            format!("fn main() do\n{body}end\n")
        }
    };
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("main.snow"), &entry).unwrap();
    for (path, text) in &files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let main = dir.join("main.snow");
    let out = snowc_cmd(&["check", main.to_str().unwrap()]);
    (out.status.code(), text(&out.stderr), entry)
}

#[test]
fn every_snow_block_checks_as_it_says() {
    let doc = doc_text();
    let blocks = fenced_blocks(&doc);
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (k, block) in blocks.iter().enumerate() {
        let kind = block.info.as_str();
        if !kind.starts_with("snow") {
            continue;
        }
        assert!(
            kind == "snow" || kind == "snow,error",
            "{DOC}:{}: unknown block kind ```{kind} (```snow or ```snow,error)",
            block.line
        );
        checked += 1;
        let dir = tmp.path().join(format!("block{k}"));
        let (status, stderr, entry) = check_block(block, &dir);
        let where_ = format!("{DOC}:{} (```{kind})", block.line);
        if stderr.contains("panicked") {
            failures.push(format!("{where_}: snowc panicked\n{stderr}"));
            continue;
        }
        let reported = reported_codes(&stderr);
        if kind == "snow,error" {
            let named = named_codes(&block.code);
            if named.is_empty() {
                failures.push(format!(
                    "{where_}: an error block must name the codes it gets in a comment (# E0041)"
                ));
            } else if reported != named {
                failures.push(format!(
                    "{where_}: the block names {named:?}, snowc reports {reported:?}\n\
                     --- checked\n{entry}--- stderr\n{stderr}"
                ));
            } else if named.iter().any(|c| c.starts_with('E')) && status != Some(1) {
                failures.push(format!("{where_}: expected exit status 1, got {status:?}"));
            }
            continue;
        }
        let allowed: &[&str] =
            if shape(&snowc_syntax::graph::split_files(&block.code).0) == Shape::Items {
                &["W0002"]
            } else {
                &[]
            };
        let unexpected: Vec<&String> = reported
            .iter()
            .filter(|c| !allowed.contains(&c.as_str()))
            .collect();
        if status != Some(0) || !unexpected.is_empty() {
            failures.push(format!(
                "{where_}: expected to check cleanly (status {status:?}, codes {reported:?})\n\
                 --- checked\n{entry}--- stderr\n{stderr}"
            ));
        }
    }
    assert!(checked >= 40, "only {checked} snow blocks in {DOC}");
    assert!(
        failures.is_empty(),
        "{} block(s) of {DOC} do not do what they say:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Collapses runs of whitespace into one space.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every public std function as `(qualified signature, written in Snow)`:
/// `List.map(xs :: List<a>, f :: Fun(a) -> b) -> List<b>` (prelude
/// functions unqualified), the text taken from its std source.
fn std_signatures(
    table: &snowc_types::ModuleTable,
    sources: &snowc_syntax::SourceMap,
) -> Vec<(String, String, bool)> {
    use snowc_types::std_lib::StdItemKind;
    let mut sigs = Vec::new();
    for m in &table.modules {
        for (name, item) in &m.items {
            if !item.public {
                continue;
            }
            let (file, start, end, in_snow) = match item.kind {
                StdItemKind::Extern(i) => {
                    let span = table.externs[i].span;
                    let text = &sources.get(span.file).text;
                    let start = span.start as usize;
                    // To the end of the line that closes the parameter
                    // list (`snowc fmt` puts long ones on lines of their own).
                    let mut depth = 0i32;
                    let end = text[start..]
                        .char_indices()
                        .find(|&(_, c)| {
                            match c {
                                '(' => depth += 1,
                                ')' => depth -= 1,
                                _ => {}
                            }
                            c == '\n' && depth == 0
                        })
                        .map_or(text.len(), |(e, _)| start + e);
                    (span.file, start, end, false)
                }
                StdItemKind::Fn(i) => {
                    let def = &table.fns[i].def;
                    let end = match &def.ret {
                        Some(t) => t.span.end as usize,
                        None => def
                            .params
                            .last()
                            .map_or(def.name.span.end as usize, |p| p.span.end as usize + 1),
                    };
                    (def.name.span.file, def.name.span.start as usize, end, true)
                }
            };
            let sig = squash(sources.get(file).text[start..end].trim())
                .replace("( ", "(")
                .replace(", )", ")")
                .replace(" )", ")");
            let qualified = if m.prelude {
                sig
            } else {
                format!("{}.{sig}", m.name)
            };
            assert!(qualified.contains(&format!("{name}(")), "{qualified}");
            sigs.push((m.name.clone(), qualified, in_snow));
        }
    }
    sigs
}

#[test]
fn every_std_module_type_and_function_is_documented() {
    let doc = doc_text();
    let mut sources = snowc_syntax::SourceMap::default();
    let (table, diags) = snowc_types::std_lib::load(&mut sources);
    assert!(diags.is_empty(), "std has diagnostics: {diags:?}");
    let lines: Vec<String> = doc.lines().map(squash).collect();
    let mut missing = Vec::new();
    for m in &table.modules {
        let heading = format!("### {}", m.name);
        if !doc.lines().any(|l| l.trim_end() == heading) {
            missing.push(format!("module {}: no heading `{heading}`", m.name));
        }
    }
    for t in table.types.keys() {
        if !doc.contains(&format!("`{t}`")) && !doc.contains(&format!("`{t}<")) {
            missing.push(format!("type {t}: not named in backticks"));
        }
    }
    let sigs = std_signatures(&table, &sources);
    assert!(sigs.len() >= 100, "only {} std functions?", sigs.len());
    for (module, sig, in_snow) in &sigs {
        let quoted = format!("`{sig}`");
        let Some(line) = lines.iter().find(|l| l.contains(&quoted)) else {
            missing.push(format!("{module}: no line with {quoted}"));
            continue;
        };
        let (want, other) = if *in_snow {
            ("| Snow |", "| runtime |")
        } else {
            ("| runtime |", "| Snow |")
        };
        if !line.contains(want) || line.contains(other) {
            missing.push(format!(
                "{module}: {quoted} is written in {}, its row should say `{want}`",
                if *in_snow { "Snow" } else { "the runtime" }
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{DOC} does not document the std as it is ({} problem(s)):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn named_codes_exist_and_links_resolve() {
    let doc = doc_text();
    let mut problems = Vec::new();
    for code in named_codes(&doc) {
        let out = snowc_cmd(&["explain", &code]);
        if !out.status.success() {
            problems.push(format!("{code}: `snowc explain {code}` fails"));
        }
    }
    let docs_dir = repo_root().join("docs");
    for (i, _) in doc.match_indices("](") {
        let rest = &doc[i + 2..];
        let Some(end) = rest.find(')') else { continue };
        let link = &rest[..end];
        if link.contains("://") || link.starts_with("mailto:") {
            continue;
        }
        let (file, anchor) = match link.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (link, None),
        };
        let text = if file.is_empty() {
            doc.clone()
        } else {
            match std::fs::read_to_string(docs_dir.join(file)) {
                Ok(t) => t,
                Err(_) => {
                    if !docs_dir.join(file).exists() {
                        problems.push(format!("link to {link}: no such file"));
                    }
                    continue;
                }
            }
        };
        if let Some(anchor) = anchor {
            if !heading_slugs(&text).contains(anchor) {
                problems.push(format!("link to {link}: no such heading"));
            }
        }
    }
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    if !readme.contains("docs/LANGUAGE.md") {
        problems.push("README.md does not link docs/LANGUAGE.md".into());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The anchors GitHub gives a Markdown file's headings (outside code
/// blocks): lower case, punctuation dropped, spaces as hyphens.
fn heading_slugs(text: &str) -> BTreeSet<String> {
    let mut slugs = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        slugs.insert(slug);
    }
    slugs
}

#[test]
fn block_shapes() {
    assert_eq!(shape("fn main() = nil\n"), Shape::Program);
    assert_eq!(shape("# a comment\nfn add(a, b) = a + b\n"), Shape::Items);
    assert_eq!(shape("struct P do\n  x :: Int\nend\n"), Shape::Items);
    assert_eq!(shape("let f = fn(x) -> x end\n"), Shape::Statements);
    assert_eq!(shape("println(\"hi\")\n"), Shape::Statements);
    assert_eq!(
        named_codes("x # E0041 and W0002, not XE0001 or E00123"),
        ["E0041", "W0002"].iter().map(|s| s.to_string()).collect()
    );
    assert!(
        heading_slugs("## Lists and `[h | t]`\n```\n# file: x\n```\n").contains("lists-and-h--t")
    );
    assert!(!heading_slugs("```\n# file: x\n```\n").contains("file-x"));
    assert_eq!(
        reported_codes("error[E0028]: x\nwarning[W0001]: y\nerror[E0028]: z"),
        ["E0028", "W0001"].iter().map(|s| s.to_string()).collect()
    );
}
