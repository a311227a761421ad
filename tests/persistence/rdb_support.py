"""A dataset script runnable on Redis 8.2 and on streamlite (every type, encoding and
stream edge case Redis 8.2 has), and a field-by-field rendering of a server's whole
dataset through commands, to compare two servers."""

from __future__ import annotations

from typing import Any

import redis

LIB = (
    "#!lua name=rlib\n"
    "redis.register_function('rget', function(keys, args) return redis.call('GET', keys[1]) end)\n"
)

# fields of XINFO STREAM FULL that Redis 8.2 does not have (IDMP of 8.6, XNACK of 8.8)
POST_82 = (b"idmp-duration", b"idmp-maxsize", b"pids-tracked", b"iids-tracked", b"iids-added",
           b"iids-duplicates", b"nacked-count")

FAR = 4_000_000_000_000  # an absolute ms far in the future


def dataset_commands() -> list[list[Any]]:
    """Commands that build a dataset of every type, encoding and stream edge case."""
    cmds: list[list[Any]] = [
        ["SET", "str", "v"], ["SET", "empty", ""], ["SET", "bin", bytes(range(256))],
        ["SET", "i8", "-100"], ["SET", "i16", "30000"], ["SET", "i32", "-2000000000"],
        ["SET", "i64", "9223372036854775807"], ["SET", "zero", "0"], ["SET", "lead0", "007"],
        ["SET", "big", "x" * 5000], ["SET", "ttl", "x", "PXAT", FAR],
        ["SET", "ttlsec", "x", "EXAT", FAR // 1000],
        ["RPUSH", "list", "a", "1", "-5", "x" * 70],
        ["RPUSH", "qlist", *[f"item-{i}" * 30 for i in range(400)]],
        ["RPUSH", "ilist", *[str(v) for v in (0, 127, 128, 4095, -4096, 32767, -32769,
                                               8388607, -8388609, 2**31, -(2**63), 2**63 - 1)]],
        ["SADD", "iset", "1", "2", "3", "-40"],
        ["SADD", "iset64", "1", str(2**40), str(-(2**62))],
        ["SADD", "lset", "a", "b", "1"],
        ["SADD", "hset", *[f"m{i}" for i in range(600)]],
        ["ZADD", "z", "1.5", "a", "2", "b", "-inf", "c", "inf", "d", "-0.25", "e", "1e300", "f"],
        ["ZADD", "bigz", *[x for i in range(300) for x in (str(i * 0.1), f"m{i}")]],
        ["HSET", "h", "f1", "1", "f2", "2", "f3", "x" * 40],
        ["HSET", "bigh", *[x for i in range(700) for x in (f"f{i}", f"v{i}")]],
        ["HSET", "hx", "a", "1", "b", "2", "c", "3"],
        ["HPEXPIREAT", "hx", FAR, "FIELDS", "2", "a", "b"],
        ["HSET", "hxp", "a", "1"], ["HPEXPIREAT", "hxp", FAR, "FIELDS", "1", "a"],
        ["HPERSIST", "hxp", "FIELDS", "1", "a"],
        ["HSET", "bighx", *[x for i in range(600) for x in (f"f{i}", f"v{i}")]],
        ["HPEXPIREAT", "bighx", FAR, "FIELDS", "3", "f1", "f7", "f500"],
        ["HPEXPIREAT", "bighx", FAR + 5, "FIELDS", "1", "f9"],
        ["PEXPIREAT", "bighx", FAR],
    ]
    # a stream of several nodes, changing fields, big and integer values, tombstones,
    # IDs whose seq restarts (negative deltas inside a node)
    for i in range(260):
        fields = ["field", f"v{i}"] if i % 7 else ["other", str(i * 1000), "n", "-3"]
        if i == 50:
            fields = ["big", "y" * 300]
        cmds.append(["XADD", "s", f"{1000 + i // 3}-{i % 3}", *fields])
    cmds += [
        ["XDEL", "s", "1005-2", "1010-1", "1000-0"],
        ["XGROUP", "CREATE", "s", "g1", "0"],
        ["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3"],
        ["XGROUP", "CREATE", "s", "g3", "1020-0"],
        ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "20", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "7", "STREAMS", "s", ">"],
        ["XACK", "s", "g1", "1001-1", "1002-2"],
        ["XCLAIM", "s", "g1", "carol", "0", "1003-0", "RETRYCOUNT", "5", "TIME", "1700000000000"],
        ["XGROUP", "CREATECONSUMER", "s", "g2", "idle"],
        ["XREADGROUP", "GROUP", "g3", "dave", "COUNT", "1", "STREAMS", "s", ">"],
        ["XDEL", "s", "1020-1"],  # pending in g3, deleted from the stream
        # a stream trimmed to nothing, with groups and a remembered last ID
        ["XADD", "gone", "5-5", "a", "b"], ["XDEL", "gone", "5-5"],
        ["XGROUP", "CREATE", "gone", "g", "$"],
        ["XGROUP", "CREATE", "emptymk", "g", "$", "MKSTREAM"],
        ["XADD", "trimmed", "MAXLEN", "5", "1-0", "a", "1"],
        ["XADD", "set", "1-1", "a", "b"], ["XSETID", "set", "99-0", "ENTRIESADDED", "40",
                                            "MAXDELETEDID", "50-0"],
        ["XADD", "many", "1-1", *[x for i in range(40) for x in (f"k{i}", f"v{i}")]],
        ["XADD", "ttls", "1-1", "a", "b"], ["PEXPIREAT", "ttls", FAR],
        ["SELECT", "5"], ["SET", "in5", "yes"], ["XADD", "s5", "1-1", "a", "b"],
        ["SELECT", "15"], ["RPUSH", "in15", "x"],
        ["SELECT", "0"],
        ["FUNCTION", "LOAD", LIB],
    ]
    for i in range(30):
        cmds.append(["XADD", "trimmed", "MAXLEN", "5", f"{10 + i}-0", "a", str(i)])
    return cmds


