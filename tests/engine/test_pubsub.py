"""Pub/Sub on the engine: deliveries to ``client.pushed``, confirmations, subscribed mode."""

from __future__ import annotations

import pytest
from tests.engine.standins import Conn, engine_with_standins

from streamlite.engine.pubsub import publish, unsubscribe_all
from streamlite.engine.replies import ErrorReply, MultiReply, Push
from streamlite.protocol.resp import encode

ONLY = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)


@pytest.fixture
def eng():
    return engine_with_standins()


@pytest.fixture
def a(eng):
    return Conn(eng)


@pytest.fixture
def b(eng):
    return Conn(eng)


@pytest.fixture
def p(eng):
    return Conn(eng)


def test_subscribe_confirmations(a):
    assert a("SUBSCRIBE", "ch") == Push([b"subscribe", b"ch", 1])
    out = a("SUBSCRIBE", "x", "y", "x")
    assert type(out) is MultiReply
    assert out == [
        Push([b"subscribe", b"x", 2]),
        Push([b"subscribe", b"y", 3]),
        Push([b"subscribe", b"x", 3]),
    ]
    assert a("PSUBSCRIBE", "p*") == Push([b"psubscribe", b"p*", 4])
    # shard channels count separately
    assert a("SSUBSCRIBE", "s", "s") == MultiReply(
        [Push([b"ssubscribe", b"s", 1]), Push([b"ssubscribe", b"s", 1])]
    )
    assert a.pushes() == []  # confirmations are replies, not pushes


def test_multireply_encodes_as_consecutive_replies(a):
    out = a("SUBSCRIBE", "a", "b")
    assert encode(out, 2) == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    )
    assert encode(out, 3) == (
        b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    )


def test_publish_delivers_message_and_pmessage(a, b, p):
    a("SUBSCRIBE", "news")
    a("PSUBSCRIBE", "n*")
    b("PSUBSCRIBE", "n?ws")
    b("SSUBSCRIBE", "news")
    assert p("PUBLISH", "news", "hi") == 3
    assert a.pushes() == [
        Push([b"message", b"news", b"hi"]),
        Push([b"pmessage", b"n*", b"news", b"hi"]),
    ]
    assert b.pushes() == [Push([b"pmessage", b"n?ws", b"news", b"hi"])]
    assert p("PUBLISH", "other", "x") == 0
    assert a.pushes() == b.pushes() == []


def test_spublish_reaches_only_shard_subscribers(a, b, p):
    a("SSUBSCRIBE", "s")
    b("SUBSCRIBE", "s")
    b("PSUBSCRIBE", "*")
    assert p("SPUBLISH", "s", "m") == 1
    assert a.pushes() == [Push([b"smessage", b"s", b"m"])]
    assert b.pushes() == []
    assert p("PUBLISH", "s", "m2") == 2
    assert a.pushes() == []


def test_client_matching_several_patterns_counts_each(a, p):
    a("PSUBSCRIBE", "a*", "*b", "zz")
    assert p("PUBLISH", "ab", "m") == 2
    assert sorted(m[1] for m in a.pushes()) == [b"*b", b"a*"]


def test_glob_patterns(a, p):
    a("PSUBSCRIBE", "h[ae]llo", "x\\*y", "q?")
    for ch in (b"hallo", b"hello", b"hillo", b"x*y", b"xay", b"qa", b"q"):
        p("PUBLISH", ch, "m")
    got = [(m[1], m[2]) for m in a.pushes()]
    assert got == [
        (b"h[ae]llo", b"hallo"),
        (b"h[ae]llo", b"hello"),
        (b"x\\*y", b"x*y"),
        (b"q?", b"qa"),
    ]


def test_unsubscribe(a):
    a("SUBSCRIBE", "a", "b")
    a("PSUBSCRIBE", "p")
    a("SSUBSCRIBE", "s")
    assert a("UNSUBSCRIBE", "zz") == Push([b"unsubscribe", b"zz", 3])
    assert a("UNSUBSCRIBE", "a") == Push([b"unsubscribe", b"a", 2])
    assert a("UNSUBSCRIBE") == Push([b"unsubscribe", b"b", 1])
    assert a("UNSUBSCRIBE") == Push([b"unsubscribe", None, 1])
    assert a("PUNSUBSCRIBE") == Push([b"punsubscribe", b"p", 0])
    assert a("PUNSUBSCRIBE") == Push([b"punsubscribe", None, 0])
    assert a.client.in_pubsub  # still on a shard channel
    assert a("SUNSUBSCRIBE", "zz") == Push([b"sunsubscribe", b"zz", 1])
    assert a("SUNSUBSCRIBE") == Push([b"sunsubscribe", b"s", 0])
    assert a("SUNSUBSCRIBE") == Push([b"sunsubscribe", None, 0])
    assert not a.client.in_pubsub
    assert encode(a("UNSUBSCRIBE"), 2) == b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    assert encode(a("UNSUBSCRIBE"), 3) == b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"
    e = a.engine
    assert e.channels == {} and e.patterns == {} and e.shard_channels == {}


