"""DEBUG DIGEST / DIGEST-VALUE: equal content gives an equal digest whatever the layout
(a COPY, a DUMP/RESTORE, a replay of the propagated commands), as Redis's own tests
(keyspace.tcl's COPY tests, the DEBUG RELOAD checks) rely on; any change shows."""

from __future__ import annotations

import pytest

from streamlite.engine import Engine, FakeClock
from streamlite.engine.replies import SimpleString


@pytest.fixture(autouse=True)
def _debug_on(engine: Engine) -> None:
    engine.config["enable-debug-command"] = "yes"  # an immutable setting, as in Redis


def _engine(ms: int) -> Engine:
    e = Engine(FakeClock(ms))
    e.config["enable-debug-command"] = "yes"
    return e


def _fill(r) -> None:
    r("SET", "str", "v", "PX", "100000")
    r("RPUSH", "list", "a", "b", "c")
    r("SADD", "set", *[str(i) for i in range(20)], "x")
    r("HSET", "hash", "f1", "1", "f2", "2")
    r("HPEXPIRE", "hash", "50000", "FIELDS", "1", "f1")
    r("ZADD", "zset", "1", "a", "2.5", "b", "-3", "c")
    for i in range(1, 8):
        r("XADD", "stream", f"{i}-1", "f", str(i))
    r("XDEL", "stream", "3-1")
    r("XGROUP", "CREATE", "stream", "g", "0")
    r("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "stream", ">")
    r("XACK", "stream", "g", "1-1")
    r("XNACK", "stream", "g", "FAIL", "IDS", "1", "2-1")


KEYS = ("str", "list", "set", "hash", "zset", "stream")


def _dv(r, *keys: str) -> list[bytes]:
    return [bytes(d) for d in r("DEBUG", "DIGEST-VALUE", *keys)]


def test_copy_has_the_same_digest(r):
    _fill(r)
    for k in KEYS:
        assert r("COPY", k, k + "2") == 1
        a, b = _dv(r, k, k + "2")
        assert a == b and a != b"0" * 40, k


def test_replies_are_status_and_missing_keys_zero(r):
    assert r("DEBUG", "DIGEST") == SimpleString(b"0" * 40)
    out = r("DEBUG", "DIGEST-VALUE", "nokey")
    assert out == [b"0" * 40] and type(out[0]) is SimpleString
    r("SET", "a", "b")
    assert r("DEBUG", "DIGEST") != b"0" * 40


def test_every_change_shows(r):
    _fill(r)
    before = _dv(r, *KEYS)
    total = r("DEBUG", "DIGEST")
    r("PEXPIRE", "str", "99999")
    r("LSET", "list", "1", "B")
    r("SADD", "set", "y")
    r("HSET", "hash", "f2", "3")
    r("ZINCRBY", "zset", "1", "a")
    r("XACK", "stream", "g", "4-1")
    after = _dv(r, *KEYS)
    same = [k for k, x, y in zip(KEYS, before, after, strict=True) if x == y]
    assert not same, same
    assert r("DEBUG", "DIGEST") != total


def test_set_order_does_not_matter(r):
    r("SADD", "s1", *[str(i) for i in range(300)])
    r("SADD", "s2", *[str(i) for i in reversed(range(300))], "gone")
    r("SREM", "s2", "gone")
    r("HSET", "h1", "a", "1", "b", "2")
    r("HSET", "h2", "b", "2", "a", "1")
    assert _dv(r, "s1")[0] == _dv(r, "s2")[0]
    assert _dv(r, "h1")[0] == _dv(r, "h2")[0]


def test_dump_restore_and_replay_give_the_same_digests(clock, engine, r):
    engine.effects = []
    _fill(r)
    want = r("DEBUG", "DIGEST")
    # DUMP/RESTORE into a second engine, expiries kept
    other = _engine(clock.ms())
    oc = other.client()
    for k in KEYS:
        payload = r("DUMP", k)
        pttl = r("PTTL", k)
        args = [k.encode(), str(max(pttl, 0)).encode(), payload]
        other.execute(oc, [b"RESTORE", *args])
    assert [bytes(x) for x in other.execute(oc, [b"DEBUG", b"DIGEST-VALUE", *[k.encode() for k in KEYS]])] \
        == _dv(r, *KEYS)
    assert other.execute(oc, [b"DEBUG", b"DIGEST"]) == want
    # the propagated commands rebuild the same data
    third = _engine(clock.ms())
    tc = third.client()
    for _db, argv in engine.effects:
        third.execute(tc, list(argv))
    assert third.execute(tc, [b"DEBUG", b"DIGEST"]) == want
