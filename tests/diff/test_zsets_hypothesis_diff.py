"""Randomized differential tests (hypothesis): sequences of sorted-set commands
with generated scores (inf, -0, decimals, arbitrary doubles) on Redis 8.2 and
on the engine, replies compared step by step in RESP2 and RESP3."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.diff.diffutil import engine_encoding
from tests.support.diff import EngineConn, RedisConn, compare

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]

MEMBERS = st.sampled_from(["a", "b", "c", "aa", "ab", "ba", "", "z", "m1", "m2", "x" * 70])
SCORE_TEXT = st.one_of(
    st.sampled_from(["inf", "-inf", "+inf", "0", "-0", "1", "-1", "1.5", "0.1", "1e21", "2.5e-7",
                     "100", "3", "3.0", "1e300", "-1e300"]),
    st.integers(-1000, 1000).map(str),
    st.floats(allow_nan=False, allow_infinity=True).map(repr),
)
BOUND = st.one_of(SCORE_TEXT, SCORE_TEXT.map(lambda s: "(" + s), st.sampled_from(["-inf", "+inf", "(-inf", "(inf"]))
LEXB = st.one_of(st.sampled_from(["-", "+"]), MEMBERS.map(lambda m: "[" + m), MEMBERS.map(lambda m: "(" + m))
IDX = st.integers(-8, 8).map(str)
KEY = st.sampled_from(["z", "y"])
ZADD_FLAGS = st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH", "INCR"]), max_size=2, unique=True)


@st.composite
def zadd(draw):
    flags = draw(ZADD_FLAGS)
    n = 1 if "INCR" in flags else draw(st.integers(1, 4))
    pairs = []
    for _ in range(n):
        pairs += [draw(SCORE_TEXT), draw(MEMBERS)]
    return ("ZADD", draw(KEY), *flags, *pairs)


@st.composite
def zrange(draw):
    kind = draw(st.sampled_from(["rank", "score", "lex"]))
    rev = draw(st.booleans())
    opts = ["REV"] if rev else []
    if kind == "rank":
        cmd = ["ZRANGE", draw(KEY), draw(IDX), draw(IDX), *opts]
        if draw(st.booleans()):
            cmd.append("WITHSCORES")
        return tuple(cmd)
    if kind == "score":
        cmd = ["ZRANGE", draw(KEY), draw(BOUND), draw(BOUND), "BYSCORE", *opts]
        if draw(st.booleans()):
            cmd.append("WITHSCORES")
    else:
        cmd = ["ZRANGE", "lex", draw(LEXB), draw(LEXB), "BYLEX", *opts]
    if draw(st.booleans()):
        cmd += ["LIMIT", draw(st.integers(-1, 4)).__str__(), draw(st.integers(-1, 4)).__str__()]
    return tuple(cmd)


COMMAND = st.one_of(
    zadd(),
    zadd(),
    st.tuples(st.just("ZINCRBY"), KEY, SCORE_TEXT, MEMBERS),
    st.tuples(st.just("ZREM"), KEY, MEMBERS, MEMBERS),
    zrange(),
    zrange(),
    st.tuples(st.just("ZRANGEBYSCORE"), KEY, BOUND, BOUND, st.just("WITHSCORES")),
    st.tuples(st.just("ZREVRANGEBYSCORE"), KEY, BOUND, BOUND),
    st.tuples(st.just("ZREVRANGE"), KEY, IDX, IDX, st.just("WITHSCORES")),
    st.tuples(st.just("ZRANGEBYLEX"), st.just("lex"), LEXB, LEXB),
    st.tuples(st.just("ZREVRANGEBYLEX"), st.just("lex"), LEXB, LEXB),
    st.tuples(st.just("ZADD"), st.just("lex"), st.just("0"), MEMBERS),
    st.tuples(st.just("ZLEXCOUNT"), st.just("lex"), LEXB, LEXB),
    st.tuples(st.just("ZREMRANGEBYLEX"), st.just("lex"), LEXB, LEXB),
    st.tuples(st.just("ZCOUNT"), KEY, BOUND, BOUND),
    st.tuples(st.sampled_from(["ZRANK", "ZREVRANK"]), KEY, MEMBERS),
    st.tuples(st.sampled_from(["ZRANK", "ZREVRANK"]), KEY, MEMBERS, st.just("WITHSCORE")),
    st.tuples(st.just("ZSCORE"), KEY, MEMBERS),
    st.tuples(st.just("ZMSCORE"), KEY, MEMBERS, MEMBERS),
    st.tuples(st.just("ZCARD"), KEY),
    st.tuples(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), KEY),
    st.tuples(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), KEY, st.integers(0, 3).map(str)),
    st.tuples(st.just("ZREMRANGEBYRANK"), KEY, IDX, IDX),
    st.tuples(st.just("ZREMRANGEBYSCORE"), KEY, BOUND, BOUND),
    st.tuples(st.just("ZUNIONSTORE"), st.just("u"), st.just("2"), st.just("z"), st.just("y"),
              st.just("WEIGHTS"), SCORE_TEXT, SCORE_TEXT),
    st.tuples(st.just("ZINTER"), st.just("2"), st.just("z"), st.just("y"), st.just("AGGREGATE"),
              st.sampled_from(["SUM", "MIN", "MAX"]), st.just("WITHSCORES")),
    st.tuples(st.just("ZUNION"), st.just("2"), st.just("z"), st.just("y"), st.just("WITHSCORES")),
    st.tuples(st.just("ZDIFF"), st.just("2"), st.just("z"), st.just("y"), st.just("WITHSCORES")),
    st.tuples(st.just("ZMPOP"), st.just("2"), KEY, st.just("u"), st.sampled_from(["MIN", "MAX"]),
              st.just("COUNT"), st.integers(1, 3).map(str)),
    st.tuples(st.just("ZRANGESTORE"), st.just("u"), KEY, IDX, IDX),
)


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(script=st.lists(COMMAND, min_size=1, max_size=40))
def test_random_sorted_set_scripts(redis_server, proto, script):
    r = RedisConn(redis_server.port, protocol=proto)
    try:
        r.call("FLUSHALL")
        e = EngineConn(protocol=proto)
        compare(r, e, script)
        for key in ("z", "y", "u", "lex"):
            assert r.call("OBJECT", "ENCODING", key) == engine_encoding(e, key), key
    finally:
        r.close()
