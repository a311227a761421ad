"""Randomized differential test: random mixes of string, hash and keyspace commands
run on a real Redis 8.2 and on the engine must give identical replies.

Time-dependent answers stay comparable: the engine's fake clock starts at the real
time, TTLs are long (seconds, compared rounded as TTL does), absolute times are far
in the future. Values stay short so hashes keep their listpack (ordered) encoding; field TTLs
are long or already past.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.diff import EngineConn

from streamlite.engine import Engine, FakeClock

pytestmark = pytest.mark.redis

KEYS = st.sampled_from(["k1", "k2", "k3", "h1", "h2"])
FIELDS = st.sampled_from(["a", "b", "c", "d"])
VALUES = st.sampled_from(["", "0", "1", "-7", "42", "x", "abc", "3.5", "1e3", " 9", "010",
                          "9223372036854775807"])
INTS = st.sampled_from(["0", "1", "-1", "10", "x", "9223372036854775807", "-9223372036854775808"])
FLOATS = st.sampled_from(["0.1", "-2.5", "1e3", "abc", "0", "3"])
IDX = st.integers(min_value=-6, max_value=8).map(str)
SECS = st.sampled_from(["100", "200", "-1", "0", "abc", "1000"])


def _cmd() -> st.SearchStrategy[tuple[str, ...]]:
    set_opts = st.lists(st.sampled_from([("NX",), ("XX",), ("GET",), ("EX", "100"), ("KEEPTTL",),
                                         ("PX", "200000"), ("EXAT", "4102444800")]),
                        max_size=2).map(lambda xs: tuple(a for x in xs for a in x))
    return st.one_of(
        st.tuples(st.just("SET"), KEYS, VALUES).flatmap(
            lambda t: set_opts.map(lambda o: t + o)),
        st.tuples(st.sampled_from(["GET", "GETDEL", "STRLEN", "INCR", "DECR", "TYPE", "EXISTS",
                                   "DEL", "PERSIST", "TTL", "HLEN", "HKEYS", "HVALS", "HGETALL",
                                   "OBJECT ENCODING", "EXPIRETIME"]), KEYS),
        st.tuples(st.just("GETSET"), KEYS, VALUES),
        st.tuples(st.just("GETEX"), KEYS, st.sampled_from(["EX", "PX", "PERSIST"]), SECS).map(
            lambda t: t[:3] if t[2] == "PERSIST" else t),
        st.tuples(st.just("MGET"), KEYS, KEYS, KEYS),
        st.tuples(st.just("MSET"), KEYS, VALUES, KEYS, VALUES),
        st.tuples(st.just("MSETNX"), KEYS, VALUES, KEYS, VALUES),
        st.tuples(st.sampled_from(["INCRBY", "DECRBY"]), KEYS, INTS),
        st.tuples(st.just("INCRBYFLOAT"), KEYS, FLOATS),
        st.tuples(st.just("APPEND"), KEYS, VALUES),
        st.tuples(st.just("GETRANGE"), KEYS, IDX, IDX),
        st.tuples(st.just("SETRANGE"), KEYS, st.integers(0, 6).map(str), VALUES),
        st.tuples(st.just("HSET"), KEYS, FIELDS, VALUES),
        st.tuples(st.just("HSET"), KEYS, FIELDS, VALUES, FIELDS, VALUES),
        st.tuples(st.just("HSETNX"), KEYS, FIELDS, VALUES),
        st.tuples(st.sampled_from(["HGET", "HEXISTS", "HSTRLEN", "HDEL"]), KEYS, FIELDS),
        st.tuples(st.just("HMGET"), KEYS, FIELDS, FIELDS),
        st.tuples(st.just("HDEL"), KEYS, FIELDS, FIELDS),
        st.tuples(st.just("HINCRBY"), KEYS, FIELDS, INTS),
        st.tuples(st.just("HINCRBYFLOAT"), KEYS, FIELDS, FLOATS),
        st.tuples(st.sampled_from(["RENAME", "RENAMENX"]), KEYS, KEYS),
        st.tuples(st.just("COPY"), KEYS, KEYS),
        st.tuples(st.just("COPY"), KEYS, KEYS, st.just("REPLACE")),
        st.tuples(st.just("MOVE"), KEYS, st.just("1")),
        st.tuples(st.just("SWAPDB"), st.just("0"), st.just("1")),
        st.tuples(st.sampled_from(["EXPIRE", "PEXPIRE"]), KEYS, SECS),
        st.tuples(st.just("EXPIRE"), KEYS, SECS, st.sampled_from(["NX", "XX", "GT", "LT"])),
        st.tuples(st.just("EXPIREAT"), KEYS, st.sampled_from(["4102444800", "4102444900", "1"])),
        st.tuples(st.sampled_from(["HEXPIRE", "HPEXPIRE"]), KEYS, SECS,
                  st.sampled_from(["FIELDS", "NX FIELDS", "XX FIELDS", "GT FIELDS", "LT FIELDS"]),
                  FIELDS).map(lambda t: (*t[:3], *t[3].split(" "), "1", t[4])),
        st.tuples(st.sampled_from(["HTTL", "HPERSIST", "HGETDEL", "HEXPIRETIME"]), KEYS,
                  st.just("FIELDS"), st.just("2"), FIELDS, FIELDS),
        st.tuples(st.just("HGETEX"), KEYS, st.sampled_from(["EX", "PX"]), SECS, st.just("FIELDS"),
                  st.just("1"), FIELDS),
        st.tuples(st.just("HSETEX"), KEYS, st.sampled_from(["FNX", "FXX", "KEEPTTL", "EX"]),
                  st.just("FIELDS"), st.just("1"), FIELDS, VALUES).map(
            lambda t: (*t[:3], "100", *t[3:]) if t[2] == "EX" else t),
        st.tuples(st.just("DBSIZE")),
        st.tuples(st.just("KEYS"), st.sampled_from(["*", "k*", "h?"])),
    )


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(script=st.lists(_cmd(), min_size=1, max_size=40))
def test_random_mix(redis_conn, script):
    redis_conn.call("FLUSHALL")
    eng = EngineConn(Engine(FakeClock(int(time.time() * 1000))))
    for i, cmd in enumerate(script):
        argv = [a for part in cmd for a in part.split(" ")] if cmd[0] == "OBJECT ENCODING" \
            else list(cmd)
        a = redis_conn.call(*argv)
        b = eng.call(*argv)
        if argv[0] == "KEYS":
            a, b = sorted(a), sorted(b)
        assert a == b, f"step {i}: {argv!r}\n  redis:      {a!r}\n  streamlite: {b!r}\n{script!r}"
