//! Compact, deterministic listings of a typed program (tests and tools).

use crate::tast::{TProgram, Ty};
use crate::ty::TyPrinter;

/// One line per function: `fn name(x :: Int, f :: Fun(a) -> b) -> List<b>`,
/// then one line per extern: `extern Ws.join = snow_ws_join/0`.
pub fn signatures(p: &TProgram) -> String {
    let mut s = String::new();
    for f in &p.functions {
        let mut pr = TyPrinter::default();
        let params: Vec<String> = f
            .params
            .iter()
            .map(|(_, n, t)| format!("{n} :: {}", pr.print(t)))
            .collect();
        s.push_str(&format!(
            "fn {}({}) -> {}\n",
            f.name,
            params.join(", "),
            pr.print(&f.ret)
        ));
    }
    for e in &p.externs {
        s.push_str(&format!(
            "extern {} = {}/{}\n",
            e.name, e.symbol, e.type_params
        ));
    }
    s
}

/// A type as Snow source (`Ty::Var` printed as `a`, `b`, ...).
pub fn show(t: &Ty) -> String {
    crate::ty::show(t)
}
