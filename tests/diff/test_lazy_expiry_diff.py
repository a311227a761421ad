"""Lazy expiry against a real Redis 8.2 with its active expiry switched off
(``DEBUG SET-ACTIVE-EXPIRE 0``): which commands see, count or delete keys and
hash fields whose TTL passed but that nobody reclaimed yet. ``DEBUG SLEEP`` on
Redis is matched by moving the engine's fake clock."""

from __future__ import annotations

import time

import pytest
from tests.support.diff import EngineConn, RedisConn
from tests.support.redis_proc import have_redis, start_redis

from streamlite.engine import Engine, FakeClock

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def debug_redis():
    if not have_redis():
        pytest.skip("needs redis-server")
    srv = start_redis(extra=["--enable-debug-command", "yes"])
    yield srv
    srv.cleanup()


def run(srv, script):
    r = RedisConn(srv.port)
    r.call("FLUSHALL")
    r.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    clock = FakeClock(int(time.time() * 1000))
    e = EngineConn(Engine(clock))
    try:
        for i, cmd in enumerate(script):
            if cmd[0] == "SLEEP":
                r.call("DEBUG", "SLEEP", "0.02")
                clock.advance(20)
                continue
            a, b = r.call(*cmd), e.call(*cmd)
            if cmd[0] in ("KEYS",):
                a, b = sorted(a), sorted(b)
            assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
    finally:
        r.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        r.close()


def test_keys(debug_redis):
    run(debug_redis, [
        ("SET", "k", "v", "PX", "1"), ("SET", "j", "v"), ("SLEEP",), ("DBSIZE",), ("KEYS", "*"),
        ("DBSIZE",), ("SCAN", "0"), ("DBSIZE",),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("EXISTS", "k"), ("DBSIZE",),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("OBJECT", "ENCODING", "k"), ("DBSIZE",),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("COPY", "k", "k2"), ("DBSIZE",),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("SET", "k2", "x"), ("RENAME", "k2", "k"),
        ("DBSIZE",), ("TTL", "k"), ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("TYPE", "k"),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("SET", "k", "w", "KEEPTTL"), ("TTL", "k"),
        ("SET", "k", "1", "PX", "1"), ("SLEEP",), ("INCR", "k"), ("TTL", "k"),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("MOVE", "k", "1"), ("DBSIZE",),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("RANDOMKEY",),
        ("SET", "k", "v", "PX", "1"), ("SLEEP",), ("EXPIRE", "k", "100"), ("PERSIST", "k"),
        ("GETEX", "k", "PERSIST"), ("APPEND", "k", "x"), ("GET", "k"),
    ])


def test_hash_fields(debug_redis):
    run(debug_redis, [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HPEXPIRE", "h", "1", "FIELDS", "2", "a", "b"),
        ("SLEEP",), ("HLEN", "h"), ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"), ("HLEN", "h"),
        ("HSCAN", "h", "0"), ("HSET", "h", "a", "9"), ("HTTL", "h", "FIELDS", "1", "a"), ("HLEN", "h"),
        ("HTTL", "h", "FIELDS", "1", "b"), ("HPERSIST", "h", "FIELDS", "1", "b"), ("HLEN", "h"),
        ("HEXISTS", "h", "b"), ("HLEN", "h"),
        ("HSET", "h", "x", "1"), ("HPEXPIRE", "h", "1", "FIELDS", "1", "x"), ("SLEEP",),
        ("HSETNX", "h", "x", "2"), ("HGET", "h", "x"),
        ("HPEXPIRE", "h", "1", "FIELDS", "1", "x"), ("SLEEP",), ("HINCRBY", "h", "x", "5"),
        ("HTTL", "h", "FIELDS", "1", "x"), ("HPEXPIRE", "h", "1", "FIELDS", "1", "x"), ("SLEEP",),
        ("HINCRBYFLOAT", "h", "x", "1.5"), ("HTTL", "h", "FIELDS", "1", "x"),
        ("HPEXPIRE", "h", "1", "FIELDS", "1", "x"), ("SLEEP",), ("HEXPIRE", "h", "100", "FIELDS", "1", "x"),
        ("HTTL", "h", "FIELDS", "1", "x"), ("HPEXPIRE", "h", "1", "FIELDS", "1", "x"), ("SLEEP",),
        ("HDEL", "h", "x"), ("HPEXPIRE", "h", "1", "FIELDS", "2", "a", "c"), ("SLEEP",), ("EXISTS", "h"),
        ("HLEN", "h"), ("HGETALL", "h"), ("EXISTS", "h"), ("HSTRLEN", "h", "a"), ("HLEN", "h"),
        ("HMGET", "h", "c"), ("EXISTS", "h"),
        ("HSET", "h3", "a", "1"), ("HPEXPIRE", "h3", "1", "FIELDS", "1", "a"), ("SLEEP",),
        ("HGETDEL", "h3", "FIELDS", "1", "a"), ("EXISTS", "h3"),
        ("HSET", "h4", "a", "1", "b", "2"), ("HPEXPIRE", "h4", "1", "FIELDS", "1", "a"), ("SLEEP",),
        ("HGETEX", "h4", "PERSIST", "FIELDS", "2", "a", "b"), ("HLEN", "h4"),
        ("HSETEX", "h4", "FNX", "FIELDS", "1", "a", "5"), ("HGETALL", "h4"),
        ("HSET", "h5", "a", "1", "b", "2"), ("HPEXPIRE", "h5", "1", "FIELDS", "1", "a"), ("SLEEP",),
        ("HSETEX", "h5", "FXX", "FIELDS", "1", "a", "5"), ("HGETALL", "h5"), ("HLEN", "h5"),
        ("HSET", "h6", "a", "1", "b", "2"), ("HPEXPIRE", "h6", "1", "FIELDS", "1", "a"), ("SLEEP",),
        ("HRANDFIELD", "h6", "-3"), ("HLEN", "h6"),
    ])
