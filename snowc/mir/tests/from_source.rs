//! Lowering checked against Snow source: each test writes a small program,
//! checks the MIR's shape where it matters, and runs it in the MIR
//! interpreter. (`lower.rs` keeps the hand-built typed trees for what source
//! cannot express: malformed input, and arms the checker would reject.)

mod common;

use common::interp::{Interp, Obj, Panic};
use common::source::{lower_src, lower_src_with};
use snowc_mir::mir::{Function, Operand, PrimOp, Program, Rvalue, Stmt, Terminator, Var};

fn func<'a>(p: &'a Program, name: &str) -> &'a Function {
    p.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name} in\n{p}"))
}

/// Every call and computation of `f`, tail calls included.
fn rvalues(f: &Function) -> Vec<&Rvalue> {
    f.blocks
        .iter()
        .flat_map(|b| {
            let tail = match &b.term {
                Terminator::TailCall(rv) => Some(rv),
                _ => None,
            };
            b.stmts
                .iter()
                .filter_map(|s| match s {
                    Stmt::Assign(_, rv) | Stmt::Eval(rv) => Some(rv),
                    Stmt::Check { .. } => None,
                })
                .chain(tail)
        })
        .collect()
}

fn extern_calls(f: &Function, symbol: &str) -> Vec<Vec<Operand>> {
    rvalues(f)
        .into_iter()
        .filter_map(|rv| match rv {
            Rvalue::CallExtern { symbol: s, args } if s == symbol => Some(args.clone()),
            _ => None,
        })
        .collect()
}

/// The program's externs with their arities.
fn externs(p: &Program) -> Vec<(&str, u32)> {
    p.externs
        .iter()
        .map(|e| (e.symbol.as_str(), e.arity))
        .collect()
}

#[test]
fn case_on_nested_options_with_guard() {
    let p = lower_src(
        r#"
fn f(o :: Option<Option<Int>>) -> Int do
  case o do
    Some(Some(n)) when n > 0 -> n
    Some(Some(_)) -> -1
    Some(None) -> -2
    None -> -3
  end
end

fn t1() = f(Some(Some(5)))
fn t2() = f(Some(Some(0)))
fn t3() = f(Some(None))
fn t4() = f(None)
fn main() do
end
"#,
    );
    let text = p.to_string();
    assert!(
        text.contains("get_tag") && text.contains("get_field %0, 0"),
        "{text}"
    );
    assert!(
        text.contains("make_ctor#0(") && text.contains("ctor#1"),
        "{text}"
    );
    let mut it = Interp::new(&p);
    assert_eq!(it.run("t1", vec![]), Ok(5));
    assert_eq!(it.run("t2", vec![]), Ok(-1));
    assert_eq!(it.run("t3", vec![]), Ok(-2));
    assert_eq!(it.run("t4", vec![]), Ok(-3));
}

#[test]
fn case_on_literals() {
    let p = lower_src(
        r#"
fn s(x :: String) -> Int do
  case x do
    "a" -> 1
    "b" -> 2
    _ -> 3
  end
end

fn i(n :: Int) -> Bool do
  case n do
    42 -> true
    _ -> false
  end
end

fn main() do
end
"#,
    );
    assert_eq!(extern_calls(func(&p, "s"), "snow_string_eq").len(), 2);
    let mut it = Interp::new(&p);
    for (s, want) in [("a", 1), ("b", 2), ("c", 3)] {
        let w = it.alloc(Obj::Str(s.into()));
        assert_eq!(it.run("s", vec![w]), Ok(want));
    }
    assert_eq!(it.run("i", vec![42]), Ok(1));
    assert_eq!(it.run("i", vec![41]), Ok(0));
}

#[test]
fn string_comparisons_call_the_runtime() {
    let p = lower_src(
        r#"
fn eq(a :: String, b :: String) = a == b
fn ne(a :: String, b :: String) = a != b
fn lt(a :: String, b :: String) = a < b
fn ge(a :: String, b :: String) = a >= b
fn main() do
end
"#,
    );
    assert_eq!(
        extern_calls(func(&p, "eq"), "snow_string_eq"),
        vec![vec![Operand::Var(Var(0)), Operand::Var(Var(1))]]
    );
    assert!(rvalues(func(&p, "ne"))
        .iter()
        .any(|rv| matches!(rv, Rvalue::Prim(PrimOp::Not, _))));
    assert!(rvalues(func(&p, "lt"))
        .iter()
        .any(|rv| matches!(rv, Rvalue::Prim(PrimOp::IntLt, a) if a[1] == Operand::Const(0))));
    assert_eq!(externs(&p), [("snow_string_cmp", 2), ("snow_string_eq", 2)]);
    let mut it = Interp::new(&p);
    let (x, y) = (
        it.alloc(Obj::Str("abc".into())),
        it.alloc(Obj::Str("abd".into())),
    );
    let x2 = it.alloc(Obj::Str("abc".into()));
    assert_eq!(it.run("eq", vec![x, x2]), Ok(1));
    assert_eq!(it.run("eq", vec![x, y]), Ok(0));
    assert_eq!(it.run("ne", vec![x, y]), Ok(1));
    assert_eq!(it.run("lt", vec![x, y]), Ok(1));
    assert_eq!(it.run("ge", vec![x, y]), Ok(0));
    assert_eq!(it.run("ge", vec![x, x2]), Ok(1));
}

