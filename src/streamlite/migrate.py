"""``streamlite migrate --from URL --to URL``: copy keys between any two of an embedded
directory, a streamlite server, Redis and Redis Cluster, with Redis's own formats.

Each key travels as ``DUMP`` on the source and ``RESTORE key <abs-ms> <payload> ABSTTL
REPLACE`` on the destination: streamlite's DUMP writes Redis's payloads and its RESTORE
reads them, so a stream keeps its entry IDs, tombstone-free length and counters, its
consumer groups, consumers, pending entries and delivery counts (and, between two
streamlites, its IDMP state and XNACK zone). Keys are found with ``SCAN`` (``--match``
for a pattern), in batches of ``--batch`` keys, each batch pipelined both ways.

- **Progress**: a line per ``--progress-every`` keys on stderr.
- **Verification** (``--verify``, on by default): the key counts of both sides, and for
  every copied key a digest of its logical content computed through commands on both
  sides (type, TTL, every element; for streams every entry and ``XINFO STREAM FULL``
  without consumers' seen/active times): a key that differs is reported by name.
- **Resumability** (``--state FILE``): the SCAN cursor and the number of keys copied
  are saved after every batch; run the same command again and it continues from there.
  Copies are idempotent (``REPLACE``), so a key copied twice is harmless. (A cluster
  source is scanned node by node; its state file keeps one cursor per node.)

URLs: ``streamlite:///path`` (embedded), ``redis://``/``rediss://``/``unix://`` (a server:
Redis or streamlite), ``redis+cluster://host:port`` (Redis Cluster, through redis-py's
``RedisCluster``). The database is the URL's (``redis://host/2``), or every non-empty one
with ``--all-dbs``. Function libraries go too (``FUNCTION LIST WITHCODE`` then ``FUNCTION
LOAD REPLACE`` on every destination primary) unless a pattern is given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import redis

from .cluster_url import cluster_client, is_cluster_url

# XINFO STREAM FULL fields that change with the clock, or exist only on newer servers
_VOLATILE = {b"seen-time", b"active-time", b"idmp-duration", b"idmp-maxsize",
             b"pids-tracked", b"iids-tracked", b"iids-added", b"iids-duplicates",
             b"nacked-count"}


def open_url(url: str, db: int | None = None) -> Any:
    """A redis-py client (``RedisCluster`` for ``redis+cluster://``) with bytes replies;
    ``db`` overrides the URL's database."""
    kw: dict[str, Any] = {"protocol": 2}
    if db is not None:
        kw["db"] = db
    if is_cluster_url(url):  # several seed nodes, options: the project's one parser
        if db:
            raise ValueError("Redis Cluster has only database 0")
        return cluster_client(url, decode_responses=False, protocol=2)
    if url.startswith("streamlite:"):
        from .embedded.api import from_url

        return from_url(url, decode_responses=False, **kw)
    from .events.connection import connect

    return connect(url, **kw)


def databases(client: Any) -> list[int]:
    """The non-empty databases of a (non-cluster) server, from INFO keyspace."""
    info = client.info("keyspace")
    return sorted(int(k[2:]) for k in info if k.startswith("db"))


def copy_functions(src: Any, dst: Any) -> int:
    """Every function library, as ``FUNCTION LOAD REPLACE`` on every destination primary."""
    libs = _raw(src, "FUNCTION", "LIST", "WITHCODE")
    for lib in libs:
        code = lib[lib.index(b"library_code") + 1]
        for node in _nodes(dst):
            _raw(node, "FUNCTION", "LOAD", "REPLACE", code)
    return len(libs)


def _nodes(client: Any) -> list[Any]:
    """Clients to scan: every primary of a cluster, or the client itself."""
    get = getattr(client, "get_primaries", None)
    if get is None:
        return [client]
    return [client.get_redis_connection(n) for n in get()]


def _raw(client: Any, *argv: Any) -> Any:
    """A command's reply as the server sent it (no redis-py reply parsing), routed to the
    node of its key for a cluster."""
    node = client
    if hasattr(client, "get_node_from_key") and len(argv) > 1:
        node = client.get_redis_connection(client.get_node_from_key(argv[1]))
    pool = node.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_command(*argv)
        reply = conn.read_response()
    finally:
        pool.release(conn)
    if isinstance(reply, redis.ResponseError):
        raise reply
    return reply


class State:
    """The checkpoint of a migration: one SCAN cursor per source node, keys copied."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.cursors: dict[str, int] = {}
        self.done: dict[str, bool] = {}
        self.copied = 0
        if path and os.path.exists(path):
            with open(path) as f:
                d = json.load(f)
            self.cursors = d.get("cursors", {})
            self.done = d.get("done", {})
            self.copied = int(d.get("copied", 0))

    def save(self) -> None:
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"cursors": self.cursors, "done": self.done, "copied": self.copied}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def scan_batches(src: Any, match: str | None, batch: int, state: State
                 ) -> Iterator[list[bytes]]:
    for i, node in enumerate(_nodes(src)):
        name = str(i)
        if state.done.get(name):
            continue
        cursor = int(state.cursors.get(name, 0))
        while True:
            cursor, keys = node.scan(cursor=cursor, match=match, count=batch)
            state.cursors[name] = int(cursor)
            if keys:
                yield keys
            if int(cursor) == 0:
                state.done[name] = True
                break


def copy_batch(src: Any, dst: Any, keys: list[bytes]) -> int:
    """DUMP + PEXPIRETIME on the source, RESTORE ... ABSTTL REPLACE on the destination."""
    p = src.pipeline(transaction=False)
    for k in keys:
        p.execute_command("DUMP", k)
        p.execute_command("PEXPIRETIME", k)
    out = p.execute(raise_on_error=True)
    q = dst.pipeline(transaction=False)
    n = 0
    for k, payload, when in zip(keys, out[0::2], out[1::2], strict=True):
        if payload is None:  # gone since SCAN saw it
            continue
        ttl = int(when) if int(when) > 0 else 0
        q.execute_command("RESTORE", k, ttl, payload, "ABSTTL", "REPLACE")
        n += 1
    if n:
        q.execute(raise_on_error=True)
    return n


def _flat(v: Any) -> bytes:
    """A canonical byte rendering of a reply, leaving out volatile stream fields."""
    if isinstance(v, list):
        if len(v) % 2 == 0 and any(isinstance(x, bytes) and x in _VOLATILE for x in v[0::2]):
            v = [x for i in range(0, len(v), 2) if v[i] not in _VOLATILE for x in v[i:i + 2]]
        return b"[" + b",".join(_flat(x) for x in v) + b"]"
    if isinstance(v, dict):
        return _flat([x for k, val in v.items() for x in (k, val)])
    if v is None:
        return b"nil"
    if isinstance(v, (int, float)):
        return repr(v).encode()
    return b"%d:%b" % (len(v), v)


def key_digest(client: Any, key: bytes) -> bytes | None:
    """A SHA-1 of the logical content of ``key`` read through commands (None if absent)."""
    t = _raw(client, "TYPE", key)
    if t in (b"none", "none"):
        return None
    h = hashlib.sha1()
    h.update(_flat([t, _raw(client, "PEXPIRETIME", key)]))
    if t == b"string":
        h.update(_flat(_raw(client, "GET", key)))
    elif t == b"list":
        h.update(_flat(_raw(client, "LRANGE", key, 0, -1)))
    elif t == b"set":
        h.update(_flat(sorted(_raw(client, "SMEMBERS", key))))
    elif t == b"zset":
        flat = _raw(client, "ZRANGE", key, 0, -1, "WITHSCORES")
        h.update(_flat([[m, float(s)] for m, s in zip(flat[0::2], flat[1::2], strict=True)]))
    elif t == b"hash":
        flat = _raw(client, "HGETALL", key)
        pairs = sorted(zip(flat[0::2], flat[1::2], strict=True))
        h.update(_flat([list(p) for p in pairs]))
    elif t == b"stream":
        h.update(_flat(_raw(client, "XRANGE", key, "-", "+")))
        full = _raw(client, "XINFO", "STREAM", key, "FULL", "COUNT", 0)
        h.update(_flat([x for i in range(0, len(full), 2) if full[i] != b"entries"
                        for x in full[i:i + 2]]))
    else:
        h.update(_flat(_raw(client, "DUMP", key)))
    return h.digest()


def _count(client: Any, match: str | None) -> int:
    if match is None:
        return sum(int(n.dbsize()) for n in _nodes(client))
    return sum(1 for n in _nodes(client) for _ in n.scan_iter(match=match, count=1000))


def verify(src: Any, dst: Any, match: str | None, log: Any) -> list[bytes]:
    """Keys whose content differs between the two sides (and the count check)."""
    bad = []
    n_src, n_dst = _count(src, match), _count(dst, match)
    log(f"verify: {n_src} keys in the source, {n_dst} in the destination")
    for node in _nodes(src):
        for key in node.scan_iter(match=match, count=1000):
            if key_digest(src, key) != key_digest(dst, key):
                bad.append(key)
    if n_src != n_dst and not bad:
        log("verify: the counts differ (the destination has other keys, or the source "
            "changed meanwhile)")
    return bad


def migrate(src_url: str, dst_url: str, match: str | None = None, batch: int = 100,
            state_path: str | None = None, check: bool = True, progress_every: int = 1000,
            log: Any = None, all_dbs: bool = False, functions: bool | None = None
            ) -> dict[str, Any]:
    """Copy the keys (``match``: those matching) of the source URL's database, or of
    every database with ``all_dbs``; the function libraries too unless ``functions`` is
    False (by default they go when no pattern is given)."""
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    if functions is None:
        functions = match is None
    if not all_dbs:
        return _migrate_db(src_url, dst_url, None, match, batch, state_path, check,
                           progress_every, log, functions)
    probe = open_url(src_url)
    dbs = databases(probe)
    probe.close()
    total: dict[str, Any] = {"copied": 0, "mismatched": []}
    for i, db in enumerate(dbs):
        log(f"database {db}")
        ckpt = f"{state_path}.db{db}" if state_path else None
        res = _migrate_db(src_url, dst_url, db, match, batch, ckpt, check, progress_every,
                          log, functions and i == 0)
        total["copied"] += res["copied"]
        total["mismatched"] += [(db, k) for k in res["mismatched"]]
    return total


def _migrate_db(src_url: str, dst_url: str, db: int | None, match: str | None, batch: int,
                state_path: str | None, check: bool, progress_every: int, log: Any,
                functions: bool) -> dict[str, Any]:
    src, dst = open_url(src_url, db), open_url(dst_url, db)
    if functions:
        n = copy_functions(src, dst)
        if n:
            log(f"copied {n} function libraries")
    state = State(state_path)
    if state.copied:
        log(f"resuming: {state.copied} keys copied before")
    t0 = time.monotonic()
    next_report = state.copied + progress_every
    for keys in scan_batches(src, match, batch, state):
        state.copied += copy_batch(src, dst, keys)
        state.save()
        if state.copied >= next_report:
            rate = state.copied / max(time.monotonic() - t0, 1e-6)
            log(f"copied {state.copied} keys ({rate:.0f} keys/s)")
            next_report = state.copied + progress_every
    state.save()
    log(f"copied {state.copied} keys in {time.monotonic() - t0:.1f} s")
    result: dict[str, Any] = {"copied": state.copied, "mismatched": []}
    if check:
        result["mismatched"] = verify(src, dst, match, log)
        log("verify: every key is the same on both sides" if not result["mismatched"] else
            f"verify: {len(result['mismatched'])} keys differ: "
            f"{[k.decode('utf-8', 'replace') for k in result['mismatched'][:10]]}")
    for c in (src, dst):
        close = getattr(c, "close", None)
        if close is not None:
            close()
    return result


def main(args: argparse.Namespace) -> int:
    try:
        res = migrate(args.source, args.dest, match=args.match, batch=args.batch,
                      state_path=args.state, check=not args.no_verify,
                      progress_every=args.progress_every, all_dbs=args.all_dbs,
                      functions=False if args.no_functions else None)
    except (redis.RedisError, OSError, ValueError) as e:
        print(f"migrate: {e}", file=sys.stderr)
        return 1
    return 1 if res["mismatched"] else 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("migrate", help="copy keys between embedded dirs, servers and clusters",
                       description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--from", dest="source", required=True,
                   help="streamlite:///DIR, redis://host:port/db, redis+cluster://host:port")
    p.add_argument("--to", dest="dest", required=True, help="the same kinds of URL")
    p.add_argument("--match", help="only keys matching this glob pattern (SCAN MATCH)")
    p.add_argument("--batch", type=int, default=100, help="keys per SCAN and pipeline")
    p.add_argument("--state", help="checkpoint file: rerun with it to resume")
    p.add_argument("--no-verify", action="store_true", help="skip the verification")
    p.add_argument("--all-dbs", action="store_true",
                   help="every non-empty database, not only the URL's")
    p.add_argument("--no-functions", action="store_true",
                   help="do not copy function libraries (copied when there is no --match)")
    p.add_argument("--progress-every", type=int, default=1000)
    p.set_defaults(func=main)
