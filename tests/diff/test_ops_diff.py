"""SLOWLOG, LATENCY and MODULE against a real Redis 8.2.

The slow log is compared entry by entry with everything logged
(``slowlog-log-slower-than 0``): arguments as Redis trims and redacts them, which
client (address present or not, name), in which order; ids, times and durations
are normalised (they differ by nature). The latency monitor is fed by a command
that really takes time on both sides (``DEBUG SLEEP``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.diff import EngineConn, RedisConn
from tests.support.redis_proc import ServerProc, have_redis, start_redis, start_streamlite

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def debug_redis() -> Iterator[ServerProc]:
    if not have_redis():
        pytest.skip("needs redis-server")
    srv = start_redis(extra=["--enable-debug-command", "yes"])
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def sl_server() -> Iterator[ServerProc]:
    """A streamlite server: DEBUG SLEEP really sleeps there (the engine alone cannot)."""
    srv = start_streamlite(["--enable-debug-command", "yes", "--save", ""])
    yield srv
    srv.cleanup()


def _norm_entries(entries: Any) -> list[Any]:
    """Entries without what differs by nature: id (relative to the newest), time,
    duration, the address's value (present or not is kept)."""
    if not entries:
        return entries
    top = entries[0][0]
    return [[top - e[0], e[3], bool(e[4]), e[5]] for e in entries]


def both(port: int) -> tuple[RedisConn, EngineConn]:
    r = RedisConn(port)
    r.call("FLUSHALL")
    return r, EngineConn()


SLOW_SCRIPT: list[tuple[Any, ...]] = [
    ("SET", "k", "x" * 200),
    ("SET", "exact", "y" * 128),
    ("SET", "over", "y" * 129),
    ("RPUSH", "l", *range(40)),
    ("RPUSH", "l2", *range(31)),
    ("RPUSH", "l3", *range(30)),
    ("AUTH", "foo"),
    ("AUTH", "user", "pass"),
    ("HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n1"),
    ("CONFIG", "SET", "masterauth", "abc"),
    ("CONFIG", "SET", "masterauth", ""),
    ("CLIENT", "SETNAME", "nm"),
    ("MULTI",),
    ("SET", "a", "b"),
    ("INCR", "a"),
    ("EXEC",),
    ("EVAL", "redis.call('set','a','b') return redis.call('get', 'a')", "0"),
    ("GET", "missing"),
    ("CLIENT", "SETNAME", ""),
]


def test_slowlog_entries_like_redis(debug_redis: ServerProc) -> None:
    r, e = both(debug_redis.port)
    try:
        for side in (r, e):
            assert side.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == b"OK"
            assert side.call("SLOWLOG", "RESET") == b"OK"
        for cmd in SLOW_SCRIPT:
            a, b = r.call(*cmd), e.call(*cmd)
            if cmd[0] != "HELLO":  # HELLO tells the version
                assert a == b, cmd
        a = r.call("SLOWLOG", "GET", "-1")
        b = e.call("SLOWLOG", "GET", "-1")
        assert _norm_entries(a) == _norm_entries(b)
        assert r.call("SLOWLOG", "LEN") == e.call("SLOWLOG", "LEN")
        for args in (("2",), ("0",), ("-1",), ("-2",), ("x",), ("1", "2"),
                     ("99999999999999999999",)):
            a = r.call("SLOWLOG", "GET", *args)
            b = e.call("SLOWLOG", "GET", *args)
            if isinstance(a, list):
                a, b = _norm_entries(a), _norm_entries(b)
            assert a == b, args
        # a smaller max length takes effect at the next entry
        for side in (r, e):
            side.call("CONFIG", "SET", "slowlog-max-len", "3")
        assert r.call("SLOWLOG", "LEN") == e.call("SLOWLOG", "LEN")
        assert _norm_entries(r.call("SLOWLOG", "GET", "-1")) == \
            _norm_entries(e.call("SLOWLOG", "GET", "-1"))
        # disabled: nothing more is logged
        for side in (r, e):
            side.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
            side.call("SLOWLOG", "RESET")
            side.call("SET", "x", "1")
        assert r.call("SLOWLOG", "LEN") == e.call("SLOWLOG", "LEN") == 0
        for cmd in (("SLOWLOG", "HELP"), ("SLOWLOG", "LEN", "x"), ("SLOWLOG", "RESET", "x"),
                    ("SLOWLOG", "FOO"), ("SLOWLOG",), ("SLOWLOG", "HELP", "x")):
            assert r.call(*cmd) == e.call(*cmd), cmd
    finally:
        for side in (r, e):
            side.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
            side.call("CONFIG", "SET", "slowlog-max-len", "128")
        r.close()


def test_slowlog_default_threshold_skips_fast_commands(debug_redis: ServerProc,
                                                       sl_server: ServerProc) -> None:
    r, e = RedisConn(debug_redis.port), RedisConn(sl_server.port)
    try:
        for side in (r, e):
            side.call("SLOWLOG", "RESET")
            side.call("SET", "a", "1")
            side.call("DEBUG", "SLEEP", "0.02")  # 20 ms > 10 ms: logged
        a, b = r.call("SLOWLOG", "GET"), e.call("SLOWLOG", "GET")
        assert _norm_entries(a) == _norm_entries(b) == [[0, [b"DEBUG", b"SLEEP", b"0.02"], True, b""]]
        assert a[0][2] >= 20000 and b[0][2] >= 20000
    finally:
        r.close()


