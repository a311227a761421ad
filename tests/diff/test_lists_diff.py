"""Lists against a real Redis 8.2: replies, errors, RESP2/RESP3 shapes, encodings."""

from __future__ import annotations

import pytest
from tests.diff.diffutil import both_protocols, config, raw_both_protocols, same_encoding
from tests.support.diff import compare

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]

BASICS = [
    ("LPUSH", "l", "a", "b", "c"),
    ("RPUSH", "l", "d", "1", "-2", "100000000000"),
    ("LRANGE", "l", "0", "-1"),
    ("LLEN", "l"),
    ("LLEN", "nokey"),
    ("LPUSHX", "nokey", "a"),
    ("RPUSHX", "nokey", "a", "b"),
    ("LPUSHX", "l", "x", "y"),
    ("RPUSHX", "l", "z"),
    ("LRANGE", "l", "0", "-1"),
    ("LINDEX", "l", "0"),
    ("LINDEX", "l", "-1"),
    ("LINDEX", "l", "100"),
    ("LINDEX", "l", "-100"),
    ("LINDEX", "l", "x"),
    ("LINDEX", "nokey", "x"),
    ("LINDEX", "nokey", "0"),
    ("LSET", "l", "0", "first"),
    ("LSET", "l", "-1", "last"),
    ("LSET", "l", "100", "v"),
    ("LSET", "l", "x", "v"),
    ("LSET", "nokey", "0", "v"),
    ("LSET", "nokey", "x", "v"),
    ("LRANGE", "l", "0", "-1"),
]


def test_push_index_set(redis_server):
    both_protocols(redis_server.port, BASICS)


RANGES = [(a, b) for a in ("0", "1", "-1", "-3", "5", "-100", "100") for b in ("0", "2", "-1", "-2", "-100", "100")]


def test_lrange_and_ltrim_ranges(redis_conn, engine_conn):
    script: list[tuple[str, ...]] = [("RPUSH", "l", *"abcdefg")]
    for a, b in RANGES:
        script.append(("LRANGE", "l", a, b))
    script += [("LRANGE", "l", "x", "1"), ("LRANGE", "l", "0", "1.5"), ("LRANGE", "nokey", "0", "-1"),
               ("LRANGE", "nokey", "x", "-1")]
    for a, b in RANGES:
        script += [("DEL", "t"), ("RPUSH", "t", *"abcdefg"), ("LTRIM", "t", a, b),
                   ("LRANGE", "t", "0", "-1"), ("EXISTS", "t")]
    script += [("LTRIM", "nokey", "0", "1"), ("LTRIM", "l", "x", "1"), ("LTRIM", "nokey", "x", "1")]
    compare(redis_conn, engine_conn, script)


def test_pops(redis_server):
    script = [
        ("RPUSH", "l", "a", "b", "c", "d", "e"),
        ("LPOP", "l"),
        ("RPOP", "l"),
        ("LPOP", "l", "0"),
        ("LPOP", "l", "2"),
        ("RPOP", "l", "5"),
        ("LPOP", "l"),
        ("LPOP", "l", "3"),
        ("LPOP", "l", "0"),
        ("RPOP", "l", "-1"),
        ("RPOP", "l", "x"),
        ("LPOP", "l", "1", "2"),
        ("RPUSH", "l", "a"),
        ("RPOP", "l", "-1"),
        ("RPOP", "l", "1.0"),
        ("RPOP", "l", "1"),
        ("LLEN", "l"),
    ]
    raw_both_protocols(redis_server.port, script)


def test_lrem_linsert(redis_server):
    script = [
        ("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"),
        ("LREM", "l", "2", "a"),
        ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "-1", "a"),
        ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "0", "b"),
        ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "0", "zz"),
        ("LREM", "l", "x", "a"),
        ("LREM", "nokey", "1", "a"),
        ("LREM", "nokey", "x", "a"),
        ("LINSERT", "l", "BEFORE", "c", "X"),
        ("LINSERT", "l", "after", "c", "Y"),
        ("LINSERT", "l", "AFTER", "a", "Z"),
        ("LINSERT", "l", "BEFORE", "nope", "Z"),
        ("LINSERT", "l", "MIDDLE", "c", "Z"),
        ("LINSERT", "nokey", "BEFORE", "c", "Z"),
        ("LINSERT", "nokey", "MIDDLE", "c", "Z"),
        ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "0", "X"),
        ("LREM", "l", "0", "Y"),
        ("LREM", "l", "0", "Z"),
        ("LREM", "l", "0", "c"),
        ("LREM", "l", "0", "a"),
        ("LLEN", "l"),
        ("LINSERT", "l", "BEFORE", "c", "X"),
    ]
    both_protocols(redis_server.port, script)


