"""Hash commands against a real Redis 8.2: replies, errors, field order, encodings."""

from __future__ import annotations

import pytest
from tests.support.diff import EngineConn, RedisConn, compare

pytestmark = pytest.mark.redis


def test_basic(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("HSET", "h"), ("HSET", "h", "f"), ("HSET", "h", "f", "v", "g"), ("HMSET", "h", "f", "v", "g"),
        ("HSET", "h", "f", "v", "g", "w"), ("HSET", "h", "f", "v2", "x", "y"), ("HGETALL", "h"),
        ("HMSET", "h", "a", "1"), ("HGET", "h", "f"), ("HGET", "h", "nofield"), ("HGET", "nokey", "f"),
        ("HMGET", "h", "f", "nofield", "a"), ("HMGET", "nokey", "a", "b"), ("HKEYS", "h"),
        ("HVALS", "h"), ("HLEN", "h"), ("HLEN", "nokey"), ("HSTRLEN", "h", "f"),
        ("HSTRLEN", "h", "nofield"), ("HSTRLEN", "nokey", "f"), ("HEXISTS", "h", "f"),
        ("HEXISTS", "h", "nofield"), ("HEXISTS", "nokey", "f"), ("HSETNX", "h", "f", "x"),
        ("HSETNX", "h", "new", "x"), ("HSETNX", "h2", "f", "x"), ("HGETALL", "h2"),
        ("HDEL", "h", "nofield"), ("HDEL", "h", "f", "f", "g"), ("HGETALL", "h"),
        ("HSET", "h", "f", "back"), ("HKEYS", "h"), ("HDEL", "nokey", "f"),
        ("HDEL", "h2", "f"), ("EXISTS", "h2"), ("HGETALL", "nokey"), ("HKEYS", "nokey"),
        ("HVALS", "nokey"), ("HDEL", "h"), ("HGET", "h"), ("HGETALL",), ("HSETNX", "h", "f"),
    ])


def test_wrongtype(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [("SET", "s", "x")] + [
        (cmd, "s", *args) for cmd, args in [
            ("HSET", ("f", "v")), ("HGET", ("f",)), ("HMGET", ("f",)), ("HGETALL", ()),
            ("HKEYS", ()), ("HVALS", ()), ("HLEN", ()), ("HDEL", ("f",)), ("HSTRLEN", ("f",)),
            ("HEXISTS", ("f",)), ("HSETNX", ("f", "v")), ("HINCRBY", ("f", "1")),
            ("HINCRBYFLOAT", ("f", "1")), ("HRANDFIELD", ()), ("HRANDFIELD", ("abc",)),
            ("HSCAN", ("0",)), ("HSCAN", ("x",)), ("HMSET", ("f", "v")),
        ]
    ])


def test_incr(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-10"), ("HINCRBY", "h", "n", "abc"),
        ("HSET", "h", "s", "abc", "sp", " 5", "big", "9223372036854775807"),
        ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "sp", "1"), ("HINCRBY", "h", "big", "1"),
        ("HINCRBY", "h", "n", "-9223372036854775808"), ("HINCRBY", "h", "n", "-9223372036854775808"),
        ("HINCRBYFLOAT", "h", "f", "0.1"), ("HINCRBYFLOAT", "h", "f", "0.2"),
        ("HINCRBYFLOAT", "h", "f", "abc"), ("HINCRBYFLOAT", "h", "f", "inf"),
        ("HINCRBYFLOAT", "h", "f", "nan"), ("HINCRBYFLOAT", "h", "s", "1"),
        ("HINCRBYFLOAT", "h", "n", "1.5"), ("HINCRBYFLOAT", "h", "e", "1e300"),
        ("HINCRBYFLOAT", "h", "e", "1e4000"), ("HINCRBYFLOAT", "h", "e2", "1e4000"),
        ("HINCRBYFLOAT", "h", "e2", "1e4000"), ("HINCRBYFLOAT", "h", "z", "-0.0"),
        ("HMGET", "h", "f", "n", "z", "s"), ("OBJECT", "ENCODING", "h"), ("HINCRBY", "h"),
    ])


def test_encoding_conversion(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("HSET", "a", "f", "x" * 64), ("OBJECT", "ENCODING", "a"), ("HSET", "a", "f", "x" * 65),
        ("OBJECT", "ENCODING", "a"), ("HSET", "a", "f", "x"), ("OBJECT", "ENCODING", "a"),
        ("HSET", "b", "f" * 65, "x"), ("OBJECT", "ENCODING", "b"),
        ("HSETNX", "c", "f", "x" * 65), ("OBJECT", "ENCODING", "c"),
        ("HINCRBY", "d", "f" * 65, "1"), ("OBJECT", "ENCODING", "d"),
        ("HINCRBYFLOAT", "e", "g" * 65, "1"), ("OBJECT", "ENCODING", "e"),
        ("HSET", "f", *[x for i in range(512) for x in (f"f{i}", "v")]), ("OBJECT", "ENCODING", "f"),
        ("HSET", "f", "f0", "w"), ("OBJECT", "ENCODING", "f"), ("HSET", "f", "new", "v"),
        ("OBJECT", "ENCODING", "f"), ("HDEL", "f", "new", "f1", "f2"), ("OBJECT", "ENCODING", "f"),
        ("HSET", "g", *[x for i in range(513) for x in ("same", "v")]), ("OBJECT", "ENCODING", "g"),
        ("HLEN", "g"),
    ])


