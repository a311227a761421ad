"""The C accelerator against the pure-Python path (and redis-server), in one run.

    python -m bench.accel [--requests 200000] [--rounds 3] [--only xrange ...]

Server rows: redis-server, the streamlite server as installed (accelerated when
built), the same with its compiled dispatch of pipelined commands turned off
(``STREAMLITE_FASTPATH=0``, see server/fastpath.py) and the streamlite server with
``STREAMLITE_PURE=1``, under redis-benchmark (50 clients), rounds interleaved,
medians reported. Two figures per server:

- requests per second (what ``make bench`` reports; on a shared machine it swings
  with everything else that runs), and
- the server process's CPU time per request (user + system, from /proc/PID/stat
  over the run): what the server itself spent, much steadier under outside load.

In-process rows (``--inproc`` runs them in a subprocess per path) time the
accelerated functions' callers through the engine with ``time.process_time``:
XRANGE of 100 entries (execute + encode), RESTORE of a stream of 100,000
entries from Redis's DUMP format (listpacks), and XADD/PING per command in a read
of 32 through ``fast_run`` and through ``Engine.execute``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

XADD = ["XADD", "bench:s", "*", "f", "v"]
XRANGE = ["XRANGE", "bench:r", "-", "+", "COUNT", "100"]
# name, redis-benchmark arguments, pipeline, share of --requests
CASES: list[tuple[str, list[str], int, float]] = [
    ("ping_p32", ["-t", "ping_mbulk"], 32, 5.0),
    ("xadd_p32", XADD, 32, 5.0),
    ("xadd", XADD, 1, 1.0),
    ("xrange", XRANGE, 1, 0.1),
]
LABELS = {"ping_p32": "PING, -P 32", "xadd_p32": "XADD, -P 32", "xadd": "XADD",
          "xrange": "XRANGE of 100 entries"}
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def bench(port: int, pid: int, n: int, pipeline: int, cmd: Sequence[str]) -> tuple[float, float]:
    """(requests per second, server CPU microseconds per request)."""
    args = ["redis-benchmark", "-p", str(port), "-n", str(n), "-c", "50", "-P", str(pipeline),
            "--csv", *cmd]
    c0 = cpu_seconds(pid)
    out = subprocess.run(args, capture_output=True, text=True, timeout=900).stdout
    c1 = cpu_seconds(pid)
    rows = [line for line in out.splitlines() if line and not line.startswith('"test"')]
    m = re.findall(r'"([\d.]+)"', rows[-1]) if rows else []
    if not m:
        raise RuntimeError(f"redis-benchmark printed nothing usable: {out!r}")
    return float(m[0]), (c1 - c0) * 1e6 / n


def inproc() -> dict[str, Any]:
    """Per-operation CPU times of the accelerated callers, on this process's path."""
    from bench.run import fields_of
    from streamlite import accel
    from streamlite.engine.core import Engine
    from streamlite.protocol.resp import encode

    e = Engine()
    c = e.client()
    for i in range(1000):
        e.execute(c, [b"XADD", b"r", b"*", *fields_of(i)])
    argv = [b"XRANGE", b"r", b"-", b"+", b"COUNT", b"100"]
    k = 3000
    t = time.process_time()
    for _ in range(k):
        encode(e.execute(c, argv), 2)
    xrange_us = (time.process_time() - t) * 1e6 / k
    for i in range(100_000):
        e.execute(c, [b"XADD", b"big", b"*", *fields_of(i)])
    payload = e.execute(c, [b"DUMP", b"big"])
    times = []
    for j in range(3):
        t = time.process_time()
        e.execute(c, [b"RESTORE", b"copy%d" % j, b"0", payload])
        times.append(time.process_time() - t)
    out = {"path": accel.ACTIVE, "xrange_us": xrange_us, "restore_s": min(times)}
    out.update(per_command(e))
    return out


