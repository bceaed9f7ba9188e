#!/usr/bin/env python3
"""Where a server's peak RSS goes under load (issue 28, goal 3): runs one
scenario against Snow (with SNOW_WS_METRICS_ADDR) and against the peers,
in turn, samples every 20 ms the server's resident memory
(/proc/PID/status: VmRSS, RssAnon, RssFile), the kernel's TCP buffers
(/proc/net/sockstat, the whole machine: the server's and the load
generator's sockets) and, for Snow, its own
accounting from /metrics (bytes queued for sending, Snow heap bytes, open
connections), and prints for each server the peak and what the queues
held at that moment. Uses bench/run.py's servers and scenarios; the raw
samples go to bench/out/rss-<scenario>.json.

  RSS_SCENARIO=fanout-1024 RSS_SERVERS=snow,bun RSS_REPEAT=3 \\
  .venv/bin/python bench/rss_profile.py
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

scen = os.environ.get("RSS_SCENARIO", "fanout-1024")
servers = os.environ.get("RSS_SERVERS", "snow,bun").split(",")
repeat = int(os.environ.get("RSS_REPEAT", "3"))
args = dict((s, a) for s, _, a, _ in run.SCENARIOS)[scen]
METRICS = ["snow_ws_outbound_queue_bytes", "snow_heap_bytes", "snow_ws_connections_open"]


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def tcp_mem():
    """The kernel's memory for TCP buffers, whole machine (bytes):
    /proc/net/sockstat's `TCP: ... mem N` is in pages."""
    try:
        with open("/proc/net/sockstat") as f:
            for line in f:
                if line.startswith("TCP:"):
                    parts = line.split()
                    return int(parts[parts.index("mem") + 1]) * 4096
    except (OSError, ValueError):
        pass
    return 0


def metrics(port):
    out = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as r:
            for line in r.read().decode().splitlines():
                name, _, value = line.partition(" ")
                if name in METRICS:
                    out[name] = float(value)
    except OSError:
        pass
    return out


class Sampler(threading.Thread):
    def __init__(self, pid, port):
        super().__init__(daemon=True)
        self.pid, self.port, self.samples = pid, port, []
        self.stopped = threading.Event()

    def run(self):
        t0 = time.time()
        while not self.stopped.wait(0.02):
            s = status(self.pid)
            s["tcp_mem"] = tcp_mem()
            if self.port:
                s.update(metrics(self.port))
            s["t"] = round(time.time() - t0, 3)
            self.samples.append(s)


def one(name):
    s = run.SERVERS[name]
    snow = name.startswith("snow")
    mport = run.METRICS_PORT
    env = dict(os.environ, PORT=str(run.PORT), **s["env"])
    if snow:
        env["SNOW_WS_METRICS_ADDR"] = f"127.0.0.1:{mport}"
    log = open(run.OUT / f"{name}.log", "ab")
    proc = subprocess.Popen(["taskset", "-c", run.SERVER_CPU] + s["cmd"], cwd=s["cwd"], env=env,
                            stdout=log, stderr=log, start_new_session=True)
    try:
        if not run.wait_port(run.PORT, proc):
            return {"error": "server did not start"}
        time.sleep(0.3)
        base = status(proc.pid)
        sampler = Sampler(proc.pid, mport if snow else None)
        sampler.start()
        cmd = ["taskset", "-c", run.LOADGEN_CPU, str(run.LOADGEN), "--addr", f"127.0.0.1:{run.PORT}",
               "--proto", s["proto"], "--pid", str(proc.pid), "--duration", str(run.DURATION)] + args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=run.DURATION + 180)
        sampler.stopped.set()
        sampler.join()
        res = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {"error": r.stderr[-300:]}
        samples = [x for x in sampler.samples if "VmRSS" in x]
        peak = max(samples, key=lambda x: x["VmRSS"]) if samples else {}
        queued = [x.get("snow_ws_outbound_queue_bytes", 0) for x in samples]
        both = max(samples, key=lambda x: x["VmRSS"] + x["tcp_mem"]) if samples else {}
        return dict(rate=res.get("rate"), hwm_kib=res.get("hwm_kib"), base=base, peak=peak,
                    max_queued=max(queued) if queued else 0, max_tcp=max((x["tcp_mem"] for x in samples), default=0),
                    peak_both=both.get("VmRSS", 0) + both.get("tcp_mem", 0), samples=samples)
    finally:
        run.stop(proc)
        time.sleep(0.5)


def mib(b):
    return f"{b / 2**20:6.1f}"


out = {}
for rep in range(repeat):
    for name in servers:
        r = one(name)
        out.setdefault(name, []).append(r)
        p, b = r.get("peak", {}), r.get("base", {})
        line = (f"{name:8} rep {rep}: rate {r.get('rate') or 0:>12,.0f}  start RSS {mib(b.get('VmRSS', 0))} MiB  "
                f"peak RSS {mib(p.get('VmRSS', 0))} (anon {mib(p.get('RssAnon', 0))}, file {mib(p.get('RssFile', 0))})  "
                f"hwm {(r.get('hwm_kib') or 0) / 1024:.1f} MiB  kernel TCP buffers at most {mib(r.get('max_tcp', 0))} MiB, "
                f"RSS + TCP buffers at most {mib(r.get('peak_both', 0))} MiB")
        if "snow_ws_outbound_queue_bytes" in p:
            line += (f"  at the peak: queued {mib(p['snow_ws_outbound_queue_bytes'])} MiB, "
                     f"Snow heaps {mib(p.get('snow_heap_bytes', 0))} MiB, "
                     f"{p.get('snow_ws_connections_open', 0):.0f} connections; most queued {mib(r['max_queued'])} MiB")
        print(line, flush=True)
run.OUT.mkdir(exist_ok=True)
(run.OUT / f"rss-{scen}.json").write_text(json.dumps(out))
print(f"\n== {scen}: peak RSS, median [min - max] over {repeat} runs")
for name in servers:
    peaks = [r["peak"].get("VmRSS", 0) for r in out[name] if r.get("peak")]
    both = [r["peak_both"] for r in out[name] if r.get("peak_both")]
    if peaks:
        print(f"{name:8} {mib(statistics.median(peaks))} MiB [{mib(min(peaks))} - {mib(max(peaks))}]; "
              f"with the kernel's TCP buffers (whole machine) {mib(statistics.median(both))} MiB "
              f"[{mib(min(both))} - {mib(max(both))}]")
