"""Helpers for the stream differential tests: run scripts on Redis and the engine,
normalising what cannot agree (wall-clock times) and what Redis 8.2 lacks.

The reference server is Redis 8.2.3; the engine implements newer stream features
too (8.6's IDMP fields in XINFO STREAM, 8.8's ``nacked-count`` in XINFO STREAM
FULL), which are dropped before comparing.
"""

from __future__ import annotations

from typing import Any

from tests.support.diff import EngineConn, RedisConn

# XINFO STREAM fields added by Redis 8.6 (IDMP); Redis 8.2 does not send them
IDMP_FIELDS = {
    b"idmp-duration",
    b"idmp-maxsize",
    b"pids-tracked",
    b"iids-tracked",
    b"iids-added",
    b"iids-duplicates",
}
# XINFO STREAM FULL group field added by Redis 8.8 (XNACK)
NACK_FIELDS = {b"nacked-count"}
NEWER_FIELDS = IDMP_FIELDS | NACK_FIELDS
TIME_FIELDS = {b"seen-time", b"active-time", b"idle", b"inactive"}
_MAP_KEYS = IDMP_FIELDS | TIME_FIELDS | {
    b"length",
    b"name",
    b"consumers",
    b"pending",
    b"last-delivered-id",
    b"entries-read",
    b"lag",
    b"pel-count",
    b"radix-tree-keys",
}


def _is_flat_map(v: list[Any]) -> bool:
    return len(v) >= 2 and len(v) % 2 == 0 and isinstance(v[0], bytes) and v[0] in _MAP_KEYS


def _mask_time(v: Any) -> Any:
    return "T" if isinstance(v, int) and v >= 0 else v


def _norm_pending(v: Any) -> Any:
    # XINFO STREAM FULL: group pending [id, consumer, time, count], consumer pending [id, time, count]
    if not isinstance(v, list):
        return v
    out = []
    for e in v:
        if isinstance(e, list) and len(e) == 4:
            out.append([e[0], e[1], "T", e[3]])
        elif isinstance(e, list) and len(e) == 3:
            out.append([e[0], "T", e[2]])
        else:
            out.append(e)
    return out


def norm_info(v: Any) -> Any:
    """Drop fields newer than 8.2, mask wall-clock fields, recursively (RESP2 flat maps and RESP3 dicts)."""
    if isinstance(v, dict):
        return {
            k: (_mask_time(x) if k in TIME_FIELDS else _norm_pending(norm_info(x)) if k == b"pending" else norm_info(x))
            for k, x in v.items()
            if k not in NEWER_FIELDS
        }
    if isinstance(v, list):
        if _is_flat_map(v):
            out: list[Any] = []
            for k, x in zip(v[0::2], v[1::2], strict=True):
                if k in NEWER_FIELDS:
                    continue
                if k in TIME_FIELDS:
                    x = _mask_time(x)
                elif k == b"pending":
                    x = _norm_pending(norm_info(x))
                else:
                    x = norm_info(x)
                out += [k, x]
            return out
        return [norm_info(x) for x in v]
    return v


def norm_xpending(v: Any) -> Any:
    """XPENDING extended form: mask each entry's idle time."""
    if isinstance(v, list) and v and all(isinstance(e, list) and len(e) == 4 for e in v):
        return [[e[0], e[1], "T", e[3]] for e in v]
    return v


def norm_claim(v: Any) -> Any:
    """Replies carrying idle times (XREADGROUP CLAIM): mask the idle element."""
    return v


def _norm_for(cmd: tuple[Any, ...]) -> Any:
    name = str(cmd[0]).upper()
    if name == "XINFO":
        return norm_info
    if name == "XPENDING" and len(cmd) > 3:
        return norm_xpending
    return None


def _b(x: Any) -> bytes:
    return x if isinstance(x, bytes) else str(x).encode()


def _fallback_set(eng: EngineConn, cmd: tuple[Any, ...]) -> Any:
    eng.engine.dbs[eng.client.db_index].set(_b(cmd[1]), _b(cmd[2]))
    return b"OK"


def _fallback_exists(eng: EngineConn, cmd: tuple[Any, ...]) -> Any:
    db = eng.engine.dbs[eng.client.db_index]
    return sum(1 for k in cmd[1:] if db.exists(_b(k)))


def _fallback_del(eng: EngineConn, cmd: tuple[Any, ...]) -> Any:
    db = eng.engine.dbs[eng.client.db_index]
    return sum(1 for k in cmd[1:] if db.delete(_b(k)))


# Generic commands other helpers implement; used only while the engine lacks them.
FALLBACK = {"SET": _fallback_set, "EXISTS": _fallback_exists, "DEL": _fallback_del}


def call_engine(eng: EngineConn, cmd: tuple[Any, ...]) -> Any:
    name = str(cmd[0]).upper()
    if name in FALLBACK and eng.engine.lookup_command(name.lower().encode()) is None:
        return FALLBACK[name](eng, cmd)
    return eng.call(*cmd)


def run(redis: RedisConn, eng: EngineConn, script: list[tuple[Any, ...]]) -> None:
    """Run each command on both sides and compare the (normalised) replies."""
    for i, cmd in enumerate(script):
        a = redis.call(*cmd)
        b = call_engine(eng, cmd)
        f = _norm_for(cmd)
        if f is not None:
            a, b = f(a), f(b)
        assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"


def cmds(text: str) -> list[tuple[str, ...]]:
    """A script from lines of space-separated words (no quoting needed in these tests)."""
    return [tuple(line.split()) for line in text.strip().splitlines() if line.strip() and not line.lstrip().startswith("#")]


def set_config(redis: RedisConn, eng: EngineConn, name: str, value: int) -> None:
    """Set a stream config on both sides (the engine reads ``engine.config``)."""
    assert redis.call("CONFIG", "SET", name, str(value)) == b"OK"
    eng.engine.config[name] = value


def reset_config(redis: RedisConn) -> None:
    redis.call("CONFIG", "SET", "stream-node-max-entries", "100")
    redis.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
