//! Real Snow programs parsed, checked and lowered; the MIR text is snapshotted
//! (review with `INSTA_UPDATE=always cargo test -p snowc_mir` and reading the
//! `.snap` files), and where the program only uses runtime services the test
//! interpreter knows, its result is checked too.

mod common;

use common::interp::Interp;
use common::source::lower_src;
use snowc_mir::mir::{BlockId, Program, Stmt, Terminator};
use snowc_syntax::SourceMap;

/// Runs `main` and returns what it printed.
fn run(p: &Program) -> String {
    let mut it = Interp::new(p);
    it.run("main", vec![])
        .unwrap_or_else(|e| panic!("panic {e:?}\n{p}"));
    it.out
}

#[test]
fn hello() {
    let p = lower_src("fn main() do\n  println(\"hi\")\nend\n");
    insta::assert_snapshot!(p.to_string());
    assert_eq!(run(&p), "hi\n");
}

const SHAPES: &str = r#"type Shape do
  Circle(Int)
  Rect(Int, Int)
  Empty
end

fn area(shape :: Shape) -> Int do
  case shape do
    Circle(r) -> 3 * r * r
    Rect(w, h) -> w * h
    Empty -> 0
  end
end

fn describe(shape) do
  case shape do
    Circle(r) when r > 10 -> "a big circle"
    Circle(_) -> "a circle"
    Rect(w, h) when w == h -> "a square of side ${w}"
    Rect(w, h) -> "a ${w}x${h} rectangle"
    Empty -> "nothing"
  end
end

fn main() do
  let shapes = [Circle(2), Rect(3, 4), Rect(5, 5), Circle(11), Empty]
  for s in shapes do
    println("${describe(s)} has area ${area(s)}")
  end
  let total = shapes |> List.map(area) |> List.fold(0, fn(acc, a) -> acc + a end)
  println("total area: ${total}")
  let big = List.filter(shapes, fn(s) -> area(s) > 20 end)
  println("big shapes: ${List.length(big)}")
end
"#;

#[test]
fn shapes_patterns_pipes_closures_for() {
    let p = lower_src(SHAPES);
    insta::assert_snapshot!(p.to_string());
    assert_eq!(
        run(&p),
        "a circle has area 12\na 3x4 rectangle has area 12\na square of side 5 has area 25\n\
         a big circle has area 363\nnothing has area 0\ntotal area: 412\nbig shapes: 2\n"
    );
}

#[test]
fn tail_recursion_runs_in_constant_stack() {
    let src = "fn count(n :: Int, acc :: Int) -> Int do\n  if n == 0 do\n    acc\n  else\n    count(n - 1, acc + 1)\n  end\nend\n\n\
               fn main() do\n  println(\"${count(200000, 0)}\")\nend\n";
    let p = lower_src(src);
    insta::assert_snapshot!(p.to_string());
    let mut it = Interp::new(&p);
    it.run("main", vec![]).unwrap();
    assert_eq!(it.out, "200000\n");
    assert_eq!(it.max_depth, 2, "main -> count, and no deeper");
}

#[test]
fn closures_capture_and_nest() {
    let src = r#"fn adder(n :: Int) = fn(x) -> x + n end

fn main() do
  let base = 100
  let add10 = adder(10)
  let make = fn(a) -> fn(b) -> a + b + base end end
  let f = make(20)
  println("${add10(1)} ${f(3)}")
  let shout = List.map(["a", "b"], String.to_upper)
  println(String.join(shout, ","))
end
"#;
    let p = lower_src(src);
    insta::assert_snapshot!(p.to_string());
    let names: Vec<_> = p.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"adder$closure0")
            && names.contains(&"main$closure0")
            && names.contains(&"main$closure1")
    );
    assert!(names.contains(&"String.to_upper$fn"), "{names:?}");
    assert_eq!(run(&p), "11 123\nA,B\n");
}

#[test]
fn strings_division_and_list_patterns() {
    let src = r#"fn classify(xs :: List<String>) -> String do
  case xs do
    [] -> "empty"
    ["/join", room] -> "join ${room}"
    [first | _] when first < "m" -> "early ${first}"
    _ -> "other"
  end
end

fn ratio(a :: Int, b :: Int) -> Int = a / b % 7

fn main() do
  println(classify([]))
  println(classify(["/join", "lobby"]))
  println(classify(["apple", "x"]))
  println(classify(["zebra"]))
  println("${ratio(100, 3)} ${1.5 * 2.0} ${true and not false} ${"a" != "b"}")
end
"#;
    let p = lower_src(src);
    insta::assert_snapshot!(p.to_string());
    assert_eq!(
        run(&p),
        "empty\njoin lobby\nearly apple\nother\n5 3.0 true true\n"
    );
}

