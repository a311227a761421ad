"""Busy scripts, side by side with a real Redis 8.2: -BUSY for others past
``busy-reply-threshold``, SCRIPT KILL / FUNCTION KILL, -UNKILLABLE, SHUTDOWN NOSAVE,
pcall and coroutines against a kill, scripts inside MULTI/EXEC, FCALL, EVAL_RO,
FUNCTION STATS while busy, INFO counters after, FUNCTION LOAD's time limit.

Each scenario runs the same steps on both servers and compares what every
connection received. No timing is asserted: a "busy" script loops forever (or
long enough), the observer polls with PING until it sees -BUSY (a bounded wait),
and the script ends when a test kills it.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import hiredis
import pytest
from tests.server.conftest import spawn
from tests.support.diff import _norm
from tests.support.redis_proc import ServerProc, have_redis, start_redis

from streamlite.protocol.resp import encode_command

pytestmark = pytest.mark.redis

THRESHOLD = "100"
LOOP = "while true do end"
BUSY_EVAL = ("ERR", "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
             "SHUTDOWN NOSAVE.")


class Wire:
    """A raw connection: send commands, read replies one by one (bounded waits)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = hiredis.Reader()

    def send(self, *argv: Any) -> None:
        self.sock.sendall(encode_command([a if isinstance(a, bytes) else str(a).encode()
                                          for a in argv]))

    def read(self, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            r = self.reader.gets()
            if r is not False:
                return _norm(r)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply")
            self.sock.settimeout(left)
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)

    def call(self, *argv: Any) -> Any:
        self.send(*argv)
        return self.read()

    def closed(self, timeout: float = 30.0) -> bool:
        try:
            self.read(timeout)
        except ConnectionError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


