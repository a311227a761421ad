"""Keyspace notifications against a real Redis 8.2, byte for byte.

Connection 0 subscribes with ``PSUBSCRIBE __key*__:*``; connection 1 runs a
script; after every step both transcripts (connection 1's replies, connection 0's
pmessages) must be identical on Redis and on the engine (``resp_wire.Session``).
Redis runs with its active expiry off (``DEBUG SET-ACTIVE-EXPIRE 0``), so keys
expire lazily when touched, or when a step ``("ACTIVE",)`` runs one active expire
cycle on both sides.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.diff.resp_wire import Session
from tests.engine.standins import engine_with_standins
from tests.support.redis_proc import ServerProc, have_redis, start_redis

from streamlite.engine import FakeClock

# Short TTLs of the scripts, and the pause that lets them pass. Redis runs on the wall
# clock: a TTL shorter than a loaded machine's gap between two commands expires early
# on Redis only, so keep it well above that gap.
TTL = "150"
SLEEP_MS = 200

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def debug_redis() -> Iterator[ServerProc]:
    if not have_redis():
        pytest.skip("needs redis-server")
    srv = start_redis(extra=["--enable-debug-command", "yes"])
    yield srv
    srv.cleanup()


def run(srv: ServerProc, flags: str, script: list[tuple[Any, ...]], protocol: int = 2,
        pattern: str = "__key*__:*") -> None:
    """Run ``script`` (commands of connection 1) with notifications ``flags`` on;
    connection 0 (RESP ``protocol``) is subscribed to ``pattern``."""
    eng = engine_with_standins(FakeClock(int(time.time() * 1000)))
    s = Session(srv.port, eng, [protocol, 2])
    r1 = s.redis[1]
    try:
        r1.send("FLUSHALL")
        r1.send("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        r1.until_ping()
        steps: list[tuple[Any, ...]] = [
            ("CONFIG", "SET", "notify-keyspace-events", flags),
            ("PSUBSCRIBE", pattern),
            *script,
        ]
        for n, cmd in enumerate(steps):
            if cmd[0] == "SLEEP":  # let TTLs pass: really on Redis, on the fake clock
                ms = cmd[1] if len(cmd) > 1 else SLEEP_MS
                time.sleep(ms / 1000)
                eng.clock.advance(ms)  # type: ignore[attr-defined]
                continue
            if cmd[0] == "ACTIVE":  # one active expire cycle on both sides
                r1.send("DEBUG", "SET-ACTIVE-EXPIRE", "1")
                r1.until_ping()
                time.sleep(0.3)
                r1.send("DEBUG", "SET-ACTIVE-EXPIRE", "0")
                r1.until_ping()
                eng.active_expire()
                r, e = [s.redis[0].until_ping()], [s.eng[0].until_ping()]
            else:
                who = 0 if cmd[0] == "PSUBSCRIBE" else 1
                r, e = s.step(who, *cmd)
            assert r == e, f"step {n}: {cmd!r}\n  redis:      {r!r}\n  streamlite: {e!r}"
    finally:
        r1.send("CONFIG", "SET", "notify-keyspace-events", "")
        r1.send("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        r1.until_ping()
        s.close()


# -- streams ---------------------------------------------------------------------------


def test_stream_commands(debug_redis):
    run(debug_redis, "KEA", [
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "s", "2-1", "f", "v"),
        ("XADD", "s", "MAXLEN", "2", "3-1", "f", "v"),
        ("XADD", "s", "MAXLEN", "5", "4-1", "f", "v"),
        ("XADD", "nos", "NOMKSTREAM", "*", "f", "v"),
        ("XADD", "s", "1-1", "f", "v"),
        ("XTRIM", "s", "MAXLEN", "10"),
        ("XTRIM", "s", "MAXLEN", "1"),
        ("XDEL", "s", "1-1"),
        ("XDEL", "s", "4-1"),
        ("XSETID", "s", "10-1"),
        ("XADD", "s", "11-1", "f", "v"),
        ("XSETID", "nos", "10-1"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "c1"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "c1"),
        ("XGROUP", "SETID", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"),
        ("XCLAIM", "s", "g", "c4", "0", "11-1"),
        ("XCLAIM", "s", "g", "c4", "0", "99-1"),
        ("XCLAIM", "s", "g", "c5", "0", "99-1"),
        ("XAUTOCLAIM", "s", "g", "c6", "0", "0"),
        ("XAUTOCLAIM", "s", "g", "c6", "0", "0"),
        ("XAUTOCLAIM", "s", "g", "c7", "0", "0", "JUSTID"),
        ("XACK", "s", "g", "11-1"),
        ("XACK", "s", "g", "11-1"),
        ("XGROUP", "DELCONSUMER", "s", "g", "c1"),
        ("XGROUP", "DELCONSUMER", "s", "g", "nope"),
        ("XGROUP", "DESTROY", "s", "g"),
        ("XGROUP", "DESTROY", "s", "g"),
        ("DEL", "s", "s2"),
    ])


def test_stream_delex_ackdel(debug_redis):
    run(debug_redis, "KEA", [
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "s", "2-1", "f", "v"),
        ("XADD", "s", "3-1", "f", "v"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"),
        ("XDELEX", "s", "IDS", "1", "9-1"),
        ("XDELEX", "s", "ACKED", "IDS", "2", "1-1", "3-1"),
        ("XDELEX", "s", "KEEPREF", "IDS", "1", "3-1"),
        ("XACKDEL", "s", "g", "IDS", "1", "9-1"),
        ("XACKDEL", "s", "g", "KEEPREF", "IDS", "1", "1-1"),
        ("XACKDEL", "s", "g", "IDS", "1", "2-1"),
        ("XADD", "s", "MAXLEN", "0", "4-1", "f", "v"),
        ("XTRIM", "s", "MAXLEN", "0"),
    ])


# -- generic -------------------------------------------------------------------------


def test_generic_commands(debug_redis):
    run(debug_redis, "KEA", [
        ("SET", "a", "1"),
        ("SET", "b", "2"),
        ("DEL", "a", "nope", "b"),
        ("SET", "a", "1"),
        ("UNLINK", "a"),
        ("SET", "a", "1"),
        ("RENAME", "a", "b"),
        ("SET", "a", "x"),
        ("RENAME", "a", "b"),
        ("RENAMENX", "b", "c"),
        ("SET", "d", "1"),
        ("RENAMENX", "c", "d"),
        ("RENAME", "c", "c"),
        ("COPY", "c", "e"),
        ("COPY", "c", "e"),
        ("COPY", "c", "e", "REPLACE"),
        ("COPY", "c", "e", "DB", "1"),
        ("MOVE", "e", "2"),
        ("MOVE", "e", "2"),
        ("EXPIRE", "c", "100"),
        ("EXPIRE", "c", "100", "NX"),
        ("PEXPIRE", "c", "200000", "GT"),
        ("EXPIREAT", "c", "99999999999"),
        ("PEXPIREAT", "c", "99999999999999"),
        ("PERSIST", "c"),
        ("PERSIST", "c"),
        ("EXPIRE", "c", "-1"),
        ("EXPIRE", "nope", "10"),
        ("SET", "r", "v"),
        ("EXPIRE", "r", "100"),
        ("PEXPIREAT", "r", "1"),
        ("XADD", "s", "1-1", "f", "v"),
    ])


def _payloads(srv: ServerProc) -> tuple[bytes, bytes]:
    """DUMP payloads made by Redis: a string and a list."""
    from tests.support.diff import RedisConn

    r = RedisConn(srv.port)
    try:
        r.call("SET", "__p1", "helloworld")
        r.call("RPUSH", "__p2", "a", "b")
        out = (r.call("DUMP", "__p1"), r.call("DUMP", "__p2"))
        r.call("DEL", "__p1", "__p2")
        return out
    finally:
        r.close()


@pytest.mark.parametrize("flags", ["KEA", "KEAocn"])
def test_restore(debug_redis, flags):
    s, lst = _payloads(debug_redis)
    run(debug_redis, flags, [
        ("RESTORE", "k", "0", s),
        ("RESTORE", "k", "0", s),
        ("RESTORE", "k", "0", s, "REPLACE"),
        ("RESTORE", "k", "0", lst, "REPLACE"),
        ("RESTORE", "k", "1", s, "REPLACE", "ABSTTL"),
        ("RESTORE", "k2", "100000", lst),
        ("RESTORE", "k3", "1", lst, "ABSTTL"),
    ])


def test_new_class_and_expired(debug_redis):
    run(debug_redis, "KEA" + "n", [
        ("SET", "a", "1"),
        ("SET", "a", "2"),
        ("XADD", "s", "1-1", "f", "v"),
        ("XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"),
        ("RENAME", "a", "b"),
        ("COPY", "b", "c"),
        ("MOVE", "c", "3"),
        ("PEXPIRE", "b", TTL),
        ("PEXPIRE", "s", TTL),
        ("SET", "ex", "1", "PX", TTL),
        ("SLEEP",),
        ("GET", "b"),
        ("XLEN", "s"),
        ("EXISTS", "ex"),
        ("SET", "act", "1", "PX", TTL),
        ("SLEEP",),
        ("ACTIVE",),
    ])


@pytest.mark.parametrize("flags", ["Kx", "Ex", "E$", "K$", "Kg", "Et", "Kn", "En", "KEA", "KEAn",
                                   "A", "g$lshztxed", "KEl", "KEm"])
def test_class_filtering(debug_redis, flags):
    run(debug_redis, flags, [
        ("SET", "a", "1", "PX", TTL),
        ("APPEND", "a", "2"),
        ("XADD", "s", "1-1", "f", "v"),
        ("LPUSH", "l", "x"),
        ("DEL", "s"),
        ("GET", "missing"),
        ("SLEEP",),
        ("GET", "a"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_resp_versions_and_patterns(debug_redis, proto):
    run(debug_redis, "KEA", [
        ("XADD", "s", "1-1", "f", "v"),
        ("SELECT", "5"),
        ("XADD", "s", "1-1", "f", "v"),
        ("DEL", "s"),
    ], protocol=proto)
    run(debug_redis, "KEA", [
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "t", "1-1", "f", "v"),
        ("DEL", "s", "t"),
    ], protocol=proto, pattern="__keyevent@0__:x*")


# -- strings -------------------------------------------------------------------------


def test_string_commands(debug_redis):
    run(debug_redis, "KEA", [
        ("SET", "a", "1"),
        ("SET", "a", "2", "NX"),
        ("SET", "a", "2", "XX", "GET"),
        ("SET", "b", "2", "XX"),
        ("SET", "a", "3", "EX", "100"),
        ("SET", "a", "3", "PXAT", "99999999999999", "GET"),
        ("SET", "a", "3", "KEEPTTL"),
        ("SETNX", "a", "1"),
        ("SETNX", "b", "1"),
        ("SETEX", "c", "100", "v"),
        ("PSETEX", "c", "100000", "v"),
        ("GETSET", "c", "w"),
        ("GETDEL", "c"),
        ("GETDEL", "c"),
        ("GETEX", "a", "EX", "100"),
        ("GETEX", "a", "PERSIST"),
        ("GETEX", "a", "PERSIST"),
        ("GETEX", "a"),
        ("GETEX", "a", "PXAT", "1"),
        ("MSET", "x", "1", "y", "2"),
        ("MSETNX", "x", "1", "z", "2"),
        ("MSETNX", "z", "1", "w", "2"),
        ("INCR", "n"),
        ("DECR", "n"),
        ("INCRBY", "n", "5"),
        ("DECRBY", "n", "5"),
        ("INCRBYFLOAT", "n", "1.5"),
        ("INCR", "x", "y"),
        ("APPEND", "s", "ab"),
        ("APPEND", "s", "cd"),
        ("SETRANGE", "s", "1", "X"),
        ("SETRANGE", "s", "1", ""),
        ("SETRANGE", "s2", "1", ""),
        ("SETRANGE", "s2", "2", "yy"),
        ("GET", "s"),
        ("LCS", "s", "s2"),
        ("STRLEN", "s"),
    ])


# -- lists ---------------------------------------------------------------------------


def test_list_commands(debug_redis):
    run(debug_redis, "KEA", [
        ("LPUSH", "l", "a", "b", "c"),
        ("RPUSH", "l", "d"),
        ("LPUSHX", "l", "e"),
        ("RPUSHX", "l", "f"),
        ("LPUSHX", "nope", "e"),
        ("LINSERT", "l", "BEFORE", "a", "z"),
        ("LINSERT", "l", "AFTER", "nope", "z"),
        ("LSET", "l", "0", "q"),
        ("LREM", "l", "0", "z"),
        ("LREM", "l", "0", "nope"),
        ("LTRIM", "l", "0", "-1"),
        ("LTRIM", "l", "1", "-1"),
        ("LPOP", "l"),
        ("RPOP", "l", "2"),
        ("LPOP", "l", "0"),
        ("LMOVE", "l", "m", "LEFT", "RIGHT"),
        ("RPOPLPUSH", "l", "m"),
        ("LMOVE", "m", "m", "LEFT", "LEFT"),
        ("LMPOP", "2", "nope", "m", "LEFT", "COUNT", "5"),
        ("RPUSH", "l2", "a", "b"),
        ("BLPOP", "nope", "l2", "0"),
        ("BRPOP", "l2", "0"),
        ("RPUSH", "l3", "a", "b"),
        ("BLMOVE", "l3", "l4", "RIGHT", "LEFT", "0"),
        ("BRPOPLPUSH", "l3", "l4", "0"),
        ("BLMPOP", "0", "1", "l4", "RIGHT", "COUNT", "1"),
        ("RPUSH", "l5", "a", "b"),
        ("LTRIM", "l5", "5", "10"),
        ("LREM", "l4", "1", "b"),
    ])


# -- hashes --------------------------------------------------------------------------


def test_hash_commands(debug_redis):
    run(debug_redis, "KEA", [
        ("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"),
        ("HMSET", "h", "e", "5"),
        ("HSETNX", "h", "a", "1"),
        ("HSETNX", "h", "z", "1"),
        ("HINCRBY", "h", "n", "1"),
        ("HINCRBYFLOAT", "h", "f", "1.5"),
        ("HDEL", "h", "z", "nope"),
        ("HDEL", "h", "nope"),
        ("HEXPIRE", "h", "100", "FIELDS", "2", "a", "b"),
        ("HEXPIRE", "h", "100", "NX", "FIELDS", "1", "a"),
        ("HPEXPIRE", "h", "0", "FIELDS", "1", "a"),
        ("HEXPIREAT", "h", "1", "FIELDS", "2", "b", "nope"),
        ("HPERSIST", "h", "FIELDS", "1", "c"),
        ("HEXPIRE", "h", "100", "FIELDS", "1", "c"),
        ("HPERSIST", "h", "FIELDS", "1", "c"),
        ("HGETDEL", "h", "FIELDS", "2", "c", "nope"),
        ("HSET", "h2", "a", "1", "b", "2"),
        ("HGETDEL", "h2", "FIELDS", "2", "a", "b"),
        ("HSET", "h3", "a", "1", "b", "2"),
        ("HGETEX", "h3", "EX", "100", "FIELDS", "1", "a"),
        ("HGETEX", "h3", "PERSIST", "FIELDS", "1", "a"),
        ("HGETEX", "h3", "PXAT", "1", "FIELDS", "2", "a", "b"),
        ("HSETEX", "h4", "EX", "100", "FIELDS", "1", "a", "1"),
        ("HSETEX", "h4", "FIELDS", "1", "b", "1"),
        ("HSETEX", "h4", "FNX", "FIELDS", "1", "b", "1"),
        ("HSETEX", "h4", "KEEPTTL", "FIELDS", "1", "a", "2"),
        ("HSETEX", "h4", "PXAT", "1", "FIELDS", "2", "a", "1", "b", "2"),
        ("HSETEX", "h5", "PXAT", "1", "FIELDS", "1", "a", "1"),
        ("HSET", "h6", "a", "1", "b", "2"),
        ("HDEL", "h6", "a", "b"),
    ])


def test_hash_field_expiry(debug_redis):
    run(debug_redis, "KEA", [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HPEXPIRE", "h", TTL, "FIELDS", "2", "a", "b"),
        ("SLEEP",),
        ("HMGET", "h", "a", "b", "c"),
        ("HPEXPIRE", "h", "0", "FIELDS", "1", "c"),
        ("HSET", "h2", "a", "1", "b", "2", "c", "3"),
        ("HPEXPIRE", "h2", TTL, "FIELDS", "3", "a", "b", "c"),
        ("SLEEP",),
        ("HMGET", "h2", "a", "b", "c"),
        ("HSET", "h3", "a", "1", "b", "2", "c", "3"),
        ("HPEXPIRE", "h3", TTL, "FIELDS", "2", "a", "b"),
        ("SLEEP",),
        ("HSETEX", "h3", "FIELDS", "2", "a", "1", "b", "2"),
        ("HPEXPIRE", "h3", TTL, "FIELDS", "2", "a", "b"),
        ("SLEEP",),
        ("HGETDEL", "h3", "FIELDS", "1", "a"),
        ("HPEXPIRE", "h3", TTL, "FIELDS", "1", "c"),
        ("SLEEP",),
        ("HINCRBY", "h3", "c", "1"),
        ("HSET", "h6", "a", "1", "b", "2"),
        ("HPEXPIRE", "h6", TTL, "FIELDS", "1", "a"),
        ("SLEEP",),
        ("HGET", "h6", "a"),
        ("HSET", "h7", "a", "1", "b", "2"),
        ("HPEXPIRE", "h7", TTL, "FIELDS", "2", "a", "b"),
        ("HSET", "h8", "a", "1", "b", "2"),
        ("HPEXPIRE", "h8", TTL, "FIELDS", "1", "a"),
        ("HDEL", "h8", "a"),  # gone before its TTL: active expiry says nothing of it
        ("SLEEP",),
        ("ACTIVE",),
    ])


# -- sets ------------------------------------------------------------------------------


def test_set_commands(debug_redis):
    run(debug_redis, "KEA", [
        ("SADD", "s", "a", "b", "c", "d"),
        ("SADD", "s", "a"),
        ("SREM", "s", "a", "nope"),
        ("SREM", "s", "nope"),
        ("SMOVE", "s", "t", "b"),
        ("SMOVE", "s", "t", "nope"),
        ("SADD", "s", "b"),
        ("SMOVE", "s", "t", "b"),
        ("SMOVE", "t", "t", "b"),
        ("SPOP", "s", "0"),
        ("SPOP", "nope"),
        ("SADD", "u", "1"),
        ("SPOP", "u", "1"),
        ("SPOP", "t"),
        ("SPOP", "t"),
        ("SPOP", "t"),
        ("SADD", "x", "1", "2"),
        ("SPOP", "x", "5"),
        ("SADD", "a", "1", "2", "3"),
        ("SADD", "b", "2", "3", "4"),
        ("SINTERSTORE", "d", "a", "b"),
        ("SUNIONSTORE", "d", "a", "b"),
        ("SDIFFSTORE", "d", "a", "b"),
        ("SINTERSTORE", "d", "a", "nope"),
        ("SINTERSTORE", "d", "a", "nope"),
        ("SDIFFSTORE", "d", "a", "a"),
        ("SREM", "a", "1", "2", "3"),
    ])


# -- sorted sets -----------------------------------------------------------------------


def test_zset_commands(debug_redis):
    run(debug_redis, "KEA", [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
        ("ZADD", "z", "1", "a"),
        ("ZADD", "z", "NX", "9", "a"),
        ("ZADD", "z", "XX", "9", "a"),
        ("ZADD", "z", "XX", "9", "nope"),
        ("ZADD", "z", "INCR", "1", "a"),
        ("ZADD", "z", "GT", "INCR", "-1", "a"),
        ("ZINCRBY", "z", "1", "f"),
        ("ZADD", "nz", "XX", "1", "a"),
        ("ZREM", "z", "f", "nope"),
        ("ZREM", "z", "nope"),
        ("ZREMRANGEBYRANK", "z", "0", "0"),
        ("ZREMRANGEBYRANK", "z", "10", "20"),
        ("ZREMRANGEBYSCORE", "z", "3", "3"),
        ("ZREMRANGEBYSCORE", "z", "30", "30"),
        ("ZADD", "lz", "0", "a", "0", "b", "0", "c"),
        ("ZREMRANGEBYLEX", "lz", "[a", "[b"),
        ("ZREMRANGEBYLEX", "lz", "[a", "[c"),
        ("ZPOPMIN", "z"),
        ("ZPOPMAX", "z", "0"),
        ("ZPOPMAX", "z", "1"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZMPOP", "2", "nope", "z", "MIN", "COUNT", "1"),
        ("ZMPOP", "1", "z", "MAX", "COUNT", "5"),
        ("ZADD", "z", "1", "a", "2", "b"),
        ("BZPOPMIN", "z", "0"),
        ("BZPOPMAX", "z", "0"),
        ("ZADD", "z", "1", "a", "2", "b"),
        ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"),
        ("ZADD", "a", "1", "x", "2", "y"),
        ("ZADD", "b", "2", "y", "3", "z"),
        ("ZUNIONSTORE", "d", "2", "a", "b"),
        ("ZINTERSTORE", "d", "2", "a", "b"),
        ("ZDIFFSTORE", "d", "2", "a", "b"),
        ("ZINTERSTORE", "d", "2", "a", "nope"),
        ("ZINTERSTORE", "d", "2", "a", "nope"),
        ("ZRANGESTORE", "d", "a", "0", "-1"),
        ("ZRANGESTORE", "d", "a", "5", "10"),
        ("ZRANGESTORE", "d", "a", "5", "10"),
    ])


def test_keymiss(debug_redis):
    run(debug_redis, "KEm", [
        ("GET", "a"),
        ("MGET", "a", "b", "a"),
        ("EXISTS", "a", "b"),
        ("TYPE", "a"),
        ("TTL", "a"),
        ("PTTL", "a"),
        ("STRLEN", "a"),
        ("GETRANGE", "a", "0", "1"),
        ("HGET", "h", "f"),
        ("HGETALL", "h"),
        ("LRANGE", "l", "0", "-1"),
        ("LLEN", "l"),
        ("SMEMBERS", "s"),
        ("SCARD", "s"),
        ("ZSCORE", "z", "m"),
        ("ZRANGE", "z", "0", "-1"),
        ("XRANGE", "x", "-", "+"),
        ("XLEN", "x"),
        ("XREAD", "STREAMS", "x", "0"),
        ("OBJECT", "ENCODING", "a"),
        ("DUMP", "a"),
        ("SET", "a", "1", "PX", TTL),
        ("GET", "a"),
        ("SLEEP",),
        ("GET", "a"),
        ("XADD", "x", "NOMKSTREAM", "*", "f", "v"),
        ("LPUSHX", "l", "a"),
        ("DEL", "a"),
        ("INCR", "n"),
        ("GET", "n"),
    ])


def test_keymiss_of_writing_commands(debug_redis):
    """Writes that read a key as Redis's ``lookupKeyRead`` does report its miss."""
    run(debug_redis, "KEm", [
        ("SUNIONSTORE", "d", "m1", "m2"),
        ("SINTERSTORE", "d", "m1"),
        ("SDIFFSTORE", "d", "m1", "m2"),
        ("ZUNIONSTORE", "d", "2", "m1", "m2"),
        ("ZINTERSTORE", "d", "1", "m1"),
        ("ZDIFFSTORE", "d", "1", "m1"),
        ("ZRANGESTORE", "d", "m1", "0", "-1"),
        ("SINTERCARD", "1", "m1"),
        ("COPY", "m1", "x"),
        ("RENAME", "m1", "x"),
        ("LMOVE", "m1", "m2", "LEFT", "LEFT"),
        ("GETDEL", "m1"),
        ("GETEX", "m1"),
        ("GETEX", "m1", "EX", "10"),
        ("SET", "m1", "v", "GET"),
        ("SET", "m2", "v"),
        ("GETSET", "m3", "v"),
        ("SET", "m3", "w", "NX", "GET"),
        ("DEL", "m1", "m2", "m3"),
        ("EXPIRE", "m2", "10"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
        ("XCLAIM", "s", "g", "c", "0", "0-1"),
        ("XAUTOCLAIM", "s", "g", "c", "0", "0"),
        ("XACK", "s", "g", "0-1"),
        ("XACKDEL", "s", "g", "IDS", "1", "1-1"),
        ("XDELEX", "s", "IDS", "1", "1-1"),
        ("XDEL", "s", "1-1"),
        ("XTRIM", "s", "MAXLEN", "0"),
        ("XADD", "s", "NOMKSTREAM", "*", "f", "v"),
        ("XSETID", "s", "1-1"),
        ("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "nope", ">", ">"),
        ("LPUSHX", "l", "a"), ("LPOP", "l"), ("LMPOP", "1", "l", "LEFT"), ("SPOP", "l"),
        ("SREM", "l", "a"), ("ZPOPMIN", "l"), ("HDEL", "l", "a"), ("PERSIST", "l"),
        ("MOVE", "l", "1"), ("HGETDEL", "l", "FIELDS", "1", "a"), ("ZADD", "l", "XX", "1", "a"),
        ("EVAL", "return redis.call('GET', KEYS[1])", "1", "m8"),
    ])


# -- transactions, scripts, blocked clients ----------------------------------------------


def test_multi_exec_and_scripts(debug_redis):
    run(debug_redis, "KEA", [
        ("MULTI",),
        ("XADD", "s", "1-1", "f", "v"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
        ("LPUSH", "l", "a"),
        ("LPOP", "l"),
        ("DEL", "s"),
        ("EXEC",),
        ("EVAL", "redis.call('XADD', KEYS[1], '1-1', 'f', 'v');"
                 "redis.call('SET', 'k', 'v', 'EX', 100);"
                 "redis.call('XTRIM', KEYS[1], 'MAXLEN', 0);"
                 "return redis.call('DEL', KEYS[1], 'k')", "1", "s"),
        ("EVAL", "return redis.call('GET', 'nope')", "0"),
        ("FUNCTION", "LOAD", "#!lua name=nlib\n"
         "redis.register_function('nf', function(keys, args) "
         "return redis.call('XADD', keys[1], '*', 'f', 'v') ~= nil end)"),
        ("FCALL", "nf", "1", "fs"),
        ("FUNCTION", "DELETE", "nlib"),
    ])


def _blocking_events(port: int, flags: str, setup: list[tuple[Any, ...]],
                     blocking: tuple[Any, ...], trigger: list[tuple[Any, ...]]) -> None:
    """A subscriber, a client blocked on ``blocking`` and a writer running
    ``trigger``: the replies and the notifications, Redis vs the engine's
    ``BlockingManager`` (the served client's events come after the trigger's)."""
    from tests.diff.raw_resp import RawConn
    from tests.diff.resp_wire import EngineWire, RedisWire

    from streamlite.engine import Engine, FakeClock
    from streamlite.engine.blocking import BlockingManager
    from streamlite.engine.replies import Blocked
    from streamlite.protocol.resp import encode

    # Redis
    ctl = RawConn(port)
    ctl.call("FLUSHALL")
    ctl.call("CONFIG", "SET", "notify-keyspace-events", flags)
    sub = RedisWire(port)
    blocker = RawConn(port)
    blocker.call("CLIENT", "SETNAME", "nblocker")
    try:
        sub.send("PSUBSCRIBE", "__key*__:*")
        sub.until_ping()
        r_replies = [ctl.call(*cmd) for cmd in setup]
        blocker.send(*blocking)
        for _ in range(1000):  # until Redis lists it as blocked
            if b"name=nblocker" in ctl.call("CLIENT", "LIST", "TYPE", "normal") and \
                    b"flags=b" in b"".join(line for line in ctl.call("CLIENT", "LIST").split(b"\n")
                                           if b"name=nblocker" in line):
                break
            time.sleep(0.002)
        r_replies += [ctl.call(*cmd) for cmd in trigger]
        r_replies.append(blocker.read())
        r_events = sub.until_ping()
    finally:
        ctl.call("CONFIG", "SET", "notify-keyspace-events", "")
        for conn in (ctl, sub, blocker):
            conn.close()
    # engine
    eng = Engine(FakeClock())
    mgr = BlockingManager(eng)
    esub = EngineWire(eng)
    writer = eng.client()
    bl = eng.client()

    def ex(c: Any, cmd: tuple[Any, ...]) -> Any:
        return eng.execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in cmd])

    ex(writer, ("CONFIG", "SET", "notify-keyspace-events", flags))
    esub.send("PSUBSCRIBE", "__key*__:*")
    esub.until_ping()
    e_replies = [encode(ex(writer, cmd), 2) for cmd in setup]
    b = ex(bl, blocking)
    assert type(b) is Blocked
    mgr.block(bl, b)
    served: list[Any] = []
    for cmd in trigger:
        e_replies.append(encode(ex(writer, cmd), 2))
        served += mgr.serve_ready()
    assert [c for c, _ in served] == [bl]
    e_replies.append(encode(served[0][1], 2))
    e_events = esub.until_ping()
    assert r_replies == e_replies
    assert r_events == e_events


@pytest.mark.parametrize("case", ["blpop", "blmove", "bzpopmin", "xreadgroup", "xread"])
def test_blocked_client_wakeups(debug_redis, case):
    setups: dict[str, Any] = {
        "blpop": ([], ("BLPOP", "l", "0"), [("RPUSH", "l", "a")]),
        "blmove": ([], ("BLMOVE", "l", "m", "LEFT", "RIGHT", "0"), [("RPUSH", "l", "a", "b")]),
        "bzpopmin": ([], ("BZPOPMIN", "z", "0"), [("ZADD", "z", "1", "a")]),
        "xreadgroup": ([("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")],
                       ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                       [("XADD", "s", "1-1", "f", "v")]),
        "xread": ([], ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                  [("XADD", "s", "1-1", "f", "v")]),
    }
    setup, blocking, trigger = setups[case]
    _blocking_events(debug_redis.port, "KEA", setup, blocking, trigger)


@pytest.mark.parametrize("flags", ["KEAocn", "Ko", "Ec", "Koc"])
def test_overwritten_and_type_changed(debug_redis, flags):
    run(debug_redis, flags, [
        ("SET", "a", "1"),
        ("SET", "a", "2", "EX", "100"),
        ("SET", "a", "2", "NX"),
        ("LPUSH", "l", "x"),
        ("SET", "l", "1"),
        ("SET", "l", "2", "GET"),
        ("LPUSH", "l2", "x"),
        ("RENAME", "l2", "l"),
        ("SET", "b", "1"),
        ("COPY", "b", "l", "REPLACE"),
        ("COPY", "b", "l"),
        ("COPY", "b", "l", "DB", "1", "REPLACE"),
        ("SET", "c", "1"),
        ("RENAME", "c", "l"),
        ("RENAMENX", "b", "l"),
        ("SADD", "s1", "a"),
        ("SUNIONSTORE", "l", "s1"),
        ("SUNIONSTORE", "l", "s1"),
        ("SDIFFSTORE", "l", "s1", "s1"),
        ("SET", "x", "1"),
        ("INCRBYFLOAT", "x", "1.5"),
        ("INCR", "n"),
        ("APPEND", "x", "a"),
        ("SETRANGE", "x", "0", "b"),
        ("HSET", "h", "a", "1"),
        ("SET", "h", "1"),
        ("MSET", "q", "1", "h", "2", "l", "3"),
        ("MSETNX", "r", "1", "t", "2"),
        ("GETSET", "q", "5"),
        ("ZADD", "z", "1", "a"),
        ("ZUNIONSTORE", "q", "1", "z"),
        ("ZRANGESTORE", "q", "z", "0", "-1"),
        ("ZINTERSTORE", "z2", "1", "z"),
        ("LPUSH", "lm", "a"),
        ("LMOVE", "lm", "lm2", "LEFT", "LEFT"),
        ("SET", "lm2", "x"),
        ("SET", "e", "1", "PX", TTL),
        ("SET", "f", "1", "PX", TTL),
        ("SET", "g", "1", "PX", TTL),
        ("SADD", "s", "a"),
        ("SET", "sq", "1", "PX", TTL),
        ("SLEEP",),
        ("SET", "e", "2"),
        ("MSET", "f", "2"),
        ("GETSET", "g", "2"),
        ("SUNIONSTORE", "sq", "s"),
    ])


def test_keyspace_walks_expire_without_keymiss(debug_redis):
    run(debug_redis, "KEmx", [
        ("SET", "e1", "1", "PX", TTL),
        ("SLEEP",),
        ("SCAN", "0"),
        ("SET", "e2", "1", "PX", TTL),
        ("SLEEP",),
        ("RANDOMKEY",),
        ("SET", "e3", "1", "PX", TTL),
        ("SLEEP",),
        ("KEYS", "*"),
        ("SET", "e4", "1", "PX", TTL),
        ("SLEEP",),
        ("EXISTS", "e4"),
    ])
