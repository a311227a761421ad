"""HIMPORT (Redis 8.10), from the command docs (no released Redis here to compare with)."""

from __future__ import annotations

from tests.conftest import Runner

from streamlite.engine.replies import ErrorReply


def test_prepare_set_discard(r: Runner, engine) -> None:
    assert r("HIMPORT", "PREPARE", "u", "name", "email", "age") == b"OK"
    assert r("HIMPORT", "SET", "user:1", "u", "alice", "a@example.com", "30") == b"OK"
    assert r("HIMPORT", "SET", "user:2", "u", "bob", "b@example.com", "25") == b"OK"
    assert r("HGET", "user:1", "name") == b"alice"
    assert r("HGET", "user:1", "email") == b"a@example.com"
    assert r("HGETALL", "user:2") == {b"name": b"bob", b"email": b"b@example.com", b"age": b"25"}
    r("HSET", "user:3", "other", "x")
    engine.effects = []
    assert r("HIMPORT", "SET", "user:3", "u", "c", "d", "1") == b"OK"  # overwrites
    assert r("HEXISTS", "user:3", "other") == 0
    assert engine.effects == [(0, [b"DEL", b"user:3"]),
                              (0, [b"HSET", b"user:3", b"name", b"c", b"email", b"d",
                                   b"age", b"1"])]
    assert isinstance(r("HIMPORT", "SET", "k", "u", "only-one"), ErrorReply)
    assert isinstance(r("HIMPORT", "SET", "k", "nosuch", "a", "b", "c"), ErrorReply)
    assert isinstance(r("HIMPORT", "PREPARE", "d", "a", "a"), ErrorReply)
    assert r("HIMPORT", "DISCARD", "u") == 1
    assert r("HIMPORT", "DISCARD", "u") == 0
    r("HIMPORT", "PREPARE", "a", "x")
    r("HIMPORT", "PREPARE", "b", "y")
    assert r("HIMPORT", "DISCARDALL") == 2


def test_fieldsets_belong_to_the_connection_and_reset(r: Runner, engine) -> None:
    r("HIMPORT", "PREPARE", "u", "f")
    other = Runner(engine)
    assert isinstance(other("HIMPORT", "SET", "k", "u", "v"), ErrorReply)
    r("RESET")
    assert isinstance(r("HIMPORT", "SET", "k", "u", "v"), ErrorReply)
    assert r("COMMAND", "GETKEYS", "HIMPORT", "SET", "k", "u", "v") == [b"k"]


def test_set_replaces_a_hash_but_not_another_type(r: Runner) -> None:
    """redis-py's test_wrongtype_on_non_hash_key (run against Redis 8.10)."""
    r("HIMPORT", "PREPARE", "u", "name", "age")
    r("HSET", "h", "old", "1")
    assert r("HIMPORT", "SET", "h", "u", "ann", "30") == b"OK"
    assert r("HGETALL", "h") == {b"name": b"ann", b"age": b"30"}
    r("SET", "s", "notahash")
    assert r("HIMPORT", "SET", "s", "u", "bob", "40").startswith(b"WRONGTYPE")
    assert r("GET", "s") == b"notahash"