def test_latency_monitor_like_redis(debug_redis: ServerProc, sl_server: ServerProc) -> None:
    r, e = RedisConn(debug_redis.port), RedisConn(sl_server.port)
    try:
        for side in (r, e):
            side.call("LATENCY", "RESET")
            assert side.call("CONFIG", "SET", "latency-monitor-threshold", "0") == b"OK"
        assert r.call("LATENCY", "DOCTOR") == e.call("LATENCY", "DOCTOR")
        for side in (r, e):
            side.call("CONFIG", "SET", "latency-monitor-threshold", "5")
            side.call("PING")
        for cmd in (("LATENCY", "LATEST"), ("LATENCY", "HISTORY", "command"),
                    ("LATENCY", "DOCTOR"), ("LATENCY", "GRAPH", "command"),
                    ("LATENCY", "HISTORY"), ("LATENCY", "RESET"), ("LATENCY", "HELP"),
                    ("LATENCY", "FOO")):
            assert r.call(*cmd) == e.call(*cmd), cmd
        for side in (r, e):
            side.call("DEBUG", "SLEEP", "0.03")
        a, b = r.call("LATENCY", "LATEST"), e.call("LATENCY", "LATEST")
        assert [x[0] for x in a] == [x[0] for x in b] == [b"command"]
        assert b[0][2] >= 30 and b[0][3] == b[0][2]
        assert len(r.call("LATENCY", "HISTORY", "command")) == \
            len(e.call("LATENCY", "HISTORY", "command")) == 1
        # the report and the graph show the measured values and the seconds since:
        # the same text when both measured the same (a noisy machine may not)
        if a == b:
            for cmd in (("LATENCY", "DOCTOR"), ("LATENCY", "GRAPH", "command")):
                assert r.call(*cmd) == e.call(*cmd), cmd
        for cmd in (("LATENCY", "RESET", "nothing", "COMMAND"), ("LATENCY", "LATEST"),
                    ("LATENCY", "GRAPH", "command")):
            assert r.call(*cmd) == e.call(*cmd), cmd
    finally:
        for side in (r, e):
            side.call("CONFIG", "SET", "latency-monitor-threshold", "0")
            side.call("LATENCY", "RESET")
            side.close()


def test_module_like_redis(debug_redis: ServerProc) -> None:
    r, e = both(debug_redis.port)
    try:
        for cmd in (("MODULE", "HELP"), ("MODULE", "LOAD", "/nonexistent.so"),
                    ("MODULE", "LOADEX", "/x.so", "CONFIG", "a", "b"),
                    ("MODULE", "UNLOAD", "foo"), ("MODULE", "FOO"), ("MODULE", "LIST", "x"),
                    ("MODULE",)):
            assert r.call(*cmd) == e.call(*cmd), cmd
        # Redis 8.2 lists its built-in vectorset module; streamlite loads none
        assert e.call("MODULE", "LIST") == []
    finally:
        r.close()


def _latencystats(conn: Any) -> dict[bytes, list[bytes]]:
    """INFO latencystats as {command: [percentile names]} (the values are timings)."""
    text = conn.call("INFO", "latencystats")
    out = {}
    for line in text.split(b"\r\n"):
        if line.startswith(b"latency_percentiles_usec_"):
            name, _, vals = line[len(b"latency_percentiles_usec_"):].partition(b":")
            out[name] = [v.split(b"=")[0] for v in vals.split(b",")]
    return out


def _calls(reply: Any) -> dict[bytes, int]:
    """LATENCY HISTOGRAM's reply (RESP2: flat pairs) as {command: calls}."""
    pairs = zip(reply[::2], reply[1::2], strict=True)
    return {name: dict(zip(v[::2], v[1::2], strict=True))[b"calls"] for name, v in pairs}


def test_latency_tracking_like_redis(debug_redis: ServerProc) -> None:
    """Per-command latency histograms: INFO latencystats lists the same commands and
    percentiles, LATENCY HISTOGRAM the same commands and call counts, as Redis."""
    r, e = both(debug_redis.port)
    try:
        script = [("CONFIG", "RESETSTAT"), ("SET", "a", "1"), ("SET", "b", "2"), ("GET", "a"),
                  ("CONFIG", "GET", "maxmemory"), ("LPUSH", "l", "x")]
        for cmd in script:
            assert r.call(*cmd) == e.call(*cmd)
        assert _latencystats(r) == _latencystats(e)
        for args in ((), ("set",), ("config",), ("config|get",), ("nosuch", "get")):
            a = r.call("LATENCY", "HISTOGRAM", *args)
            b = e.call("LATENCY", "HISTOGRAM", *args)
            assert _calls(a) == _calls(b), args
        for side in (r, e):
            side.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.99")
        assert _latencystats(r) == _latencystats(e)
        for side in (r, e):
            side.call("CONFIG", "SET", "latency-tracking", "no")
            side.call("CONFIG", "RESETSTAT")
            side.call("SET", "a", "1")
        assert _latencystats(r) == _latencystats(e) == {}
    finally:
        for side in (r, e):
            side.call("CONFIG", "SET", "latency-tracking", "yes")
            side.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
        r.close()


def test_thresholds_from_the_command_line() -> None:
    """``--slowlog-log-slower-than 0`` at start (config-file path, no CONFIG SET) takes
    effect: the engine's cached thresholds follow the loaded config."""
    srv = start_streamlite(["--save", "", "--slowlog-log-slower-than", "0"])
    try:
        c = RedisConn(srv.port)
        c.call("SET", "k", "v")
        entries = c.call("SLOWLOG", "GET", "-1")
        assert [b"SET", b"k", b"v"] in [e[3] for e in entries]
        c.close()
    finally:
        srv.cleanup()
