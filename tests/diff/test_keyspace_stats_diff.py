"""``INFO stats`` keyspace_hits / keyspace_misses against a real Redis 8.2: after every
command of a script the two counters move by the same amounts on both sides (Redis
counts the lookups of ``lookupKeyRead``: read commands, and the keys that write
commands read, such as a *STORE's sources, GETDEL, COPY's source or XREADGROUP's
streams)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.redis

SCRIPT: list[tuple[Any, ...]] = [
    ("SET", "s", "1"), ("GET", "s"), ("GET", "nope"), ("MGET", "s", "nope", "s"),
    ("EXISTS", "s", "nope"), ("TYPE", "s"), ("TYPE", "nope"), ("TTL", "s"), ("PTTL", "nope"),
    ("STRLEN", "s"), ("GETRANGE", "s", "0", "1"), ("INCR", "s"), ("APPEND", "s", "x"),
    ("GETDEL", "s"), ("GETDEL", "s"), ("SET", "s", "2"), ("GETEX", "s", "PX", "100000"),
    ("GETSET", "s", "3"), ("SET", "s", "4", "GET"), ("COPY", "s", "s2"), ("COPY", "no", "s3"),
    ("OBJECT", "ENCODING", "s"), ("OBJECT", "ENCODING", "nope"), ("DUMP", "s"),
    ("HSET", "h", "f", "v"), ("HGET", "h", "f"), ("HGET", "h", "g"), ("HGET", "nh", "f"),
    ("HGETALL", "h"), ("HLEN", "nh"), ("HINCRBY", "h", "n", "1"),
    ("RPUSH", "l", "a", "b"), ("LRANGE", "l", "0", "-1"), ("LLEN", "nl"), ("LPOP", "l"),
    ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("LINDEX", "l2", "0"),
    ("SADD", "a", "1", "2"), ("SADD", "b", "2"), ("SINTER", "a", "b", "c"),
    ("SINTERSTORE", "d", "a", "b"), ("SUNIONSTORE", "d", "a", "nope"), ("SISMEMBER", "a", "1"),
    ("SCARD", "nope"), ("SMEMBERS", "a"),
    ("ZADD", "z", "1", "m"), ("ZSCORE", "z", "m"), ("ZRANGE", "z", "0", "-1"),
    ("ZUNIONSTORE", "z2", "2", "z", "nope"), ("ZCARD", "z2"), ("ZINCRBY", "z", "1", "m"),
    ("XADD", "x", "1-1", "f", "v"), ("XLEN", "x"), ("XRANGE", "x", "-", "+"),
    ("XRANGE", "nx", "-", "+"), ("XREAD", "STREAMS", "x", "nx", "0", "0"),
    ("XGROUP", "CREATE", "x", "g", "0"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"),
    ("XACK", "x", "g", "1-1"), ("XINFO", "STREAM", "x"), ("XPENDING", "x", "g"),
    ("XTRIM", "x", "MAXLEN", "0"), ("XDEL", "x", "1-1"),
    ("DEL", "s", "nope"), ("UNLINK", "h"), ("RENAME", "l2", "l3"), ("EXPIRE", "l3", "100"),
    ("PERSIST", "l3"), ("TOUCH", "l3", "nope"), ("KEYS", "*"), ("DBSIZE",), ("RANDOMKEY",),
    ("SCAN", "0"), ("SORT", "l3", "ALPHA"), ("SORT", "l3", "ALPHA", "STORE", "l4"),
    ("PFADD", "hll", "a"), ("PFCOUNT", "hll", "nope"), ("PFMERGE", "hll2", "hll", "nope"),
    ("SETBIT", "bm", "1", "1"), ("GETBIT", "bm", "1"), ("BITCOUNT", "nope"),
    ("BITOP", "OR", "bm2", "bm", "nope"), ("EVAL", "return redis.call('GET', KEYS[1])", "1", "s2"),
    ("EVAL", "return redis.call('GET', KEYS[1])", "1", "nope"),
    ("MULTI",), ("GET", "s2"), ("GET", "nope"), ("EXEC",),
    ("MEMORY", "USAGE", "s2"), ("MEMORY", "USAGE", "nope"), ("HMGET", "h", "a", "b"),
    ("HEXISTS", "nh", "f"), ("HSET", "h", "f", "v"), ("HRANDFIELD", "h"), ("LPOS", "l3", "b"),
    ("SRANDMEMBER", "a"), ("SMOVE", "a", "b", "1"), ("SDIFF", "a", "b"),
    ("ZRANGESTORE", "z3", "z", "0", "-1"), ("ZRANGESTORE", "z3", "nope", "0", "-1"),
    ("ZINTERCARD", "2", "z", "z2"), ("RPUSH", "l3", "x", "y", "z"), ("LMPOP", "2", "nope", "l3", "LEFT"),
    ("BLPOP", "l3", "nope", "0"), ("BLMOVE", "l3", "l5", "LEFT", "LEFT", "0"),
    ("XADD", "x", "2-1", "f", "v"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"),
    ("XCLAIM", "x", "g", "c2", "0", "2-1"), ("XAUTOCLAIM", "x", "g", "c3", "0", "0"),
    ("XINFO", "GROUPS", "x"), ("XINFO", "CONSUMERS", "x", "g"), ("XREVRANGE", "x", "+", "-"),
    ("XSETID", "x", "5-0"), ("XGROUP", "DESTROY", "x", "g"),
    ("GEOADD", "geo", "13.36", "38.11", "p"), ("GEOPOS", "geo", "p"), ("GEODIST", "geo", "p", "p"),
    ("GEOSEARCHSTORE", "geo2", "geo", "FROMLONLAT", "13", "38", "BYRADIUS", "500", "km"),
    ("OBJECT", "FREQ", "s2"), ("EXPIRE", "nope", "10"), ("PEXPIRETIME", "s2"),
    ("RENAME", "nope", "x"), ("SETRANGE", "s2", "0", "a"), ("HSETNX", "h", "q", "1"),
]


def _stats(conn: Any) -> tuple[int, int]:
    raw = conn.call("INFO", "stats")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    vals = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return int(vals["keyspace_hits"]), int(vals["keyspace_misses"])


_multi = [False]


def in_multi(cmd: tuple[Any, ...]) -> bool:
    if cmd[0] == "MULTI":
        _multi[0] = True
    return _multi[0]


def test_keyspace_hits_and_misses_move_as_in_redis(redis_conn, engine_conn):
    redis_conn.call("CONFIG", "RESETSTAT")
    engine_conn.call("CONFIG", "RESETSTAT")
    diffs = []
    before = _stats(redis_conn), _stats(engine_conn)
    for cmd in SCRIPT:
        redis_conn.call(*cmd)
        engine_conn.call(*cmd)
        if cmd[0] == "EXEC":
            _multi[0] = False
        elif in_multi(cmd):
            continue  # queued: compared after EXEC
        after = _stats(redis_conn), _stats(engine_conn)
        d_redis = tuple(a - b for a, b in zip(after[0], before[0], strict=True))
        d_sl = tuple(a - b for a, b in zip(after[1], before[1], strict=True))
        if d_redis != d_sl:
            diffs.append((cmd, d_redis, d_sl))
        before = after
    assert not diffs, "\n".join(f"{c!r}: redis {r} streamlite {s}" for c, r, s in diffs)
    assert _stats(redis_conn) == _stats(engine_conn)