#[test]
fn integer_division_is_checked() {
    let p = lower_src(
        r#"fn d(a :: Int, b :: Int) -> Int do
  a / b
end

fn r(a :: Int, b :: Int) -> Int = a % b
fn by3(a :: Int) -> Int = a / 3
fn main() do
end
"#,
    );
    let mut it = Interp::new(&p);
    assert_eq!(it.run("d", vec![7, 2]), Ok(3));
    assert_eq!(it.run("d", vec![-7, 2]), Ok(-3));
    assert_eq!(it.run("d", vec![i64::MIN, -1]), Ok(i64::MIN));
    assert_eq!(it.run("d", vec![5, -1]), Ok(-5));
    assert_eq!(
        it.run("d", vec![5, 0]),
        Err(Panic {
            message: "division by zero".into(),
            file: None,
            line: 2,
            col: 3
        })
    );
    assert_eq!(it.run("r", vec![7, 3]), Ok(1));
    assert_eq!(it.run("r", vec![i64::MIN, -1]), Ok(0));
    assert!(it.run("r", vec![7, 0]).is_err());
    assert_eq!(it.run("by3", vec![10]), Ok(3));
    // A constant divisor other than 0 and -1 needs no check.
    let f = func(&p, "by3");
    assert!(f
        .blocks
        .iter()
        .all(|b| !matches!(b.term, Terminator::Panic { .. } | Terminator::Branch { .. })));
}

#[test]
fn and_or_short_circuit() {
    // The right operand would divide by zero: it must not run.
    let p = lower_src(
        r#"
fn a(x :: Int) = false and 1 / x == 0
fn o(x :: Int) = true or 1 / x == 0
fn a2(x :: Int) = true and 1 / x == 0
fn n(x :: Bool) = not x
fn main() do
end
"#,
    );
    let mut it = Interp::new(&p);
    assert_eq!(it.run("a", vec![0]), Ok(0));
    assert_eq!(it.run("o", vec![0]), Ok(1));
    assert!(it.run("a2", vec![0]).is_err());
    assert_eq!(it.run("a2", vec![2]), Ok(1));
    assert_eq!(it.run("n", vec![1]), Ok(0));
}

#[test]
fn for_loop_and_list_literal() {
    let p = lower_src("fn doubled() = for x in [1, 2, 3] do x * 2 end\nfn main() do\nend\n");
    assert_eq!(
        externs(&p),
        [("snow_list_cons", 2), ("snow_list_reverse", 2)]
    );
    let mut it = Interp::new(&p);
    let r = it.run("doubled", vec![]).unwrap();
    assert_eq!(it.list(r), vec![2, 4, 6]);
}

#[test]
fn interpolation_converts_each_part() {
    let p = lower_src(
        r#"
fn s(n :: Int) = "n=${n} f=${1.5} b=${true}"
fn one() = "${"only"}"
fn main() do
end
"#,
    );
    // An interpolation of one String part is that String, no concatenation.
    assert_eq!(
        func(&p, "one").blocks[1].term,
        Terminator::Return(Operand::Str("only".into()))
    );
    let mut it = Interp::new(&p);
    let r = it.run("s", vec![-4]).unwrap();
    assert_eq!(it.string(r), "n=-4 f=1.5 b=true");
}

