"""String commands on the engine: expiry options with a fake clock, encodings,
limits, and propagation (replayed into a fresh engine)."""

from __future__ import annotations

from tests.engine.test_keys import run_and_replay

from streamlite.engine.replies import ErrorReply


def test_set_expiry_options(r, clock):
    now = clock.ms()
    r("SET", "a", "v", "EX", "10")
    r("SET", "b", "v", "PX", "1500")
    r("SET", "c", "v", "EXAT", str(now // 1000 + 20))
    r("SET", "d", "v", "PXAT", str(now + 30_000))
    assert [r("PTTL", k) for k in "abcd"] == [10_000, 1500, (now // 1000 + 20) * 1000 - now, 30_000]
    clock.advance(1501)
    assert r("GET", "b") is None
    r("SET", "a", "w", "KEEPTTL")
    assert r("PTTL", "a") == 10_000 - 1501
    r("SET", "a", "x")
    assert r("TTL", "a") == -1


def test_set_conditions(r):
    assert r("SET", "k", "v", "NX") == b"OK"
    assert r("SET", "k", "w", "NX") is None
    assert r("SET", "k", "w", "NX", "GET") == b"v"
    assert r("SET", "k", "w", "XX", "GET") == b"v"
    assert r("SET", "k", "z", "IFEQ", "nope") is None
    assert r("SET", "k", "z", "IFEQ", "w") == b"OK"
    assert r("SET", "k", "q", "IFNE", "z") is None
    assert r("SET", "k", "q", "IFNE", "other") == b"OK"
    assert r("SET", "new", "q", "IFEQ", "x") is None
    assert r("SET", "new", "q", "IFNE", "x") == b"OK"
    assert r("SET", "k", "v", "NX", "IFEQ", "x") == ErrorReply(b"ERR syntax error")
    r("HSET", "h", "f", "v")
    assert r("SET", "h", "v", "IFEQ", "x") == ErrorReply(
        b"WRONGTYPE Operation against a key holding the wrong kind of value")


def test_getex(r, clock):
    r("SET", "k", "v")
    assert r("GETEX", "k", "PX", "100") == b"v"
    assert r("PTTL", "k") == 100
    assert r("GETEX", "k", "PERSIST") == b"v"
    assert r("TTL", "k") == -1
    assert r("GETEX", "k", "PXAT", str(clock.ms() - 1)) == b"v"
    assert r("EXISTS", "k") == 0


def test_incr_keeps_ttl_and_encoding(r):
    r("SET", "n", "41", "EX", "100")
    assert r("INCR", "n") == 42
    assert r("TTL", "n") == 100
    assert r("OBJECT", "ENCODING", "n") == b"int"
    assert r("INCRBYFLOAT", "n", "1") == b"43"
    assert r("OBJECT", "ENCODING", "n") == b"embstr"
    assert r("TTL", "n") == 100


def test_incrbyfloat_long_double(r):
    assert r("INCRBYFLOAT", "f", "0.1") == b"0.1"
    assert r("INCRBYFLOAT", "f", "0.2") == b"0.3"  # not 0.30000000000000004
    assert r("INCRBYFLOAT", "f", "1e4000")[:5] == b"99999"  # beyond double's range
    assert r("INCRBYFLOAT", "f", "inf") == ErrorReply(b"ERR increment would produce NaN or Infinity")


def test_append_setrange_limits(r, engine):
    engine.config["proto-max-bulk-len"] = 10
    r("SET", "s", "12345")
    assert r("APPEND", "s", "67890") == 10
    assert r("APPEND", "s", "x") == ErrorReply(
        b"ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    assert r("SETRANGE", "t", "10", "x") == ErrorReply(
        b"ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    assert r("SETRANGE", "t", "5", "x") == 6
    assert r("GET", "t") == b"\0\0\0\0\0x"
    assert r("OBJECT", "ENCODING", "t") == b"raw"


def test_string_encoding_history(r):
    r("SET", "k", "a" * 40)
    assert r("OBJECT", "ENCODING", "k") == b"embstr"
    r("EXPIRE", "k", "100")  # no room for the TTL in the embedded object
    assert r("OBJECT", "ENCODING", "k") == b"raw"
    r("PERSIST", "k")
    assert r("OBJECT", "ENCODING", "k") == b"raw"
    r("SET", "k", "12")
    r("APPEND", "k", "3")
    assert r("OBJECT", "ENCODING", "k") == b"raw"
    r("SET", "k", "123")
    assert r("OBJECT", "ENCODING", "k") == b"int"


def test_propagation_replay_strings(engine, clock):
    run_and_replay(engine, clock, [
        ("SET", "a", "1", "EX", "100"), ("SET", "b", "2", "PX", "5000", "NX"),
        ("SET", "b", "3", "XX", "EX", "7", "GET"), ("SETEX", "c", "60", "v"),
        ("PSETEX", "d", "60000", "v"), ("GETSET", "c", "w"), ("GETEX", "d", "EX", "30"),
        ("SET", "e", "v"), ("GETEX", "e", "PERSIST"), ("SET", "e2", "v", "EX", "9"),
        ("GETEX", "e2", "PERSIST"), ("GETEX", "a", "EXAT", "1"), ("GETDEL", "b"),
        ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "0.2"), ("INCR", "g"),
        ("INCRBY", "g", "5"), ("DECRBY", "g", "2"), ("APPEND", "h", "x"), ("APPEND", "h", "y"),
        ("SETRANGE", "h", "5", "z"), ("MSET", "m", "1", "n", "2"), ("MSETNX", "o", "1", "m", "2"),
        ("SET", "p", "1", "KEEPTTL"), ("SET", "q", "v", "PXAT", str(clock.ms() + 10)),
        ("GET", "q"),
    ], advance={25: 11})
    effects = [argv for _, argv in engine.effects]
    assert [b"SET", b"f", b"0.3", b"KEEPTTL"] in effects
    assert [b"DEL", b"b"] in effects and [b"DEL", b"a"] in effects and [b"DEL", b"q"] in effects
    assert [b"PERSIST", b"e2"] in effects and [b"PERSIST", b"e"] not in effects
    assert [b"SET", b"c", b"v", b"PXAT", b"%d" % (clock.ms() - 11 + 60_000)] in effects


def test_redis_84_compare_and_set(r):
    """Redis 8.4's DIGEST, DELEX and SET IFDEQ/IFDNE (8.2 lacks them: from redis.io)."""
    r("SET", "key1", "Hello world")
    assert r("DIGEST", "key1") == b"b6acb9d84a38ff74"  # redis.io's example
    assert r("DIGEST", "nokey") is None
    assert r("SET", "key1", "x", "IFDEQ", "0000000000000000") is None
    assert r("SET", "key1", "x", "IFDNE", "b6acb9d84a38ff74") is None
    assert r("SET", "key1", "x", "IFDEQ", "b6acb9d84a38ff74", "GET") == b"Hello world"
    assert r("DELEX", "key1", "IFEQ", "y") == 0
    assert r("DELEX", "key1", "IFNE", "x") == 0
    assert r("DELEX", "key1", "IFEQ", "x") == 1
    r("SET", "k", "v")
    assert r("DELEX", "k") == 1 and r("DELEX", "k") == 0
    assert r("DELEX", "k", "IFEQ") == ErrorReply(b"ERR syntax error")


def test_msetex(r, clock):
    assert r("MSETEX", "2", "a", "1", "b", "2", "EX", "10") == 1
    assert r("TTL", "a") == 10 and r("TTL", "b") == 10
    assert r("MSETEX", "2", "a", "1", "c", "2", "NX") == 0
    assert r("MSETEX", "2", "a", "5", "b", "6", "XX", "KEEPTTL") == 1
    assert r("MGET", "a", "b") == [b"5", b"6"] and r("TTL", "a") == 10
    assert r("MSETEX", "1", "a", "7") == 1 and r("TTL", "a") == -1
    assert r("MSETEX", "3", "a", "1") == ErrorReply(
        b"ERR wrong number of arguments for 'msetex' command")
