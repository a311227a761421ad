"""Sorted sets against a real Redis 8.2: replies (scores as Redis prints them),
errors, RESP2/RESP3 shapes, encodings."""

from __future__ import annotations

import pytest
from tests.diff.diffutil import both_protocols, config, raw_both_protocols, same_encoding
from tests.support.diff import EngineConn, RedisConn, compare

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]

SCORES = ["0.1", "1e-7", "1e-5", "0.0001", "123456789012345678", "1e17", "1e21", "1e300",
          "3.14159265358979", "1e-300", "5e-324", "0x10", "1.7976931348623157e308", "2.5e20",
          "12345.678901234", "-12345.678901234", "1.5e-6", "9223372036854775808", "1e105",
          "-0", "-0.0", "inf", "-inf", "+inf", "Infinity", "-1.5", "100000.5", "7", "4.9e-324",
          "1e-320", "1.", "-.5", "+.5e1", "4611686018427387904", "4611686018427387903"]
BAD_SCORES = [" 1", "1 ", "1e400", "1e-400", "nan", "", "1_0", "0x1p-1080", "0x1p2000", "1e",
              "0x", "infin", "abc", "1.2.3"]


def test_score_parsing_and_formatting(redis_server):
    script = []
    for i, s in enumerate(SCORES):
        script += [("ZADD", "z", s, f"m{i}"), ("ZSCORE", "z", f"m{i}")]
    script += [("ZADD", "z", s, "bad") for s in BAD_SCORES]
    script += [("ZRANGE", "z", "0", "-1", "WITHSCORES")]
    both_protocols(redis_server.port, script)
    # the same through a skiplist (long member names)
    long = "x" * 70
    script = [("ZADD", "k", "1", long)]
    for i, s in enumerate(SCORES):
        script += [("ZADD", "k", s, f"m{i}"), ("ZSCORE", "k", f"m{i}")]
    script += [("ZRANGE", "k", "0", "-1", "WITHSCORES"), ("ZINCRBY", "k", "-0", "m0"),
               ("ZADD", "k", "INCR", "-0", "neg0"), ("ZSCORE", "k", "neg0")]
    both_protocols(redis_server.port, script)


def test_score_formatting_of_random_doubles(redis_conn, engine_conn):
    """Every double prints as Redis's Grisu2 prints it (not always Python's repr)."""
    import math
    import random
    import struct

    rnd = random.Random(2024)
    values = []
    while len(values) < 3000:
        v = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
        if not math.isnan(v):
            values.append(v)
        values.append(round(rnd.uniform(-1e4, 1e4), rnd.randint(0, 8)))
    for i in range(0, len(values), 500):
        chunk = values[i : i + 500]
        args = [x for j, v in enumerate(chunk) for x in (repr(v), f"m{j}")]
        members = [f"m{j}" for j in range(len(chunk))]
        compare(redis_conn, engine_conn, [("DEL", "z"), ("ZADD", "z", *args), ("ZMSCORE", "z", *members),
                                          ("ZRANGE", "z", "0", "-1", "WITHSCORES")])


