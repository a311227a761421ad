"""Sorted-set commands on the engine: every command and option, score formats,
RESP2/RESP3 reply forms, encodings."""

from __future__ import annotations

import math

import pytest

from streamlite.engine.replies import NULL_ARRAY, Double, ErrorReply
from streamlite.engine.types.scores import fast_strtod, format_score, parse_score
from streamlite.engine.types.zset import Limits, ZSetValue

WRONGTYPE = ErrorReply(b"WRONGTYPE Operation against a key holding the wrong kind of value")
SYNTAX = ErrorReply(b"ERR syntax error")
NOT_FLOAT = ErrorReply(b"ERR value is not a valid float")


def err(text: str) -> ErrorReply:
    return ErrorReply(text.encode())


def enc(engine, key):
    return engine.dbs[0].data[key.encode()].encoding()


@pytest.mark.parametrize(
    "value,text",
    [(0.1, b"0.1"), (1e-7, b"1e-7"), (1e-5, b"0.00001"), (1e17, b"100000000000000000"),
     (1e21, b"1e+21"), (2.5e20, b"2.5e+20"), (12345.678901234, b"1.2345678901234e+4"),
     (1234.5678901234, b"1234.5678901234"), (1.5e-6, b"1.5e-6"), (5e18, b"5e+18"),
     (9223372036854775808.0, b"9223372036854776000"), (1e105, b"1e+105"), (-1e-7, b"-1e-7"),
     (math.inf, b"inf"), (-math.inf, b"-inf"), (-0.0, b"-0"), (0.0, b"0"), (5e-324, b"5e-324"),
     (4611686018427387904.0, b"4611686018427387904"), (1.7976931348623157e308, b"1.7976931348623157e+308"),
     # Grisu2 is not always shortest/closest: these are what Redis prints
     (524.75385, b"524.7538500000001"), (1760485316806258.2, b"1760485316806258.3"),
     (-37721.61481283791, b"-3.7721614812837914e+4"), (4.875681338323965e-262, b"4.8756813383239647e-262")],
)
def test_format_score(value, text):
    assert format_score(value) == text


def test_grisu_powers_table():
    """The cached powers of ten (computed in integers at import) are 10^k rounded to
    nearest (half up) on a 64-bit significand, as fpconv's table holds them."""
    from fractions import Fraction

    from streamlite.engine.types import scores

    for i, (frac, e) in enumerate(scores._POWERS):
        v = Fraction(10) ** (scores._FIRST + i * scores._STEP) / Fraction(2) ** e
        assert 1 << 63 <= frac < 1 << 64
        assert frac == int(v) + (v - int(v) >= Fraction(1, 2))
    assert scores._POWERS[0] == (0xFA8FD5A0081C0288, -1220)  # fpconv's first: 10^-348
    assert scores._POWERS[-1] == (0xAF87023B9BF0EE6B, 1066)  # and last: 10^340


@pytest.mark.parametrize(
    "text,value",
    [(b"1", 1.0), (b"0x10", 16.0), (b"inf", math.inf), (b"+inf", math.inf), (b"-Infinity", -math.inf),
     (b"1.", 1.0), (b"-.5", -0.5), (b"4.9e-324", 5e-324), (b"1e-320", 1e-320)],
)
def test_parse_score_accepts(text, value):
    assert parse_score(text) == value


@pytest.mark.parametrize("text", [b" 1", b"1 ", b"1e400", b"1e-400", b"nan", b"", b"1_0", b"1e", b"0x",
                                  b"infin", b"0x1p2000", b"0x1p-1080"])
def test_parse_score_rejects(text):
    with pytest.raises(Exception, match="not a valid float"):
        parse_score(text)


@pytest.mark.parametrize("text,value", [(b"", 0.0), (b"1e400", math.inf), (b"1e-400", 0.0), (b"+2", 2.0),
                                        (b"0x10", None), (b" 1", None), (b"nan", None), (b"1e", None)])
def test_range_float_parsing(text, value):
    v = fast_strtod(text)
    if value is None:
        assert v is None or math.isnan(v)
    else:
        assert v == value


