"""What loading counts, against Redis 8.2: the commands an AOF replays (its base's and
its incremental files') and a snapshot's functions are not counted in INFO
commandstats, the latency histograms or the slow log, and not in INFO stats but for
total_commands_processed inside the AOF's MULTI/EXEC (Redis runs those through
call()); the same after a restart, DEBUG LOADAOF and DEBUG RELOAD."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.diff import RedisConn
from tests.support.redis_proc import ServerProc, have_redis, start_redis, start_streamlite

pytestmark = pytest.mark.skipif(not have_redis(), reason="needs redis-server")

# a plain write first: both servers put their SELECT before it, outside the MULTI
WRITES = [
    ("SET", "k", "v"), ("XADD", "s", "1-1", "f", "v"), ("INCR", "n"), ("GET", "k"),
    ("GET", "missing"), ("HSET", "h", "f", "v"),
    ("MULTI",), ("INCR", "n"), ("SET", "k2", "x"), ("XADD", "s", "2-1", "f", "v"), ("EXEC",),
    ("SELECT", "2"), ("SET", "in2", "x"), ("SELECT", "0"),
]
LIB = "#!lua name=lib\nredis.register_function('f', function() return 1 end)"
STATS = ("total_commands_processed", "keyspace_hits", "keyspace_misses",
         "total_error_replies")


def _info(c: RedisConn, section: str) -> dict[str, str]:
    text = c.call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.splitlines()
                if line and not line.startswith("#"))


def _counts(c: RedisConn) -> dict[str, object]:
    """What the server counted, read before anything else runs on it (the reads
    themselves count: the same reads in the same order on both servers)."""
    stats = _info(c, "stats")
    cmdstats = {k: v.split(",")[0] for k, v in _info(c, "commandstats").items()}
    return {
        "stats": {k: stats.get(k) for k in STATS},
        "commandstats": cmdstats,
        "errorstats": _info(c, "errorstats"),
        "slowlog": [e[3] for e in c.call("SLOWLOG", "GET", "100")],
        "latency": sorted(c.call("LATENCY", "HISTOGRAM")[0::2]),
    }


def _run(start: Callable[..., ServerProc], d: str, preamble: str,
         how: str) -> dict[str, object]:
    extra = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble,
             "--slowlog-log-slower-than", "0", "--latency-tracking", "yes",
             "--enable-debug-command", "yes"]
    os.makedirs(d)
    p = start(extra, dir=d)
    try:
        c = RedisConn(p.port)
        c.call("FUNCTION", "LOAD", LIB)
        for argv in WRITES:
            c.call(*argv)
        if how == "rewrite":  # the writes in the base: RDB preamble / RESTOREs
            c.call("BGREWRITEAOF")
            while _info(c, "persistence")["aof_rewrite_in_progress"] != "0":
                pass
            c.call("SET", "after", "rewrite")  # and one in the incremental file
        if how in ("restart", "rewrite"):
            c.close()
            p.stop()
            p = start(extra, dir=d)
            c = RedisConn(p.port)
        else:
            c.call("CONFIG", "RESETSTAT")
            c.call("SLOWLOG", "RESET")
            c.call("LATENCY", "RESET")
            c.call("DEBUG", "LOADAOF" if how == "loadaof" else "RELOAD")
        got = _counts(c)
        assert c.call("GET", "k2") == b"x"
        c.close()
        return got
    finally:
        p.stop()


@pytest.mark.parametrize("how", ["restart", "rewrite", "loadaof", "reload"])
@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_loading_counts_what_redis_counts(tmp_path: Path, preamble: str, how: str) -> None:
    ours = _run(start_streamlite, str(tmp_path / "ours"), preamble, how)
    theirs = _run(start_redis, str(tmp_path / "redis"), preamble, how)
    assert ours == theirs
