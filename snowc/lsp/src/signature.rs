//! Signatures and doc comments as an editor shows them, from the source
//! text and the std table: shared by hover (`queries.rs`) and completion
//! (`completion.rs`).

use snowc_fmt::layout::ty;
use snowc_syntax::ast::{FnDef, Param};
use snowc_types::std_lib::ExternSig;
use snowc_types::ty::TyPrinter;

/// `a :: Int, b` as written in a definition.
pub fn params(ps: &[Param]) -> String {
    let v: Vec<String> = ps
        .iter()
        .map(|p| match &p.ty {
            Some(t) => format!("{} :: {}", p.name.name, ty(t)),
            None => p.name.name.clone(),
        })
        .collect();
    v.join(", ")
}

/// `fn name(a :: Int, b) -> T` as written in the definition.
pub fn fn_def_signature(name: &str, f: &FnDef) -> String {
    let ret = f
        .ret
        .as_ref()
        .map(|t| format!(" -> {}", ty(t)))
        .unwrap_or_default();
    format!("fn {name}({}){ret}", params(&f.params))
}

/// The comment lines right above the line holding `pos` (`# ` removed).
pub fn doc_comment(text: &str, pos: usize) -> String {
    let pos = pos.min(text.len());
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let mut lines: Vec<&str> = Vec::new();
    let mut end = line_start;
    while end > 0 {
        let prev_start = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..end - 1].trim();
        match line.strip_prefix('#') {
            // A section ruler (`# ---- rooms ----`) is not documentation.
            Some(rest) if rest.trim().starts_with("--") => break,
            Some(rest) => lines.push(rest.strip_prefix(' ').unwrap_or(rest)),
            None => break,
        }
        end = prev_start;
    }
    lines.reverse();
    lines.join("\n")
}

/// `fn Ws.join(conn :: Conn, room :: String) -> Int`: an extern's signature.
pub fn extern_signature(e: &ExternSig) -> String {
    let mut pr = TyPrinter::default();
    let params: Vec<String> = e
        .param_names
        .iter()
        .zip(&e.params)
        .map(|(n, t)| format!("{n} :: {}", pr.print(t)))
        .collect();
    format!(
        "fn {}({}) -> {}",
        e.name,
        params.join(", "),
        pr.print(&e.ret)
    )
}
