"""Middlewares (around handling, around publishing) and dependency injection."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from streamlite.events import (
    App,
    ConsumerOptions,
    Context,
    DeadLetter,
    Depends,
    Event,
    Message,
    Producer,
    RetryPolicy,
    group_stats_sync,
)
from streamlite.events.testing import TestApp

from .helpers import run_until

TENANT: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="-")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


class Gateway:
    def __init__(self, name: str) -> None:
        self.name = name
        self.charged: list[int] = []


class FakeGateway(Gateway):
    pass


# ----------------------------------------------------------------- handling middlewares
def test_handling_middlewares_wrap_in_order_and_see_failures() -> None:
    log: list[str] = []
    app = App("redis://127.0.0.1:1/0",
              defaults=ConsumerOptions(retry=RetryPolicy(max_deliveries=2, backoff_ms=100)))

    @app.middleware
    def outer(ctx: Context) -> Iterator[None]:  # sync generator
        log.append(f"outer>{ctx.delivery_count}")
        try:
            yield
        except ValueError as e:
            log.append(f"outer!{e}")
            raise
        log.append("outer<")

    @app.middleware
    async def tenancy(ctx: Context) -> AsyncIterator[None]:  # async generator
        token = TENANT.set(ctx.headers.get("tenant", "?"))
        try:
            yield
        finally:
            TENANT.reset(token)

    @app.middleware
    async def poison_to_dlq(ctx: Context, call_next: Any) -> Any:  # full control
        try:
            return await call_next()
        except KeyError as e:
            raise DeadLetter(f"missing field {e}") from e

    @app.handler("jobs", group="g")
    def job(evt: dict[str, Any]) -> None:  # sync: runs in the pool, sees the contextvar
        log.append(f"job:{TENANT.get()}:{threading.current_thread().name[:6]}")
        if evt.get("fail") == "value":
            raise ValueError("bad")
        evt["needed"]  # noqa: B018 - KeyError when absent

    async def main() -> None:
        async with TestApp(app) as test:
            await test.publish("jobs", {"needed": 1}, headers={"tenant": "acme"})
            await test.drain()
            assert log == ["outer>1", "job:acme:h-jobs", "outer<"]
            log.clear()
            await test.publish("jobs", {"fail": "value"}, headers={"tenant": "t2"})
            await test.drain()
            assert log == ["outer>1", "job:t2:h-jobs", "outer!bad",
                           "outer>2", "job:t2:h-jobs", "outer!bad"]
            log.clear()
            await test.publish("jobs", {"other": 1})
            await test.drain()
            dead = test.dead_letters("jobs")
            # KeyError became DeadLetter (no retry); the ValueError was retried, then dead
            assert [d.summary()["error_type"] for d in dead] == ["ValueError", "DeadLetter"]
            assert log == ["outer>1", "job:?:h-jobs"]  # DeadLetter went through outer
            assert TENANT.get() == "-"

    run(main())


def test_a_middleware_must_have_a_known_shape() -> None:
    app = App("redis://127.0.0.1:1/0")
    with pytest.raises(TypeError, match="is not a middleware"):
        app.middleware(lambda ctx: None)
    with pytest.raises(TypeError, match="is not a middleware"):

        @app.publish_middleware
        async def not_a_generator(stream: str, event: Event) -> None:
            pass


# ----------------------------------------------------------------- publish middlewares
def test_publish_middlewares_change_events_on_every_producer() -> None:
    sent: list[tuple[str, str | None]] = []
    app = App("redis://127.0.0.1:1/0")

    @app.publish_middleware
    def stamp(stream: str, event: Event) -> Iterator[None]:
        event.headers = {**(event.headers or {}), "tenant": "acme"}
        yield
        sent.append((stream, event.event_type))

    @app.publish_middleware
    async def audit(stream: str, event: Event) -> AsyncIterator[None]:
        yield
        sent.append(("audit", stream))

    @app.handler("in", group="g")
    async def relay(evt: dict[str, Any], ctx: Context) -> None:
        await ctx.publish("out", evt, event_type="RELAYED")

    @app.handler("out", group="g")
    async def sink(evt: dict[str, Any], msg: Message) -> None:
        pass

    async def main() -> None:
        async with TestApp(app) as test:
            await test.publish("in", {"n": 1}, event_type="IN")
            await test.drain()
            outs = test.handled("out")
            assert [r.message.headers.get("tenant") for r in outs] == ["acme"]
            # the first added is the outermost: its after-part runs last
            assert sent == [("audit", "in"), ("in", "IN"), ("audit", "out"),
                            ("out", "RELAYED")]
            # a sync producer takes the sync ones only
            p = Producer(test.client)
            p.middlewares.append(stamp)
            eid = p.publish("plain", {"n": 2})
            fields = (await test.redis.xrange("plain"))[0][1]
            assert b"acme" in fields[b"headers"] and eid
            p.middlewares.append(audit)
            with pytest.raises(TypeError, match="async publish middleware"):
                p.publish("plain", {"n": 3})

    run(main())


# ----------------------------------------------------------------- dependencies
def test_provided_values_and_depends() -> None:
    gw = FakeGateway("fake")
    calls: list[str] = []
    app = App("redis://127.0.0.1:1/0",
              defaults=ConsumerOptions(retry=RetryPolicy(max_deliveries=1)))
    app.provide(Gateway, gw)  # handlers asking for a Gateway get the fake

    async def make_store() -> dict[str, int]:
        calls.append("factory")
        return {}

    app.provide(dict, factory=make_store)

    def tenant(ctx: Context) -> str:
        calls.append("tenant")
        return ctx.headers.get("tenant", "none")

    async def session(store: dict, t: str = Depends(tenant)) -> AsyncIterator[str]:
        calls.append(f"open:{t}")
        try:
            yield f"session-{t}"
        except RuntimeError:
            calls.append("rollback")
            raise
        else:
            calls.append("commit")

    @app.handler("charges", group="billing")
    async def charge(evt: dict[str, Any], g: Gateway, store: dict,
                     s: str = Depends(session), t: str = Depends(tenant)) -> None:
        g.charged.append(evt["amount"])
        store[t] = store.get(t, 0) + evt["amount"]
        calls.append(s)
        if evt["amount"] < 0:
            raise RuntimeError("refunds go elsewhere")

    @app.handler("ticks", group="cron")
    async def tick(g: Gateway, ctx: Context) -> None:  # no payload: only injected values
        calls.append(f"tick:{g.name}:{ctx.event_type}")

    async def main() -> None:
        async with TestApp(app) as test:
            await test.publish("charges", {"amount": 5}, headers={"tenant": "acme"})
            await test.drain()
            # tenant runs once although two parameters depend on it
            assert calls == ["factory", "tenant", "open:acme", "session-acme", "commit"]
            calls.clear()
            await test.publish("charges", {"amount": -1})
            await test.publish("ticks", {}, event_type="TICK")
            await test.drain()
            assert calls[:4] == ["tenant", "open:none", "session-none", "rollback"]
            assert "tick:fake:TICK" in calls
            assert gw.charged == [5, -1]
            assert app.dependencies.get(dict) == {"acme": 5, "none": -1}

    run(main())


def test_a_handler_asking_for_what_nobody_provides_fails_the_start() -> None:
    app = App("redis://127.0.0.1:1/0")

    @app.handler("charges", group="billing")
    async def charge(evt: dict[str, Any], g: Gateway) -> None:
        pass

    async def main() -> None:
        with pytest.raises(TypeError, match="nothing provides Gateway"):
            async with TestApp(app):
                pass

    run(main())
    with pytest.raises(TypeError, match="cannot supply parameter 'other'"):

        @app.handler("x", group="g")
        async def bad(evt: dict[str, Any], other) -> None:  # type: ignore[no-untyped-def]
            pass


# ----------------------------------------------------------------- on every backend
def test_middlewares_and_dependencies_on_a_running_worker(backend, rc) -> None:
    gw = Gateway("real")
    seen: list[tuple[str, str, int]] = []
    app = App(backend.url, defaults=ConsumerOptions(start_id="0", block_ms=200))
    app.provide(Gateway, gw)

    @app.publish_middleware
    def stamp(stream: str, event: Event) -> Iterator[None]:
        event.headers = {**(event.headers or {}), "tenant": "acme"}
        yield

    @app.middleware
    async def tenancy(ctx: Context) -> AsyncIterator[None]:
        token = TENANT.set(ctx.headers.get("tenant", "?"))
        try:
            yield
        finally:
            TENANT.reset(token)

    @app.handler("charges", group="billing")
    async def charge(evt: dict[str, Any], ctx: Context, g: Gateway) -> None:
        g.charged.append(evt["amount"])
        await ctx.publish("receipts", {"amount": evt["amount"]})

    @app.handler("receipts", group="mail")
    def mail(evt: dict[str, Any], g: Gateway) -> None:
        seen.append((g.name, TENANT.get(), evt["amount"]))

    Producer(backend.url).publish("charges", {"amount": 7})

    def done() -> bool:
        st = group_stats_sync(rc, "receipts", "mail")
        return bool(seen) and st is not None and st.pending == 0

    run(run_until(app, done))
    assert gw.charged == [7]
    # the receipt was published through the app's producer: stamped by the middleware
    assert seen == [("real", "acme", 7)]
