"""The embedded connection's compiled XADD (``engine.fastpath.fast_xadd``, _fastpath.c)
against the Python path it stands in for.

Two embedded engines on data directories (AOF on) and fake clocks get the same
commands through redis-py, one by one (``execute_command``: the embedded short path,
``Host.call``) or in a pipeline (``Host.run``), one with ``fastpath.fast_xadd`` on, one with it off (``Engine.execute``
for every command). Compared after each script: every reply (or error), INFO
commandstats calls/failed/rejected, total commands, the dirty counter, errors, the
client's last command, every stream's nodes field by field and the AOF bytes. The fast
side counts the XADDs the C code ran, so a script it never served does not pass
unnoticed.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import ResponseError

from streamlite.embedded import Embedded
from streamlite.engine import fastpath
from streamlite.engine.clock import FakeClock
from tests.server.test_fastpath import KEYS, START_MS, _node_state, b_, keys, pairs, xadd

pytestmark = pytest.mark.skipif(fastpath.fast_xadd is None,
                                reason="the C accelerator (its fast path) is not active")

REAL = fastpath.fast_xadd
SERVED = [0]


def _counting(*args: Any) -> Any:
    r = REAL(*args)
    SERVED[0] += r is not None
    return r


class Side:
    """One embedded engine on a data directory and a redis-py client on it."""

    def __init__(self, path: str, fast: bool) -> None:
        self.fast = fast
        self.dir = path
        self.emb = Embedded(path, clock=FakeClock(START_MS), appendfsync="no",
                            auto_aof_rewrite_percentage=0)
        self.r = self.emb.client()

    @property
    def engine(self) -> Any:
        return self.emb.engine

    def run(self, cmds: list[list[bytes]], piped: bool = False) -> list[Any]:
        """Each command through the short path (``Host.call``), or all in one pipeline
        (``Host.run``); its reply, or its error as text."""
        fastpath.fast_xadd = _counting if self.fast else None
        out: list[Any] = []
        try:
            if piped:
                p = self.r.pipeline(transaction=False)
                for c in cmds:
                    p.execute_command(*c)
                got = p.execute(raise_on_error=False)
                p.reset()
                return [f"error: {x}" if isinstance(x, ResponseError) else x for x in got]
            for c in cmds:
                try:
                    out.append(self.r.execute_command(*c))
                except ResponseError as e:
                    out.append(f"error: {e}")
        finally:
            fastpath.fast_xadd = REAL
        return out

    def stats(self) -> Any:
        e = self.engine
        cmdstats = {k: (v[0], v[2], v[3]) for k, v in e.command_stats.items()}
        last = [getattr(s.client.last_command, "name", None)
                for s in self.emb.host.sessions.values()]
        return cmdstats, e.stats_commands, e.dirty, e.stats_error_replies, last

    def aof(self) -> bytes:
        self.emb.host.flush()
        out = b""
        for p in sorted(glob.glob(os.path.join(self.dir, "appendonlydir", "*.incr.aof"))):
            with open(p, "rb") as f:
                out += f.read()
        return out

    def close(self) -> None:
        self.r.close()
        self.emb.close()


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    base = tmp_path_factory.mktemp("emb-fastpath")
    a, b = Side(str(base / "fast"), True), Side(str(base / "python"), False)
    yield a, b
    a.close()
    b.close()


def run_twin(twin: tuple[Side, Side], setup: list[list[bytes]],
             script: list[list[bytes]], ks_cap: int = 4096, piped: bool = False) -> int:
    """Run the script on both sides; assert everything equal. The XADDs the C code ran."""
    served = SERVED[0]
    results = []
    for side in twin:
        side.run([b_("UNWATCH"), b_("SELECT", "0"), b_("FLUSHALL"), b_("CONFIG", "RESETSTAT"),
                  *setup])
        for db in side.engine.dbs:
            db.ks_cap = ks_cap
        replies = side.run(script, piped)
        results.append((replies, side.stats(), _node_state(side.engine)))
    (ra, sa, na), (rb, sb, nb) = results
    for i, (x, y) in enumerate(zip(ra, rb, strict=True)):
        assert x == y, f"command {i}: {script[i]!r}\n fast: {x!r}\n python: {y!r}"
    assert sa == sb
    assert na == nb
    assert twin[0].aof() == twin[1].aof()
    return SERVED[0] - served


other = st.one_of(
    st.builds(lambda k: [b"XLEN", k], keys),
    st.builds(lambda k: [b"XRANGE", k, b"-", b"+"], keys),
    st.builds(lambda k: [b"DEL", k], keys),
    st.builds(lambda k: [b"XTRIM", k, b"MAXLEN", b"3"], keys),
    st.builds(lambda k: [b"EXPIRE", k, b"1000"], keys),
    st.builds(lambda k: [b"WATCH", k], keys), st.just([b"UNWATCH"]),
    st.just([b"SELECT", b"1"]), st.just([b"SELECT", b"0"]),
    st.just([b"SET", b"str", b"x"]), st.just([b"PING"]),
)
plain = st.builds(lambda k, p: [b"XADD", k, b"*", *p], st.sampled_from(KEYS[:2]), pairs)
command = st.one_of(xadd, xadd, plain, plain, other)
limits = st.tuples(st.sampled_from([b"0", b"1", b"3", b"100"]),
                   st.sampled_from([b"0", b"60", b"300", b"4096"]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(command, min_size=1, max_size=60), limits, st.sampled_from([1, 2, 4096]),
       st.booleans())
def test_random_commands_match_the_python_path(twin, script, lim, ks_cap, piped):
    setup = [b_("CONFIG", "SET", "stream-node-max-entries", lim[0],
                "stream-node-max-bytes", lim[1]),
             b_("XADD", "s1", "1-1", "f", "v"), b_("XADD", "s2", "1-1", "g", "w", "f", "v"),
             b_("SET", "str", "x")]
    run_twin(twin, setup, script, ks_cap, piped)


def test_xadds_one_by_one_run_in_c(twin):
    """The plain case, as ``r.xadd`` sends it, across many nodes."""
    setup = [b_("XADD", "s1", "1-1", "f", "v")]
    script = [b_("XADD", "s1", "*", "f", i, "g", "x" * (i % 70)) for i in range(1500)]
    script += [b_("XADD", "s1", "MAXLEN", "~", "100", "*", "f", "v")] * 10
    assert run_twin(twin, setup, script) == 1510


def test_pipelined_xadds_run_in_c(twin):
    """The same through a pipeline (``Host.run``), XADDs mixed with other commands."""
    setup = [b_("XADD", "s1", "1-1", "f", "v"), b_("XADD", "s2", "1-1", "f", "v")]
    script = [b_("XADD", "s1" if i % 3 else "s2", "*", "f", i) for i in range(600)]
    script[100:100] = [b_("XLEN", "s1"), b_("DEL", "s2"), b_("XADD", "s2", "*", "f", "v")]
    served = run_twin(twin, setup, script, piped=True)
    assert served == 600  # the XADD that made s2 again went to Python


def test_redis_py_xadd_and_decoding(twin):
    """``r.xadd`` itself, and a client decoding replies: the same IDs, as str."""
    for side in twin:
        side.run([b_("FLUSHALL"), b_("XADD", "s1", "1-1", "f", "v")])

    def xadds(side, fast_xadd):  # a plain client's XADD, then a decoding client's
        fastpath.fast_xadd = fast_xadd
        try:
            raw = side.r.xadd("s1", {"f": "v"})
            rd = side.emb.client(decode_responses=True)
            decoded = rd.xadd("s1", {"f": "w"}, maxlen=5)
            rd.close()
        finally:
            fastpath.fast_xadd = REAL
        return raw, decoded

    SERVED[0] = 0
    fast, fast_d = xadds(twin[0], _counting)
    assert SERVED[0] == 2
    slow, slow_d = xadds(twin[1], None)
    assert (fast, fast_d) == (slow, slow_d)
    assert type(fast) is bytes and type(fast_d) is str


def test_slow_log_sees_fast_xadds(twin):
    """slowlog-log-slower-than 0: every XADD is logged, its arguments as sent."""
    def logged(side: Side) -> list[Any]:
        side.run([b_("SLOWLOG", "RESET"), b_("XADD", "s1", "1-1", "f", "v"),
                  b_("CONFIG", "SET", "slowlog-log-slower-than", "0"),
                  b_("XADD", "s1", "*", "f", "v"), b_("XADD", "s1", "*", "g", "w"),
                  b_("CONFIG", "SET", "slowlog-log-slower-than", "10000")])
        return [e["command"] for e in side.r.slowlog_get(100)]

    SERVED[0] = 0
    a, b = (logged(s) for s in twin)
    assert a == b
    assert b"XADD s1 * g w" in a
    assert SERVED[0] >= 2


def test_watch_and_multi_see_xadds(twin):
    """XADD on a watched key goes the Python way (the transaction fails); inside
    MULTI it is queued, not run."""
    def script(side: Side) -> Any:
        side.run([b_("FLUSHALL"), b_("XADD", "s1", "1-1", "f", "v")])
        other = side.emb.client()
        p = other.pipeline(transaction=True)
        p.watch("s1")
        got = side.run([b_("XADD", "s1", "*", "f", "x")])
        p.multi()
        p.xlen("s1")
        try:
            p.execute()
            tx = "ran"
        except Exception as e:  # WatchError
            tx = type(e).__name__
        t = other.pipeline(transaction=True)
        t.xadd("s1", {"f": "y"})
        t.xlen("s1")
        res = t.execute()
        other.close()
        return got, tx, res

    SERVED[0] = 0
    x, y = (script(s) for s in twin)
    assert x == y
    assert x[1] == "WatchError"
    assert SERVED[0] == 0  # the watched XADD went to Python, MULTI's too


def test_keyspace_notifications_turn_it_off(twin):
    """With notify-keyspace-events set every XADD goes through Python (and publishes)."""
    def script(side: Side) -> list[Any]:
        side.run([b_("FLUSHALL"), b_("XADD", "s1", "1-1", "f", "v"),
                  b_("CONFIG", "SET", "notify-keyspace-events", "KEA")])
        sub = side.emb.client().pubsub()
        sub.subscribe("__keyspace@0__:s1")
        side.run([b_("XADD", "s1", "*", "f", i) for i in range(3)])
        got = [sub.get_message(timeout=1) for _ in range(4)]
        sub.close()
        side.run([b_("CONFIG", "SET", "notify-keyspace-events", "")])
        return got

    SERVED[0] = 0
    x, y = (script(s) for s in twin)
    assert x == y and [m["data"] for m in x[1:]] == [b"xadd"] * 3
    assert SERVED[0] == 0


@pytest.mark.parametrize("env", [{"STREAMLITE_FASTPATH": "0"}, {"STREAMLITE_PURE": "1"}])
def test_the_switches_turn_it_off(env):
    """STREAMLITE_FASTPATH=0 and STREAMLITE_PURE=1: no compiled XADD on either front,
    and ``r.xadd`` still answers (through ``Engine.execute``)."""
    import subprocess
    import sys

    code = ("import streamlite\n"
            "from streamlite.engine import fastpath\n"
            "from streamlite.server import fastpath as server_fastpath\n"
            "r = streamlite.connect()\n"
            "r.xadd('s', {'f': 'v'})\n"
            "print(fastpath.fast_xadd, fastpath.fast_run, server_fastpath.fast_run, "
            "r.xlen('s'))\n")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == ["None", "None", "None", "1"]
