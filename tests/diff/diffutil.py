"""Helpers for the list/set/sorted-set differential tests: run a script on real
Redis and on the engine in RESP2 and RESP3, decoded by hiredis or as raw bytes,
and compare what ``OBJECT ENCODING`` says on both sides."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tests.diff.raw_resp import RawConn, RawEngine
from tests.support.diff import EngineConn, RedisConn, compare

from streamlite.engine import Engine, FakeClock

Script = Sequence[tuple[Any, ...]]




def both_protocols(port: int, script: Script, setup: Script = ()) -> None:
    """``compare`` the script over RESP2 and over RESP3, each from an empty keyspace."""
    for proto in (2, 3):
        r = RedisConn(port, protocol=proto)
        try:
            r.call("FLUSHALL")
            e = EngineConn(protocol=proto)
            for cmd in setup:
                r.call(*cmd)
                e.call(*cmd)
            compare(r, e, list(script))
        finally:
            r.close()


def raw_both_protocols(port: int, script: Script, setup: Script = ()) -> None:
    """Like ``both_protocols`` but the replies' exact bytes must match (reply shapes:
    null bulk vs null array, RESP3 sets vs arrays, flat vs nested pairs)."""
    for proto in (2, 3):
        r = RawConn(port, protocol=proto)
        try:
            r.call("FLUSHALL")
            e = RawEngine(Engine(FakeClock()), protocol=proto)
            for cmd in setup:
                r.call(*cmd)
                e.call(*cmd)
            for i, cmd in enumerate(script):
                a = r.call(*cmd)
                b = e.call(*cmd)
                assert a == b, f"RESP{proto} step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
        finally:
            r.close()


def engine_encoding(e: EngineConn, key: str | bytes) -> bytes | None:
    k = key.encode() if isinstance(key, str) else key
    v = e.engine.dbs[e.client.db_index].data.get(k)
    return None if v is None else v.encoding()


def same_encoding(r: RedisConn, e: EngineConn, *keys: str) -> None:
    for k in keys:
        a = r.call("OBJECT", "ENCODING", k)
        b = engine_encoding(e, k)
        assert a == b, f"OBJECT ENCODING {k}: redis {a!r}, streamlite {b!r}"


@contextmanager
def config(r: RedisConn, e: EngineConn, **settings: int) -> Iterator[None]:
    """Set encoding thresholds on both sides (names with ``_`` for ``-``), restore after."""
    old = {}
    for name, value in settings.items():
        cname = name.replace("_", "-")
        old[cname] = r.call("CONFIG", "GET", cname)[1]
        r.call("CONFIG", "SET", cname, str(value))
        e.engine.config[cname] = value
    try:
        yield
    finally:
        for cname, v in old.items():
            r.call("CONFIG", "SET", cname, v)
            e.engine.config.pop(cname, None)