def test_zadd_basic_and_options(r):
    assert r("ZADD", "z", 1, "a", 2, "b") == 2
    assert r("ZADD", "z", "NX", 5, "a", 3, "c") == 1
    assert r("ZSCORE", "z", "a") == b"1"
    assert r("ZADD", "z", "XX", 5, "a", 4, "d") == 0
    assert r("ZSCORE", "z", "a") == b"5" and r("ZSCORE", "z", "d") is None
    assert r("ZADD", "z", "CH", 6, "a", 7, "e") == 2
    assert r("ZADD", "z", "GT", "CH", 1, "a", 10, "b") == 1
    assert r("ZADD", "z", "LT", "CH", 1, "a", 20, "b") == 1
    assert r("ZRANGE", "z", 0, -1, "WITHSCORES") == [b"a", b"1", b"c", b"3", b"e", b"7", b"b", b"10"]


def test_zadd_incr(r):
    assert r("ZADD", "z", "INCR", 5, "a") == b"5"
    assert r("ZADD", "z", "INCR", "1.5", "a") == b"6.5"
    assert r("ZADD", "z", "NX", "INCR", 1, "a") is None
    assert r("ZADD", "z", "XX", "INCR", 1, "nope") is None
    assert r("ZADD", "z", "GT", "INCR", -1, "a") is None
    assert r("ZADD", "z", "LT", "INCR", -1, "a") == b"5.5"
    assert r("ZINCRBY", "z", 2, "a") == b"7.5"
    assert r("ZINCRBY", "z", "inf", "i") == b"inf"
    assert r("ZINCRBY", "z", "-inf", "i") == err("ERR resulting score is not a number (NaN)")
    assert r("ZSCORE", "z", "i") == b"inf"
    assert r("ZINCRBY", "z", "x", "a") == NOT_FLOAT
    assert r("ZADD", "nokey", "XX", 1, "a") == 0 and r("EXISTS", "nokey") == 0


@pytest.mark.parametrize(
    "args,error",
    [(("XX", "NX", 1, "a"), "ERR XX and NX options at the same time are not compatible"),
     (("GT", "LT", 1, "a"), "ERR GT, LT, and/or NX options at the same time are not compatible"),
     (("GT", "NX", 1, "a"), "ERR GT, LT, and/or NX options at the same time are not compatible"),
     (("INCR", 1, "a", 2, "b"), "ERR INCR option supports a single increment-element pair"),
     (("XX", "NX"), "ERR syntax error"), ((1, "a", 2), "ERR syntax error"),
     (("x", "a"), "ERR value is not a valid float"), ((1, "a", "nan", "b"), "ERR value is not a valid float")],
)
def test_zadd_errors(r, args, error):
    assert r("ZADD", "z", *args) == err(error)
    assert r("EXISTS", "z") == 0


