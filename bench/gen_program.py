#!/usr/bin/env python3
"""Generate a large, valid Snow program for front-end and build benchmarks.

usage: gen_program.py LINES > big.snow
Each block is a sum type plus three functions using most constructs
(case with guards, closures, pipes, interpolation, std calls, if/else).
`step{i}` is `pub`, so that no function is unused (no warnings: the
benchmark measures checking, not rendering thousands of warnings)."""
import sys

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

def main():
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