def test_zadd_options(redis_server):
    script = [
        ("ZADD", "z", "1", "a", "2", "b"),
        ("ZADD", "z", "NX", "5", "a", "3", "c"),
        ("ZADD", "z", "XX", "5", "a", "4", "d"),
        ("ZADD", "z", "XX", "CH", "6", "a", "4", "d", "2", "b"),
        ("ZADD", "z", "CH", "6", "a", "7", "b", "1", "e"),
        ("ZADD", "z", "GT", "CH", "1", "a", "10", "b", "0", "f"),
        ("ZADD", "z", "LT", "CH", "1", "a", "20", "b"),
        ("ZADD", "z", "XX", "GT", "CH", "100", "a", "100", "zz"),
        ("ZADD", "z", "INCR", "5", "a"),
        ("ZADD", "z", "INCR", "5", "new"),
        ("ZADD", "z", "NX", "INCR", "5", "a"),
        ("ZADD", "z", "XX", "INCR", "5", "nope"),
        ("ZADD", "z", "GT", "INCR", "-1", "a"),
        ("ZADD", "z", "LT", "INCR", "-1", "a"),
        ("ZADD", "z", "LT", "INCR", "0", "a"),
        ("ZADD", "z", "INCR", "0", "a"),
        ("ZADD", "z", "incr", "ch", "1", "a"),
        ("ZADD", "z", "XX", "NX", "1", "a"),
        ("ZADD", "z", "GT", "LT", "1", "a"),
        ("ZADD", "z", "GT", "NX", "1", "a"),
        ("ZADD", "z", "LT", "NX", "x", "a"),
        ("ZADD", "z", "INCR", "1", "a", "2", "b"),
        ("ZADD", "z", "XX", "NX"),
        ("ZADD", "z", "1"),
        ("ZADD", "z", "1", "a", "2"),
        ("ZADD", "z", "NX", "x", "a"),
        ("ZADD", "z", "1", "a", "x", "b"),
        ("ZADD", "z", "FOO", "1", "a"),
        ("ZADD", "nokey", "XX", "1", "a"),
        ("ZADD", "nokey", "XX", "INCR", "1", "a"),
        ("EXISTS", "nokey"),
        ("ZADD", "z", "inf", "i"),
        ("ZADD", "z", "INCR", "-inf", "i"),
        ("ZINCRBY", "z", "-inf", "i"),
        ("ZINCRBY", "z", "inf", "i"),
        ("ZSCORE", "z", "i"),
        ("ZINCRBY", "z", "1.5", "a"),
        ("ZINCRBY", "z", "x", "a"),
        ("ZINCRBY", "z", "nan", "a"),
        ("ZINCRBY", "n2", "3", "a"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZCARD", "z"),
        ("ZCARD", "nokey"),
        ("ZMSCORE", "z", "a", "nope", "b"),
        ("ZMSCORE", "nokey", "a", "b"),
        ("ZSCORE", "nokey", "a"),
        ("ZSCORE", "z", "nope"),
    ]
    both_protocols(redis_server.port, script)
    raw_both_protocols(redis_server.port, [s for s in script if "inf" not in s and "1.5" not in s])


RANK_RANGES = [(a, b) for a in ("0", "1", "-1", "-3", "5", "-100") for b in ("0", "2", "-1", "-100", "100")]


def _populate():
    return [("ZADD", "z", "1", "a", "1", "b", "2", "c", "3", "d", "3", "e", "-inf", "n", "inf", "p",
             "2.5", "f")]


def test_zrange_by_rank(redis_server):
    script = _populate()
    for a, b in RANK_RANGES:
        script += [("ZRANGE", "z", a, b), ("ZRANGE", "z", a, b, "REV"),
                   ("ZREVRANGE", "z", a, b, "WITHSCORES"), ("ZRANGE", "z", a, b, "WITHSCORES")]
    script += [
        ("ZRANGE", "z", "x", "1"), ("ZRANGE", "z", "0", "1", "LIMIT", "0", "1"),
        ("ZRANGE", "z", "0", "1", "BYLEX", "WITHSCORES"), ("ZRANGE", "z", "0", "1", "FOO"),
        ("ZRANGE", "nokey", "0", "-1"), ("ZRANGE", "nokey", "x", "-1"),
        ("ZREVRANGE", "z", "0", "1", "REV"), ("ZREVRANGE", "z", "0", "1", "BYSCORE"),
        ("ZRANGE", "z", "0", "1", "REV", "REV"), ("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"),
        ("ZRANGE", "z", "0", "-1", "LIMIT", "0"), ("ZRANGE", "z", "0", "-1", "withscores", "withscores"),
        ("ZRANK", "z", "c"), ("ZRANK", "z", "n"), ("ZRANK", "z", "p"), ("ZREVRANK", "z", "c"),
        ("ZRANK", "z", "c", "WITHSCORE"), ("ZREVRANK", "z", "p", "withscore"),
        ("ZRANK", "z", "nope"), ("ZRANK", "z", "nope", "WITHSCORE"), ("ZRANK", "nokey", "a"),
        ("ZRANK", "nokey", "a", "WITHSCORE"), ("ZRANK", "z", "a", "WITHSCORES"),
        ("ZRANK", "z", "a", "WITHSCORE", "x"), ("ZREVRANK", "nokey", "a", "x"),
    ]
    raw_both_protocols(redis_server.port, [s for s in script if "WITHSCORE" not in s and "withscore" not in s])
    both_protocols(redis_server.port, script)


SCORE_RANGES = [("-inf", "+inf"), ("1", "2"), ("(1", "2"), ("1", "(2"), ("(1", "(2"), ("2", "1"),
                ("(2", "2"), ("2", "2"), ("-inf", "1"), ("(-inf", "(inf"), ("inf", "inf"),
                ("(inf", "inf"), ("2.5", "+inf"), ("", ""), ("(", "3"), ("1e400", "inf"),
                ("-1e400", "0"), ("1e-400", "5"), ("0x10", "20"), (" 1", "2"), ("nan", "1"),
                ("1", "x"), ("((1", "2"), ("[1", "2"), ("-inf", "(-inf"), ("-0", "0"), ("-", "+"),
                ("Infinity", "+Infinity"), ("1e", "2"), ("+2", "+3")]


def test_score_ranges(redis_server):
    script = _populate()
    for lo, hi in SCORE_RANGES:
        script += [("ZRANGEBYSCORE", "z", lo, hi), ("ZREVRANGEBYSCORE", "z", hi, lo, "WITHSCORES"),
                   ("ZRANGE", "z", lo, hi, "BYSCORE", "LIMIT", "1", "2"),
                   ("ZRANGE", "z", hi, lo, "BYSCORE", "REV", "LIMIT", "1", "-1"),
                   ("ZCOUNT", "z", lo, hi)]
    for off, cnt in [("0", "0"), ("0", "-1"), ("-1", "2"), ("7", "5"), ("8", "1"), ("100", "1"),
                     ("2", "100"), ("x", "1"), ("1", "x"), ("0", "-5")]:
        script += [("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", off, cnt),
                   ("ZREVRANGEBYSCORE", "z", "inf", "-inf", "WITHSCORES", "LIMIT", off, cnt)]
    script += [("ZCOUNT", "nokey", "0", "1"), ("ZCOUNT", "nokey", "x", "1"),
               ("ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "0"), ("ZRANGEBYSCORE", "z", "0", "1", "BYLEX"),
               ("ZRANGEBYSCORE", "z", "0", "1", "REV"), ("ZRANGEBYSCORE", "nokey", "0", "1"),
               ("ZRANGEBYSCORE", "nokey", "x", "1")]
    both_protocols(redis_server.port, script)


LEX_RANGES = [("-", "+"), ("[a", "[c"), ("(a", "[c"), ("[a", "(c"), ("(a", "(c"), ("[c", "[a"),
              ("+", "-"), ("-", "-"), ("+", "+"), ("[b", "[b"), ("(b", "[b"), ("[", "+"),
              ("(", "(z"), ("a", "[c"), ("[a", "c"), ("", "+"), ("-x", "+"), ("[aa", "[bb"),
              ("-", "(c"), ("[d", "+")]


def test_lex_ranges(redis_server):
    script = [("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "aa", "0", "d", "0", "", "0", "e")]
    for lo, hi in LEX_RANGES:
        script += [("ZRANGEBYLEX", "z", lo, hi), ("ZREVRANGEBYLEX", "z", hi, lo),
                   ("ZRANGE", "z", lo, hi, "BYLEX", "LIMIT", "1", "2"),
                   ("ZRANGE", "z", hi, lo, "BYLEX", "REV", "LIMIT", "0", "3"),
                   ("ZLEXCOUNT", "z", lo, hi)]
    script += [("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"), ("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "0"),
               ("ZLEXCOUNT", "nokey", "-", "+"), ("ZLEXCOUNT", "nokey", "x", "+"),
               ("ZRANGEBYLEX", "nokey", "-", "+")]
    raw_both_protocols(redis_server.port, script)


def test_lex_ranges_mixed_scores_listpack(redis_server):
    """Mixed scores: Redis's answer is the listpack walk, forward or backward."""
    script = [("ZADD", "z", "3", "a", "1", "b", "2", "c", "0", "d", "5", "aa", "4", "bb")]
    for lo, hi in LEX_RANGES:
        script += [("ZRANGEBYLEX", "z", lo, hi), ("ZREVRANGEBYLEX", "z", hi, lo),
                   ("ZLEXCOUNT", "z", lo, hi)]
    script += [("ZREMRANGEBYLEX", "z", "[b", "[c"), ("ZRANGE", "z", "0", "-1")]
    raw_both_protocols(redis_server.port, script)


def test_zrangestore(redis_server):
    script = _populate() + [
        ("ZRANGESTORE", "d", "z", "0", "2"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "d", "z", "1", "3", "BYSCORE", "REV"),
        ("ZRANGESTORE", "d", "z", "3", "1", "BYSCORE", "REV", "LIMIT", "1", "1"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "d", "z", "[a", "[c", "BYLEX"),
        ("ZRANGE", "d", "0", "-1"),
        ("ZRANGESTORE", "d", "z", "5", "9"),
        ("EXISTS", "d"),
        ("ZRANGESTORE", "d", "nokey", "0", "-1"),
        ("ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "d", "z", "0", "-1", "LIMIT", "0", "1"),
        ("ZRANGESTORE", "d", "z", "x", "-1"),
        ("SET", "str", "v"),
        ("ZRANGESTORE", "d", "str", "0", "-1"),
        ("ZRANGESTORE", "str", "z", "0", "-1"),
        ("ZRANGE", "str", "0", "-1"),
        ("ZRANGESTORE", "z", "z", "0", "1"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ]
    both_protocols(redis_server.port, script)


def test_removals(redis_server):
    script = _populate() + [
        ("ZREM", "z", "a", "nope", "b"),
        ("ZREM", "nokey", "a"),
        ("ZREMRANGEBYRANK", "z", "0", "0"),
        ("ZREMRANGEBYRANK", "z", "-1", "-1"),
        ("ZREMRANGEBYRANK", "z", "5", "10"),
        ("ZREMRANGEBYRANK", "z", "x", "1"),
        ("ZREMRANGEBYRANK", "nokey", "0", "1"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZREMRANGEBYSCORE", "z", "(2", "3"),
        ("ZREMRANGEBYSCORE", "z", "x", "3"),
        ("ZREMRANGEBYSCORE", "nokey", "0", "3"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZADD", "z", "0", "x", "0", "y"),
        ("ZREMRANGEBYLEX", "z", "[x", "+"),
        ("ZREMRANGEBYLEX", "z", "x", "+"),
        ("ZREMRANGEBYLEX", "nokey", "-", "+"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZREMRANGEBYSCORE", "z", "-inf", "inf"),
        ("EXISTS", "z"),
    ]
    both_protocols(redis_server.port, script)


def test_pops(redis_server):
    script = _populate() + [
        ("ZPOPMIN", "z"),
        ("ZPOPMAX", "z"),
        ("ZPOPMIN", "z", "2"),
        ("ZPOPMAX", "z", "0"),
        ("ZPOPMAX", "z", "1"),
        ("ZPOPMIN", "z", "-1"),
        ("ZPOPMIN", "z", "x"),
        ("ZPOPMIN", "z", "1", "2"),
        ("ZPOPMIN", "nokey"),
        ("ZPOPMIN", "nokey", "3"),
        ("ZPOPMIN", "nokey", "-3"),
        ("ZADD", "y", "1", "q"),
        ("ZMPOP", "3", "nokey", "z", "y", "MIN"),
        ("ZMPOP", "2", "z", "y", "MAX", "COUNT", "10"),
        ("ZMPOP", "2", "z", "y", "MAX", "COUNT", "10"),
        ("ZMPOP", "2", "z", "y", "MAX"),
        ("ZMPOP", "0", "z", "MAX"),
        ("ZMPOP", "x", "z", "MAX"),
        ("ZMPOP", "2", "z", "MAX"),
        ("ZMPOP", "1", "z", "MIDDLE"),
        ("ZMPOP", "1", "z", "MIN", "COUNT", "0"),
        ("ZMPOP", "1", "z", "MIN", "COUNT"),
        ("ZMPOP", "1", "z", "MIN", "FOO"),
        ("ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "2"),
        ("EXISTS", "z", "y"),
        ("BZPOPMIN", "nokey", "x"),
        ("BZPOPMIN", "nokey", "-1"),
        ("BZMPOP", "x", "1", "k", "MIN"),
        ("BZMPOP", "0", "0", "k", "MIN"),
        ("BZMPOP", "-1", "0", "k", "MIN"),
        ("BZMPOP", "0", "1", "k", "FOO"),
    ]
    raw_both_protocols(redis_server.port, script)
    script = _populate() + [
        ("ZADD", "y", "1", "q"),
        ("BZPOPMIN", "nokey", "z", "0"),
        ("BZPOPMAX", "nokey", "z", "1"),
        ("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "3"),
        ("BZMPOP", "0.5", "2", "nokey", "y", "MAX", "COUNT", "3"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ]
    both_protocols(redis_server.port, script)


def test_blocking_inside_multi_answers_at_once(redis_server):
    from tests.diff.raw_resp import RawConn, RawEngine

    from streamlite.engine import Engine, FakeClock

    cmds = [("BZPOPMIN", "nokey", "0"), ("BZPOPMAX", "nokey", "x2", "1"),
            ("BZMPOP", "0", "1", "nokey", "MIN")]
    for proto in (2, 3):
        r = RawConn(redis_server.port, protocol=proto)
        e = RawEngine(Engine(FakeClock()), protocol=proto)
        r.call("FLUSHALL")
        r.call("MULTI")
        for cmd in cmds:
            r.call(*cmd)
        exec_reply = r.call("EXEC")
        e.client.in_exec = True
        assert exec_reply == b"*%d\r\n" % len(cmds) + b"".join(e.call(*cmd) for cmd in cmds)
        r.close()


def test_set_operations(redis_server):
    setup = [
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"),
        ("ZADD", "b", "10", "y", "20", "z", "30", "w"),
        ("ZADD", "c", "inf", "x", "-inf", "y"),
        ("SADD", "s", "x", "w", "v"),
        ("SET", "str", "v"),
    ]
    script: list[tuple[str, ...]] = []
    for op in ("ZUNION", "ZINTER"):
        script += [
            (op, "2", "a", "b"),
            (op, "2", "a", "b", "WITHSCORES"),
            (op, "3", "a", "b", "s", "WITHSCORES"),
            (op, "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES"),
            (op, "2", "a", "c", "WITHSCORES"),
            (op, "2", "a", "c", "WEIGHTS", "0", "1", "WITHSCORES"),
            (op, "2", "c", "c", "WITHSCORES"),
            (op, "2", "c", "c", "WEIGHTS", "1", "-1", "WITHSCORES"),
            (op, "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"),
            (op, "2", "a", "b", "AGGREGATE", "max", "WITHSCORES"),
            (op, "2", "a", "b", "AGGREGATE", "sum", "WEIGHTS", "-1", "1", "WITHSCORES"),
            (op, "2", "a", "b", "AGGREGATE", "AVG"),
            (op, "2", "a", "b", "WEIGHTS", "1"),
            (op, "2", "a", "b", "WEIGHTS", "1", "x"),
            (op, "2", "a", "b", "WEIGHTS", "1", "nan"),
            (op, "2", "a", "b", "WEIGHTS", "1", "0x2", "WITHSCORES"),
            (op, "2", "a", "b", "WEIGHTS", "1", " 2"),
            (op, "2", "a", "b", "AGGREGATE"),
            (op, "2", "a", "b", "LIMIT", "1"),
            (op, "2", "a", "nokey", "WITHSCORES"),
            (op, "1", "nokey"),
            (op, "2", "a", "str"),
            (op, "0", "a"),
            (op, "-1", "a"),
            (op, "x", "a"),
            (op, "3", "a", "b"),
            (op, "1", "a", "FOO"),
        ]
    script += [
        ("ZDIFF", "2", "a", "b"), ("ZDIFF", "2", "a", "b", "WITHSCORES"), ("ZDIFF", "2", "b", "s", "WITHSCORES"),
        ("ZDIFF", "1", "s", "WITHSCORES"), ("ZDIFF", "2", "a", "a"), ("ZDIFF", "2", "nokey", "a"),
        ("ZDIFF", "2", "a", "b", "WEIGHTS", "1", "1"), ("ZDIFF", "2", "a", "b", "AGGREGATE", "MIN"),
        ("ZDIFF", "0", "a"), ("ZDIFF", "2", "a", "str"),
        ("ZINTERCARD", "2", "a", "b"), ("ZINTERCARD", "2", "a", "b", "LIMIT", "1"),
        ("ZINTERCARD", "2", "a", "s", "LIMIT", "0"), ("ZINTERCARD", "2", "a", "nokey"),
        ("ZINTERCARD", "0", "a"), ("ZINTERCARD", "x", "a"), ("ZINTERCARD", "3", "a", "b"),
        ("ZINTERCARD", "1", "a", "LIMIT", "-1"), ("ZINTERCARD", "1", "a", "WEIGHTS", "1"),
        ("ZINTERCARD", "1", "a", "WITHSCORES"), ("ZINTERCARD", "1", "str"),
    ]
    for op in ("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"):
        script += [
            (op, "d", "2", "a", "b"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
            (op, "d", "2", "a", "s"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
            (op, "d", "2", "nokey", "nokey2"), ("EXISTS", "d"),
            (op, "d", "2", "a", "b", "WITHSCORES"),
            (op, "d", "0", "a"), (op, "d", "2", "a"), (op, "d", "1", "str"),
            (op, "str", "1", "a"), ("ZRANGE", "str", "0", "-1"),
            (op, "a", "2", "a", "b"), ("ZRANGE", "a", "0", "-1", "WITHSCORES"),
        ]
    script += [("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "2", "3", "AGGREGATE", "MAX"),
               ("ZRANGE", "d", "0", "-1", "WITHSCORES")]
    both_protocols(redis_server.port, script, setup)


def test_union_sums_in_redis_order(redis_server):
    """SUM adds inputs smallest first (Redis sorts by cardinality); floating point
    rounding depends on that order."""
    setup = [("ZADD", "a", "0.1", "m", "1", "x", "2", "y"), ("ZADD", "b", "0.2", "m"),
             ("ZADD", "c", "0.3", "m", "5", "x")]
    script = [("ZUNION", "3", "a", "b", "c", "WITHSCORES"), ("ZINTER", "2", "a", "c", "WITHSCORES"),
              ("ZUNION", "3", "a", "b", "c", "WEIGHTS", "3", "0.7", "1e-3", "WITHSCORES"),
              ("ZINTER", "3", "c", "a", "b", "WEIGHTS", "0.1", "0.7", "3", "WITHSCORES")]
    both_protocols(redis_server.port, script, setup)


def test_zrandmember_shapes_and_properties(redis_server):
    script = [
        ("ZRANDMEMBER", "nokey"), ("ZRANDMEMBER", "nokey", "2"), ("ZRANDMEMBER", "nokey", "2", "WITHSCORES"),
        ("ZRANDMEMBER", "nokey", "-2"), ("ZRANDMEMBER", "nokey", "x"),
        ("ZADD", "one", "1.5", "m"),
        ("ZRANDMEMBER", "one"), ("ZRANDMEMBER", "one", "1"), ("ZRANDMEMBER", "one", "-3", "WITHSCORES"),
        ("ZRANDMEMBER", "one", "5", "WITHSCORES"), ("ZRANDMEMBER", "one", "0"),
        ("ZRANDMEMBER", "one", "5", "WITHSCORE"), ("ZRANDMEMBER", "one", "5", "WITHSCORES", "x"),
        ("ZRANDMEMBER", "one", "-9223372036854775808"),
        ("ZRANDMEMBER", "one", "-9223372036854775807", "WITHSCORES"),
        ("ZRANDMEMBER", "one", "4611686018427387904", "WITHSCORES"),
    ]
    both_protocols(redis_server.port, script)
    for proto in (2, 3):
        r = RedisConn(redis_server.port, protocol=proto)
        e = EngineConn(protocol=proto)
        r.call("FLUSHALL")
        pairs = {f"m{i}".encode(): float(i) for i in range(40)}
        for conn in (r, e):
            args = []
            for m, s in pairs.items():
                args += [str(s), m]
            conn.call("ZADD", "z", *args)
            assert conn.call("ZRANDMEMBER", "z") in pairs
            got = conn.call("ZRANDMEMBER", "z", "10")
            assert len(set(got)) == 10 and set(got) <= set(pairs)
            got = conn.call("ZRANDMEMBER", "z", "-100", "WITHSCORES")
            flat = [x for p in got for x in p] if proto == 3 else got
            assert len(flat) == 200
            for m, s in zip(flat[::2], flat[1::2], strict=True):
                assert float(s) == pairs[m]
            assert sorted(conn.call("ZRANDMEMBER", "z", "100")) == sorted(pairs)
        r.close()


def test_zscan(redis_server):
    setup = [("ZADD", "z", "0.1", "a", "-0", "b", "1e21", "c", "1.5", "d", "inf", "e"),
             ("ZADD", "k", "0.1", "a", "-0", "b", "1e21", "c", "1.5", "d", "2", "x" * 70,
              "1e300", "big", "-inf", "n")]
    script = [
        ("ZSCAN", "z", "0"), ("ZSCAN", "z", "0", "MATCH", "[ab]"), ("ZSCAN", "z", "0", "COUNT", "0"),
        ("ZSCAN", "z", "x"), ("ZSCAN", "nokey", "0"), ("ZSCAN", "z", "0", "NOVALUES"),
    ]
    raw_both_protocols(redis_server.port, script, setup)
    for proto in (2, 3):
        r = RedisConn(redis_server.port, protocol=proto)
        e = EngineConn(protocol=proto)
        r.call("FLUSHALL")
        compare(r, e, setup)
        a = r.call("ZSCAN", "k", "0", "COUNT", "100")
        b = e.call("ZSCAN", "k", "0", "COUNT", "100")
        assert a[0] == b[0] == b"0"
        assert dict(zip(a[1][::2], a[1][1::2], strict=True)) == dict(zip(b[1][::2], b[1][1::2], strict=True))
        r.close()


def test_encodings(redis_conn, engine_conn):
    r, e = redis_conn, engine_conn
    script = [
        ("ZADD", "small", "1", "a"),
        ("ZADD", "long", "1", "x" * 65),
        ("ZADD", "many", *[x for i in range(129) for x in (str(i), f"m{i}")]),
        ("ZADD", "edge", *[x for i in range(128) for x in (str(i), f"m{i}")]),
        ("ZADD", "edge", "1", "one-more"),
        ("ZADD", "xx", "1", "q"),
        ("ZADD", "xx", "XX", "1", "y" * 70),
        ("ZADD", "xx2", "1", "q"),
        ("ZADD", "xx2", "XX", *[x for i in range(129) for x in (str(i), "q")]),
        ("ZADD", "neg", "-0", "m", "1", "y" * 70),
        ("ZSCORE", "neg", "m"),
        ("ZADD", "neg2", "1", "y" * 70, "-0", "m"),
        ("ZSCORE", "neg2", "m"),
        ("ZUNIONSTORE", "u1", "1", "small"),
        ("ZUNIONSTORE", "u2", "1", "long"),
        ("ZUNIONSTORE", "u3", "1", "neg", "WEIGHTS", "-1"),
        ("ZRANGE", "u3", "0", "-1", "WITHSCORES"),
        ("ZREM", "long", "x" * 65),
        ("ZADD", "long2", "1", "x" * 65, "2", "b"),
        ("ZREM", "long2", "x" * 65),
        ("ZRANGESTORE", "rs", "many", "0", "9"),
        ("ZRANGESTORE", "rs2", "many", "0", "200"),
        ("ZRANGESTORE", "rs3", "many", "0", "10", "BYSCORE"),
        ("ZINTERSTORE", "is", "2", "many", "edge"),
        ("ZDIFFSTORE", "ds", "2", "many", "small"),
    ]
    compare(r, e, script)
    same_encoding(r, e, "small", "many", "edge", "xx", "xx2", "neg", "neg2", "u1", "u2", "u3", "long2",
                  "rs", "rs2", "rs3", "is", "ds")
    with config(r, e, zset_max_listpack_entries=0):
        compare(r, e, [("ZADD", "z0", "1", "a"), ("ZUNIONSTORE", "z1", "1", "small")])
        same_encoding(r, e, "z0", "z1")
    with config(r, e, zset_max_listpack_entries=3, zset_max_listpack_value=4):
        compare(r, e, [("ZADD", "c1", "1", "a", "2", "b", "3", "c"), ("ZADD", "c2", "1", "abcde"),
                       ("ZADD", "c3", "1", "a", "2", "b", "3", "c", "4", "d"),
                       ("ZADD", "c4", "1", "a"), ("ZINCRBY", "c4", "1", "bbbbbb")])
        same_encoding(r, e, "c1", "c2", "c3", "c4")


def test_wrongtype_and_arity(redis_server):
    script = [
        ("SET", "str", "v"),
        ("ZADD", "str", "1", "a"), ("ZINCRBY", "str", "1", "a"), ("ZSCORE", "str", "a"),
        ("ZMSCORE", "str", "a"), ("ZCARD", "str"), ("ZCOUNT", "str", "0", "1"),
        ("ZLEXCOUNT", "str", "-", "+"), ("ZRANGE", "str", "0", "1"), ("ZRANK", "str", "a"),
        ("ZREM", "str", "a"), ("ZREMRANGEBYRANK", "str", "0", "1"), ("ZPOPMIN", "str"),
        ("ZMPOP", "1", "str", "MIN"), ("ZRANDMEMBER", "str"), ("ZSCAN", "str", "0"),
        ("BZPOPMIN", "str", "0"), ("BZMPOP", "0", "1", "str", "MIN"),
        ("ZADD", "z", "1", "a"),
        ("ZMPOP", "2", "z", "str", "MIN"), ("ZMPOP", "2", "nokey", "str", "MIN"),
        ("ZADD", "z", "1", "a"),
        ("BZPOPMIN", "z", "str", "0"),
        ("ZADD",), ("ZADD", "z", "1"), ("ZINCRBY", "z", "1"), ("ZSCORE", "z"), ("ZMSCORE", "z"),
        ("ZCARD",), ("ZCOUNT", "z", "1"), ("ZLEXCOUNT", "z", "-"), ("ZRANGE", "z", "0"),
        ("ZRANGESTORE", "d", "z", "0"), ("ZREVRANGE", "z", "0"), ("ZRANGEBYSCORE", "z", "0"),
        ("ZREVRANGEBYSCORE", "z", "0"), ("ZRANGEBYLEX", "z", "-"), ("ZREVRANGEBYLEX", "z", "-"),
        ("ZRANK", "z"), ("ZREVRANK", "z"), ("ZREM", "z"), ("ZREMRANGEBYRANK", "z", "0"),
        ("ZREMRANGEBYSCORE", "z", "0"), ("ZREMRANGEBYLEX", "z", "-"), ("ZPOPMIN",), ("ZPOPMAX",),
        ("ZMPOP", "1", "z"), ("ZRANDMEMBER",), ("ZUNION", "1"), ("ZINTER", "1"), ("ZDIFF", "1"),
        ("ZUNIONSTORE", "d", "1"), ("ZINTERSTORE", "d", "1"), ("ZDIFFSTORE", "d", "1"),
        ("ZINTERCARD", "1"), ("ZSCAN", "z"), ("BZPOPMIN", "z"), ("BZPOPMAX", "z"),
        ("BZMPOP", "0", "1", "z"),
    ]
    both_protocols(redis_server.port, script)
