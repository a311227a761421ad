"""Bitmap, HyperLogLog, Geo and SORT commands: redis-benchmark against redis-server
and the streamlite server side by side, printed as requests per second and
streamlite/redis ratios (median of interleaved rounds).

    .venv/bin/python bench/datatypes.py                  # 3 rounds, 20,000 requests per case

Keys are prepared on both servers first: a 1 MB bitmap, an HLL that turned dense,
a sparse one (1,000 elements), a GEO set of 1,000 points around one city, a list of
100 numbers for SORT. Both servers run without persistence, 10 clients.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

from bench.server import run_case  # noqa: E402

CASES: list[tuple[str, list[str]]] = [
    # (redis-benchmark's __rand_int__ is zero-padded, which no offset parser accepts)
    ("SETBIT 1MB same", ["SETBIT", "bench:bits", "4000000", "1"]),
    ("GETBIT 1MB", ["GETBIT", "bench:bits", "4000001"]),
    ("BITCOUNT 1MB", ["BITCOUNT", "bench:bits"]),
    ("PFADD dense", ["-r", "1000000", "PFADD", "bench:dense", "__rand_int__"]),
    ("PFADD sparse", ["-r", "1000000", "PFADD", "bench:sparse", "__rand_int__"]),
    ("PFCOUNT 2 keys", ["PFCOUNT", "bench:dense", "bench:sparse"]),
    ("GEOADD", ["-r", "100000", "GEOADD", "bench:geoadd", "13.36", "38.11", "m:__rand_int__"]),
    ("GEOSEARCH 50km", ["GEOSEARCH", "bench:geo", "FROMLONLAT", "13.4", "38.1", "BYRADIUS",
                        "50", "km", "ASC", "COUNT", "10"]),
    ("SORT 100", ["SORT", "bench:list"]),
]


def prepare(port: int) -> None:
    import redis

    r = redis.Redis(port=port)
    rng = random.Random(1)
    r.flushall()
    r.setbit("bench:bits", 8 * 1024 * 1024 - 1, 1)
    r.pfadd("bench:dense", *range(20000))
    r.pfadd("bench:sparse", *range(1000))
    pts = []
    for i in range(1000):
        pts += [13 + rng.random(), 38 + rng.random() * 0.5, f"p{i}"]
    r.geoadd("bench:geo", pts)
    r.rpush("bench:list", *[rng.randrange(10**6) for _ in range(100)])
    r.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=10)
    args = ap.parse_args()
    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark is not installed", file=sys.stderr)
        return 1
    from tests.support.redis_proc import start_redis, start_streamlite

    redis_srv = start_redis()
    ours = start_streamlite(["--save", ""])
    results: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.rounds):
            for srv in (redis_srv, ours):
                prepare(srv.port)
            for name, case in CASES:
                for who, srv in (("redis", redis_srv), ("streamlite", ours)):
                    rps = run_case(srv.port, case, args.requests, args.clients, 1)
                    results.setdefault((name, who), []).append(rps)
    finally:
        redis_srv.cleanup()
        ours.cleanup()
    print(f"redis-benchmark -n {args.requests} -c {args.clients}, median of {args.rounds} "
          "interleaved rounds")
    print(f"{'case':<16}{'redis-server':>14}{'streamlite':>14}{'ratio':>8}")
    for name, _ in CASES:
        r = statistics.median(results[(name, "redis")])
        s = statistics.median(results[(name, "streamlite")])
        ratio = f"{s / r:.2f}x" if r else "n/a"
        print(f"{name:<16}{r:>14,.0f}{s:>14,.0f}{ratio:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
