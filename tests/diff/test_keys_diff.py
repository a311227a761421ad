"""Keyspace commands against a real Redis 8.2: replies and error texts.

Randomness- or time-dependent answers are normalised: SCAN/KEYS as sets, TTLs
within bounds (see ``test_expire_family``)."""

from __future__ import annotations

import pytest
from tests.support.diff import compare

pytestmark = pytest.mark.redis


def test_del_exists_type_touch(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "a", "1"), ("HSET", "h", "f", "v"), ("EXISTS", "a", "a", "h", "no"),
        ("TYPE", "a"), ("TYPE", "h"), ("TYPE", "no"), ("TOUCH", "a", "h", "no", "a"),
        ("DEL", "a", "a", "no"), ("DEL", "a"), ("UNLINK", "h", "no"), ("EXISTS", "h"),
        ("DEL",), ("EXISTS",), ("TYPE",), ("TYPE", "a", "b"), ("TOUCH",), ("UNLINK",),
        ("DBSIZE",), ("DBSIZE", "x"), ("RANDOMKEY",), ("SET", "only", "1"), ("RANDOMKEY",),
        ("RANDOMKEY", "x"),
    ])


def test_rename_family(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "a", "1"), ("EXPIRE", "a", "100"), ("RENAME", "a", "b"), ("EXISTS", "a"),
        ("GET", "b"), ("TTL", "b"), ("RENAME", "nokey", "x"), ("RENAME", "b", "b"),
        ("RENAMENX", "b", "b"), ("RENAMENX", "nokey", "b"), ("SET", "c", "3"),
        ("RENAMENX", "b", "c"), ("RENAMENX", "b", "d"), ("GET", "d"), ("TTL", "d"),
        ("RENAME", "d", "c"), ("GET", "c"), ("TTL", "c"), ("HSET", "h", "f", "v"),
        ("RENAME", "h", "c"), ("TYPE", "c"), ("HGETALL", "c"), ("RENAME", "c"),
    ])


def test_copy(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "a", "1"), ("PEXPIRE", "a", "100000"), ("COPY", "a", "b"), ("GET", "b"),
        ("TTL", "b"), ("COPY", "a", "b"), ("COPY", "a", "b", "REPLACE"), ("COPY", "a", "a"),
        ("COPY", "a", "a", "DB", "0"), ("COPY", "a", "a", "DB", "1"), ("SELECT", "1"),
        ("GET", "a"), ("TTL", "a"), ("SELECT", "0"), ("COPY", "a", "x", "DB", "99"),
        ("COPY", "a", "x", "DB", "abc"), ("COPY", "a", "x", "DB"), ("COPY", "a", "x", "foo"),
        ("COPY", "nokey", "x", "foo"), ("COPY", "nokey", "x"), ("COPY", "a", "x", "DB", "-1"),
        ("HSET", "h", "f", "v", "g", "w"), ("COPY", "h", "h2"), ("HSET", "h2", "f", "changed"),
        ("HGETALL", "h"), ("HGETALL", "h2"), ("COPY", "a", "x", "REPLACE", "DB", "2", "REPLACE"),
        ("SELECT", "2"), ("GET", "x"), ("SELECT", "0"),
    ])


def test_move_swapdb(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "a", "1"), ("EXPIRE", "a", "100"), ("MOVE", "a", "1"), ("EXISTS", "a"),
        ("MOVE", "a", "1"), ("SET", "a", "2"), ("MOVE", "a", "1"), ("GET", "a"),
        ("MOVE", "a", "0"), ("MOVE", "a", "99"), ("MOVE", "a", "-1"), ("MOVE", "a", "abc"),
        ("MOVE", "nokey", "1"), ("SELECT", "1"), ("GET", "a"), ("TTL", "a"), ("SELECT", "0"),
        ("SWAPDB", "0", "1"), ("GET", "a"), ("TTL", "a"), ("SWAPDB", "0", "0"),
        ("SWAPDB", "0", "abc"), ("SWAPDB", "abc", "0"), ("SWAPDB", "0", "99"),
        ("SWAPDB", "-1", "0"), ("SWAPDB", "0"), ("DBSIZE",), ("SELECT", "1"), ("GET", "a"),
        ("SELECT", "0"),
    ])


def test_flush(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "a", "1"), ("SELECT", "1"), ("SET", "b", "1"), ("FLUSHDB",), ("DBSIZE",),
        ("SELECT", "0"), ("DBSIZE",), ("FLUSHDB", "foo"), ("FLUSHDB", "ASYNC", "x"),
        ("FLUSHDB", "async"), ("SET", "a", "1"), ("FLUSHDB", "SYNC"), ("SET", "a", "1"),
        ("SELECT", "3"), ("SET", "z", "1"), ("FLUSHALL",), ("DBSIZE",), ("SELECT", "0"),
        ("DBSIZE",), ("FLUSHALL", "ASYNC"), ("FLUSHALL", "x"),
    ])


