//! `case` compiled to a decision tree (src/lower/decision.rs): the tree's
//! shape (one switch per tested value, bodies never duplicated, the size
//! budget's fallback) and its semantics. Every program here is lowered both
//! as a decision tree and arm by arm (`Options::arm_by_arm`, the previous
//! lowering), and both are run in the MIR interpreter on every input of a
//! small exhaustive set: they must agree, and the tricky orderings (guards
//! falling through to later arms, overlapping nested patterns, literals
//! mixed with wildcards) are also checked against written-out answers.

mod common;

use common::interp::{Interp, Obj, Panic};
use common::validate::validate;
use snowc_mir::mir::{Function, Operand, Program, Rvalue, Stmt, Terminator};
use snowc_mir::{lower_with, Options};
use snowc_syntax::SourceMap;

/// `src` lowered as a decision tree and arm by arm, both validated.
fn lower_both(src: &str) -> (Program, Program) {
    let mut sm = SourceMap::default();
    let file = sm.add("test.snow", src);
    let (module, diags) = snowc_syntax::parse(file, src);
    assert!(diags.is_empty(), "parse errors: {diags:?}");
    let (tp, d) = snowc_types::check(&mut sm, file, &module);
    assert!(!snowc_syntax::has_errors(&d), "type errors: {d:?}");
    let tree = lower_with(&tp, &sm, &Options { arm_by_arm: false });
    let arms = lower_with(&tp, &sm, &Options { arm_by_arm: true });
    validate(&tree);
    validate(&arms);
    assert_eq!(
        lower_with(&tp, &sm, &Options::default()).to_string(),
        tree.to_string(),
        "deterministic"
    );
    (tree, arms)
}

fn func<'a>(p: &'a Program, name: &str) -> &'a Function {
    p.functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name} in\n{p}"))
}

fn rvalues(f: &Function) -> impl Iterator<Item = &Rvalue> {
    f.blocks.iter().flat_map(|b| {
        b.stmts.iter().filter_map(|s| match s {
            Stmt::Assign(_, rv) | Stmt::Eval(rv) => Some(rv),
            Stmt::Check { .. } => None,
        })
    })
}

fn switches(f: &Function) -> Vec<&Terminator> {
    f.blocks
        .iter()
        .map(|b| &b.term)
        .filter(|t| matches!(t, Terminator::Switch { .. }))
        .collect()
}

