"""Embedded streamlite vs fakeredis, both in process through redis-py.

    python bench/embedded.py [--n 20000] [--repeats 3] [--profile] [--redis] [--attached]

Measures, on the same machine in the same run (median of ``--repeats``):

- XADD one by one                        (``r.xadd``)
- XADD pipelined, batches of 100         (``pipeline(transaction=False)``)
- XREADGROUP COUNT 100 + XACK            (messages consumed per second)

for ``streamlite.connect()`` (in memory), ``streamlite.connect(dir)`` (AOF,
``appendfsync everysec``) and ``fakeredis.FakeRedis()``; ``--redis`` adds
redis-py over TCP to a real redis-server for scale; ``--attached`` adds a client
attached to a data directory another process owns (the Redis protocol over the
directory's Unix socket, as every process but the owner uses it). Prints operations per
second and the ratio streamlite / fakeredis. ``--profile`` runs cProfile over
streamlite's XADD loop and prints where the time goes (the per-command overhead
of the embedded connection is the part this front owns).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import fakeredis  # noqa: E402

import streamlite  # noqa: E402

FIELDS = {"order_id": "1001", "status": "created", "amount": "50000"}


def xadd_single(r: Any, n: int) -> float:
    r.delete("bench:s")
    t0 = time.perf_counter()
    for _ in range(n):
        r.xadd("bench:s", FIELDS)
    return n / (time.perf_counter() - t0)


def xadd_pipelined(r: Any, n: int, batch: int = 100) -> float:
    r.delete("bench:p")
    t0 = time.perf_counter()
    done = 0
    while done < n:
        p = r.pipeline(transaction=False)
        for _ in range(batch):
            p.xadd("bench:p", FIELDS)
        p.execute()
        done += batch
    return done / (time.perf_counter() - t0)


def xreadgroup_ack(r: Any, n: int) -> float:
    r.delete("bench:g")
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.xadd("bench:g", FIELDS)
        if i % 1000 == 999:
            p.execute()
    p.execute()
    r.xgroup_create("bench:g", "g", id="0")
    t0 = time.perf_counter()
    done = 0
    while done < n:
        got = r.xreadgroup("g", "c", {"bench:g": ">"}, count=100)
        if not got:
            break
        ids = [mid for mid, _ in got[0][1]]
        r.xack("bench:g", "g", *ids)
        done += len(ids)
    return done / (time.perf_counter() - t0)


BENCHES: list[tuple[str, Callable[[Any, int], float]]] = [
    ("XADD one by one", xadd_single),
    ("XADD pipelined (100)", xadd_pipelined),
    ("XREADGROUP COUNT 100 + XACK", xreadgroup_ack),
]


def median_rate(make: Callable[[], Any], fn: Callable[[Any, int], float], n: int,
                repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        gc.collect()  # garbage of earlier runs must not bill this one (fair to both sides)
        r = make()
        try:
            rates.append(fn(r, n))
        finally:
            r.close()
    return statistics.median(rates)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--redis", action="store_true", help="also redis-py -> redis-server")
    ap.add_argument("--attached", action="store_true",
                    help="also a client attached to a directory another process owns")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-embedded-")
    durable_dir = os.path.join(tmp, "data")
    backends: list[tuple[str, Callable[[], Any]]] = [
        ("streamlite", lambda: streamlite.connect()),
        ("streamlite+aof", lambda: streamlite.connect(durable_dir)),
        ("fakeredis", lambda: fakeredis.FakeRedis()),
    ]
    srv = None
    if args.redis:
        import redis
        from tests.support.redis_proc import start_redis

        srv = start_redis()
        port = srv.port
        backends.append(("redis-server", lambda: redis.Redis(port=port)))
    owner = None
    if args.attached:
        import subprocess

        shared = os.path.join(tmp, "shared")
        owner = subprocess.Popen(
            [sys.executable, "-c", "import streamlite, sys, time\n"
             "r = streamlite.connect(sys.argv[1]); r.ping(); print('ready', flush=True)\n"
             "time.sleep(1e6)", shared], stdout=subprocess.PIPE, text=True)
        assert owner.stdout is not None and owner.stdout.readline().strip() == "ready"
        backends.append(("attached", lambda: streamlite.connect(shared)))
    try:
        print(f"python {sys.version.split()[0]}, n={args.n}, median of {args.repeats}")
        header = f"{'':30}" + "".join(f"{name:>16}" for name, _ in backends) + f"{'x fakeredis':>14}"
        print(header)
        for title, fn in BENCHES:
            rates = {name: median_rate(make, fn, args.n, args.repeats) for name, make in backends}
            ratio = rates["streamlite"] / rates["fakeredis"]
            print(f"{title:30}" + "".join(f"{rates[name]:>14,.0f}/s" for name, _ in backends)
                  + f"{ratio:>13.1f}x")
        if args.profile:
            r = streamlite.connect()
            prof = cProfile.Profile()
            prof.enable()
            xadd_single(r, args.n)
            prof.disable()
            r.close()
            print("\ncProfile of streamlite XADD one by one (top 25 by own time):")
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    finally:
        if srv is not None:
            srv.cleanup()
        if owner is not None:
            owner.kill()
            owner.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
