"""Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO)
against a real Redis 8.2: replies byte for byte in RESP2 and RESP3, error texts,
the strings they leave (GET) and their encodings, and random scripts (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.diff.diffutil import raw_both_protocols
from tests.support.diff import EngineConn, RedisConn

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]


def test_setbit_getbit(redis_server):
    raw_both_protocols(redis_server.port, [
        ("SETBIT", "k", "7", "1"), ("GET", "k"), ("OBJECT", "ENCODING", "k"), ("SETBIT", "k", "7", "1"),
        ("SETBIT", "k", "100", "1"), ("GET", "k"), ("STRLEN", "k"), ("SETBIT", "k", "100", "0"),
        ("GET", "k"), ("GETBIT", "k", "7"), ("GETBIT", "k", "6"), ("GETBIT", "k", "100000"),
        ("GETBIT", "nokey", "3"), ("SETBIT", "k", "-1", "1"), ("SETBIT", "k", "4294967296", "1"),
        ("SETBIT", "k", "1", "2"), ("SETBIT", "k", "1", "-1"), ("SETBIT", "k", "1", "x"),
        ("SETBIT", "k", "x", "1"), ("SETBIT", "k", "x", "x"), ("GETBIT", "k", "-1"),
        ("GETBIT", "k", "4294967296"), ("GETBIT", "k", "x"),
        # strings of every encoding are bitmaps too; a bitmap write leaves them raw
        ("SET", "num", "12345"), ("OBJECT", "ENCODING", "num"), ("GETBIT", "num", "2"),
        ("SETBIT", "num", "0", "0"), ("OBJECT", "ENCODING", "num"), ("GET", "num"),
        ("SET", "e", "ab"), ("SETBIT", "e", "1", "1"), ("OBJECT", "ENCODING", "e"),
        ("SET", "e2", "ab"), ("SETBIT", "e2", "0", "0"), ("OBJECT", "ENCODING", "e2"),
        ("SET", "ttl", "x", "EX", "100"), ("SETBIT", "ttl", "100", "1"), ("TTL", "ttl"),
        ("LPUSH", "l", "a"), ("SETBIT", "l", "1", "1"), ("GETBIT", "l", "1"),
        ("SETBIT", "k"), ("GETBIT", "k"),
    ])


def test_bitcount_bitpos(redis_server):
    raw_both_protocols(redis_server.port, [
        ("SET", "s", "foobar"), ("BITCOUNT", "s"), ("BITCOUNT", "s", "0", "0"),
        ("BITCOUNT", "s", "1", "1"), ("BITCOUNT", "s", "1", "1", "BYTE"),
        ("BITCOUNT", "s", "5", "30", "BIT"), ("BITCOUNT", "s", "5", "30", "bit"),
        ("BITCOUNT", "s", "5", "30", "BOT"), ("BITCOUNT", "s", "5"), ("BITCOUNT", "s", "-1", "-2"),
        ("BITCOUNT", "s", "-2", "-1", "BIT"), ("BITCOUNT", "s", "0", "-1", "BIT"),
        ("BITCOUNT", "s", "-100", "100"), ("BITCOUNT", "s", "3", "1"), ("BITCOUNT", "nokey", "0", "1"),
        ("BITCOUNT", "nokey"), ("BITCOUNT", "s", "a", "1"), ("BITCOUNT", "s", "1", "a", "BOT"),
        ("BITCOUNT", "s", "1", "2", "BIT", "x"),
        ("SET", "p", b"\xff\xf0\x00"), ("BITPOS", "p", "0"), ("BITPOS", "p", "1"),
        ("BITPOS", "p", "0", "2"), ("BITPOS", "p", "1", "2"), ("BITPOS", "p", "0", "0", "0"),
        ("BITPOS", "p", "0", "1", "-1", "BIT"), ("BITPOS", "p", "0", "2", "5", "BIT"),
        ("BITPOS", "p", "1", "7", "15", "BIT"), ("BITPOS", "p", "0", "0", "11", "BIT"),
        ("BITPOS", "p", "1", "13", "22", "BIT"), ("BITPOS", "p", "0", "-3", "-1", "BYTE"),
        ("SET", "ones", b"\xff\xff"), ("BITPOS", "ones", "0"), ("BITPOS", "ones", "0", "0"),
        ("BITPOS", "ones", "0", "0", "-1"), ("BITPOS", "ones", "0", "0", "-1", "BIT"),
        ("BITPOS", "ones", "1", "3", "5", "BIT"), ("BITPOS", "nokey", "0"), ("BITPOS", "nokey", "1"),
        ("BITPOS", "p", "2"), ("BITPOS", "p", "x"), ("BITPOS", "p", "1", "0", "1", "BYTE", "x"),
        ("BITPOS", "p", "1", "0", "x", "BIT"), ("BITPOS", "p", "1", "0", "x", "BOT"),
        ("SET", "empty", ""), ("BITPOS", "empty", "0"), ("BITPOS", "empty", "1"),
        ("BITCOUNT", "empty"), ("HSET", "h", "f", "v"), ("BITCOUNT", "h"), ("BITPOS", "h", "1"),
    ])


def test_bitop(redis_server):
    raw_both_protocols(redis_server.port, [
        ("SET", "a", b"\x0f\xf0\xaa"), ("SET", "b", b"\x55"), ("SET", "c", b"\xff\x00\x01\x80"),
        *[("BITOP", op, "d", *srcs) for op in ("AND", "OR", "XOR", "DIFF", "DIFF1", "ANDOR", "ONE")
          for srcs in (("a", "b"), ("a", "b", "c"), ("c", "nokey", "a"))],
        ("BITOP", "AND", "d", "a", "b"), ("GET", "d"), ("OBJECT", "ENCODING", "d"),
        ("BITOP", "NOT", "d", "a"), ("GET", "d"), ("BITOP", "not", "d", "a", "b"),
        ("BITOP", "DIFF", "d", "a"), ("BITOP", "diff1", "d", "a"), ("BITOP", "AndOr", "d", "a"),
        ("BITOP", "ONE", "d", "a"), ("GET", "d"), ("BITOP", "FOO", "d", "a"),
        ("BITOP", "AND", "d", "nokey", "nokey2"), ("EXISTS", "d"), ("BITOP", "OR", "d", "nokey"),
        ("SET", "d", "x", "EX", "100"), ("BITOP", "OR", "d", "a"), ("TTL", "d"),
        ("LPUSH", "l", "x"), ("BITOP", "AND", "d", "a", "l"), ("BITOP", "AND", "l", "a"), ("TYPE", "l"),
        ("BITOP", "AND", "d"),
    ])
    raw_both_protocols(redis_server.port, [
        ("SET", "a", b"\x0f\xf0\xaa"), ("SET", "b", b"\x55"), ("SET", "c", b"\xff\x00\x01\x80"),
    ] + [x for op in ("AND", "OR", "XOR", "DIFF", "DIFF1", "ANDOR", "ONE")
         for srcs in (("a", "b"), ("a", "b", "c"), ("c", "nokey", "a"), ("b", "c"))
         for x in (("BITOP", op, "d", *srcs), ("GET", "d"))])


def test_bitfield(redis_server):
    raw_both_protocols(redis_server.port, [
        ("BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0", "INCRBY", "i8", "0", "100",
         "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "1"),
        ("GET", "bf"), ("OBJECT", "ENCODING", "bf"),
        ("BITFIELD", "bf", "SET", "u8", "#1", "300", "GET", "u8", "#1", "SET", "u63", "0", "-1",
         "GET", "u63", "0", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0"),
        ("BITFIELD", "bf", "INCRBY", "i64", "0", "-1"),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "OVERFLOW", "WRAP",
         "INCRBY", "u5", "100", "33"),
        ("BITFIELD", "bf", "GET", "u64", "0"), ("BITFIELD", "bf", "GET", "i65", "0"),
        ("BITFIELD", "bf", "GET", "u0", "0"), ("BITFIELD", "bf", "GET", "x8", "0"),
        ("BITFIELD", "bf", "GET", "I8", "0"), ("BITFIELD", "bf", "OVERFLOW", "FOO"),
        ("BITFIELD", "bf", "GET", "i8"), ("BITFIELD", "bf", "SET", "i8", "0"), ("BITFIELD", "bf", "BAR"),
        ("BITFIELD", "bf", "GET", "i8", "-1"), ("BITFIELD", "bf", "GET", "i8", "#-1"),
        ("BITFIELD", "bf", "SET", "i8", "0", "x"), ("BITFIELD", "bf", "GET", "i8", "4294967296"),
        ("BITFIELD_RO", "bf", "GET", "i8", "0", "GET", "u4", "4"),
        ("BITFIELD_RO", "bf", "SET", "i8", "0", "1"), ("BITFIELD_RO", "nokey", "GET", "i8", "0"),
        ("BITFIELD", "nokey2", "GET", "i8", "0"), ("EXISTS", "nokey2"), ("BITFIELD", "bf"),
        ("LPUSH", "l", "a"), ("BITFIELD", "l", "GET", "i8", "0"), ("BITFIELD_RO", "l", "GET", "i8", "0"),
        ("BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u8", "0", "300"), ("EXISTS", "n"), ("GET", "n"),
        ("BITFIELD", "n", "SET", "i63", "0", "-9223372036854775808"),
        ("BITFIELD", "n", "OVERFLOW", "SAT", "SET", "i63", "0", "-9223372036854775808"),
        ("BITFIELD", "n", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"),
        ("BITFIELD", "n", "OVERFLOW", "SAT", "SET", "i8", "0", "-1000", "GET", "i8", "0",
         "OVERFLOW", "WRAP", "SET", "i8", "0", "-1000", "GET", "i8", "0"),
        ("BITFIELD", "n", *["INCRBY", "u2", "100", "1"] * 4),
        ("BITFIELD", "n", "OVERFLOW", "SAT", *["INCRBY", "u2", "102", "1"] * 3, "INCRBY", "u2", "102", "-5"),
        ("BITFIELD", "n", *["INCRBY", "i64", "0", "9223372036854775807"] * 2),
        ("BITFIELD", "n", "OVERFLOW", "SAT", *["INCRBY", "i64", "0", "9223372036854775807"] * 2),
        ("BITFIELD", "n", "OVERFLOW", "SAT", *["INCRBY", "i64", "0", "-9223372036854775808"] * 2),
        ("BITFIELD", "n", "OVERFLOW", "WRAP", *["INCRBY", "i64", "0", "-9223372036854775808"] * 2),
        ("BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u63", "0", "9223372036854775807",
         "INCRBY", "u63", "0", "1", "INCRBY", "u63", "0", "-9223372036854775808"),
        ("BITFIELD", "n", "SET", "i5", "3", "15", "SET", "u3", "1", "9", "GET", "i16", "0"), ("GET", "n"),
    ])


# -- random scripts ----------------------------------------------------------------------

KEY = st.sampled_from(["a", "b", "c"])
OFFSET = st.one_of(st.integers(0, 80), st.integers(0, 3000)).map(str)
INDEX = st.integers(-12, 12).map(str)
FIELD_TYPE = st.one_of(st.integers(1, 64).map(lambda n: f"i{n}"), st.integers(1, 63).map(lambda n: f"u{n}"))
VALUE = st.one_of(st.integers(-300, 300), st.integers(-(1 << 63), (1 << 63) - 1)).map(str)
UNIT = st.sampled_from([(), ("BIT",), ("BYTE",)])
BITFIELD_OP = st.one_of(
    st.tuples(st.just("GET"), FIELD_TYPE, OFFSET),
    st.tuples(st.sampled_from(["SET", "INCRBY"]), FIELD_TYPE, OFFSET, VALUE),
    st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL"])),
).map(list)

COMMAND = st.one_of(
    st.tuples(st.just("SETBIT"), KEY, OFFSET, st.sampled_from(["0", "1"])),
    st.tuples(st.just("GETBIT"), KEY, OFFSET),
    st.tuples(st.just("SET"), KEY, st.binary(max_size=12)),
    st.tuples(st.just("APPEND"), KEY, st.binary(max_size=4)),
    st.tuples(st.just("GET"), KEY),
    st.tuples(st.just("OBJECT"), st.just("ENCODING"), KEY),
    st.builds(lambda k, s, e, u: ("BITCOUNT", k, s, e, *u), KEY, INDEX, INDEX, UNIT),
    st.tuples(st.just("BITCOUNT"), KEY),
    st.builds(lambda k, b, s, e, u: ("BITPOS", k, b, s, e, *u), KEY, st.sampled_from(["0", "1"]),
              INDEX, INDEX, UNIT),
    st.builds(lambda k, b, s: ("BITPOS", k, b, *s), KEY, st.sampled_from(["0", "1"]),
              st.lists(INDEX, max_size=1)),
    st.builds(lambda op, d, ks: ("BITOP", op, d, *ks),
              st.sampled_from(["AND", "OR", "XOR", "DIFF", "DIFF1", "ANDOR", "ONE"]), KEY,
              st.lists(KEY, min_size=2, max_size=3)),
    st.builds(lambda d, k: ("BITOP", "NOT", d, k), KEY, KEY),
    st.builds(lambda k, ops: ("BITFIELD", k, *[x for op in ops for x in op]), KEY,
              st.lists(BITFIELD_OP, min_size=1, max_size=4)),
    st.builds(lambda k, ops: ("BITFIELD_RO", k, *[x for op in ops for x in op]), KEY,
              st.lists(st.tuples(st.just("GET"), FIELD_TYPE, OFFSET).map(list), max_size=3)),
)


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(script=st.lists(COMMAND, min_size=1, max_size=30))
def test_random_bitmap_scripts(redis_server, proto, script):
    r = RedisConn(redis_server.port, protocol=proto)
    try:
        r.call("FLUSHALL")
        e = EngineConn(protocol=proto)
        for i, cmd in enumerate(script):
            a = r.call(*cmd)
            b = e.call(*cmd)
            assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
        for key in ("a", "b", "c"):
            assert r.call("GET", key) == e.call("GET", key), key
            assert r.call("OBJECT", "ENCODING", key) == e.call("OBJECT", "ENCODING", key), key
    finally:
        r.close()
