"""The worker in this process: typed handlers, routing, acks, retries, DLQ, NOACK,
sync handlers, idempotent handlers, trace propagation, pending-first on restart."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

from streamlite.events import (
    SKIPPED,
    App,
    ConsumerOptions,
    Context,
    DeadLetter,
    DeadLetters,
    Message,
    Producer,
    Retry,
    RetryPolicy,
)

from .helpers import run_until

FAST = ConsumerOptions(start_id="0", block_ms=200, claim_idle_ms=1000, claim_interval_ms=100,
                       retry=RetryPolicy(max_deliveries=3, backoff_ms=100, jitter=0))


@dataclass
class OrderCreated:
    order_id: int
    amount: float


class Payment(BaseModel):
    order_id: int
    ok: bool


def test_typed_handlers_and_routing(backend, rc):
    p = Producer(backend.url)
    p.publish("orders", OrderCreated(1, 10.0), event_type="ORDER_CREATED",
              headers={"traceparent": "00-aa-bb-01"})
    p.publish("orders", {"order_id": 1, "ok": True}, event_type="PAYMENT")
    p.publish("orders", {"x": 1}, event_type="UNHANDLED")
    got: list[Any] = []
    app = App(backend.url, defaults=FAST)

    @app.handler("orders", group="billing", event="ORDER_CREATED")
    async def on_order(evt: OrderCreated, ctx: Context) -> None:
        got.append(evt)
        assert ctx.headers["traceparent"] == "00-aa-bb-01"
        assert ctx.delivery_count == 1 and ctx.group == "billing"
        await ctx.publish("invoices", {"order_id": evt.order_id}, event_type="INVOICE")

    @app.handler("orders", group="billing", event="PAYMENT")
    async def on_payment(evt: Payment, msg: Message) -> None:
        got.append(evt)
        assert msg.event_type == "PAYMENT"

    asyncio.run(run_until(app, lambda: len(got) == 2))
    assert got[0] == OrderCreated(1, 10.0) and got[1] == Payment(order_id=1, ok=True)
    assert rc.xpending("orders", "billing")["pending"] == 0  # unhandled type acked too
    ((_, inv),) = rc.xrange("invoices")
    assert Message.from_entry("invoices", "0-1", inv).headers == {"traceparent": "00-aa-bb-01"}
    groups = {g["name"]: g for g in rc.xinfo_groups("orders")}
    assert groups[b"billing"]["lag"] == 0


def test_group_start_dollar_skips_history(backend, rc):
    p = Producer(backend.url)
    p.publish("s", {"old": 1})
    got: list[Any] = []
    app = App(backend.url, defaults=FAST.with_(start_id="$"))

    @app.handler("s", group="g")
    async def h(payload: dict) -> None:
        got.append(payload)

    async def go() -> None:
        await app.start()
        await asyncio.sleep(0.3)
        p.publish("s", {"new": 1})
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.05)
        await app.stop(2)

    asyncio.run(go())
    assert got == [{"new": 1}]


def test_retry_with_backoff_then_success(backend, rc):
    p = Producer(backend.url)
    p.publish("s", {"n": 1}, event_type="T")
    deliveries: list[int] = []
    app = App(backend.url, defaults=FAST.with_(retry=RetryPolicy(max_deliveries=5,
                                                                  backoff_ms=200, jitter=0)))

    @app.handler("s", group="g", event="T")
    async def h(payload: dict, ctx: Context) -> None:
        deliveries.append(ctx.delivery_count)
        if ctx.delivery_count < 3:
            raise RuntimeError("transient")

    asyncio.run(run_until(app, lambda: 3 in deliveries and not rc.xpending("s", "g")["pending"]))
    assert deliveries == [1, 2, 3]
    assert rc.xlen(DeadLetters(rc, "s").dlq) == 0


def test_retry_exception_delay_and_deadletter_exception(backend, rc):
    p = Producer(backend.url)
    p.publish("s", {"n": 1}, event_type="LATER")
    p.publish("s", {"n": 2}, event_type="NEVER")
    calls: list[str] = []
    app = App(backend.url, defaults=FAST)

    @app.handler("s", group="g", event="LATER")
    async def later(payload: dict, ctx: Context) -> None:
        calls.append(f"later{ctx.delivery_count}")
        if ctx.delivery_count == 1:
            raise Retry("not yet", delay_ms=50)

    @app.handler("s", group="g", event="NEVER")
    async def never(payload: dict) -> None:
        calls.append("never")
        raise DeadLetter("invalid order")

    dl = DeadLetters(rc, "s")
    asyncio.run(run_until(app, lambda: "later2" in calls and dl.count() == 1))
    assert calls.count("never") == 1
    (e,) = dl.list()
    assert e.summary()["error_type"] == "DeadLetter" and e.summary()["deliveries"] == 1


def test_poison_dead_lettered_after_exactly_n(backend, rc):
    p = Producer(backend.url)
    good = p.publish("orders", {"n": 0}, event_type="OK")
    bad = p.publish("orders", {"n": 1}, event_type="BAD", headers={"traceparent": "tp"})
    calls: list[int] = []
    app = App(backend.url, defaults=FAST.with_(retry=RetryPolicy(max_deliveries=4,
                                                                  backoff_ms=50, jitter=0)))

    @app.handler("orders", group="billing", event="OK")
    async def ok(payload: dict) -> None:
        pass

    @app.handler("orders", group="billing", event="BAD")
    async def boom(payload: dict, ctx: Context) -> None:
        calls.append(ctx.delivery_count)
        raise ValueError(f"bad amount {payload['n']}")

    dl = DeadLetters(rc, "orders")
    asyncio.run(run_until(app, lambda: dl.count() == 1))
    assert calls == [1, 2, 3, 4]
    (e,) = dl.list()
    s = e.as_dict()
    assert s["source_stream"] == "orders" and s["original_id"] == bad
    assert s["group"] == "billing" and s["deliveries"] == 4
    assert s["error_type"] == "ValueError" and s["error"] == "bad amount 1"
    assert "ValueError: bad amount 1" in s["traceback"] and "boom" in s["traceback"]
    assert s["consumer"] == app.consumer_name and s["failed_at"] > 0
    assert s["event_type"] == "BAD"
    orig = Message.from_entry("orders", bad, e.original_fields)
    assert orig.headers == {"traceparent": "tp"} and orig.payload() == {"n": 1}
    assert rc.xpending("orders", "billing")["pending"] == 0
    assert good != bad
    assert dl.dlq == "{orders}:dlq"


def test_undecodable_payload_goes_to_dlq_at_once(backend, rc):
    rc.xadd("s", {"event_type": "T", "content_type": "application/json", "data": "{nope"})
    app = App(backend.url, defaults=FAST)

    @app.handler("s", group="g")
    async def h(evt: OrderCreated) -> None:
        raise AssertionError("never called")

    dl = DeadLetters(rc, "s")
    asyncio.run(run_until(app, lambda: dl.count() == 1))
    assert dl.list()[0].summary()["error_type"] == "DecodeError"


def test_noack_at_most_once(backend, rc):
    p = Producer(backend.url)
    for i in range(5):
        p.publish("s", {"i": i})
    got: list[int] = []
    app = App(backend.url, defaults=FAST.with_(noack=True))

    @app.handler("s", group="g")
    async def h(payload: dict) -> None:
        got.append(payload["i"])
        if payload["i"] == 2:
            raise RuntimeError("lost, by design")

    asyncio.run(run_until(app, lambda: len(got) == 5))
    assert sorted(got) == [0, 1, 2, 3, 4]
    assert rc.xpending("s", "g")["pending"] == 0
    assert DeadLetters(rc, "s").count() == 0


def test_sync_handlers_run_in_thread_pool(backend, rc):
    p = Producer(backend.url)
    p.publish_many("s", [{"i": i} for i in range(20)])
    threads: set[str] = set()
    got: list[int] = []
    lock = threading.Lock()
    app = App(backend.url, defaults=FAST.with_(concurrency=4))

    @app.handler("s", group="g")
    def h(payload: dict, ctx: Context) -> None:
        with lock:
            got.append(payload["i"])
            threads.add(threading.current_thread().name)
        if payload["i"] == 0:
            ctx.publish_sync("out", {"from": "sync"})

    asyncio.run(run_until(app, lambda: len(got) == 20 and rc.xpending("s", "g")["pending"] == 0))
    assert sorted(got) == list(range(20))
    assert threading.main_thread().name not in threads
    assert rc.xlen("out") == 1


def test_idempotent_handler_runs_effect_once(backend, rc):
    p = Producer(backend.url)
    eid = "evt-1"
    p.publish("s", {"v": 1}, event_id=eid)
    p.publish("s", {"v": 1}, event_id=eid)  # the same event published twice
    effects: list[int] = []
    app = App(backend.url, defaults=FAST)

    @app.handler("s", group="g", idempotent=True)
    async def h(payload: dict) -> None:
        effects.append(payload["v"])

    asyncio.run(run_until(app, lambda: rc.xpending("s", "g")["pending"] == 0
                          and rc.xinfo_groups("s")[0]["lag"] == 0))
    assert effects == [1]


def test_idempotency_helper(backend, rc):
    from streamlite.events import Idempotency, InFlightElsewhere

    idem = Idempotency(rc, ttl_ms=10_000, lock_ms=5_000)
    calls: list[int] = []
    assert idem.run("g", "1", lambda: calls.append(1) or "r") == "r"
    assert idem.run("g", "1", lambda: calls.append(2)) is SKIPPED
    with pytest.raises(RuntimeError):
        idem.run("g", "2", lambda: (_ for _ in ()).throw(RuntimeError("x")))
    assert idem.run("g", "2", lambda: calls.append(3) or "again") == "again"  # lock released
    other = Idempotency(rc)
    rc.set(idem.key("g", "3"), "inflight:someone", px=5000)
    with pytest.raises(InFlightElsewhere):
        other.run("g", "3", lambda: None)
    assert calls == [1, 3]
    assert 0 < rc.pttl(idem.key("g", "1")) <= 10_000


def test_own_pending_first_on_restart(backend, rc):
    """A worker restarted with the same consumer name handles what it had read but not
    acked before anything new (and the new entries after)."""
    p = Producer(backend.url)
    first = p.publish_many("s", [{"i": i} for i in range(3)])
    rc.xgroup_create("s", "g", id="0")
    rc.xreadgroup("g", "w1", {"s": ">"}, count=3)  # the earlier run read, then died
    p.publish_many("s", [{"i": i} for i in range(3, 6)])
    order: list[tuple[int, int]] = []
    app = App(backend.url, consumer_name="w1", defaults=FAST.with_(concurrency=1, batch_size=2))

    @app.handler("s", group="g")
    async def h(payload: dict, ctx: Context) -> None:
        order.append((payload["i"], ctx.delivery_count))

    asyncio.run(run_until(app, lambda: len(order) == 6))
    assert order == [(0, 2), (1, 2), (2, 2), (3, 1), (4, 1), (5, 1)]
    assert first


def test_graceful_stop_finishes_in_flight(backend, rc):
    p = Producer(backend.url)
    p.publish_many("s", [{"i": i} for i in range(8)])
    done: list[int] = []
    app = App(backend.url, defaults=FAST.with_(concurrency=8, batch_size=8))

    @app.handler("s", group="g")
    async def h(payload: dict) -> None:
        await asyncio.sleep(0.3)
        done.append(payload["i"])

    async def go() -> None:
        await app.start()
        await asyncio.sleep(0.1)  # all 8 in flight
        await app.stop(grace_s=5)

    asyncio.run(go())
    assert sorted(done) == list(range(8))
    assert rc.xpending("s", "g")["pending"] == 0


def test_start_failure_stops_the_worker(backend, rc):
    rc.set("notastream", "x")  # XGROUP CREATE on a string: WRONGTYPE, not transient
    app = App(backend.url, defaults=FAST)

    @app.handler("s", group="g")
    async def h(payload: dict) -> None:
        pass

    app.add_handler(h, "notastream", group="g")

    async def go() -> None:
        await app.serve(install_signal_handlers=False)

    with pytest.raises(Exception, match="WRONGTYPE"):
        asyncio.run(asyncio.wait_for(go(), 10))


def test_signal_during_start_stops_a_start_that_swallows_the_cancel(backend, rc):
    """SIGINT while the worker starts ends serve(), even when something inside the
    start swallows the cancel (as a client library may): the start is undone and
    serve returns, rather than running on with no handler left to stop it."""
    app = App(backend.url, defaults=FAST)
    events: list[str] = []

    @app.handler("s", group="g")
    async def h(payload: dict) -> None:
        pass

    @app.after_startup
    async def stubborn() -> None:
        events.append("starting")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("cancel swallowed")

    async def go() -> None:
        async def interrupt() -> None:
            while not events:
                await asyncio.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)

        t = asyncio.ensure_future(interrupt())
        await asyncio.wait_for(app.serve(), 20)
        await t

    try:
        asyncio.run(go())
    except KeyboardInterrupt:  # asyncio's own handler got it: serve's were not installed
        pytest.fail("SIGINT during the start was not taken by serve's handler")
    assert events == ["starting", "cancel swallowed"]
    assert all(c.failure is None for c in app.consumers)
    assert app._redis is None  # stopped: its connections closed


def test_reader_failure_stops_the_worker(backend, rc):
    app = App(backend.url, defaults=FAST)

    @app.handler("s", group="g")
    async def h(payload: dict) -> None:
        pass

    @app.after_startup
    async def sabotage() -> None:
        await asyncio.sleep(0.3)
        await app.redis.delete("s")
        await app.redis.set("s", "not a stream any more")

    with pytest.raises(RuntimeError, match="consumer failed") as ei:
        asyncio.run(asyncio.wait_for(app.serve(install_signal_handlers=False), 15))
    assert "WRONGTYPE" in str(ei.value.__cause__)


def test_stream_deleted_under_worker_is_recreated(backend, rc):
    p = Producer(backend.url)
    p.publish("s", {"n": 1})
    got: list[int] = []
    app = App(backend.url, defaults=FAST)

    @app.handler("s", group="g")
    async def h(payload: dict) -> None:
        got.append(payload["n"])

    async def go() -> None:
        await app.start()
        while not got:
            await asyncio.sleep(0.02)
        await app.redis.delete("s")  # the blocked XREADGROUP is unblocked with an error
        await asyncio.sleep(0.3)
        await app.producer.publish("s", {"n": 2})
        for _ in range(200):
            if len(got) == 2:
                break
            await asyncio.sleep(0.02)
        await app.stop(2)

    asyncio.run(asyncio.wait_for(go(), 20))
    assert got == [1, 2]
