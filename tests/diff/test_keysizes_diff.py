"""``INFO keysizes`` against a real Redis 8.2: after every command the per-database
histograms of key sizes (strings by length, lists/sets/zsets/hashes by elements, in
power-of-two bins) are the same on both sides. The scripts follow Redis's own
``unit/info-keysizes.tcl`` scenarios; a hypothesis mix covers the rest, and after every
step the engine's kept histogram is also checked against a recount from scratch."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.diff import EngineConn

from streamlite.engine import Engine, FakeClock, keysizes

pytestmark = pytest.mark.redis


def _keysizes(conn: Any) -> list[str]:
    raw = conn.call("INFO", "keysizes")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _run(redis_conn: Any, engine_conn: EngineConn, script: list[tuple[Any, ...]]) -> None:
    for i, cmd in enumerate(script):
        a = redis_conn.call(*cmd)
        b = engine_conn.call(*cmd)
        if cmd[0] == "SPOP":  # random members: compare how many
            a, b = (len(x) if isinstance(x, list) else x is None for x in (a, b))
        assert a == b, f"step {i}: {cmd!r}: redis {a!r}, streamlite {b!r}"
        want, got = _keysizes(redis_conn), _keysizes(engine_conn)
        assert want == got, f"step {i}: {cmd!r}\n  redis:      {want}\n  streamlite: {got}"
        for db in engine_conn.engine.dbs:
            keysizes.check(db)


LISTS = [
    ("RPUSH", "l1", 1, 2, 3, 4, 5), ("RPUSH", "l1", 6, 7, 8, 9), ("LPUSH", "l2", 1),
    ("LPUSH", "l2", 2), ("LPUSHX", "l2", 3), ("RPUSHX", "l2", 4), ("RPOP", "l1"),
    ("RPOP", "l1"), ("DEL", "l1"), ("RPUSH", "l3", *range(15)), ("LINSERT", "l3", "AFTER", 9, 10),
    ("LTRIM", "l3", 0, 8), ("DEL", "l3"), ("DEL", "l2"), ("RPUSH", "l4", *range(1, 9)),
    ("LMOVE", "l4", "l5", "LEFT", "LEFT"), ("LMOVE", "l4", "l5", "RIGHT", "RIGHT"),
    ("LMOVE", "l4", "l5", "LEFT", "RIGHT"), ("LMOVE", "l4", "l5", "RIGHT", "LEFT"),
    ("BLMOVE", "l4", "l5", "RIGHT", "LEFT", 0), ("DEL", "l4"), ("DEL", "l5"),
    ("RPUSH", "l6", *range(1, 11)), ("LMPOP", 1, "l6", "LEFT", "COUNT", 2),
    ("LMPOP", 1, "l6", "LEFT", "COUNT", 1), ("LMPOP", 1, "l6", "LEFT", "COUNT", 6),
    ("FLUSHALL",), ("RPUSH", "l7", 1, 2, 3, 4), ("LPOP", "l7"), ("LPOP", "l7"), ("LPOP", "l7"),
    ("LPOP", "l7"), ("RPUSH", "l8", *"yxyxyxyxyy"), ("LREM", "l8", 3, "x"), ("LREM", "l8", 0, "y"),
    ("LREM", "l8", 0, "x"), ("RPUSH", "l9", 1, 2, 3, 4), ("SET", "l9", "1234567"), ("DEL", "l9"),
    ("RPUSH", "l9", 1, 2), ("PEXPIREAT", "l9", 1), ("RPUSH", "l9", "x"),
]

SETS = [
    ("SADD", "s1", 1, 2, 3, 4, 5), ("SADD", "s1", 6, 7, 8), ("SADD", "s2", 1), ("SADD", "s2", 2),
    ("SREM", "s2", 3), ("SMOVE", "s2", "s3", 2), ("SPOP", "s3"), ("SPOP", "s2"), ("SPOP", "s1"),
    ("SPOP", "s1", 7), ("SADD", "s2", 1), ("SMOVE", "s2", "s4", 1), ("SREM", "s4", 1),
    ("SADD", "s2", *range(1, 9)), ("SPOP", "s2", 7), ("FLUSHALL",),
    ("SADD", "s1", *range(1, 9)), ("SADD", "s2", 6, 7, 8, 9, "A", "B", "C", "D"),
    ("SADD", "s3", "x"), ("SDIFFSTORE", "s3", "s1", "s2"), ("SINTERSTORE", "s3", "s1", "s2"),
    ("SUNIONSTORE", "s3", "s1", "s2"), ("SADD", "s4", "E", "F", "G", "H"),
    ("SUNIONSTORE", "s5", "s3", "s4"), ("SINTERSTORE", "s5", "s1", "nope"),
    ("SET", "s1", "1234567"), ("DEL", "s1"),
]

ZSETS = [
    ("ZADD", "z1", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), ("ZADD", "z1", 6, "f", 7, "g", 8, "h"),
    ("ZADD", "z2", 1, "a"), ("ZREM", "z1", "a"), ("ZREM", "z1", "b"),
    ("ZREM", "z1", "c", "d", "e", "f", "g", "h", "i"), ("ZREM", "z2", "a"),
    ("ZADD", "z1", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), ("ZREMRANGEBYSCORE", "z1", "-inf", "(2"),
    ("ZREMRANGEBYSCORE", "z1", "-inf", "(3"), ("ZREMRANGEBYSCORE", "z1", "-inf", "+inf"),
    ("ZADD", "z1", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e", 6, "f"), ("ZREMRANGEBYRANK", "z1", 0, 1),
    ("ZREMRANGEBYRANK", "z1", 0, 0), ("FLUSHALL",),
    ("ZADD", "z1", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e", 0, "f"), ("ZREMRANGEBYLEX", "z1", "-", "(d"),
    ("ZADD", "z2", 6, "f", 7, "g", 8, "h", 9, "i"), ("ZUNIONSTORE", "z3", 2, "z1", "z2"),
    ("ZINTERSTORE", "z3", 2, "z1", "z2"), ("ZDIFFSTORE", "z4", 2, "z2", "z1"),
    ("BZPOPMIN", "z2", 0), ("BZPOPMAX", "z2", 0), ("ZMPOP", 1, "z2", "MIN"),
    ("ZMPOP", 1, "z2", "MAX", "COUNT", 2), ("ZRANGESTORE", "z5", "z3", 0, -1),
    ("ZINTERSTORE", "z3", 2, "z1", "nope"),
]

STRINGS = [
    ("SET", "s2", "1234567890"), ("SETRANGE", "s2", 10, "123456"), ("SETRANGE", "k", 200000, "v"),
    ("MSET", "s3", 1, "s4", 2, "s5", 3), ("MSETNX", "s6", 1, "s7", 2, "s8", 3), ("DEL", "s3"),
    ("SET", "s1", 1024), ("SET", "s1", 842), ("SET", "s1", 2), ("SET", "s1", "1234567"),
    ("SET", "e1", ""), ("SET", "e2", ""), ("SET", "e2", "bla"), ("SET", "e2", ""),
    ("HSET", "h", "f", "v"), ("SET", "h", ""), ("DEL", "h"), ("APPEND", "a1", "x"),
    ("APPEND", "a1", "y" * 40), ("INCR", "n"), ("INCRBY", "n", 1000), ("INCRBYFLOAT", "n", "0.5"),
    ("GETDEL", "s2"), ("GETSET", "s4", "abcdefghijklmnopq"), ("SETEX", "x", 100, "abc"),
    ("SETBIT", "bm", 100, 1), ("SETBIT", "bm", 9000, 1), ("BITOP", "NOT", "bm2", "bm"),
    ("BITFIELD", "bf", "SET", "u8", 800, 7), ("PFADD", "hll1", *"abcdefghijklm"),
    ("SET", "hll1", "1234567"), ("PFADD", "hll2", "a"), ("PFMERGE", "hll3", "hll2", "hll1x"),
    ("RENAME", "s1", "s1b"), ("COPY", "s1b", "s1c"), ("MOVE", "s1c", 1), ("SELECT", 1),
    ("SET", "other", "in db 1 ....."), ("SWAPDB", 0, 1), ("SELECT", 0), ("FLUSHDB",),
    ("SELECT", 1), ("UNLINK", "s1b"), ("SELECT", 0),
]

HASHES = [
    ("HSETNX", "h1", 1, 1), ("HSETNX", "h1", 2, 2), ("HSET", "h2", 1, 1), ("HSET", "h2", 2, 2),
    ("HDEL", "h2", 1), ("HDEL", "h2", 2), ("HSET", "h2", 1, 1, 2, 2), ("HDEL", "h2", 1, 2),
    ("HSETEX", "h3", "FIELDS", 1, 1, 1), ("HSETEX", "h3", "FIELDS", 1, 2, 2),
    ("HGETDEL", "h3", "FIELDS", 1, 1), ("HGETDEL", "h3", "FIELDS", 1, 3),
    ("HGETDEL", "h3", "FIELDS", 1, 2), ("HSETEX", "h4", "FIELDS", 2, "f1", 1, "f2", 1),
    ("HGETEX", "h4", "PXAT", 1, "FIELDS", 1, "f1"), ("HSETEX", "h4", "FIELDS", 1, "f3", 1),
    ("HSETEX", "h4", "PXAT", 1, "FIELDS", 1, "f3", "v"), ("HMSET", "h5", 1, 1, 2, 2, 3, 3),
    ("HMSET", "h5", 1, 1, 2, 2, 3, 3, 4, 4), ("HINCRBY", "h6", "f1", 10), ("HINCRBY", "h6", "f2", 1),
    ("HINCRBYFLOAT", "h6", "f3", "1.5"), ("HSET", "h7", "f1", 1, "f2", 2),
    ("HPEXPIREAT", "h7", 1, "FIELDS", 1, "f1"), ("HPEXPIREAT", "h7", 1, "FIELDS", 1, "f2"),
]

OTHERS = [  # types INFO keysizes does not count, and keys changing type
    ("XADD", "x", "1-1", "f", "v"), ("SET", "x", "was a stream"), ("XADD", "x2", "5-1", "f", "v"),
    ("GEOADD", "g", "13.36", "38.11", "p"), ("GEOADD", "g", "15.08", "37.5", "q"),
    ("RPUSH", "l", "3", "1", "2"), ("SORT", "l", "STORE", "sorted"), ("SORT", "l", "STORE", "g"),
    ("EXPIRE", "l", 0), ("FLUSHALL",),
]


@pytest.mark.parametrize("script", [LISTS, SETS, ZSETS, STRINGS, HASHES, OTHERS],
                         ids=["lists", "sets", "zsets", "strings", "hashes", "others"])
def test_keysizes_follow_redis(redis_conn, engine_conn, script):
    redis_conn.call("SELECT", 0)
    _run(redis_conn, engine_conn, [("FLUSHALL",), *script])


def test_labels_of_large_bins(redis_conn, engine_conn):
    script: list[tuple[Any, ...]] = [("FLUSHALL",), ("SET", "x", "0123456789ABCDEF")]
    script += [("SETRANGE", "x", (1 << n) - 1, "!") for n in range(5, 23)]
    _run(redis_conn, engine_conn, script)


KEYS = st.sampled_from(["a", "b", "c"])
MEMBERS = st.lists(st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8", "9"]),
                   min_size=1, max_size=9)


def _cmd() -> st.SearchStrategy[tuple[Any, ...]]:
    return st.one_of(
        st.tuples(st.sampled_from(["RPUSH", "LPUSH", "SADD"]), KEYS).flatmap(
            lambda t: MEMBERS.map(lambda m: t + tuple(m))),
        st.tuples(st.just("ZADD"), KEYS).flatmap(
            lambda t: MEMBERS.map(lambda m: t + tuple(x for v in m for x in (v, v)))),
        st.tuples(st.just("HSET"), KEYS).flatmap(
            lambda t: MEMBERS.map(lambda m: t + tuple(x for v in m for x in (v, v)))),
        st.tuples(st.sampled_from(["SET", "APPEND"]), KEYS,
                  st.integers(0, 40).map(lambda n: "v" * n)),
        st.tuples(st.sampled_from(["LPOP", "RPOP", "SPOP", "ZPOPMIN"]), KEYS,
                  st.integers(1, 5).map(str)),
        st.tuples(st.sampled_from(["SREM", "ZREM", "HDEL", "LREM"]), KEYS, st.just("0"),
                  st.sampled_from(["1", "2", "3"])).map(
            lambda t: t if t[0] == "LREM" else (t[0], t[1], t[3])),
        st.tuples(st.sampled_from(["DEL", "UNLINK", "PERSIST"]), KEYS),
        st.tuples(st.just("PEXPIREAT"), KEYS, st.just("1")),
        st.tuples(st.sampled_from(["RENAME", "COPY", "SMOVE"]), KEYS, KEYS).map(
            lambda t: t + ("1",) if t[0] == "SMOVE" else t),
        st.tuples(st.sampled_from(["SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"]), KEYS, KEYS, KEYS),
        st.tuples(st.just("ZUNIONSTORE"), KEYS, st.just("2"), KEYS, KEYS),
        st.tuples(st.just("LMOVE"), KEYS, KEYS, st.just("LEFT"), st.just("RIGHT")),
        st.tuples(st.just("SETRANGE"), KEYS, st.integers(0, 70).map(str), st.just("z")),
        st.tuples(st.just("MOVE"), KEYS, st.just("1")),
        st.tuples(st.just("SWAPDB"), st.just("0"), st.just("1")),
        st.tuples(st.just("SELECT"), st.sampled_from(["0", "1"])),
        st.tuples(st.just("FLUSHDB")),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(script=st.lists(_cmd(), min_size=1, max_size=25))
def test_keysizes_random_scripts(redis_server, script):
    from tests.support.diff import RedisConn

    redis_conn = RedisConn(redis_server.port)
    try:
        redis_conn.call("FLUSHALL")
        engine_conn = EngineConn(Engine(FakeClock(int(time.time() * 1000))))
        _run(redis_conn, engine_conn, script)
    finally:
        redis_conn.close()