def test_resp3_replies(r):
    r.client.protocol = 3
    r("ZADD", "z", 1, "a", "2.5", "b")
    assert r("ZSCORE", "z", "b") == 2.5 and type(r("ZSCORE", "z", "b")) is Double
    assert r("ZRANGE", "z", 0, -1, "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]
    assert r("ZPOPMIN", "z") == [b"a", 1.0]
    r("ZADD", "z", 1, "a")
    assert r("ZPOPMAX", "z", 1) == [[b"b", 2.5]]
    assert r("ZRANK", "z", "a", "WITHSCORE") == [0, 1.0]
    assert r("ZMSCORE", "z", "a", "x") == [1.0, None]
    assert r("ZINCRBY", "z", 1, "a") == 2.0


def test_card_score_count(r):
    r("ZADD", "z", 1, "a", 2, "b", 3, "c", "-inf", "n", "inf", "p")
    assert r("ZCARD", "z") == 5 and r("ZCARD", "nokey") == 0
    assert r("ZMSCORE", "z", "a", "x") == [b"1", None]
    assert r("ZMSCORE", "nokey", "a") == [None]
    assert r("ZCOUNT", "z", "-inf", "+inf") == 5
    assert r("ZCOUNT", "z", "(1", "3") == 2
    assert r("ZCOUNT", "z", "(1", "(3") == 1
    assert r("ZCOUNT", "z", "(-inf", "(inf") == 3
    assert r("ZCOUNT", "z", "3", "1") == 0
    assert r("ZCOUNT", "z", "x", "1") == err("ERR min or max is not a float")
    assert r("ZCOUNT", "nokey", 0, 1) == 0


def test_ranks(r):
    r("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert [r("ZRANK", "z", m) for m in "abc"] == [0, 1, 2]
    assert r("ZREVRANK", "z", "a") == 2
    assert r("ZRANK", "z", "b", "WITHSCORE") == [1, b"2"]
    assert r("ZREVRANK", "z", "b", "withscore") == [1, b"2"]
    assert r("ZRANK", "z", "x") is None
    assert r("ZRANK", "z", "x", "WITHSCORE") is NULL_ARRAY
    assert r("ZRANK", "nokey", "x", "WITHSCORE") is NULL_ARRAY
    assert r("ZRANK", "z", "a", "FOO") == SYNTAX
    assert r("ZRANK", "z", "a", "WITHSCORE", "x") == err("ERR wrong number of arguments for 'zrank' command")


def test_zrange_forms(r):
    r("ZADD", "z", 1, "a", 1, "b", 2, "c", 3, "d", 3, "e")
    assert r("ZRANGE", "z", 0, 1) == [b"a", b"b"]
    assert r("ZRANGE", "z", 0, 1, "REV") == [b"e", b"d"]
    assert r("ZREVRANGE", "z", -2, -1) == [b"b", b"a"]
    assert r("ZRANGE", "z", "(1", 3, "BYSCORE") == [b"c", b"d", b"e"]
    assert r("ZRANGE", "z", 3, "(1", "BYSCORE", "REV", "LIMIT", 1, 1) == [b"d"]
    assert r("ZRANGEBYSCORE", "z", 1, 2, "WITHSCORES") == [b"a", b"1", b"b", b"1", b"c", b"2"]
    assert r("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 0, 2) == [b"e", b"d"]
    assert r("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", 2, -1) == [b"c", b"d", b"e"]
    assert r("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", -1, 2) == []
    assert r("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", 5, 2) == []
    assert r("ZRANGE", "z", 0, 1, "LIMIT", 0, 1) == err(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    assert r("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == err(
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    assert r("ZRANGEBYSCORE", "z", 0, 1, "BYLEX") == SYNTAX
    assert r("ZREVRANGE", "z", 0, 1, "REV") == SYNTAX
    assert r("ZRANGE", "nokey", 0, -1) == []


def test_lex(r):
    r("ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "aa", 0, "d")
    assert r("ZRANGEBYLEX", "z", "-", "+") == [b"a", b"aa", b"b", b"c", b"d"]
    assert r("ZRANGEBYLEX", "z", "[aa", "(c") == [b"aa", b"b"]
    assert r("ZREVRANGEBYLEX", "z", "[c", "(a") == [b"c", b"b", b"aa"]
    assert r("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", 1, 2) == [b"aa", b"b"]
    assert r("ZLEXCOUNT", "z", "(a", "+") == 4
    assert r("ZLEXCOUNT", "z", "+", "-") == 0
    assert r("ZLEXCOUNT", "z", "a", "+") == err("ERR min or max not valid string range item")
    assert r("ZREMRANGEBYLEX", "z", "[b", "[c") == 2
    assert r("ZRANGE", "z", 0, -1) == [b"a", b"aa", b"d"]


def test_zrangestore(r, engine):
    r("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert r("ZRANGESTORE", "d", "z", 0, 1) == 2
    assert r("ZRANGE", "d", 0, -1, "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert enc(engine, "d") == b"listpack"
    assert r("ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "LIMIT", 0, 1) == 1
    assert r("ZRANGE", "d", 0, -1) == [b"b"]
    assert r("ZRANGESTORE", "d", "z", 5, 9) == 0 and r("EXISTS", "d") == 0
    assert r("ZRANGESTORE", "d", "z", 0, -1, "WITHSCORES") == SYNTAX


def test_removals(r):
    r("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e")
    assert r("ZREM", "z", "a", "x") == 1
    assert r("ZREMRANGEBYRANK", "z", -1, -1) == 1
    assert r("ZREMRANGEBYSCORE", "z", "(2", 3) == 1
    assert r("ZRANGE", "z", 0, -1) == [b"b", b"d"]
    assert r("ZREMRANGEBYRANK", "z", 5, 9) == 0
    assert r("ZREMRANGEBYRANK", "z", 0, -1) == 2
    assert r("EXISTS", "z") == 0
    assert r("ZREM", "z", "a") == 0
    assert r("ZREMRANGEBYSCORE", "z", "x", 1) == err("ERR min or max is not a float")


def test_pops(r):
    r("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d")
    assert r("ZPOPMIN", "z") == [b"a", b"1"]
    assert r("ZPOPMAX", "z", 2) == [b"d", b"4", b"c", b"3"]
    assert r("ZPOPMAX", "z", 0) == []
    assert r("ZPOPMIN", "z", 5) == [b"b", b"2"]
    assert r("EXISTS", "z") == 0
    assert r("ZPOPMIN", "z") == []
    assert r("ZPOPMIN", "z", -1) == err("ERR value is out of range, must be positive")
    assert r("ZPOPMIN", "z", 1, 2) == SYNTAX
    r("ZADD", "y", 1, "q", 2, "w")
    assert r("ZMPOP", 2, "nokey", "y", "MAX") == [b"y", [[b"w", b"2"]]]
    assert r("ZMPOP", 1, "y", "MIN", "COUNT", 10) == [b"y", [[b"q", b"1"]]]
    assert r("ZMPOP", 1, "y", "MIN") is NULL_ARRAY
    assert r("ZMPOP", 1, "y", "MIDDLE") == SYNTAX


def test_zrandmember(r):
    pairs = {f"m{i}".encode(): str(i).encode() for i in range(10)}
    r("ZADD", "z", *[x for m, s in pairs.items() for x in (s, m)])
    assert r("ZRANDMEMBER", "z") in pairs
    got = r("ZRANDMEMBER", "z", 5)
    assert len(set(got)) == 5 and set(got) <= set(pairs)
    got = r("ZRANDMEMBER", "z", -20, "WITHSCORES")
    assert len(got) == 40 and all(pairs[m] == s for m, s in zip(got[::2], got[1::2], strict=True))
    assert sorted(r("ZRANDMEMBER", "z", 50)) == sorted(pairs)
    assert r("ZRANDMEMBER", "nokey") is None
    assert r("ZRANDMEMBER", "nokey", 3) == []
    assert r("ZRANDMEMBER", "z", 3, "WITHSCORE") == SYNTAX
    assert r("ZRANDMEMBER", "z", -(2**62), "WITHSCORES") == err("ERR value is out of range")


def test_union_inter_diff(r):
    r("ZADD", "a", 1, "x", 2, "y", 3, "z")
    r("ZADD", "b", 10, "y", 20, "z", 30, "w")
    r("SADD", "s", "x", "w")
    assert r("ZUNION", 2, "a", "b", "WITHSCORES") == [b"x", b"1", b"y", b"12", b"z", b"23", b"w", b"30"]
    assert r("ZINTER", 2, "a", "b", "AGGREGATE", "MAX", "WITHSCORES") == [b"y", b"10", b"z", b"20"]
    assert r("ZINTER", 2, "a", "b", "WEIGHTS", 2, "0.5", "WITHSCORES") == [b"y", b"9", b"z", b"16"]
    assert r("ZUNION", 2, "a", "s", "AGGREGATE", "MIN", "WITHSCORES") == [b"w", b"1", b"x", b"1", b"y", b"2", b"z", b"3"]
    assert r("ZDIFF", 2, "a", "b", "WITHSCORES") == [b"x", b"1"]
    assert r("ZDIFF", 2, "a", "s") == [b"y", b"z"]
    assert r("ZINTERCARD", 2, "a", "b") == 2
    assert r("ZINTERCARD", 2, "a", "b", "LIMIT", 1) == 1
    assert r("ZUNIONSTORE", "d", 2, "a", "b") == 4
    assert r("ZINTERSTORE", "d", 2, "a", "nokey") == 0 and r("EXISTS", "d") == 0
    assert r("ZDIFFSTORE", "d", 2, "b", "a") == 1
    assert r("ZRANGE", "d", 0, -1, "WITHSCORES") == [b"w", b"30"]
    assert r("ZUNION", 0, "a") == err("ERR at least 1 input key is needed for 'zunion' command")
    assert r("ZUNIONSTORE", "d", 3, "a") == SYNTAX
    assert r("ZUNION", 2, "a", "b", "WEIGHTS", 1, "x") == err("ERR weight value is not a float")
    assert r("ZUNION", 2, "a", "b", "AGGREGATE", "AVG") == SYNTAX
    assert r("ZDIFF", 2, "a", "b", "WEIGHTS", 1, 1) == SYNTAX
    assert r("ZINTERCARD", 1, "a", "WITHSCORES") == SYNTAX
    r("ZADD", "c", "inf", "x")
    r("ZADD", "m", "-inf", "x")
    assert r("ZUNION", 2, "c", "m", "WITHSCORES") == [b"x", b"0"]  # inf + -inf -> 0
    assert r("ZUNION", 1, "c", "WEIGHTS", 0, "WITHSCORES") == [b"x", b"0"]  # inf * 0 -> 0


def test_zscan(r):
    r("ZADD", "z", "0.1", "a", 2, "b")
    assert r("ZSCAN", "z", 0) == [b"0", [b"a", b"0.1", b"b", b"2"]]
    assert r("ZSCAN", "z", 0, "MATCH", "b") == [b"0", [b"b", b"2"]]
    r("ZADD", "k", "0.1", "a", 1, "x" * 70)
    _, items = r("ZSCAN", "k", 0, "COUNT", 100)
    assert dict(zip(items[::2], items[1::2], strict=True))[b"a"] == b"0.10000000000000001"
    r("ZADD", "big", *[x for i in range(300) for x in (str(i), f"m{i}")])
    seen, cursor = {}, b"0"
    while True:
        cursor, items = r("ZSCAN", "big", cursor)
        seen.update(zip(items[::2], items[1::2], strict=True))
        if cursor == b"0":
            break
    assert seen == {f"m{i}".encode(): str(i).encode() for i in range(300)}


def test_encodings(r, engine):
    r("ZADD", "small", 1, "a")
    r("ZADD", "long", 1, "x" * 65)
    r("ZADD", "many", *[x for i in range(129) for x in (str(i), f"m{i}")])
    assert [enc(engine, k) for k in ("small", "long", "many")] == [b"listpack", b"skiplist", b"skiplist"]
    r("ZADD", "neg", "-0", "m", 1, "y" * 70)
    assert r("ZSCORE", "neg", "m") == b"0"  # the listpack stored -0 as 0 before converting
    r("ZADD", "neg2", 1, "y" * 70, "-0", "m")
    assert r("ZSCORE", "neg2", "m") == b"-0"
    r("ZUNIONSTORE", "u", 1, "small")
    assert enc(engine, "u") == b"listpack"
    engine.config["zset-max-listpack-entries"] = 0
    r("ZADD", "z0", 1, "a")
    assert enc(engine, "z0") == b"skiplist"


def test_wrongtype(r):
    r("SET", "str", "v")
    for cmd in [("ZADD", "str", 1, "a"), ("ZSCORE", "str", "a"), ("ZCARD", "str"),
                ("ZRANGE", "str", 0, 1), ("ZRANK", "str", "a"), ("ZREM", "str", "a"),
                ("ZPOPMIN", "str"), ("ZRANDMEMBER", "str"), ("ZUNION", 1, "str"), ("ZSCAN", "str", 0),
                ("BZPOPMIN", "str", 0)]:
        assert r(*cmd) == WRONGTYPE, cmd


def test_value_class(engine):
    lim = Limits(engine)
    z = ZSetValue.create(1, 0, lim)
    z.insert(b"a", 1.0, lim)
    z.insert(b"b", 1.0, lim)
    assert z.rank(b"b") == 1 and z.score(b"a") == 1.0
    c = z.copy()
    c.update(b"a", 5.0)
    assert z.score(b"a") == 1.0 and c.rank(b"a") == 1
    assert z.mem_usage() > 0 and z.encoding() == b"listpack"


def test_aggregate_count_redis88(r):
    """AGGREGATE COUNT (Redis 8.8, from the command docs): scores ignored, each input
    holding the member adds its weight (1 without WEIGHTS)."""
    r("ZADD", "z1", "10", "a", "20", "b")
    r("ZADD", "z2", "5", "a", "7", "c")
    r("SADD", "s3", "a", "b")
    assert r("ZUNION", "3", "z1", "z2", "s3", "AGGREGATE", "COUNT", "WITHSCORES") == [
        b"c", b"1", b"b", b"2", b"a", b"3"]
    assert r("ZUNION", "3", "z1", "z2", "s3", "WEIGHTS", "1", "10", "100",
             "AGGREGATE", "count", "WITHSCORES") == [
        b"c", b"10", b"b", b"101", b"a", b"111"]
    assert r("ZINTERSTORE", "out", "2", "z1", "s3", "AGGREGATE", "COUNT") == 2
    assert r("ZRANGE", "out", "0", "-1", "WITHSCORES") == [b"a", b"2", b"b", b"2"]
    assert r("ZINTER", "2", "z1", "z2", "WEIGHTS", "2", "3", "AGGREGATE", "COUNT",
             "WITHSCORES") == [b"a", b"5"]
    assert r("ZUNIONSTORE", "u", "2", "z1", "z2", "AGGREGATE", "COUNT") == 3
    assert r("ZSCORE", "u", "a") == b"2"
    assert r("ZUNION", "1", "z1", "AGGREGATE", "AVG") == b"ERR syntax error"