#[test]
fn ws_server_with_rooms() {
    let src = r#"fn on_connect(conn :: Conn, path :: String, headers :: Map<String, String>) -> Bool do
  Ws.join(conn, "lobby")
  true
end

fn main() do
  let greeting = "hello"
  Ws.serve(on_connect, fn(conn, msg) -> Ws.broadcast("lobby", "${greeting}: ${msg}") end, fn(conn, code, reason) -> nil end, 8080)
end
"#;
    let p = lower_src(src);
    insta::assert_snapshot!(p.to_string());
    let syms: Vec<_> = p.externs.iter().map(|e| e.symbol.as_str()).collect();
    assert!(
        syms.contains(&"snow_ws_join") && syms.contains(&"snow_ws_serve"),
        "{syms:?}"
    );
}

#[test]
fn float_arithmetic_and_remainder() {
    let src = "fn main() do\n  let x = 7.5\n  println(\"${x % 2.0} ${-x / 2.0} ${x > 1.0} ${7 % -1}\")\nend\n";
    let p = lower_src(src);
    assert_eq!(run(&p), "1.5 -3.75 true 0\n");
    let text = p.to_string();
    assert!(
        text.contains("call_extern snow_float_rem(") && text.contains("float_neg"),
        "{text}"
    );
}

/// Every example program of the repository that type-checks lowers to valid MIR.
#[test]
fn repository_examples_lower_to_valid_mir() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    let mut lowered = 0;
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "snow"))
    {
        let src = std::fs::read_to_string(path).unwrap();
        let mut sm = SourceMap::default();
        let file = sm.add(path.file_name().unwrap().to_string_lossy(), src.as_str());
        let (module, diags) = snowc_syntax::parse(file, &src);
        if !diags.is_empty() {
            continue;
        }
        let (tp, d) = snowc_types::check(&mut sm, file, &module);
        if !snowc_syntax::has_errors(&d) {
            let p = snowc_mir::lower(&tp, &sm);
            common::validate::validate(&p);
            assert_eq!(snowc_mir::lower(&tp, &sm).to_string(), p.to_string());
            lowered += 1;
        }
    }
    assert!(lowered > 0, "no example of {dir} type-checked");
}

/// Loops free nothing themselves (the collector does, docs/ABI.md "Memory"):
/// a self tail call is a safepoint and a jump back to the loop header, for
/// a loop carrying scalars or pointers alike.
#[test]
fn loops_are_a_safepoint_and_a_jump() {
    let p = lower_src(
        r#"
fn run(n :: Int, total :: Int) -> Int = if n == 0 do total else run(n - 1, total + String.length("x${n}")) end
fn walk(xs :: List<Int>, total :: Int) -> Int do
  case xs do
    [] -> total
    [h | t] -> walk(t, total + String.length("${h}"))
  end
end
fn main() = println("${run(5, 0)} ${walk([1, 22], 0)}")
"#,
    );
    let text = p.to_string();
    assert!(!text.contains("snow_region"), "{text}");
    for name in ["run", "walk"] {
        let f = p.functions.iter().find(|f| f.name == name).unwrap();
        let back: Vec<_> = f
            .blocks
            .iter()
            .filter(|b| b.term == Terminator::Jump(BlockId(1)) && b.id != BlockId(0))
            .collect();
        assert_eq!(back.len(), 1, "{text}");
        assert!(
            matches!(back[0].stmts.last(), Some(Stmt::Check { .. })),
            "{name}: the back edge ends with a safepoint\n{text}"
        );
    }
    assert_eq!(run(&p), "10 3\n");
}

#[test]
fn mutual_and_closure_tail_calls_do_not_nest() {
    // even/odd call each other in tail position; `apply` tail-calls a closure
    // that tail-calls back into `apply`: every one is a TailCall, so the
    // interpreter (which runs a TailCall in place of its caller, as musttail
    // does) never nests deeper than main -> println argument.
    let src = "fn even(n :: Int) -> Bool = if n == 0 do true else odd(n - 1) end\n\
               fn odd(n :: Int) -> Bool = if n == 0 do false else even(n - 1) end\n\
               fn apply(f :: Fun(Int) -> Int, n :: Int) -> Int = f(n)\n\
               fn down(n :: Int) -> Int = if n == 0 do 7 else apply(fn(m) -> down(m - 1) end, n) end\n\
               fn main() do\n  println(\"${even(100001)} ${down(50000)}\")\nend\n";
    let p = lower_src(src);
    insta::assert_snapshot!(p.to_string());
    let mut it = Interp::new(&p);
    it.run("main", vec![]).unwrap();
    assert_eq!(it.out, "false 7\n");
    assert_eq!(it.max_depth, 2, "main -> even/down, and no deeper");
    assert!(
        it.checks > 150_000,
        "a safepoint per call: {} checks",
        it.checks
    );
}
