#!/usr/bin/env python3
"""Runs the WebSocket comparison (bench/README.md) and rewrites
bench/RESULTS.md and bench/results.png. Started by bench/run.sh, which
builds and installs everything first; the raw numbers go to bench/out/."""

import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
LOADGEN = ROOT / "target/release/loadgen"
PORT = int(os.environ.get("BENCH_PORT", "9310"))
SERVER_CPU = os.environ.get("BENCH_SERVER_CPU", "0")
LOADGEN_CPU = os.environ.get("BENCH_LOADGEN_CPU", "1")
DURATION = float(os.environ.get("BENCH_DURATION", "3"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "1"))

SERVERS = {
    "snow": dict(cmd=[str(OUT / "snow-bench")], cwd=BENCH, env={"SNOW_WS_WORKER_THREADS": "1"}, proto="plain"),
    "rust": dict(cmd=[str(ROOT / "target/release/rust-server")], cwd=BENCH, env={"RUST_WS_WORKER_THREADS": "1"}, proto="plain"),
    "bun": dict(cmd=[str(BENCH / "peers/bun/node_modules/.bin/bun"), "server.js"], cwd=BENCH / "peers/bun", env={}, proto="plain"),
    "node-ws": dict(cmd=["node", "server.js"], cwd=BENCH / "peers/node-ws", env={}, proto="plain"),
    "socketio": dict(cmd=["node", "server.js"], cwd=BENCH / "peers/socketio", env={}, proto="socketio"),
    # servers/bench_publish.snow (the history scenarios only)
    "snow-publish": dict(cmd=[str(OUT / "snow-bench-publish")], cwd=BENCH, env={"SNOW_WS_WORKER_THREADS": "1"}, proto="plain"),
}

# (id, title, loadgen arguments, what `rate` counts)
SCENARIOS = [
    ("fanout-32", "fan-out chat, C = 32 in one room", ["--scenario", "fanout", "--clients", "32", "--window", "8"], "deliveries/s"),
    ("fanout-256", "fan-out chat, C = 256 in one room", ["--scenario", "fanout", "--clients", "256", "--window", "2"], "deliveries/s"),
    ("fanout-1024", "fan-out chat, C = 1024 in one room", ["--scenario", "fanout", "--clients", "1024", "--window", "1"], "deliveries/s"),
    ("rooms", "many rooms: 10,000 connections in 1,000 rooms of 10", ["--scenario", "fanout", "--clients", "10000", "--room-size", "10", "--window", "1"], "deliveries/s"),
    ("echo", "echo round trip, 64 clients, 1 in flight each", ["--scenario", "echo", "--clients", "64", "--window", "1"], "round trips/s"),
    ("churn", "join/leave churn, 1,000 clients over 100 rooms", ["--scenario", "churn", "--clients", "1000"], "joins+leaves/s"),
    ("idle", "idle connections: RSS at 10,000 connections", ["--scenario", "idle", "--clients", "10000"], "bytes/connection"),
    ("fanout-deflate-256", "fan-out chat with permessage-deflate, C = 256 in one room, 256-byte text messages",
     ["--scenario", "fanout", "--clients", "256", "--window", "2", "--deflate", "--words", "--size", "256"], "deliveries/s"),
    ("client-bound", "slow readers: fan-out, C = 256 in one room, 16 of them read at most 64 KiB/s (latency, rate and memory of the 240 others)",
     ["--scenario", "fanout", "--clients", "256", "--window", "2", "--size", "256", "--duration", "10", "--slow", "16", "--slow-rate", "65536"], "deliveries/s"),
]

SCENARIO_ARGS = {scen: args for scen, _, args, _ in SCENARIOS}

# Server settings a scenario needs (merged into the server's environment).
SCENARIO_ENV = {
    "fanout-deflate-256": {"snow": {"SNOW_WS_COMPRESSION": "on"}, "bun": {"PERMESSAGE_DEFLATE": "1"}},
}
# Servers that cannot take part in a scenario (and why).
SCENARIO_SKIP = {
    "fanout-deflate-256": {"rust": "tokio-tungstenite has no permessage-deflate",
                           "socketio": "the benchmark's Socket.IO client path has no compression"},
}


