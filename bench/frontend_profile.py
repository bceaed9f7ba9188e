#!/usr/bin/env python3
"""Where `snowc check` of the generated 50,000-line program spends its CPU time.

usage: bench/frontend_profile.py [RUNS] [SNOWC]   (needs `perf`; release build)

Samples RUNS (default 6) runs with `perf record --call-graph dwarf` and sorts
every sample into one phase by the frames on its stack (the first phase of
PHASES that matches wins), then says which part of each phase is the kernel
clearing fresh pages (first touch of memory: mimalloc asks for transparent
huge pages, so a fault clears 2 MiB), the allocator, or memcpy. The parser
runs on two threads, so its share of CPU time is about twice its share of
wall time. Prints a Markdown table (for bench/RESULTS-compiler.md).
"""
import collections, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (phase, substrings of frame names); the first phase with a matching frame wins.
PHASES = [
    ("std module table load", ["std_lib::load"]),
    ("lexing (logos, newline filter)", ["lexer::"]),
    ("parsing items (chumsky, 2 threads)", ["parse_range", "grammar::", "chumsky::"]),
    ("parse driver (item split, nesting check)", ["parser::", "stacker"]),
    ("types: exhaustiveness and `case` checks", ["exhaust::", "cases::"]),
    ("types: name resolution and call graph", ["refs::"]),
    ("types: final substitution (zonk)", ["Zonk", "finish_fn"]),
    ("types: typed program assembly", ["into_program"]),
    ("types: user type declarations", ["collect_user_types"]),
    ("types: function table", ["collect_items"]),
    ("types: annotated signatures", ["annotated_signatures"]),
    ("types: inference (infer, unify)", ["infer_in_dependency_order", "infer_scc", "Checker"]),
    ("types: other", ["snowc_types::"]),
    ("process start (exec, dynamic linking, clap)", ["execve", "_dl_", "clap", "load_elf"]),
    ("process exit", ["exit_mmap", "do_exit", "do_group_exit"]),
]


def kind(frames):
    """What the innermost frame is doing."""
    leaf = frames[0] if frames else ""
    if any("clear_page" in f or "folio_zero" in f for f in frames[:12]):
        return "page clearing"
    if re.search(r"\bmi_|_mi_", leaf):
        return "allocator"
    if "memmove" in leaf or "memcpy" in leaf:
        return "memcpy"
    return "other"


def samples(text):
    cur = None
    for line in text.splitlines():
        if not line.strip():
            if cur is not None:
                yield cur
            cur = None
        elif not line[0].isspace():
            cur = []
        elif cur is not None:
            parts = line.split(None, 1)
            if len(parts) == 2:
                cur.append(parts[1])
    if cur:
        yield cur


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    snowc = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "release", "snowc")
    tmp = tempfile.mkdtemp()
    big = os.path.join(tmp, "big.snow")
    with open(big, "w") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_program.py"), "50000"], stdout=f, check=True)
    data = os.path.join(tmp, "perf.data")
    loop = f"for i in $(seq {runs}); do '{snowc}' check '{big}'; done"
    subprocess.run(["perf", "record", "-q", "-F", "2999", "-g", "--call-graph", "dwarf,32768",
                    "-o", data, "--", "sh", "-c", loop], check=True, stderr=subprocess.DEVNULL)
    text = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True).stdout
    phase = collections.Counter()
    cross = collections.Counter()
    total = 0
    for fr in samples(text):
        total += 1
        joined = "\n".join(fr)
        name = "other (driver, file read, kernel)"
        for n, pats in PHASES:
            if any(p in joined for p in pats):
                name = n
                break
        phase[name] += 1
        cross[(name, kind(fr))] += 1
    kinds = ["page clearing", "allocator", "memcpy"]
    print(f"{total} samples of {runs} runs; share of CPU time (all threads)\n")
    print("| phase | share | of which page clearing | allocator | memcpy |")
    print("| --- | --- | --- | --- | --- |")
    for n, c in phase.most_common():
        cols = " | ".join(f"{100 * cross[(n, k)] / c:.0f} %" for k in kinds)
        print(f"| {n} | {100 * c / total:.1f} % | {cols} |")
    tot = {k: sum(v for (n, kk), v in cross.items() if kk == k) for k in kinds}
    print("| **all** | 100 % | " + " | ".join(f"{100 * tot[k] / total:.0f} %" for k in kinds) + " |")


if __name__ == "__main__":
    main()
