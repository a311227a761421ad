"""RDB files, Redis's snapshot format: written for SAVE/BGSAVE, read at start and by
DEBUG RELOAD, sent to replicas in a full sync.

Layout (``rdb.c``; lengths and strings as ``engine.rdbprim`` encodes them)::

    "REDIS" + 4-digit version ("0012")
    AUX (0xFA) key value ...        redis-ver, redis-bits, ctime, used-mem, aof-base
                                    (and, for a replica, repl-id / repl-offset / ...)
    FUNCTION2 (0xF5) library code   one per function library
    per database: SELECTDB (0xFE) len db, RESIZEDB (0xFB) len keys, len expires,
      per key: [EXPIRETIME_MS (0xFC) 8-byte ms] [IDLE (0xF8) len seconds |
               FREQ (0xF9) 1 byte] type byte, string key, value (``engine.rdbvalue``)
               [AUX sl-stream-ext: the stream's streamlite-only state]
    EOF (0xFF), CRC-64 of everything before it (8 bytes, little-endian; 0 = not checked)

Read: versions 1 to 12, the opcodes Redis 6.2-8.2 write (SLOT_INFO and unknown
AUX fields are skipped, the old seconds EXPIRETIME is read); module values and
module AUX data are refused with a clear error. Everything is decoded into fresh
databases and installed only when the whole file is good, so a damaged file is
refused whole, with the byte offset of the record that failed.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .. import REDIS_VERSION
from ..engine import lfu
from ..engine.crc64 import crc64
from ..engine.database import Database
from ..engine.rdbprim import enc_length, enc_string, read_length, read_string
from ..engine.rdbstream import EXT_AUX, apply_extension, stream_extension
from ..engine.rdbvalue import RDB_VERSION, read_value, redis_value
from ..engine.scripting.runtime import get_scripting
from ..engine.serialize import EmptyKeyError, FormatError, Reader
from ..engine.stream.stream import Stream

if TYPE_CHECKING:
    from ..engine.core import Engine
    from .snapshot import Loaded

MAGIC = b"REDIS"
OP_SLOT_INFO = 0xF4
OP_FUNCTION2 = 0xF5
OP_FUNCTION_PRE_GA = 0xF6
OP_MODULE_AUX = 0xF7
OP_IDLE = 0xF8
OP_FREQ = 0xF9
OP_AUX = 0xFA
OP_RESIZEDB = 0xFB
OP_EXPIRETIME_MS = 0xFC
OP_EXPIRETIME = 0xFD
OP_SELECTDB = 0xFE
OP_EOF = 0xFF


class RdbError(Exception):
    """An RDB file or stream that cannot be loaded (the message names the offset)."""


def _aux(key: bytes, value: bytes) -> bytes:
    return bytes((OP_AUX,)) + enc_string(key) + enc_string(value)


def rdb_records(engine: Engine, aux: dict[bytes, bytes] | None = None,
                now: int | None = None) -> Iterator[bytes]:
    """The bytes of an RDB file of ``engine``'s data, in pieces, without the checksum."""
    yield MAGIC + b"%04d" % RDB_VERSION
    fields = {b"redis-ver": REDIS_VERSION.encode(), b"redis-bits": b"64",
              b"ctime": b"%d" % int(time.time()), b"used-mem": b"0", b"aof-base": b"0"}
    fields.update(aux or {})
    for k, v in fields.items():
        yield _aux(k, v)
    for lib in get_scripting(engine).functions.libraries.values():
        yield bytes((OP_FUNCTION2,)) + enc_string(lib.code)
    now = engine.clock.ms() if now is None else now
    policy = str(engine.config.get("maxmemory-policy", "noeviction"))
    save_lru = policy.endswith("-lru")
    save_lfu = lfu.is_lfu(engine)
    for db in engine.dbs:
        if not db.data:
            continue
        expires = db.expires
        yield (bytes((OP_SELECTDB,)) + enc_length(db.index) + bytes((OP_RESIZEDB,))
               + enc_length(len(db.data)) + enc_length(len(expires)))
        for key, value in list(db.data.items()):
            yield _key_record(db, key, value, now, save_lru, save_lfu)


def _key_record(db: Database, key: bytes, value: Any, now: int, save_lru: bool,
                save_lfu: bool) -> bytes:
    out = []
    when = db.expires.get(key) if db.expires else None
    if when is not None:
        out.append(bytes((OP_EXPIRETIME_MS,)) + struct.pack("<q", when))
    if save_lru:
        idle = max(0, now - db.access.get(key, now)) // 1000
        out.append(bytes((OP_IDLE,)) + enc_length(idle))
    elif save_lfu and db.lfu is not None:
        out.append(bytes((OP_FREQ,)) + bytes((db.lfu.get(key, lfu.LFU_INIT_VAL) & 0xFF,)))
    t, body = redis_value(value)
    out.append(bytes((t,)) + enc_string(key) + body)
    if type(value) is Stream:
        ext = stream_extension(value)
        if ext is not None:
            out.append(_aux(EXT_AUX, b"%d\x00" % db.index + enc_string(key) + ext))
    return b"".join(out)


def rdb_bytes(engine: Engine, aux: dict[bytes, bytes] | None = None) -> bytes:
    """A whole RDB file in memory (replication's full sync, tests)."""
    data = b"".join(rdb_records(engine, aux)) + bytes((OP_EOF,))
    return data + struct.pack("<Q", crc64(data))


def write_rdb(engine: Engine, path: str, progress: Callable[[int], None] | None = None) -> int:
    """Write the dataset to ``path`` as an RDB file, atomically; returns its size."""
    from .snapshot import write_records_atomically

    return write_records_atomically(path, rdb_records(engine), bytes((OP_EOF,)), "rdb",
                                    progress)


