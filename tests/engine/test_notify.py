"""Keyspace notifications on the engine alone (what a differential test cannot
cover: random SPOP counts, the config letters, the cost-free default, loading)."""

from __future__ import annotations

from typing import Any

from tests.engine.standins import Conn

from streamlite.engine import Engine, FakeClock
from streamlite.engine.notify import enabled


def _pair(flags: str) -> tuple[Engine, Conn, Conn]:
    eng = Engine(FakeClock())
    w, sub = Conn(eng), Conn(eng)
    assert w("CONFIG", "SET", "notify-keyspace-events", flags) == b"OK"
    sub("PSUBSCRIBE", "__key*__:*")
    return eng, w, sub


def _events(sub: Conn) -> list[tuple[bytes, bytes]]:
    return [(m[2], m[3]) for m in sub.pushes()]


def test_off_by_default_publishes_nothing():
    eng = Engine(FakeClock())
    w, sub = Conn(eng), Conn(eng)
    sub("PSUBSCRIBE", "*")
    w("XADD", "s", "*", "f", "v")
    w("SET", "k", "v", "EX", "10")
    w("DEL", "k")
    assert sub.pushes() == []
    assert not enabled(eng, "t")


def test_classes_without_k_or_e_publish_nothing():
    eng, w, sub = _pair("gt")
    w("XADD", "s", "*", "f", "v")
    assert sub.pushes() == []
    assert not enabled(eng, "t")


def test_spop_with_count_one_event():
    eng, w, sub = _pair("Ks")
    w("SADD", "s", *[str(i) for i in range(20)])
    sub.pushes()
    got: Any = w("SPOP", "s", "3")
    assert len(got) == 3
    assert _events(sub) == [(b"__keyspace@0__:s", b"spop")]
    w("SPOP", "s", "15")  # the rest of them but 2
    assert _events(sub) == [(b"__keyspace@0__:s", b"spop")]


def test_config_get_shows_redis_form_and_keeps_hidden_classes():
    eng, w, sub = _pair("Anm")
    # as Redis: "A" hides the "n" given with it, yet "n" stays on
    assert w("CONFIG", "GET", "notify-keyspace-events") == {b"notify-keyspace-events": b"Am"}
    assert not enabled(eng, "n")  # no K nor E: nothing is published
    w("CONFIG", "SET", "notify-keyspace-events", "KAn")
    assert w("CONFIG", "GET", "notify-keyspace-events") == {b"notify-keyspace-events": b"AK"}
    assert enabled(eng, "n")
    sub.pushes()
    w("SET", "k", "v")
    assert _events(sub) == [(b"__keyspace@0__:k", b"new"), (b"__keyspace@0__:k", b"set")]


def test_selected_db_and_move_targets():
    eng, w, sub = _pair("KEg")
    w("SELECT", "3")
    w("SET", "k", "v")
    w("MOVE", "k", "4")
    assert _events(sub) == [
        (b"__keyspace@3__:k", b"move_from"), (b"__keyevent@3__:move_from", b"k"),
        (b"__keyspace@4__:k", b"move_to"), (b"__keyevent@4__:move_to", b"k"),
    ]


def test_no_events_while_loading():
    eng, w, sub = _pair("KEA")
    eng.loading = True
    try:
        w.client.is_master = True
        eng.execute(w.client, [b"XADD", b"s", b"1-1", b"f", b"v"])
    finally:
        eng.loading = False
    assert sub.pushes() == []


def test_active_expiry_events():
    eng, w, sub = _pair("Ex")
    w("SET", "a", "1", "PX", "10")
    w("SET", "b", "1", "PX", "10")
    eng.clock.advance(20)  # type: ignore[attr-defined]
    assert eng.active_expire() == 2
    assert sorted(_events(sub)) == [(b"__keyevent@0__:expired", b"a"),
                                    (b"__keyevent@0__:expired", b"b")]
