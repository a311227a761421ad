"""Propagation of stream commands, as Redis does it (t_stream.c's
streamPropagateXCLAIM / streamPropagateGroupID / streamPropagateConsumerCreation):
effects are collected in ``engine.effects``, replayed into a fresh engine (as the
AOF loader does: ``is_master``), and the result compared with XINFO STREAM FULL.
"""

from __future__ import annotations

from typing import Any

from streamlite.engine import Engine, FakeClock

T0 = 1_700_000_000_000


def b(*argv: Any) -> list[bytes]:
    return [a if isinstance(a, bytes) else str(a).encode() for a in argv]


class Recorder:
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.engine = Engine(self.clock)
        self.engine.effects = []
        self.c = self.engine.client()

    def __call__(self, *argv: Any) -> Any:
        return self.engine.execute(self.c, b(*argv))

    def replay(self) -> Engine:
        eng = Engine(FakeClock(self.clock.ms()))
        eng.config.update(self.engine.config)
        c = eng.client()
        c.is_master = True
        for db, argv in self.engine.effects or []:
            if db != c.db_index:
                c.select(db)
            r = eng.execute(c, argv)
            assert not isinstance(r, bytes) or not r.startswith(b"ERR"), (argv, r)
        return eng


def _mask(v: Any) -> Any:
    """Consumers' seen/active times are the replay's clock; everything else must match."""
    if isinstance(v, dict):
        return {k: ("T" if k in (b"seen-time", b"active-time") else _mask(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [_mask(x) for x in v]
    return v


def info(eng: Engine, key: bytes) -> Any:
    c = eng.client()
    return _mask(eng.execute(c, [b"XINFO", b"STREAM", key, b"FULL", b"COUNT", b"0"]))


def test_xadd_auto_id_propagates_the_id():
    r = Recorder()
    mark = 0
    r("XADD", "s", "*", "f", "v")
    r("XADD", "s", f"{T0}-*", "f", "v")
    r.clock.advance(5)
    r("XADD", "s", "NOMKSTREAM", "*", "f", "w")
    assert r.engine.effects[mark:] == [
        (0, b("XADD", "s", f"{T0}-0", "f", "v")),
        (0, b("XADD", "s", f"{T0}-1", "f", "v")),
        (0, b("XADD", "s", "NOMKSTREAM", f"{T0 + 5}-0", "f", "w")),
    ]


def test_xadd_explicit_id_propagates_verbatim_and_errors_not_at_all():
    r = Recorder()
    mark = 0
    r("XADD", "s", "1-1", "f", "v")
    r("XADD", "s", "1-1", "f", "v")  # error
    r("XADD", "nokey", "NOMKSTREAM", "1-1", "f", "v")  # nothing changed
    assert r.engine.effects[mark:] == [(0, b("XADD", "s", "1-1", "f", "v"))]


def test_approximate_trim_propagates_exact_result():
    r = Recorder()
    for i in range(1, 251):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XADD", "s", "MAXLEN", "~", "120", "LIMIT", "500", "*", "f", "v")
    r("XTRIM", "s", "MINID", "~", "180")  # the node holding 180 stays: nothing
    r("XTRIM", "s", "MINID", "~", "201")
    r("XTRIM", "s", "MAXLEN", "~", "1000")  # deletes nothing: propagates nothing
    eff = r.engine.effects[250:]
    assert eff == [
        (0, b("XADD", "s", "MAXLEN", "=", "151", "LIMIT", "500", f"{T0}-0", "f", "v")),
        (0, b("XTRIM", "s", "MINID", "=", "201-0")),
    ]
    assert info(r.replay(), b"s") == info(r.engine, b"s")


def test_xreadgroup_propagates_xclaim_and_setid():
    r = Recorder()
    r("XADD", "s", "1-0", "f", "v")
    r("XADD", "s", "2-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    mark = len(r.engine.effects)
    r.clock.advance(10)
    r("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    t = T0 + 10
    assert r.engine.effects[mark:] == [
        (0, b("XCLAIM", "s", "g", "alice", "0", "1-0", "TIME", t, "RETRYCOUNT", "1", "FORCE",
              "JUSTID", "LASTID", "1-0")),
        (0, b("XCLAIM", "s", "g", "alice", "0", "2-0", "TIME", t, "RETRYCOUNT", "1", "FORCE",
              "JUSTID", "LASTID", "2-0")),
        (0, b("XGROUP", "SETID", "s", "g", "2-0", "ENTRIESREAD", "2")),
    ]


def test_noack_read_propagates_consumer_creation_and_setid_only():
    r = Recorder()
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    mark = len(r.engine.effects)
    r("XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">")
    assert r.engine.effects[mark:] == [
        (0, b("XGROUP", "CREATECONSUMER", "s", "g", "bob")),
        (0, b("XGROUP", "SETID", "s", "g", "1-0", "ENTRIESREAD", "1")),
    ]
    assert info(r.replay(), b"s") == info(r.engine, b"s")


def test_reads_that_change_nothing_propagate_nothing():
    r = Recorder()
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "$")
    mark = len(r.engine.effects)
    # a new consumer that receives nothing is not propagated (Redis does not either)
    assert r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">") is not None
    r("XREAD", "STREAMS", "s", "0")
    r("XRANGE", "s", "-", "+")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0")
    assert r.engine.effects[mark:] == []


def test_xclaim_and_xautoclaim_propagation():
    r = Recorder()
    for i in range(1, 5):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    r("XDEL", "s", "4-0")
    mark = len(r.engine.effects)
    r.clock.advance(100)
    r("XCLAIM", "s", "g", "bob", "50", "1-0", "4-0", "9-0", "RETRYCOUNT", "5")
    r("XCLAIM", "s", "g", "bob", "0", "2", "LASTID", "10-0", "JUSTID", "IDLE", "30")
    r("XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "2")
    t = T0 + 100
    assert r.engine.effects[mark:] == [
        (0, b("XCLAIM", "s", "g", "bob", "0", "1-0", "TIME", t, "RETRYCOUNT", "5", "FORCE",
              "JUSTID", "LASTID", "4-0")),
        (0, b("XCLAIM", "s", "g", "alice", "0", "4-0", "TIME", T0, "RETRYCOUNT", "1", "FORCE",
              "JUSTID", "LASTID", "4-0")),
        (0, b("XCLAIM", "s", "g", "bob", "0", "2", "TIME", t - 30, "RETRYCOUNT", "1", "FORCE",
              "JUSTID", "LASTID", "10-0")),
        (0, b("XCLAIM", "s", "g", "carol", "0", "1-0", "TIME", t, "RETRYCOUNT", "6", "FORCE",
              "JUSTID", "LASTID", "10-0")),
        (0, b("XCLAIM", "s", "g", "carol", "0", "2-0", "TIME", t, "RETRYCOUNT", "2", "FORCE",
              "JUSTID", "LASTID", "10-0")),
    ]
    assert info(r.replay(), b"s") == info(r.engine, b"s")


def test_lastid_alone_propagates_setid():
    r = Recorder()
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    mark = len(r.engine.effects)
    r("XCLAIM", "s", "g", "c", "0", "5-0", "LASTID", "7-0")
    assert r.engine.effects[mark:] == [(0, b("XGROUP", "SETID", "s", "g", "7-0", "ENTRIESREAD", "-1"))]


def test_full_scenario_replays_to_the_same_state():
    r = Recorder()
    r.engine.config["stream-node-max-entries"] = 5
    for i in range(40):
        r.clock.advance(3)
        r("XADD", "s", "MAXLEN", "~", "30", "*", "n", str(i), "k", "x" * (i % 7))
    r("XGROUP", "CREATE", "s", "g1", "0")
    r("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3")
    r("XGROUP", "CREATECONSUMER", "s", "g2", "idle")
    r.clock.advance(7)
    r("XREADGROUP", "GROUP", "g1", "a", "COUNT", "10", "STREAMS", "s", ">")
    r.clock.advance(7)
    r("XREADGROUP", "GROUP", "g1", "b", "COUNT", "5", "NOACK", "STREAMS", "s", ">")
    r("XREADGROUP", "GROUP", "g1", "c", "COUNT", "5", "STREAMS", "s", ">")
    first = r("XRANGE", "s", "-", "+", "COUNT", "4")
    r("XACK", "s", "g1", first[0][0], first[1][0])
    r("XDEL", "s", first[2][0])
    r.clock.advance(50)
    r("XAUTOCLAIM", "s", "g1", "d", "20", "0", "COUNT", "4")
    r("XCLAIM", "s", "g1", "a", "0", first[2][0], "FORCE")
    r("XGROUP", "SETID", "s", "g2", "0")
    r("XREADGROUP", "GROUP", "g2", "x", "COUNT", "3", "STREAMS", "s", ">")
    r("XGROUP", "DELCONSUMER", "s", "g1", "b")
    r("XTRIM", "s", "MAXLEN", "~", "12")
    r("XSETID", "s", f"{T0 + 10_000}-0", "ENTRIESADDED", "100")
    r("XADD", "s", "*", "after", "setid")
    r("XDELEX", "s", "ACKED", "IDS", "1", first[1][0])
    r("XACKDEL", "s", "g1", "DELREF", "IDS", "1", first[3][0])
    r("XADD", "s", "IDMPAUTO", "p", "*", "a", "1")
    r("XADD", "s", "IDMP", "p", "i1", "*", "a", "2")
    r("XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM")
    r("XGROUP", "DESTROY", "s", "g2")
    replayed = r.replay()
    for key in (b"s", b"s2"):
        assert info(replayed, key) == info(r.engine, key)
    c = replayed.client()
    # the idempotency memory came along: a retried IDMP add is a duplicate there too
    last = r("XREVRANGE", "s", "+", "-", "COUNT", "1")
    assert replayed.execute(c, b("XADD", "s", "IDMP", "p", "i1", "*", "a", "3")) == last[0][0]


def test_dataset_rewrite_rebuilds_streams():
    """persistence.rewrite (AOF base / snapshots) replays into the same stream state."""
    from streamlite.persistence.rewrite import dataset_commands

    r = Recorder()
    r.engine.config["stream-node-max-entries"] = 4
    for i in range(1, 15):
        r("XADD", "s", f"{i}-0", "f", str(i), *(["g", "x"] if i % 3 else []))
    r("XDEL", "s", "3-0", "14-0")
    r("XGROUP", "CREATE", "s", "g1", "0")
    r("XREADGROUP", "GROUP", "g1", "a", "COUNT", "5", "STREAMS", "s", ">")
    r("XCLAIM", "s", "g1", "b", "0", "2-0", "RETRYCOUNT", "4")
    r("XGROUP", "CREATECONSUMER", "s", "g1", "idle")
    r("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "5")
    r("XCFGSET", "s", "IDMP-DURATION", "7", "IDMP-MAXSIZE", "9")
    r("XADD", "empty", "MAXLEN", "0", "5-5", "a", "b")
    eng = Engine(FakeClock(r.clock.ms()))
    eng.config.update(r.engine.config)
    c = eng.client()
    c.is_master = True
    for db, argv in dataset_commands(r.engine):
        c.select(db)
        eng.execute(c, argv)
    def layoutless(v):
        # rewriting stores only live entries, so the node layout is rebuilt (as in Redis)
        return {k: x for k, x in v.items() if not k.startswith(b"radix-tree")}

    for key in (b"s", b"empty"):
        assert layoutless(info(eng, key)) == layoutless(info(r.engine, key))