def test_expire_family(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("EXPIRE", "nokey", "10"), ("SET", "k", "v"), ("EXPIRE", "k", "abc"),
        ("EXPIRE", "k", "99999999999999999"), ("EXPIRE", "k", "10", "NX", "XX"),
        ("EXPIRE", "k", "10", "GT", "LT"), ("EXPIRE", "k", "10", "NX", "GT"),
        ("EXPIRE", "k", "10", "foo"), ("EXPIRE", "k", "abc", "foo"),
        ("EXPIRE", "k", "10", "XX"), ("EXPIRE", "k", "10", "GT"), ("TTL", "k"),
        ("EXPIRE", "k", "10", "LT"), ("TTL", "k"), ("EXPIRE", "k", "10", "NX", "NX"),
        ("EXPIRE", "k", "10", "NX"), ("EXPIRE", "k", "5", "GT"), ("EXPIRE", "k", "20", "GT"),
        ("TTL", "k"), ("EXPIRE", "k", "30", "LT"), ("EXPIRE", "k", "15", "LT"), ("TTL", "k"),
        ("EXPIRE", "k", "15", "XX"), ("PEXPIRE", "k", "9223372036854775807"),
        ("PEXPIRE", "k", "100000"), ("TTL", "k"),
        ("PEXPIREAT", "k", "9223372036854775807"), ("PEXPIRETIME", "k"),
        ("EXPIREAT", "k", "9223372036854775"), ("EXPIRETIME", "k"),
        ("EXPIRE", "k", "-9223372036854775808"), ("EXPIREAT", "k", "99999999999"),
        ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("PERSIST", "k"), ("PERSIST", "k"),
        ("TTL", "k"), ("PTTL", "k"), ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"),
        ("PERSIST", "nokey"), ("TTL", "nokey"), ("PTTL", "nokey"), ("EXPIRETIME", "nokey"),
        ("PEXPIRETIME", "nokey"), ("EXPIRE", "k", "-1"), ("EXISTS", "k"), ("SET", "k", "v"),
        ("EXPIREAT", "k", "1"), ("EXISTS", "k"), ("SET", "k", "v"), ("PEXPIRE", "k", "0"),
        ("EXISTS", "k"), ("SET", "k", "v"), ("EXPIRE", "k", "0", "NX"), ("EXISTS", "k"),
        ("SET", "k", "v"), ("EXPIRE", "k", "-1", "XX"), ("EXISTS", "k"),
        ("SET", "k", "v"), ("EXPIRE", "k", "-1", "LT"), ("EXISTS", "k"), ("EXPIRE", "k"),
        ("TTL",), ("PERSIST",), ("EXPIRETIME", "a", "b"),
    ])


def test_expiretime_rounding(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "k", "v"), ("PEXPIREAT", "k", "99999999999499"), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", "99999999999500"), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", "99999999999999"), ("EXPIRETIME", "k"),
    ])


def test_keys_and_scan_as_sets(redis_conn, engine_conn):
    script = [("MSET", *[x for i in range(60) for x in (f"key:{i}", str(i))])]
    script += [("HSET", f"hash:{i}", "f", "v") for i in range(15)]
    compare(redis_conn, engine_conn, script)
    for pat in ["*", "key:1*", "key:?", "hash:*", "*:1[0-3]", "nomatch*", "key:\\*", "[kh]*:5"]:
        a = redis_conn.call("KEYS", pat)
        b = engine_conn.call("KEYS", pat)
        assert sorted(a) == sorted(b), pat
    for args in [(), ("MATCH", "key:1*"), ("COUNT", "7"), ("TYPE", "hash"), ("TYPE", "string"),
                 ("TYPE", "STRING"), ("TYPE", "nosuchtype"), ("MATCH", "hash:*", "COUNT", "3")]:
        got = []
        for conn in (redis_conn, engine_conn):
            seen: list[bytes] = []
            cur = b"0"
            while True:
                cur, page = conn.call("SCAN", cur, *args)
                seen += page
                if cur == b"0":
                    break
            got.append(sorted(set(seen)))
        assert got[0] == got[1], args


def test_scan_errors(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SCAN", "x"), ("SCAN", "-1"), ("SCAN", "18446744073709551616"), ("SCAN", "0", "COUNT", "0"),
        ("SCAN", "0", "COUNT", "x"), ("SCAN", "0", "COUNT", "-1"), ("SCAN", "0", "MATCH"),
        ("SCAN", "0", "foo", "bar"), ("SCAN", "0", "NOVALUES"), ("SCAN", "0", "TYPE"),
        ("SCAN", "1 "), ("SCAN", ""), ("SCAN", "0x10"), ("SCAN",),
    ])


def test_object(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("OBJECT", "HELP"), ("OBJECT", "help"), ("OBJECT",), ("OBJECT", "ENCODING"),
        ("OBJECT", "foo"), ("OBJECT", "foo", "bar"), ("OBJECT", "HELP", "x"),
        ("OBJECT", "ENCODING", "nokey"), ("OBJECT", "REFCOUNT", "nokey"),
        ("OBJECT", "IDLETIME", "nokey"), ("OBJECT", "FREQ", "nokey"), ("SET", "k", "1"),
        ("OBJECT", "FREQ", "k"), ("OBJECT", "IDLETIME", "k"), ("OBJECT", "REFCOUNT", "k"),
        ("OBJECT", "ENCODING", "k"), ("OBJECT", "ENCODING", "k", "x"),
        ("HSET", "h", "f", "v"), ("OBJECT", "ENCODING", "h"), ("OBJECT", "REFCOUNT", "h"),
    ])


def test_object_freq_under_lfu(redis_conn, engine_conn):
    from streamlite.engine import lfu

    redis_conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    engine_conn.engine.config["maxmemory-policy"] = "allkeys-lfu"
    lfu.refresh_policy(engine_conn.engine)  # what CONFIG SET maxmemory-policy must call
    try:
        compare(redis_conn, engine_conn, [
            ("SET", "k", "v"), ("OBJECT", "FREQ", "k"), ("GET", "k"), ("OBJECT", "FREQ", "k"),
            ("OBJECT", "IDLETIME", "k"), ("OBJECT", "FREQ", "nokey"), ("OBJECT", "IDLETIME", "nokey"),
        ])
    finally:
        redis_conn.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
