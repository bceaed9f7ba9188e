//! Terse builders of typed programs for hand-written lowering tests.
#![allow(dead_code)]

use snowc_syntax::ast::{BinOp, UnOp};
use snowc_syntax::{FileId, SourceMap, Span};
use snowc_types::tast::*;

pub fn sp() -> Span {
    Span::default()
}

pub fn ex(kind: TExprKind, ty: Ty) -> TExpr {
    TExpr {
        kind,
        ty,
        span: sp(),
    }
}

pub fn int(n: i64) -> TExpr {
    ex(TExprKind::Int(n), Ty::Int)
}
pub fn float(x: f64) -> TExpr {
    ex(TExprKind::Float(x), Ty::Float)
}
pub fn boolean(b: bool) -> TExpr {
    ex(TExprKind::Bool(b), Ty::Bool)
}
pub fn str_(s: &str) -> TExpr {
    ex(TExprKind::Str(s.into()), Ty::String)
}
pub fn unit() -> TExpr {
    ex(TExprKind::Unit, Ty::Unit)
}
pub fn local(id: u32, ty: Ty) -> TExpr {
    ex(TExprKind::Local(LocalId(id)), ty)
}
pub fn bin(op: BinOp, l: TExpr, r: TExpr, ty: Ty) -> TExpr {
    ex(
        TExprKind::Binary {
            op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        },
        ty,
    )
}
pub fn un(op: UnOp, e: TExpr, ty: Ty) -> TExpr {
    ex(
        TExprKind::Unary {
            op,
            expr: Box::new(e),
        },
        ty,
    )
}
pub fn call(name: &str, args: Vec<TExpr>, ty: Ty) -> TExpr {
    ex(
        TExprKind::Call {
            callee: Callee::Fn(name.into()),
            args,
        },
        ty,
    )
}
pub fn call_ext(name: &str, type_args: Vec<Ty>, args: Vec<TExpr>, ty: Ty) -> TExpr {
    ex(
        TExprKind::Call {
            callee: Callee::Extern {
                name: name.into(),
                type_args,
            },
            args,
        },
        ty,
    )
}
pub fn call_val(f: TExpr, args: Vec<TExpr>, ty: Ty) -> TExpr {
    ex(
        TExprKind::Call {
            callee: Callee::Value(Box::new(f)),
            args,
        },
        ty,
    )
}
pub fn let_(id: u32, value: TExpr) -> TExpr {
    ex(
        TExprKind::Let {
            local: LocalId(id),
            value: Box::new(value),
        },
        Ty::Unit,
    )
}
pub fn block(items: Vec<TExpr>) -> TExpr {
    let ty = items.last().map(|e| e.ty.clone()).unwrap_or(Ty::Unit);
    ex(TExprKind::Block(items), ty)
}
pub fn if_(c: TExpr, t: TExpr, e: Option<TExpr>) -> TExpr {
    let ty = if e.is_some() { t.ty.clone() } else { Ty::Unit };
    ex(
        TExprKind::If {
            cond: Box::new(c),
            then: Box::new(t),
            else_: e.map(Box::new),
        },
        ty,
    )
}
pub fn case(s: TExpr, arms: Vec<TArm>, ty: Ty) -> TExpr {
    ex(
        TExprKind::Case {
            scrutinee: Box::new(s),
            arms,
        },
        ty,
    )
}
pub fn arm(pattern: TPattern, guard: Option<TExpr>, body: TExpr) -> TArm {
    TArm {
        pattern,
        guard,
        body,
    }
}
pub fn lambda(params: Vec<(u32, Ty)>, captures: Vec<u32>, body: TExpr) -> TExpr {
    let ty = Ty::Fun(
        params.iter().map(|p| p.1.clone()).collect(),
        Box::new(body.ty.clone()),
    );
    ex(
        TExprKind::Lambda {
            params: params.into_iter().map(|(l, t)| (LocalId(l), t)).collect(),
            captures: captures.into_iter().map(LocalId).collect(),
            body: Box::new(body),
        },
        ty,
    )
}
pub fn ctor(type_name: &str, name: &str, tag: u32, args: Vec<TExpr>, ty: Ty) -> TExpr {
    ex(
        TExprKind::Ctor {
            type_name: type_name.into(),
            ctor: name.into(),
            tag,
            args,
        },
        ty,
    )
}
pub fn list(items: Vec<TExpr>, elem: Ty) -> TExpr {
    ex(TExprKind::List(items), list_ty(elem))
}
pub fn for_(id: u32, iter: TExpr, body: TExpr) -> TExpr {
    let ty = list_ty(body.ty.clone());
    ex(
        TExprKind::For {
            pattern: Box::new(pat(TPatternKind::Bind(LocalId(id)), Ty::Unit)),
            iter: Box::new(iter),
            body: Box::new(body),
        },
        ty,
    )
}

pub fn list_ty(t: Ty) -> Ty {
    Ty::Con("List".into(), vec![t])
}
pub fn option_ty(t: Ty) -> Ty {
    Ty::Con("Option".into(), vec![t])
}

pub fn pat(kind: TPatternKind, ty: Ty) -> TPattern {
    TPattern {
        kind,
        ty,
        span: sp(),
    }
}
pub fn p_bind(id: u32, ty: Ty) -> TPattern {
    pat(TPatternKind::Bind(LocalId(id)), ty)
}
pub fn p_wild(ty: Ty) -> TPattern {
    pat(TPatternKind::Wildcard, ty)
}
pub fn p_ctor(name: &str, tag: u32, args: Vec<TPattern>, ty: Ty) -> TPattern {
    pat(
        TPatternKind::Ctor {
            type_name: "T".into(),
            ctor: name.into(),
            tag,
            args,
        },
        ty,
    )
}

pub fn tfn(
    name: &str,
    params: Vec<(u32, &str, Ty)>,
    ret: Ty,
    body: TExpr,
    local_names: &[&str],
) -> TFn {
    TFn {
        name: name.into(),
        params: params
            .into_iter()
            .map(|(l, n, t)| (LocalId(l), n.to_string(), t))
            .collect(),
        ret,
        body,
        local_names: local_names.iter().map(|s| s.to_string()).collect(),
        local_spans: local_names.iter().map(|_| sp()).collect(),
        span: sp(),
    }
}

pub fn ext(name: &str, symbol: &str, params: Vec<Ty>, ret: Ty, type_params: u32) -> TExtern {
    TExtern {
        name: name.into(),
        symbol: symbol.into(),
        params,
        ret,
        type_params,
    }
}

pub fn prog(functions: Vec<TFn>, externs: Vec<TExtern>) -> TProgram {
    TProgram {
        functions,
        externs,
        file_name: "t.snow".into(),
        types: Default::default(),
        services: Vec::new(),
    }
}

/// A source map whose file 0 is `text` (for line/col of spans).
pub fn sources(text: &str) -> SourceMap {
    let mut sm = SourceMap::default();
    let id = sm.add("t.snow", text);
    assert_eq!(id, FileId(0));
    sm
}

pub fn println_ext() -> TExtern {
    ext("println", "snow_println", vec![Ty::String], Ty::Unit, 0)
}
