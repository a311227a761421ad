"""Per-handler time_limit (cancelled, retried, dead-lettered) and rate_limit."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from streamlite.events import App, ConsumerOptions, Context, DeadLetters, Producer, RetryPolicy
from streamlite.events.limits import HandlerTimeout, Limiter, RateLimit, limited

from .helpers import run_until

FAST = ConsumerOptions(start_id="0", block_ms=200, claim_idle_ms=1000, claim_interval_ms=100,
                       retry=RetryPolicy(max_deliveries=3, backoff_ms=50, jitter=0))


def test_rate_parse() -> None:
    assert RateLimit.parse("100/s") == RateLimit(100, 1.0)
    assert RateLimit.parse("5/m") == RateLimit(5, 60.0)
    assert RateLimit.parse("10/2s") == RateLimit(10, 2.0)
    assert RateLimit.parse(3) == RateLimit(3.0)
    for bad in ("100", "x/s", "0/s", "5/q"):
        with pytest.raises(ValueError):
            RateLimit.parse(bad)


def test_limiter_spacing_and_burst() -> None:
    now = [100.0]
    lim = Limiter(RateLimit(10, 1.0, burst=3), clock=lambda: now[0])
    waits = [lim.reserve() for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2])
    now[0] += 10  # quiet: the burst is back
    assert [lim.reserve() for _ in range(3)] == pytest.approx([0, 0, 0])


def test_wrapper_keeps_signature_and_own_timeouts() -> None:
    async def h(evt: dict, ctx: Context) -> None:
        raise TimeoutError("the handler's own")

    w = limited(h, time_limit=5)
    import inspect

    assert list(inspect.signature(w).parameters) == ["evt", "ctx"]
    assert inspect.iscoroutinefunction(w)
    with pytest.raises(TimeoutError) as ei:
        asyncio.run(w({}, None))
    assert not isinstance(ei.value, HandlerTimeout)  # not mistaken for the limit

    def slow() -> int:
        time.sleep(0.5)
        return 1

    with pytest.raises(HandlerTimeout):
        limited(slow, time_limit=0.05)()
    assert limited(slow, time_limit=5)() == 1
    assert limited(slow) is slow


def test_time_limit_cancels_then_retries_and_dead_letters(backend, rc):
    p = Producer(backend.url)
    p.publish("jobs", {"n": 1}, event_type="FLAKY")
    p.publish("jobs", {"n": 2}, event_type="HANG")
    p.publish("jobs", {"n": 3}, event_type="SYNC")
    calls: dict[str, list[int]] = {"FLAKY": [], "HANG": [], "SYNC": []}
    cancelled: list[int] = []
    release = threading.Event()
    app = App(backend.url, defaults=FAST)

    @app.handler("jobs", group="g", event="FLAKY", time_limit=0.2)
    async def flaky(evt: dict, ctx: Context) -> None:
        calls["FLAKY"].append(ctx.delivery_count)
        if ctx.delivery_count == 1:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(ctx.delivery_count)
                raise

    @app.handler("jobs", group="g", event="HANG", time_limit=0.1)
    async def hang(evt: dict, ctx: Context) -> None:
        calls["HANG"].append(ctx.delivery_count)
        await asyncio.sleep(30)

    @app.handler("jobs", group="g", event="SYNC", time_limit=0.2)
    def sync_slow(evt: dict, ctx: Context) -> None:
        calls["SYNC"].append(ctx.delivery_count)
        if ctx.delivery_count == 1:
            release.wait(10)

    dl = DeadLetters(rc, "jobs")
    asyncio.run(run_until(app, lambda: calls["FLAKY"] == [1, 2] and len(calls["SYNC"]) == 2
                          and rc.xlen("{jobs}:dlq") == 1
                          and rc.xpending("jobs", "g")["pending"] == 0, timeout=30))
    release.set()
    assert cancelled == [1]
    assert calls["HANG"] == [1, 2, 3]
    (entry,) = dl.list()
    info = entry.summary()
    assert info["error_type"] == "HandlerTimeout" and "time_limit" in info["error"]
    assert info["event_type"] == "HANG"
    p.close()


def test_rate_limit_spaces_handler_starts(backend, rc):
    p = Producer(backend.url)
    p.publish_many("jobs", [{"n": i} for i in range(8)])
    starts: list[float] = []
    app = App(backend.url, defaults=FAST)

    @app.handler("jobs", group="g", rate_limit="20/s")
    async def h(evt: dict) -> None:
        starts.append(time.monotonic())

    asyncio.run(run_until(app, lambda: len(starts) == 8))
    # 8 starts at 20/s, no burst: the last one at least 7 intervals after the first
    assert starts[-1] - starts[0] >= 7 * 0.05 * 0.95
    p.close()


def test_partitioned_handler_takes_limits(backend, rc):
    p = Producer(backend.url)
    p.publish_partitioned("ledger", "acct-1", {"n": 1}, partitions=2)
    got: list[Any] = []
    app = App(backend.url, defaults=FAST)

    @app.partitioned_handler("ledger", group="g", partitions=2, time_limit=5,
                             rate_limit="100/s", start_id="0")
    async def h(evt: dict) -> None:
        got.append(evt)

    asyncio.run(run_until(app, lambda: got == [{"n": 1}]))
    p.close()
