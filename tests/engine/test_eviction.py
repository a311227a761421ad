"""Eviction under ``maxmemory`` (``engine/evict.py``), on an engine whose memory
probe is the data's own estimate (so it shrinks as keys go, deterministically).

With ``maxmemory-samples`` above the number of keys every round samples them all,
so the approximate policies pick exactly: the longest idle (LRU), the least used
(LFU), the soonest to expire (volatile-ttl)."""

from __future__ import annotations

import pytest
from tests.conftest import Runner

from streamlite.engine import Engine, FakeClock
from streamlite.engine.database import key_memory

OOM = b"OOM command not allowed when used memory > 'maxmemory'."


class DataProbe:
    """The sum of every key's estimate: what the keys take."""

    reflects_frees = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> int:
        return sum(key_memory(k, v) for db in self.engine.dbs for k, v in db.data.items())


@pytest.fixture
def eng(clock: FakeClock) -> Engine:
    e = Engine(clock)
    e.memory_probe = DataProbe(e)
    return e


@pytest.fixture
def run(eng: Engine) -> Runner:
    return Runner(eng)


def _limit_after(run: Runner, eng: Engine, policy: str, room: int = 0) -> int:
    """Set maxmemory to what the data takes now (plus ``room``)."""
    used = eng.memory_probe()
    run("CONFIG", "SET", "maxmemory-policy", policy)
    run("CONFIG", "SET", "maxmemory-samples", "64")
    run("CONFIG", "SET", "maxmemory", str(used + room))
    return used


def test_noeviction_answers_oom(run, eng):
    for i in range(10):
        run("SET", f"k{i}", "x" * 100)
    _limit_after(run, eng, "noeviction")
    assert run("SET", "new", "x" * 100) == b"OK"  # checked before it runs: not over yet
    assert run("SET", "new2", "y" * 500) == OOM
    assert run("GET", "k1") == b"x" * 100  # reads still work
    assert eng.stats_evicted_keys == 0


def test_allkeys_lru_evicts_the_longest_idle(run, eng, clock):
    for i in range(20):
        run("SET", f"k{i:02}", "x" * 100)
        clock.advance(1000)
    for i in range(10, 20):  # the newer half is read again later
        run("GET", f"k{i:02}")
    clock.advance(1000)
    run("GET", "k00")  # and the very first key too
    _limit_after(run, eng, "allkeys-lru")
    assert run("SET", "big", "y" * 400) == b"OK"  # goes over the limit
    assert run("SET", "small", "1") == b"OK"  # evicts first
    gone = [f"k{i:02}" for i in range(20) if run("EXISTS", f"k{i:02}") == 0]
    assert gone and gone == [f"k{i:02}" for i in range(1, 1 + len(gone))]
    assert run("INFO", "stats").count(b"evicted_keys:%d\r\n" % len(gone)) == 1


def test_volatile_ttl_evicts_the_soonest_to_expire(run, eng):
    for i in range(10):
        run("SET", f"p{i}", "x" * 100)  # no TTL: never evicted under volatile-*
        run("SET", f"t{i}", "x" * 100, "EX", str(1000 - i * 10))
    _limit_after(run, eng, "volatile-ttl")
    assert run("SET", "big", "y" * 250) == b"OK"
    assert run("SET", "small", "1") == b"OK"
    gone = [i for i in range(10) if run("EXISTS", f"t{i}") == 0]
    assert gone and gone == list(range(10 - len(gone), 10))  # the shortest TTLs first
    assert all(run("EXISTS", f"p{i}") == 1 for i in range(10))


def test_volatile_without_ttls_is_oom(run, eng):
    for i in range(10):
        run("SET", f"p{i}", "x" * 100)
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"):
        _limit_after(run, eng, policy)
        run("SET", "big", "y" * 500)  # over the limit (checked before it ran)
        assert run("SET", "more", "1") == OOM
        run("DEL", "big")
    assert eng.stats_evicted_keys == 0


def test_allkeys_lfu_keeps_the_most_used(run, eng):
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    run("CONFIG", "SET", "lfu-log-factor", "0")  # every access counts
    for i in range(10):
        run("SET", f"k{i}", "x" * 100)
    for i in range(5):
        for _ in range(20):
            run("GET", f"k{i}")
    _limit_after(run, eng, "allkeys-lfu")
    assert run("SET", "big", "y" * 250) == b"OK"
    assert run("SET", "small", "1") == b"OK"
    assert all(run("EXISTS", f"k{i}") == 1 for i in range(5))
    assert any(run("EXISTS", f"k{i}") == 0 for i in range(5, 10))


