"""The dataset as commands: the base file of an AOF rewrite.

Two forms, chosen by ``aof-use-rdb-preamble`` (Redis's name for "the base is a
snapshot"):

- ``yes`` (the default): ``restore_commands``. Each key is one
  ``RESTORE key <abs-ms|0> <payload> ABSTTL`` whose payload is the DUMP
  serialization (``engine.serialize``): a stream of a million entries is one
  command carrying its packed nodes, groups and PELs, loaded without replaying a
  single XADD. The file stays a RESP command stream, so ``redis-check-aof``
  reads it.
- ``no``: ``dataset_commands``, plain Redis commands (SET, RPUSH, HSET, XADD, ARSET ...)
  that any Redis can replay. Big values are split into commands of at most
  ``CHUNK`` items, as Redis's ``rewriteAppendOnlyFile`` does. Streams are rebuilt
  entry by entry with their IDs, then ``XSETID`` restores the counters, and
  groups, consumers and pending entries are recreated with ``XGROUP
  CREATE``/``CREATECONSUMER`` and ``XCLAIM ... FORCE JUSTID`` carrying delivery
  times and counts; entries released by XNACK (Redis 8.8's NACK zone) follow, in
  release order, as ``XNACK key group FAIL IDS 1 id RETRYCOUNT n FORCE``, the form
  Redis writes. (Consumers' seen/active times, the remembered IDMP iids and the IDMP
  counters are not carried, nor pending entries whose stream entry was deleted:
  XCLAIM and XNACK ``FORCE`` skip IDs not in the stream, in Redis as here.) Arrays
  are their runs of consecutive indices as ``ARSET`` and the insert cursor as
  ``ARSEEK``.

Both start with ``FUNCTION LOAD`` for every function library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..engine.args import format_double
from ..engine.core import Engine
from ..engine.database import type_name
from ..engine.scripting.runtime import get_scripting
from ..engine.serialize import dump_payload
from ..engine.stream.ids import format_id
from ..protocol.resp import encode_command

CHUNK = 64

Argv = list[bytes]


def _chunks(cmd: Argv, items: list[bytes], per: int) -> Iterator[Argv]:
    for i in range(0, len(items), CHUNK * per):
        yield cmd + items[i : i + CHUNK * per]


def _string(key: bytes, v: Any) -> Iterator[Argv]:
    yield [b"SET", key, bytes(v)]


def _list(key: bytes, v: Any) -> Iterator[Argv]:
    yield from _chunks([b"RPUSH", key], [bytes(x) for x in v], 1)


def _hash(key: bytes, v: Any) -> Iterator[Argv]:
    items: list[bytes] = []
    for f, x in v.items():
        items.append(f)
        items.append(x)
    yield from _chunks([b"HSET", key], items, 2)
    # field TTLs (hash field expiration), grouped by expiry time
    ttls = getattr(v, "ttls", None)
    if ttls:
        by_when: dict[int, list[bytes]] = {}
        for f, when in ttls.items():
            by_when.setdefault(when, []).append(f)
        for when, fields in by_when.items():
            for i in range(0, len(fields), CHUNK):
                part = fields[i : i + CHUNK]
                yield [b"HPEXPIREAT", key, b"%d" % when, b"FIELDS", b"%d" % len(part), *part]


def _set(key: bytes, v: Any) -> Iterator[Argv]:
    yield from _chunks([b"SADD", key], list(v), 1)


def _zset(key: bytes, v: Any) -> Iterator[Argv]:
    items: list[bytes] = []
    for member, score in zset_items(v):
        items.append(format_double(score))
        items.append(member)
    yield from _chunks([b"ZADD", key], items, 2)


def zset_items(v: Any) -> Iterator[tuple[bytes, float]]:
    """(member, score) pairs of a sorted set value, whatever its class exposes."""
    if hasattr(v, "dict"):
        yield from v.dict.items()
    elif hasattr(v, "scores"):
        yield from v.scores.items()
    else:
        yield from v.items()


def _stream(key: bytes, s: Any) -> Iterator[Argv]:
    last = None
    for sid, fields in s.range(0, (1 << 128) - 1):
        yield [b"XADD", key, format_id(sid), *fields]
        last = sid
    if last is None:
        # an empty stream: create it (Redis does the same) then drop the entry
        yield [b"XADD", key, b"MAXLEN", b"0", format_id(s.last_id or 1), b"x", b"y"]
    yield [
        b"XSETID", key, format_id(s.last_id),
        b"ENTRIESADDED", b"%d" % s.entries_added,
        b"MAXDELETEDID", format_id(s.max_deleted_id),
    ]
    idmp = getattr(s, "idmp", None)
    if idmp is not None:  # XCFGSET settings (the remembered iids are not carried)
        yield [b"XCFGSET", key, b"IDMP-DURATION", b"%d" % idmp.duration,
               b"IDMP-MAXSIZE", b"%d" % idmp.maxsize]
    for gname, g in s.groups.items():
        yield [b"XGROUP", b"CREATE", key, gname, format_id(g.last_id),
               b"ENTRIESREAD", b"%d" % g.entries_read]
        for cname, consumer in g.consumers.items():
            yield [b"XGROUP", b"CREATECONSUMER", key, gname, cname]
            for sid in consumer.pel:
                nack = g.pel[sid]
                yield [
                    b"XCLAIM", key, gname, cname, b"0", format_id(sid),
                    b"TIME", b"%d" % nack.delivery_time,
                    b"RETRYCOUNT", b"%d" % nack.delivery_count,
                    b"JUSTID", b"FORCE",
                ]
        for sid in g.nacked:  # released by XNACK, in release order
            yield [b"XNACK", key, gname, b"FAIL", b"IDS", b"1", format_id(sid),
                   b"RETRYCOUNT", b"%d" % g.pel[sid].delivery_count, b"FORCE"]


def _array(key: bytes, a: Any) -> Iterator[Argv]:
    """Each run of consecutive indices as ``ARSET key start v ...`` (at most ``CHUNK``
    values a command), then ``ARSEEK`` for the insert cursor (ARINSERT/ARRING) when it
    moved: the array's whole state, holes included."""
    run: list[bytes] = []
    start = nxt = 0
    for i, v in a.items.items():
        if run and (i != nxt or len(run) == CHUNK):
            yield [b"ARSET", key, b"%d" % start, *run]
            run = []
        if not run:
            start = i
        run.append(v)
        nxt = i + 1
    if run:
        yield [b"ARSET", key, b"%d" % start, *run]
    if a.cursor:
        yield [b"ARSEEK", key, b"%d" % a.cursor]


