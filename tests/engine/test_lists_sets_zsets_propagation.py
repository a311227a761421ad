"""What list, set and sorted-set writes propagate: replaying ``engine.effects``
into a fresh engine at the same clock time rebuilds the same data, random
choices (SPOP) and blocking pops included."""

from __future__ import annotations

import random

from streamlite.engine import Engine, FakeClock
from streamlite.engine.blocking import BlockingManager
from streamlite.engine.replies import Blocked


def _args(cmd):
    return [a if isinstance(a, bytes) else str(a).encode() for a in cmd]


def _replay(effects, now_ms: int) -> Engine:
    fresh = Engine(FakeClock(now_ms))
    c = fresh.client()
    for db, argv in effects:
        c.select(db)
        reply = fresh.execute(c, argv)
        assert not isinstance(reply, Blocked), argv
    return fresh


def _data(engine: Engine) -> list[dict]:
    return [dict(db.data) for db in engine.dbs]


def test_replay_rebuilds_the_same_data():
    rnd = random.Random(7)
    eng = Engine(FakeClock())
    eng.effects = []
    mgr = BlockingManager(eng)
    c = eng.client()
    waiter = eng.client()

    def run(*cmd, who=c):
        reply = eng.execute(who, _args(cmd))
        if type(reply) is Blocked:
            mgr.block(who, reply)
        mgr.serve_ready()
        return reply

    run("RPUSH", "l", *range(30))
    run("LPUSH", "l", "a", "b")
    run("LPOP", "l", 3)
    run("RPOPLPUSH", "l", "l2")
    run("LMOVE", "l", "l2", "LEFT", "RIGHT")
    run("LMPOP", 2, "nokey", "l", "RIGHT", "COUNT", 2)
    run("LREM", "l", 0, "5")
    run("LSET", "l", 0, "first")
    run("LINSERT", "l", "BEFORE", "first", "zero")
    run("LTRIM", "l", 1, -2)
    run("LPUSHX", "l2", "x")
    run("BLPOP", "bq", 0, who=waiter)
    run("RPUSH", "bq", "served", "left")
    run("BLMOVE", "bq2", "l2", "LEFT", "LEFT", 0, who=waiter)
    run("RPUSH", "bq2", "moved")
    run("BLMPOP", 0, 1, "bq3", "LEFT", "COUNT", 5, who=waiter)
    run("RPUSH", "bq3", "1", "2")

    run("SADD", "s", *range(40), "x", "y")
    run("SADD", "big", *range(700))
    for _ in range(5):
        run("SPOP", "s")
    run("SPOP", "s", 3)
    run("SPOP", "big", 650)  # most of it: the survivors are chosen at random
    run("SPOP", "big", 10)
    run("SADD", "tiny", "a", "b")
    run("SPOP", "tiny", 5)  # all of it: DEL
    run("SREM", "s", "x", "nope")
    run("SMOVE", "s", "s2", "y")
    run("SRANDMEMBER", "s", 5)
    run("SINTERSTORE", "si", "s", "big")
    run("SUNIONSTORE", "su", "s", "s2")
    run("SDIFFSTORE", "sd", "s", "big")

    run("ZADD", "z", *[x for i in range(50) for x in (rnd.choice(["1.5", "-2", "inf", "0.1", "7"]), f"m{i}")])
    run("ZADD", "z", "INCR", "0.25", "m1")
    run("ZADD", "z", "GT", "CH", "100", "m2", "-100", "m3")
    run("ZINCRBY", "z", "-inf", "m4")
    run("ZREM", "z", "m5", "m6")
    run("ZREMRANGEBYRANK", "z", 0, 1)
    run("ZREMRANGEBYSCORE", "z", "(1", "2")
    run("ZADD", "lex", 0, "a", 0, "b", 0, "c", 0, "d")
    run("ZREMRANGEBYLEX", "lex", "[b", "(d")
    run("ZPOPMIN", "z", 2)
    run("ZPOPMAX", "z")
    run("ZMPOP", 2, "nokey", "z", "MAX", "COUNT", 3)
    run("ZRANGESTORE", "zr", "z", 0, 4)
    run("ZUNIONSTORE", "zu", 2, "z", "s", "WEIGHTS", 2, 3)
    run("ZINTERSTORE", "zi", 2, "z", "zr", "AGGREGATE", "MAX")
    run("ZDIFFSTORE", "zd", 2, "z", "zr")
    run("ZRANDMEMBER", "z", 3)
    run("BZPOPMIN", "bz", 0, who=waiter)
    run("ZADD", "bz", 1, "a", 2, "b")
    run("BZMPOP", 0, 1, "bz2", "MAX", "COUNT", 9, who=waiter)
    run("ZADD", "bz2", 1, "a", 2, "b")
    c.select(3)
    run("RPUSH", "other-db", "v")
    run("SADD", "other-db-set", "v")

    names = {argv[0] for _, argv in eng.effects}
    assert not names & {b"SPOP", b"SRANDMEMBER", b"BLPOP", b"BLMOVE", b"BLMPOP", b"BZPOPMIN",
                        b"BZMPOP", b"LMPOP", b"ZMPOP", b"ZRANDMEMBER"}
    replayed = _replay(eng.effects, eng.clock.ms())
    assert _data(replayed) == _data(eng)


