"""String commands against a real Redis 8.2: replies, error texts, encodings."""

from __future__ import annotations

import pytest
from tests.support.diff import compare

pytestmark = pytest.mark.redis


def test_set_options(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "k", "v"), ("GET", "k"), ("SET", "k", "w", "NX"), ("SET", "k", "w", "XX"),
        ("GET", "k"), ("SET", "n", "1", "XX"), ("SET", "n", "1", "NX"), ("SET", "k", "x", "GET"),
        ("SET", "new", "x", "GET"), ("SET", "k", "y", "NX", "GET"), ("SET", "zz", "y", "XX", "GET"),
        ("SET", "k", "v", "nx", "xx"), ("SET", "k", "v", "xx", "nx"), ("SET", "k", "v", "KEEPTTL", "EX", "5"),
        ("SET", "k", "v", "EX", "5", "KEEPTTL"), ("SET", "k", "v", "EX", "5", "PX", "5"),
        ("SET", "k", "v", "EX"), ("SET", "k", "v", "foo"), ("SET", "k", "v", "GET", "GET"),
        ("SET", "k", "v", "EX", "0"), ("SET", "k", "v", "EX", "-1"), ("SET", "k", "v", "EX", "abc"),
        ("SET", "k", "v", "PX", "0"), ("SET", "k", "v", "EXAT", "0"), ("SET", "k", "v", "PXAT", "0"),
        ("SET", "k", "v", "EX", "9223372036854775807"), ("SET", "k", "v", "EX", "9223372036854775"),
        ("SET", "k", "v", "PX", "9223372036854775807"), ("SET", "k", "v", "EX", "1.5"),
        ("SET", "k", "v", "EX", "100"), ("TTL", "k"), ("SET", "k", "v2", "KEEPTTL"), ("TTL", "k"),
        ("SET", "k", "v3"), ("TTL", "k"), ("SET", "k", "v", "PX", "100000"), ("TTL", "k"),
        ("SET", "k", "v", "EXAT", "99999999999"), ("EXPIRETIME", "k"),
        ("SET", "k", "v", "PXAT", "99999999999999"), ("PEXPIRETIME", "k"),
        ("SET", "dummy", "1"),
        ("SET", "k", "v", "EX", "10", "NX", "GET"), ("SET",), ("SET", "k"),
    ])


def test_set_on_wrong_type(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("HSET", "h", "f", "v"), ("SET", "h", "x", "GET"), ("TYPE", "h"), ("SET", "h", "x"),
        ("TYPE", "h"), ("HSET", "h2", "f", "v"), ("GET", "h2"), ("GETSET", "h2", "x"),
        ("GETDEL", "h2"), ("GETEX", "h2"), ("APPEND", "h2", "x"), ("STRLEN", "h2"),
        ("GETRANGE", "h2", "0", "1"), ("SETRANGE", "h2", "0", "x"), ("INCR", "h2"),
        ("INCRBYFLOAT", "h2", "1"), ("MGET", "h2", "nokey", "h"), ("SETNX", "h2", "x"),
        ("SET", "h2", "v", "NX"), ("SET", "h2", "v", "XX", "GET"),
    ])


def test_setnx_setex_psetex_getset(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SETNX", "a", "1"), ("SETNX", "a", "2"), ("GET", "a"), ("SETEX", "b", "100", "v"),
        ("TTL", "b"), ("SETEX", "b", "0", "v"), ("SETEX", "b", "-5", "v"), ("SETEX", "b", "x", "v"),
        ("PSETEX", "c", "100000", "v"), ("TTL", "c"), ("PSETEX", "c", "0", "v"),
        ("GETSET", "b", "new"), ("TTL", "b"), ("GETSET", "nokey", "v"), ("GET", "nokey"),
        ("SETEX", "b", "100"), ("SETNX", "a"),
    ])


def test_getex_getdel(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("SET", "k", "v"), ("GETEX", "k"), ("GETEX", "k", "EX", "100"), ("TTL", "k"),
        ("GETEX", "k", "PERSIST"), ("TTL", "k"), ("GETEX", "k", "PX", "50000"), ("TTL", "k"),
        ("GETEX", "k", "EXAT", "99999999999"), ("EXPIRETIME", "k"),
        ("GETEX", "k", "PXAT", "99999999999000"), ("PEXPIRETIME", "k"),
        ("GETEX", "k", "EX", "0"), ("GETEX", "k", "EX", "abc"), ("GETEX", "k", "foo"),
        ("GETEX", "k", "PERSIST", "EX", "10"), ("GETEX", "k", "EX", "10", "PERSIST"),
        ("GETEX", "k", "EX", "10", "PX", "10"), ("GETEX", "k", "EX"), ("GETEX", "k", "KEEPTTL"),
        ("GETEX", "nokey", "EX", "0"), ("GETEX", "nokey", "EX", "abc"), ("GETEX", "nokey"),
        ("GETEX", "k", "EXAT", "1"), ("EXISTS", "k"), ("SET", "k", "v"),
        ("GETEX", "k", "PXAT", "1"), ("EXISTS", "k"), ("GETEX", "k", "NX"), ("GETEX", "k", "GET"),
        ("SET", "d", "v"), ("GETDEL", "d"), ("GETDEL", "d"), ("EXISTS", "d"),
    ])


