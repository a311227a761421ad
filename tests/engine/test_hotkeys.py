"""HOTKEYS (Redis 8.6), from the command docs (no released Redis here to compare with)."""

from __future__ import annotations

from tests.conftest import Runner

from streamlite.engine.replies import ErrorReply


def _report(r: Runner) -> dict[bytes, object]:
    out = r("HOTKEYS", "GET")
    assert isinstance(out, list) and len(out) == 1
    return out[0]


def test_session_reports_the_hottest_keys(r: Runner, clock) -> None:
    assert r("HOTKEYS", "GET") is None
    assert r("HOTKEYS", "START", "METRICS", "2", "CPU", "NET", "COUNT", "2") == b"OK"
    assert isinstance(r("HOTKEYS", "START", "METRICS", "1", "CPU"), ErrorReply)
    for _ in range(5):
        r("SET", "hot", "x" * 100)
    r("SET", "warm", "y" * 50)
    r("SET", "cold", "z")
    r("MGET", "hot", "warm")
    clock.advance(1500)
    rep = _report(r)
    assert rep[b"tracking-active"] == 1
    assert rep[b"sample-ratio"] == 1
    # without SLOTS, the node's own slot ranges: all of them without cluster mode, one
    # [start, end] range (the HOTKEYS GET page's field list; a single slot would be [n])
    assert rep[b"selected-slots"] == [[0, 16383]]
    assert rep[b"collection-duration-ms"] == 1500
    net = rep[b"by-net-bytes"]
    assert net[0] == b"hot" and net[2] == b"warm" and len(net) == 4  # COUNT 2
    # request bytes + string reply bytes: 5 SETs ("OK" replies), then the MGET
    assert net[1] == 5 * (3 + 3 + 100 + 2) + (4 + 3 + 4) + (100 + 50)
    assert [net[i] for i in (0, 2)] == [b"hot", b"warm"]
    assert len(rep[b"by-cpu-time-us"]) == 4
    # the fields the pages list, in their order (redis-py's test_hotkeys_get_all_fields)
    assert list(rep)[-5:] == [b"total-cpu-time-user-ms", b"total-cpu-time-sys-ms",
                              b"total-net-bytes", b"by-cpu-time-us", b"by-net-bytes"]
    # every sampled command once (the MGET counts for both its keys above, once here)
    assert rep[b"total-net-bytes"] == (5 * (3 + 3 + 100 + 2) + (3 + 4 + 50 + 2)
                                       + (3 + 4 + 1 + 2) + (4 + 3 + 4) + (100 + 50))
    assert r("HOTKEYS", "RESET").startswith(b"ERR")  # still running
    assert r("HOTKEYS", "STOP") == b"OK"
    clock.advance(1000)
    r("SET", "later", "1")
    rep = _report(r)
    assert rep[b"tracking-active"] == 0 and rep[b"collection-duration-ms"] == 1500
    assert b"later" not in rep[b"by-net-bytes"]
    assert r("HOTKEYS", "RESET") == b"OK"
    assert r("HOTKEYS", "GET") is None


def test_duration_stops_by_itself_and_options(r: Runner, clock) -> None:
    assert r("HOTKEYS", "START", "METRICS", "1", "NET", "DURATION", "2") == b"OK"
    r("SET", "a", "1")
    clock.advance(2500)
    r("SET", "b", "1")
    rep = _report(r)
    assert rep[b"tracking-active"] == 0 and rep[b"collection-duration-ms"] == 2000
    assert b"by-cpu-time-us" not in rep and rep[b"by-net-bytes"][0] == b"a"
    assert b"total-cpu-time-user-ms" not in rep and rep[b"total-net-bytes"] == 3 + 1 + 1 + 2
    for bad in (("METRICS", "1", "DISK"), ("METRICS", "2", "CPU"), ("METRICS", "0"),
                ("FOO",), ("METRICS", "1", "CPU", "COUNT", "0"), ("METRICS", "1", "CPU", "X", "1")):
        assert isinstance(r("HOTKEYS", "START", *bad), ErrorReply), bad
    assert r("HOTKEYS", "START", "METRICS", "1", "CPU", "SLOTS", "1", "0").startswith(b"ERR SLOTS")
    assert len(r("HOTKEYS", "HELP")) > 4
