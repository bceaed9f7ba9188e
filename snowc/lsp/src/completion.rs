//! Completion after `Module.`: a std module's public functions, or the
//! public items of a user module the document imports (`import Chat.Rooms`
//! makes `Rooms.`; `as R` makes `R.`), or a service's functions. It works
//! from the text alone (the document is usually half typed here: `Ws.`
//! does not parse), the std table and the imported module's file.

use crate::analysis::{self, Docs};
use crate::signature::{doc_comment, extern_signature, fn_def_signature, params};
use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};
use snowc_fmt::layout::ty;
use snowc_syntax::ast::{Item, Module};
use snowc_syntax::graph::module_file;
use snowc_syntax::FileId;
use snowc_types::std_lib::StdItemKind;
use std::path::Path;

/// The module name before the `.` that ends `line` (after any name being
/// typed): `Ws` for `  Ws.jo`.
pub fn module_before_dot(line: &str) -> Option<&str> {
    let rest = line.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_');
    let rest = rest.strip_suffix('.')?;
    let start = rest
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let name = &rest[start..];
    name.chars().next().filter(char::is_ascii_uppercase)?;
    Some(name)
}

fn item(label: &str, kind: CompletionItemKind, detail: String, doc: String) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail),
        documentation: (!doc.is_empty()).then_some(Documentation::MarkupContent(MarkupContent {
            kind: MarkupKind::Markdown,
            value: doc,
        })),
        ..Default::default()
    }
}

fn snake_case(s: &str) -> String {
    snowc_syntax::graph::snake_case(s)
}

/// The public items of a parsed user module.
fn module_items(m: &Module, text: &str) -> Vec<CompletionItem> {
    let mut out = Vec::new();
    for it in &m.items {
        match it {
            Item::Fn(f) if f.public => out.push(item(
                &f.name.name,
                CompletionItemKind::FUNCTION,
                fn_def_signature(&f.name.name, f),
                doc_comment(text, f.span.start as usize),
            )),
            Item::Type(t) if t.public => {
                out.push(item(
                    &t.name.name,
                    CompletionItemKind::ENUM,
                    format!("type {}", t.name.name),
                    doc_comment(text, t.span.start as usize),
                ));
                for v in &t.variants {
                    let fields: Vec<String> = v.fields.iter().map(ty).collect();
                    let detail = if fields.is_empty() {
                        v.name.name.clone()
                    } else {
                        format!("{}({})", v.name.name, fields.join(", "))
                    };
                    out.push(item(
                        &v.name.name,
                        CompletionItemKind::ENUM_MEMBER,
                        detail,
                        String::new(),
                    ));
                }
            }
            Item::Struct(s) if s.public => out.push(item(
                &s.name.name,
                CompletionItemKind::STRUCT,
                format!("struct {}", s.name.name),
                doc_comment(text, s.span.start as usize),
            )),
            Item::Service(s) if s.public => out.push(item(
                &s.name.name,
                CompletionItemKind::CLASS,
                format!("service {}", s.name.name),
                doc_comment(text, s.span.start as usize),
            )),
            _ => {}
        }
    }
    out
}

/// `Counter.` for a service of this file: `start` and its handlers.
fn service_items(m: &Module, name: &str) -> Option<Vec<CompletionItem>> {
    let s = m.items.iter().find_map(|it| match it {
        Item::Service(s) if s.name.name == name => Some(s),
        _ => None,
    })?;
    let mut out = Vec::new();
    let init = s
        .init
        .as_ref()
        .map(|f| params(&f.params))
        .unwrap_or_default();
    out.push(item(
        "start",
        CompletionItemKind::FUNCTION,
        format!("fn start({init}) -> {name}"),
        String::new(),
    ));
    for h in &s.handlers {
        let ps = params(&h.params);
        let sep = if ps.is_empty() { "" } else { ", " };
        let ret = h.reply.as_ref().map(ty).unwrap_or_else(|| "()".into());
        let n = snake_case(&h.name.name);
        out.push(item(
            &n,
            CompletionItemKind::FUNCTION,
            format!("fn {n}(handle :: {name}{sep}{ps}) -> {ret}"),
            String::new(),
        ));
    }
    Some(out)
}

fn std_items(module: &str) -> Option<Vec<CompletionItem>> {
    let (table, files) = analysis::std_table();
    let m = table.modules.get(table.module(module)?)?;
    if m.prelude {
        return None;
    }
    let text = |f: FileId| files.get(f.0 as usize).map_or("", |s| s.text.as_str());
    let mut out = Vec::new();
    for (name, it) in &m.items {
        if !it.public {
            continue;
        }
        let (sig, doc) = match it.kind {
            StdItemKind::Extern(i) => {
                let e = &table.externs[i];
                (
                    extern_signature(e),
                    doc_comment(text(e.span.file), e.span.start as usize),
                )
            }
            StdItemKind::Fn(i) => {
                let f = &table.fns[i];
                (
                    fn_def_signature(&f.name, &f.def),
                    doc_comment(text(f.def.span.file), f.def.span.start as usize),
                )
            }
        };
        out.push(item(name, CompletionItemKind::FUNCTION, sig, doc));
    }
    Some(out)
}

/// Completions at byte `offset` of the document at `path`.
pub fn complete(
    text: &str,
    offset: usize,
    path: &Path,
    docs: &Docs,
) -> Option<Vec<CompletionItem>> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..offset)?;
    let module = module_before_dot(line)?;
    let (m, _) = snowc_syntax::parse(FileId(0), text);
    // An import of this file naming the module (`as` or its last segment).
    let imported = m.items.iter().find_map(|it| match it {
        Item::Import { path, alias, .. } => {
            let name = alias
                .as_ref()
                .map_or(path.last().name.as_str(), |a| a.name.as_str());
            (name == module).then(|| {
                path.segments
                    .iter()
                    .map(|s| s.name.clone())
                    .collect::<Vec<_>>()
            })
        }
        _ => None,
    });
    if let Some(segs) = imported {
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        if !(segs.len() == 1 && std_items(segs[0]).is_some()) {
            let entry = analysis::entry_for(path, docs);
            let root = entry.parent().unwrap_or(Path::new("/"));
            let file = root.join(module_file(&segs));
            let src = docs
                .get(&file)
                .cloned()
                .or_else(|| std::fs::read_to_string(&file).ok())?;
            let (um, _) = snowc_syntax::parse(FileId(0), &src);
            return Some(module_items(&um, &src));
        }
    }
    if let Some(items) = service_items(&m, module) {
        return Some(items);
    }
    std_items(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_before_the_dot() {
        assert_eq!(module_before_dot("  Ws."), Some("Ws"));
        assert_eq!(module_before_dot("x = Ws.jo"), Some("Ws"));
        assert_eq!(module_before_dot("x.jo"), None);
        assert_eq!(module_before_dot("Ws"), None);
    }

    #[test]
    fn std_module_functions_with_signatures() {
        let items = complete(
            "fn main() do\n  Ws.\nend\n",
            18,
            Path::new("/x/a.snow"),
            &Docs::new(),
        )
        .unwrap();
        let join = items.iter().find(|i| i.label == "join").unwrap();
        assert_eq!(
            join.detail.as_deref(),
            Some("fn Ws.join(conn :: Conn, room :: String) -> Int")
        );
        assert!(items.iter().any(|i| i.label == "join_all"));
    }
}