def test_mget_mset_msetnx(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("MSET", "a", "1", "b", "2"), ("MGET", "a", "b", "c"), ("MSET", "a"), ("MSET", "a", "1", "b"),
        ("MSETNX", "c", "3", "a", "9"), ("MGET", "a", "c"), ("MSETNX", "c", "3", "d", "4"),
        ("MGET", "c", "d"), ("MSETNX", "x"), ("MSETNX", "x", "1", "y"), ("MSET", "a", "1", "a", "2"),
        ("GET", "a"), ("MGET",),
    ])


def test_incr_family(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("INCR", "n"), ("INCRBY", "n", "10"), ("DECR", "n"), ("DECRBY", "n", "5"), ("GET", "n"),
        ("INCRBY", "n", "abc"), ("INCRBY", "n", "1.5"), ("INCRBY", "n", " 1"), ("INCRBY", "n", "+1"),
        ("INCRBY", "n", "-0"), ("INCRBY", "n", "01"),
        ("SET", "m", "9223372036854775806"), ("INCR", "m"), ("INCR", "m"), ("GET", "m"),
        ("SET", "m", "-9223372036854775807"), ("DECR", "m"), ("DECR", "m"),
        ("DECRBY", "x", "-9223372036854775808"), ("INCRBY", "x", "-9223372036854775808"),
        ("INCRBY", "x", "9223372036854775808"),
        ("SET", "s", "abc"), ("INCR", "s"), ("SET", "s", " 5"), ("INCR", "s"), ("SET", "s", "5 "),
        ("INCR", "s"), ("SET", "s", "007"), ("INCR", "s"), ("SET", "s", ""), ("INCR", "s"),
        ("SET", "t", "5"), ("EXPIRE", "t", "100"), ("INCR", "t"), ("TTL", "t"),
        ("SET", "big", "12345678901234567890"), ("INCR", "big"),
    ])


def test_incrbyfloat(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "0.1"),
        ("INCRBYFLOAT", "f", "-0.3"), ("INCRBYFLOAT", "f", "1e50"), ("INCRBYFLOAT", "f", "-1e50"),
        ("INCRBYFLOAT", "f", "3.0e3"), ("INCRBYFLOAT", "f", "abc"), ("INCRBYFLOAT", "f", "inf"),
        ("INCRBYFLOAT", "f", "nan"), ("INCRBYFLOAT", "f", " 1"), ("INCRBYFLOAT", "f", "1 "),
        ("INCRBYFLOAT", "f", "0x10"), ("INCRBYFLOAT", "f", ".5"), ("INCRBYFLOAT", "f", "5."),
        ("INCRBYFLOAT", "f", "1e5000"), ("INCRBYFLOAT", "f", "1e-5000"),
        ("SET", "g", "1.5"), ("INCRBYFLOAT", "g", "1"), ("SET", "g", "abc"), ("INCRBYFLOAT", "g", "1"),
        ("SET", "g", "10"), ("EXPIRE", "g", "100"), ("INCRBYFLOAT", "g", "2.5"), ("TTL", "g"),
        ("OBJECT", "ENCODING", "g"), ("SET", "h", "1"), ("INCRBYFLOAT", "h", "2"),
        ("OBJECT", "ENCODING", "h"), ("INCRBYFLOAT", "h", "1e30"), ("OBJECT", "ENCODING", "h"),
        ("INCRBYFLOAT", "neg", "-0.0"), ("INCRBYFLOAT", "tiny", "1e-20"),
    ])


def test_append_strlen_ranges(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("APPEND", "a", "hello"), ("APPEND", "a", " world"), ("GET", "a"), ("STRLEN", "a"),
        ("STRLEN", "nokey"), ("APPEND", "n", "10"), ("OBJECT", "ENCODING", "n"),
        ("APPEND", "n", ""), ("OBJECT", "ENCODING", "n"),
        ("GETRANGE", "a", "0", "4"), ("GETRANGE", "a", "-5", "-1"), ("GETRANGE", "a", "5", "2"),
        ("GETRANGE", "a", "0", "-1"), ("GETRANGE", "a", "-100", "100"), ("GETRANGE", "a", "100", "200"),
        ("GETRANGE", "a", "-1", "-5"), ("GETRANGE", "a", "3", "-100"), ("GETRANGE", "nokey", "0", "1"),
        ("GETRANGE", "a", "x", "1"), ("GETRANGE", "a", "0", "9223372036854775807"),
        ("GETRANGE", "a", "-9223372036854775808", "-1"),
        ("SUBSTR", "a", "1", "3"), ("SET", "e", ""), ("GETRANGE", "e", "0", "-1"),
        ("GETRANGE", "e", "0", "0"), ("SET", "i", "12345"), ("GETRANGE", "i", "1", "2"),
        ("SETRANGE", "s", "5", "abc"), ("GET", "s"), ("SETRANGE", "s", "0", "XY"), ("GET", "s"),
        ("SETRANGE", "s", "-1", "x"), ("SETRANGE", "s", "x", "x"), ("SETRANGE", "nokey2", "3", ""),
        ("EXISTS", "nokey2"), ("SETRANGE", "s", "100", ""), ("STRLEN", "s"),
        ("SETRANGE", "s", "536870911", "x"), ("SETRANGE", "s", "536870912", "x"),
        ("SETRANGE", "s", "1", "longer-than-before"), ("GET", "s"), ("OBJECT", "ENCODING", "s"),
    ])


