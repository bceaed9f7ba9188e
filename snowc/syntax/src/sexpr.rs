//! A compact S-expression printer for the AST (used by snapshot tests and
//! handy for debugging). Spans are left out except where noted.
//!
//! `fn add(a :: Int) -> Int do a + 1 end` prints as
//! `(fn add (a : Int) -> Int (block (+ a 1)))`.

use crate::ast::*;
use std::fmt::Write;

pub fn module(m: &Module) -> String {
    let mut out = String::new();
    for it in &m.items {
        out.push_str(&item(it));
        out.push('\n');
    }
    out
}

pub fn item(it: &Item) -> String {
    match it {
        Item::Fn(f) => {
            let mut s = String::from("(");
            if f.public {
                s.push_str("pub ");
            }
            let _ = write!(s, "fn {} ({})", f.name.name, params(&f.params));
            if let Some(r) = &f.ret {
                let _ = write!(s, " -> {}", ty(r));
            }
            let _ = write!(s, " {})", expr(&f.body));
            s
        }
        Item::Extern(f) => {
            let mut s = String::from("(");
            if f.public {
                s.push_str("pub ");
            }
            let _ = write!(s, "extern {} ({})", f.name.name, params(&f.params));
            if let Some(r) = &f.ret {
                let _ = write!(s, " -> {}", ty(r));
            }
            s.push(')');
            s
        }
        Item::Type(t) => {
            let mut s = String::from("(");
            if t.public {
                s.push_str("pub ");
            }
            s.push_str("type ");
            s.push_str(&t.name.name);
            if !t.params.is_empty() {
                let ps: Vec<&str> = t.params.iter().map(|p| p.name.as_str()).collect();
                let _ = write!(s, "<{}>", ps.join(", "));
            }
            if t.opaque {
                s.push_str(" opaque");
            }
            for v in &t.variants {
                if v.fields.is_empty() {
                    let _ = write!(s, " {}", v.name.name);
                } else {
                    let fs: Vec<String> = v.fields.iter().map(ty).collect();
                    let _ = write!(s, " ({} {})", v.name.name, fs.join(" "));
                }
            }
            s.push(')');
            s
        }
        Item::Struct(st) => {
            let mut s = String::from("(");
            if st.public {
                s.push_str("pub ");
            }
            s.push_str("struct ");
            s.push_str(&st.name.name);
            if !st.params.is_empty() {
                let ps: Vec<&str> = st.params.iter().map(|p| p.name.as_str()).collect();
                let _ = write!(s, "<{}>", ps.join(", "));
            }
            for f in &st.fields {
                let _ = write!(s, " ({} : {})", f.name.name, ty(&f.ty));
            }
            s.push(')');
            s
        }
        Item::Service(sv) => {
            let mut s = String::from("(");
            if sv.public {
                s.push_str("pub ");
            }
            let _ = write!(s, "service {}", sv.name.name);
            if let Some(init) = &sv.init {
                let _ = write!(s, " {}", item(&Item::Fn(init.clone())));
            }
            for h in &sv.handlers {
                let kind = match h.kind {
                    HandlerKind::Call => "call",
                    HandlerKind::Cast => "cast",
                };
                let _ = write!(s, " ({kind} {} ({})", h.name.name, params(&h.params));
                if let Some(r) = &h.reply {
                    let _ = write!(s, " :: {}", ty(r));
                }
                let _ = write!(
                    s,
                    " |{}| {})",
                    params(std::slice::from_ref(&h.state)),
                    expr(&h.body)
                );
            }
            s.push(')');
            s
        }
        Item::Import { path, alias, .. } => match alias {
            Some(a) => format!("(import {} as {})", path.dotted(), a.name),
            None => format!("(import {})", path.dotted()),
        },
        Item::FromImport { path, names, .. } => {
            let ns: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            format!("(from {} import {})", path.dotted(), ns.join(" "))
        }
    }
}

fn params(ps: &[Param]) -> String {
    let v: Vec<String> = ps
        .iter()
        .map(|p| match &p.ty {
            Some(t) => format!("{} : {}", p.name.name, ty(t)),
            None => p.name.name.clone(),
        })
        .collect();
    v.join(", ")
}

pub fn ty(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Named { module, name, args } => {
            let mut s = match module {
                Some(m) => format!("{}.{}", m.name, name.name),
                None => name.name.clone(),
            };
            if !args.is_empty() {
                let a: Vec<String> = args.iter().map(ty).collect();
                let _ = write!(s, "<{}>", a.join(", "));
            }
            s
        }
        TypeExprKind::Unit => "()".into(),
        TypeExprKind::Tuple(ts) => {
            let a: Vec<String> = ts.iter().map(ty).collect();
            format!("({})", a.join(", "))
        }
        TypeExprKind::Fun { params, ret } => {
            let a: Vec<String> = params.iter().map(ty).collect();
            format!("Fun({}) -> {}", a.join(", "), ty(ret))
        }
    }
}

fn op(o: BinOp) -> &'static str {
    o.symbol()
}

