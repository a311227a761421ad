"""DUMP / RESTORE: every type round-trips; options, errors and propagation as Redis 8.2;
payloads made by a real Redis restore into the engine."""

from __future__ import annotations

import random

import pytest

from streamlite.engine import Engine, FakeClock
from streamlite.engine.scripting.runtime import get_scripting
from streamlite.engine.serialize import PAYLOAD_VERSION, dump_payload
from tests.support.diff import compare

from .helpers import canonical, populate_every_type


def run(e: Engine, c, *argv):
    return e.execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


def test_every_type_round_trips_through_dump_and_restore():
    src = Engine(FakeClock())
    populate_every_type(src)
    dst = Engine(FakeClock())
    cs, cd = src.client(), dst.client()
    for db in src.dbs:
        cs.select(db.index)
        cd.select(db.index)
        for key in list(db.data):
            payload = run(src, cs, "DUMP", key)
            pttl = run(src, cs, "PTTL", key)
            when = db.expires.get(key, 0)
            assert run(dst, cd, "RESTORE", key, when, payload, "ABSTTL") == b"OK", (key, pttl)
    for argv in get_scripting(src).functions.load_commands():  # not keys: not in DUMP
        run(dst, cd, *argv)
    assert canonical(dst) == canonical(src)


def test_payload_layout_is_redis_like():
    p = dump_payload(b"hello")
    assert p[0] == 0 and p[1:6] == b"hello"
    assert int.from_bytes(p[6:8], "little") == PAYLOAD_VERSION


def test_corrupt_payloads_are_refused(r):
    r("RPUSH", "l", *[f"item{i}" for i in range(50)])
    good = r("DUMP", "l")
    rng = random.Random(7)
    for _ in range(200):
        bad = bytearray(good)
        bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
        assert r("RESTORE", "x", "0", bytes(bad)) == b"ERR DUMP payload version or checksum are wrong"
    for cut in range(len(good)):
        assert r("RESTORE", "x", "0", good[:cut]).startswith(b"ERR DUMP payload")
    assert r("EXISTS", "x") == 0


def test_checksum_valid_but_malformed_body_is_bad_data_format(r):
    from streamlite.engine.crc64 import crc64

    body = b"\x01" + b"\xff\xff\xff\x7f" + b"\x00" * 4  # a list claiming 2^31 items
    data = body + PAYLOAD_VERSION.to_bytes(2, "little")
    payload = data + crc64(data).to_bytes(8, "little")
    assert r("RESTORE", "x", "0", payload) == b"ERR Bad data format"
    data = b"\x09abc" + PAYLOAD_VERSION.to_bytes(2, "little")  # unknown type
    assert r("RESTORE", "x", "0", data + crc64(data).to_bytes(8, "little")) == b"ERR Bad data format"


def test_restore_propagates_an_absolute_ttl(engine, clock, r):
    engine.effects = []
    r("SET", "a", "v")
    p = r("DUMP", "a")
    engine.effects = []
    assert r("RESTORE", "b", "5000", p) == b"OK"
    now = clock.ms()
    assert engine.effects == [(0, [b"RESTORE", b"b", b"%d" % (now + 5000), p, b"ABSTTL"])]
    engine.effects = []
    r("RESTORE", "a", "1", p, "REPLACE", "ABSTTL")  # already expired: the key goes
    assert engine.effects == [(0, [b"DEL", b"a"])]
    assert r("EXISTS", "a") == 0


@pytest.mark.redis
def test_restore_options_and_errors_match_redis(redis_conn, engine_conn):
    script = [
        ("SET", "src", "value"),
        ("RESTORE", "k", "0", "not a payload"),
        ("RESTORE", "src", "0", "x"),
        ("RESTORE", "k", "-1", "x"),
        ("RESTORE", "k", "abc", "x"),
        ("RESTORE", "k", "0", "x", "BOGUS"),
        ("RESTORE", "k", "0", "x", "IDLETIME", "-1"),
        ("RESTORE", "k", "0", "x", "IDLETIME"),
        ("RESTORE", "k", "0", "x", "FREQ", "256"),
        ("RESTORE", "k", "0", "x", "FREQ", "1", "IDLETIME", "1"),
        ("RESTORE", "k", "0", "x", "IDLETIME", "x"),
        ("RESTORE", "k"),
        ("DUMP", "nokey"),
        ("DUMP",),
    ]
    compare(redis_conn, engine_conn, script)