def test_lpos(redis_server):
    script = [
        ("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"),
        ("LPOS", "l", "c"),
        ("LPOS", "l", "c", "RANK", "2"),
        ("LPOS", "l", "c", "RANK", "-1"),
        ("LPOS", "l", "c", "RANK", "-3"),
        ("LPOS", "l", "c", "RANK", "4"),
        ("LPOS", "l", "c", "COUNT", "0"),
        ("LPOS", "l", "c", "COUNT", "2"),
        ("LPOS", "l", "c", "COUNT", "0", "RANK", "-1"),
        ("LPOS", "l", "c", "COUNT", "2", "RANK", "2"),
        ("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"),
        ("LPOS", "l", "c", "MAXLEN", "2"),
        ("LPOS", "l", "c", "MAXLEN", "3", "COUNT", "5"),
        ("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"),
        ("LPOS", "l", "zz"),
        ("LPOS", "l", "zz", "COUNT", "0"),
        ("LPOS", "l", "c", "RANK", "0"),
        ("LPOS", "l", "c", "RANK", "x"),
        ("LPOS", "l", "c", "RANK", "-9223372036854775808"),
        ("LPOS", "l", "c", "COUNT", "-1"),
        ("LPOS", "l", "c", "COUNT", "x"),
        ("LPOS", "l", "c", "MAXLEN", "-1"),
        ("LPOS", "l", "c", "MAXLEN", "x"),
        ("LPOS", "l", "c", "RANK"),
        ("LPOS", "l", "c", "FOO", "1"),
        ("LPOS", "nokey", "c"),
        ("LPOS", "nokey", "c", "COUNT", "1"),
        ("LPOS", "nokey", "c", "RANK", "0"),
    ]
    raw_both_protocols(redis_server.port, script)


def test_lmove_rpoplpush(redis_server):
    script = [
        ("RPUSH", "a", "1", "2", "3"),
        ("LMOVE", "a", "b", "LEFT", "RIGHT"),
        ("LMOVE", "a", "b", "right", "left"),
        ("LMOVE", "a", "a", "LEFT", "RIGHT"),
        ("LRANGE", "a", "0", "-1"),
        ("LRANGE", "b", "0", "-1"),
        ("RPOPLPUSH", "b", "b"),
        ("LRANGE", "b", "0", "-1"),
        ("RPOPLPUSH", "a", "c"),
        ("LLEN", "a"),
        ("RPOPLPUSH", "a", "c"),
        ("LMOVE", "a", "c", "LEFT", "LEFT"),
        ("LMOVE", "a", "c", "UP", "LEFT"),
        ("LMOVE", "c", "c", "LEFT", "DOWN"),
        ("LMOVE", "nokey", "c", "LEFT", "DOWN"),
        ("LRANGE", "c", "0", "-1"),
    ]
    raw_both_protocols(redis_server.port, script)


