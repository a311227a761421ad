"""Blocking list and sorted-set pops against a real Redis 8.2, several clients
at once: who is served, in what order, with what reply bytes (RESP2 and RESP3)."""

from __future__ import annotations

import pytest
from tests.diff.blocking_harness import run_scenario

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]

PROTOS = [2, 3]


@pytest.mark.parametrize("proto", PROTOS)
def test_blpop_first_come_first_served(redis_server, proto):
    events = run_scenario(redis_server.port, 4, [
        (0, ("BLPOP", "q", "0")),
        (1, ("BLPOP", "q", "0")),
        (2, ("BRPOP", "other", "q", "0")),
        (3, ("RPUSH", "q", "a")),
        (3, ("RPUSH", "q", "b", "c")),
        (3, ("LLEN", "q")),
        (3, ("EXISTS", "q")),
    ], proto)
    served = [(c, r) for _, c, r in events if c != 3]
    assert [c for c, _ in served] == [0, 1, 2]


@pytest.mark.parametrize("proto", PROTOS)
def test_multiple_keys_and_push_order(redis_server, proto):
    run_scenario(redis_server.port, 3, [
        (0, ("BLPOP", "a", "b", "c", "0")),
        (1, ("BRPOP", "c", "b", "0")),
        (2, ("RPUSH", "c", "1", "2", "3")),
        (2, ("LRANGE", "c", "0", "-1")),
        (0, ("BLPOP", "a", "b", "0")),
        (2, ("LPUSH", "b", "x")),
    ], proto)


@pytest.mark.parametrize("proto", PROTOS)
def test_lmove_into_a_key_another_client_waits_on(redis_server, proto):
    run_scenario(redis_server.port, 4, [
        (0, ("BLPOP", "dst", "0")),
        (1, ("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")),
        (2, ("BRPOPLPUSH", "src2", "src", "0")),
        (3, ("RPUSH", "src2", "v1")),  # client 2 moves it to src, client 1 to dst, client 0 pops
        (3, ("LLEN", "src2")),
        (3, ("LLEN", "src")),
        (3, ("LLEN", "dst")),
        (0, ("BLPOP", "dst", "0")),
        (3, ("RPUSH", "x", "1")),
        (3, ("LMOVE", "x", "dst", "LEFT", "LEFT")),
    ], proto)


@pytest.mark.parametrize("proto", PROTOS)
def test_blmpop_and_bzpop(redis_server, proto):
    run_scenario(redis_server.port, 4, [
        (0, ("BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "2")),
        (1, ("BZPOPMIN", "z1", "z2", "0")),
        (2, ("BZMPOP", "0", "1", "z2", "MAX", "COUNT", "5")),
        (3, ("RPUSH", "l2", "a", "b", "c")),
        (3, ("ZADD", "z2", "1", "m", "2", "n", "3", "o")),
        (3, ("ZRANGE", "z2", "0", "-1")),
        (1, ("BZPOPMAX", "z1", "0")),
        (3, ("ZADD", "z1", "5", "p", "6", "q")),
        (3, ("ZRANGE", "z1", "0", "-1", "WITHSCORES")),
    ], proto)


@pytest.mark.parametrize("proto", PROTOS)
def test_wrong_type_keeps_waiting(redis_server, proto):
    run_scenario(redis_server.port, 3, [
        (0, ("BLPOP", "k", "0")),
        (1, ("BZPOPMIN", "k", "0")),
        (2, ("SET", "k", "str")),
        (2, ("DEL", "k")),
        (2, ("ZADD", "k", "1", "a")),  # the zset waiter is served, the list waiter waits
        (2, ("RPUSH", "k", "x")),
    ], proto)


@pytest.mark.parametrize("proto", PROTOS)
def test_served_into_wrongtype_destination_errors(redis_server, proto):
    run_scenario(redis_server.port, 3, [
        (0, ("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")),
        (1, ("BLPOP", "a", "b", "0")),
        (2, ("SET", "dst", "x")),
        (2, ("SET", "a", "x")),
        (2, ("RPUSH", "src", "v")),  # BLMOVE re-runs and fails on dst
        (2, ("LRANGE", "src", "0", "-1")),
        (2, ("RPUSH", "b", "v")),  # BLPOP re-runs and fails on a
        (2, ("LRANGE", "b", "0", "-1")),
    ], proto)


def test_timeout_reply_bytes(redis_server):
    """What a timed-out client receives (RESP2 ``*-1``, RESP3 ``_``)."""
    from tests.diff.raw_resp import RawConn

    from streamlite.engine import Engine, FakeClock
    from streamlite.engine.blocking import BlockingManager
    from streamlite.protocol.resp import encode

    for proto in (2, 3):
        r = RawConn(redis_server.port, proto)
        eng = Engine(FakeClock())
        mgr = BlockingManager(eng)
        c = eng.client()
        c.protocol = proto
        for cmd in (("BLPOP", "nokey", "0.01"), ("BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01"),
                    ("BRPOPLPUSH", "nokey", "d", "0.01"), ("BLMPOP", "0.01", "1", "nokey", "LEFT"),
                    ("BZPOPMIN", "nokey", "0.01"), ("BZMPOP", "0.01", "1", "nokey", "MIN")):
            expected = r.call(*cmd)  # Redis answers after its 10 ms
            b = eng.execute(c, [x.encode() for x in cmd])
            mgr.block(c, b)
            eng.clock.advance(10)
            [(who, reply)] = mgr.expire(eng.clock.ms())
            assert who is c
            assert encode(reply, proto) == expected, cmd
        r.close()