def per_command(e: Any) -> dict[str, float]:
    """CPU us per command of a read of 32 XADDs (PINGs): through ``fast_run`` (the
    server's compiled dispatch, when active) and through ``Engine.execute``."""
    from streamlite.protocol.resp import encode_command
    from streamlite.server import fastpath

    c = e.client()
    out: dict[str, float] = {}
    for name, argv in (("xadd", [b"XADD", b"fp", b"*", b"f", b"v"]), ("ping", [b"PING"])):
        e.execute(c, argv)
        k = 5000
        if fastpath.fast_run is not None:
            data = encode_command(argv) * 32
            db = c.db
            t = time.process_time()
            for _ in range(k):
                fastpath.fast_run(data, 0, 1 << 20, db.data, db.expires, 0, e.watched,
                                  e.blocked_on, None, None, 100, 4096, 10000, db.ks_dirty,
                                  db.ks_cap)
            out[f"{name}_fast_us"] = (time.process_time() - t) * 1e6 / (k * 32)
        t = time.process_time()
        for _ in range(k * 8):
            e.execute(c, argv)
        out[f"{name}_execute_us"] = (time.process_time() - t) * 1e6 / (k * 8)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", action="append")
    ap.add_argument("--inproc", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inproc:
        print(json.dumps(inproc()))
        return 0
    from tests.support.redis_proc import start_redis, start_streamlite

    from bench.run import fill

    cases = [c for c in CASES if not a.only or c[0] in a.only]
    procs = {"redis": start_redis()}
    procs["c"] = start_streamlite(["--save", ""])
    for who, var in (("nofast", "STREAMLITE_FASTPATH"), ("pure", "STREAMLITE_PURE")):
        os.environ[var] = "0" if who == "nofast" else "1"
        try:
            procs[who] = start_streamlite(["--save", ""])
        finally:
            del os.environ[var]
    res: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for p in procs.values():
            fill(p.port, b"bench:r", 1000)
        for _ in range(a.rounds):
            for name, cmd, pipeline, share in cases:
                for who, p in procs.items():
                    n = int(a.requests * share)
                    res.setdefault((name, who), []).append(
                        bench(p.port, p.proc.pid, n, pipeline, cmd))
    finally:
        for p in procs.values():
            p.cleanup()
    print(f"redis-benchmark -c 50, --requests {a.requests}, median of {a.rounds} interleaved "
          "rounds; CPU = server process CPU time per request (us)")
    print("| case | redis-server | streamlite c | c, no fast path | streamlite pure | c / redis "
          "| no fast path / redis | pure / redis | CPU redis | CPU c | CPU no fast path "
          "| CPU pure |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, *_ in cases:
        med = {who: (statistics.median(r for r, _ in res[(name, who)]),
                     statistics.median(u for _, u in res[(name, who)])) for who in procs}
        rate = {who: med[who][0] / med["redis"][0] for who in procs}
        print(f"| {LABELS[name]} | {med['redis'][0]:,.0f} | {med['c'][0]:,.0f} | "
              f"{med['nofast'][0]:,.0f} | {med['pure'][0]:,.0f} | {rate['c']:.2f}x | "
              f"{rate['nofast']:.2f}x | {rate['pure']:.2f}x | {med['redis'][1]:.2f} | "
              f"{med['c'][1]:.2f} | {med['nofast'][1]:.2f} | {med['pure'][1]:.2f} |")
    rows = []
    for pure in (False, True):
        env = dict(os.environ)
        if pure:
            env["STREAMLITE_PURE"] = "1"
        out = subprocess.run([sys.executable, "-m", "bench.accel", "--inproc"], env=env,
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print("\nin process (CPU time): | path | XRANGE 100 + encode (us) | RESTORE 100k entries (s) "
          "| XADD: fast_run, execute (us) | PING: fast_run, execute (us) |")
    for r in rows:
        fast = [f"{r[k]:.2f}" if k in r else "-" for k in ("xadd_fast_us", "ping_fast_us")]
        print(f"| {r['path']} | {r['xrange_us']:.1f} | {r['restore_s']:.3f} | "
              f"{fast[0]}, {r['xadd_execute_us']:.2f} | {fast[1]}, {r['ping_execute_us']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