# Cluster scenarios (bench/README.md, "Cluster"): the same fan-out load over
# two nodes behind one redis-server, clients split evenly, against the same
# with Socket.IO and its Redis adapter, and one Snow node alone, in one run.
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "9390"))
CLUSTER_SERVERS = {
    "snow-1node": dict(base="snow", nodes=1, redis=False),
    "snow-2node": dict(base="snow", nodes=2, redis=True, env=lambda url: {"SNOW_WS_REDIS_URL": url}),
    "socketio-2node": dict(base="socketio-redis", nodes=2, redis=True, env=lambda url: {"REDIS_URL": url}),
}
CLUSTER_PEERS = {
    "socketio-redis": dict(cmd=["node", "server.js"], cwd=BENCH / "peers/socketio-redis", env={}, proto="socketio"),
    "socketio-streams": dict(cmd=["node", "server.js"], cwd=BENCH / "peers/socketio-streams", env={}, proto="socketio"),
}
CLUSTER_SCENARIOS = [
    ("cluster-32", "2 nodes + Redis: fan-out chat, C = 32 in one room (16 per node)",
     ["--scenario", "fanout", "--clients", "32", "--window", "8"], "deliveries/s"),
    ("cluster-256", "2 nodes + Redis: fan-out chat, C = 256 in one room (128 per node)",
     ["--scenario", "fanout", "--clients", "256", "--window", "2"], "deliveries/s"),
]


# History scenarios (bench/README.md, "History"): the same fan-out load with
# every message published (Ws.publish: offsets, kept, through a Redis stream
# in a cluster) next to plain broadcast, on one node and on two, and next to
# Socket.IO with its Redis Streams adapter on two nodes, in one run.
HISTORY_SERVERS = {
    "snow-1node-broadcast": dict(base="snow", nodes=1, redis=False),
    "snow-1node-publish": dict(base="snow-publish", nodes=1, redis=False),
    "snow-2node-broadcast": dict(base="snow", nodes=2, redis=True, env=lambda url: {"SNOW_WS_REDIS_URL": url}),
    "snow-2node-publish": dict(base="snow-publish", nodes=2, redis=True, env=lambda url: {"SNOW_WS_REDIS_URL": url}),
    "socketio-2node-streams": dict(base="socketio-streams", nodes=2, redis=True, env=lambda url: {"REDIS_URL": url}),
}
HISTORY_SCENARIOS = [
    ("history-32", "published fan-out, C = 32 in one room",
     ["--scenario", "fanout", "--clients", "32", "--window", "8"], "deliveries/s"),
    ("history-256", "published fan-out, C = 256 in one room",
     ["--scenario", "fanout", "--clients", "256", "--window", "2"], "deliveries/s"),
]
# Metrics overhead (bench/README.md, "Metrics overhead"): the Snow server
# with SNOW_WS_METRICS_ADDR set and /metrics scraped every second, against
# the same server without it, alternating in one run.
METRICS_PORT = int(os.environ.get("BENCH_METRICS_PORT", "9391"))
METRICS_SCENARIOS = [
    ("metrics-32", "fanout-32"),
    ("metrics-256", "fanout-256"),
    ("metrics-1024", "fanout-1024"),
]
METRICS_VARIANTS = {
    "metrics-off": {},
    "metrics-on": {"SNOW_WS_METRICS_ADDR": f"127.0.0.1:{METRICS_PORT}"},
}


class Scraper:
    """GET /metrics every `every` seconds on a thread, as Prometheus would
    (every 15 s by default: once a second is a harsher test)."""

    def __init__(self, port, every=1.0):
        import threading
        self.port, self.every, self.scrapes, self.bytes = port, every, 0, 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        import urllib.request
        while not self.stopped.wait(self.every):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as r:
                    self.bytes = len(r.read())
                    self.scrapes += 1
            except OSError:
                pass

    def stop(self):
        self.stopped.set()
        self.thread.join()


def wait_port(port, proc, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_one(name, scen_args, scen=None, extra_env=None, scrape_port=None):
    s = SERVERS[name]
    env = dict(os.environ, PORT=str(PORT), **s["env"], **SCENARIO_ENV.get(scen, {}).get(name, {}), **(extra_env or {}))
    log = open(OUT / f"{name}.log", "ab")
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU] + s["cmd"], cwd=s["cwd"], env=env,
                            stdout=log, stderr=log, start_new_session=True)
    try:
        if not wait_port(PORT, proc):
            return {"error": "server did not start"}
        time.sleep(0.3)
        cmd = ["taskset", "-c", LOADGEN_CPU, str(LOADGEN), "--addr", f"127.0.0.1:{PORT}",
               "--proto", s["proto"], "--pid", str(proc.pid), "--duration", str(DURATION)] + scen_args
        scraper = Scraper(scrape_port) if scrape_port else None
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=DURATION + 180)
        finally:
            if scraper:
                scraper.stop()
        if r.returncode != 0 or not r.stdout.strip():
            return {"error": (r.stderr.strip() or f"loadgen exit {r.returncode}")[-300:]}
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if scraper:
            res["scrapes"], res["scrape_bytes"] = scraper.scrapes, scraper.bytes
        if proc.poll() is not None:
            res["error"] = f"server exited with {proc.returncode}"
        return res
    except subprocess.TimeoutExpired:
        return {"error": "loadgen timed out"}
    finally:
        stop(proc)
        time.sleep(0.5)


