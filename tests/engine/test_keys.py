"""Keyspace commands on the engine with a fake clock: expiry (lazy and active), SCAN's
guarantee, signalling of WATCH and blocked clients, propagation replay."""

from __future__ import annotations

from typing import Any

from streamlite.engine import Engine, FakeClock
from streamlite.engine.replies import ErrorReply
from streamlite.engine.types.hash import Hash


def snapshot(engine: Engine) -> dict[int, dict[bytes, Any]]:
    """Live data of every database: key -> (value, expiry)."""
    now = engine.clock.ms()
    out: dict[int, dict[bytes, Any]] = {}
    for db in engine.dbs:
        d = {}
        for k, v in db.data.items():
            when = db.expires.get(k)
            if when is not None and when < now:
                continue
            if isinstance(v, Hash):
                v = ("hash", dict(v.items()), dict(v.ttls or {}))
            d[k] = (v, when)
        if d:
            out[db.index] = d
    return out


def replay(effects: list[tuple[int, list[bytes]]], clock: FakeClock) -> Engine:
    """A fresh engine at the same time, fed the propagated commands as an AOF load."""
    e = Engine(FakeClock(clock.ms()))
    c = e.client()
    c.is_master = True
    e.loading = True
    try:
        for db, argv in effects:
            if c.db_index != db:
                c.select(db)
            reply = e.execute(c, list(argv))
            assert not isinstance(reply, ErrorReply), (argv, reply)
    finally:
        e.loading = False
    return e


def run_and_replay(engine: Engine, clock: FakeClock, script: list[tuple[Any, ...]],
                   advance: dict[int, int] | None = None) -> Engine:
    engine.effects = []
    c = engine.client()
    for i, cmd in enumerate(script):
        if advance and i in advance:
            clock.advance(advance[i])
        engine.execute(c, [a if isinstance(a, bytes) else str(a).encode() for a in cmd])
    other = replay(engine.effects, clock)
    assert snapshot(other) == snapshot(engine)
    return other


# -- basic keyspace -----------------------------------------------------------------


def test_del_exists_type(r):
    r("SET", "a", "1")
    r("HSET", "h", "f", "v")
    assert r("EXISTS", "a", "a", "h", "x") == 3
    assert r("TYPE", "a") == b"string" and r("TYPE", "h") == b"hash" and r("TYPE", "x") == b"none"
    assert r("DEL", "a", "a", "x") == 1
    assert r("UNLINK", "h") == 1
    assert r("DBSIZE") == 0


def test_rename_keeps_ttl_and_value(r, clock):
    r("SET", "a", "1", "EX", "10")
    assert r("RENAME", "a", "b") == b"OK"
    assert r("TTL", "b") == 10
    clock.advance(10_001)
    assert r("EXISTS", "b") == 0
    assert r("RENAME", "b", "c") == ErrorReply(b"ERR no such key")


def test_copy_is_deep(r):
    r("HSET", "h", "f", "v")
    assert r("COPY", "h", "h2") == 1
    r("HSET", "h2", "f", "w")
    assert r("HGET", "h", "f") == b"v"
    assert r("COPY", "h", "h2") == 0
    assert r("COPY", "h", "h2", "REPLACE") == 1
    assert r("HGET", "h2", "f") == b"v"


def test_move_and_swapdb(r, engine):
    r("SET", "a", "1")
    assert r("MOVE", "a", "3") == 1
    assert r("EXISTS", "a") == 0
    assert engine.dbs[3].data[b"a"] == b"1"
    other = engine.client()
    other.select(3)
    assert r("SWAPDB", "0", "3") == b"OK"
    assert r("GET", "a") == b"1"  # this client stays on db 0, which now has db 3's keys
    assert engine.execute(other, [b"EXISTS", b"a"]) == 0


def test_flushall_and_dbsize(r):
    r("MSET", "a", "1", "b", "2")
    r("SELECT", "2")
    r("SET", "c", "3")
    assert r("DBSIZE") == 1
    assert r("FLUSHALL") == b"OK"
    assert r("DBSIZE") == 0
    r("SELECT", "0")
    assert r("DBSIZE") == 0


