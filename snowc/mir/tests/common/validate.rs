//! Structural invariants codegen relies on, checked on every lowered program.
#![allow(dead_code)]

use std::collections::HashMap;

use snowc_mir::mir::{Operand, Program, Rvalue, Stmt, Terminator};

pub fn validate(p: &Program) {
    let funcs: HashMap<&str, _> = p.functions.iter().map(|f| (f.name.as_str(), f)).collect();
    assert_eq!(funcs.len(), p.functions.len(), "duplicate function names");
    let mut syms: Vec<&str> = p.externs.iter().map(|e| e.symbol.as_str()).collect();
    let sorted = {
        let mut s = syms.clone();
        s.sort();
        s.dedup();
        s
    };
    assert_eq!(syms, sorted, "externs sorted and unique");
    syms.clear();
    for f in &p.functions {
        let ctx = |what: &str| format!("{}: {what}", f.name);
        assert_eq!(f.var_names.len(), f.vars as usize, "{}", ctx("var_names"));
        assert!(f.params <= f.vars);
        let nblocks = f.blocks.len() as u32;
        let check_op = |o: &Operand| match o {
            Operand::Var(v) => assert!(v.0 < f.vars, "{}", ctx("var out of range")),
            Operand::FnRef(n) => {
                let g = funcs
                    .get(n.as_str())
                    .unwrap_or_else(|| panic!("{}", ctx(&format!("FnRef {n}"))));
                assert!(!g.is_closure, "{}", ctx("FnRef to a lifted closure"));
            }
            _ => {}
        };
        for (i, b) in f.blocks.iter().enumerate() {
            assert_eq!(b.id.0 as usize, i);
            let tail = match &b.term {
                Terminator::TailCall(rv) => {
                    assert!(
                        matches!(rv, Rvalue::Call { .. } | Rvalue::CallClosure { .. }),
                        "{}",
                        ctx("TailCall of something that is not a Snow call")
                    );
                    Some(rv)
                }
                _ => None,
            };
            let mut checked = false;
            for s in &b.stmts {
                let rv = match s {
                    Stmt::Assign(v, rv) => {
                        assert!(v.0 < f.vars);
                        rv
                    }
                    Stmt::Eval(rv) => rv,
                    Stmt::Check { .. } => {
                        checked = true;
                        continue;
                    }
                };
                // Every Snow call is preceded by a safepoint (docs/ABI.md "Stack").
                if matches!(rv, Rvalue::Call { .. } | Rvalue::CallClosure { .. }) {
                    assert!(checked, "{}", ctx("a call without a safepoint before it"));
                    checked = false;
                }
                match rv {
                    Rvalue::Use(o)
                    | Rvalue::GetTag(o)
                    | Rvalue::GetField(o, _)
                    | Rvalue::RecordField(o, _) => check_op(o),
                    Rvalue::ListHead(o) | Rvalue::ListTail(o) | Rvalue::StrLen(o) => check_op(o),
                    Rvalue::Prim(_, args) => args.iter().for_each(check_op),
                    Rvalue::Call { func, args } => {
                        args.iter().for_each(check_op);
                        let g = funcs
                            .get(func.as_str())
                            .unwrap_or_else(|| panic!("{}", ctx(&format!("call {func}"))));
                        assert!(!g.is_closure);
                        assert_eq!(
                            g.params as usize,
                            args.len(),
                            "{}",
                            ctx(&format!("arity of {func}"))
                        );
                    }
                    Rvalue::CallExtern { symbol, args } => {
                        args.iter().for_each(check_op);
                        let d = p.externs.iter().find(|e| &e.symbol == symbol);
                        let d =
                            d.unwrap_or_else(|| panic!("{}", ctx(&format!("undeclared {symbol}"))));
                        assert_eq!(
                            d.arity as usize,
                            args.len(),
                            "{}",
                            ctx(&format!("arity of {symbol}"))
                        );
                    }
                    Rvalue::CallClosure { closure, args } => {
                        check_op(closure);
                        args.iter().for_each(check_op);
                    }
                    Rvalue::MakeClosure { func, captures } => {
                        captures.iter().for_each(check_op);
                        let g = funcs
                            .get(func.as_str())
                            .unwrap_or_else(|| panic!("{}", ctx(&format!("closure {func}"))));
                        assert!(g.is_closure);
                    }
                    Rvalue::EnvLoad(_) => {
                        assert!(f.is_closure, "{}", ctx("EnvLoad outside a closure"))
                    }
                    Rvalue::MakeCtor { fields, .. } | Rvalue::MakeRecord(fields) => {
                        fields.iter().for_each(check_op)
                    }
                }
            }
            if tail.is_some() {
                assert!(
                    checked,
                    "{}",
                    ctx("a tail call without a safepoint before it")
                );
            }
            match &b.term {
                Terminator::Return(o) => check_op(o),
                Terminator::TailCall(Rvalue::Call { func, args }) => {
                    args.iter().for_each(check_op);
                    let g = funcs
                        .get(func.as_str())
                        .unwrap_or_else(|| panic!("{}", ctx(&format!("tail call {func}"))));
                    assert!(!g.is_closure);
                    assert_eq!(g.params as usize, args.len());
                }
                Terminator::TailCall(Rvalue::CallClosure { closure, args }) => {
                    check_op(closure);
                    args.iter().for_each(check_op);
                }
                Terminator::TailCall(_) => {}
                Terminator::Jump(t) => assert!(t.0 < nblocks),
                Terminator::Branch { cond, then, else_ } => {
                    check_op(cond);
                    assert!(then.0 < nblocks && else_.0 < nblocks);
                }
                Terminator::Switch {
                    value,
                    cases,
                    default,
                } => {
                    check_op(value);
                    assert!(default.0 < nblocks && cases.iter().all(|c| c.1 .0 < nblocks));
                }
                Terminator::Panic { .. } => {}
                Terminator::PanicWith { message, .. } => check_op(message),
                Terminator::Unreachable => panic!("{}", ctx("Unreachable left in the program")),
            }
        }
    }
}
