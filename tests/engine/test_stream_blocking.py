"""Blocking XREAD / XREADGROUP with two engine clients and the BlockingManager.

What Redis 8.2 does (checked over sockets in tests/diff/test_stream_blocking.py):
a served waiter gets its entries; XREAD's ``$`` is resolved when it blocks; a
deleted key or destroyed group answers XREADGROUP waiters NOGROUP, a key turned
into another type WRONGTYPE; XREAD waiters keep waiting; MULTI never blocks.
"""

from __future__ import annotations

from typing import Any

import pytest

from streamlite.engine import Engine, FakeClock
from streamlite.engine.blocking import BlockingManager
from streamlite.engine.replies import NULL_ARRAY, Blocked, ErrorReply


class Cli:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.c = engine.client()

    def __call__(self, *argv: Any) -> Any:
        return self.engine.execute(self.c, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


@pytest.fixture
def env():
    clock = FakeClock()
    eng = Engine(clock)
    return eng, clock, BlockingManager(eng), Cli(eng), Cli(eng), Cli(eng)


def block(mgr: BlockingManager, cli: Cli, *argv: Any) -> Blocked:
    r = cli(*argv)
    assert isinstance(r, Blocked), r
    mgr.block(cli.c, r)
    return r


def served(mgr: BlockingManager) -> dict[Any, Any]:
    return {c: r for c, r in mgr.serve_ready()}


def test_xread_dollar_is_resolved_and_served(env):
    eng, clock, mgr, a, b, _ = env
    b("XADD", "s", "5-0", "old", "x")
    blk = block(mgr, a, "XREAD", "BLOCK", "0", "STREAMS", "s", "t", "$", "$")
    assert blk.argv[-2:] == [b"5-0", b"0-0"]
    assert blk.deadline_ms is None
    assert served(mgr) == {}
    b("XADD", "t", "1-0", "new", "y")
    assert served(mgr) == {a.c: [[b"t", [[b"1-0", [b"new", b"y"]]]]]}
    assert a.c.blocked is None


def test_xread_timeout(env):
    eng, clock, mgr, a, b, _ = env
    blk = block(mgr, a, "XREAD", "BLOCK", "100", "STREAMS", "s", "0")
    assert blk.deadline_ms == clock.ms() + 100
    assert mgr.expire(clock.ms() + 99) == []
    assert mgr.expire(clock.ms() + 100) == [(a.c, NULL_ARRAY)]


def test_xread_keeps_waiting_on_delete_and_type_change(env):
    eng, clock, mgr, a, b, _ = env
    b("XADD", "s", "1-0", "f", "v")
    block(mgr, a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    b("XDEL", "s", "1-0")
    assert served(mgr) == {}
    eng.dbs[0].remove(b"s")
    assert served(mgr) == {}
    eng.dbs[0].set(b"s", b"a string")
    assert served(mgr) == {}
    eng.dbs[0].remove(b"s")
    b("XADD", "s", "2-0", "f", "w")
    assert served(mgr) == {a.c: [[b"s", [[b"2-0", [b"f", b"w"]]]]]}


def test_xread_only_entries_after_its_id(env):
    eng, clock, mgr, a, b, _ = env
    block(mgr, a, "XREAD", "BLOCK", "0", "STREAMS", "x", "1-18446744073709551615")
    b("XADD", "x", "1-1", "f", "v")
    assert served(mgr) == {}
    b("XADD", "x", "1-18446744073709551615", "f", "v")
    assert served(mgr) == {}
    b("XADD", "x", "2-1", "f", "v")
    assert served(mgr) == {a.c: [[b"x", [[b"2-1", [b"f", b"v"]]]]]}


def test_xreadgroup_first_come_first_served(env):
    eng, clock, mgr, a, b, c = env
    c("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    block(mgr, a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
    block(mgr, b, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">")
    c("XADD", "s", "1-0", "f", "v")
    assert served(mgr) == {a.c: [[b"s", [[b"1-0", [b"f", b"v"]]]]]}
    assert b.c.blocked is not None
    c("XADD", "s", "2-0", "f", "w")
    assert served(mgr) == {b.c: [[b"s", [[b"2-0", [b"f", b"w"]]]]]}
    assert c("XPENDING", "s", "g") == [2, b"1-0", b"2-0", [[b"alice", b"1"], [b"bob", b"1"]]]


@pytest.mark.parametrize("how", ["del", "destroy", "type"])
def test_xreadgroup_waiter_told_when_key_or_group_goes(env, how):
    eng, clock, mgr, a, b, _ = env
    b("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    block(mgr, a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    if how == "del":
        eng.dbs[0].remove(b"s")
    elif how == "destroy":
        assert b("XGROUP", "DESTROY", "s", "g") == 1
    else:
        eng.dbs[0].remove(b"s")
        eng.dbs[0].set(b"s", b"x")
    got = served(mgr)[a.c]
    assert isinstance(got, ErrorReply)
    if how == "type":
        assert got == b"WRONGTYPE Operation against a key holding the wrong kind of value"
    else:
        assert got == b"NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"


def test_xreadgroup_recreated_group_keeps_waiting(env):
    eng, clock, mgr, a, b, _ = env
    b("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    block(mgr, a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    eng.dbs[0].remove(b"s")
    b("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    assert served(mgr) == {}
    b("XADD", "s", "1-0", "f", "v")
    assert served(mgr) == {a.c: [[b"s", [[b"1-0", [b"f", b"v"]]]]]}


def test_blocking_never_blocks_inside_multi_or_script(env):
    eng, clock, mgr, a, b, _ = env
    b("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a.c.in_exec = True
    assert a("XREAD", "BLOCK", "0", "STREAMS", "s", "$") is NULL_ARRAY
    assert a("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">") is NULL_ARRAY
    a.c.in_exec = False
    a.c.in_script = True
    assert a("XREAD", "BLOCK", "0", "STREAMS", "s", "$") is NULL_ARRAY
    # history reads answer at once, blocking or not
    assert a("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", "0") == [[b"s", []]]


def test_xread_same_stream_several_times(env):
    eng, clock, mgr, a, b, _ = env
    b("XADD", "s", "1-0", "old", "x")
    block(mgr, a, "XREAD", "BLOCK", "20000", "STREAMS", "s", "s", "s", "$", "$", "$")
    b("XADD", "s", "2-0", "new", "y")
    r = served(mgr)[a.c]
    assert r == [[b"s", [[b"2-0", [b"new", b"y"]]]]] * 3
    assert len(mgr) == 0
    assert eng.blocked_on == {}


def test_multi_xadd_serves_all_new_entries(env):
    eng, clock, mgr, a, b, _ = env
    b("XADD", "s", "1-0", "old", "x")
    block(mgr, a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    for i in range(2, 5):
        b("XADD", "s", f"{i}-0", "field", str(i))
    r = served(mgr)[a.c]
    assert [e[0] for e in r[0][1]] == [b"2-0", b"3-0", b"4-0"]


def test_xreadgroup_claim_wakes_when_entry_becomes_idle(env):
    # Redis 8.4 CLAIM (stream-cgroups.tcl "messages become claimable during block")
    eng, clock, mgr, a, b, c = env
    c("XADD", "s", "1-0", "f", "v1")
    c("XGROUP", "CREATE", "s", "g", "0")
    c("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    blk = block(mgr, a, "XREADGROUP", "GROUP", "g", "consumer2", "BLOCK", "5000", "CLAIM", "1000",
                "STREAMS", "s", ">")
    start = clock.ms()
    assert blk.retry_at_ms == start + 1000
    assert mgr.next_deadline() == start + 1000
    clock.advance(999)
    assert mgr.expire(clock.ms()) == []
    clock.advance(501)
    out = mgr.expire(clock.ms())
    assert out == [(a.c, [[b"s", [[b"1-0", [b"f", b"v1"], 1500, 1]]]])]
    assert c("XPENDING", "s", "g", "-", "+", "10") == [[b"1-0", b"consumer2", 0, 2]]


def test_xreadgroup_claim_new_entry_before_idle_threshold(env):
    eng, clock, mgr, a, b, c = env
    c("XADD", "s", "1-0", "f", "v1")
    c("XGROUP", "CREATE", "s", "g", "0")
    c("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    block(mgr, a, "XREADGROUP", "GROUP", "g", "consumer2", "BLOCK", "5000", "CLAIM", "1000",
          "STREAMS", "s", ">")
    clock.advance(100)
    c("XADD", "s", "2-0", "f", "v2")
    assert served(mgr) == {a.c: [[b"s", [[b"2-0", [b"f", b"v2"], 0, 0]]]]}


def test_xreadgroup_claim_block_times_out(env):
    eng, clock, mgr, a, b, c = env
    c("XADD", "s", "1-0", "f", "v1")
    c("XGROUP", "CREATE", "s", "g", "0")
    c("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    block(mgr, a, "XREADGROUP", "GROUP", "g", "consumer2", "BLOCK", "100", "CLAIM", "500",
          "STREAMS", "s", ">")
    clock.advance(100)
    assert mgr.expire(clock.ms()) == [(a.c, NULL_ARRAY)]


def test_xreadgroup_claim_acked_meanwhile_keeps_waiting(env):
    eng, clock, mgr, a, b, c = env
    c("XADD", "s", "1-0", "f", "v1")
    c("XGROUP", "CREATE", "s", "g", "0")
    c("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    block(mgr, a, "XREADGROUP", "GROUP", "g", "consumer2", "BLOCK", "0", "CLAIM", "1000",
          "STREAMS", "s", ">")
    clock.advance(500)
    assert c("XACK", "s", "g", "1-0") == 1
    clock.advance(600)
    assert mgr.expire(clock.ms()) == []
    assert a.c.blocked is not None
    assert mgr.next_deadline() is None
    c("XADD", "s", "2-0", "f", "v2")
    assert served(mgr) == {a.c: [[b"s", [[b"2-0", [b"f", b"v2"], 0, 0]]]]}