def wait_busy(w: Wire) -> Any:
    """PING until the answer is -BUSY (the script is past the threshold)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = w.call("PING")
        if r != b"PONG":
            return r
    raise TimeoutError("the script never became busy")


_ADDR = re.compile(r"0x[0-9a-f]+")


def mask(v: Any) -> Any:
    if isinstance(v, bytes):
        return re.sub(rb"0x[0-9a-f]+", b"0x?", v)
    if isinstance(v, tuple):
        return tuple(_ADDR.sub("0x?", x) if isinstance(x, str) else x for x in v)
    if isinstance(v, list):
        out = [mask(x) for x in v]
        for i in range(len(out) - 1):  # FUNCTION STATS: duration_ms varies
            if out[i] == b"duration_ms":
                out[i + 1] = "?"
        return out
    if isinstance(v, dict):
        return {k: ("?" if k == b"duration_ms" else mask(x)) for k, x in v.items()}
    return v


Scenario = Callable[[Callable[[], Wire]], list[Any]]


@pytest.fixture(scope="module")
def servers() -> Iterator[list[ServerProc]]:
    if not have_redis():
        pytest.skip("redis-server is not installed (CI installs it)")
    started = [start(["--busy-reply-threshold", THRESHOLD]) for start in (start_redis, spawn)]
    yield started
    for s in started:
        s.cleanup()


@pytest.fixture
def both(servers: list[ServerProc]) -> Iterator[Callable[..., Any]]:
    """``both(scenario)``: run it on Redis and on streamlite, compare what they sent."""
    wires: list[Wire] = []

    def run(scenario: Scenario) -> list[Any]:
        out = []
        for srv in servers:
            def connect(port: int = srv.port) -> Wire:
                w = Wire(port)
                wires.append(w)
                return w

            connect().call("FLUSHALL")
            out.append(mask(scenario(connect)))
            connect().call("CONFIG", "SET", "busy-reply-threshold", THRESHOLD)
        assert out[1] == out[0]
        return out[1]

    yield run
    for w in wires:
        w.close()


def kill_scenario(script_cmd: list[str], probes: list[list[str]], killer: list[str],
                  setup: list[list[str]] = ()) -> Scenario:
    def scenario(connect: Callable[[], Wire]) -> list[Any]:
        a, b = connect(), connect()
        log: list[Any] = [a.call(*s) for s in setup]
        a.send(*script_cmd)
        a.send("PING")  # pipelined behind the script: runs after it
        log.append(wait_busy(b))
        log += [[p, b.call(*p)] for p in probes]
        log.append(b.call(*killer))
        log += [a.read(), a.read()]
        log.append(b.call(*killer))  # nothing runs any more
        log.append(b.call("PING"))
        return log

    return scenario


LIB = ("#!lua name=busylib\n"
       "redis.register_function('loop', function(k, a) while true do end end)\n"
       "redis.register_function{function_name='roloop', callback=function(k, a) "
       "while true do end end, flags={'no-writes'}}")

EVAL_PROBES = [["GET", "x"], ["INFO", "stats"], ["FUNCTION", "STATS"], ["FUNCTION", "KILL"],
               ["SHUTDOWN"], ["SHUTDOWN", "SAVE"], ["CLIENT", "LIST"], ["SCRIPT", "FLUSH"],
               ["MULTI"], ["SET", "x", "1"], ["EXEC"], ["WATCH", "x"], ["UNWATCH"],
               ["AUTH", "nopass"], ["SCRIPT", "LOAD", "return 1"], ["EVAL", "return 1", "0"]]


def test_eval_busy_then_script_kill(both: Callable[..., Any]) -> None:
    log = both(kill_scenario(["EVAL", LOOP, "0"], EVAL_PROBES, ["SCRIPT", "KILL"]))
    assert log[0] == BUSY_EVAL


def test_fcall_busy_then_function_kill(both: Callable[..., Any]) -> None:
    probes = [["SCRIPT", "KILL"], ["FUNCTION", "STATS"], ["GET", "x"]]
    for cmd in (["FCALL", "loop", "0"], ["FCALL_RO", "roloop", "0"]):
        both(kill_scenario(cmd, probes, ["FUNCTION", "KILL"],
                           setup=[["FUNCTION", "LOAD", "REPLACE", LIB]]))


def test_eval_ro_and_evalsha(both: Callable[..., Any]) -> None:
    both(kill_scenario(["EVAL_RO", LOOP, "0"], [], ["SCRIPT", "KILL"]))

    def evalsha(connect: Callable[[], Wire]) -> list[Any]:
        a = connect()
        digest = a.call("SCRIPT", "LOAD", LOOP)
        return [digest] + kill_scenario(["EVALSHA", digest.decode(), "0"], [],
                                        ["SCRIPT", "KILL"])(connect)

    both(evalsha)


@pytest.mark.parametrize("script", [
    # pcall catches the kill on the line it happened, a new line raises it again
    "local ok, e = pcall(function() while true do end end) return {'swallowed', e}",
    "while true do pcall(function() while true do end end) end",
    "local ok, e = pcall(function() while true do end end)\nreturn {'next line', e}",
    "local co = coroutine.create(function() while true do end end) "
    "local ok, e = coroutine.resume(co) return {'swallowed', type(e)}",
    "local co = coroutine.create(function() while true do end end)\n"
    "local ok, e = coroutine.resume(co)\nreturn {'next line', type(e)}",
    "local f = coroutine.wrap(function() while true do end end) f() return 1",
    "local ok, e = xpcall(function() while true do end end, function(e) return e end) "
    "return {'swallowed', type(e)}",
    "redis.pcall('ping') while true do end",
])
def test_kill_reaches_through_pcall_and_coroutines(both: Callable[..., Any], script: str) -> None:
    both(kill_scenario(["EVAL", script, "0"], [], ["SCRIPT", "KILL"]))


def test_script_inside_multi_exec(both: Callable[..., Any]) -> None:
    def scenario(connect: Callable[[], Wire]) -> list[Any]:
        a, b = connect(), connect()
        for cmd in (["MULTI"], ["SET", "q", "1"], ["EVAL", LOOP, "0"], ["GET", "q"], ["EXEC"],
                    ["PING"]):
            a.send(*cmd)
        log = [wait_busy(b), b.call("GET", "q"), b.call("SCRIPT", "KILL")]
        log += [a.read() for _ in range(6)]
        return log

    both(scenario)


def test_writing_script_is_unkillable_and_shutdown_nosave_keeps_earlier_writes(
        tmp_path: Any) -> None:
    """A script that wrote cannot be killed; SHUTDOWN NOSAVE stops the server without
    its partial writes, while what was acknowledged before it stays in the AOF."""
    if not have_redis():
        pytest.skip("redis-server is not installed (CI installs it)")
    logs = []
    for i, start in enumerate((start_redis, spawn)):
        d = tmp_path / str(i)
        d.mkdir()
        srv = start(["--busy-reply-threshold", THRESHOLD, "--appendonly", "yes",
                     "--appendfsync", "always"], dir=str(d))
        a, b, c = Wire(srv.port), Wire(srv.port), Wire(srv.port)
        try:
            log = [c.call("SET", "before", "1")]
            a.send("EVAL", "redis.call('set', 'partial', '1') " + LOOP, "0")
            log.append(wait_busy(b))
            log += [b.call("SCRIPT", "KILL"), b.call("FUNCTION", "KILL"), b.call("SHUTDOWN")]
            b.send("SHUTDOWN", "NOSAVE")
            log += [b.closed(), a.closed()]
            srv.proc.wait(30)
        finally:
            for w in (a, b, c):
                w.close()
            srv.stop()
        again = start(["--appendonly", "yes"], dir=str(d))
        try:
            w = Wire(again.port)
            log += [w.call("GET", "before"), w.call("GET", "partial")]
            w.close()
        finally:
            again.cleanup()
        logs.append(log)
    assert logs[1] == logs[0]
    assert logs[0][-2:] == [b"1", None]


def test_script_writes_serve_blocked_clients_after_it_ends(both: Callable[..., Any]) -> None:
    """A busy script that ends by itself: its writes reach clients blocked on its keys
    only after it ends, after its own reply; what its client pipelined runs then."""
    script = "redis.call('rpush', 'q', 'x') local i = 0 while i < 100000000 do i = i + 1 end return i"

    def scenario(connect: Callable[[], Wire]) -> list[Any]:
        a, b, d = connect(), connect(), connect()
        d.send("BLPOP", "q", "0")
        deadline = time.monotonic() + 30
        while b"blocked_clients:1" not in (info := b.call("INFO", "clients")):
            assert time.monotonic() < deadline, info
        a.send("EVAL", script, "0")
        a.send("LLEN", "q")
        log = [wait_busy(b), b.call("SCRIPT", "KILL")]
        log += [a.read(120), a.read(), d.read(), b.call("PING")]
        return log

    both(scenario)


def test_before_the_threshold_nothing_else_runs(both: Callable[..., Any]) -> None:
    """Under busy-reply-threshold a slow script is not interrupted: another client's
    command waits for it and gets its normal reply."""
    def scenario(connect: Callable[[], Wire]) -> list[Any]:
        a, b = connect(), connect()
        a.call("CONFIG", "SET", "lua-time-limit", "60000")  # the fixture sets it back
        a.send("EVAL", "local i = 0 while i < 20000000 do i = i + 1 end return i", "0")
        b.send("PING")
        return [b.read(120), a.read(120), a.call("CONFIG", "GET", "busy-reply-threshold")]

    both(scenario)


def test_info_counts_rejected_commands(both: Callable[..., Any]) -> None:
    def scenario(connect: Callable[[], Wire]) -> list[Any]:
        a, b = connect(), connect()
        b.call("CONFIG", "RESETSTAT")
        a.send("EVAL", LOOP, "0")
        wait_busy(b)
        for cmd in (["GET", "k"], ["SET", "k", "v"], ["FUNCTION", "KILL"], ["SCRIPT", "KILL"]):
            b.call(*cmd)
        a.read()
        info = b.call("INFO", "everything").decode()
        keep = []
        for line in info.splitlines():
            if line.startswith("errorstat_") or line.startswith(("cmdstat_get", "cmdstat_set",
                                                                 "cmdstat_function", "cmdstat_script",
                                                                 "cmdstat_eval")):
                name, _, fields = line.partition(":")
                counts = [f for f in fields.split(",") if f.startswith(("calls", "rejected", "failed", "count"))]
                keep.append((name, counts))
        return sorted(keep)  # (the order of INFO commandstats lines is not compared)

    both(scenario)


def test_function_load_time_limit(both: Callable[..., Any]) -> None:
    def scenario(connect: Callable[[], Wire]) -> list[Any]:
        a = connect()
        return [a.call("FUNCTION", "LOAD", "#!lua name=slow\n" + LOOP), a.call("PING"),
                a.call("FUNCTION", "LOAD", "#!lua name=ok\nredis.register_function('f', "
                       "function() return 1 end)"), a.call("FCALL", "f", "0")]

    both(scenario)


def test_lua_time_limit_is_an_alias(both: Callable[..., Any]) -> None:
    def scenario(connect: Callable[[], Wire]) -> list[Any]:
        a = connect()
        return [a.call("CONFIG", "SET", "lua-time-limit", "1234"),
                a.call("CONFIG", "GET", "busy-reply-threshold"),
                a.call("CONFIG", "GET", "lua-time-limit"),
                a.call("CONFIG", "SET", "busy-reply-threshold", "-1"),
                a.call("CONFIG", "SET", "busy-reply-threshold", "0"),
                a.call("CONFIG", "GET", "lua*")]

    both(scenario)