fn list(es: &[Expr]) -> String {
    let v: Vec<String> = es.iter().map(expr).collect();
    v.join(" ")
}

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(x) => format!("{x:?}"),
        ExprKind::Str(parts) => {
            let mut s = String::from("(str");
            for p in parts {
                match p {
                    StrPart::Lit(l) => {
                        let _ = write!(s, " {l:?}");
                    }
                    StrPart::Interp(e) => {
                        let _ = write!(s, " ${{{}}}", expr(e));
                    }
                }
            }
            s.push(')');
            s
        }
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Nil => "nil".into(),
        ExprKind::List(es) if es.is_empty() => "(list)".into(),
        ExprKind::List(es) => format!("(list {})", list(es)),
        ExprKind::Var(id) => id.name.clone(),
        ExprKind::Ctor(id) => id.name.clone(),
        ExprKind::Qualified { module, name } => format!("{}.{}", module.name, name.name),
        ExprKind::QualifiedCtor { module, name } => format!("{}.{}", module.name, name.name),
        ExprKind::Tuple(es) => format!("(tuple {})", list(es)),
        ExprKind::StructLit {
            module,
            name,
            fields,
        } => {
            let mut s = match module {
                Some(m) => format!("(struct {}.{}", m.name, name.name),
                None => format!("(struct {}", name.name),
            };
            for f in fields {
                let _ = write!(s, " ({} {})", f.name.name, expr(&f.value));
            }
            s.push(')');
            s
        }
        ExprKind::Field { expr: x, field } => format!("(. {} {})", expr(x), field.name),
        ExprKind::Update { expr: x, fields } => {
            let mut s = format!("(update {}", expr(x));
            for f in fields {
                let _ = write!(s, " ({} {})", f.name.name, expr(&f.value));
            }
            s.push(')');
            s
        }
        ExprKind::Cons { items, tail } => format!("(cons {} {})", list(items), expr(tail)),
        ExprKind::Call { callee, args } if args.is_empty() => format!("(call {})", expr(callee)),
        ExprKind::Call { callee, args } => format!("(call {} {})", expr(callee), list(args)),
        ExprKind::Binary { op: o, lhs, rhs } => {
            format!("({} {} {})", op(*o), expr(lhs), expr(rhs))
        }
        ExprKind::Unary {
            op: UnOp::Neg,
            expr: x,
        } => format!("(neg {})", expr(x)),
        ExprKind::Unary {
            op: UnOp::Not,
            expr: x,
        } => format!("(not {})", expr(x)),
        ExprKind::Let {
            pattern,
            ty: Some(t),
            value,
        } => {
            format!("(let {} : {} {})", pat(pattern), ty(t), expr(value))
        }
        ExprKind::Let {
            pattern,
            ty: None,
            value,
        } => format!("(let {} {})", pat(pattern), expr(value)),
        ExprKind::Block(es) if es.is_empty() => "(block)".into(),
        ExprKind::Block(es) => format!("(block {})", list(es)),
        ExprKind::If { cond, then, else_ } => match else_ {
            Some(e) => format!("(if {} {} {})", expr(cond), expr(then), expr(e)),
            None => format!("(if {} {})", expr(cond), expr(then)),
        },
        ExprKind::Case { scrutinee, arms } => {
            let mut s = format!("(case {}", expr(scrutinee));
            for a in arms {
                match &a.guard {
                    Some(g) => {
                        let _ = write!(
                            s,
                            " [{} when {} -> {}]",
                            pat(&a.pattern),
                            expr(g),
                            expr(&a.body)
                        );
                    }
                    None => {
                        let _ = write!(s, " [{} -> {}]", pat(&a.pattern), expr(&a.body));
                    }
                }
            }
            s.push(')');
            s
        }
        ExprKind::For {
            pattern,
            iter,
            body,
        } => {
            format!("(for {} {} {})", pat(pattern), expr(iter), expr(body))
        }
        ExprKind::Lambda { params: ps, body } => {
            format!("(lambda ({}) {})", params(ps), expr(body))
        }
        ExprKind::Error => "<error>".into(),
    }
}

pub fn pat(p: &Pattern) -> String {
    match &p.kind {
        PatternKind::Wildcard => "_".into(),
        PatternKind::Bind(id) => id.name.clone(),
        PatternKind::Int(n) => n.to_string(),
        PatternKind::Float(x) => format!("{x:?}"),
        PatternKind::Str(s) => format!("{s:?}"),
        PatternKind::Bool(b) => b.to_string(),
        PatternKind::Nil => "nil".into(),
        PatternKind::Ctor { module, name, args } => {
            let n = match module {
                Some(m) => format!("{}.{}", m.name, name.name),
                None => name.name.clone(),
            };
            if args.is_empty() {
                n
            } else {
                let a: Vec<String> = args.iter().map(pat).collect();
                format!("({} {})", n, a.join(" "))
            }
        }
        PatternKind::Tuple(ps) => {
            let a: Vec<String> = ps.iter().map(pat).collect();
            format!("(tuple {})", a.join(" "))
        }
        PatternKind::Struct {
            module,
            name,
            fields,
        } => {
            let mut s = match module {
                Some(m) => format!("(struct {}.{}", m.name, name.name),
                None => format!("(struct {}", name.name),
            };
            for f in fields {
                let _ = write!(s, " ({} {})", f.name.name, pat(&f.pattern));
            }
            s.push(')');
            s
        }
        PatternKind::EmptyList => "[]".into(),
        PatternKind::Cons { head, tail } => format!("[{} | {}]", pat(head), pat(tail)),
    }
}