def test_lmpop(redis_server):
    script = [
        ("RPUSH", "a", "1", "2", "3"),
        ("RPUSH", "b", "x", "y"),
        ("LMPOP", "2", "nokey", "a", "LEFT"),
        ("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "5"),
        ("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "1"),
        ("LMPOP", "1", "a", "LEFT"),
        ("LMPOP", "3", "a", "b", "c", "LEFT"),
        ("LMPOP", "0", "a", "LEFT"),
        ("LMPOP", "-1", "a", "LEFT"),
        ("LMPOP", "x", "a", "LEFT"),
        ("LMPOP", "5", "a", "LEFT"),
        ("LMPOP", "1", "b", "MIDDLE"),
        ("LMPOP", "1", "b", "LEFT", "COUNT"),
        ("LMPOP", "1", "b", "LEFT", "COUNT", "0"),
        ("LMPOP", "1", "b", "LEFT", "COUNT", "-1"),
        ("LMPOP", "1", "b", "LEFT", "COUNT", "1", "COUNT", "1"),
        ("LMPOP", "1", "b", "LEFT", "FOO"),
        ("LMPOP", "1", "b", "LEFT", "count", "10"),
        ("LMPOP", "1", "b", "LEFT"),
    ]
    raw_both_protocols(redis_server.port, script)


def test_wrongtype(redis_server):
    script = [
        ("SET", "s", "v"),
        ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
        ("LPOP", "s"), ("RPOP", "s", "2"), ("LRANGE", "s", "0", "1"), ("LLEN", "s"),
        ("LINDEX", "s", "0"), ("LSET", "s", "0", "v"), ("LREM", "s", "0", "v"),
        ("LTRIM", "s", "0", "1"), ("LINSERT", "s", "BEFORE", "a", "b"), ("LPOS", "s", "a"),
        ("RPUSH", "l", "a"),
        ("LMOVE", "s", "l", "LEFT", "LEFT"), ("LMOVE", "l", "s", "LEFT", "LEFT"),
        ("RPOPLPUSH", "l", "s"), ("LMPOP", "2", "s", "l", "LEFT"), ("LMPOP", "2", "l", "s", "LEFT"),
        ("BLPOP", "s", "l", "0"), ("BLPOP", "l", "s", "0"), ("RPUSH", "l", "a"),
        ("BLMOVE", "s", "l", "LEFT", "LEFT", "0"),
        ("BRPOPLPUSH", "l", "s", "0"), ("BLMPOP", "0", "1", "s", "LEFT"),
        ("LRANGE", "l", "0", "-1"),
        ("LMOVE", "nokey", "s", "LEFT", "LEFT"),
    ]
    both_protocols(redis_server.port, script)


def test_arity(redis_server):
    script = [
        ("LPUSH", "l"), ("RPUSH",), ("LPOP",), ("LRANGE", "l", "0"), ("LLEN",), ("LINDEX", "l"),
        ("LSET", "l", "0"), ("LREM", "l", "0"), ("LTRIM", "l", "0"), ("LINSERT", "l", "BEFORE", "a"),
        ("LPOS", "l"), ("LMOVE", "a", "b", "LEFT"), ("RPOPLPUSH", "a"), ("LMPOP", "1", "a"),
        ("BLPOP", "a"), ("BRPOP", "a"), ("BLMOVE", "a", "b", "LEFT", "LEFT"),
        ("BRPOPLPUSH", "a", "b"), ("BLMPOP", "0", "1", "a"), ("LPUSHX", "a"), ("RPUSHX", "a"),
    ]
    both_protocols(redis_server.port, script)


def test_blocking_commands_with_data_and_bad_timeouts(redis_server):
    script = [
        ("RPUSH", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13"),
        ("BLPOP", "nokey", "a", "0"),
        ("BRPOP", "nokey", "a", "0.5"),
        ("BLPOP", "a", "0x10"),
        ("BLPOP", "a", "1e3"),
        ("BLPOP", "a", "-0.0001"),
        ("BLPOP", "a", "1e-400"),
        ("BLPOP", "a", "-1"),
        ("BLPOP", "a", "-0.001"),
        ("BLPOP", "a", "x"),
        ("BLPOP", "a", ""),
        ("BLPOP", "a", " 1"),
        ("BLPOP", "a", "1 "),
        ("BLPOP", "a", "inf"),
        ("BLPOP", "a", "-inf"),
        ("BLPOP", "a", "nan"),
        ("BLPOP", "a", "1e400"),
        ("BLPOP", "a", "9223372036854775807"),
        ("BLPOP", "a", "9223372036854775.807"),
        ("BLMOVE", "a", "b", "LEFT", "RIGHT", "0"),
        ("BLMOVE", "a", "b", "LEFT", "UP", "0"),
        ("BLMOVE", "a", "b", "LEFT", "RIGHT", "-1"),
        ("BRPOPLPUSH", "a", "b", "0"),
        ("BRPOPLPUSH", "a", "b", "x"),
        ("BLMPOP", "0", "2", "nokey", "a", "RIGHT", "COUNT", "2"),
        ("BLMPOP", "x", "2", "nokey", "a", "RIGHT", "COUNT", "2"),
        ("BLMPOP", "0", "0", "a", "RIGHT"),
        ("BLMPOP", "-1", "0", "a", "RIGHT"),
        ("BLMPOP", "0", "1", "a", "UP"),
        ("LRANGE", "a", "0", "-1"),
        ("LRANGE", "b", "0", "-1"),
    ]
    raw_both_protocols(redis_server.port, script)


def test_blocking_inside_multi_answers_at_once(redis_server):
    """Inside MULTI a blocking pop on nothing answers as timed out; needs MULTI/EXEC
    from the transactions module, so on the engine side we set ``in_exec`` directly."""
    from tests.diff.raw_resp import RawConn, RawEngine

    from streamlite.engine import Engine, FakeClock

    cmds = [
        ("BLPOP", "nokey", "0"), ("BRPOP", "nokey", "x2", "1"),
        ("BLMOVE", "nokey", "b", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "nokey", "b", "0"),
        ("BLMPOP", "0", "1", "nokey", "LEFT"),
    ]
    for proto in (2, 3):
        r = RawConn(redis_server.port, protocol=proto)
        e = RawEngine(Engine(FakeClock()), protocol=proto)
        r.call("FLUSHALL")
        r.call("MULTI")
        for cmd in cmds:
            r.call(*cmd)
        exec_reply = r.call("EXEC")
        e.client.in_exec = True
        parts = b"".join(e.call(*cmd) for cmd in cmds)
        assert exec_reply == b"*%d\r\n" % len(cmds) + parts
        r.close()


def test_encoding_listpack_quicklist(redis_conn, engine_conn):
    r, e = redis_conn, engine_conn
    small = [("RPUSH", "l", *[str(i) for i in range(100)])]
    compare(r, e, small)
    same_encoding(r, e, "l")
    # grow past 8 KB with long strings -> quicklist
    for i in range(5):
        compare(r, e, [("RPUSH", "l", "x" * 2000 + str(i))])
        same_encoding(r, e, "l")
    # shrink again
    for _ in range(5):
        compare(r, e, [("RPOP", "l")])
        same_encoding(r, e, "l")
    compare(r, e, [("RPUSH", "big", "y" * 9000)])
    same_encoding(r, e, "big")
    compare(r, e, [("LPUSH", "big", "a"), ("RPOP", "big")])
    same_encoding(r, e, "big")
    compare(r, e, [("RPUSH", "ints", *[str(10**k) for k in range(19)] * 50)])
    same_encoding(r, e, "ints")
    compare(r, e, [("LTRIM", "ints", "0", "10")])
    same_encoding(r, e, "ints")
    compare(r, e, [("RPUSH", "m", *["v" * 60] * 140), ("LSET", "m", "0", "w" * 3000)])
    same_encoding(r, e, "m")
    compare(r, e, [("LINSERT", "m", "BEFORE", "w" * 3000, "q" * 3000), ("LREM", "m", "0", "v" * 60)])
    same_encoding(r, e, "m")
    compare(r, e, [("LMOVE", "m", "n", "LEFT", "LEFT"), ("LMOVE", "m", "n", "LEFT", "LEFT")])
    same_encoding(r, e, "m", "n")


def test_encoding_by_count(redis_conn, engine_conn):
    r, e = redis_conn, engine_conn
    with config(r, e, list_max_listpack_size=4):
        for i in range(6):
            compare(r, e, [("RPUSH", "l", str(i))])
            same_encoding(r, e, "l")
        for _ in range(5):
            compare(r, e, [("LPOP", "l")])
            same_encoding(r, e, "l")
        compare(r, e, [("RPUSH", "k", "a", "b", "c", "d", "e")])
        same_encoding(r, e, "k")


def test_lset_out_of_range_still_converts(redis_conn, engine_conn):
    # found by hypothesis: Redis converts to a quicklist before it checks the index
    r, e = redis_conn, engine_conn
    compare(r, e, [("LPUSH", "l", "y" * 3000, "y" * 3000), ("LSET", "l", "2", "y" * 3000)])
    same_encoding(r, e, "l")
    compare(r, e, [("LSET", "l", "0", "z")])
    same_encoding(r, e, "l")
