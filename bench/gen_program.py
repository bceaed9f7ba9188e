#!/usr/bin/env python3
"""Generate a large, valid Snow program for front-end and build benchmarks.

usage: gen_program.py LINES > big.snow
       gen_program.py --v2 LINES DIR   (a program of many files in DIR)
Each block is a sum type plus three functions using most constructs
(case with guards, closures, pipes, interpolation, std calls, if/else).
`step{i}` is `pub`, so that no function is unused (no warnings: the
benchmark measures checking, not rendering thousands of warnings)."""
import os, sys

BLOCK = """\
type Shape{i} do
  Circle{i}(Int)
  Rect{i}(Int, Int)
  Empty{i}
end

fn area{i}(s :: Shape{i}) -> Int do
  case s do
    Circle{i}(r) when r > 100 -> 0
    Circle{i}(r) -> 3 * r * r
    Rect{i}(w, h) -> w * h
    Empty{i} -> 0
  end
end

fn describe{i}(n, name :: String) do
  let doubled = n * 2
  let label = "item ${{name}} #${{doubled}}"
  if doubled > 10 do
    String.length(label) + area{i}(Rect{i}(n, 2))
  else
    [1, 2, 3] |> List.map(fn(x) -> x * n end) |> List.fold(0, fn(acc, x) -> acc + x end)
  end
end

pub fn step{i}(n :: Int) -> Int = describe{i}(n, "s{i}") + area{i}(Circle{i}(n))

"""

# Snow v2: a module of structs, tuples, record patterns, updates, equality
# and a small service; `main.snow` imports every module.
MODULE = """pub struct Point{i} do
  x :: Int
  y :: Int
end

pub struct Box{i}<a> do
  label :: String
  value :: a
end

pub type Move{i} do
  Step{i}(Point{i})
  Jump{i}(Int, Int)
  Stay{i}
end

fn shift{i}(p :: Point{i}, d :: (Int, Int)) -> Point{i} do
  let (dx, dy) = d
  %{{p | x: p.x + dx, y: p.y + dy}}
end

fn apply{i}(p :: Point{i}, m :: Move{i}) -> Point{i} do
  case m do
    Step{i}(Point{i} {{ x, y }}) when x == 0 and y == 0 -> p
    Step{i}(d) -> shift{i}(p, (d.x, d.y))
    Jump{i}(dx, dy) -> shift{i}(p, (dx * 2, dy * 2))
    Stay{i} -> p
  end
end

fn pairs{i}(xs :: List<Int>) -> List<(Int, Int)> = List.zip(xs, List.map(xs, fn(x) -> x * x end))

pub fn run{i}(n :: Int) -> Int do
  let start = Point{i} {{ x: n, y: 0 }}
  let moves = [Step{i}(Point{i} {{ x: 1, y: 2 }}), Jump{i}(n, 1), Stay{i}]
  let end_ = List.fold(moves, start, fn(p, m) -> apply{i}(p, m) end)
  let boxed = Box{i} {{ label: "m{i}", value: [end_.x, end_.y] }}
  let total = List.fold(pairs{i}(boxed.value), 0, fn(acc, pq) -> acc + pair_sum{i}(pq) end)
  if end_ == start do 0 else total end
end

fn pair_sum{i}(pq :: (Int, Int)) -> Int do
  let (a, b) = pq
  a + b
end

"""

def main_v2(lines, folder):
    per_module = MODULE.count("\n")
    n = max(1, lines // per_module)
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"m{i}.snow"), "w") as f:
            f.write(MODULE.format(i=i))
    with open(os.path.join(folder, "main.snow"), "w") as f:
        for i in range(n):
            f.write(f"import M{i}\n")
        calls = " + ".join(f"M{i}.run{i}(3)" for i in range(min(n, 50)))
        f.write(f"\nfn main() do\n  println(\"${{{calls}}}\")\nend\n")

def main():
    if sys.argv[1:2] == ["--v2"]:
        main_v2(int(sys.argv[2]), sys.argv[3])
        return
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    per_block = BLOCK.count("\n")
    blocks = max(1, lines // per_block)
    out = sys.stdout
    for i in range(blocks):
        out.write(BLOCK.format(i=i))
    calls = " + ".join(f"step{i}(3)" for i in range(min(blocks, 50)))
    out.write(f"fn main() do\n  println(\"${{{calls}}}\")\nend\n")

if __name__ == "__main__":
    main()
