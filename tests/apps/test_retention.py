"""Retention (issue 19): finished orders go after their window, stream entries once every
group acknowledged them, and nothing unfinished is ever lost; the demo's rate and pause
survive a restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from streamlite.apps import keys
from streamlite.apps.retention import DEMO_INDEX, RetentionPolicy, sweep

from .support import FAST, AppProc, http, wait_drained, wait_until


def _async_client(backend: Any) -> Any:
    if backend.name in ("embedded", "redis-cluster"):
        import streamlite

        return streamlite.from_url_async(backend.url)
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(backend.url)


def test_retention_sweep_keeps_only_unfinished_work(backend):
    app = AppProc(backend.url, [*FAST, "--demo", "40"]).start()
    try:
        wait_until(lambda: http("GET", f"{app.api}/api/demo")[1]["placed"] >= 30,
                   what="demo orders")
        st, d = http("PUT", f"{app.api}/api/demo", {"paused": True})
        assert st == 200
        wait_drained(app.api)
    finally:
        assert app.stop() == 0, app.stderr()[-3000:]
    placed = d["placed"]
    r = backend.client()
    try:
        assert r.zcard(DEMO_INDEX) == placed
        order_ids = r.zrange(DEMO_INDEX, 0, -1)
        # one order not final (as if a stage were still working on it) and one stream
        # entry no group has read yet: both must survive any sweep
        r.hset(keys.order_key("ORD-99999999"), mapping={"order_id": "ORD-99999999",
                                                         "status": "PAYMENT_PENDING"})
        r.zadd(DEMO_INDEX, {"ORD-99999999": 1})
        r.zadd(keys.ORDER_INDEX, {"ORD-99999999": 1})
        unread = r.xadd(keys.ORDER_EVENTS, {"event_type": "NOT_YET_READ"})
        before = {s: r.xlen(s) for s in keys.PIPELINE_STREAMS}
    finally:
        r.close()

    async def sweep_later(hours: float) -> dict[str, Any]:
        ar = _async_client(backend)
        try:
            now = time.time_ns() // 1_000_000 + int(hours * 3_600_000)
            return await sweep(ar, RetentionPolicy(approximate=False), now_ms=now)
        finally:
            await ar.aclose()

    assert asyncio.run(sweep_later(0)) == {"stream_entries": 0, "orders": 0,
                                            "demo_orders": 0}
    done = asyncio.run(sweep_later(2))  # past the demo's hour and the streams' hour
    assert done["demo_orders"] == placed and done["orders"] == 0
    r = backend.client()
    try:
        for oid in order_ids:
            assert not r.exists(keys.order_key(oid), keys.order_events_key(oid))
        # nothing of theirs stays (state, history, holds, their effects' markers)
        gone = set(order_ids)
        left = [k for k in r.scan_iter(count=1000)
                if any(f"{{{o}}}" in k or f":{o}:" in k or k.endswith(f":{o}") for o in gone)]
        assert left == []
        assert r.zrange(DEMO_INDEX, 0, -1) == ["ORD-99999999"]
        assert r.exists(keys.order_key("ORD-99999999"))
        assert r.zrange(keys.ORDER_INDEX, 0, -1) == ["ORD-99999999"]
        # every acknowledged entry went, the unread one stayed; the counters are
        # aggregates and stay
        after = {s: r.xlen(s) for s in keys.PIPELINE_STREAMS}
        assert after == {s: 1 if s == keys.ORDER_EVENTS else 0 for s in before}
        assert [e[0] for e in r.xrange(keys.ORDER_EVENTS, unread, unread)] == [unread]
        assert int(r.hget(keys.FUNNEL, "RECEIVED") or 0) >= placed
    finally:
        r.close()


def test_demo_settings_survive_a_restart(backend):
    app = AppProc(backend.url, [*FAST, "--demo", "3"]).start()
    try:
        st, d = http("PUT", f"{app.api}/api/demo", {"paused": True, "rate": 7})
        assert st == 200 and d["paused"]
    finally:
        assert app.stop() == 0
    fast = [a for a in FAST]
    if "--demo" in fast:  # FAST turns the demo off: a restart without --demo here
        i = fast.index("--demo")
        del fast[i:i + 2]
    app = AppProc(backend.url, fast).start()
    try:
        assert any("paused at 7 orders/s" in ln for ln in app.lines), app.lines
        st, d = http("GET", f"{app.api}/api/demo")
        assert st == 200 and d["rate"] == 7 and d["paused"] and d["placed"] == 0
    finally:
        assert app.stop() == 0
