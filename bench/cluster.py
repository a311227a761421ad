"""The order pipeline on one Redis node and on a Redis Cluster, side by side.

    .venv/bin/python bench/cluster.py                       # 3000 orders at 300/s, 1 worker
    .venv/bin/python bench/cluster.py --orders 5000 --rate 400 --workers 2

For each backend in turn, from the same redis-server binary (the tests' Redis 8.2):

* ``redis``: one redis-server;
* ``redis-cluster``: 3 masters and 3 replicas (``tests/support/redis_cluster.py``),
  reached with a ``redis+cluster://`` URL;

it starts ``streamlite run --no-workers`` (the API) and ``--workers`` worker processes
(``streamlite run --no-http``), sends ``--orders`` orders at ``--rate`` per second with
``streamlite load`` from another process, and reads its JSON report: orders shipped per
second (first created to last shipped) and latency created -> shipped. A rate above what
the workers keep up with measures the pipeline's throughput; below, its latency. The
table gives the cluster's numbers and their ratio to the single node's, and the work per
order that does not depend on how busy the machine is: commands the servers executed
(``INFO commandstats`` of every master, before and after; commands a script runs count
too) and script calls (``EVALSHA``), divided by the orders accepted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.support.redis_cluster import start_cluster  # noqa: E402
from tests.support.redis_proc import free_port, start_redis, wait_port  # noqa: E402

MIX = "payment=0.05,email=0.01,stock=0.02,gateway=0.01,invalid=0.01"
PY = sys.executable


def _env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + e.get("PYTHONPATH", "")
    return e


def command_calls(ports: list[int]) -> tuple[int, int]:
    """(commands, EVALSHA calls) executed so far by the servers on ``ports``."""
    import redis

    total = evalsha = 0
    for port in ports:
        with redis.Redis(port=port) as c:
            for name, st in c.info("commandstats").items():
                total += int(st["calls"])
                if name == "cmdstat_evalsha":
                    evalsha += int(st["calls"])
    return total, evalsha


def run_once(url: str, a: argparse.Namespace, ports: list[int]) -> dict[str, Any]:
    """API process + worker processes on ``url`` (served by the masters on ``ports``);
    the load generator's JSON result, with the commands per order."""
    port = free_port()
    err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the run
    procs = [subprocess.Popen([PY, "-m", "streamlite", "run", "--url", url, "--port", str(port),
                               "--no-workers", "--demo", "0"], cwd=ROOT, env=_env(),
                              stdout=subprocess.DEVNULL, stderr=err)]
    for _ in range(a.workers):
        procs.append(subprocess.Popen([PY, "-m", "streamlite", "run", "--url", url, "--no-http",
                                       "--consumers", str(a.consumers)], cwd=ROOT, env=_env(),
                                      stdout=subprocess.DEVNULL, stderr=err))
    try:
        wait_port(port, timeout=60, proc=procs[0])
        time.sleep(1.0)  # the workers' groups and reads in place
        before = command_calls(ports)
        out = subprocess.run([PY, "-m", "streamlite", "load", "--api",
                              f"http://127.0.0.1:{port}", "--orders", str(a.orders), "--rate",
                              str(a.rate), "--failure-mix", MIX, "--seed", str(a.seed),
                              "--json"], cwd=ROOT, env=_env(), capture_output=True, text=True)
        if out.returncode not in (0, 1) or not out.stdout.strip():
            err.seek(0)
            raise RuntimeError(f"load failed: {out.stderr[-2000:]}\n{err.read()[-2000:]}")
        res: dict[str, Any] = json.loads(out.stdout)
        after = command_calls(ports)
        n = max(1, int(res["accepted"]))
        res["commands_per_order"] = (after[0] - before[0]) / n
        res["scripts_per_order"] = (after[1] - before[1]) / n
        return res
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=3000)
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--workers", type=int, default=1, help="worker processes (--no-http)")
    ap.add_argument("--consumers", type=int, default=2, help="consumers per group and process")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    results: dict[str, dict[str, Any]] = {}
    srv = start_redis()
    try:
        results["redis"] = run_once(f"redis://127.0.0.1:{srv.port}/0", a, [srv.port])
    finally:
        srv.cleanup()
    cl = start_cluster()
    try:
        results["redis-cluster"] = run_once(cl.url(), a, [n.port for n in cl.primaries()])
    finally:
        cl.cleanup()
    print(f"# bench/cluster.py --orders {a.orders} --rate {a.rate:g} --workers {a.workers} "
          f"--consumers {a.consumers} --seed {a.seed}")
    print("| backend | shipped/s | p50 | p90 | p99 | unfinished | commands/order | "
          "scripts/order |")
    print("|---|---|---|---|---|---|---|---|")
    base = results["redis"]
    for name, r in results.items():
        lat = r["latency_ms"]
        ratio = "" if name == "redis" else \
            f" ({r['throughput_shipped_per_s'] / max(base['throughput_shipped_per_s'], 0.1):.2f}x)"
        print(f"| {name} | {r['throughput_shipped_per_s']:.1f}{ratio} | {lat['p50']:.0f} ms | "
              f"{lat['p90']:.0f} ms | {lat['p99']:.0f} ms | {r['unfinished']} | "
              f"{r['commands_per_order']:.1f} | {r['scripts_per_order']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
