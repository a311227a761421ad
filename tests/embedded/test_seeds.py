"""The seed documents' stream flows through redis-py, on embedded streamlite and on real
Redis 8.2, sync and asyncio, RESP2 and RESP3, with and without decode_responses: the
normalised transcripts must be equal (see ``scenarios.py``)."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio

import streamlite

from .scenarios import SEEDS, run_async, run_sync
from .support import needs

pytestmark = pytest.mark.redis

VARIANTS = [(2, False), (2, True), (3, False), (3, True)]


def _reference(redis_server, seed: str, proto: int, decode: bool):
    r = redis.Redis(port=redis_server.port, protocol=proto, decode_responses=decode)
    try:
        r.flushall()
        return run_sync(r, SEEDS[seed][0]())
    finally:
        r.close()


def _assert_same(got, want):
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        assert g == w, f"step {i}: {w[0]}\n  redis:      {w[1]!r}\n  streamlite: {g[1]!r}"
    assert len(got) == len(want)


@pytest.mark.parametrize("proto,decode", VARIANTS)
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_sync(redis_server, seed, proto, decode):
    needs(*SEEDS[seed][1])
    want = _reference(redis_server, seed, proto, decode)
    r = streamlite.connect(protocol=proto, decode_responses=decode)
    try:
        got = run_sync(r, SEEDS[seed][0]())
    finally:
        r.close()
    _assert_same(got, want)


@pytest.mark.parametrize("proto,decode", VARIANTS)
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_async(redis_server, seed, proto, decode):
    needs(*SEEDS[seed][1])
    want = _reference(redis_server, seed, proto, decode)

    async def main():
        r = streamlite.connect_async(protocol=proto, decode_responses=decode)
        try:
            return await run_async(r, SEEDS[seed][0]())
        finally:
            await r.aclose()

    _assert_same(asyncio.run(main()), want)


def test_seed_on_a_data_directory_survives_reopen(redis_server, tmp_path):
    """Seed 002 on a durable directory: after a reopen the groups and PELs are intact."""
    needs(*SEEDS["002"][1])
    d = str(tmp_path / "data")
    r = streamlite.connect(d, appendfsync="always")
    run_sync(r, SEEDS["002"][0]())
    before = (r.xinfo_groups("orders"), r.xpending_range("orders", "payment_group", "-", "+", 10))
    r.close()
    r = streamlite.connect(d)
    after = (r.xinfo_groups("orders"), r.xpending_range("orders", "payment_group", "-", "+", 10))
    r.close()

    def strip(v):
        groups, pending = v
        return groups, [{k: x for k, x in p.items() if k != "time_since_delivered"}
                        for p in pending]

    assert strip(after) == strip(before)