def run_all(r: redis.Redis, cmds: list[list[Any]]) -> None:
    for argv in cmds:
        r.execute_command(*argv)


def _scrub(v: Any, drop: tuple[bytes, ...]) -> Any:
    if isinstance(v, list):
        if len(v) % 2 == 0 and any(x in drop for x in v[0::2] if isinstance(x, bytes)):
            v = [x for i in range(0, len(v), 2) if v[i] not in drop for x in v[i:i + 2]]
        return [_scrub(x, drop) for x in v]
    return v


def _pairs(flat: list[Any], drop: tuple[bytes, ...] = POST_82) -> dict[Any, Any]:
    return {flat[i]: _scrub(flat[i + 1], drop) for i in range(0, len(flat), 2)
            if flat[i] not in drop}


def raw_client(r: redis.Redis) -> Any:
    """``execute_command`` without redis-py's reply parsing (replies as the server sent them)."""
    kw = r.connection_pool.connection_kwargs
    conn = redis.Redis(host=kw.get("host", "localhost"), port=kw["port"],
                       protocol=2).connection_pool.get_connection()

    def raw(*argv: Any) -> Any:
        conn.send_command(*argv)
        reply = conn.read_response()
        if isinstance(reply, redis.ResponseError):
            raise reply
        return reply

    return raw


def state(r: redis.Redis, dbs: int = 16, redis70: bool = False,
          times: bool = True) -> dict[Any, Any]:
    """Every key of every database, field by field, through commands (RESP2, raw).

    ``redis70``: only what Redis 7.0 has (no field TTLs, no consumer active-time; its
    encodings of small lists differ from 8.x's, so encodings are left out).
    ``times=False`` leaves out consumers' seen/active times (a replica sets them when it
    applies the master's commands, in Redis as here)."""
    drop = POST_82 + ((b"active-time",) if redis70 else ())
    if not times:
        drop += (b"seen-time", b"active-time")
    out: dict[Any, Any] = {}
    raw = raw_client(r)
    for db in range(dbs):
        raw("SELECT", db)
        for key in sorted(raw("KEYS", "*")):
            t = raw("TYPE", key)
            row: dict[str, Any] = {"type": t, "pexpiretime": raw("PEXPIRETIME", key)}
            if not redis70:
                row["encoding"] = raw("OBJECT", "ENCODING", key)
            if t == b"string":
                row["v"] = raw("GET", key)
            elif t == b"list":
                row["v"] = raw("LRANGE", key, 0, -1)
            elif t == b"set":
                row["v"] = sorted(raw("SMEMBERS", key))
            elif t == b"zset":
                flat = raw("ZRANGE", key, 0, -1, "WITHSCORES")
                row["v"] = [(m, float(x)) for m, x in zip(flat[0::2], flat[1::2], strict=True)]
            elif t == b"hash":
                flat = raw("HGETALL", key)
                fields = sorted(flat[0::2])
                row["v"] = sorted(zip(flat[0::2], flat[1::2], strict=True))
                if not redis70:
                    row["ttl"] = raw("HPEXPIRETIME", key, "FIELDS", len(fields), *fields)
            else:
                row["v"] = _pairs(raw("XINFO", "STREAM", key, "FULL", "COUNT", 0), drop)
                row["range"] = raw("XRANGE", key, "-", "+")
            out[(db, key)] = row
    raw("SELECT", 0)
    libs = raw("FUNCTION", "LIST", "WITHCODE")
    out["functions"] = [_pairs(x) for x in libs]
    return out


def digests(r: redis.Redis, dbs: int = 16) -> dict[Any, Any]:
    """``DEBUG DIGEST-VALUE`` of every key (Redis's own digest: entries, not groups)."""
    out = {}
    raw = raw_client(r)
    for db in range(dbs):
        raw("SELECT", db)
        for key in raw("KEYS", "*"):
            out[(db, key)] = raw("DEBUG", "DIGEST-VALUE", key)
    raw("SELECT", 0)
    return out


def differences(want: dict[Any, Any], got: dict[Any, Any]) -> list[Any]:
    """(key, field, wanted, got) of every field that differs, for readable failures."""
    out = []
    for k in sorted(set(want) | set(got), key=repr):
        a, b = want.get(k), got.get(k)
        if a == b:
            continue
        if not isinstance(a, dict) or not isinstance(b, dict):
            out.append((k, None, a, b))
            continue
        for f in sorted(set(a) | set(b)):
            x, y = a.get(f), b.get(f)
            if x != y and isinstance(x, dict) and isinstance(y, dict):
                out.extend((k, (f, g), x.get(g), y.get(g)) for g in set(x) | set(y)
                           if x.get(g) != y.get(g))
            elif x != y:
                out.append((k, f, x, y))
    return out