/// A value of the test's types, built in the interpreter's heap.
#[derive(Clone, Debug)]
enum V {
    Int(i64),
    Bool(bool),
    Str(&'static str),
    Ctor(u32, Vec<V>),
    List(Vec<V>),
}

fn alloc(it: &mut Interp, v: &V) -> i64 {
    match v {
        V::Int(n) => *n,
        V::Bool(b) => *b as i64,
        V::Str(s) => it.alloc(Obj::Str(s.to_string())),
        V::Ctor(tag, fields) => {
            let f = fields.iter().map(|x| alloc(it, x)).collect();
            it.alloc(Obj::Ctor(*tag as i64, f))
        }
        V::List(items) => {
            let mut acc = 0;
            for x in items.iter().rev() {
                let h = alloc(it, x);
                acc = it.alloc(Obj::Cell(h, acc));
            }
            acc
        }
    }
}

/// Runs `name` on `args` in both programs; they must agree. Returns the
/// decision tree's result.
fn run_both(tree: &Program, arms: &Program, name: &str, args: &[V]) -> Result<i64, Panic> {
    let mut a = Interp::new(tree);
    let wa: Vec<i64> = args.iter().map(|v| alloc(&mut a, v)).collect();
    let ra = a.run(name, wa);
    let mut b = Interp::new(arms);
    let wb: Vec<i64> = args.iter().map(|v| alloc(&mut b, v)).collect();
    let rb = b.run(name, wb);
    assert_eq!(
        ra, rb,
        "{name}{args:?}: decision tree and arm-by-arm differ"
    );
    ra
}

/// Every value of `T` (below) up to depth 3 with the given Int fields.
fn t_values(depth: u32, ints: &[i64]) -> Vec<V> {
    // type T do A; B(Int); C(Int, Int); D(T) end: tags 0..3.
    let mut out = vec![V::Ctor(0, vec![])];
    for &i in ints {
        out.push(V::Ctor(1, vec![V::Int(i)]));
        for &j in ints {
            out.push(V::Ctor(2, vec![V::Int(i), V::Int(j)]));
        }
    }
    if depth > 1 {
        for v in t_values(depth - 1, ints) {
            out.push(V::Ctor(3, vec![v]));
        }
    }
    out
}

const T: &str = "type T do\n  A\n  B(Int)\n  C(Int, Int)\n  D(T)\nend\n";

#[test]
fn guards_fall_through_to_later_arms_across_constructors() {
    let src = format!(
        "{T}
fn f(t :: T, n :: Int) -> Int do
  case t do
    B(x) when x > n -> 100 + x
    C(0, y) when y == n -> 200 + y
    D(B(x)) -> 300 + x
    C(x, 0) -> 400 + x
    B(_) when n == 0 -> 5
    D(D(_)) -> 6
    C(_, y) when y > 5 -> 700 + y
    A when n > 1 -> 8
    D(_) -> 9
    z -> case z do
      A -> 10
      _ -> 11
    end
  end
end

fn main() do
end
"
    );
    let (tree, arms) = lower_both(&src);
    let ints = [-1, 0, 1, 6];
    for t in t_values(3, &ints) {
        for n in [-1, 0, 1, 2, 6] {
            run_both(&tree, &arms, "f", &[t.clone(), V::Int(n)]).unwrap();
        }
    }
    let f = |t: V, n: i64| run_both(&tree, &arms, "f", &[t, V::Int(n)]).unwrap();
    let b = |x| V::Ctor(1, vec![V::Int(x)]);
    let c = |x, y| V::Ctor(2, vec![V::Int(x), V::Int(y)]);
    let d = |t| V::Ctor(3, vec![t]);
    assert_eq!(f(b(6), 1), 106);
    // The guard fails: not the next B arm (its guard fails too) but the last.
    assert_eq!(f(b(1), 1), 11);
    assert_eq!(f(b(1), 0), 101);
    assert_eq!(f(b(-1), 0), 5);
    // C(0, 0): the first C arm's guard fails at n = 1, C(x, 0) takes it.
    assert_eq!(f(c(0, 0), 0), 200);
    assert_eq!(f(c(0, 0), 1), 400);
    assert_eq!(f(c(0, 6), 1), 706);
    assert_eq!(f(c(1, 1), 1), 11);
    assert_eq!(f(d(b(-1)), 0), 299);
    assert_eq!(f(d(d(V::Ctor(0, vec![]))), 0), 6);
    assert_eq!(f(d(c(0, 0)), 0), 9);
    assert_eq!(f(V::Ctor(0, vec![]), 2), 8);
    assert_eq!(f(V::Ctor(0, vec![]), 1), 10);
    // One switch on the outer tag (the inner `case z` has its own).
    let ff = func(&tree, "f");
    let tags = rvalues(ff)
        .filter(|rv| matches!(rv, Rvalue::GetTag(Operand::Var(v)) if v.0 == 0))
        .count();
    assert_eq!(tags, 1, "{ff}");
}

#[test]
fn overlapping_nested_patterns_take_the_first_match() {
    let src = "type Pair<a, b> do\n  Pair(a, b)\nend\n
fn k(p :: Pair<Bool, Option<Int>>, g :: Bool) -> Int do
  case p do
    Pair(true, Some(1)) -> 1
    Pair(_, None) when g -> 2
    Pair(false, Some(n)) when n > 0 -> 30 + n
    Pair(true, _) -> 4
    Pair(b, Some(0)) when b == g -> 5
    Pair(false, Some(_)) -> 6
    Pair(_, None) -> 7
  end
end

fn main() do
end
";
    let (tree, arms) = lower_both(src);
    // Option: Some is tag 0, None tag 1.
    let opts = [
        V::Ctor(1, vec![]),
        V::Ctor(0, vec![V::Int(0)]),
        V::Ctor(0, vec![V::Int(1)]),
        V::Ctor(0, vec![V::Int(2)]),
        V::Ctor(0, vec![V::Int(-3)]),
    ];
    let mut seen = Vec::new();
    for b in [false, true] {
        for o in &opts {
            for g in [false, true] {
                let p = V::Ctor(0, vec![V::Bool(b), o.clone()]);
                let r = run_both(&tree, &arms, "k", &[p, V::Bool(g)]).unwrap();
                seen.push(r);
            }
        }
    }
    // b = false: None (g false, true), Some(0) (g false, true), Some(1) ..
    assert_eq!(
        seen,
        [
            7, 2, 5, 6, 31, 31, 32, 32, 6, 6, // b = false
            4, 2, 4, 4, 1, 1, 4, 4, 4, 4, // b = true
        ]
    );
}

#[test]
fn literals_mixed_with_wildcards_and_guards() {
    let src = r#"
fn h(n :: Int, b :: Bool) -> Int do
  case n do
    0 -> 0
    1 when b -> 1
    k when k > 100 -> 2
    1 -> 3
    -5 -> 4
    2 -> 5
    200 -> 6
    0 -> 7
    _ -> 8
  end
end

fn s(x :: String, b :: Bool) -> Int do
  case x do
    "ab" -> 1
    "" -> 2
    "cd" when b -> 3
    y when y == "zz" -> 4
    "cd" -> 5
    "abc" -> 6
    "é" -> 7
    _ -> 8
  end
end

fn l(xs :: List<String>, g :: Bool) -> Int do
  case xs do
    [] -> 0
    ["a"] -> 1
    ["a", b] when b == "x" -> 2
    [_, "bb"] -> 3
    ["ab" | _] when g -> 4
    [x, y | _] when x == y -> 5
    ["", _] -> 6
    [_, _, _ | _] -> 7
    _ -> 8
  end
end

fn main() do
end
"#;
    let (tree, arms) = lower_both(src);
    let h = |n, b| run_both(&tree, &arms, "h", &[V::Int(n), V::Bool(b)]).unwrap();
    let want = [
        (0, false, 0),
        (1, true, 1),
        (1, false, 3),
        (101, false, 2),
        (200, true, 2),
        (-5, true, 4),
        (2, false, 5),
        (3, false, 8),
        (-100, true, 8),
    ];
    for (n, b, w) in want {
        assert_eq!(h(n, b), w, "h({n}, {b})");
    }
    let s = |x, b| run_both(&tree, &arms, "s", &[V::Str(x), V::Bool(b)]).unwrap();
    let want = [
        ("ab", false, 1),
        ("", true, 2),
        ("cd", true, 3),
        ("cd", false, 5),
        ("zz", true, 4),
        ("abc", false, 6),
        ("é", false, 7),
        ("e", false, 8),
        ("ac", false, 8),
        ("abd", true, 8),
    ];
    for (x, b, w) in want {
        assert_eq!(s(x, b), w, "s({x:?}, {b})");
    }
    let strs = ["a", "x", "bb", "ab", ""];
    let mut lists = vec![vec![]];
    for a in strs {
        lists.push(vec![V::Str(a)]);
        for b in strs {
            lists.push(vec![V::Str(a), V::Str(b)]);
            lists.push(vec![V::Str(a), V::Str(b), V::Str("a")]);
        }
    }
    for xs in lists {
        for g in [false, true] {
            run_both(&tree, &arms, "l", &[V::List(xs.clone()), V::Bool(g)]).unwrap();
        }
    }
    let l = |xs: &[&'static str], g| {
        let xs = xs.iter().map(|s| V::Str(s)).collect();
        run_both(&tree, &arms, "l", &[V::List(xs), V::Bool(g)]).unwrap()
    };
    assert_eq!(l(&[], false), 0);
    assert_eq!(l(&["a"], false), 1);
    assert_eq!(l(&["a", "x"], false), 2);
    assert_eq!(l(&["a", "bb"], false), 3);
    assert_eq!(l(&["ab", "ab"], true), 4);
    assert_eq!(l(&["ab", "ab"], false), 5);
    assert_eq!(l(&["", "a"], false), 6);
    assert_eq!(l(&["", ""], false), 5);
    assert_eq!(l(&["x", "y", "z"], false), 7);
    assert_eq!(l(&["x"], false), 8);
    // Int literals: one switch on n itself.
    let hf = func(&tree, "h");
    let sw = switches(hf);
    assert_eq!(sw.len(), 1, "{hf}");
    assert!(
        matches!(sw[0], Terminator::Switch { value: Operand::Var(v), cases, .. }
        if v.0 == 0 && cases.len() == 5),
        "{hf}"
    );
}

#[test]
fn wide_constructor_case_is_one_switch_and_bodies_are_not_duplicated() {
    let variants: Vec<String> = (0..12).map(|i| format!("V{i}(Int)")).collect();
    let arms: Vec<String> = (0..12).map(|i| format!("    V{i}(x) -> x + {i}")).collect();
    let src = format!(
        "type W do\n  {}\nend\n
fn w(v :: W) -> Int do
  case v do
{}
  end
end

fn shared(v :: W, g :: Bool) -> Int do
  case v do
    V0(1) -> 1
    V1(_) when g -> 2
    V0(_) -> 3
    _ -> shared_body(99)
  end
end

fn shared_body(n :: Int) -> Int = n

fn main() do
end
",
        variants.join("\n  "),
        arms.join("\n")
    );
    let (tree, arms) = lower_both(&src);
    let w = func(&tree, "w");
    let sw = switches(w);
    assert_eq!(sw.len(), 1, "{w}");
    assert!(matches!(sw[0], Terminator::Switch { cases, .. } if cases.len() == 12));
    assert_eq!(
        rvalues(w)
            .filter(|rv| matches!(rv, Rvalue::GetTag(_)))
            .count(),
        1
    );
    // No block tests anything else: one switch, then the bodies.
    assert!(
        !w.blocks
            .iter()
            .any(|b| matches!(b.term, Terminator::Branch { .. })),
        "{w}"
    );
    for i in 0..12u32 {
        let v = V::Ctor(i, vec![V::Int(10)]);
        assert_eq!(run_both(&tree, &arms, "w", &[v]), Ok(10 + i as i64));
    }
    // The last arm is reached from two leaves (V1 with a failed guard, any
    // other tag): its body is emitted once.
    let s = func(&tree, "shared");
    let calls = rvalues(s)
        .filter(|rv| matches!(rv, Rvalue::Call { func, .. } if func == "shared_body"))
        .count()
        + s.blocks
            .iter()
            .filter(|b| matches!(&b.term, Terminator::TailCall(Rvalue::Call { func, .. }) if func == "shared_body"))
            .count();
    assert_eq!(calls, 1, "{s}");
    for (v, g, want) in [
        (V::Ctor(0, vec![V::Int(1)]), false, 1),
        (V::Ctor(0, vec![V::Int(2)]), false, 3),
        (V::Ctor(1, vec![V::Int(2)]), true, 2),
        (V::Ctor(1, vec![V::Int(2)]), false, 99),
        (V::Ctor(5, vec![V::Int(2)]), true, 99),
    ] {
        assert_eq!(run_both(&tree, &arms, "shared", &[v, V::Bool(g)]), Ok(want));
    }
}

#[test]
fn string_case_switches_on_the_length_once() {
    let words = [
        "join", "leave", "send", "list", "nick", "me", "quit", "ping",
    ];
    let arms: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| format!("    \"{w}\" -> {i}"))
        .collect();
    let src = format!(
        "fn cmd(s :: String) -> Int do\n  case s do\n{}\n    _ -> -1\n  end\nend\n\nfn main() do\nend\n",
        arms.join("\n")
    );
    let (tree, arms) = lower_both(&src);
    let f = func(&tree, "cmd");
    assert_eq!(
        rvalues(f)
            .filter(|rv| matches!(rv, Rvalue::StrLen(_)))
            .count(),
        1,
        "{f}"
    );
    // Lengths 4, 5 and 2: one switch of three cases.
    let sw = switches(f);
    assert!(
        matches!(sw[..], [Terminator::Switch { cases, .. }] if cases.iter().map(|c| c.0).collect::<Vec<_>>() == [4, 5, 2]),
        "{f}"
    );
    // Each literal is compared once.
    let eqs = rvalues(f)
        .filter(|rv| matches!(rv, Rvalue::CallExtern { symbol, .. } if symbol == "snow_string_eq"))
        .count();
    assert_eq!(eqs, words.len());
    for (i, w) in words.iter().enumerate() {
        assert_eq!(run_both(&tree, &arms, "cmd", &[V::Str(w)]), Ok(i as i64));
    }
    for w in ["", "j", "joi", "joinx", "leavE", "mee"] {
        assert_eq!(run_both(&tree, &arms, "cmd", &[V::Str(w)]), Ok(-1));
    }
}