def run_cluster(name, scen_args, servers=None):
    """One cluster configuration: redis-server (persistence off) and the
    nodes, all pinned to the server CPU; the load generator on the other."""
    c = (servers or CLUSTER_SERVERS)[name]
    s = SERVERS.get(c["base"]) or CLUSTER_PEERS[c["base"]]
    procs = []
    log = open(OUT / f"{name}.log", "ab")
    try:
        pids = []
        if c["redis"]:
            r = subprocess.Popen(["taskset", "-c", SERVER_CPU, "redis-server", "--port", str(REDIS_PORT),
                                  "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(OUT)],
                                 stdout=log, stderr=log, start_new_session=True)
            procs.append(r)
            if not wait_port(REDIS_PORT, r):
                return {"error": "redis-server did not start"}
        ports = [PORT + i for i in range(c["nodes"])]
        url = f"redis://127.0.0.1:{REDIS_PORT}"
        for port in ports:
            env = dict(os.environ, PORT=str(port), **s["env"], **(c["env"](url) if "env" in c else {}))
            p = subprocess.Popen(["taskset", "-c", SERVER_CPU] + s["cmd"], cwd=s["cwd"], env=env,
                                 stdout=log, stderr=log, start_new_session=True)
            procs.append(p)
            if not wait_port(port, p):
                return {"error": f"node on {port} did not start"}
            pids.append(p.pid)
        if c["redis"]:
            pids.append(procs[0].pid)
        time.sleep(0.5)
        cmd = ["taskset", "-c", LOADGEN_CPU, str(LOADGEN), "--addr", ",".join(f"127.0.0.1:{p}" for p in ports),
               "--proto", s["proto"], "--pid", ",".join(map(str, pids)), "--duration", str(DURATION)] + scen_args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=DURATION + 180)
        if r.returncode != 0 or not r.stdout.strip():
            return {"error": (r.stderr.strip() or f"loadgen exit {r.returncode}")[-300:]}
        res = json.loads(r.stdout.strip().splitlines()[-1])
        dead = [p.returncode for p in procs if p.poll() is not None]
        if dead:
            res["error"] = f"a process exited with {dead[0]}"
        return res
    except subprocess.TimeoutExpired:
        return {"error": "loadgen timed out"}
    finally:
        for p in reversed(procs):
            stop(p)
        time.sleep(0.5)


