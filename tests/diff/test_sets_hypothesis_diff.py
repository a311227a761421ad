"""Randomized differential tests (hypothesis): sequences of set commands on Redis
8.2 and on the engine. Replies that are sets compare as sets when Redis's order is
its hash order (hashtable-encoded sets, SUNION/SDIFF); encodings compare exactly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.diff.diffutil import engine_encoding
from tests.support.diff import EngineConn, RedisConn

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]

MEMBER = st.one_of(st.integers(-3, 20).map(str), st.sampled_from(["a", "b", "c", "x" * 70, "007", "-0"]))
KEY = st.sampled_from(["s", "t", "u"])

COMMAND = st.one_of(
    st.builds(lambda k, ms: ("SADD", k, *ms), KEY, st.lists(MEMBER, min_size=1, max_size=6)),
    st.builds(lambda k, ms: ("SREM", k, *ms), KEY, st.lists(MEMBER, min_size=1, max_size=3)),
    st.tuples(st.just("SISMEMBER"), KEY, MEMBER),
    st.builds(lambda k, ms: ("SMISMEMBER", k, *ms), KEY, st.lists(MEMBER, min_size=1, max_size=3)),
    st.tuples(st.just("SCARD"), KEY),
    st.tuples(st.just("SMEMBERS"), KEY),
    st.tuples(st.just("SMOVE"), KEY, KEY, MEMBER),
    st.builds(lambda op, ks: (op, *ks), st.sampled_from(["SINTER", "SUNION", "SDIFF"]),
              st.lists(KEY, min_size=1, max_size=3)),
    st.builds(lambda op, d, ks: (op, d, *ks), st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
              KEY, st.lists(KEY, min_size=1, max_size=3)),
    st.builds(lambda ks, lim: ("SINTERCARD", str(len(ks)), *ks, "LIMIT", str(lim)),
              st.lists(KEY, min_size=1, max_size=3), st.integers(0, 3)),
    st.tuples(st.just("SSCAN"), KEY, st.just("0")),
)

UNORDERED = {b"SUNION", b"SDIFF"}


def _ordered_by_redis(r: RedisConn, cmd: tuple[str, ...]) -> bool:
    """Is Redis's reply order deterministic (compact encodings)?"""
    name = cmd[0].upper().encode()
    if name in UNORDERED:
        return False
    if name in (b"SMEMBERS", b"SSCAN"):
        return r.call("OBJECT", "ENCODING", cmd[1]) in (b"intset", b"listpack", None)
    if name == b"SINTER":
        return all(r.call("OBJECT", "ENCODING", k) in (b"intset", b"listpack", None) for k in cmd[1:])
    return True


def _unordered(reply):
    if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list):  # SSCAN
        return [reply[0], sorted(reply[1])]
    return sorted(reply) if isinstance(reply, list) else reply


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(script=st.lists(COMMAND, min_size=1, max_size=40))
def test_random_set_scripts(redis_server, proto, script):
    r = RedisConn(redis_server.port, protocol=proto)
    try:
        r.call("FLUSHALL")
        e = EngineConn(protocol=proto)
        for i, cmd in enumerate(script):
            ordered = _ordered_by_redis(r, cmd)
            a = r.call(*cmd)
            b = e.call(*cmd)
            if not ordered:
                a, b = _unordered(a), _unordered(b)
            assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
        for key in ("s", "t", "u"):
            assert r.call("OBJECT", "ENCODING", key) == engine_encoding(e, key), key
    finally:
        r.close()
