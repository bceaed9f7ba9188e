#!/usr/bin/env python3
"""A large program made of the repository's real programs, for `snowc
check` (bench/RESULTS-compiler.md, "Real programs"): every single-file
program of examples/ and tests/ that checks on its own (no imports, no
errors) becomes a module, copied N times (`main` renamed `entry`), and a
`main.snow` imports them all. Most functions end up unused, so the check
also reports thousands of warnings, as in a large old code base.

  bench/corpus.py OUT_DIR [COPIES=40]   # then: snowc check OUT_DIR/main.snow
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNOWC = os.path.join(ROOT, "target", "release", "snowc")


def main():
    out = sys.argv[1]
    copies = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    files = subprocess.run(["git", "ls-files", "*.snow"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    usable = []
    for f in files:
        if f.startswith(("tests/errors/", "std/")):
            continue
        text = open(os.path.join(ROOT, f)).read()
        if re.search(r"^\s*(import|from)\s", text, re.M):
            continue
        if subprocess.run([SNOWC, "check", f], cwd=ROOT, capture_output=True).returncode != 0:
            continue
        usable.append(re.sub(r"\bfn main\(", "fn entry(", text))
    os.makedirs(out, exist_ok=True)
    lines = 0
    names = []
    for c in range(copies):
        for i, text in enumerate(usable):
            name = f"m{c:02d}x{i:03d}"
            with open(os.path.join(out, name + ".snow"), "w") as f:
                f.write(text)
            lines += text.count("\n")
            names.append(name)
    with open(os.path.join(out, "main.snow"), "w") as f:
        f.write("".join(f"import {n.capitalize()}\n" for n in names))
        f.write('\nfn main() do\n  println("corpus")\nend\n')
    print(f"{len(usable)} programs x {copies} = {len(names)} modules, {lines + len(names) + 4} lines in {out}")


if __name__ == "__main__":
    main()