def cluster_lines(results):
    """The "Cluster" section of RESULTS.md (between markers, so a run of the
    cluster scenarios alone can replace it in place)."""
    lines = ["<!-- cluster -->", "## Cluster: two nodes behind one Redis", "",
             "Same fan-out load as above, clients split evenly over two nodes (client i on node i mod 2), "
             "one room spanning both; every process of a configuration (both nodes and `redis-server`, "
             "persistence off) pinned to CPU " + SERVER_CPU + ", so a 2-node cluster gets the same one core as "
             "one node alone (`snow-1node`, measured in the same run). Snow nodes run the unchanged "
             "`bench/servers/bench.snow` with `SNOW_WS_REDIS_URL`; Socket.IO runs "
             "`bench/peers/socketio-redis/server.js` (the Socket.IO peer plus `@socket.io/redis-adapter`). "
             "*same node* / *cross node*: latency of deliveries whose sender was on the receiver's node / "
             "on the other node; *added* = cross-node p50 minus one node's p50. CPU: all processes of the "
             "configuration together (1.0 = the whole core); *per CPU-second* = deliveries/s / CPU.", "",
             f"Versions: {cmd_line(['redis-server', '--version'])}; socket.io "
             f"{pkg_version(BENCH / 'peers/socketio-redis/node_modules/socket.io/package.json')}, @socket.io/redis-adapter "
             f"{pkg_version(BENCH / 'peers/socketio-redis/node_modules/@socket.io/redis-adapter/package.json')}, redis (node) "
             f"{pkg_version(BENCH / 'peers/socketio-redis/node_modules/redis/package.json')}; run of "
             f"{time.strftime('%Y-%m-%d %H:%M')}, {DURATION:g} s windows, best of {REPEAT}.", ""]
    goal_rows = []
    for scen, title, _, unit in CLUSTER_SCENARIOS:
        row = results.get(scen, {})
        if not row:
            continue
        one = row.get("snow-1node")
        lines += [f"### {scen}: {title}", "",
                  f"| configuration | {unit} | p50 | p99 | p50 same node | p50 cross node | p99 cross node | added (cross p50 - 1 node p50) | CPU | per CPU-second | errors |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for n in CLUSTER_SERVERS:
            res = row.get(n)
            if not res or "error" in res:
                lines.append(f"| {n} | failed | - | - | - | - | - | - | - | - | {(res or {}).get('error', 'not run')} |")
                continue
            ms = lambda k: f"{res[k] / 1000:.2f} ms" if k in res else "-"
            added = "-"
            if "p50_cross_us" in res and one and "error" not in one:
                added = f"{(res['p50_cross_us'] - one['p50_us']) / 1000:+.2f} ms"
            lines.append(f"| {n} | {fmt_rate(res['rate'])} | {ms('p50_us')} | {ms('p99_us')} | {ms('p50_same_us')} | "
                         f"{ms('p50_cross_us')} | {ms('p99_cross_us')} | {added} | {res.get('server_cpu', 0):.2f} | "
                         f"{fmt_rate(res['rate'] / res['server_cpu']) if res.get('server_cpu') else '-'} | {res['errors']} |")
        lines.append("")
        s2, io2 = value(row.get("snow-2node"), scen), value(row.get("socketio-2node"), scen)
        s1 = value(one, scen)
        if s2 and io2:
            goal_rows.append(f"| {scen}: 2-node Snow >= 10x 2-node Socket.IO | {s2 / io2:.1f}x | {'met' if s2 / io2 >= 10 else 'NOT met'} |")
        if s2 and s1:
            goal_rows.append(f"| {scen}: 2-node Snow >= 0.5x one Snow node | {s2 / s1:.2f}x | {'met' if s2 / s1 >= 0.5 else 'NOT met'} |")
            c2, c1 = row["snow-2node"].get("server_cpu"), one.get("server_cpu")
            if c2 and c1:
                r = (s2 / c2) / (s1 / c1)
                goal_rows.append(f"| {scen}: the same per CPU-second used (see the note) | {r:.2f}x | {'met' if r >= 0.5 else 'NOT met'} |")
    lines += ["### Cluster goals", "", "| goal | measured | status |", "| --- | --- | --- |"] + goal_rows + [""]
    notes = BENCH / "analysis-cluster.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    lines += ["<!-- /cluster -->"]
    return lines


def history_lines(results):
    """The "History" section of RESULTS.md (between markers, like the
    cluster section)."""
    lines = ["<!-- history -->", "## History: published fan-out (`Ws.publish`)", "",
             "The fan-out load of the cluster section with every message to the room *published* "
             "(`servers/bench_publish.snow`: `Ws.keep(room, 1000, 0)` on connect and `Ws.publish(room, fn(_) -> msg end)`: "
             "an offset per message, kept; on two nodes one Redis stream per room, one script per publish, "
             "delivered by reading the stream) next to the same load *broadcast* (`Ws.broadcast`, pub/sub), "
             "on one node and on two, and next to two Socket.IO nodes with `@socket.io/redis-streams-adapter` "
             "(`bench/peers/socketio-streams/`: every emit an `XADD`, every node reading the stream), the "
             "configuration Socket.IO offers for delivery that survives a Redis blip. Every process of a "
             "configuration (nodes and `redis-server`, persistence off) pinned to CPU " + SERVER_CPU + "; "
             "CPU and *per CPU-second* as in the cluster section.", "",
             f"Versions: {cmd_line(['redis-server', '--version'])}; socket.io "
             f"{pkg_version(BENCH / 'peers/socketio-streams/node_modules/socket.io/package.json')}, "
             f"@socket.io/redis-streams-adapter "
             f"{pkg_version(BENCH / 'peers/socketio-streams/node_modules/@socket.io/redis-streams-adapter/package.json')}; "
             f"run of {time.strftime('%Y-%m-%d %H:%M')}, {DURATION:g} s windows, best of {REPEAT}.", ""]
    goal_rows = []
    for scen, title, _, unit in HISTORY_SCENARIOS:
        row = results.get(scen, {})
        if not row:
            continue
        lines += [f"### {scen}: {title}", "",
                  f"| configuration | {unit} | p50 | p99 | p50 cross node | CPU | per CPU-second | errors |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for n in HISTORY_SERVERS:
            res = row.get(n)
            if not res or "error" in res:
                lines.append(f"| {n} | failed | - | - | - | - | - | {(res or {}).get('error', 'not run')} |")
                continue
            ms = lambda k: f"{res[k] / 1000:.2f} ms" if k in res else "-"
            lines.append(f"| {n} | {fmt_rate(res['rate'])} | {ms('p50_us')} | {ms('p99_us')} | {ms('p50_cross_us')} | "
                         f"{res.get('server_cpu', 0):.2f} | "
                         f"{fmt_rate(res['rate'] / res['server_cpu']) if res.get('server_cpu') else '-'} | {res['errors']} |")
        lines.append("")
        v = lambda n: value(row.get(n), scen)
        p1, b1, p2, b2, io = (v("snow-1node-publish"), v("snow-1node-broadcast"), v("snow-2node-publish"),
                              v("snow-2node-broadcast"), v("socketio-2node-streams"))
        if p1 and b1:
            goal_rows.append(f"| {scen}: one node, publish >= 0.8x broadcast | {p1 / b1:.2f}x | {'met' if p1 / b1 >= 0.8 else 'NOT met'} |")
        if p2 and io:
            goal_rows.append(f"| {scen}: two nodes, Snow publish >= 10x Socket.IO streams adapter | {p2 / io:.1f}x | {'met' if p2 / io >= 10 else 'NOT met'} |")
        if p2 and b2:
            goal_rows.append(f"| {scen}: two nodes, publish / broadcast (no goal) | {p2 / b2:.2f}x | - |")
    lines += ["### History goals", "", "| goal | measured | status |", "| --- | --- | --- |"] + goal_rows + [""]
    notes = BENCH / "analysis-history.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    lines += ["<!-- /history -->"]
    return lines


def metrics_lines(results):
    """The "Metrics overhead" section of RESULTS.md (between markers, so a
    run of the metrics scenarios alone replaces it in place)."""
    lines = ["<!-- metrics -->", "## Metrics overhead", "",
             "The Snow server of the fan-out scenarios with `SNOW_WS_METRICS_ADDR` set and `/metrics` "
             "scraped once a second during the measurement (Prometheus scrapes every 15 s by default) "
             "(*on*), against the same binary without the variable (*off*: nothing is counted), run "
             "alternately off, on, off, on, ... in one run, each run a fresh server; same pinning and "
             f"windows as above ({DURATION:g} s). *ratio* = on / off; the goal is at least 0.98. Run of "
             f"{time.strftime('%Y-%m-%d %H:%M')} (rows kept from an earlier run with `BENCH_MERGE=1` keep their numbers).", "",
             "| scenario | pairs | off: best | on: best | ratio of bests | off: median | on: median | ratio of medians | median of the pairs' ratios (range) | p99 off / on | scrapes per run |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for scen, base in METRICS_SCENARIOS:
        row = results.get(scen)
        if not row:
            continue
        runs = {v: [r for r in row.get(v + "-runs", []) if "error" not in r] for v in METRICS_VARIANTS}
        off, on = runs["metrics-off"], runs["metrics-on"]
        if not off or not on:
            lines.append(f"| {scen} ({base}) | - | failed | - | - | - | - | - | - | - | - |")
            continue
        med = lambda rs: sorted(r["rate"] for r in rs)[len(rs) // 2]
        b_off, b_on = max(r["rate"] for r in off), max(r["rate"] for r in on)
        m_off, m_on = med(off), med(on)
        p99 = lambda rs: sorted(r["p99_us"] for r in rs)[len(rs) // 2] / 1000
        scrapes = sorted(r.get("scrapes", 0) for r in on)[len(on) // 2]
        # Each "on" run against the "off" run just before it (slow drifts
        # of the machine cancel out).
        pairs = sorted(b["rate"] / a["rate"] for a, b in zip(row["metrics-off-runs"], row["metrics-on-runs"])
                       if "error" not in a and "error" not in b)
        lines.append(f"| {scen} ({base}) | {len(pairs)} | {fmt_rate(b_off)} | {fmt_rate(b_on)} | {b_on / b_off:.3f} | "
                     f"{fmt_rate(m_off)} | {fmt_rate(m_on)} | {m_on / m_off:.3f} | "
                     f"{pairs[len(pairs) // 2]:.3f} ({pairs[0]:.2f}-{pairs[-1]:.2f}) | {p99(off):.2f} / {p99(on):.2f} ms | {scrapes} |")
    lines.append("")
    notes = BENCH / "analysis-metrics.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    lines += ["<!-- /metrics -->"]
    return lines


def update_section(marker, section_lines):
    """Replaces the section between `<!-- marker -->` and `<!-- /marker -->`
    of RESULTS.md (or appends it)."""
    path = BENCH / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    section = "\n".join(section_lines)
    start, end = text.find(f"<!-- {marker} -->"), text.find(f"<!-- /{marker} -->")
    if start >= 0 and end > start:
        text = text[:start] + section + text[end + len(f"<!-- /{marker} -->"):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def cmd_line(c):
    try:
        return subprocess.run(c, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"


def pkg_version(path):
    try:
        return json.loads(Path(path).read_text())["version"]
    except Exception:  # noqa: BLE001
        return "?"


def update_cluster_section(results):
    """Replaces the cluster section of RESULTS.md (or appends it)."""
    path = BENCH / "RESULTS.md"
    text = path.read_text() if path.exists() else ""
    section = "\n".join(cluster_lines(results))
    start, end = text.find("<!-- cluster -->"), text.find("<!-- /cluster -->")
    if start >= 0 and end > start:
        text = text[:start] + section + text[end + len("<!-- /cluster -->"):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def better(a, b, scen):
    """The better of two repetitions (higher rate; lower RSS for idle)."""
    if a is None or "error" in a:
        return b
    if b is None or "error" in b:
        return a
    if scen == "idle":
        return a if a["bytes_per_conn"] <= b["bytes_per_conn"] else b
    return a if a["rate"] >= b["rate"] else b


def value(res, scen):
    if not res or "error" in res:
        return None
    return res["bytes_per_conn"] if scen == "idle" else res["rate"]


def versions():
    def cmd(c, cwd=None):
        try:
            return subprocess.run(c, capture_output=True, text=True, cwd=cwd).stdout.strip().splitlines()[0]
        except Exception as e:  # noqa: BLE001
            return f"? ({e})"

    def pkg(path):
        try:
            return json.loads(Path(path).read_text())["version"]
        except Exception:  # noqa: BLE001
            return "?"

    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "machine": f"{cpu}, {os.cpu_count()} CPUs, {int(mem) // (1024 * 1024)} GiB RAM, Linux {platform.release()}",
        "snow": "snowc " + cmd(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT) + " (working tree), release build, -O2, SNOW_WS_WORKER_THREADS=1",
        "rust": cmd(["rustc", "--version"]) + ", tokio-tungstenite 0.28, RUST_WS_WORKER_THREADS=1",
        "bun": "Bun " + cmd([str(BENCH / "peers/bun/node_modules/.bin/bun"), "--version"]),
        "node-ws": "Node " + cmd(["node", "--version"]) + ", ws " + pkg(BENCH / "peers/node-ws/node_modules/ws/package.json"),
        "socketio": "Node " + cmd(["node", "--version"]) + ", socket.io " + pkg(BENCH / "peers/socketio/node_modules/socket.io/package.json"),
    }


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k"
    return f"{v:.0f}"


def write_results(results, vers, meta):
    names = list(SERVERS)
    lines = ["# WebSocket benchmark results", "",
             f"Generated by `bench/run.sh`; the run started {meta.get('date', '?')} and took "
             f"{meta.get('minutes', '?')} minutes "
             "(do not edit: rerun the command; the analysis below comes from `bench/analysis.md`).", "",
             "## Machine and versions", "", f"- machine: {vers['machine']}"]
    lines += [f"- {n}: {vers[n]}" for n in names]
    lines += ["", "Every server runs pinned to CPU " + SERVER_CPU + " and the load generator (one thread, "
              "`target/release/loadgen`) to CPU " + LOADGEN_CPU + " with `taskset`, so each server gets exactly one "
              "core and the client the other. Snow and the Rust server run one worker thread; Bun and Node are "
              "single-threaded JavaScript. Each server is started fresh for each scenario. "
              f"Measurement window {DURATION:g} s after 0.5 s of warm-up; best of {REPEAT} run(s). "
              "Payloads are 64-byte text messages carrying the sender and a send timestamp (256 bytes of "
              "chat-like words in the compressed scenario); latency is "
              "from send to each delivery. RSS is the server's peak RSS (VmHWM) during the scenario.", ""]
    # Goals (issue 12 and 13): Snow against Bun in every scenario.
    lines += ["## Goals", ""]
    goal_rows = []

    def pair(scen):
        row = results.get(scen, {})
        s, b = row.get("snow"), row.get("bun")
        return (s, b) if value(s, scen) and value(b, scen) else (None, None)

    for scen, _, _, _ in SCENARIOS:
        s, b = pair(scen)
        if scen == "idle":
            if s:
                ok = s["bytes_per_conn"] <= b["bytes_per_conn"]
                goal_rows.append(f"| idle: bytes per connection <= Bun's | {s['bytes_per_conn']:,.0f} vs {b['bytes_per_conn']:,.0f} | {'met' if ok else 'NOT met'} |")
            continue
        want = 1.5 if scen.startswith("fanout") else 1.0
        if not s:
            goal_rows.append(f"| {scen}: Snow >= {want}x Bun | missing result | NOT met |")
            continue
        ratio = s["rate"] / b["rate"]
        goal_rows.append(f"| {scen}: Snow >= {want}x Bun | {ratio:.2f}x | {'met' if ratio >= want else 'NOT met'} |")
        ok = s["p99_us"] <= b["p99_us"]
        goal_rows.append(f"| {scen}: p99 <= Bun's | {s['p99_us'] / 1000:.2f} ms vs {b['p99_us'] / 1000:.2f} ms | {'met' if ok else 'NOT met'} |")
        if scen == "fanout-1024":
            ok = s["hwm_kib"] <= b["hwm_kib"]
            goal_rows.append(f"| fanout-1024: peak RSS <= Bun's | {s['hwm_kib'] / 1024:.0f} MiB vs {b['hwm_kib'] / 1024:.0f} MiB | {'met' if ok else 'NOT met'} |")
        if "--deflate" in SCENARIO_ARGS[scen]:
            goal_rows.append(f"| {scen}: compressed payload bytes per delivery (Snow, Bun) | {s['wire_bytes_per_delivery']:.0f}, {b.get('wire_bytes_per_delivery', 0):.0f} | report |")
    lines += ["| goal | measured | status |", "| --- | --- | --- |"] + goal_rows + [""]
    lines += ["## Results", "", "Ratios are to the best server of the scenario (1.00 = best; for the idle "
              "scenario lower memory is better, so the ratio is best/this).", "",
              "![deliveries per second per server and scenario](results.png)", ""]
    for scen, title, _, unit in SCENARIOS:
        row = results.get(scen, {})
        vals = {n: value(row.get(n), scen) for n in names}
        present = [v for v in vals.values() if v]
        best = (min(present) if scen == "idle" else max(present)) if present else None
        lines += [f"### {scen}: {title}", ""]
        if scen == "idle":
            lines += ["| server | bytes/connection | ratio to best | RSS at 10k conns | connect time | errors |",
                      "| --- | ---: | ---: | ---: | ---: | --- |"]
        else:
            lines += [f"| server | {unit} | ratio to best | p50 latency | p99 latency | peak RSS | errors |",
                      "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for n in names:
            res = row.get(n)
            if not res or "error" in res:
                lines.append(f"| {n} | failed | - | - | - | - | {(res or {}).get('error', 'not run')} |")
                continue
            v = vals[n]
            ratio = (best / v if scen == "idle" else v / best) if best and v else 0
            if scen == "idle":
                lines.append(f"| {n} | {v:,.0f} | {ratio:.2f} | {res['rss_kib'] / 1024:.1f} MiB | {res['connect_secs']:.2f} s | {res['errors']} |")
            else:
                notes = [f"{res['errors']}"]
                if "--deflate" in SCENARIO_ARGS[scen] and "wire_bytes_per_delivery" in res:
                    notes.append(f"{res['wire_bytes_per_delivery']:.0f} payload bytes per delivery on the wire")
                if "--slow" in SCENARIO_ARGS[scen]:
                    notes.append(f"RSS at the end {res['rss_kib'] / 1024:.0f} MiB")
                if res.get("closed_by_server"):
                    notes.append("closed by the server: " + ", ".join(f"{c} x {k}" for k, c in res["closed_by_server"].items()))
                lines.append(f"| {n} | {fmt_rate(v)} | {ratio:.2f} | {res['p50_us'] / 1000:.2f} ms | {res['p99_us'] / 1000:.2f} ms | {res['hwm_kib'] / 1024:.0f} MiB | {'; '.join(notes)} |")
        lines.append("")
    if any(results.get(scen) for scen, *_ in CLUSTER_SCENARIOS):
        lines += cluster_lines(results) + [""]
    if any(results.get(scen) for scen, *_ in HISTORY_SCENARIOS):
        lines += history_lines(results) + [""]
    if any(results.get(scen) for scen, _ in METRICS_SCENARIOS):
        lines += metrics_lines(results) + [""]
    analysis = BENCH / "analysis.md"
    if analysis.exists():
        lines += [analysis.read_text().rstrip(), ""]
    (BENCH / "RESULTS.md").write_text("\n".join(lines))


def plot(results):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return
    names = list(SERVERS)
    rate_scens = [s for s, *_ in SCENARIOS if s != "idle"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [4, 1]})
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        ys = [value(results.get(s, {}).get(n), s) or 0 for s in rate_scens]
        ax.bar([x + i * width for x in range(len(rate_scens))], ys, width, label=n)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(rate_scens))])
    ax.set_xticklabels(rate_scens)
    ax.set_yscale("log")
    ax.set_ylabel("messages delivered per second (log)")
    ax.set_title("throughput per scenario (higher is better)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    ys = [value(results.get("idle", {}).get(n), "idle") or 0 for n in names]
    ax2.bar(names, [y / 1024 for y in ys], color=[f"C{i}" for i in range(len(names))])
    ax2.set_title("idle: KiB per connection\n(lower is better)")
    ax2.tick_params(axis="x", rotation=45)
    fig.suptitle("Snow vs Bun, Node ws, Socket.IO, hand-written Rust (server on 1 core, client on the other)")
    fig.tight_layout()
    fig.savefig(BENCH / "results.png", dpi=100)


def main():
    OUT.mkdir(exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    only_servers = [s for s in os.environ.get("BENCH_SERVERS", "").split(",") if s] or [s for s in SERVERS if s != "snow-publish"]
    only_scens = [s for s in os.environ.get("BENCH_SCENARIOS", "").split(",") if s] or \
        [s for s, *_ in SCENARIOS + CLUSTER_SCENARIOS + METRICS_SCENARIOS + HISTORY_SCENARIOS]
    raw_path = OUT / "results.json"
    results = json.loads(raw_path.read_text()) if raw_path.exists() and os.environ.get("BENCH_MERGE") else {}
    t0 = time.time()
    if os.environ.get("BENCH_REPORT_ONLY"):
        only_scens = []
        results = json.loads(raw_path.read_text())
    for scen, title, args, unit in SCENARIOS:
        if scen not in only_scens:
            continue
        for rep in range(REPEAT):
            for name in only_servers:
                skip = SCENARIO_SKIP.get(scen, {}).get(name)
                res = {"error": f"not run: {skip}"} if skip else run_one(name, args, scen)
                prev = results.get(scen, {}).get(name) if rep > 0 else None
                results.setdefault(scen, {})[name] = better(prev, res, scen)
                shown = res.get("error") or f"{value(res, scen):,.0f} {unit}, p50 {res.get('p50_us')} us, p99 {res.get('p99_us')} us, errors {res.get('errors')}"
                print(f"[{time.time() - t0:6.1f}s] {scen:12} {name:9} {shown}", flush=True)
        raw_path.write_text(json.dumps(results, indent=1))
    for scen, title, args, unit in CLUSTER_SCENARIOS:
        if scen not in only_scens:
            continue
        for rep in range(REPEAT):
            for name in CLUSTER_SERVERS:
                res = run_cluster(name, args)
                prev = results.get(scen, {}).get(name) if rep > 0 else None
                results.setdefault(scen, {})[name] = better(prev, res, scen)
                shown = res.get("error") or (f"{value(res, scen):,.0f} {unit}, p50 {res.get('p50_us')} us, p99 {res.get('p99_us')} us, "
                                             f"cross p50 {res.get('p50_cross_us', '-')} us, errors {res.get('errors')}")
                print(f"[{time.time() - t0:6.1f}s] {scen:12} {name:14} {shown}", flush=True)
        raw_path.write_text(json.dumps(results, indent=1))
    for scen, title, args, unit in HISTORY_SCENARIOS:
        if scen not in only_scens:
            continue
        for rep in range(REPEAT):
            for name in HISTORY_SERVERS:
                res = run_cluster(name, args, HISTORY_SERVERS)
                prev = results.get(scen, {}).get(name) if rep > 0 else None
                results.setdefault(scen, {})[name] = better(prev, res, scen)
                shown = res.get("error") or (f"{value(res, scen):,.0f} {unit}, p50 {res.get('p50_us')} us, p99 {res.get('p99_us')} us, "
                                             f"cross p50 {res.get('p50_cross_us', '-')} us, errors {res.get('errors')}")
                print(f"[{time.time() - t0:6.1f}s] {scen:12} {name:22} {shown}", flush=True)
        raw_path.write_text(json.dumps(results, indent=1))
    for scen, base in METRICS_SCENARIOS:
        if scen not in only_scens:
            continue
        row = results.setdefault(scen, {})
        for v in METRICS_VARIANTS:
            row[v + "-runs"] = []
        for rep in range(max(REPEAT, 1)):
            for v, env in METRICS_VARIANTS.items():
                res = run_one("snow", SCENARIO_ARGS[base], base, extra_env=env,
                              scrape_port=METRICS_PORT if env else None)
                row[v + "-runs"].append(res)
                shown = res.get("error") or f"{value(res, base):,.0f} deliveries/s, p99 {res.get('p99_us')} us, scrapes {res.get('scrapes', '-')}"
                print(f"[{time.time() - t0:6.1f}s] {scen:12} {v:11} {shown}", flush=True)
        raw_path.write_text(json.dumps(results, indent=1))
    if only_scens and all(s in {c for c, _ in METRICS_SCENARIOS} for s in only_scens):
        # Only the metrics scenarios ran: replace that section, keep the rest.
        update_section("metrics", metrics_lines(results))
        print(f"updated the metrics section of {BENCH / 'RESULTS.md'}")
        return
    if only_scens and all(s in {c for c, *_ in CLUSTER_SCENARIOS} for s in only_scens):
        # Only cluster scenarios ran: replace that section, keep the rest.
        update_cluster_section(results)
        print(f"updated the cluster section of {BENCH / 'RESULTS.md'}")
        return
    if only_scens and all(s in {c for c, *_ in HISTORY_SCENARIOS} for s in only_scens):
        update_section("history", history_lines(results))
        print(f"updated the history section of {BENCH / 'RESULTS.md'}")
        return
    if not os.environ.get("BENCH_REPORT_ONLY"):
        results["_meta"] = {"date": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0)), "minutes": round((time.time() - t0) / 60, 1)}
        raw_path.write_text(json.dumps(results, indent=1))
    write_results(results, versions(), results.get("_meta", {}))
    plot(results)
    print(f"wrote {BENCH / 'RESULTS.md'} and {BENCH / 'results.png'}")


if __name__ == "__main__":
    main()