def test_string_encodings(redis_conn, engine_conn):
    script = []
    for key in ["k", "kk", "key-of-ten", "a" * 30, "b" * 45]:
        for n in [0, 1, 8, 30, 31, 32, 33, 39, 40, 41, 44, 45, 100]:
            script += [("SET", key, "x" * n), ("OBJECT", "ENCODING", key)]
            script += [("SET", key, "x" * n, "EX", "100"), ("OBJECT", "ENCODING", key)]
            script += [("PERSIST", key), ("OBJECT", "ENCODING", key)]
            script += [("SET", key, "x" * n), ("EXPIRE", key, "100"), ("OBJECT", "ENCODING", key)]
            script += [("SET", key, "x" * n), ("RENAME", key, "r" + key), ("OBJECT", "ENCODING", "r" + key)]
            script += [("COPY", "r" + key, "c", "REPLACE"), ("OBJECT", "ENCODING", "c")]
    for v in ["0", "1", "-1", "123", "-0", "007", "9223372036854775807", "9223372036854775808",
              "-9223372036854775808", "1.5", " 1", "1e3", "+1"]:
        script += [("SET", "v", v), ("OBJECT", "ENCODING", "v"), ("OBJECT", "REFCOUNT", "v")]
    script += [("INCR", "ctr"), ("OBJECT", "ENCODING", "ctr"), ("SETRANGE", "sr", "0", "12"),
               ("OBJECT", "ENCODING", "sr"), ("MSET", "m1", "12", "m2", "ab"),
               ("OBJECT", "ENCODING", "m1"), ("OBJECT", "ENCODING", "m2"),
               ("GETSET", "gs", "55"), ("OBJECT", "ENCODING", "gs")]
    compare(redis_conn, engine_conn, script)


def test_arity_errors(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("GET",), ("GET", "a", "b"), ("GETSET", "a"), ("INCR",), ("INCRBY", "a"), ("APPEND", "a"),
        ("STRLEN",), ("GETRANGE", "a", "0"), ("SETRANGE", "a", "0"), ("MGET",), ("GETDEL",),
        ("INCRBYFLOAT", "a"), ("DECRBY", "a"), ("PSETEX", "a", "1"), ("SUBSTR", "a"),
    ])


def test_lcs(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [
        ("MSET", "key1", "ohmytext", "key2", "mynewtext", "e", ""), ("LCS", "key1", "key2"),
        ("LCS", "key1", "key2", "LEN"), ("LCS", "key1", "key2", "IDX"),
        ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"),
        ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
        ("LCS", "key1", "key2", "LEN", "IDX"), ("LCS", "key1", "key2", "foo"),
        ("LCS", "key1", "key2", "MINMATCHLEN", "abc"), ("LCS", "key1", "key2", "MINMATCHLEN", "-5", "IDX"),
        ("LCS", "key1", "key2", "MINMATCHLEN"), ("LCS", "nokey", "key2"), ("LCS", "nokey", "nokey2", "IDX"),
        ("HSET", "h", "f", "v"), ("LCS", "h", "key2"), ("LCS", "h", "key2", "foo"),
        ("LCS", "key1", "key2", "WITHMATCHLEN"), ("LCS", "key1", "key2", "WITHMATCHLEN", "LEN"),
        ("LCS", "key1", "e", "IDX"), ("LCS", "key1", "key1", "IDX", "WITHMATCHLEN"),
        ("MSET", "x", "abcabcabcxyzabc", "y", "zzabcyabcxxabcz"), ("LCS", "x", "y"),
        ("LCS", "x", "y", "IDX", "WITHMATCHLEN"), ("LCS", "y", "x", "IDX"), ("LCS", "key1"),
    ])


def test_lcs_random(redis_conn, engine_conn):
    import random

    rng = random.Random(7)
    script = []
    for _ in range(40):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 25)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 25)))
        script += [("MSET", "a", a, "b", b), ("LCS", "a", "b"),
                   ("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", str(rng.randint(0, 3)))]
    compare(redis_conn, engine_conn, script)