def test_randomkey_skips_expired(r, clock):
    assert r("RANDOMKEY") is None
    r("SET", "gone", "x", "PX", "5")
    r("SET", "gone2", "x", "PX", "5")
    clock.advance(10)
    assert r("DBSIZE") == 2
    assert r("RANDOMKEY") is None  # every expired key it drew was deleted
    assert r("DBSIZE") == 0
    r("SET", "gone", "x", "PX", "5")
    r("SET", "live", "y")
    clock.advance(10)
    for _ in range(5):
        assert r("RANDOMKEY") == b"live"


def test_keys_pattern_and_expired(r, clock):
    r("MSET", "user:1", "a", "user:2", "b", "other", "c")
    r("PEXPIRE", "user:2", "5")
    assert sorted(r("KEYS", "user:*")) == [b"user:1", b"user:2"]
    clock.advance(6)
    assert r("KEYS", "user:*") == [b"user:1"]


# -- expiry ---------------------------------------------------------------------------


def test_lazy_expiry_boundary(r, clock, engine):
    r("SET", "k", "v", "PX", "100")
    clock.advance(100)
    assert r("GET", "k") == b"v"  # expired only when now > when, as Redis
    assert r("PTTL", "k") == 0
    clock.advance(1)
    assert r("GET", "k") is None
    assert engine.stats_expired_keys == 1


def test_expire_options(r):
    r("SET", "k", "v")
    assert r("EXPIRE", "k", "100", "XX") == 0
    assert r("EXPIRE", "k", "100", "GT") == 0
    assert r("EXPIRE", "k", "100", "LT") == 1
    assert r("EXPIRE", "k", "50", "NX") == 0
    assert r("EXPIRE", "k", "50", "GT") == 0
    assert r("EXPIRE", "k", "200", "GT") == 1
    assert r("TTL", "k") == 200
    assert r("PERSIST", "k") == 1
    assert r("TTL", "k") == -1
    assert r("EXPIRE", "k", "-1") == 1
    assert r("EXISTS", "k") == 0


def test_ttl_rounding(r, clock):
    r("SET", "k", "v", "PX", "1499")
    assert r("TTL", "k") == 1
    r("SET", "k", "v", "PX", "1500")
    assert r("TTL", "k") == 2
    r("SET", "k", "v", "PXAT", str(clock.ms() + 10_000))
    assert r("EXPIRETIME", "k") == (clock.ms() + 10_000 + 500) // 1000
    assert r("PEXPIRETIME", "k") == clock.ms() + 10_000


def test_active_expire_reclaims_due_keys_only(engine, clock, r):
    for i in range(50):
        r("SET", f"short:{i}", "v", "PX", "10")
        r("SET", f"long:{i}", "v", "EX", "100")
    r("SET", "forever", "v")
    assert engine.active_expire() == 0
    clock.advance(11)
    assert engine.active_expire(budget=20) == 20  # budget respected
    assert engine.stats_expire_cycle_cap_reached == 1
    assert engine.active_expire() == 30
    assert r("DBSIZE") == 51
    assert engine.stats_expired_keys == 50


def test_active_expire_runs_until_its_time_limit_not_a_key_count(engine, clock, r):
    # Redis's slow cycle is bounded by time (25% of the cron period), not by a number
    # of keys: a mass expiry is reclaimed in a few cycles (it took 50 cycles of 200)
    r("CONFIG", "SET", "hz", "1")  # a cycle may take up to 250 ms
    for i in range(10_000):
        r("SET", f"k:{i}", "v", "PX", "10")
    clock.advance(11)
    assert engine.active_expire() == 10_000
    assert r("DBSIZE") == 0
    assert engine.stats_expire_cycle_cap_reached == 0