def test_config_thresholds(redis_conn, engine_conn):
    redis_conn.call("CONFIG", "SET", "hash-max-listpack-entries", "4")
    engine_conn.engine.config["hash-max-listpack-entries"] = 4
    try:
        compare(redis_conn, engine_conn, [
            ("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"), ("OBJECT", "ENCODING", "h"),
            ("HSET", "h", "e", "5"), ("OBJECT", "ENCODING", "h"), ("HDEL", "h", "e", "d"),
            ("OBJECT", "ENCODING", "h"),
        ])
    finally:
        redis_conn.call("CONFIG", "SET", "hash-max-listpack-entries", "512")


def test_hrandfield(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HRANDFIELD", "h", "0"),
        ("HRANDFIELD", "h", "-9223372036854775808"),
        ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "h", "1", "foo"), ("HRANDFIELD", "h", "1", "WITHVALUES", "foo"),
        ("HRANDFIELD", "h", "abc"), ("HRANDFIELD", "nokey"), ("HRANDFIELD", "nokey", "5"),
        ("HRANDFIELD", "nokey", "5", "WITHVALUES"), ("HRANDFIELD", "nokey", "abc"),
        ("HRANDFIELD", "h", "3"), ("HRANDFIELD", "h", "10"), ("HRANDFIELD", "h", "10", "WITHVALUES"),
    ])
    for conn in (redis_conn, engine_conn):
        one = conn.call("HRANDFIELD", "h")
        assert one in (b"a", b"b", b"c")
        two = conn.call("HRANDFIELD", "h", "2")
        assert len(set(two)) == 2 and set(two) <= {b"a", b"b", b"c"}
        neg = conn.call("HRANDFIELD", "h", "-7")
        assert len(neg) == 7 and set(neg) <= {b"a", b"b", b"c"}
        wv = conn.call("HRANDFIELD", "h", "-4", "WITHVALUES")
        assert len(wv) == 8
        for f, v in zip(wv[::2], wv[1::2], strict=True):
            assert {b"a": b"1", b"b": b"2", b"c": b"3"}[f] == v


def test_hrandfield_resp3(redis_server):
    r = RedisConn(redis_server.port, protocol=3)
    e = EngineConn(protocol=3)
    try:
        r.call("FLUSHALL")
        compare(r, e, [("HSET", "h", "a", "1", "b", "2"), ("HRANDFIELD", "h", "2", "WITHVALUES"),
                       ("HGETALL", "h"), ("HGETALL", "nokey"), ("HRANDFIELD", "h", "0", "WITHVALUES")])
        pairs = e.call("HRANDFIELD", "h", "-3", "WITHVALUES")
        assert len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    finally:
        r.close()


def test_hscan(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("HSET", "h", "f1", "a", "f2", "b", "g1", "c"), ("HSCAN", "h", "0"),
        ("HSCAN", "h", "0", "NOVALUES"), ("HSCAN", "h", "0", "MATCH", "f*"),
        ("HSCAN", "h", "0", "MATCH", "f*", "NOVALUES"), ("HSCAN", "h", "0", "COUNT", "1"),
        ("HSCAN", "h", "123"), ("HSCAN", "h", "0", "TYPE", "string"), ("HSCAN", "h", "0", "COUNT", "0"),
        ("HSCAN", "h", "x"), ("HSCAN", "nokey", "0", "foo"), ("HSCAN", "nokey", "x"),
        ("HSCAN", "h", "0", "MATCH"), ("HSCAN", "h"),
    ])
    big = [x for i in range(600) for x in (f"field:{i}", str(i))]
    compare(redis_conn, engine_conn, [("HSET", "big", *big)])
    for args in [(), ("NOVALUES",), ("MATCH", "field:1*"), ("COUNT", "50")]:
        got = []
        for conn in (redis_conn, engine_conn):
            items: list[bytes] = []
            cur = b"0"
            while True:
                cur, page = conn.call("HSCAN", "big", cur, *args)
                items += page
                if cur == b"0":
                    break
            if "NOVALUES" in args:
                got.append(sorted(set(items)))
            else:
                got.append(sorted(set(zip(items[::2], items[1::2], strict=True))))
        assert got[0] == got[1], args