#[test]
fn a_case_whose_tree_would_blow_up_is_compiled_arm_by_arm() {
    // Catch-all rows with guards between constructor rows: every branch of
    // the tag switch keeps every guarded row, so the tree grows with the
    // square of the arms. Past the budget the `case` is compiled arm by arm.
    let k = 40;
    let variants: Vec<String> = (0..k).map(|i| format!("V{i}(Int)")).collect();
    let rows: Vec<String> = (0..k)
        .map(|i| format!("    _ when n == {i} -> {i}\n    V{i}(1) -> {}", 100 + i))
        .collect();
    let src = format!(
        "type W do\n  {}\nend\n
fn r(v :: W, n :: Int) -> Int do
  case v do
{}
    _ -> -1
  end
end

fn main() do
end
",
        variants.join("\n  "),
        rows.join("\n")
    );
    let (tree, arms) = lower_both(&src);
    let f = func(&tree, "r");
    assert_eq!(
        f.to_string(),
        func(&arms, "r").to_string(),
        "the fallback is the arm-by-arm lowering"
    );
    for (tag, x, n, want) in [
        (3, 1, 3, 3),
        (3, 1, 5, 103),
        (3, 0, 50, -1),
        (39, 1, 39, 39),
        (0, 1, 99, 100),
    ] {
        let v = V::Ctor(tag, vec![V::Int(x)]);
        assert_eq!(run_both(&tree, &arms, "r", &[v, V::Int(n)]), Ok(want));
    }
}

