//! Hover and go to definition over the typed program, and what both need:
//! doc comments and std signatures.

use crate::analysis::Analysis;
use crate::signature::{doc_comment, extern_signature, fn_def_signature};
use snowc_syntax::{FileId, Span};
use snowc_types::std_lib::StdItemKind;
use snowc_types::tast::{
    Callee, LocalId, ServiceOp, TExpr, TExprKind, TFn, TPattern, TPatternKind, Ty,
};
use snowc_types::ty::TyPrinter;

/// What is under the cursor.
enum Hit<'a> {
    Expr(&'a TExpr),
    /// The callee name of a call (`Ws.join` in `Ws.join(c, r)`).
    Callee(&'a Callee),
    Pat(&'a TPattern),
    /// A binding in a parameter list (function or closure).
    Param(LocalId, &'a Ty),
}

fn contains(s: Span, file: FileId, off: usize) -> bool {
    s.file == file && (s.start as usize) <= off && off <= (s.end as usize)
}

fn width(s: Span) -> u32 {
    s.end - s.start
}

struct Finder<'a> {
    file: FileId,
    off: usize,
    f: &'a TFn,
    best: Option<(u32, Hit<'a>)>,
}

impl<'a> Finder<'a> {
    fn offer(&mut self, w: u32, hit: Hit<'a>) {
        if self.best.as_ref().is_none_or(|(bw, _)| w <= *bw) {
            self.best = Some((w, hit));
        }
    }

    fn local_at(&self, id: LocalId) -> bool {
        self.f
            .local_spans
            .get(id.0 as usize)
            .is_some_and(|s| contains(*s, self.file, self.off))
    }

    fn pat(&mut self, p: &'a TPattern) {
        if !contains(p.span, self.file, self.off) {
            return;
        }
        self.offer(width(p.span), Hit::Pat(p));
        match &p.kind {
            TPatternKind::Ctor { args, .. } => args.iter().for_each(|a| self.pat(a)),
            TPatternKind::Cons { head, tail } => {
                self.pat(head);
                self.pat(tail);
            }
            TPatternKind::Tuple(ps) | TPatternKind::Struct { fields: ps, .. } => {
                ps.iter().for_each(|a| self.pat(a))
            }
            _ => {}
        }
    }

    fn expr(&mut self, e: &'a TExpr) {
        // Spans of synthesized nodes may be empty or outside: descend anyway
        // only when the node covers the offset.
        if !contains(e.span, self.file, self.off) {
            // A `let`'s own span may not cover its value's; still look inside.
            if !matches!(e.kind, TExprKind::Block(_)) {
                return;
            }
        } else {
            self.offer(width(e.span), Hit::Expr(e));
        }
        match &e.kind {
            TExprKind::Interp(es)
            | TExprKind::List(es)
            | TExprKind::Tuple(es)
            | TExprKind::Block(es) => es.iter().for_each(|x| self.expr(x)),
            TExprKind::Struct { fields, .. } => fields.iter().for_each(|x| self.expr(x)),
            TExprKind::Call { callee, args } => {
                if let Callee::Value(v) = callee {
                    self.expr(v);
                }
                let in_arg = args.iter().any(|a| contains(a.span, self.file, self.off));
                if !in_arg && !matches!(callee, Callee::Value(_)) {
                    // The name of the function called.
                    self.offer(width(e.span).saturating_sub(1), Hit::Callee(callee));
                }
                args.iter().for_each(|x| self.expr(x));
            }
            TExprKind::Ctor { args, .. } => args.iter().for_each(|x| self.expr(x)),
            TExprKind::Field { expr, .. } => self.expr(expr),
            TExprKind::Update { expr, fields, .. } => {
                self.expr(expr);
                fields.iter().for_each(|(_, _, x)| self.expr(x));
            }
            TExprKind::Cons { items, tail } => {
                items.iter().for_each(|x| self.expr(x));
                self.expr(tail);
            }
            TExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            TExprKind::Unary { expr, .. } => self.expr(expr),
            TExprKind::Let { local, value } => {
                if self.local_at(*local) {
                    let s = self.f.local_spans[local.0 as usize];
                    self.offer(width(s), Hit::Param(*local, &value.ty));
                }
                self.expr(value);
            }
            TExprKind::LetPat { pattern, value } => {
                self.pat(pattern);
                self.expr(value);
            }
            TExprKind::If { cond, then, else_ } => {
                self.expr(cond);
                self.expr(then);
                if let Some(e) = else_ {
                    self.expr(e);
                }
            }
            TExprKind::Case { scrutinee, arms } => {
                self.expr(scrutinee);
                for a in arms {
                    self.pat(&a.pattern);
                    if let Some(g) = &a.guard {
                        self.expr(g);
                    }
                    self.expr(&a.body);
                }
            }
            TExprKind::For {
                pattern,
                iter,
                body,
            } => {
                self.pat(pattern);
                self.expr(iter);
                self.expr(body);
            }
            TExprKind::Lambda { params, body, .. } => {
                for (id, ty) in params {
                    if self.local_at(*id) {
                        let s = self.f.local_spans[id.0 as usize];
                        self.offer(width(s), Hit::Param(*id, ty));
                    }
                }
                self.expr(body);
            }
            _ => {}
        }
    }
}

/// The innermost thing at `off` in `file`, with the function it is in.
fn find(a: &Analysis, file: FileId, off: usize) -> Option<(&TFn, Hit<'_>)> {
    let program = a.program.as_ref()?;
    for f in &program.functions {
        if !contains(f.span, file, off) {
            continue;
        }
        let mut finder = Finder {
            file,
            off,
            f,
            best: None,
        };
        for (id, _, ty) in &f.params {
            if finder.local_at(*id) {
                let s = f.local_spans[id.0 as usize];
                finder.offer(width(s), Hit::Param(*id, ty));
            }
        }
        finder.expr(&f.body);
        if let Some((_, hit)) = finder.best {
            return Some((f, hit));
        }
    }
    None
}

fn fn_signature(f: &TFn) -> String {
    let mut pr = TyPrinter::default();
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(_, n, t)| format!("{n} :: {}", pr.print(t)))
        .collect();
    format!(
        "fn {}({}) -> {}",
        f.name,
        params.join(", "),
        pr.print(&f.ret)
    )
}

/// A std function's signature and doc comment, by qualified name
/// (`Ws.join`, `println`).
pub fn std_fn_info(a: &Analysis, name: &str) -> Option<(String, String, Span)> {
    let table = &a.table;
    if let Some(e) = table.extern_by_name(name) {
        let doc = doc_comment(a.text(e.span.file), e.span.start as usize);
        return Some((extern_signature(e), doc, e.span));
    }
    let (module, item) = match name.rsplit_once('.') {
        Some((m, i)) => (m.to_string(), i),
        None => (table.modules.get(table.prelude()?)?.name.clone(), name),
    };
    let it = table.modules.get(table.module(&module)?)?.items.get(item)?;
    match it.kind {
        StdItemKind::Extern(i) => {
            let e = table.externs.get(i)?;
            let doc = doc_comment(a.text(e.span.file), e.span.start as usize);
            Some((extern_signature(e), doc, e.span))
        }
        StdItemKind::Fn(i) => {
            let f = table.fns.get(i)?;
            let sig = fn_def_signature(&f.name, &f.def);
            let doc = doc_comment(a.text(f.def.span.file), f.def.span.start as usize);
            Some((sig, doc, f.def.span))
        }
    }
}

fn local_name(f: &TFn, id: LocalId) -> &str {
    f.local_names.get(id.0 as usize).map_or("?", String::as_str)
}

/// The function a callee runs (a service operation: its init or handler).
fn callee_name<'a>(a: &'a Analysis, c: &'a Callee) -> Option<&'a str> {
    match c {
        Callee::Fn(n) => Some(n),
        Callee::Extern { name, .. } => Some(name),
        Callee::Value(_) => None,
        Callee::Service { service, op } => {
            let s = a.program.as_ref()?.services.get(*service)?;
            match op {
                ServiceOp::Start => Some(&s.init),
                ServiceOp::Handler(i) => s.handlers.get(*i).map(|h| h.fun.as_str()),
            }
        }
    }
}

/// `fn Counter.add(handle :: Counter, k :: Int) -> Int` for a service
/// operation.
fn service_op_signature(a: &Analysis, c: &Callee) -> Option<String> {
    let Callee::Service { service, op } = c else {
        return None;
    };
    let s = a.program.as_ref()?.services.get(*service)?;
    let mut pr = TyPrinter::default();
    let short = s.name.rsplit('.').next().unwrap_or(&s.name).to_string();
    Some(match op {
        ServiceOp::Start => {
            let ps: Vec<String> = s.init_params.iter().map(|t| pr.print(t)).collect();
            format!("fn {short}.start({}) -> {short}", ps.join(", "))
        }
        ServiceOp::Handler(i) => {
            let h = s.handlers.get(*i)?;
            let mut ps = vec![format!("handle :: {short}")];
            ps.extend(h.params.iter().map(|t| pr.print(t)));
            format!(
                "fn {short}.{}({}) -> {}",
                h.op,
                ps.join(", "),
                pr.print(&h.reply)
            )
        }
    })
}

/// Markdown for the thing at `off`.
pub fn hover(a: &Analysis, file: FileId, off: usize) -> Option<(String, Span)> {
    let (f, hit) = find(a, file, off)?;
    let mut pr = TyPrinter::default();
    let code = |s: String| format!("```snow\n{s}\n```");
    let function = |name: &str, span: Span| -> Option<(String, Span)> {
        let program = a.program.as_ref()?;
        if let Some(g) = program.functions.iter().find(|g| g.name == name) {
            if !a.sources.get(g.span.file).name.starts_with("std/") {
                let doc = doc_comment(a.text(g.span.file), g.span.start as usize);
                return Some((join_doc(code(fn_signature(g)), &doc), span));
            }
        }
        let (sig, doc, _) = std_fn_info(a, name)?;
        Some((join_doc(code(sig), &doc), span))
    };
    match hit {
        Hit::Param(id, ty) => {
            let s = f.local_spans[id.0 as usize];
            Some((
                code(format!("{} :: {}", local_name(f, id), pr.print(ty))),
                s,
            ))
        }
        Hit::Pat(p) => match &p.kind {
            TPatternKind::Bind(id) => Some((
                code(format!("{} :: {}", local_name(f, *id), pr.print(&p.ty))),
                p.span,
            )),
            _ => Some((code(pr.print(&p.ty)), p.span)),
        },
        Hit::Callee(c) => {
            if let Some(sig) = service_op_signature(a, c) {
                return Some((code(sig), Span::new(file, off, off)));
            }
            let name = callee_name(a, c)?;
            function(name, Span::new(file, off, off))
        }
        Hit::Expr(e) => match &e.kind {
            TExprKind::Local(id) => Some((
                code(format!("{} :: {}", local_name(f, *id), pr.print(&e.ty))),
                e.span,
            )),
            TExprKind::FnRef(name) | TExprKind::ExternRef { name, .. } => function(name, e.span),
            _ => Some((code(pr.print(&e.ty)), e.span)),
        },
    }
}

fn join_doc(code: String, doc: &str) -> String {
    if doc.is_empty() {
        code
    } else {
        format!("{code}\n\n{doc}")
    }
}

/// Where the thing at `off` is defined.
pub fn definition(a: &Analysis, file: FileId, off: usize) -> Option<Span> {
    let (f, hit) = find(a, file, off)?;
    let program = a.program.as_ref()?;
    let function = |name: &str| -> Option<Span> {
        if let Some(g) = program.functions.iter().find(|g| g.name == name) {
            return Some(name_span(a, g.span));
        }
        std_fn_info(a, name).map(|(_, _, s)| name_span(a, s))
    };
    match hit {
        Hit::Expr(e) => match &e.kind {
            TExprKind::Local(id) => f.local_spans.get(id.0 as usize).copied(),
            TExprKind::FnRef(name) | TExprKind::ExternRef { name, .. } => function(name),
            TExprKind::Ctor {
                type_name, ctor, ..
            } => {
                let t = program.types.get(type_name)?;
                t.variants.iter().find(|v| &v.name == ctor).map(|v| v.span)
            }
            _ => None,
        },
        Hit::Callee(c) => function(callee_name(a, c)?),
        Hit::Pat(p) => match &p.kind {
            TPatternKind::Bind(id) => f.local_spans.get(id.0 as usize).copied(),
            _ => None,
        },
        Hit::Param(id, _) => f.local_spans.get(id.0 as usize).copied(),
    }
}

/// The name in a definition (`join` in `pub extern fn join(...)`): the
/// first identifier after `fn`.
fn name_span(a: &Analysis, def: Span) -> Span {
    let text = a.text(def.file);
    let start = def.start as usize;
    let end = (def.end as usize).min(text.len());
    if let Some(i) = text.get(start..end).and_then(|s| s.find("fn ")) {
        let name_start = start + i + 3;
        let len = text[name_start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(0);
        return Span::new(def.file, name_start, name_start + len);
    }
    def
}