def test_spop_propagation_forms():
    eng = Engine(FakeClock())
    c = eng.client()
    eng.execute(c, _args(("SADD", "s", "a", "b", "c", "d")))
    eng.effects = []
    one = eng.execute(c, _args(("SPOP", "s")))
    assert eng.effects == [(0, [b"SREM", b"s", one])]
    eng.effects = []
    two = eng.execute(c, _args(("SPOP", "s", 2)))
    assert eng.effects == [(0, [b"SREM", b"s", *two])]
    eng.effects = []
    eng.execute(c, _args(("SPOP", "s", 5)))
    assert eng.effects == [(0, [b"DEL", b"s"])]
    eng.config["lazyfree-lazy-server-del"] = "yes"
    eng.execute(c, _args(("SADD", "s", "a")))
    eng.effects = []
    eng.execute(c, _args(("SPOP", "s", 5)))
    assert eng.effects == [(0, [b"UNLINK", b"s"])]
    eng.effects = []
    eng.execute(c, _args(("SPOP", "s")))
    eng.execute(c, _args(("SPOP", "s", 0)))
    assert eng.effects == []


def test_big_spop_is_batched():
    eng = Engine(FakeClock())
    c = eng.client()
    eng.execute(c, _args(("SADD", "s", *range(3000))))
    eng.effects = []
    eng.execute(c, _args(("SPOP", "s", 2500)))
    sizes = [len(argv) - 2 for _, argv in eng.effects]
    assert sizes == [1024, 1024, 452]
    assert all(argv[0] == b"SREM" for _, argv in eng.effects)


def test_nothing_propagated_for_no_ops():
    eng = Engine(FakeClock())
    c = eng.client()
    eng.execute(c, _args(("RPUSH", "l", "a")))
    eng.execute(c, _args(("ZADD", "z", "1", "a")))
    eng.execute(c, _args(("SADD", "s", "a")))
    eng.effects = []
    for cmd in [("LPOP", "nokey"), ("LREM", "l", 0, "zz"), ("LINSERT", "l", "BEFORE", "zz", "q"),
                ("ZADD", "z", "NX", 5, "a"), ("ZADD", "z", "1", "a"), ("ZINCRBY", "z", 0, "a"),
                ("ZREM", "z", "q"), ("SADD", "s", "a"), ("SREM", "s", "q"), ("SMOVE", "s", "t", "q"),
                ("ZREMRANGEBYSCORE", "z", 5, 6), ("LRANGE", "l", 0, -1), ("ZRANGE", "z", 0, -1)]:
        eng.execute(c, _args(cmd))
    assert eng.effects == []
