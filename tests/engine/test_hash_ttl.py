"""Hash field expiration on the engine with a fake clock: lazy and active expiry,
what reads see, propagation replay."""

from __future__ import annotations

from tests.engine.test_keys import replay, run_and_replay, snapshot

from streamlite.persistence.rewrite import dataset_commands


def test_lazy_field_expiry_as_redis(r, clock, engine):
    r("HSET", "h", "a", "1", "b", "2", "c", "3")
    r("HPEXPIRE", "h", "10", "FIELDS", "2", "a", "b")
    clock.advance(11)
    assert r("HLEN", "h") == 3  # not reclaimed yet
    assert r("HGETALL", "h") == {b"c": b"3"}  # iteration skips expired fields
    assert r("HKEYS", "h") == [b"c"]
    assert r("HTTL", "h", "FIELDS", "1", "a") == [-2]
    assert r("HEXISTS", "h", "a") == 0  # a named read deletes it
    assert r("HLEN", "h") == 2
    assert engine.stats_expired_subkeys == 1
    assert r("HSET", "h", "b", "9") == 0  # HSET overwrites an unreclaimed field, TTL gone
    assert r("HTTL", "h", "FIELDS", "1", "b") == [-1]


def test_field_expiry_deletes_empty_key(r, clock):
    r("HSET", "h", "a", "1")
    r("HPEXPIRE", "h", "5", "FIELDS", "1", "a")
    clock.advance(6)
    assert r("EXISTS", "h") == 1
    assert r("HGET", "h", "a") is None
    assert r("EXISTS", "h") == 0


def test_active_field_expiry(r, clock, engine):
    for i in range(10):
        r("HSET", f"h{i}", "a", "1", "b", "2")
        r("HPEXPIRE", f"h{i}", "10", "FIELDS", "1", "a")
    r("HSET", "solo", "x", "1")
    r("HPEXPIRE", "solo", "10", "FIELDS", "1", "x")
    r("HEXPIRE", "solo", "100", "FIELDS", "1", "x")  # stale heap entry
    clock.advance(11)
    engine.effects = []
    assert engine.active_expire() == 10
    assert all(r("HLEN", f"h{i}") == 1 for i in range(10))
    assert r("HLEN", "solo") == 1
    assert (0, [b"HDEL", b"h3", b"a"]) in engine.effects
    clock.advance(100_000)
    assert engine.active_expire() == 1
    assert r("EXISTS", "solo") == 0


def test_field_ttls_follow_rename(r, clock, engine):
    r("HSET", "h", "a", "1", "b", "2")
    r("HPEXPIRE", "h", "10", "FIELDS", "1", "a")
    r("RENAME", "h", "h2")
    clock.advance(11)
    assert engine.active_expire() == 1
    assert r("HLEN", "h2") == 1


def test_hgetex_hsetex(r, clock):
    r("HSETEX", "h", "PX", "100", "FIELDS", "2", "a", "1", "b", "2")
    assert r("HPTTL", "h", "FIELDS", "2", "a", "b") == [100, 100]
    assert r("HGETEX", "h", "PERSIST", "FIELDS", "1", "a") == [b"1"]
    clock.advance(101)
    assert r("HGETEX", "h", "FIELDS", "2", "a", "b") == [b"1", None]
    assert r("HSETEX", "h", "FNX", "FIELDS", "1", "b", "3") == 1


def test_propagation_replay_field_ttls(engine, clock):
    run_and_replay(engine, clock, [
        ("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"),
        ("HEXPIRE", "h", "100", "FIELDS", "2", "a", "b"), ("HPEXPIRE", "h", "10", "NX", "FIELDS", "1", "c"),
        ("HPERSIST", "h", "FIELDS", "1", "b"), ("HEXPIREAT", "h", "1", "FIELDS", "1", "d"),
        ("HINCRBYFLOAT", "h", "a", "1.5"), ("HGETEX", "h", "EX", "50", "FIELDS", "1", "b"),
        ("HSETEX", "g", "EX", "30", "FIELDS", "1", "x", "1"), ("HSETEX", "g", "PX", "0", "FIELDS", "1", "y", "2"),
        ("HGETDEL", "g", "FIELDS", "1", "nope"), ("HSET", "k", "f", "v"),
        ("HPEXPIRE", "k", "5", "FIELDS", "1", "f"), ("HGET", "h", "c"), ("HGET", "k", "f"),
    ], advance={12: 11})


def test_rewrite_keeps_field_ttls(engine, clock, r):
    """The AOF rewrite / snapshot form of a hash carries its field TTLs."""
    r("HSET", "h", "a", "1", "b", "2", "c", "3")
    r("HPEXPIRE", "h", "5000", "FIELDS", "2", "a", "b")
    r("HEXPIRE", "h", "60", "FIELDS", "1", "c")
    other = replay(list(dataset_commands(engine)), clock)
    assert snapshot(other) == snapshot(engine)
