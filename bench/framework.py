"""Framework benchmark: acknowledged messages per second with 1, 2 and 4 workers, and
publish-to-handler latency percentiles at a fixed publish rate, on every backend in one run.

    .venv/bin/python bench/framework.py            # redis-server, streamlite server, embedded
    .venv/bin/python bench/framework.py --backends redis,embedded
    .venv/bin/python bench/framework.py --url redis://127.0.0.1:6379/0   # an existing server

Backends: ``redis`` (a fresh redis-server 8.2 from the test extra), ``streamlite-server``
(``python -m streamlite server`` on a fresh directory, default settings) and ``embedded``
(``streamlite://<fresh dir>``). On the servers each worker is a process of its own; on the
embedded engine (one process owns it) the workers are Apps in this process, on one event
loop, sharing the engine (so one core does all the work).

Throughput: N entries are published first; a group is created at ``$`` so the workers
see nothing; once every worker is ready, ``XGROUP SETID <stream> <group> 0`` releases the
whole backlog at once and the clock runs until the group has lag 0 and pending 0 (every
entry handled and acknowledged). The handler is a no-op coroutine with a typed payload,
so the number is the framework's own cost (read, decode, dispatch, ack).

Latency: one worker; the producer publishes at a fixed rate with the send time in the
payload; the handler records ``now - sent``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

STREAM = "bench:events"
GROUP = "bench"


def worker_main(url: str, mode: str, batch: int, concurrency: int) -> None:
    from streamlite.events import App, ConsumerOptions, Context

    app = App(url, defaults=ConsumerOptions(start_id="$", batch_size=batch,
                                            concurrency=concurrency, block_ms=100,
                                            claim_interval_ms=5_000))
    lat: list[float] = []

    if mode == "latency":
        @app.handler(STREAM, group=GROUP)
        async def on_event(evt: dict, ctx: Context) -> None:
            lat.append(time.time() - evt["sent"])
    else:
        @app.handler(STREAM, group=GROUP)
        async def on_event(evt: dict, ctx: Context) -> None:
            return None

    @app.after_startup
    async def ready() -> None:
        await app.redis.incr("bench:ready")

    @app.on_shutdown
    async def report() -> None:
        if lat:
            await app.redis.rpush("bench:lat", *[f"{x:.6f}" for x in lat])

    app.run()


def spawn(url: str, mode: str, n: int, batch: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, __file__, "--worker", mode, "--url", url,
                              "--batch", str(batch), "--concurrency", str(concurrency)])
            for _ in range(n)]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_ready(c: Any, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while int(c.get("bench:ready") or 0) < n:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.05)


def fill(c: Any, n: int) -> None:
    from streamlite.events import Event, Producer

    c.delete(STREAM, "bench:ready")
    p = Producer(c)
    for i in range(0, n, 10_000):
        p.publish_many(STREAM, [Event({"order_id": j, "amount": 12.5}, event_type="ORDER")
                                for j in range(i, min(n, i + 10_000))])
    c.xgroup_create(STREAM, GROUP, id="$")


def throughput(url: str, workers: int, n: int, batch: int, concurrency: int) -> float:
    from streamlite.events import connect

    if url.startswith("streamlite:"):
        return throughput_embedded(url, workers, n, batch, concurrency)
    c = connect(url)
    fill(c, n)
    procs = spawn(url, "throughput", workers, batch, concurrency)
    try:
        wait_ready(c, workers)
        t0 = time.perf_counter()
        c.xgroup_setid(STREAM, GROUP, "0")
        while True:
            g = c.xinfo_groups(STREAM)[0]
            if g["lag"] == 0 and g["pending"] == 0:
                break
            time.sleep(0.01)
        dt = time.perf_counter() - t0
    finally:
        stop(procs)
    c.delete(STREAM)
    return n / dt


def embedded_app(url: str, mode: str, batch: int, concurrency: int,
                 lat: list[float]) -> Any:
    from streamlite.events import App, ConsumerOptions, Context

    app = App(url, defaults=ConsumerOptions(start_id="$", batch_size=batch,
                                            concurrency=concurrency, block_ms=100,
                                            claim_interval_ms=5_000))
    if mode == "latency":
        @app.handler(STREAM, group=GROUP)
        async def on_event(evt: dict, ctx: Context) -> None:
            lat.append(time.time() - evt["sent"])
    else:
        @app.handler(STREAM, group=GROUP)
        async def on_event(evt: dict, ctx: Context) -> None:
            return None
    return app


async def _drained(r: Any) -> None:
    while True:
        g = (await r.xinfo_groups(STREAM))[0]
        if g["lag"] == 0 and g["pending"] == 0:
            return
        await asyncio.sleep(0.01)


def throughput_embedded(url: str, workers: int, n: int, batch: int, concurrency: int) -> float:
    from streamlite.events import connect, connect_async

    c = connect(url)
    fill(c, n)

    async def run() -> float:
        r = connect_async(url)
        apps = [embedded_app(url, "throughput", batch, concurrency, [])
                for _ in range(workers)]
        for a in apps:
            await a.start()
        try:
            t0 = time.perf_counter()
            await r.xgroup_setid(STREAM, GROUP, "0")
            await _drained(r)
            return time.perf_counter() - t0
        finally:
            await asyncio.gather(*(a.stop(10) for a in apps))
            await r.aclose()

    dt = asyncio.run(run())
    c.delete(STREAM)
    c.close()
    return n / dt


def latency_embedded(url: str, rate: int, seconds: float, batch: int,
                     concurrency: int) -> list[float]:
    from streamlite.events import AsyncProducer, connect_async

    lat: list[float] = []

    async def run() -> None:
        r = connect_async(url)
        await r.delete(STREAM)
        await r.xgroup_create(STREAM, GROUP, id="$", mkstream=True)
        app = embedded_app(url, "latency", batch, concurrency, lat)
        await app.start()
        try:
            await asyncio.sleep(0.3)
            p = AsyncProducer(r)
            total = int(rate * seconds)
            t0 = time.perf_counter()
            for i in range(total):
                due = t0 + i / rate
                now = time.perf_counter()
                if due > now:
                    await asyncio.sleep(due - now)
                await p.publish(STREAM, {"sent": time.time(), "i": i}, event_type="PING")
            await _drained(r)
        finally:
            await app.stop(10)
            await r.delete(STREAM)
            await r.aclose()

    asyncio.run(run())
    return sorted(x * 1000 for x in lat)


def latency(url: str, rate: int, seconds: float, batch: int, concurrency: int) -> dict[str, float]:
    from streamlite.events import Producer, connect

    if url.startswith("streamlite:"):
        return summary(latency_embedded(url, rate, seconds, batch, concurrency))
    c = connect(url)
    c.delete(STREAM, "bench:ready", "bench:lat")
    c.xgroup_create(STREAM, GROUP, id="$", mkstream=True)
    procs = spawn(url, "latency", 1, batch, concurrency)
    try:
        wait_ready(c, 1)
        time.sleep(0.3)
        p = Producer(c)
        total = int(rate * seconds)
        t0 = time.perf_counter()
        for i in range(total):
            due = t0 + i / rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            p.publish(STREAM, {"sent": time.time(), "i": i}, event_type="PING")
        while True:
            g = c.xinfo_groups(STREAM)[0]
            if g["lag"] == 0 and g["pending"] == 0:
                break
            time.sleep(0.02)
    finally:
        stop(procs)
    lat = sorted(float(x) * 1000 for x in c.lrange("bench:lat", 0, -1))
    c.delete(STREAM, "bench:lat")
    return summary(lat)


def summary(lat: list[float]) -> dict[str, float]:
    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    return {"count": len(lat), "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "max_ms": lat[-1], "mean_ms": statistics.fmean(lat)}


BACKENDS = ("redis", "streamlite-server", "embedded")


def start_backend(name: str) -> tuple[str, Any]:
    """URL and cleanup of a fresh backend."""
    if name == "embedded":
        d = tempfile.mkdtemp(prefix="bench-fw-")
        return f"streamlite://{d}", lambda: shutil.rmtree(d, ignore_errors=True)
    from tests.support.redis_proc import start_redis, start_streamlite

    srv = start_redis() if name == "redis" else start_streamlite()
    return f"redis://127.0.0.1:{srv.port}/0", srv.cleanup


def run_backend(name: str, url: str, a: argparse.Namespace) -> dict[str, Any]:
    res: dict[str, Any] = {"backend": name, "throughput": {}}
    for w in (int(x) for x in a.workers.split(",")):
        rate = throughput(url, w, a.messages, a.batch, a.concurrency)
        res["throughput"][w] = round(rate)
        if not a.json:
            print(f"{name}: {w} worker(s): {rate:,.0f} acked msg/s ({a.messages:,} messages)",
                  flush=True)
    lat = latency(url, a.rate, a.seconds, a.batch, a.concurrency)
    res["latency"] = {"rate": a.rate, **{k: round(v, 3) for k, v in lat.items()}}
    if not a.json:
        print(f"{name}: latency at {a.rate}/s for {a.seconds:g}s ({lat['count']:.0f} msgs): "
              f"p50 {lat['p50_ms']:.2f} ms, p90 {lat['p90_ms']:.2f} ms, "
              f"p99 {lat['p99_ms']:.2f} ms, max {lat['max_ms']:.2f} ms", flush=True)
    return res


def table(results: list[dict[str, Any]], workers: list[int]) -> str:
    head = ["backend", *(f"{w} worker{'s' if w > 1 else ''} (acked msg/s)" for w in workers),
            "latency p50", "p99"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        lat = r["latency"]
        lines.append("| " + " | ".join([r["backend"],
                                        *(f"{r['throughput'][w]:,}" for w in workers),
                                        f"{lat['p50_ms']:.2f} ms", f"{lat['p99_ms']:.2f} ms"])
                     + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="an existing server or streamlite:// directory instead")
    ap.add_argument("--backends", default=",".join(BACKENDS),
                    help="comma-separated, of: " + ", ".join(BACKENDS) + " (default: all)")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rate", type=int, default=1000, help="latency test: publishes per second")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.worker:
        worker_main(a.url, a.worker, a.batch, a.concurrency)
        return
    names = [a.url] if a.url else [b.strip() for b in a.backends.split(",") if b.strip()]
    for n in names:
        if not a.url and n not in BACKENDS:
            ap.error(f"unknown backend {n!r}")
    results = []
    for name in names:
        url, cleanup = (name, lambda: None) if a.url else start_backend(name)
        try:
            results.append(run_backend(name, url, a))
        finally:
            cleanup()
    if a.json:
        print(json.dumps({"messages": a.messages, "batch": a.batch,
                          "concurrency": a.concurrency, "results": results}))
    else:
        print()
        print(table(results, [int(x) for x in a.workers.split(",")]))


if __name__ == "__main__":
    main()
