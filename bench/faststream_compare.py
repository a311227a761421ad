"""streamlite.events next to FastStream's Redis stream subscriber, on one redis-server,
in one run: acknowledged messages per second, no-op handler, typed (dict) payload.

    .venv/bin/pip install -e '.[bench]'                  # faststream[redis]
    .venv/bin/python bench/faststream_compare.py          # N=20000, 3 interleaved rounds
    .venv/bin/python bench/faststream_compare.py --n 5000 --rounds 1

Rows (each worker a process of its own, on a fresh redis-server 8.2 from the test extra):

* ``streamlite.events, 1 worker`` / ``4 workers``: ``streamlite worker
  bench.faststream_compare:sl_app --workers N`` (the supervisor of
  :mod:`streamlite.events.runner`), default :class:`ConsumerOptions`
  (``batch_size`` 100, ``concurrency`` 16);
* ``FastStream, 1 worker`` / ``4 workers``: N processes running a ``FastStream`` app
  whose ``RedisBroker`` subscriber reads ``StreamSub(stream, group=..., consumer=<unique>,
  max_records=100)`` (the same COUNT per read), acknowledging after the handler as
  FastStream does by default.

Method (the same for both): N entries are published first in the framework's own
format (streamlite's envelope; for FastStream, the fields of one message published by
its broker, copied N times), the group is created at ``$`` so the workers see nothing;
once every worker is ready, ``XGROUP SETID <stream> <group> 0`` releases the backlog and
the clock runs until the group has lag 0 and pending 0. Rounds are interleaved (round 1
of every row, then round 2...) and each figure is the median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

STREAM = "bench:cmp"
GROUP = "bench"

# ---------------------------------------------------------------- the streamlite app
from streamlite.events import App, ConsumerOptions, Context  # noqa: E402

sl_app = App(os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/0"),
             defaults=ConsumerOptions(start_id="$", block_ms=100, claim_interval_ms=5_000))


@sl_app.handler(STREAM, group=GROUP)
async def on_event(evt: dict, ctx: Context) -> None:
    return None


@sl_app.after_startup
async def _sl_ready() -> None:
    await sl_app.redis.incr("bench:ready")


# ---------------------------------------------------------------- the FastStream worker
def faststream_worker(url: str) -> None:
    from faststream import FastStream
    from faststream.redis import RedisBroker, StreamSub

    broker = RedisBroker(url)
    app = FastStream(broker)

    @broker.subscriber(stream=StreamSub(STREAM, group=GROUP,
                                        consumer=f"fs-{os.getpid()}-{uuid.uuid4().hex[:6]}",
                                        max_records=100, polling_interval=100))
    async def handle(msg: dict) -> None:
        return None

    @app.after_startup
    async def ready() -> None:
        await broker._connection.incr("bench:ready")  # type: ignore[union-attr]

    asyncio.run(app.run())


async def faststream_fields(url: str) -> dict[bytes, bytes]:
    """The fields of one message as FastStream's broker publishes it."""
    from faststream.redis import RedisBroker

    broker = RedisBroker(url)
    await broker.connect()
    await broker.publish({"order_id": 1, "amount": 12.5}, stream="bench:sample")
    await broker.stop()
    import redis

    c = redis.Redis.from_url(url)
    ((_, fields),) = c.xrange("bench:sample")
    c.delete("bench:sample")
    c.close()
    return dict(fields)


# ---------------------------------------------------------------- measuring
def fill(c: Any, n: int, kind: str, fs_fields: dict[bytes, bytes]) -> None:
    c.delete(STREAM, "bench:ready")
    if kind == "streamlite":
        from streamlite.events import Event, Producer

        p = Producer(c)
        for i in range(0, n, 10_000):
            p.publish_many(STREAM, [Event({"order_id": j, "amount": 12.5}, event_type="ORDER")
                                    for j in range(i, min(n, i + 10_000))])
    else:
        for i in range(0, n, 1000):
            pipe = c.pipeline(transaction=False)
            for _ in range(i, min(n, i + 1000)):
                pipe.xadd(STREAM, fs_fields)
            pipe.execute()
    c.xgroup_create(STREAM, GROUP, id="$")


def start_workers(kind: str, url: str, workers: int) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, BENCH_URL=url,
               PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "src"),
                                           os.environ.get("PYTHONPATH", "")]))
    if kind == "streamlite":
        cmd = [sys.executable, "-m", "streamlite", "worker", "bench.faststream_compare:sl_app",
               "--workers", str(workers), "--url", url, "--log-level", "WARNING"]
        return [subprocess.Popen(cmd, env=env, cwd=ROOT)]
    return [subprocess.Popen([sys.executable, __file__, "--fs-worker", url], env=env,
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(workers)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()


def throughput(kind: str, url: str, workers: int, n: int,
               fs_fields: dict[bytes, bytes]) -> float:
    import redis

    c = redis.Redis.from_url(url)
    fill(c, n, kind, fs_fields)
    procs = start_workers(kind, url, workers)
    try:
        deadline = time.monotonic() + 60
        while int(c.get("bench:ready") or 0) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: workers did not start")
            time.sleep(0.05)
        time.sleep(0.3)  # every subscriber in its read loop
        t0 = time.perf_counter()
        c.xgroup_setid(STREAM, GROUP, "0")
        while True:
            g = c.xinfo_groups(STREAM)[0]
            if g["lag"] == 0 and g["pending"] == 0:
                break
            if time.perf_counter() - t0 > 600:
                raise RuntimeError(f"{kind}: not drained in 600 s")
            time.sleep(0.01)
        dt = time.perf_counter() - t0
    finally:
        stop(procs)
    c.delete(STREAM)
    c.close()
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fs-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--url", default=None, help="an existing server (default: a fresh "
                    "redis-server 8.2)")
    a = ap.parse_args()
    if a.fs_worker:
        faststream_worker(a.fs_worker)
        return
    srv = None
    url = a.url
    if url is None:
        from tests.support.redis_proc import start_redis

        srv = start_redis()
        url = f"redis://127.0.0.1:{srv.port}/0"
    try:
        fs_fields = asyncio.run(faststream_fields(url))
        rows = [("streamlite.events", 1), ("FastStream", 1), ("streamlite.events", 4),
                ("FastStream", 4)]
        results: dict[tuple[str, int], list[float]] = {r: [] for r in rows}
        for rnd in range(a.rounds):
            for name, w in rows:
                kind = "streamlite" if name.startswith("streamlite") else "faststream"
                v = throughput(kind, url, w, a.n, fs_fields)
                results[(name, w)].append(v)
                print(f"round {rnd + 1}: {name}, {w} worker(s): {v:,.0f} msgs/s", flush=True)
    finally:
        if srv is not None:
            srv.cleanup()
    from importlib.metadata import version

    print(f"\nN={a.n}, median of {a.rounds} interleaved rounds; faststream "
          f"{version('faststream')}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("| framework | workers | acked msgs/s | streamlite / FastStream |")
    print("|---|---:|---:|---:|")
    for w in (1, 4):
        sl = statistics.median(results[("streamlite.events", w)])
        fs = statistics.median(results[("FastStream", w)])
        print(f"| streamlite.events (`streamlite worker --workers {w}`) | {w} | {sl:,.0f} | "
              f"{sl / fs:.1f}x |")
        print(f"| FastStream RedisBroker, StreamSub | {w} | {fs:,.0f} | |")


if __name__ == "__main__":
    main()
