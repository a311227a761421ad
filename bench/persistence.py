"""Persistence benchmark: redis-server and the streamlite server configured the same, side
by side in one run, printed with streamlite/redis ratios.

    .venv/bin/python bench/persistence.py                    # everything
    .venv/bin/python bench/persistence.py --skip-load        # XADD throughput only
    .venv/bin/python bench/persistence.py --entries 200000   # a smaller load test
    .venv/bin/python bench/persistence.py --quick            # a smoke run (bench.run --quick)

1. XADD throughput with ``appendonly yes`` and ``appendfsync always`` / ``everysec``:
   ``redis-benchmark -c 50 XADD bench:s * f v``, unpipelined and with ``-P 32``
   (median of interleaved rounds). Under ``always`` streamlite fsyncs once per turn
   of its event loop for every client served in it (group commit), as Redis does
   once per event loop iteration.
2. Start-up time with one stream of N entries (default 1,000,000, three small
   fields each), from the process start until ``INFO persistence`` says
   ``loading:0``: from a snapshot (Redis: its RDB), from an AOF whose base was
   just rewritten (streamlite: RESTORE payloads; Redis: RDB preamble), and from an
   AOF made only of the XADDs (no rewrite: every command replayed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

_RPS = re.compile(r"([\d.]+) requests per second")


def run_benchmark(port: int, requests: int, clients: int, pipeline: int) -> float:
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(requests), "-c", str(clients),
           "-P", str(pipeline), "-q", "XADD", "bench:s", "*", "f", "v"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900).stdout
    found = _RPS.findall(out.replace("\r", "\n"))
    return float(found[-1]) if found else 0.0


def start(who: str, extra: list[str], dir: str):  # type: ignore[no-untyped-def]
    from tests.support.redis_proc import start_redis, start_streamlite

    return (start_redis if who == "redis" else start_streamlite)(extra, dir=dir)


def wait_loaded(port: int, t0: float, timeout: float = 600) -> float:
    """Seconds from ``t0`` until the server answers with ``loading:0``."""
    import redis

    r = redis.Redis(port=port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if r.info("persistence")["loading"] == 0:
                return time.monotonic() - t0
        except (redis.BusyLoadingError, redis.ConnectionError):
            pass
        time.sleep(0.005)
    raise TimeoutError("still loading")


def wait_idle(port: int) -> None:
    import redis

    r = redis.Redis(port=port)
    while True:
        info = r.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["rdb_bgsave_in_progress"]:
            return
        time.sleep(0.05)


def fill(port: int, entries: int) -> None:
    """N entries of three small fields, pipelined (the same client for both servers)."""
    import redis

    r = redis.Redis(port=port)
    batch = 1000
    for start_ in range(0, entries, batch):
        p = r.pipeline(transaction=False)
        for i in range(start_, min(entries, start_ + batch)):
            p.xadd("events", {"order": i, "status": "paid", "amount": i % 997})
        p.execute()


def timed_start(who: str, extra: list[str], dir: str) -> float:
    from tests.support.redis_proc import free_port, wait_port

    port = free_port()
    if who == "redis":
        from tests.support.redis_proc import redis_server_binary

        cmd = [redis_server_binary() or "redis-server", "--port", str(port), "--bind",
               "127.0.0.1", "--dir", dir, "--daemonize", "no", "--loglevel", "warning", *extra]
    else:
        cmd = [sys.executable, "-m", "streamlite", "server", "--port", str(port), "--bind",
               "127.0.0.1", "--dir", dir, *extra]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, timeout=600, proc=proc)
        return wait_loaded(port, t0)
    finally:
        proc.kill()
        proc.wait()


def load_times(entries: int) -> dict[tuple[str, str], float]:
    """(case, who) -> seconds to start with ``entries`` stream entries ("empty": none)."""
    out: dict[tuple[str, str], float] = {}
    for who in ("redis", "streamlite"):
        d = tempfile.mkdtemp(prefix=f"bench-{who}-")
        try:
            out[("empty", who)] = min(timed_start(who, ["--appendonly", "no", "--save", ""], d)
                                      for _ in range(3))
        finally:
            shutil.rmtree(d, ignore_errors=True)
        snap = "dump.rdb" if who == "redis" else "dump.sldb"
        d = tempfile.mkdtemp(prefix=f"bench-{who}-")
        try:
            # the AOF made only of XADDs: no rewrite may run meanwhile
            srv = start(who, ["--appendonly", "yes", "--appendfsync", "no", "--save", "",
                              "--auto-aof-rewrite-percentage", "0",
                              "--dbfilename", snap], d)
            wait_loaded(srv.port, time.monotonic())
            t = time.monotonic()
            fill(srv.port, entries)
            fill_secs = time.monotonic() - t
            import redis

            r = redis.Redis(port=srv.port)
            r.save()
            srv.stop(sig_kill=True)
            print(f"  {who}: {entries:,} entries written in {fill_secs:.1f}s", flush=True)
            out[("AOF of XADDs", who)] = timed_start(
                who, ["--appendonly", "yes", "--dbfilename", snap], d)
            out[("snapshot", who)] = timed_start(
                who, ["--appendonly", "no", "--dbfilename", snap], d)
            srv = start(who, ["--appendonly", "yes", "--save", "", "--dbfilename", snap,
                              "--auto-aof-rewrite-percentage", "0"], d)
            wait_loaded(srv.port, time.monotonic())
            wait_idle(srv.port)
            redis.Redis(port=srv.port).bgrewriteaof()
            time.sleep(0.2)
            wait_idle(srv.port)
            srv.stop(sig_kill=True)
            out[("AOF after rewrite", who)] = timed_start(
                who, ["--appendonly", "yes", "--dbfilename", snap], d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=50_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-xadd", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run (what `bench.run --quick` passes): 1 round, 5,000 "
                         "requests, 50,000 entries")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.requests, args.entries = 1, 5_000, 50_000
    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark is not installed", file=sys.stderr)
        return 1
    if not args.skip_xadd:
        results: dict[tuple[str, int, str], list[float]] = {}
        for fsync in ("always", "everysec"):
            servers = {}
            dirs = []
            try:
                for who in ("redis", "streamlite"):
                    d = tempfile.mkdtemp(prefix=f"bench-{who}-")
                    dirs.append(d)
                    servers[who] = start(who, ["--appendonly", "yes", "--appendfsync", fsync,
                                               "--save", ""], d)
                for _ in range(args.rounds):
                    for pipeline in (1, 32):
                        for who, srv in servers.items():
                            rps = run_benchmark(srv.port, args.requests, args.clients, pipeline)
                            results.setdefault((fsync, pipeline, who), []).append(rps)
            finally:
                for srv in servers.values():
                    srv.cleanup()
                for d in dirs:
                    shutil.rmtree(d, ignore_errors=True)
        print(f"XADD bench:s * f v: redis-benchmark -n {args.requests} -c {args.clients}, "
              f"appendonly yes, median of {args.rounds} interleaved rounds")
        print(f"{'appendfsync':<22}{'redis-server':>14}{'streamlite':>14}{'ratio':>8}")
        for fsync in ("always", "everysec"):
            for pipeline in (1, 32):
                r = statistics.median(results[(fsync, pipeline, "redis")])
                s = statistics.median(results[(fsync, pipeline, "streamlite")])
                label = fsync if pipeline == 1 else f"{fsync} -P {pipeline}"
                ratio = f"{s / r:.2f}x" if r else "n/a"
                print(f"{label:<22}{r:>14,.0f}{s:>14,.0f}{ratio:>8}", flush=True)
    if not args.skip_load:
        print(f"\nstart-up with one stream of {args.entries:,} entries (process start to "
              f"loading:0)", flush=True)
        times = load_times(args.entries)
        er, es = times[("empty", "redis")], times[("empty", "streamlite")]
        print(f"{'loading from':<20}{'redis-server':>13}{'streamlite':>12}{'ratio':>7}"
              f"{'redis load':>12}{'sl load':>9}{'ratio':>7}")
        for case in ("snapshot", "AOF after rewrite", "AOF of XADDs"):
            r, s = times[(case, "redis")], times[(case, "streamlite")]
            lr, ls = max(r - er, 0.001), max(s - es, 0.001)
            print(f"{case:<20}{r:>12.2f}s{s:>11.2f}s{s / r:>6.1f}x{lr:>11.2f}s{ls:>8.2f}s"
                  f"{ls / lr:>6.1f}x")
        print(f"(start-up with no data: redis-server {er:.2f}s, streamlite {es:.2f}s; the "
              f"load columns subtract it; ratio = streamlite / redis-server, lower is better)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
