"""HyperLogLog commands against a real Redis 8.2: the HLL strings themselves must be
byte-identical (GET after the same PFADD/PFMERGE/PFCOUNT sequence, sparse and
dense, through promotion), estimates equal, errors and corruption detection the
same; Redis's DUMP of an HLL restores here to the same bytes and count."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.diff.diffutil import raw_both_protocols
from tests.support.diff import EngineConn, RedisConn

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]


def test_pfadd_pfcount_pfmerge(redis_server):
    raw_both_protocols(redis_server.port, [
        ("PFADD", "h", "a", "b", "c"), ("GET", "h"), ("OBJECT", "ENCODING", "h"), ("PFCOUNT", "h"),
        ("GET", "h"), ("PFADD", "h", "a"), ("PFADD", "h", "d"), ("GET", "h"), ("PFCOUNT", "h"),
        ("PFADD", "h2"), ("GET", "h2"), ("PFCOUNT", "h2"), ("PFADD", "h2"),
        ("PFADD", "h3", *[str(i) for i in range(60)]), ("GET", "h3"), ("PFCOUNT", "h3"),
        ("PFCOUNT", "h", "h3"), ("PFCOUNT", "h", "h3", "nokey"), ("PFCOUNT", "nokey"),
        ("PFMERGE", "m", "h", "h3"), ("GET", "m"), ("PFCOUNT", "m"), ("PFMERGE", "m2"), ("GET", "m2"),
        ("PFMERGE", "h3", "h"), ("GET", "h3"), ("PFDEBUG", "ENCODING", "h3"),
        ("PFDEBUG", "DECODE", "h3"), ("PFDEBUG", "TODENSE", "h3"), ("PFDEBUG", "TODENSE", "h3"),
        ("PFDEBUG", "ENCODING", "h3"), ("PFDEBUG", "DECODE", "h3"), ("PFCOUNT", "h3"), ("GET", "h3"),
        ("PFDEBUG", "FOO", "h3"), ("PFDEBUG", "ENCODING", "nokey"), ("PFDEBUG", "GETREG", "h"),
        ("PFDEBUG", "ENCODING", "h"), ("PFMERGE", "m3", "h3", "h"), ("GET", "m3"),
        ("PFDEBUG", "ENCODING", "m3"), ("PFCOUNT", "m3"), ("PFADD", "m3", "zz"), ("GET", "m3"),
        ("PFDEBUG", "SIMD", "on"), ("PFDEBUG", "SIMD", "off"), ("PFDEBUG", "SIMD", "on"),
        ("SET", "ttl", "x"), ("DEL", "ttl"), ("PFADD", "ttl", "a"), ("EXPIRE", "ttl", "100"),
        ("PFADD", "ttl", "b"), ("PFCOUNT", "ttl"), ("TTL", "ttl"),
        # type and format checks
        ("SET", "s", "foo"), ("PFADD", "s", "a"), ("PFCOUNT", "s"), ("PFMERGE", "s", "h"),
        ("PFMERGE", "h", "s"), ("PFCOUNT", "h", "s"), ("PFDEBUG", "GETREG", "s"),
        ("LPUSH", "l", "a"), ("PFADD", "l", "a"), ("PFCOUNT", "l"), ("PFCOUNT", "h", "l"),
        ("PFMERGE", "l", "h"), ("PFMERGE", "h", "l"), ("PFDEBUG", "GETREG", "l"),
        ("SET", "fake", "HYLL"), ("PFCOUNT", "fake"),
        ("SET", "fake", b"HYLL\x02" + b"\0" * 20), ("PFCOUNT", "fake"),
        ("SET", "fake", b"HYLL\x00" + b"\0" * 20), ("PFCOUNT", "fake"),
        ("PFADD",), ("PFCOUNT",), ("PFMERGE",), ("PFDEBUG", "GETREG"),
    ])


def test_corrupted_hlls(redis_server):
    """Corruption is detected where Redis detects it, and a broken value is left
    exactly as Redis leaves it."""
    raw_both_protocols(redis_server.port, [
        ("PFADD", "h", "a", "b", "c"),
        ("APPEND", "h", "hello"), ("PFCOUNT", "h"), ("PFADD", "h", "x", "y"), ("GET", "h"),
        ("PFMERGE", "m", "h"), ("PFCOUNT", "h", "h"),
        ("SET", "h2", b"HYLL\x01\0\0\0" + b"\0" * 8 + b"\x7f\xfe"), ("PFCOUNT", "h2"),
        ("PFADD", "h2", "a"), ("PFDEBUG", "DECODE", "h2"), ("PFDEBUG", "TODENSE", "h2"),
        ("SET", "h3", b"HYLL\x01\0\0\0" + b"\0" * 8 + b"\x7f\xff\x00"), ("PFCOUNT", "h3"),
        ("PFDEBUG", "GETREG", "h3"), ("PFMERGE", "h3"), ("PFMERGE", "x", "h3"),
        ("SET", "h4", b"HYLL\x01\0\0\0" + b"\0" * 8 + b"\xff\xff\xff\xff\x7f\xff"), ("PFCOUNT", "h4"),
        ("PFADD", "h4", "q"), ("GET", "h4"),
    ])


def test_sparse_limit_and_promotion(redis_server):
    """``hll-sparse-max-bytes`` decides when a sparse HLL turns dense, byte for byte."""
    r = RedisConn(redis_server.port)
    try:
        for limit in ("0", "40", "500", "3000"):
            r.call("FLUSHALL")
            e = EngineConn()
            for side in (r, e):
                side.call("CONFIG", "SET", "hll-sparse-max-bytes", limit)
            rng = random.Random(int(limit))
            for n in range(25):
                els = [str(rng.randrange(10**6)) for _ in range(rng.randrange(1, 30))]
                assert r.call("PFADD", "k", *els) == e.call("PFADD", "k", *els)
                if n % 5 == 0:
                    assert r.call("PFCOUNT", "k") == e.call("PFCOUNT", "k")
                assert r.call("GET", "k") == e.call("GET", "k"), (limit, n)
            for side in (r, e):
                side.call("PFMERGE", "m", "k", "nokey")
            assert r.call("GET", "m") == e.call("GET", "m")
            assert r.call("PFDEBUG", "ENCODING", "k") == e.call("PFDEBUG", "ENCODING", "k")
    finally:
        r.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
        r.close()


def test_large_cardinalities(redis_server):
    """Dense HLLs with many elements: same registers, same estimates, merges of
    dense and sparse inputs into sparse and dense destinations."""
    r = RedisConn(redis_server.port)
    try:
        r.call("FLUSHALL")
        e = EngineConn()
        rng = random.Random(7)
        for key, n in (("big", 20000), ("mid", 1500), ("small", 40)):
            for i in range(0, n, 500):
                els = [f"{key}:{rng.random()}" for _ in range(min(500, n - i))]
                assert r.call("PFADD", key, *els) == e.call("PFADD", key, *els)
            assert r.call("PFCOUNT", key) == e.call("PFCOUNT", key)
            assert r.call("GET", key) == e.call("GET", key)
        for cmd in (("PFCOUNT", "big", "mid", "small"), ("PFMERGE", "d1", "small", "big"),
                    ("GET", "d1"), ("PFMERGE", "small", "mid"), ("GET", "small"),
                    ("PFDEBUG", "ENCODING", "small"), ("PFMERGE", "mid", "big"), ("GET", "mid"),
                    ("PFCOUNT", "small", "mid"), ("PFDEBUG", "GETREG", "big")):
            assert r.call(*cmd) == e.call(*cmd), cmd
    finally:
        r.close()


def test_redis_dump_restores_here(redis_server):
    """An HLL DUMPed by Redis (sparse and dense: LZF-compressed strings) RESTOREs to
    the same bytes and counts the same."""
    r = RedisConn(redis_server.port)
    try:
        r.call("FLUSHALL")
        e = EngineConn()
        r.call("PFADD", "sparse", *[str(i) for i in range(50)])
        r.call("PFADD", "dense", *[str(i) for i in range(5000)])
        for key in ("sparse", "dense"):
            payload = r.call("DUMP", key)
            assert e.call("RESTORE", key, "0", payload) == b"OK"
            assert e.call("GET", key) == r.call("GET", key)
            assert e.call("PFCOUNT", key) == r.call("PFCOUNT", key)
            assert e.call("PFADD", key, "new") == r.call("PFADD", key, "new")
            assert e.call("GET", key) == r.call("GET", key)
    finally:
        r.close()


ELEMENT = st.one_of(st.integers(0, 400).map(str), st.binary(max_size=10))
KEY = st.sampled_from(["a", "b", "c"])
COMMAND = st.one_of(
    st.builds(lambda k, els: ("PFADD", k, *els), KEY, st.lists(ELEMENT, max_size=25)),
    st.builds(lambda ks: ("PFCOUNT", *ks), st.lists(KEY, min_size=1, max_size=3)),
    st.builds(lambda ks: ("PFMERGE", *ks), st.lists(KEY, min_size=1, max_size=3)),
    st.tuples(st.just("GET"), KEY),
    st.tuples(st.just("PFDEBUG"), st.sampled_from(["ENCODING", "TODENSE", "DECODE"]), KEY),
    st.tuples(st.just("APPEND"), KEY, st.binary(min_size=1, max_size=3)),
    st.tuples(st.just("DEL"), KEY),
)


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(script=st.lists(COMMAND, min_size=1, max_size=25),
       limit=st.sampled_from(["3000", "60", "300"]))
def test_random_hll_scripts(redis_server, proto, script, limit):
    r = RedisConn(redis_server.port, protocol=proto)
    try:
        r.call("FLUSHALL")
        e = EngineConn(protocol=proto)
        for side in (r, e):
            side.call("CONFIG", "SET", "hll-sparse-max-bytes", limit)
        for i, cmd in enumerate(script):
            a = r.call(*cmd)
            b = e.call(*cmd)
            assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
        for key in ("a", "b", "c"):
            assert r.call("GET", key) == e.call("GET", key), key
    finally:
        r.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
        r.close()


def test_pfcount_caching_is_a_change(redis_server):
    """PFCOUNT that caches a new estimate modifies the key (WATCH sees it); one that
    reads the cached value does not."""
    raw_both_protocols(redis_server.port, [
        ("PFADD", "h", "a", "b"), ("WATCH", "h"), ("PFCOUNT", "h"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "h"), ("PFCOUNT", "h"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "h"), ("PFADD", "h", "a"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "h"), ("PFCOUNT", "h", "h"), ("MULTI",), ("PING",), ("EXEC",),
    ])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(dense=st.booleans(), edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)),
                                           min_size=1, max_size=4),
       tail=st.binary(max_size=3), ele=st.binary(max_size=6))
def test_fuzzed_hlls(redis_server, dense, edits, tail, ele):
    """Random bytes written into a sparse or dense HLL: both servers give the same
    replies (estimates or errors) and leave the same bytes behind."""
    r = RedisConn(redis_server.port)
    try:
        r.call("FLUSHALL")
        e = EngineConn()
        r.call("PFADD", "h", *[str(i) for i in range(400 if dense else 25)])
        good = bytearray(r.call("GET", "h"))
        for pos, byte in edits:
            good[pos % len(good)] = byte
        value = bytes(good) + tail
        for cmd in (("SET", "h", value), ("PFCOUNT", "h"), ("PFADD", "h", ele), ("GET", "h"),
                    ("PFCOUNT", "h", "h"), ("PFMERGE", "m", "h"), ("GET", "m"), ("PFDEBUG", "DECODE", "h"),
                    ("PFDEBUG", "TODENSE", "h"), ("GET", "h")):
            a, b = r.call(*cmd), e.call(*cmd)
            assert a == b, f"{cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
    finally:
        r.close()
