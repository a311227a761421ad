"""The test client (streamlite.events.testing) and the one delivery path it observes.

TestApp runs on its own in-memory engine (that is its point); the delivery changes that
touch the backend (partitioned handlers: idempotency, thread pool) run on every backend.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from streamlite.events import (
    App,
    ConsumerOptions,
    Context,
    DeadLetter,
    Producer,
    Retry,
    RetryPolicy,
    group_stats_sync,
)
from streamlite.events.testing import NotDrained, TestApp

from .helpers import run_until


@dataclass
class Order:
    order_id: int


def billing_app(calls: list[Any]) -> App:
    app = App("redis://127.0.0.1:1/0")  # never reached: TestApp swaps the engine in

    @app.handler("orders", group="billing", event="ORDER_CREATED",
                 retry=RetryPolicy(max_deliveries=3, backoff_ms=10_000, jitter=0))
    async def bill(o: Order, ctx: Context) -> None:
        calls.append(("bill", o.order_id, ctx.delivery_count))
        if o.order_id == 2 and ctx.delivery_count < 3:
            raise RuntimeError("gateway flaked")
        if o.order_id == 3:
            raise DeadLetter("card refused for good")
        await ctx.publish("billed", {"order_id": o.order_id}, event_type="BILLED")

    @app.handler("billed", group="mail")
    def mail(evt: dict[str, Any], ctx: Context) -> None:  # sync: in the thread pool
        calls.append(("mail", evt["order_id"], threading.current_thread().name))
        ctx.publish_sync("outbox", {"to": evt["order_id"]})

    return app


def test_drain_runs_retries_dead_letters_and_chains_on_virtual_time() -> None:
    calls: list[Any] = []
    app = billing_app(calls)

    async def main() -> None:
        async with TestApp(app) as test:
            for i in (1, 2, 3):
                await test.publish("orders", {"order_id": i}, event_type="ORDER_CREATED")
            await test.drain()
            assert [r.payload for r in test.handled("orders")] == [{"order_id": 1},
                                                                    {"order_id": 2}]
            assert [(r.payload["order_id"], r.delivery_count)
                    for r in test.retries("orders")] == [(2, 1), (2, 2)]
            assert [type(r.error).__name__ for r in test.failures("orders")] == [
                "RuntimeError", "DeadLetter", "RuntimeError"]
            dead = test.dead_letters("orders")
            assert [d.summary()["error"] for d in dead] == ["card refused for good"]
            assert sorted(r.payload["order_id"] for r in test.handled("billed")) == [1, 2]
            # the backoffs (10 s, then 20 s) passed on the virtual clock, not the wall's
            assert test.clock.now >= 30
            assert await test.redis.xlen("outbox") == 2
            assert await test.backlog() == {}

    asyncio.run(asyncio.wait_for(main(), 60))
    assert [c for c in calls if c[0] == "bill"] == [
        ("bill", 1, 1), ("bill", 2, 1), ("bill", 3, 1), ("bill", 2, 2), ("bill", 2, 3)]
    assert all(c[2].startswith("h-billed") for c in calls if c[0] == "mail")
    assert app.runtime is None and app.url == "redis://127.0.0.1:1/0"  # given back


def test_advance_moves_backoff_time_by_hand() -> None:
    seen: list[tuple[int, int]] = []
    app = App("redis://127.0.0.1:1/0")

    @app.handler("jobs", group="g", retry=RetryPolicy(max_deliveries=4, jitter=0))
    async def job(evt: dict[str, Any], ctx: Context) -> None:
        seen.append((evt["n"], ctx.delivery_count))
        if evt["n"] == 1 and ctx.delivery_count == 1:
            raise Retry("later", delay_ms=60_000)
        if evt["n"] == 2:
            raise Retry("again", delay_ms=1_000)

    async def main() -> None:
        async with TestApp(app) as test:
            await test.publish("jobs", {"n": 1})
            await test.advance(1)
            assert seen == [(1, 1)]
            await test.advance(58)
            assert seen == [(1, 1)]  # 59 s: still waiting
            await test.advance(3)  # the backoff is over, then the next reclaim tick
            assert seen == [(1, 1), (1, 2)]
            # a drain that may not move time cannot finish a retry
            await test.publish("jobs", {"n": 2})
            test.max_virtual_s = 0.0
            with pytest.raises(NotDrained, match="jobs/g: 0 unread, 1 pending"):
                await test.drain(timeout=5)
            test.max_virtual_s = 3600.0
            await test.drain()
            assert [c for n, c in seen if n == 2] == [1, 2, 3, 4]
            assert len(test.dead_letters("jobs")) == 1

    asyncio.run(asyncio.wait_for(main(), 60))


def test_partitioned_handlers_under_the_test_client_keep_order() -> None:
    got: list[tuple[str, int]] = []
    failed: set[tuple[str, int]] = set()
    app = App("redis://127.0.0.1:1/0",
              defaults=ConsumerOptions(retry=RetryPolicy(max_deliveries=3, backoff_ms=5_000,
                                                         jitter=0)))

    class Ledger:
        def __init__(self) -> None:
            self.rows = got

    app.provide(Ledger, Ledger())
    wrapped: list[str] = []

    @app.middleware
    def mark(ctx: Context) -> Iterator[None]:
        wrapped.append(ctx.stream)
        yield

    @app.partitioned_handler("ledger", group="posting", partitions=3)
    async def post(evt: dict[str, Any], ledger: Ledger) -> None:  # injected here too
        k, s = evt["key"], evt["seq"]
        if s == 2 and (k, s) not in failed:
            failed.add((k, s))
            raise RuntimeError("retried in place")
        ledger.rows.append((k, s))

    async def main() -> None:
        async with TestApp(app) as test:
            for s in range(5):
                for k in ("a", "b", "c", "d"):
                    await test.publish_partitioned("ledger", k, {"key": k, "seq": s},
                                                   partitions=3)
            await test.drain()
            assert len(test.retries("ledger")) == 4
            assert len(test.handled("ledger")) == 20
            assert len(wrapped) == 24 and all(w.startswith("ledger:p") for w in wrapped)

    asyncio.run(asyncio.wait_for(main(), 60))
    for k in ("a", "b", "c", "d"):
        assert [s for kk, s in got if kk == k] == [0, 1, 2, 3, 4]


# ----------------------------------------------------------------- the pytest plugin
@pytest.fixture
def app() -> App:
    return billing_app([])


async def test_the_plugin_starts_test_app_around_an_async_test(test_app: TestApp) -> None:
    assert test_app.app.runtime is not None  # started by the plugin, on this loop
    await test_app.publish("orders", {"order_id": 1}, event_type="ORDER_CREATED")
    await test_app.drain()
    assert [r.payload for r in test_app.handled("billed")] == [{"order_id": 1}]


# ----------------------------------------------------------------- on every backend
FAST = ConsumerOptions(start_id="0", block_ms=200, claim_idle_ms=1000, claim_interval_ms=100,
                       retry=RetryPolicy(max_deliveries=3, backoff_ms=30, jitter=0))


def test_partitioned_handlers_are_idempotent_and_run_sync_ones_in_a_pool(backend, rc) -> None:
    p = Producer(backend.url)
    # the same event twice (say, a producer retry the server could not deduplicate)
    for _ in range(2):
        p.publish_partitioned("ledger", "acct-1", {"n": 1}, partitions=2, event_id="ev-1")
    p.publish_partitioned("ledger", "acct-2", {"n": 2}, partitions=2, event_id="ev-2")
    effects: list[str] = []
    threads: set[str] = set()
    app = App(backend.url, defaults=FAST)

    @app.partitioned_handler("ledger", group="posting", partitions=2, idempotent=True)
    def post(evt: dict[str, Any], ctx: Context) -> None:
        threads.add(threading.current_thread().name)
        effects.append(ctx.event_id)

    def done() -> bool:
        for i in range(2):
            st = group_stats_sync(rc, f"ledger:p{i}", "posting")
            if st is None or st.pending or st.lag:
                return False
        return True

    asyncio.run(run_until(app, done))
    p.close()
    assert sorted(effects) == ["ev-1", "ev-2"]
    assert all(t.startswith("p-ledger") for t in threads), threads


def test_the_redis_82_retry_path_under_the_test_client() -> None:
    """use_xnack=False: retries scheduled with XCLAIM ... IDLE and reclaimed by
    XAUTOCLAIM, as on Redis 8.2; the engine's idle times move with the virtual clock."""
    seen: list[int] = []
    app = App("redis://127.0.0.1:1/0", defaults=ConsumerOptions(
        use_xnack=False, retry=RetryPolicy(max_deliveries=4, backoff_ms=5_000, jitter=0)))

    @app.handler("jobs", group="g")
    async def job(evt: dict[str, Any], ctx: Context) -> None:
        seen.append(ctx.delivery_count)
        if ctx.delivery_count < 3:
            raise RuntimeError("not yet")

    async def main() -> None:
        async with TestApp(app) as test:
            await test.publish("jobs", {"n": 1})
            await test.drain()
            assert [r.action for r in test.deliveries] == ["retry", "retry", "ack"]
            assert test.clock.now >= 15  # 5 s, then 10 s

    asyncio.run(asyncio.wait_for(main(), 60))
    assert seen == [1, 2, 3]


def test_delayed_messages_come_due_on_the_test_clock() -> None:
    got: list[tuple[str, float]] = []
    app = App("redis://127.0.0.1:1/0")
    test_ref: list[TestApp] = []

    @app.handler("reminders", group="mail")
    async def remind(evt: dict[str, Any]) -> None:
        got.append((evt["what"], test_ref[0].clock.now))

    async def main() -> None:
        async with TestApp(app) as test:
            test_ref.append(test)
            await test.app.producer.publish("reminders", {"what": "in an hour"},
                                            delay=3600)
            await test.app.producer.publish("reminders", {"what": "in a minute"},
                                            delay=60)
            assert await test.delayed() == {"reminders": 2}
            await test.advance(30)
            assert got == []
            await test.advance(31)  # the first is due: appended and handled
            assert [w for w, _ in got] == ["in a minute"]
            await test.drain()  # jumps to the second's due time
            assert [w for w, _ in got] == ["in a minute", "in an hour"]
            assert got[1][1] >= 3600
            assert await test.delayed() == {}

    asyncio.run(asyncio.wait_for(main(), 60))