REWRITERS: dict[bytes, Callable[[bytes, Any], Iterator[Argv]]] = {
    b"string": _string,
    b"list": _list,
    b"hash": _hash,
    b"set": _set,
    b"zset": _zset,
    b"stream": _stream,
    b"array": _array,
}


def function_commands(engine: Engine) -> Iterator[tuple[int, Argv]]:
    for lib in get_scripting(engine).functions.libraries.values():
        yield 0, [b"FUNCTION", b"LOAD", lib.code]


def restore_commands(engine: Engine) -> Iterator[tuple[int, Argv]]:
    """``(db_index, argv)``: one ``RESTORE ... ABSTTL`` per live key."""
    yield from function_commands(engine)
    now = engine.clock.ms()
    for db in engine.dbs:
        expires = db.expires
        for key, value in list(db.data.items()):
            when = expires.get(key) if expires else None
            if when is not None and when <= now:
                continue
            yield db.index, [b"RESTORE", key, b"%d" % (when or 0), dump_payload(value), b"ABSTTL"]


def dataset_commands(engine: Engine) -> Iterator[tuple[int, Argv]]:
    """``(db_index, argv)`` for every command that rebuilds ``engine``'s data.

    Expired keys are skipped; TTLs are written as absolute ``PEXPIREAT``.
    """
    yield from function_commands(engine)
    now = engine.clock.ms()
    for db in engine.dbs:
        expires = db.expires
        for key, value in list(db.data.items()):
            when = expires.get(key) if expires else None
            if when is not None and when <= now:
                continue
            for argv in REWRITERS[type_name(value)](key, value):
                yield db.index, argv
            if when is not None:
                yield db.index, [b"PEXPIREAT", key, b"%d" % when]


def base_bytes(engine: Engine, preamble: bool) -> Iterator[bytes]:
    """The base file's content, RESP-encoded with a SELECT before each database's keys."""
    cur = -1
    for db, argv in (restore_commands(engine) if preamble else dataset_commands(engine)):
        if db != cur:
            yield encode_command([b"SELECT", b"%d" % db])
            cur = db
        yield encode_command(argv)
