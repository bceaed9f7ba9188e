#!/usr/bin/env python3
"""Compiler benchmarks (run: bench/compiler.py; writes bench/RESULTS-compiler.md).

1. Front-end throughput: `snowc check` of a generated 50,000-line program (release build).
2. `snowc build` wall time of hello and of a 2,000-line program at -O0 and -O2,
   split into front end, LLVM and link (snowc --timings), median of 5.
3. Peak RSS of a program that calls a string-allocating function 1M and 10M times.
4. What safepoints cost (the stack check before every Snow call and loop back
   edge, docs/ABI.md "Stack"): run time of bench/programs/calls.snow and
   alloc_loop.snow, and build time and code size of the generated 2,000-line
   program, with and without them (SNOWC_NO_SAFEPOINTS=1 drops them; such a
   build is for this measurement only).
"""
import os, platform, resource, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNOWC = os.path.join(ROOT, "target", "release", "snowc")
RUNS = 5

def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)

def gen(lines, path):
    with open(path, "w") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_program.py"), str(lines)], stdout=f, check=True)
    return sum(1 for _ in open(path))

def wall(args):
    t = time.perf_counter(); sh(*args); return time.perf_counter() - t

def build_phases(src, opt, out):
    samples = []
    for _ in range(RUNS):
        t = time.perf_counter()
        p = sh(SNOWC, "build", src, "-o", out, opt, "--timings")
        total = (time.perf_counter() - t) * 1000
        phases = dict((k.strip(), float(v.split()[0])) for k, v in (l.split(":") for l in p.stderr.strip().splitlines()))
        samples.append((total, phases))
    samples.sort(key=lambda s: s[0])
    return samples[len(samples) // 2]

def peak_rss_kib(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    return usage.ru_maxrss

def run_time(args):
    """Median wall time of 5 runs, seconds."""
    ts = []
    for _ in range(RUNS):
        t = time.perf_counter(); subprocess.run(args, check=True, stdout=subprocess.DEVNULL); ts.append(time.perf_counter() - t)
    return statistics.median(ts)

def text_size(exe):
    out = sh("size", "-A", exe).stdout
    return sum(int(l.split()[1]) for l in out.splitlines() if l.startswith(".text"))

def safepoint_costs(tmp, mid):
    """Rows of the safepoint table: (what, opt, with, without, ratio)."""
    rows = []
    off = dict(os.environ, SNOWC_NO_SAFEPOINTS="1")
    calls = os.path.join(ROOT, "bench", "programs", "calls.snow")
    progs = [("calls.snow fib (non-tail calls)", calls, ["400", "fib"]),
             ("calls.snow even (mutual tail calls)", calls, ["400", "even"]),
             ("calls.snow count (a loop)", calls, ["400", "count"]),
             ("calls.snow pipeline (closures, lists)", calls, ["100", "pipeline"]),
             ("alloc_loop.snow 10M", os.path.join(ROOT, "bench", "programs", "alloc_loop.snow"), ["10000000"])]
    for opt in ["-O0", "-O2"]:
        for name, src, args in progs:
            on_exe, off_exe = os.path.join(tmp, "on"), os.path.join(tmp, "off")
            sh(SNOWC, "build", src, "-o", on_exe, opt)
            sh(SNOWC, "build", src, "-o", off_exe, opt, env=off)
            t_on, t_off = run_time([on_exe] + args), run_time([off_exe] + args)
            rows.append(f"| {name} run time | {opt} | {t_on*1000:.0f} ms | {t_off*1000:.0f} ms | {100*(t_on/t_off-1):+.1f} % |")
        on_exe, off_exe = os.path.join(tmp, "mid-on"), os.path.join(tmp, "mid-off")
        b_on = statistics.median(wall([SNOWC, "build", mid, "-o", on_exe, opt]) for _ in range(RUNS))
        ts = []
        for _ in range(RUNS):
            t = time.perf_counter(); subprocess.run([SNOWC, "build", mid, "-o", off_exe, opt], env=off, check=True, capture_output=True); ts.append(time.perf_counter() - t)
        b_off = statistics.median(ts)
        rows.append(f"| 2,000-line program build time | {opt} | {b_on*1000:.0f} ms | {b_off*1000:.0f} ms | {100*(b_on/b_off-1):+.1f} % |")
        s_on, s_off = text_size(on_exe), text_size(off_exe)
        rows.append(f"| 2,000-line program `.text` | {opt} | {s_on:,} B | {s_off:,} B | {100*(s_on/s_off-1):+.1f} % |")
    return rows

def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "snowc", "-p", "snow-rt"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp()
    big = os.path.join(tmp, "big.snow"); n_big = gen(50000, big)
    wall([SNOWC, "check", big])  # warm-up: page cache, CPU frequency
    checks = sorted(wall([SNOWC, "check", big]) for _ in range(2 * RUNS - 1))
    t_check = checks[len(checks) // 2]
    mid = os.path.join(tmp, "mid.snow"); n_mid = gen(2000, mid)
    hello = os.path.join(ROOT, "examples", "hello.snow")
    rows = []
    for name, src, n in [("hello", hello, 4), ("2,000-line program", mid, n_mid)]:
        for opt in ["-O0", "-O2"]:
            total, ph = build_phases(src, opt, os.path.join(tmp, "out"))
            rows.append(f"| {name} ({n} lines) | {opt} | {total:.0f} | {ph.get('front end', 0):.1f} | {ph.get('llvm', 0):.1f} | {ph.get('link', 0):.1f} |")
    alloc = os.path.join(tmp, "alloc")
    sh(SNOWC, "build", os.path.join(ROOT, "bench", "programs", "alloc_loop.snow"), "-o", alloc, "-O2")
    rss1 = peak_rss_kib([alloc, "1000000"]); rss10 = peak_rss_kib([alloc, "10000000"])
    sp_rows = safepoint_costs(tmp, mid)
    report = f"""# Compiler benchmarks

Produced by `bench/compiler.py` on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}), release build, median of {RUNS} runs.

## Front end
`snowc check` of a generated {n_big}-line program (wall time of the whole process, one warm-up run, then the median of {2 * RUNS - 1}): {t_check*1000:.0f} ms, **{n_big / t_check:,.0f} lines/s** (goal: 1,000,000 lines/s; where the time goes: `bench/frontend_profile.py`).

## Build time per phase (ms, wall)
| program | opt | total | front end | LLVM (codegen + object) | link |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

Goal: hello end to end under 150 ms.

## Memory
Peak RSS of `bench/programs/alloc_loop.snow` (a tail-recursive loop calling a
string-allocating function): 1M calls {rss1/1024:.1f} MiB, 10M calls {rss10/1024:.1f} MiB,
ratio 10M/1M = **{rss10/rss1:.2f}** (flat = 1.0).

## Safepoints
The stack check before every Snow call and loop back edge (docs/ABI.md
"Stack"), measured by building the same program without it
(`SNOWC_NO_SAFEPOINTS=1`, for this measurement only); median of {RUNS} runs.
`calls.snow` runs one call-bound part at a time; the programs that allocate
(pipeline, alloc_loop) never collect without safepoints (collections run at
safepoints), so for them the difference is the collector's work against a
heap that only grows.

| what | opt | with safepoints | without | cost |
| --- | --- | --- | --- | --- |
{chr(10).join(sp_rows)}

A check is a `%fs` load, a compare with the stack pointer and a branch, a
fraction of a nanosecond per call. It weighs most on the smallest functions
(`fib`'s body is a compare, two calls and an add), and at -O2 it keeps LLVM
from folding `even`/`odd` into one loop (the calls stay, as tail calls).
A counting loop pays nothing measurable. For the allocating programs the
difference is the collector: `alloc_loop` (little live data) is faster with
it (a small heap stays in the caches), `pipeline` (a live 100,000-element
list, copied three times per round) pays for marking it.
"""
    with open(os.path.join(ROOT, "bench", "RESULTS-compiler.md"), "w") as f:
        f.write(report)
    print(report)

if __name__ == "__main__":
    main()
