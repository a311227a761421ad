"""Engines with persistence in a directory, datasets of every type, and a canonical
rendering of a whole dataset to compare two engines key by key."""

from __future__ import annotations

import os
from typing import Any

from streamlite.engine import Engine
from streamlite.engine.database import type_name
from streamlite.engine.scripting.runtime import get_scripting
from streamlite.persistence import Persistence, PersistenceConfig

LIB = (
    "#!lua name=plib\n"
    "redis.register_function('pget', function(keys, args) return redis.call('GET', keys[1]) end)\n"
)


def argv_of(*argv: Any) -> list[bytes]:
    return [a if isinstance(a, bytes) else str(a).encode() for a in argv]


class Durable:
    """An engine + persistence in ``path``, driven as a front drives it."""

    def __init__(self, path: str, clock: Any = None, **cfg: Any) -> None:
        opts: dict[str, Any] = {"appendonly": True, "appendfsync": "always", "save": []}
        opts.update(cfg)
        self.logs: list[str] = []
        self.engine = Engine(clock)
        self.engine.config["enable-debug-command"] = "yes"
        self.p = Persistence(self.engine, PersistenceConfig(dir=path, **opts), log=self.logs.append)
        self.p.load()
        self.client = self.engine.client()

    def __call__(self, *argv: Any) -> Any:
        reply = self.engine.execute(self.client, argv_of(*argv))
        self.p.after_writes()
        return reply

    def close(self) -> None:
        self.p.close()


def _scrub(v: Any, drop: tuple[bytes, ...]) -> Any:
    if isinstance(v, list):
        if TIMES[0] in drop:  # an AOF replay: consumers that own nothing may be missing
            v = [x for x in v if not (isinstance(x, dict) and b"seen-time" in x
                                      and x.get(b"pel-count") == 0)]
        return [_scrub(x, drop) for x in v]
    if isinstance(v, dict):
        return {k: _scrub(x, drop) for k, x in v.items() if k not in drop}
    return v


TIMES = (b"seen-time", b"active-time")
LAYOUT = (b"radix-tree-keys", b"radix-tree-nodes", b"iids-added", b"iids-duplicates")


def canonical(engine: Engine, times: bool = True, layout: bool = True
              ) -> dict[tuple[int, bytes], Any]:
    """Every key of every database: (type, expiry, value), independent of internals.

    Streams are their ``XINFO STREAM key FULL`` (every entry, group, consumer and
    pending entry with delivery time and count); ``times=False`` leaves out the
    consumers' seen/active times, which an AOF replay does not carry (nor does Redis's),
    and consumers that own no pending entry (an XREADGROUP/XCLAIM that delivered nothing
    creates one without propagating it, in Redis 8.2 as here);
    ``layout=False`` leaves out how entries are split in nodes and the IDMP counters
    (a rewrite into plain commands re-adds entries without the deleted ones, as
    Redis's does, and no command sets those counters).
    """
    c = engine.client()
    now = engine.clock.ms()
    out: dict[tuple[int, bytes], Any] = {}
    for db in engine.dbs:
        c.select(db.index)
        for key in sorted(db.data):
            when = db.expires.get(key)
            if when is not None and when <= now:
                continue  # logically gone, whether or not it was deleted yet
            v = db.data[key]
            t = type_name(v)
            if t == b"string":
                val: Any = bytes(v)
            elif t == b"list":
                val = list(v.items)
            elif t == b"set":
                val = sorted(v.d)
            elif t == b"zset":
                val = sorted((m, repr(s)) for m, s in v.scores.items())
            elif t == b"hash":
                ttls = v.ttls or {}
                live = {f: x for f, x in v.d.items() if not (f in ttls and ttls[f] < now)}
                if not live:
                    continue
                val = (sorted(live.items()), sorted((f, w) for f, w in ttls.items() if f in live))
            elif t == b"array":
                val = (list(v.items.items()), v.cursor)
            else:
                full = engine.execute(c, [b"XINFO", b"STREAM", key, b"FULL", b"COUNT", b"0"])
                drop = (() if times else TIMES) + (() if layout else LAYOUT)
                val = _scrub(full, drop) if drop else full
            out[(db.index, key)] = (t, when, val)
    fns = get_scripting(engine).functions.libraries
    out[(-1, b"functions")] = sorted((name, lib.code) for name, lib in fns.items())
    return out


def populate_every_type(e: Engine) -> None:
    """A dataset holding every type and encoding, TTLs, field TTLs, stream state, a library."""
    c = e.client()

    def r(*argv: Any) -> Any:
        return e.execute(c, argv_of(*argv))

    r("SET", "str", "v")
    r("SET", "bin", bytes(range(256)))
    r("SET", "num", "12345")
    r("SET", "big", "x" * 5000)
    r("SET", "ttl", "x", "PXAT", str(e.clock.ms() + 10**9))
    r("RPUSH", "list", "a", "b", "c")
    r("RPUSH", "qlist", *[f"item-{i}" * 10 for i in range(500)])
    r("SADD", "iset", "1", "2", "3", "-40")
    r("SADD", "lset", "a", "b", "1")
    r("SADD", "hset", *[f"m{i}" for i in range(600)])
    r("ZADD", "z", "1.5", "a", "2", "b", "-inf", "c", "inf", "d")
    r("ZADD", "bigz", *[x for i in range(300) for x in (str(i * 0.1), f"m{i}")])
    r("HSET", "h", "f1", "1", "f2", "2")
    r("HSET", "bigh", *[x for i in range(700) for x in (f"f{i}", f"v{i}")])
    r("HSET", "hx", "a", "1", "b", "2", "c", "3")
    r("HPEXPIREAT", "hx", str(e.clock.ms() + 10**9), "FIELDS", "2", "a", "b")
    for i in range(250):
        r("XADD", "s", f"{1000 + i}-{i % 3}", "field", f"v{i}", *(["extra", "x"] if i % 7 == 0 else []))
    r("XDEL", "s", "1005-2", "1010-1")
    r("XGROUP", "CREATE", "s", "g1", "0")
    r("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3")
    r("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "20", "STREAMS", "s", ">")
    r("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "7", "STREAMS", "s", ">")
    r("XACK", "s", "g1", "1001-1", "1002-2")
    r("XCLAIM", "s", "g1", "carol", "0", "1003-0", "RETRYCOUNT", "5")
    r("XNACK", "s", "g1", "FAIL", "IDS", "2", "1004-1", "1000-0")  # the NACK zone (8.8)
    r("XGROUP", "CREATECONSUMER", "s", "g2", "idle")
    r("XADD", "s", "IDMP", "p1", "i1", "*", "k", "v")
    r("XADD", "s", "IDMPAUTO", "p2", "*", "k", "w")
    r("XCFGSET", "s", "IDMP-DURATION", "500", "IDMP-MAXSIZE", "50")
    r("XADD", "empty", "5-5", "a", "b")
    r("XDEL", "empty", "5-5")
    r("XGROUP", "CREATE", "empty", "g", "$")
    r("SELECT", "5")
    r("SET", "in5", "yes")
    r("XADD", "s5", "1-1", "a", "b")
    r("SELECT", "0")
    r("FUNCTION", "LOAD", LIB)


def incr_files(path: str) -> list[str]:
    d = os.path.join(path, "appendonlydir")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if ".incr." in f)
