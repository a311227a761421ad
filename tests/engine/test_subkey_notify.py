"""Subkey (hash field) notifications of Redis 8.8, from its docs (no released Redis
here to compare with): the four channel kinds, their payloads, and which hash
commands send which event."""

from __future__ import annotations

from tests.conftest import Runner

from streamlite.engine import Engine


def _sub(engine: Engine) -> Runner:
    s = Runner(engine)
    s("PSUBSCRIBE", "__subkey*")
    s.client.pushed.clear()
    return s


def _got(s: Runner) -> list[tuple[bytes, bytes]]:
    out = [(m[2], m[3]) for m in s.client.pushed if m[0] == b"pmessage"]
    s.client.pushed.clear()
    return out


def test_channels_and_payloads(r: Runner, engine: Engine) -> None:
    assert r("CONFIG", "SET", "notify-keyspace-events", "STIV") == b"OK"
    assert r("CONFIG", "GET", "notify-keyspace-events") == {b"notify-keyspace-events": b"STIV"}
    s = _sub(engine)
    r("HSET", "myhash", "field1", "val1", "f2", "v")
    assert _got(s) == [
        (b"__subkeyspace@0__:myhash", b"hset|6:field1,2:f2"),
        (b"__subkeyevent@0__:hset", b"6:myhash|6:field1,2:f2"),
        (b"__subkeyspaceitem@0__:myhash\nfield1", b"hset"),
        (b"__subkeyspaceitem@0__:myhash\nf2", b"hset"),
        (b"__subkeyspaceevent@0__:hset|myhash", b"6:field1,2:f2"),
    ]
    r("HSET", "a\nb", "x", "1")  # a newline in the key: no item channel
    assert [ch for ch, _ in _got(s)] == [
        b"__subkeyspace@0__:a\nb", b"__subkeyevent@0__:hset", b"__subkeyspaceevent@0__:hset|a\nb"]
    r("SET", "str", "x")  # not a hash: nothing
    r("HDEL", "myhash", "nosuch")  # nothing deleted: nothing
    assert _got(s) == []


def test_events_of_hash_commands(r: Runner, engine: Engine, clock) -> None:
    r("CONFIG", "SET", "notify-keyspace-events", "S")
    s = _sub(engine)
    r("HSET", "h", "a", "1", "b", "2", "c", "3")
    r("HSETNX", "h", "a", "9")  # not set: nothing
    r("HSETNX", "h", "d", "4")
    r("HDEL", "h", "a", "zz")
    r("HINCRBY", "h", "b", "5")
    r("HINCRBYFLOAT", "h", "b", "0.5")
    r("HEXPIRE", "h", "100", "FIELDS", "2", "c", "nosuch")
    r("HPERSIST", "h", "FIELDS", "2", "c", "d")
    r("HGETDEL", "h", "FIELDS", "1", "d")
    r("HSETEX", "h", "PX", "50", "FIELDS", "1", "e", "5")
    clock.advance(100)
    r("HGET", "h", "e")  # lazily expired
    assert [p for _, p in _got(s)] == [
        b"hset|1:a,1:b,1:c", b"hset|1:d", b"hdel|1:a", b"hincrby|1:b", b"hincrbyfloat|1:b",
        b"hexpire|1:c", b"hpersist|1:c", b"hdel|1:d", b"hset|1:e", b"hexpire|1:e",
        b"hexpired|1:e"]


def test_independent_of_key_level_flags(r: Runner, engine: Engine) -> None:
    r("CONFIG", "SET", "notify-keyspace-events", "KEA")
    s = _sub(engine)
    r("HSET", "h", "a", "1")
    assert _got(s) == []
    assert r("CONFIG", "SET", "notify-keyspace-events", "X").startswith(b"ERR")