def test_unsubscribe_all_channels_at_once(a):
    a("SUBSCRIBE", "a", "b", "c")
    out = a("UNSUBSCRIBE")
    assert sorted(m[1] for m in out) == [b"a", b"b", b"c"]
    assert [m[2] for m in out] == [2, 1, 0]


def test_resp2_subscribed_mode(a):
    a("SUBSCRIBE", "ch")
    assert a("GET", "x") == ErrorReply(ONLY.format("get").encode())
    assert a("PUBSUB", "CHANNELS") == ErrorReply(ONLY.format("pubsub|channels").encode())
    assert a("PING") == Push([b"pong", b""])
    assert a("PING", "hi") == Push([b"pong", b"hi"])
    assert a("PSUBSCRIBE", "x") == Push([b"psubscribe", b"x", 2])
    # an unknown command is still an unknown command, wrong arity still that
    assert a("NOPE").startswith(b"ERR unknown command 'NOPE'")
    assert a("SUBSCRIBE") == ErrorReply(b"ERR wrong number of arguments for 'subscribe' command")
    a("UNSUBSCRIBE")
    a("PUNSUBSCRIBE")
    assert a("GET", "x") is None
    assert a("PING") == b"PONG"


def test_resp3_allows_everything_while_subscribed(eng):
    a = Conn(eng, protocol=3)
    a("SUBSCRIBE", "ch")
    assert a("SET", "k", "v") == b"OK"
    assert a("PING") == b"PONG"
    assert a("PUBLISH", "ch", "self") == 1
    assert a.pushes() == [Push([b"message", b"ch", b"self"])]
    assert encode(Push([b"message", b"ch", b"m"]), 3) == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"


def test_pubsub_introspection(a, b, p):
    a("SUBSCRIBE", "c1", "c2")
    b("SUBSCRIBE", "c1")
    a("PSUBSCRIBE", "x*", "y*")
    b("PSUBSCRIBE", "x*")
    a("SSUBSCRIBE", "s1")
    assert sorted(p("PUBSUB", "CHANNELS")) == [b"c1", b"c2"]
    assert p("PUBSUB", "CHANNELS", "*2") == [b"c2"]
    assert p("PUBSUB", "NUMSUB", "c1", "c2", "zz") == [b"c1", 2, b"c2", 1, b"zz", 0]
    assert p("PUBSUB", "NUMSUB") == []
    assert p("PUBSUB", "NUMPAT") == 2
    assert p("PUBSUB", "SHARDCHANNELS") == [b"s1"]
    assert p("PUBSUB", "SHARDCHANNELS", "x*") == []
    assert p("PUBSUB", "SHARDNUMSUB", "s1", "zz") == [b"s1", 1, b"zz", 0]
    assert p("PUBSUB", "HELP")[0] == b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert p("PUBSUB", "help", "x") == ErrorReply(
        b"ERR wrong number of arguments for 'pubsub|help' command"
    )
    assert p("PUBSUB") == ErrorReply(b"ERR wrong number of arguments for 'pubsub' command")
    assert p("PUBSUB", "foo") == ErrorReply(b"ERR unknown subcommand 'foo'. Try PUBSUB HELP.")


def test_drop_client_and_reset_helpers(a, b, p, eng):
    a("SUBSCRIBE", "c")
    a("PSUBSCRIBE", "*")
    a("SSUBSCRIBE", "s")
    b("SUBSCRIBE", "c")
    eng.drop_client(a.client)
    assert p("PUBLISH", "c", "m") == 1
    assert a.pushes() == []
    assert not a.client.in_pubsub
    b("PSUBSCRIBE", "p")
    out = unsubscribe_all(b.client, notify=True)
    assert out == [Push([b"unsubscribe", b"c", 1]), Push([b"punsubscribe", b"p", 0])]
    assert eng.channels == {} and eng.patterns == {}


def test_publish_function_for_other_modules(a, eng):
    a("SUBSCRIBE", "__keyspace@0__:k")
    assert publish(eng, b"__keyspace@0__:k", b"set") == 1
    assert a.pushes() == [Push([b"message", b"__keyspace@0__:k", b"set"])]


def test_subscribers_in_subscription_order(eng, p):
    conns = [Conn(eng) for _ in range(5)]
    for c in reversed(conns):
        c("SUBSCRIBE", "ch")
    order = []
    for i, c in enumerate(conns):
        c.client.push = lambda m, i=i: order.append(i)
    p("PUBLISH", "ch", "m")
    assert order == [4, 3, 2, 1, 0]


def test_publish_inside_multi_and_script(a, p):
    a("SUBSCRIBE", "ch")
    p("MULTI")
    p("PUBLISH", "ch", "1")
    p("PUBLISH", "ch", "2")
    assert p("EXEC") == [1, 1]
    assert p("EVAL", "return redis.call('publish', KEYS[1], ARGV[1])", "1", "ch", "3") == 1
    assert [m[2] for m in a.pushes()] == [b"1", b"2", b"3"]