#[test]
fn float_literals_compare_as_float_eq_and_unit_needs_no_test() {
    // `0.0` and `-0.0` are equal (as `==` says): a value of either reaches
    // the first of the two arms whose guard holds, in arm order.
    let src = r#"
fn f(x :: Float, g :: Bool) -> Int do
  case x do
    0.0 when g -> 1
    -0.0 -> 2
    1.5 -> 3
    _ -> 4
  end
end

fn u(x :: (), b :: Bool) -> Int do
  case b do
    true -> case x do
      nil -> 1
    end
    false -> 0
  end
end

fn main() do
end
"#;
    let (tree, arms) = lower_both(src);
    let fl = |x: f64| V::Int(x.to_bits() as i64);
    for (x, g, want) in [
        (0.0, true, 1),
        (0.0, false, 2),
        (-0.0, true, 1),
        (-0.0, false, 2),
        (1.5, false, 3),
        (2.0, true, 4),
        (f64::NAN, true, 4),
    ] {
        assert_eq!(
            run_both(&tree, &arms, "f", &[fl(x), V::Bool(g)]),
            Ok(want),
            "f({x}, {g})"
        );
    }
    assert_eq!(
        run_both(&tree, &arms, "u", &[V::Int(0), V::Bool(true)]),
        Ok(1)
    );
    assert_eq!(
        run_both(&tree, &arms, "u", &[V::Int(0), V::Bool(false)]),
        Ok(0)
    );
    // The Bool is one branch on the value itself; `nil` tests nothing.
    let u = func(&tree, "u");
    assert!(rvalues(u).next().is_none(), "{u}");
}

#[test]
fn the_column_most_rows_test_is_tested_first() {
    // The first row tests both fields; the second field is tested by the
    // first two rows, the first field only by the first: the heuristic
    // (longest run of rows needing the column) tests the second first.
    let src = "type Pair<a, b> do\n  Pair(a, b)\nend\n
fn p(v :: Pair<Int, Int>) -> Int do
  case v do
    Pair(0, 1) -> 1
    Pair(_, 2) -> 2
    Pair(1, _) -> 3
    Pair(_, _) -> 4
  end
end

fn main() do
end
";
    let (tree, arms) = lower_both(src);
    let f = func(&tree, "p");
    let text = f.to_string();
    let (second, first) = (text.find("get_field %0, 1"), text.find("get_field %0, 0"));
    assert!(second.is_some() && first.is_some() && second < first, "{f}");
    for a in -1..3 {
        for b in -1..3 {
            let v = V::Ctor(0, vec![V::Int(a), V::Int(b)]);
            let want = match (a, b) {
                (0, 1) => 1,
                (_, 2) => 2,
                (1, _) => 3,
                _ => 4,
            };
            assert_eq!(run_both(&tree, &arms, "p", &[v]), Ok(want), "p({a}, {b})");
        }
    }
}
