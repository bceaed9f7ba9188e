//! Snapshot tests of the parsed AST, printed as compact S-expressions.

use snowc_syntax::{parse, sexpr, FileId};

/// Parse `src`, assert it has no diagnostics, and print the module.
fn ok(src: &str) -> String {
    let (m, diags) = parse(FileId(0), src);
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {src:?}: {diags:#?}"
    );
    sexpr::module(&m)
}

/// Parse the body of `fn main() do ... end` and print its expressions one per line.
fn body(src: &str) -> String {
    let (m, diags) = parse(FileId(0), &format!("fn main() do\n{src}\nend\n"));
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {src:?}: {diags:#?}"
    );
    match &m.items[..] {
        [snowc_syntax::ast::Item::Fn(f)] => match &f.body.kind {
            snowc_syntax::ast::ExprKind::Block(es) => {
                es.iter().map(|e| sexpr::expr(e) + "\n").collect()
            }
            other => panic!("body is not a block: {other:?}"),
        },
        other => panic!("expected one fn, got {other:?}"),
    }
}

#[test]
fn items() {
    insta::assert_snapshot!(ok(r#"
import String
from Ws import join, broadcast
fn add(a :: Int, b :: Int) -> Int do
  a + b
end
fn greet(name) = "Hello, ${name}"
pub fn id(x) = x
type Shape do
  Circle(Int)
  Rect(Int, Int)
  Empty
end
type Pair<a, b> do Pair(a, b) end
type Flat do A(Int) B C(List<Int>, Fun(Int) -> Bool) end
pub type Conn
pub extern fn join(conn :: Conn, room :: String) -> Int
extern fn every(ms :: Int, tick :: Fun() -> ()) -> ()
pub extern fn new() -> Map<k, v>
fn nested(m :: Map<String, List<Int>>, f :: Fun(a, b) -> c) -> List<Option<a>> = m
"#));
}

#[test]
fn literals() {
    insta::assert_snapshot!(body(
        r#"42
1_000_000
0xFF
1.5
2.0e3
"esc\n\t\r\"\\\$\u{1F600}"
""
"Hello, ${name}! ${n + 1}"
"${Map.has_key(m, "b")} and ${"x${y}"}"
true
false
nil
[1, 2, 3]
[]
()"#
    ));
}

#[test]
fn precedence() {
    insta::assert_snapshot!(body(
        r#"1 + 2 * 3 - 4 / 5 % 6
a or b and c || d && e
a == b < c
x <> y <> z
a + b <> c
not a and !b
-x * -2
a - b - c
(a + b) * c
x |> f |> g(1)
xs |> List.map(fn(x) -> x + 1 end) |> List.filter(keep)
a < b |> f
1 + 2 == 3 and x <> y == "z" or done"#
    ));
}

#[test]
fn calls_and_names() {
    insta::assert_snapshot!(body(
        r#"f(x)
f()
f(x)(y)
Module.name
Module.name(a, b)
Circle(2)
Empty
x
String.length(s)"#
    ));
}

#[test]
fn let_if_for() {
    insta::assert_snapshot!(body(
        r#"let x = 1
let y :: Int = x + 2
if c do a end
if c do a else b end
if c do
  a
  b
else if d do
  e
else
  f
end
if a do 1 else if b do 2 else if c do 3 end
for x in xs do x * 2 end
for x in [1, 2] do
  println(x)
  x
end"#
    ));
}

#[test]
fn case_and_patterns() {
    insta::assert_snapshot!(body(
        r#"case x do
  0 -> "zero"
  -1 -> "minus one"
  1.5 -> "float"
  "join" -> "str"
  true -> 1
  nil -> 2
  _ -> "other"
end
case shape do
  Circle(r) -> r
  Rect(w, _) when w > 10 -> w
  Ok(Some(x)) -> x
  Empty ->
    println("empty")
    0
end
case xs do
  [] -> 0
  [h | t] -> h
  [a, b | t] -> a
  [a, b] -> b
  [Some(x)] -> x
end
case xs do [] -> 0 end"#
    ));
}

#[test]
fn lambdas() {
    insta::assert_snapshot!(body(
        r#"fn(x) -> x + n end
fn(x :: Int, y) do
  let z = x + y
  z * 2
end
fn() -> nil end
List.fold(rooms(conn), 0, fn(n, room) do
  leave(conn, room)
  n + 1
end)
fn(a) ->
  println(a)
  a
end"#
    ));
}

#[test]
fn newlines() {
    insta::assert_snapshot!(body(
        r#"let total = a +
  b +
  c
f(a,
  b)
let xs = [
  1,
  2,
]
words
  |> List.map(shout)
  |> String.join(" ")
"a ${
  x
} b""#
    ));
}

#[test]
fn comments_and_blank_lines() {
    insta::assert_snapshot!(ok(r#"# a comment

# another
fn main() do   # trailing
  # inside
  println("hi") # after


  1
end


"#));
}

#[test]
fn v2_items() {
    insta::assert_snapshot!(ok(r#"
import Chat.Rooms
import Chat.Rooms as R
from Chat.Rooms import (
  join_all,
  Room
)
pub struct User do
  name :: String
  age :: Int
end
struct Box<a> do
  value :: a
end
pub service Counter do
  fn init(start :: Int) -> Int = start
  call Get() :: Int do |n|
    (n, n)
  end
  cast Reset() do |_n|
    0
  end
end
fn pair(x) -> (Int, String) = (x, "one")
fn f(t :: Map<String, (Int, List<Rooms.Room>)>) = t
"#));
}

#[test]
fn v2_expressions() {
    insta::assert_snapshot!(body(
        r#"
let (a, b) = pair(1)
let u = User { name: "ada", age: 36 }
let v = %{u | age: u.age + 1, name: "x"}
let w = User {
  name: "bo",
  age
}
let xs = [1, 2 | ys]
let r = Rooms.Room { name: "a" }
let o = Rooms.Open(1)
let User { name, age: years } = u
u.name
f(x).y.z
(1, (2, 3), "x")
(1)
for (k, v) in pairs do
  k
end"#
    ));
}

#[test]
fn v2_patterns_and_arms() {
    insta::assert_snapshot!(body(
        r#"
case (u, xs) do
  (User { name: "ada" }, [h | _]) -> do
    println(name)
    h
  end
  (Rooms.Open(x), _) -> x
  (Box { value: Some((a, _)) }, _) when a > 1 -> a
  _ -> 0
end"#
    ));
}