def test_active_expire_stops_at_its_deadline(engine, clock, r):
    from streamlite.engine.expiry import active_expire_cycle

    for i in range(1000):
        r("SET", f"k:{i}", "v", "PX", "10")
    clock.advance(11)
    # a deadline already past: the time is read every 64 keys
    assert active_expire_cycle(engine, 1 << 62, deadline_ns=0) == 64
    assert engine.stats_expire_cycle_cap_reached == 1
    assert r("DBSIZE") == 1000 - 64


def test_active_expire_skips_changed_ttls(engine, clock, r):
    r("SET", "k", "v", "PX", "10")
    r("PEXPIRE", "k", "1000")  # the first heap entry is stale now
    r("SET", "j", "v", "PX", "10")
    r("PERSIST", "j")
    clock.advance(20)
    assert engine.active_expire() == 0
    assert r("EXISTS", "k", "j") == 2
    clock.advance(1000)
    assert engine.active_expire() == 1


def test_active_expire_heap_stays_bounded(engine, r):
    r("SET", "k", "v")
    for i in range(3000):
        r("PEXPIRE", "k", str(100_000 + i))
    assert len(engine.dbs[0].exp_heap) <= 2 * len(engine.dbs[0].expires) + 1024


def test_active_expire_propagates_del(engine, clock, r):
    r("SET", "k", "v", "PX", "5")
    engine.effects = []
    clock.advance(6)
    engine.active_expire()
    assert engine.effects == [(0, [b"DEL", b"k"])]


def test_lazy_expiry_not_counted_as_change(engine, clock, r):
    r("SET", "k", "v", "PX", "5")
    clock.advance(6)
    engine.effects = []
    assert r("EXPIRE", "k", "100") == 0
    assert engine.effects == [(0, [b"DEL", b"k"])]  # not the failed EXPIRE itself


# -- signalling -----------------------------------------------------------------------


def watch(engine: Engine, c: Any, db: int, key: bytes) -> None:
    engine.watched.setdefault((db, key), set()).add(c)


def test_touch_marks_watchers(engine, r):
    w = engine.client()
    r("SET", "k", "v")
    watch(engine, w, 0, b"k")
    r("GET", "k")
    assert not w.dirty_cas
    r("EXPIRE", "k", "100")
    assert w.dirty_cas


def test_flushdb_and_swapdb_invalidate_watch(engine, r):
    a, b, c = engine.client(), engine.client(), engine.client()
    r("SET", "k", "v")
    watch(engine, a, 0, b"k")
    watch(engine, b, 0, b"absent")
    r("FLUSHDB")
    assert a.dirty_cas and not b.dirty_cas
    r("SELECT", "1")
    r("SET", "x", "1")
    watch(engine, c, 0, b"x")  # absent in db 0, present in db 1
    r("SWAPDB", "0", "1")
    assert c.dirty_cas


def test_blocked_keys_signalled(engine, r):
    engine.block_on([(0, b"q"), (1, b"q")])
    r("SET", "q", "1")
    assert engine.take_ready_keys() == [(0, b"q")]
    r("RENAME", "q", "q2")
    assert (0, b"q") in engine.take_ready_keys()
    r("SET", "z", "1")
    r("SELECT", "1")
    r("SET", "q", "1")
    engine.take_ready_keys()
    r("FLUSHALL")
    assert (1, b"q") in engine.take_ready_keys()


# -- SCAN -----------------------------------------------------------------------------


def full_scan(r, *args, mutate=None) -> list[bytes]:
    seen: list[bytes] = []
    cur = b"0"
    step = 0
    while True:
        cur, page = r("SCAN", cur, *args)
        seen += page
        if mutate:
            mutate(step)
        step += 1
        if cur == b"0":
            return seen


def test_scan_returns_every_stable_key_once_despite_changes(r):
    stable = [f"stable:{i}" for i in range(300)]
    r("MSET", *[x for k in stable for x in (k, "v")])
    r("MSET", *[x for i in range(300) for x in (f"doomed:{i}", "v")])

    def mutate(step: int) -> None:
        for j in range(10):
            r("SET", f"new:{step}:{j}", "v")
            r("DEL", f"doomed:{step * 10 + j}")

    seen = full_scan(r, "COUNT", "7", mutate=mutate)
    got = [k for k in seen if k.startswith(b"stable:")]
    assert sorted(got) == sorted(k.encode() for k in stable)
    assert len(got) == len(set(got))  # no duplicates for keys that stayed


