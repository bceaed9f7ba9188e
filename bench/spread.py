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

Cluster scenarios (cluster-32, cluster-256) take servers `<base>-1node`
and `<base>-2node` (`snow-2node`, `snow-old-2node`, ...: two nodes of that
binary behind one redis-server, as bench/run.py runs them); their ratios
are to `snow-1node` in the same repetition, raw and per CPU-second
(SPREAD_REF names another reference).
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
    if s not in run.SERVERS and s.startswith("snow-") and not s.endswith("node"):
        base = dict(run.SERVERS["snow"])
        base["cmd"] = [str(run.OUT / f"snow-bench-{s[5:]}")]
        run.SERVERS[s] = base
import resource  # noqa: E402
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
run.OUT.mkdir(exist_ok=True)
args = dict((s, a) for s, _, a, _ in run.SCENARIOS + run.CLUSTER_SCENARIOS)
cluster_scens = {s for s, *_ in run.CLUSTER_SCENARIOS}


def cluster_server(name):
    """`<base>-<n>node` as a run.CLUSTER_SERVERS entry."""
    base, _, nodes = name.rpartition("-")
    n = int(nodes.removesuffix("node"))
    if base not in run.SERVERS:
        run.SERVERS[base] = dict(run.SERVERS["snow"], cmd=[str(run.OUT / f"snow-bench-{base[5:]}")])
    entry = dict(base=base, nodes=n, redis=n > 1)
    if n > 1:
        entry["env"] = lambda url: {"SNOW_WS_REDIS_URL": url}
    return {name: entry}


def run_any(name, scen):
    if scen in cluster_scens:
        return run.run_cluster(name, args[scen], cluster_server(name))
    return run.run_one(name, args[scen], scen)


out = {}
t0 = time.time()
for scen in scens:
    for rep in range(repeat):
        for name in servers:
            res = run_any(name, scen)
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
        ref = os.environ.get("SPREAD_REF", "snow-1node" if scen in cluster_scens else "bun")
        if name != ref and ref in row:
            pairs = [(a, b) for a, b in zip(row[name], row[ref]) if "rate" in a and "rate" in b]
            ratios = [a["rate"] / b["rate"] for a, b in pairs]
            if ratios:
                line += f"  vs {ref} {statistics.median(ratios):.2f}x [{min(ratios):.2f} - {max(ratios):.2f}]"
            per_cpu = [(a["rate"] / a["server_cpu"]) / (b["rate"] / b["server_cpu"])
                       for a, b in pairs if a.get("server_cpu") and b.get("server_cpu")]
            if per_cpu:
                line += f", per CPU-s {statistics.median(per_cpu):.2f}x [{min(per_cpu):.2f} - {max(per_cpu):.2f}]"
        print(line, flush=True)
