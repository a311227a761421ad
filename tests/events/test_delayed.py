"""Delayed and scheduled messages: publish(delay=/at=), the mover, exactly once with
several workers, durability (the state is in the backend), cancel, top's column."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest

from streamlite.events import App, AsyncProducer, ConsumerOptions, Context, Producer
from streamlite.events.delayed import (
    DelayedMover,
    count_delayed,
    decode_fields,
    delayed_data_key,
    delayed_key,
    due_spec,
    encode_fields,
)
from streamlite.events.keys import key_slot

from .helpers import run_until

FAST = ConsumerOptions(start_id="0", block_ms=200, claim_idle_ms=1000, claim_interval_ms=100)


def test_netstrings_roundtrip() -> None:
    f = {b"data": b"a:b\x00\xff12:", b"": b"", b"event_id": b"x" * 300}
    assert decode_fields(encode_fields(f)) == f


def test_due_spec() -> None:
    assert due_spec(1.5, None) == ("in", 1500)
    assert due_spec(dt.timedelta(minutes=2), None) == ("in", 120_000)
    assert due_spec(-3, None) == ("in", 0)
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert due_spec(None, when) == ("at", int(when.timestamp() * 1000))
    with pytest.raises(ValueError):
        due_spec(1, when)


def test_keys_share_the_stream_slot() -> None:
    from streamlite.events.delayed import stream_of_delayed

    for s in ("orders", "{shop}.orders", "a:b"):
        assert key_slot(delayed_key(s)) == key_slot(s) == key_slot(delayed_data_key(s))
        assert stream_of_delayed(delayed_key(s)) == s
    assert stream_of_delayed("orders") is None


def test_delayed_publish_is_held_then_delivered_once(backend, rc):
    p = Producer(backend.url)
    t0 = time.monotonic()
    eid = p.publish("jobs", {"n": 1, "blob": "x:y"}, event_type="JOB", delay=0.4,
                    headers={"traceparent": "00-aa-bb-01"})
    p.publish("jobs", {"n": 0}, event_type="JOB")  # immediate
    assert rc.xlen("jobs") == 1
    assert count_delayed(rc, "jobs") == 1
    got: list[tuple[int, str, dict[str, str], float]] = []
    # two apps (two workers): each runs a mover; the entry is appended once
    apps = [App(backend.url, defaults=FAST, delayed_poll_s=0.05) for _ in range(2)]
    for app in apps:
        @app.handler("jobs", group="g")
        async def on_job(evt: dict, ctx: Context) -> None:
            got.append((evt["n"], ctx.event_id, ctx.headers, time.monotonic()))

    asyncio.run(run_until(apps, lambda: len(got) == 2 and count_delayed(rc, "jobs") == 0))
    assert sorted(n for n, *_ in got) == [0, 1]
    (late,) = [g for g in got if g[0] == 1]
    assert late[1] == eid and late[2] == {"traceparent": "00-aa-bb-01"}
    assert rc.xlen("jobs") == 2
    assert rc.hlen(delayed_data_key("jobs")) == 0
    assert late[3] - t0 >= 0.35  # not before it was due (scheduled after t0, for +0.4 s)
    p.close()


def test_schedule_survives_workers_and_at_in_the_past(backend, rc):
    """Scheduled with no worker running: the state waits in the backend; a worker
    started later appends what is due (an ``at`` in the past is due at once)."""
    p = Producer(backend.url)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    p.publish("s", {"n": 1}, at=past)
    far = p.publish("s", {"n": 2}, at=time.time() + 3600)
    got: list[int] = []
    app = App(backend.url, defaults=FAST, delayed_poll_s=0.05)

    @app.handler("s", group="g")
    async def h(evt: dict) -> None:
        got.append(evt["n"])

    asyncio.run(run_until(app, lambda: got == [1]))
    assert count_delayed(rc, "s") == 1  # the far one still waits
    assert p.cancel_delayed("s", far) is True
    assert p.cancel_delayed("s", far) is False
    assert count_delayed(rc, "s") == 0 and rc.hlen(delayed_data_key("s")) == 0
    p.close()


def test_idempotency_key_schedules_once_and_async_producer(backend, rc):
    async def main() -> None:
        ap = AsyncProducer(backend.url)
        for _ in range(3):
            await ap.publish("s", {"n": 1}, delay=60, idempotency_key="pay-1")
        assert await ap.cancel_delayed("s", "pay-1") is True
        await ap.publish("s", {"n": 2}, delay=dt.timedelta(seconds=0))
        mover = DelayedMover(ap.redis, ["s"])
        assert await mover.move_once("s") == (1, -1)
        await ap.aclose()

    asyncio.run(main())
    ((_, f),) = rc.xrange("s")
    assert f[b"data"] == b'{"n":2}'


def test_ctx_publish_delay_and_retention(backend, rc):
    from streamlite.events import Retention

    got: list[Any] = []
    p = Producer(backend.url)
    p.publish("in", {"n": 1})
    app = App(backend.url, defaults=FAST, delayed_poll_s=0.05,
              retention={"out": Retention(maxlen=1, approximate=False)})

    @app.handler("in", group="g")
    async def fwd(evt: dict, ctx: Context) -> None:
        for i in range(3):
            await ctx.publish("out", {"n": i}, delay=0.05)

    @app.handler("out", group="g")
    async def sink(evt: dict) -> None:
        got.append(evt["n"])

    asyncio.run(run_until(app, lambda: count_delayed(rc, "out") == 0 and rc.xlen("out") == 1
                          and len(got) >= 1))
    assert rc.xlen("out") == 1  # appended with the app's retention for that stream
    p.close()


def test_top_shows_delayed(backend, rc):
    from streamlite.events.cli import collect_top

    p = Producer(backend.url)
    p.publish("s", {"n": 1}, delay=600)
    p.publish("s", {"n": 2})
    rows = collect_top(rc, ["s"])
    assert rows[0]["delayed"] == 1
    p.close()


def test_cli_produce_delay_and_at(backend, rc):
    from .test_cli import cli

    backend.need_processes()
    r = cli(backend, "produce", "s", "--data", '{"n": 1}', "--delay", "10m")
    assert r.returncode == 0, r.stderr
    r = cli(backend, "produce", "s", "-f", "a=1", "--count", "2", "--at", "2020-01-01T00:00:00")
    assert r.returncode == 0 and len(r.stdout.split()) == 2, r.stderr
    assert rc.xlen("s") == 0 and count_delayed(rc, "s") == 3
    due = sorted(int(s) for _, s in rc.zrange(delayed_key("s"), 0, -1, withscores=True))
    assert due[0] == due[1] == 1_577_836_800_000 and due[2] > time.time() * 1000 + 500_000
    r = cli(backend, "produce", "s", "--data", "{}", "--at", "1h")
    assert r.returncode != 0 and "--delay" in r.stderr
    for args in (("--stream", "s"), ()):  # a stream with only delayed events is shown
        r = cli(backend, "top", *args, "--once", "--json")
        assert r.returncode == 0 and '"delayed": 3' in r.stdout, r.stderr