def test_allkeys_random_evicts_and_stays_under(run, eng):
    for db in (0, 1):
        run("SELECT", str(db))
        for i in range(50):
            run("SET", f"k{i}", "x" * 100)
    limit = _limit_after(run, eng, "allkeys-random")
    for i in range(50):
        assert run("SET", f"n{i}", "z" * 100) == b"OK"
        assert eng.used_memory() <= limit + key_memory(b"n00", b"z" * 100) + 64
    assert eng.stats_evicted_keys >= 40


def test_evicted_keys_notify_invalidate_and_propagate(run, eng):
    other = Runner(eng)
    other.client.protocol = 3
    other("CLIENT", "TRACKING", "ON")
    run("CONFIG", "SET", "notify-keyspace-events", "Ee")
    sub = Runner(eng)
    sub("SUBSCRIBE", "__keyevent@0__:evicted")
    run("SET", "victim", "x" * 100)
    other("GET", "victim")
    _limit_after(run, eng, "allkeys-lru")
    eng.effects = []
    assert run("SET", "big", "y" * 300) == b"OK"
    assert run("SET", "small", "1") == b"OK"
    assert run("EXISTS", "victim") == 0
    assert [b"message", b"__keyevent@0__:evicted", b"victim"] in sub.client.pushed
    assert [b"invalidate", [b"victim"]] in other.client.pushed
    assert (0, [b"DEL", b"victim"]) in eng.effects
    run("CONFIG", "SET", "lazyfree-lazy-eviction", "yes")
    run("SET", "victim2", "x")
    run("CONFIG", "SET", "maxmemory", "1")
    eng.effects = []
    run("SET", "again", "y")
    assert (0, [b"UNLINK", b"victim2"]) in eng.effects or (0, [b"UNLINK", b"big"]) in eng.effects


def test_credit_for_a_probe_that_does_not_shrink(clock):
    """An RSS-like probe stays flat after deletes: what was evicted is credited, and the
    credit shrinks as the probe grows past its mark."""
    e = Engine(clock)
    level = {"rss": 10_000}
    e.memory_probe = lambda: level["rss"]
    r = Runner(e)
    for i in range(20):
        r("SET", f"k{i}", "x" * 100)
    r("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    r("CONFIG", "SET", "maxmemory", "9500")
    assert r("SET", "a", "1") == b"OK"
    n = e.stats_evicted_keys
    assert 1 <= n < 20
    assert e.used_memory() <= 9500
    assert r("SET", "b", "1") == b"OK"  # still under thanks to the credit: nothing more
    assert e.stats_evicted_keys == n
    credit = e.evictor.credit
    level["rss"] = 10_000 + credit  # grew by the whole room: it is used up
    assert e.used_memory() == 10_000 + credit
    assert r("SET", "c", "1") == b"OK"
    assert e.stats_evicted_keys > n


def test_allkeys_lrm_evicts_the_least_recently_modified(run, eng, clock):
    """Redis 8.6's LRM policies (from the docs): reads do not protect a key, writes do."""
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lrm")
    for i in range(10):
        run("SET", f"k{i}", "x" * 100)
        clock.advance(1000)
    for _ in range(3):
        run("GET", "k0")  # read often: still the oldest modification
    run("APPEND", "k1", "y")  # modified last
    clock.advance(1000)
    _limit_after(run, eng, "allkeys-lrm")
    assert run("SET", "big", "y" * 250) == b"OK"
    assert run("SET", "small", "1") == b"OK"
    assert run("EXISTS", "k0") == 0
    assert run("EXISTS", "k1") == 1
    assert run("CONFIG", "SET", "maxmemory-policy", "volatile-lrm") == b"OK"
    assert eng.dbs[0].lrm is not None
    run("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    assert eng.dbs[0].lrm is None


def test_expire_cycle_latency_event(clock):
    """A slow active expire cycle is a latency event ``expire-cycle`` (threshold 0 ms
    would be off: use 1 ms and a cycle that surely takes that long)."""
    import time as _time

    from streamlite.engine import expiry

    e = Engine(clock)
    r = Runner(e)
    r("CONFIG", "SET", "latency-monitor-threshold", "1")
    real = expiry.active_expire_cycle

    def slow(engine, *args):
        _time.sleep(0.005)
        return real(engine, *args)

    expiry.active_expire_cycle = slow
    try:
        e.active_expire()
    finally:
        expiry.active_expire_cycle = real
    assert [ev[0] for ev in r("LATENCY", "LATEST")] == [b"expire-cycle"]
    assert b"hz" in r("LATENCY", "DOCTOR") or b"expire" in r("LATENCY", "DOCTOR")
