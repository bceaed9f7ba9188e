#!/usr/bin/env python3
"""Runs chosen scenarios against chosen servers several times, interleaved
(every server once per repetition, in turn), and prints every run and the
spread: median, min and max of the rate, each repetition's ratio to Bun,
p99, and the least-served client's rate and p99 (loadgen's fairness
fields). Uses bench/run.py's servers and scenarios and does not touch
RESULTS.md; raw runs go to bench/out/spread-<label>.json.

  SPREAD_SCENARIOS=rooms,echo,churn,fanout-32 SPREAD_SERVERS=snow,bun \\
  SPREAD_REPEAT=3 SPREAD_LABEL=baseline .venv/bin/python bench/spread.py

An extra server `snow-<name>` runs bench/out/snow-bench-<name> (a saved
binary, for an A/B of two builds in the same run).
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

scens = os.environ.get("SPREAD_SCENARIOS", "rooms,echo,churn,fanout-32").split(",")
servers = os.environ.get("SPREAD_SERVERS", "snow,bun").split(",")
repeat = int(os.environ.get("SPREAD_REPEAT", "3"))
label = os.environ.get("SPREAD_LABEL", "spread")
for s in servers:
    if s not in run.SERVERS and s.startswith("snow-"):
        base = dict(run.SERVERS["snow"])
        base["cmd"] = [str(run.OUT / f"snow-bench-{s[5:]}")]
        run.SERVERS[s] = base
import resource  # noqa: E402
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
run.OUT.mkdir(exist_ok=True)
args = dict((s, a) for s, _, a, _ in run.SCENARIOS)
out = {}
t0 = time.time()
for scen in scens:
    for rep in range(repeat):
        for name in servers:
            res = run.run_one(name, args[scen], scen)
            out.setdefault(scen, {}).setdefault(name, []).append(res)
            print(f"[{time.time() - t0:6.1f}s] {scen:10} {name:10} rep {rep}: rate {res.get('rate', 0):>12,.0f} "
                  f"p50 {res.get('p50_us')} p99 {res.get('p99_us')} us, least {res.get('least_conn_rate', 0):,.0f}/s "
                  f"p99 {res.get('p99_least_conn_us')} worst-p99 {res.get('p99_worst_conn_us')} starved {res.get('starved_conns')} "
                  f"cpu {res.get('server_cpu')}/{res.get('loadgen_cpu')} err {res.get('errors', res.get('error'))}", flush=True)
(run.OUT / f"spread-{label}.json").write_text(json.dumps(out, indent=1))


def fmt(v):
    return f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v / 1e3:.1f} k"


print(f"\n== {label}: median [min - max] over {repeat} runs")
for scen in scens:
    row = out[scen]
    for name in servers:
        runs = [r for r in row[name] if "rate" in r]
        if not runs:
            print(f"{scen:10} {name:10} no result")
            continue
        rates = [r["rate"] for r in runs]
        p99 = [r["p99_us"] / 1000 for r in runs]
        lp99 = [r.get("p99_least_conn_us", 0) / 1000 for r in runs]
        line = (f"{scen:10} {name:10} rate {fmt(statistics.median(rates))} [{fmt(min(rates))} - {fmt(max(rates))}]"
                f"  p99 {statistics.median(p99):.2f} ms [{min(p99):.2f} - {max(p99):.2f}]"
                f"  least-served p99 {statistics.median(lp99):.2f} ms")
        if name != "bun" and "bun" in row:
            ratios = [a["rate"] / b["rate"] for a, b in zip(row[name], row["bun"]) if "rate" in a and "rate" in b]
            if ratios:
                line += f"  vs bun {statistics.median(ratios):.2f}x [{min(ratios):.2f} - {max(ratios):.2f}]"
        print(line, flush=True)
