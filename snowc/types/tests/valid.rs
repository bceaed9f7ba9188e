//! Valid programs: they check, and the inferred signatures are right.
mod common;
use common::*;
use snowc_types::tast::*;

#[test]
fn generic_function_used_at_two_types() {
    let s = sigs(
        r#"
fn id(x) = x
fn main() do
  let a = id(1)
  let b = id("s")
  println("${a} ${b}")
end
"#,
    );
    insta::assert_snapshot!(s, @r"
    fn id(x :: a) -> a
    fn main() -> ()
    extern println = snow_println/0
    ");
}

#[test]
fn arithmetic_defaults_to_int_and_floats_stay_floats() {
    let s = sigs(
        r#"
fn add(a, b) = a + b
fn half(x) = x / 2.0
fn neg(x) = -x
fn less(a, b) = a < b
fn greet(name) = "Hello, " <> name
fn main() do
  println(greet("x"))
  let _ = add(1, 2) + 1
  let _ = half(1.5) + 2.0
  let _ = neg(2) + 1
  let _ = less(1, 2)
end
"#,
    );
    insta::assert_snapshot!(s, @r"
    fn add(a :: Int, b :: Int) -> Int
    fn half(x :: Float) -> Float
    fn neg(x :: Int) -> Int
    fn less(a :: Int, b :: Int) -> Bool
    fn greet(name :: String) -> String
    fn main() -> ()
    extern println = snow_println/0
    ");
}

#[test]
fn mutual_recursion_in_any_order() {
    let s = sigs(
        r#"
fn main() do
  let _ = is_even(10)
end
fn is_even(n) = if n == 0 do true else is_odd(n - 1) end
fn is_odd(n) = if n == 0 do false else is_even(n - 1) end
"#,
    );
    insta::assert_snapshot!(s, @r"
    fn main() -> ()
    fn is_even(n :: Int) -> Bool
    fn is_odd(n :: Int) -> Bool
    ");
}

#[test]
fn sum_types_case_and_generic_user_types() {
    let s = sigs(
        r#"
type Shape do
  Circle(Int)
  Rect(Int, Int)
  Empty
end
type Pair<a, b> do Pair(a, b) end
fn area(s) do
  case s do
    Circle(r) -> 3 * r * r
    Rect(w, h) -> w * h
    Empty -> 0
  end
end
fn swap(p) = case p do Pair(a, b) -> Pair(b, a) end
fn first(p :: Pair<a, b>) -> a = case p do Pair(x, _) -> x end
fn main() do
  let shapes = [Circle(2), Rect(3, 4), Empty]
  let areas = for s in shapes do area(s) end
  let _ = swap(Pair(1, "x"))
  let _ = first(Pair("a", 2))
  println(String.join(List.map(areas, fn(a) -> Int.to_string(a) end), ", "))
end
"#,
    );
    insta::assert_snapshot!(s, @r"
    fn area(s :: Shape) -> Int
    fn swap(p :: Pair<a, b>) -> Pair<b, a>
    fn first(p :: Pair<a, b>) -> a
    fn main() -> ()
    fn List.map(xs :: List<a>, f :: Fun(a) -> b) -> List<b>
    fn List.map_rev(xs :: List<a>, f :: Fun(a) -> b, acc :: List<b>) -> List<b>
    extern Int.to_string = snow_int_to_string/0
    extern List.prepend = snow_list_prepend/1
    extern List.reverse = snow_list_reverse/1
    extern println = snow_println/0
    extern String.join = snow_string_join/0
    ");
}

#[test]
fn ws_serve_with_named_callbacks_and_closures() {
    let src = r#"
from Ws import join, broadcast
fn on_connect(conn, path, headers) do
  join(conn, "lobby")
  true
end
fn on_message(conn, text :: String) = broadcast("lobby", "${Ws.id(conn)}: ${text}")
fn main() do
  let greeting = "bye"
  Ws.serve(on_connect, on_message, fn(conn, code, reason) -> Ws.broadcast("lobby", greeting) end, 8080)
end
"#;
    let p = ok(src);
    insta::assert_snapshot!(snowc_types::print::signatures(&p), @r"
    fn on_connect(conn :: Conn, path :: a, headers :: b) -> Bool
    fn on_message(conn :: Conn, text :: String) -> Int
    fn main() -> ()
    extern Ws.broadcast = snow_ws_broadcast/0
    extern Ws.id = snow_ws_id/0
    extern Ws.join = snow_ws_join/0
    extern Ws.serve = snow_ws_serve/2
    ");
    // The closure captures `greeting` (local 0 of main); the call records the
    // extern's type arguments (a = Int from on_message, b = Int from the closure).
    let main = &p.functions[2];
    assert_eq!(main.local_names[0], "greeting");
    let TExprKind::Block(items) = &main.body.kind else {
        panic!()
    };
    let TExprKind::Call {
        callee: Callee::Extern { name, type_args },
        args,
    } = &items[1].kind
    else {
        panic!("{:?}", items[1])
    };
    assert_eq!(name, "Ws.serve");
    assert_eq!(type_args, &vec![Ty::Int, Ty::Int]);
    assert!(matches!(&args[0].kind, TExprKind::FnRef(n) if n == "on_connect"));
    let TExprKind::Lambda {
        captures, params, ..
    } = &args[2].kind
    else {
        panic!()
    };
    assert_eq!(captures, &vec![LocalId(0)]);
    assert_eq!(params.len(), 3);
}

#[test]
fn closures_lets_shadowing_and_calls_of_local_functions() {
    let p = ok(r#"
fn apply(f, x) = f(x)
fn main() do
  let n = 1
  let n = n + 1
  let add_n = fn(x) -> x + n end
  let twice = fn(f) do
    fn(x) -> f(f(x)) end
  end
  let r = twice(add_n)(3)
  let _ = apply(add_n, r)
  let _ = apply(fn(s) -> s <> "!" end, "hi")
end
"#);
    let sig = snowc_types::print::signatures(&p);
    insta::assert_snapshot!(sig, @r"
    fn apply(f :: Fun(a) -> b, x :: a) -> b
    fn main() -> ()
    ");
    let main = &p.functions[1];
    assert_eq!(&main.local_names[..4], &["n", "n", "x", "add_n"]);
    // add_n captures the second n (LocalId 1), not the first.
    let TExprKind::Block(items) = &main.body.kind else {
        panic!()
    };
    let TExprKind::Let { value, .. } = &items[2].kind else {
        panic!()
    };
    let TExprKind::Lambda { captures, .. } = &value.kind else {
        panic!()
    };
    assert_eq!(captures, &vec![LocalId(1)]);
    // The inner closure of twice captures f, which is twice's own parameter.
    let TExprKind::Let { value, .. } = &items[3].kind else {
        panic!()
    };
    let TExprKind::Lambda {
        params,
        body,
        captures,
    } = &value.kind
    else {
        panic!()
    };
    assert!(captures.is_empty());
    let f = params[0].0;
    let TExprKind::Block(inner) = &body.kind else {
        panic!("{body:?}")
    };
    let TExprKind::Lambda { captures, .. } = &inner[0].kind else {
        panic!()
    };
    assert_eq!(captures, &vec![f]);
    // Calling a local holding a function is a call of a value.
    let TExprKind::Let { value, .. } = &items[4].kind else {
        panic!()
    };
    assert!(matches!(
        &value.kind,
        TExprKind::Call {
            callee: Callee::Value(_),
            ..
        }
    ));
}

#[test]
fn literals_if_without_else_for_and_blocks() {
    let s = sigs(
        r#"
fn unit() = nil
fn empty() = []
fn block() do
end
fn side(x) do
  if x > 3 do
    42
  end
end
fn squares(xs) = for x in xs do x * x end
fn words() = String.split("a b", " ")
fn main() do
  let _ = squares([1, 2])
  let _ = empty()
  side(1)
  block()
  unit()
end
"#,
    );
    insta::assert_snapshot!(s, @r"
    fn unit() -> ()
    fn empty() -> List<a>
    fn block() -> ()
    fn side(x :: Int) -> ()
    fn squares(xs :: List<Int>) -> List<Int>
    fn words() -> List<String>
    fn main() -> ()
    extern String.split = snow_string_split/0
    ");
}

#[test]
fn patterns_lists_options_guards() {
    let s = sigs(
        r#"
fn sum(xs) do
  case xs do
    [] -> 0
    [h | t] -> h + sum(t)
  end
end
fn describe(o) do
  case o do
    Some(Some(x)) when x > 0 -> "positive"
    Some(Some(_)) -> "other"
    Some(None) -> "inner none"
    None -> "none"
  end
end
fn cmd(s) do
  case s do
    "join" -> 1
    "leave" -> 2
    _ -> 0
  end
end
fn flag(b) = case b do
  true -> 1
  false -> 0
end
fn res(r) = case r do
  Ok(v) -> v
  Err(e) -> String.length(e)
end
fn main() do
  let _ = sum([1])
  let _ = describe(Some(Some(1)))
  let _ = cmd("x") + flag(true) + res(Ok(1))
  let _ = case Int.parse("1") do
    Some(n) -> n
    None -> 0
  end
end
"#,
    );
    insta::assert_snapshot!(s, @r"
    fn sum(xs :: List<Int>) -> Int
    fn describe(o :: Option<Option<Int>>) -> String
    fn cmd(s :: String) -> Int
    fn flag(b :: Bool) -> Int
    fn res(r :: Result<Int, String>) -> Int
    fn main() -> ()
    extern Int.parse = snow_int_parse/0
    extern String.length = snow_string_length/0
    ");
}

#[test]
fn user_type_shadows_std_constructor_names() {
    let p = ok(r#"
type Maybe do
  Some(Int)
  Nothing
end
fn get(m) = case m do
  Some(n) -> n
  Nothing -> 0
end
fn main() do
  let _ = get(Some(3))
end
"#);
    insta::assert_snapshot!(snowc_types::print::signatures(&p), @r"
    fn get(m :: Maybe) -> Int
    fn main() -> ()
    ");
}

#[test]
fn extern_type_args_and_externs_as_values() {
    let p = ok(r#"
fn main() do
  let xs = ["a"]
  let _ = List.contains(xs, "a")
  let m = Map.put(Map.new(), "k", 1)
  let _ = Map.get(m, "k")
  let f = Int.to_string
  println(f(1))
end
"#);
    let main = &p.functions[0];
    let TExprKind::Block(items) = &main.body.kind else {
        panic!()
    };
    let TExprKind::Let { value, .. } = &items[1].kind else {
        panic!()
    };
    let TExprKind::Call {
        callee: Callee::Extern { type_args, .. },
        ..
    } = &value.kind
    else {
        panic!()
    };
    assert_eq!(type_args, &vec![Ty::String]);
    let TExprKind::Let { value, .. } = &items[3].kind else {
        panic!()
    };
    let TExprKind::Call {
        callee: Callee::Extern { type_args, .. },
        ..
    } = &value.kind
    else {
        panic!()
    };
    assert_eq!(type_args, &vec![Ty::String, Ty::Int]);
    let TExprKind::Let { value, .. } = &items[4].kind else {
        panic!()
    };
    assert!(matches!(&value.kind, TExprKind::ExternRef { name, .. } if name == "Int.to_string"));
    assert_eq!(value.ty, Ty::Fun(vec![Ty::Int], Box::new(Ty::String)));
}

#[test]
fn generic_extern_call_inside_generic_function_keeps_a_var() {
    let p = ok(r#"
fn has(xs, x) = List.contains(xs, x)
fn main() do
  let _ = has([1], 1)
end
"#);
    let has = &p.functions[0];
    let TExprKind::Call {
        callee: Callee::Extern { type_args, .. },
        ..
    } = &has.body.kind
    else {
        panic!()
    };
    assert_eq!(type_args, &vec![Ty::Var(0)]);
    assert_eq!(has.params[0].2, Ty::Con("List".into(), vec![Ty::Var(0)]));
}

#[test]
fn output_is_deterministic() {
    let src = r#"
fn main() do
  let _ = List.map([1], fn(x) -> x end)
  let _ = List.filter([1], fn(x) -> x > 0 end)
  Ws.join_all(Ws.members("a") |> List.head |> unwrap, ["r"])
end
fn unwrap(o) = case o do
  Some(c) -> c
  None -> unwrap(o)
end
"#;
    let a = format!("{:?}", ok(src));
    for _ in 0..3 {
        assert_eq!(a, format!("{:?}", ok(src)));
    }
    insta::assert_snapshot!(sigs(src), @r"
    fn main() -> Int
    fn unwrap(o :: Option<a>) -> a
    fn List.filter(xs :: List<a>, keep :: Fun(a) -> Bool) -> List<a>
    fn List.filter_rev(xs :: List<a>, keep :: Fun(a) -> Bool, acc :: List<a>) -> List<a>
    fn List.fold(xs :: List<a>, acc :: b, f :: Fun(b, a) -> b) -> b
    fn List.head(xs :: List<a>) -> Option<a>
    fn List.map(xs :: List<a>, f :: Fun(a) -> b) -> List<b>
    fn List.map_rev(xs :: List<a>, f :: Fun(a) -> b, acc :: List<b>) -> List<b>
    fn Ws.join_all(conn :: Conn, rooms :: List<String>) -> Int
    extern List.prepend = snow_list_prepend/1
    extern List.reverse = snow_list_reverse/1
    extern Ws.join = snow_ws_join/0
    extern Ws.members = snow_ws_members/0
    ");
}