#[test]
fn generic_extern_gets_type_descriptors_and_extern_values_get_a_wrapper() {
    let p = lower_src(
        r#"
fn f(xs :: List<String>) -> Bool do
  let _a = Ws.send
  let _b = Ws.send
  List.contains(xs, "x")
end
fn main() do
end
"#,
    );
    // `List.contains` has one type variable: the String descriptor (4) first.
    assert_eq!(
        extern_calls(func(&p, "f"), "snow_list_contains"),
        vec![vec![
            Operand::Const(4),
            Operand::Var(Var(0)),
            Operand::Str("x".into())
        ]]
    );
    assert_eq!(
        externs(&p),
        [("snow_list_contains", 3), ("snow_ws_send", 2)]
    );
    // One wrapper, used twice, forwarding its two parameters.
    assert_eq!(
        p.functions
            .iter()
            .filter(|f| f.name.starts_with("Ws.send$fn"))
            .count(),
        1
    );
    let w = func(&p, "Ws.send$fn");
    assert_eq!(w.params, 2);
    assert!(!w.is_closure);
    assert_eq!(
        extern_calls(w, "snow_ws_send"),
        vec![vec![Operand::Var(Var(0)), Operand::Var(Var(1))]]
    );
    let refs = rvalues(func(&p, "f"))
        .iter()
        .filter(|rv| matches!(rv, Rvalue::Use(Operand::FnRef(n)) if n == "Ws.send$fn"))
        .count();
    assert_eq!(refs, 2);
}

/// The line table (`Block::locs`, `term_loc`) of the debug information:
/// every statement and terminator made from source carries its line and
/// column; a statement of std code its std file's line.
#[test]
fn statements_carry_their_source_lines() {
    let p = lower_src(
        r#"fn f(a :: Int, b :: Int) -> Int do
  let s = a + b
  let q = s / b
  q * 2
end

fn main() do
  println("${f(1, 2)}")
end
"#,
    );
    for f in &p.functions {
        for b in &f.blocks {
            assert_eq!(b.locs.len(), b.stmts.len(), "{}: {}", f.name, b.id);
        }
    }
    let f = func(&p, "f");
    let line_of = |pred: &dyn Fn(&Rvalue) -> bool| -> Vec<u32> {
        f.blocks
            .iter()
            .flat_map(|b| b.stmts.iter().zip(&b.locs))
            .filter(|(s, _)| matches!(s, Stmt::Assign(_, rv) | Stmt::Eval(rv) if pred(rv)))
            .map(|(_, l)| l.line)
            .collect()
    };
    assert_eq!(
        line_of(&|rv| matches!(rv, Rvalue::Prim(PrimOp::IntAdd, _))),
        [2]
    );
    assert_eq!(
        line_of(&|rv| matches!(rv, Rvalue::Prim(PrimOp::IntMul, _))),
        [4]
    );
    let panic = f
        .blocks
        .iter()
        .find(|b| matches!(b.term, Terminator::Panic { .. }))
        .expect("a division check");
    assert_eq!((panic.term_loc.line, panic.term_loc.col), (3, 11));
    let ret = f
        .blocks
        .iter()
        .find(|b| matches!(b.term, Terminator::Return(_)))
        .expect("a return");
    assert_eq!(ret.term_loc.line, 4);
    // Every statement of `f` and `main` comes from their lines.
    for (name, lines) in [("f", 1..=5), ("main", 7..=9)] {
        for b in &func(&p, name).blocks {
            for l in b.locs.iter().chain([&b.term_loc]) {
                assert!(lines.contains(&l.line), "{name} {}: {l:?}", b.id);
            }
        }
    }
}

/// A panic in std code names the std file, not the program's: its line is
/// the std file's (here the fallback of `List.head`'s `case`, which only the
/// arm-by-arm lowering emits: the decision tree knows `[]` and `[h | t]`
/// cover a list and has no fallback there).
#[test]
fn a_panic_in_std_code_names_the_std_file() {
    let arm_by_arm = snowc_mir::Options { arm_by_arm: true };
    let p = lower_src_with(
        &arm_by_arm,
        r#"fn main() do
  case List.head([1]) do
    Some(x) -> println("${x}")
    None -> println("none")
  end
end
"#,
    );
    let head = func(&p, "List.head");
    assert_eq!(head.pos.file.as_deref(), Some("std/list.snow"));
    let std_text = include_str!("../../../std/list.snow");
    let fn_line = std_text
        .lines()
        .position(|l| l.starts_with("pub fn head("))
        .expect("List.head in std/list.snow") as u32
        + 1;
    let panics: Vec<_> = head
        .blocks
        .iter()
        .filter_map(|b| match &b.term {
            Terminator::Panic {
                file, line, col, ..
            } => Some((file.clone(), *line, *col)),
            _ => None,
        })
        .collect();
    // `case xs do` is the line after `pub fn head(...) do`, indented by 2.
    assert_eq!(
        panics,
        [(Some("std/list.snow".to_string()), fn_line + 1, 3)]
    );
    // Its line table is in std/list.snow's lines too.
    for b in &head.blocks {
        for l in b.locs.iter().chain([&b.term_loc]) {
            assert!((fn_line..fn_line + 6).contains(&l.line), "{}: {l:?}", b.id);
        }
    }
}