@pytest.mark.redis
def test_restore_semantics_match_redis_with_each_side_own_payloads(redis_conn, engine_conn):
    """The same sequence on both, each restoring the payload its own DUMP made."""
    for conn in (redis_conn, engine_conn):
        conn.call("SET", "s", "v")
        conn.call("RPUSH", "l", "a", "b")
    out = []
    for conn in (redis_conn, engine_conn):
        ps = conn.call("DUMP", "s")
        pl = conn.call("DUMP", "l")
        got = [
            conn.call("RESTORE", "s", "0", ps),
            conn.call("RESTORE", "s", "0", ps, "REPLACE"),
            conn.call("RESTORE", "s2", "100000", ps),
            conn.call("PTTL", "s2") > 99000,
            conn.call("RESTORE", "s3", "4102444800000", ps, "ABSTTL"),
            conn.call("PEXPIRETIME", "s3"),
            conn.call("RESTORE", "s4", "1", ps, "ABSTTL"),
            conn.call("EXISTS", "s4"),
            conn.call("RESTORE", "l", "1", pl, "ABSTTL", "REPLACE"),
            conn.call("EXISTS", "l"),
            conn.call("RESTORE", "s5", "0", ps, "IDLETIME", "1000"),
            conn.call("OBJECT", "IDLETIME", "s5"),
            conn.call("RESTORE", "s6", "0", ps, "FREQ", "100"),
            conn.call("TYPE", "s6"),
            conn.call("RESTORE", "l2", "0", pl),
            conn.call("LRANGE", "l2", "0", "-1"),
        ]
        out.append([str(x) for x in got])
    assert out[0] == out[1]


@pytest.mark.redis
def test_redis_payloads_restore_into_the_engine(redis_conn, engine_conn):
    rc = redis_conn
    big = "x" * 300
    rc.call("SET", "str", "hello")
    rc.call("SET", "int", "12345")
    rc.call("SET", "neg", "-7")
    rc.call("SET", "bigint", "123456789012")
    rc.call("SET", "lzf", "abc" * 200)
    rc.call("RPUSH", "list", "a", "1", "-300", "70000", "5000000000", "b" * 100)
    rc.call("RPUSH", "biglist", *[f"v{i}" for i in range(2000)], big)
    rc.call("SADD", "intset", "1", "2", "-3", "70000", "5000000000")
    rc.call("SADD", "lpset", "a", "b", "1")
    rc.call("SADD", "htset", *[f"m{i}" for i in range(300)])
    rc.call("ZADD", "lpz", "1.5", "a", "-2", "b", "3", "c")
    rc.call("ZADD", "bigz", *[x for i in range(200) for x in (str(i / 3), f"m{i}")])
    rc.call("HSET", "lph", "f", "v", "n", "42")
    rc.call("HSET", "bigh", *[x for i in range(600) for x in (f"f{i}", f"v{i}")])
    keys = ["str", "int", "neg", "bigint", "lzf", "list", "biglist", "intset", "lpset",
            "htset", "lpz", "bigz", "lph", "bigh"]
    for k in keys:
        payload = rc.call("DUMP", k)
        assert engine_conn.call("RESTORE", k, "0", payload) == b"OK", k
        assert engine_conn.call("OBJECT", "ENCODING", k) == rc.call("OBJECT", "ENCODING", k), k
    for k in keys:
        t = rc.call("TYPE", k).decode()
        read = {
            "string": ("GET", k),
            "list": ("LRANGE", k, "0", "-1"),
            "set": ("SMEMBERS", k),
            "zset": ("ZRANGE", k, "0", "-1", "WITHSCORES"),
            "hash": ("HGETALL", k),
        }[t]
        a, b = rc.call(*read), engine_conn.call(*read)
        if t in ("set", "hash"):
            a, b = sorted(a), sorted(b)
        assert a == b, k


@pytest.mark.redis
def test_redis_refuses_our_internal_payloads_with_its_own_error(redis_conn):
    """The AOF base's payloads (our format, version 0x4002) are not for Redis; DUMP's are."""
    p = dump_payload(b"v")
    assert redis_conn.call("RESTORE", "a", "0", p) == (
        "ERR", "ERR DUMP payload version or checksum are wrong")


def test_checksum_valid_damaged_stream_payloads_never_break_the_engine(r):
    """A body damaged before the CRC was computed (a buggy or hostile client): RESTORE
    refuses it or stores a stream that every read still handles."""
    from streamlite.engine.crc64 import crc64

    for i in range(60):
        r("XADD", "s", f"{i + 1}-0", "f", f"v{i}", *(["g", "x"] if i % 5 == 0 else []))
    r("XDEL", "s", "3-0")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "s", ">")
    good = r("DUMP", "s")
    body = good[:-10]
    rng = random.Random(9)
    outcomes = set()
    for _ in range(400):
        bad = bytearray(body)
        for _ in range(rng.randrange(1, 3)):
            bad[rng.randrange(1, len(bad))] = rng.randrange(256)
        data = bytes(bad) + PAYLOAD_VERSION.to_bytes(2, "little")
        payload = data + crc64(data).to_bytes(8, "little")
        reply = r("RESTORE", "t", "0", payload, "REPLACE")
        outcomes.add(reply)
        if reply == b"OK":
            for cmd in (("XINFO", "STREAM", "t", "FULL"), ("XRANGE", "t", "-", "+"),
                        ("XREVRANGE", "t", "+", "-"), ("XPENDING", "t", "g", "-", "+", "10"),
                        ("XLEN", "t"), ("XADD", "t", "*", "a", "b")):
                r(*cmd)
    assert b"ERR Bad data format" in outcomes
