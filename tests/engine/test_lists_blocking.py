"""Blocking pops on the engine with the BlockingManager and a fake clock: two or
more clients, serve order, LMOVE chains, timeouts, wrong types, MULTI, and what
a served pop propagates."""

from __future__ import annotations

import pytest

from streamlite.engine import Engine, FakeClock
from streamlite.engine.blocking import BlockingManager
from streamlite.engine.replies import NULL_ARRAY, Blocked, Double, ErrorReply


class World:
    """An engine, its blocking manager and named clients."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.engine = Engine(self.clock)
        self.mgr = BlockingManager(self.engine)
        self.clients: dict[str, object] = {}
        self.served: list[tuple[str, object]] = []

    def client(self, name: str):
        c = self.clients.get(name)
        if c is None:
            c = self.clients[name] = self.engine.client()
        return c

    def run(self, name: str, *argv):
        c = self.client(name)
        reply = self.engine.execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in argv])
        if type(reply) is Blocked:
            self.mgr.block(c, reply)
        names = {id(v): k for k, v in self.clients.items()}
        for cl, rep in self.mgr.serve_ready():
            self.served.append((names[id(cl)], rep))
        return reply

    def take(self) -> list[tuple[str, object]]:
        out, self.served = self.served, []
        return out

    def tick(self, ms: int) -> list[tuple[str, object]]:
        self.clock.advance(ms)
        names = {id(v): k for k, v in self.clients.items()}
        return [(names[id(c)], rep) for c, rep in self.mgr.expire(self.clock.ms())]


@pytest.fixture
def w() -> World:
    return World()


def test_served_first_come_first_served(w):
    assert type(w.run("A", "BLPOP", "q", 0)) is Blocked
    assert type(w.run("B", "BLPOP", "q", 0)) is Blocked
    assert type(w.run("C", "BRPOP", "q", 0)) is Blocked
    assert len(w.mgr) == 3
    w.run("P", "RPUSH", "q", "a")
    assert w.take() == [("A", [b"q", b"a"])]
    w.run("P", "RPUSH", "q", "b", "c")
    assert w.take() == [("B", [b"q", b"b"]), ("C", [b"q", b"c"])]
    assert w.run("P", "EXISTS", "q") == 0
    assert len(w.mgr) == 0


def test_first_non_empty_key_in_order(w):
    w.run("A", "BLPOP", "a", "b", "c", 0)
    w.run("P", "RPUSH", "c", "1")
    assert w.take() == [("A", [b"c", b"1"])]
    w.run("P", "RPUSH", "b", "x")
    w.run("P", "RPUSH", "c", "y")
    assert w.run("A", "BLPOP", "a", "b", "c", 0) == [b"b", b"x"]


def test_lmove_into_a_key_another_client_waits_on(w):
    w.run("A", "BLPOP", "dst", 0)
    w.run("P", "RPUSH", "src", "v")
    assert w.run("P", "LMOVE", "src", "dst", "LEFT", "RIGHT") == b"v"
    assert w.take() == [("A", [b"dst", b"v"])]
    assert w.run("P", "EXISTS", "dst", "src") == 0


def test_blmove_chain(w):
    w.run("A", "BLPOP", "c", 0)
    w.run("B", "BLMOVE", "b", "c", "RIGHT", "LEFT", 0)
    w.run("C", "BRPOPLPUSH", "a", "b", 0)
    w.run("P", "RPUSH", "a", "x")
    assert w.take() == [("C", b"x"), ("B", b"x"), ("A", [b"c", b"x"])]
    assert w.run("P", "EXISTS", "a", "b", "c") == 0


def test_timeouts_by_the_clock(w):
    b = w.run("A", "BLPOP", "q", "1.5")
    assert b.deadline_ms == w.clock.ms() + 1500
    w.run("B", "BZPOPMIN", "z", "0.25")
    w.run("C", "BLMOVE", "q", "d", "LEFT", "LEFT", 2)
    w.run("D", "BLPOP", "q", 0)
    assert w.tick(249) == []
    assert w.tick(1) == [("B", NULL_ARRAY)]
    assert w.tick(1249) == []
    assert w.tick(1) == [("A", NULL_ARRAY)]
    assert w.tick(500) == [("C", NULL_ARRAY)]
    assert w.tick(10**9) == []  # 0 = forever
    assert len(w.mgr) == 1
    w.run("P", "RPUSH", "q", "v")
    assert w.take() == [("D", [b"q", b"v"])]


def test_wrong_type_keeps_waiting(w):
    w.run("A", "BLPOP", "k", 0)
    w.run("B", "BZPOPMIN", "k", 0)
    w.run("P", "SET", "k", "str")
    assert w.take() == []
    w.run("P", "DEL", "k")
    w.run("P", "ZADD", "k", 1, "m")
    assert w.take() == [("B", [b"k", b"m", b"1"])]
    w.run("P", "RPUSH", "k", "x")
    assert w.take() == [("A", [b"k", b"x"])]


def test_served_into_wrongtype_destination_gets_the_error(w):
    w.run("A", "BLMOVE", "src", "dst", "LEFT", "LEFT", 0)
    w.run("P", "SET", "dst", "x")
    w.run("P", "RPUSH", "src", "v")
    [(who, reply)] = w.take()
    assert who == "A" and reply == ErrorReply(
        b"WRONGTYPE Operation against a key holding the wrong kind of value")
    assert w.run("P", "LRANGE", "src", 0, -1) == [b"v"]


def test_never_blocks_inside_multi_or_scripts(w):
    c = w.client("A")
    c.in_exec = True
    assert w.run("A", "BLPOP", "q", 0) is NULL_ARRAY
    assert w.run("A", "BLMOVE", "q", "d", "LEFT", "LEFT", 0) is None
    assert w.run("A", "BRPOPLPUSH", "q", "d", 0) is None
    assert w.run("A", "BLMPOP", 0, 1, "q", "LEFT") is NULL_ARRAY
    assert w.run("A", "BZPOPMAX", "q", 0) is NULL_ARRAY
    assert w.run("A", "BZMPOP", 0, 1, "q", "MAX") is NULL_ARRAY
    c.in_exec = False
    c.in_script = True
    assert w.run("A", "BLPOP", "q", 0) is NULL_ARRAY
    assert len(w.mgr) == 0


@pytest.mark.parametrize(
    "timeout,error",
    [("x", "ERR timeout is not a float or out of range"), ("-1", "ERR timeout is negative"),
     ("inf", "ERR timeout is out of range"), ("nan", "ERR timeout is not a float or out of range"),
     ("", "ERR timeout is not a float or out of range"), ("-inf", "ERR timeout is negative"),
     ("1e400", "ERR timeout is out of range"), (" 1", "ERR timeout is not a float or out of range")],
)
def test_bad_timeouts(w, timeout, error):
    for cmd in (("BLPOP", "q", timeout), ("BRPOPLPUSH", "a", "b", timeout),
                ("BZPOPMIN", "z", timeout), ("BLMPOP", timeout, 1, "q", "LEFT")):
        assert w.run("A", *cmd) == ErrorReply(error.encode()), cmd


@pytest.mark.parametrize("timeout,ms", [("0", None), ("-0.001", None), ("0.0001", 1), ("0x10", 16000),
                                        ("1e-3", 1), ("2.5", 2500)])
def test_timeout_values(w, timeout, ms):
    b = w.run("A", "BLPOP", "q", timeout)
    assert b.deadline_ms == (None if ms is None else w.clock.ms() + ms)


def test_served_pops_propagate_their_non_blocking_form(w):
    w.engine.effects = []
    w.run("A", "BLPOP", "l", 0)
    w.run("B", "BLMOVE", "m", "n", "LEFT", "RIGHT", 0)
    w.run("C", "BRPOPLPUSH", "o", "p", 0)
    w.run("D", "BLMPOP", 0, 1, "q", "RIGHT", "COUNT", 5)
    w.run("E", "BZPOPMAX", "z", 0)
    w.run("F", "BZMPOP", 0, 1, "y", "MIN", "COUNT", 9)
    assert w.engine.effects == []
    for k in ("l", "m", "o", "q"):
        w.run("P", "RPUSH", k, "1", "2")
    w.run("P", "ZADD", "z", 1, "a", 2, "b")
    w.run("P", "ZADD", "y", 1, "a", 2, "b")
    argvs = [argv for _, argv in w.engine.effects]
    assert [b"LPOP", b"l"] in argvs
    assert [b"LMOVE", b"m", b"n", b"LEFT", b"RIGHT"] in argvs
    assert [b"RPOPLPUSH", b"o", b"p"] in argvs
    assert [b"RPOP", b"q", b"2"] in argvs
    assert [b"ZPOPMAX", b"z"] in argvs
    assert [b"ZPOPMIN", b"y", b"2"] in argvs
    assert not any(a[0].startswith(b"B") for a in argvs)


def test_blocked_on_several_keys_counts_once(w):
    w.run("A", "BLPOP", "a", "a", "b", 0)
    assert w.engine.blocked_on == {(0, b"a"): 1, (0, b"b"): 1}
    w.run("P", "RPUSH", "b", "x")
    assert w.take() == [("A", [b"b", b"x"])]
    assert w.engine.blocked_on == {}


def test_bzpop_and_blmpop_replies_resp3(w):
    c = w.client("A")
    c.protocol = 3
    w.run("A", "BZPOPMIN", "z", 0)
    w.run("P", "ZADD", "z", "1.5", "m")
    [(_, reply)] = w.take()
    assert reply == [b"z", b"m", 1.5] and type(reply[2]) is Double
    w.run("A", "BZMPOP", 0, 1, "z", "MAX")
    w.run("P", "ZADD", "z", 2, "n", 3, "o")
    assert w.take() == [("A", [b"z", [[b"o", 3.0]]])]