# -- reading ---------------------------------------------------------------------------------------


def read_rdb_bytes(engine: Engine, data: bytes | memoryview, name: str) -> Loaded:
    """Verify and decode a whole RDB image (raises RdbError naming ``name`` and the offset)."""
    from .snapshot import Loaded

    mv = memoryview(data)
    if len(mv) < 9 or bytes(mv[:5]) != MAGIC:
        raise RdbError(f"Wrong signature trying to load DB from file {name}")
    try:
        ver = int(bytes(mv[5:9]))
    except ValueError:
        raise RdbError(f"Wrong signature trying to load DB from file {name}") from None
    if not 1 <= ver <= RDB_VERSION:
        raise RdbError(f"Can't handle RDB format version {ver} in {name}")
    out = Loaded()
    r = Reader(mv, 9)
    at = 9
    try:
        _read_records(engine, r, out, ver, name)
        at = r.pos
        if ver >= 5:
            (want,) = r.unpack(struct.Struct("<Q"))
            if want and crc64(mv[: at]) != want:
                raise RdbError(f"Wrong RDB checksum loading {name} ({len(mv)} bytes): "
                               f"the file is damaged")
        if r.pos != len(mv):
            raise FormatError("bytes after the end of the RDB")
    except RdbError:
        raise
    except (FormatError, struct.error, ValueError, IndexError, OverflowError) as e:
        where = getattr(e, "rdb_offset", r.pos if at == 9 else at)
        raise RdbError(f"Bad RDB {name} at offset {where}: {e}") from None
    return out


def _read_records(engine: Engine, r: Reader, out: Loaded, ver: int, name: str) -> None:
    now = engine.clock.ms()
    db: Database | None = None
    when: int | None = None
    idle = freq = -1
    while True:
        at = r.pos
        try:
            op = r.u8()
            if op == OP_EOF:
                return
            if op == OP_EXPIRETIME_MS:
                when = int(r.unpack(struct.Struct("<q"))[0])
            elif op == OP_EXPIRETIME:
                when = int(r.unpack(struct.Struct("<i"))[0]) * 1000
            elif op == OP_IDLE:
                idle = read_length(r)
            elif op == OP_FREQ:
                freq = r.u8()
            elif op == OP_SELECTDB:
                idx = read_length(r)
                if idx >= len(engine.dbs):
                    raise FormatError(f"database {idx} out of range (databases "
                                      f"{len(engine.dbs)})")
                db = out.dbs.get(idx)
                if db is None:
                    db = out.dbs[idx] = Database(engine, idx)
            elif op == OP_RESIZEDB:
                read_length(r)
                read_length(r)
            elif op == OP_SLOT_INFO:
                for _ in range(3):
                    read_length(r)
            elif op == OP_AUX:
                key, value = read_string(r), read_string(r)
                if key == EXT_AUX:
                    _apply_aux_extension(out, value)
                else:
                    out.aux[key] = value
            elif op == OP_FUNCTION2:
                out.functions.append(read_string(r))
            elif op == OP_MODULE_AUX:
                raise FormatError("the file holds module AUX data, which streamlite cannot "
                                  "load (it has no Redis modules)")
            elif op == OP_FUNCTION_PRE_GA:
                raise FormatError("pre-release function format not supported")
            else:
                if db is None:
                    db = out.dbs[0] = out.dbs.get(0) or Database(engine, 0)
                key = read_string(r)
                try:
                    value = read_value(op, r, engine)
                except EmptyKeyError:  # as Redis: skipped ("rdbLoadObject skipping empty key")
                    out.empty += 1
                    when = None
                    idle = freq = -1
                    continue
                if key in db.data:
                    raise FormatError(f"duplicated key {key!r} in DB {db.index}")
                if when is not None and when < now:
                    out.expired += 1
                else:
                    _place_loaded(engine, db, key, value, when, now, idle, freq)
                    out.keys += 1
                when = None
                idle = freq = -1
        except (FormatError, struct.error, ValueError, IndexError, OverflowError) as e:
            e.rdb_offset = at  # type: ignore[union-attr]
            raise


def _apply_aux_extension(out: Loaded, value: bytes) -> None:
    r = Reader(value)
    sep = value.index(b"\x00")
    idx = int(value[:sep])
    r.pos = sep + 1
    key = read_string(r)
    db = out.dbs.get(idx)
    s = db.data.get(key) if db is not None else None
    if s is None:  # the key had expired and was skipped
        return
    if type(s) is not Stream:
        raise FormatError("stream extension for a key that is not a stream")
    apply_extension(s, r.take(r.end - r.pos))


def _place_loaded(engine: Engine, db: Database, key: bytes, value: Any, when: int | None,
                  now: int, idle: int, freq: int) -> None:
    from .snapshot import _place

    _place(db, key, value, when, now)
    if idle >= 0:
        db.access[key] = now - idle * 1000
    if freq >= 0 and lfu.is_lfu(engine):
        if db.lfu is None:
            db.lfu = {}
        db.lfu[key] = (lfu._minutes(now) << 8) | freq


def is_rdb(path: str) -> bool:
    """True if the file at ``path`` starts with Redis's RDB signature."""
    try:
        with open(path, "rb") as f:
            return f.read(5) == MAGIC
    except OSError:
        return False


def load_rdb_file(engine: Engine, path: str) -> Loaded:
    with open(path, "rb") as f:
        data = f.read()
    return read_rdb_bytes(engine, data, os.path.basename(path))
