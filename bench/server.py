"""Server benchmark: redis-benchmark against redis-server and the streamlite server,
side by side in one run, printed as requests per second and streamlite/redis ratios.

    .venv/bin/python bench/server.py                 # 3 interleaved rounds, median
    .venv/bin/python bench/server.py --rounds 5 --requests 200000

Cases: PING/SET/GET with 50 clients, unpipelined and with -P 32, and
``XADD s * f v`` likewise (the design targets: XADD unpipelined >= 0.7x,
pipelined >= 0.5x redis-server). Both servers run without persistence. The
machine has 2 cores shared by the benchmark client and the server, so rounds are
interleaved and the median is reported.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

CASES: list[tuple[str, list[str]]] = [
    ("PING", ["-t", "ping_mbulk"]),
    ("SET", ["-t", "set"]),
    ("GET", ["-t", "get"]),
    ("XADD", ["XADD", "bench:s", "*", "f", "v"]),
    # a script command: runs in the server's greenlet (busy scripts, server/scripts.py)
    ("EVAL", ["EVAL", "return 1", "0"]),
]

_RPS = re.compile(r"([\d.]+) requests per second")


def run_case(port: int, args: list[str], requests: int, clients: int, pipeline: int) -> float:
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(requests), "-c", str(clients),
           "-P", str(pipeline), "-q", *args]  # a custom command comes after the options
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    found = _RPS.findall(out.replace("\r", "\n"))
    return float(found[-1]) if found else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--only", action="append", help="run only these cases (PING, EVAL ...)")
    args = ap.parse_args()
    if args.only:
        CASES[:] = [c for c in CASES if c[0] in args.only]
    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark is not installed", file=sys.stderr)
        return 1
    from tests.support.redis_proc import start_redis, start_streamlite

    redis = start_redis()
    ours = start_streamlite(["--save", ""])
    results: dict[tuple[str, int, str], list[float]] = {}
    try:
        for _ in range(args.rounds):
            for name, case in CASES:
                for pipeline in (1, 32):
                    for who, srv in (("redis", redis), ("streamlite", ours)):
                        rps = run_case(srv.port, case, args.requests, args.clients, pipeline)
                        results.setdefault((name, pipeline, who), []).append(rps)
    finally:
        redis.cleanup()
        ours.cleanup()
    print(f"redis-benchmark -n {args.requests} -c {args.clients}, median of {args.rounds} "
          f"interleaved rounds")
    print(f"{'case':<14}{'redis-server':>14}{'streamlite':>14}{'ratio':>8}")
    for name, _ in CASES:
        for pipeline in (1, 32):
            r = statistics.median(results[(name, pipeline, "redis")])
            s = statistics.median(results[(name, pipeline, "streamlite")])
            label = name if pipeline == 1 else f"{name} -P {pipeline}"
            ratio = f"{s / r:.2f}x" if r else "n/a"
            print(f"{label:<14}{r:>14,.0f}{s:>14,.0f}{ratio:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
