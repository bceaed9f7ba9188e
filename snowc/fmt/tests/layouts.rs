//! Snapshots of tricky layouts: each case is formatted, checked to be
//! idempotent, and its output pinned.

use snowc_fmt::format;

fn fmt(src: &str) -> String {
    let out = format(src).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(format(&out).unwrap(), out, "not idempotent");
    out
}

#[test]
fn long_pipes() {
    insta::assert_snapshot!(fmt(r#"
fn main() do
  let doc = JNull |> Json.put("name", JStr("snow")) |> Json.put("n", JInt(3)) |> Json.put("tags", JList([JStr("a")]))
  text |> String.to_lower |> String.split(" ") |> List.filter(fn(w) -> String.length(w) > 0 end) |> List.length
  xs |> List.map(fn(x) do
    let y = x * 2
    y + 1
  end) |> List.reverse
  short |> f
end
"#));
}

#[test]
fn nested_cases_and_arms() {
    insta::assert_snapshot!(fmt(r#"
fn port() -> Int do
  case Env.get("PORT") do
    Some(text) -> case Int.parse(text) do
      Some(p) when p > 0 and p < 65536 -> p
      _ -> 8080
    end
    None -> 8080
  end
end

fn describe(x) = case x do
  (User { name: "ada", age }, [h | _]) -> do
    println(name)
    h
  end
  (Rooms.Open(n), _) -> if n > 10 do "big" else if n > 1 do "mid" else "small" end
  _ ->
    let a = 1
    a + 2
end
"#));
}

#[test]
fn closures_as_arguments() {
    insta::assert_snapshot!(fmt(r#"
pub fn join_all(conn :: Conn, rooms :: List<String>) -> Int do
  List.fold(rooms, 0, fn(failed, room) -> if join(conn, room) == 0 do failed else failed + 1 end end)
end

fn main() do
  Ws.serve(fn(conn, path, headers) -> true end, fn(conn, msg) do
    Ws.broadcast("lobby", "${Ws.id(conn)}: ${msg}")
  end, fn(c, code, reason) -> nil end, 8080)
  Timer.every(1000, fn() -> Ws.broadcast("ticker", "tick: ${Ws.count("ticker")} listening right now") end)
  List.map(xs, fn(x) -> x + 1 end)
end
"#));
}

#[test]
fn comments_everywhere() {
    insta::assert_snapshot!(fmt(r#"
# The header.

# About f.
fn f(x) do # after do
  # before a
  let a = x + 1 # why
  # between


  # after two blank lines
  case a do
    # first arm
    1 -> "one" # the one
    # between arms

    _ -> "many"
    # after the last arm
  end
  # before end
end
fn g(a, # first
  b) = a + b
fn h() = [
  1, # one
  2
  # dangling
]
# at the end
"#));
}

#[test]
fn v2_forms() {
    insta::assert_snapshot!(fmt(r#"
import Chat.Rooms
import Chat.Rooms as R
from Chat.Rooms import (join_all,
  Room)
pub struct User do
  name :: String
  age :: Int
end
struct Box<a> do value :: a end
pub service Counter do
  fn init(start :: Int) -> Int = start
  call Get() :: Int do |n|
    (n, n)
  end
  cast Reset() do |_n|
    0
  end
end
fn main() do
  let (a, b) = pair(1)
  let u = User { name: "ada", age: 36 }
  let v = %{u | age: u.age + 1, name: "x"}
  let w = User {
    name: "bo",
    age
  }
  let xs = [1, 2 | ys]
  let User { name, age: years } = u
  for (k, v) in Map.to_list(m) do println(k) end
  f(x).y.z
end
"#));
}

#[test]
fn source_forms_are_kept() {
    insta::assert_snapshot!(fmt(r#"
fn main() do
  let a = 0xFF + 1_000_000 + 2.0e3
  let s = "tab\t \u{1F600} ${a + 1} \" \$ ${"nested ${x}"}"
  let b = (a + 1) * 2
  let c = a && b || !c
  let d = a and not b
  let e = -(a)
  let f = ()
  xs |> List.reverse()
  xs |> List.reverse
end
"#));
}

#[test]
fn long_signatures_and_bodies() {
    insta::assert_snapshot!(fmt(r#"
pub extern fn serve(on_connect :: Fun(Conn, String, Map<String, String>) -> Bool, on_message :: Fun(Conn, String) -> a, port :: Int) -> ()
pub extern fn id(conn :: Conn) -> Int
pub extern fn count(room :: String) -> Int
pub fn broadcast_from(conn :: Conn, room :: String, text :: String) -> Int = broadcast_except(room, text, conn)
fn total(xs) = show_opt(Json.at(l, 0)) <> " " <> show_opt(Json.at(l, 1)) <> " " <> show_opt(Json.at(l, 2)) <> " " <> show_opt(Json.at(l, -1))
type Shape do Circle(Int) Rect(Int, Int) Empty end
"#));
}
