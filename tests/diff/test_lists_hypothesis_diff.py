"""Randomized differential tests (hypothesis): sequences of list commands on
Redis 8.2 and on the engine, replies and encodings compared step by step."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.diff.diffutil import engine_encoding
from tests.support.diff import EngineConn, RedisConn, compare

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]

ELEM = st.one_of(st.sampled_from(["a", "b", "c", "1", "-5", "100", "007", ""]),
                 st.sampled_from(["x" * 1500, "y" * 3000, "9" * 19]))
KEY = st.sampled_from(["l", "m"])
IDX = st.integers(-6, 6).map(str)
SIDE = st.sampled_from(["LEFT", "RIGHT"])

LPOS_OPTS = st.lists(
    st.one_of(st.tuples(st.just("RANK"), st.sampled_from(["1", "2", "-1", "-2", "0"])),
              st.tuples(st.just("COUNT"), st.sampled_from(["0", "1", "2"])),
              st.tuples(st.just("MAXLEN"), st.sampled_from(["0", "1", "3"]))),
    max_size=3,
).map(lambda opts: tuple(x for o in opts for x in o))

COMMAND = st.one_of(
    st.tuples(st.sampled_from(["LPUSH", "RPUSH"]), KEY, ELEM, ELEM),
    st.tuples(st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), KEY, ELEM),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), KEY),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), KEY, st.integers(0, 4).map(str)),
    st.tuples(st.just("LRANGE"), KEY, IDX, IDX),
    st.tuples(st.just("LINDEX"), KEY, IDX),
    st.tuples(st.just("LSET"), KEY, IDX, ELEM),
    st.tuples(st.just("LREM"), KEY, st.integers(-2, 2).map(str), ELEM),
    st.tuples(st.just("LTRIM"), KEY, IDX, IDX),
    st.tuples(st.just("LINSERT"), KEY, st.sampled_from(["BEFORE", "AFTER"]), ELEM, ELEM),
    st.tuples(st.just("LLEN"), KEY),
    st.tuples(st.just("LMOVE"), KEY, KEY, SIDE, SIDE),
    st.tuples(st.just("RPOPLPUSH"), KEY, KEY),
    st.tuples(st.just("LMPOP"), st.just("2"), KEY, KEY, SIDE, st.just("COUNT"), st.integers(1, 3).map(str)),
    st.builds(lambda k, e, o: ("LPOS", k, e, *o), KEY, ELEM, LPOS_OPTS),
)


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much])
@given(script=st.lists(COMMAND, min_size=1, max_size=50))
def test_random_list_scripts(redis_server, proto, script):
    r = RedisConn(redis_server.port, protocol=proto)
    try:
        r.call("FLUSHALL")
        e = EngineConn(protocol=proto)
        compare(r, e, script)
        for key in ("l", "m"):
            assert r.call("OBJECT", "ENCODING", key) == engine_encoding(e, key), key
    finally:
        r.close()