def test_scan_match_type_and_count(r):
    r("MSET", *[x for i in range(40) for x in (f"s{i}", "v")])
    r("HSET", "h1", "f", "v")
    assert sorted(full_scan(r, "TYPE", "hash")) == [b"h1"]
    assert sorted(full_scan(r, "MATCH", "s1*")) == sorted(
        f"s{i}".encode() for i in range(40) if str(i).startswith("1"))
    cur, page = r("SCAN", "0", "COUNT", "5")
    assert len(page) <= 6 and cur != b"0"


def test_scan_skips_expired(r, clock):
    r("SET", "a", "1", "PX", "5")
    r("SET", "b", "1")
    clock.advance(6)
    assert full_scan(r) == [b"b"]


# -- OBJECT ---------------------------------------------------------------------------


def test_object_idletime_and_freq(r, clock, engine):
    r("SET", "k", "v")
    clock.advance(5_000)
    assert r("OBJECT", "IDLETIME", "k") == 5
    r("TYPE", "k")  # NOTOUCH lookups do not reset idle time
    r("EXISTS", "k")
    assert r("OBJECT", "IDLETIME", "k") == 5
    r("GET", "k")
    assert r("OBJECT", "IDLETIME", "k") == 0
    assert isinstance(r("OBJECT", "FREQ", "k"), ErrorReply)
    engine.config["maxmemory-policy"] = "allkeys-lfu"
    assert isinstance(r("OBJECT", "IDLETIME", "k"), ErrorReply)
    r("SET", "n", "v")
    assert r("OBJECT", "FREQ", "n") == 5
    for _ in range(200):
        r("GET", "n")
    assert r("OBJECT", "FREQ", "n") > 5
    clock.advance(60_000 * 300)  # decays by one per minute (lfu-decay-time 1)
    assert r("OBJECT", "FREQ", "n") == 0


# -- propagation ------------------------------------------------------------------------


def test_propagation_replay_keys(engine, clock):
    run_and_replay(engine, clock, [
        ("SET", "a", "1"), ("EXPIRE", "a", "100"), ("SET", "b", "2"), ("PEXPIRE", "b", "50", "NX"),
        ("EXPIREAT", "b", str(clock.ms() // 1000 + 500)), ("SET", "c", "3"), ("EXPIRE", "c", "-5"),
        ("RENAME", "a", "a2"), ("COPY", "a2", "a3", "DB", "2"), ("MOVE", "b", "4"),
        ("SET", "gone", "x", "PX", "10"), ("SET", "p", "1", "EX", "100"), ("PERSIST", "p"),
        ("SWAPDB", "0", "5"), ("SELECT", "5"), ("DEL", "p"), ("GET", "gone"),
        ("HSET", "h", "f", "v"), ("RENAMENX", "h", "h2"), ("FLUSHDB",), ("SET", "z", "1"),
    ], advance={16: 20})
    assert engine.effects[0] == (0, [b"SET", b"a", b"1"])
    assert (0, [b"PEXPIREAT", b"a", str(clock.ms() - 20 + 100_000).encode()]) in engine.effects
    assert (0, [b"DEL", b"c"]) in engine.effects


def test_scan_guarantee_with_interleaved_scans(r, engine):
    r("MSET", *[x for i in range(200) for x in (f"k{i}", "v")])
    seen: list[bytes] = []
    cur = b"0"
    n = 0
    while True:
        cur, page = r("SCAN", cur, "COUNT", "9")
        seen += page
        if n % 5 == 0:  # another client's complete scan drops the index meanwhile
            assert sorted(full_scan(r, "COUNT", "1000")) == sorted(engine.dbs[0].data)
            r("SET", f"extra{n}", "v")
        n += 1
        if cur == b"0":
            break
    assert {f"k{i}".encode() for i in range(200)} <= set(seen)
    assert engine.dbs[0].scan_index is None
