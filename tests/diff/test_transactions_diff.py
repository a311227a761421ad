"""MULTI/EXEC/WATCH against a real Redis 8.2, byte for byte, one or two connections."""

from __future__ import annotations

import pytest
from tests.diff.resp_wire import Session
from tests.engine.standins import engine_with_standins


@pytest.fixture
def session_factory(redis_server, redis_conn):
    made: list[Session] = []

    def make(*protocols: int) -> Session:
        s = Session(redis_server.port, engine_with_standins(), list(protocols))
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_basic_transactions(session_factory, proto):
    s = session_factory(proto)
    s.run([
        (0, "MULTI"),
        (0, "SET", "a", "1"),
        (0, "INCR", "a"),
        (0, "GET", "a"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "EXEC"),
        (0, "EXEC"),
        (0, "DISCARD"),
        (0, "MULTI"),
        (0, "MULTI"),
        (0, "WATCH", "x"),
        (0, "SET", "x", "1"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "SET", "k", "v"),
        (0, "DISCARD"),
        (0, "GET", "k"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_execabort(session_factory, proto):
    s = session_factory(proto)
    s.run([
        (0, "MULTI"),
        (0, "SET", "a", "1"),
        (0, "NOSUCH", "x"),
        (0, "SET", "b", "1"),
        (0, "EXEC"),
        (0, "GET", "a"),
        (0, "MULTI"),
        (0, "GET"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "SAVE"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "PUBSUB", "FOO"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "PUBSUB", "NUMPAT", "x"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "PUBSUB"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "SCRIPT", "FOO"),
        (0, "EXEC"),
        (0, "EXEC", "x"),
        (0, "MULTI"),
        (0, "SET", "a", "1"),
        (0, "EXEC", "x"),
        (0, "GET", "a"),
        (0, "WATCH"),
        (0, "UNWATCH", "x"),
        (0, "MULTI", "x"),
        (0, "DISCARD", "x"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_runtime_errors_inside_exec(session_factory, proto):
    s = session_factory(proto)
    s.run([
        (0, "MULTI"),
        (0, "SET", "k", "v"),
        (0, "LPUSH", "k", "x"),
        (0, "INCR", "k"),
        (0, "SET", "k2", "v"),
        (0, "EVAL", "return redis.call('set','mk','1')", "0"),
        (0, "EVAL", "return 1", "x"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "GET", "k2"),
        (0, "MULTI"),
        (0, "SELECT", "3"),
        (0, "SET", "x", "1"),
        (0, "EXEC"),
        (0, "GET", "x"),
        (0, "SELECT", "0"),
        (0, "GET", "x"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_watch(session_factory, proto):
    s = session_factory(proto, 2)
    s.run([
        (0, "WATCH", "k"),
        (1, "SET", "k", "1"),
        (0, "MULTI"),
        (0, "SET", "k", "mine"),
        (0, "EXEC"),
        (0, "GET", "k"),
        # untouched
        (0, "WATCH", "k"),
        (1, "SET", "other", "1"),
        (1, "SET", "k", "z", "NX"),
        (1, "DEL", "nokey"),
        (0, "MULTI"),
        (0, "GET", "k"),
        (0, "EXEC"),
        # own write before MULTI
        (0, "WATCH", "k"),
        (0, "SET", "k", "3"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # UNWATCH clears
        (0, "WATCH", "k"),
        (1, "SET", "k", "4"),
        (0, "UNWATCH"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # still dirty after more WATCHes
        (0, "WATCH", "k"),
        (1, "SET", "k", "5"),
        (0, "WATCH", "z"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # DISCARD clears
        (0, "WATCH", "k"),
        (1, "SET", "k", "6"),
        (0, "MULTI"),
        (0, "DISCARD"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # same key name in another database
        (0, "WATCH", "k"),
        (1, "SELECT", "5"),
        (1, "SET", "k", "1"),
        (1, "SELECT", "0"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # the watch belongs to the database it was made in
        (0, "SELECT", "3"),
        (0, "WATCH", "k"),
        (0, "SELECT", "0"),
        (1, "SELECT", "3"),
        (1, "SET", "k", "1"),
        (1, "SELECT", "0"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # touched by a transaction / a script of the other client
        (0, "WATCH", "k"),
        (1, "MULTI"),
        (1, "SET", "k", "7"),
        (1, "EXEC"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "WATCH", "k"),
        (1, "EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # expire is a change
        (0, "WATCH", "k"),
        (1, "PEXPIRE", "k", "100000"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # a queueing error wins over a dirty watch
        (0, "WATCH", "k"),
        (1, "SET", "k", "8"),
        (0, "MULTI"),
        (0, "NOSUCH"),
        (0, "EXEC"),
    ])


def test_watch_and_flush(session_factory):
    s = session_factory(2, 2)
    s.run([
        (0, "WATCH", "nokey"),
        (1, "FLUSHALL"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "SET", "k", "1"),
        (0, "WATCH", "k"),
        (1, "FLUSHALL"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "SET", "k", "1"),
        (0, "WATCH", "k"),
        (1, "FLUSHDB"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "SET", "k", "1"),
        (0, "WATCH", "k"),
        (1, "SELECT", "1"),
        (1, "FLUSHDB"),
        (1, "SELECT", "0"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
    ])


def test_subscribed_mode_and_multi(session_factory):
    s = session_factory(2)
    s.run([
        (0, "MULTI"),
        (0, "SUBSCRIBE", "a"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "EXEC"),
        (0, "UNSUBSCRIBE"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
    ])


def test_watch_and_expiry(session_factory):
    # the sleeps only make sure a 5 ms TTL has passed; the engine's fake clock moves as much
    s = session_factory(2, 2)
    s.run([
        # a watched key that expires before EXEC aborts it (Redis 7+)
        (0, "SET", "k", "1", "PX", "5"),
        (0, "WATCH", "k"),
        ("sleep", 30),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # a key already expired at WATCH time: its deletion is no change...
        (0, "SET", "k", "1", "PX", "5"),
        ("sleep", 30),
        (0, "WATCH", "k"),
        (1, "GET", "k"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # ...but writing it is
        (0, "SET", "k", "1", "PX", "5"),
        ("sleep", 30),
        (0, "WATCH", "k"),
        (1, "SET", "k", "2"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # and an expired watched key FLUSHALL removes is no change either
        (0, "SET", "k", "1", "PX", "5"),
        ("sleep", 30),
        (0, "WATCH", "k"),
        (1, "FLUSHALL"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
    ])


def test_watch_and_swapdb(session_factory):
    s = session_factory(2, 2)
    s.run([
        # the watched key exists in the database swapped in: a change
        (1, "SELECT", "1"),
        (1, "SET", "k", "in db1"),
        (1, "SELECT", "0"),
        (0, "WATCH", "k"),
        (1, "SWAPDB", "0", "1"),
        (0, "MULTI"),
        (0, "GET", "k"),
        (0, "EXEC"),
        # in neither database: no change
        (0, "FLUSHALL"),
        (0, "WATCH", "k"),
        (1, "SWAPDB", "0", "1"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        # it exists in the watched database and goes away
        (0, "SET", "k", "v"),
        (0, "WATCH", "k"),
        (1, "SWAPDB", "0", "2"),
        (0, "MULTI"),
        (0, "GET", "k"),
        (0, "EXEC"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_commands_inside_exec_answer_as_timed_out(session_factory, proto):
    s = session_factory(proto)
    s.run([
        (0, "MULTI"),
        (0, "BLPOP", "nolist", "0"),
        (0, "BRPOP", "nolist", "1"),
        (0, "BLMOVE", "nolist", "dst", "LEFT", "RIGHT", "0"),
        (0, "BZPOPMIN", "nozset", "0"),
        (0, "RPUSH", "l", "a"),
        (0, "BLPOP", "l", "0"),
        (0, "EXEC"),
    ])
