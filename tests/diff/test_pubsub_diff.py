"""Pub/Sub against a real Redis 8.2, byte for byte, several connections at once."""

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
def test_subscribe_publish_shapes(session_factory, proto):
    s = session_factory(proto, proto, 2)
    s.run([
        (0, "SUBSCRIBE", "ch1", "ch2", "ch1"),
        (1, "PSUBSCRIBE", "ch*"),
        (1, "SSUBSCRIBE", "ch1", "s2"),
        (2, "PUBLISH", "ch1", "hello"),
        (2, "PUBLISH", "ch2", "x"),
        (2, "PUBLISH", "nobody", "x"),
        (2, "SPUBLISH", "ch1", "sharded"),
        (2, "SPUBLISH", "s2", "sharded2"),
        (2, "PUBSUB", "NUMSUB", "ch1", "ch2", "zz"),
        (2, "PUBSUB", "SHARDNUMSUB", "ch1", "zz"),
        (2, "PUBSUB", "NUMPAT"),
        (2, "PUBSUB", "CHANNELS", "*2"),
        (2, "PUBSUB", "SHARDCHANNELS", "s*"),
        (0, "UNSUBSCRIBE", "ch1"),
        (0, "UNSUBSCRIBE", "zz"),
        (2, "PUBLISH", "ch1", "after"),
        (1, "PUNSUBSCRIBE", "ch*"),
        (1, "PUNSUBSCRIBE"),
        (1, "SUNSUBSCRIBE", "s2"),
        (1, "SUNSUBSCRIBE"),
        (1, "SUNSUBSCRIBE"),
        (1, "UNSUBSCRIBE"),
        (0, "UNSUBSCRIBE"),
        (0, "UNSUBSCRIBE"),
        (0, "PUNSUBSCRIBE"),
        (2, "PUBSUB", "NUMSUB", "ch1", "ch2"),
        (2, "PUBSUB", "NUMPAT"),
    ])


def test_counts_mix_channels_and_patterns(session_factory):
    s = session_factory(2, 2)
    s.run([
        (0, "SUBSCRIBE", "a", "b"),
        (0, "PSUBSCRIBE", "p1"),
        (0, "SSUBSCRIBE", "s1"),
        (0, "PUNSUBSCRIBE", "zz"),
        (0, "SUNSUBSCRIBE", "zz"),
        (0, "SUNSUBSCRIBE", "s1"),
        (0, "PUNSUBSCRIBE", "p1"),
        (0, "UNSUBSCRIBE", "a", "b"),
        (0, "UNSUBSCRIBE", "q"),
        (0, "PUNSUBSCRIBE", "q"),
        (0, "SUNSUBSCRIBE", "q"),
    ])


def test_resp2_subscribed_mode_errors(session_factory):
    s = session_factory(2, 2)
    s.run([
        (0, "SUBSCRIBE", "ch"),
        (0, "GET", "x"),
        (0, "SET", "x", "1"),
        (0, "PUBSUB", "CHANNELS"),
        (0, "PUBLISH", "ch", "m"),
        (0, "SPUBLISH", "ch", "m"),
        (0, "MULTI"),
        (0, "EXEC"),
        (0, "EVAL", "return 1", "0"),
        (0, "PING", "hello"),
        (0, "NOSUCHCMD"),
        (0, "SUBSCRIBE"),
        (0, "PSUBSCRIBE", "x*"),
        (1, "PUBLISH", "xyz", "pm"),
        (0, "UNSUBSCRIBE"),
        (0, "PING"),
        (0, "GET", "x"),
        (0, "PUNSUBSCRIBE"),
        (0, "GET", "x"),
    ])


def test_resp3_subscriber_runs_anything_and_gets_its_own_message_after_the_reply(session_factory):
    s = session_factory(3, 3)
    s.run([
        (0, "SUBSCRIBE", "ch"),
        (0, "SET", "x", "1"),
        (0, "GET", "x"),
        (0, "PUBSUB", "NUMSUB", "ch"),
        (0, "PUBLISH", "ch", "to myself"),
        (1, "PUBLISH", "ch", "from other"),
        (0, "MULTI"),
        (0, "PUBLISH", "ch", "in multi"),
        (0, "EXEC"),
        (0, "EVAL", "return redis.call('publish', 'ch', 'from script')", "0"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_subscribe_inside_multi(session_factory, proto):
    s = session_factory(proto, 2)
    s.run([
        (0, "MULTI"),
        (0, "SUBSCRIBE", "c"),
        (0, "EXEC"),
        (1, "PUBLISH", "c", "m"),
        (0, "UNSUBSCRIBE", "c"),
    ])


def test_pattern_matching(session_factory):
    s = session_factory(2, 2, 2)
    s.run([
        (0, "PSUBSCRIBE", "h[ae]llo"),
        (1, "PSUBSCRIBE", "x\\*y"),
        (2, "PUBLISH", "hallo", "1"),
        (2, "PUBLISH", "hillo", "2"),
        (2, "PUBLISH", "x*y", "3"),
        (2, "PUBLISH", "xay", "4"),
        (0, "PSUBSCRIBE", "*"),
        (2, "PUBLISH", "hello", "5"),
    ], unordered=True)


def test_several_subscribers_counted(session_factory):
    s = session_factory(2, 3, 2, 2)
    s.run([
        (0, "SUBSCRIBE", "c"),
        (1, "SUBSCRIBE", "c"),
        (1, "PSUBSCRIBE", "c*"),
        (2, "PSUBSCRIBE", "?"),
        (3, "PUBLISH", "c", "m"),
        (3, "PUBSUB", "NUMSUB", "c"),
        (3, "PUBSUB", "NUMPAT"),
    ])


def test_pubsub_errors(session_factory):
    s = session_factory(2)
    s.run([
        (0, "PUBSUB"),
        (0, "PUBSUB", "FOO"),
        (0, "PUBSUB", "NUMPAT", "x"),
        (0, "PUBSUB", "HELP"),
        (0, "PUBSUB", "help", "x"),
        (0, "PUBSUB", "CHANNELS", "a", "b"),
        (0, "PUBLISH", "c"),
        (0, "SPUBLISH", "c"),
        (0, "UNSUBSCRIBE"),
    ])
