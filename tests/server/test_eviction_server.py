"""Eviction on the server, where ``used_memory`` is the process's resident size: with
a limit a few MB above the start, writing far more than that keeps working under
``allkeys-lru`` (keys are evicted, with their ``evicted`` events), while
``noeviction`` ends in Redis's -OOM error."""

from __future__ import annotations

import pytest
import redis
from tests.server.conftest import spawn


def _used(r: redis.Redis) -> int:
    return int(r.info("memory")["used_memory"])


def test_allkeys_lru_keeps_writes_going_then_noeviction_refuses() -> None:
    srv = spawn()
    r = redis.Redis(port=srv.port, socket_timeout=30)
    try:
        sub = r.pubsub()
        r.config_set("notify-keyspace-events", "Ee")
        sub.subscribe("__keyevent@0__:evicted")
        sub.get_message(timeout=5)
        limit = _used(r) + 8 * 1024 * 1024
        r.config_set("maxmemory-policy", "allkeys-lru")
        r.config_set("maxmemory", str(limit))
        value = b"v" * 10_000
        pipe_batches, per = 150, 20
        for b in range(pipe_batches):  # 150 x 20 x 10 KB = 30 MB, far past the room
            p = r.pipeline(transaction=False)
            for i in range(per):
                p.set(f"k{b}:{i}", value)
            assert all(x is True for x in p.execute())
        evicted = int(r.info("stats")["evicted_keys"])
        assert evicted > 0
        assert r.dbsize() < pipe_batches * per
        assert r.dbsize() + evicted == pipe_batches * per
        msg = sub.get_message(timeout=5)
        assert msg is not None and msg["type"] == "message" and msg["data"].startswith(b"k")
        r.config_set("maxmemory-policy", "noeviction")
        with pytest.raises(redis.exceptions.OutOfMemoryError) as e:
            for i in range(20000):
                r.set(f"more{i}", value)
        assert str(e.value) == "command not allowed when used memory > 'maxmemory'."
        assert r.get(f"k{pipe_batches - 1}:{per - 1}") == value  # reads still work
    finally:
        r.close()
        srv.cleanup()
