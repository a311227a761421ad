"""The dashboards' sampler (apps/monitor.py): which series a sample holds, rates as
moving averages, the history as columns; on the embedded engine and, found by SCAN on
every node, on a Redis Cluster."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streamlite.apps.monitor import Monitor, percentiles
from tests.support.redis_proc import have_redis


async def _scenario(r: Any) -> None:
    await r.xgroup_create("orders", "billing", id="0", mkstream=True)
    await r.xgroup_create("orders", "audit", id="0")
    for i in range(10):
        await r.xadd("orders", {"n": str(i)})
    await r.xadd("{orders}:dlq", {"dlq_group": "billing"})
    await r.xreadgroup("billing", "w1", {"orders": ">"}, count=4)
    m = Monitor(r, interval_s=1.0, rate_window_s=30.0)
    t0 = 1_800_000_000.0
    await m.sample(now=t0)
    for i in range(20):
        await r.xadd("orders", {"n": str(i)})
    s = await m.sample(now=t0 + 10)
    v = s.values
    assert v["len:orders"] == 30 and v["rate:orders"] == 2.0  # 20 entries in 10 s
    assert v["lag:orders/billing"] == 26 and v["pending:orders/billing"] == 4
    assert v["lag:orders/audit"] == 30 and v["pending:orders/audit"] == 0
    assert v["dlq:orders"] == 1 and "dlq:{orders}:dlq" not in v
    assert isinstance(v["mem:orders"], int) and v["mem:orders"] > 0
    streams = {st["name"]: st for st in m.latest["streams"]}
    assert streams["{orders}:dlq"]["dlq_of"] == "orders"
    billing = next(g for g in streams["orders"]["groups"] if g["name"] == "billing")
    assert [c["name"] for c in billing["consumer_list"]] == ["w1"]
    h = m.history(900)
    assert h["t"] == [t0, t0 + 10] and h["series"]["len:orders"] == [10, 30]
    assert m.rate_of("orders") == 2.0


def test_monitor_on_the_embedded_engine():
    import streamlite

    async def main() -> None:
        r = streamlite.connect_async()
        try:
            await _scenario(r)
        finally:
            await r.aclose()

    asyncio.run(main())


def test_monitor_on_a_redis_cluster(request):
    if not have_redis():
        pytest.skip("redis-server is not installed")
    cluster = request.getfixturevalue("redis_cluster")
    from streamlite.events import connect_async

    async def main() -> None:
        r = connect_async(cluster.url())
        try:
            await r.flushall()
            await _scenario(r)
        finally:
            await r.aclose()

    asyncio.run(main())


def test_percentiles():
    assert percentiles([]) == {}
    p = percentiles([float(x) for x in range(1, 101)])
    assert p["p50"] == pytest.approx(50.5) and p["p99"] == pytest.approx(99.01)
