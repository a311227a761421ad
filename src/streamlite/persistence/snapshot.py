"""Snapshot files (SAVE, BGSAVE, save points, DEBUG RELOAD, shutdown).

Format version 3 (integers little-endian; the value bodies are ``engine.serialize``'s,
the same bytes DUMP carries)::

    offset  size  what
    0       8     magic  b"SLSNAP\\r\\n"
    8       2     format version (3)
    10      8     creation time, unix ms
    18      ...   records, each starting with an opcode byte:
                    0xF5 FUNCTION   u32 length, the library's code (FUNCTION LOAD text)
                    0xFE SELECTDB   u32 database index; the keys below belong to it
                    0xFC EXPIRE     i64 absolute unix ms: the next key's TTL
                    0x00 KEY        u32 key length, key, u8 value type,
                                    u64 body length, body
                    0xFF EOF
    end-8   8     CRC-64 (Redis's, Jones) of every byte before it

The whole file is read and its checksum verified before anything is decoded;
keys are decoded into fresh databases that replace the live ones only once the
whole file has been read, so a damaged snapshot is refused whole, never
half-loaded. A key whose TTL has passed is skipped, as Redis's loader does.
Files are written to a temp name, fsynced, renamed into place, and the
directory fsynced.

Version 1 files (a RESP command stream body and a CRC-32, written by the first
releases) are still read. Version 2 (the same layout as 3, but a consumer group's
body without the XNACK NACK zone) only ever existed on a development branch and is
refused.
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from ..engine.core import Engine
from ..engine.crc64 import crc64
from ..engine.database import Database
from ..engine.record import Record
from ..engine.scripting.runtime import get_scripting
from ..engine.serialize import FormatError, Reader, _finish, decode_value, encode_value
from .aof import fsync_dir
from .mapped import Mapped

MAGIC = b"SLSNAP\r\n"
VERSION = 3
OP_FUNCTION = 0xF5
OP_SELECTDB = 0xFE
OP_EXPIRE = 0xFC
OP_KEY = 0x00
OP_EOF = 0xFF
_HEADER = struct.Struct("<8sHQ")
_KEYHDR = struct.Struct("<BQ")
_CHUNK = 1 << 20


class SnapshotError(Exception):
    pass


def dataset_records(engine: Engine, now: int | None = None) -> Iterator[bytes]:
    """The record bytes of ``engine``'s data (functions, then each database's keys)."""
    for lib in get_scripting(engine).functions.libraries.values():
        yield bytes([OP_FUNCTION]) + struct.pack("<I", len(lib.code)) + lib.code
    now = engine.clock.ms() if now is None else now
    for db in engine.dbs:
        if not db.data:
            continue
        yield bytes([OP_SELECTDB]) + struct.pack("<I", db.index)
        expires = db.expires
        for key, value in list(db.data.items()):
            when = expires.get(key) if expires else None
            if when is not None:
                if when <= now:
                    continue
                yield bytes([OP_EXPIRE]) + struct.pack("<q", when)
            t, body = encode_value(value)
            size = sum(map(len, body))
            yield b"".join([bytes([OP_KEY]), struct.pack("<I", len(key)), key,
                            _KEYHDR.pack(t, size), *body])


def write_snapshot(engine: Engine, path: str, progress: Callable[[int], None] | None = None,
                   fmt: str = "streamlite") -> int:
    """Write the dataset to ``path`` atomically (ours, or an RDB file with ``fmt="redis"``);
    returns the file size."""
    if fmt == "redis":
        from .rdb import write_rdb

        return write_rdb(engine, path, progress)
    header = _HEADER.pack(MAGIC, VERSION, int(time.time() * 1000))
    return write_records_atomically(path, _with_header(header, dataset_records(engine)),
                                    bytes([OP_EOF]), "sldb", progress)


def _with_header(header: bytes, records: Iterator[bytes]) -> Iterator[bytes]:
    yield header
    yield from records


def write_records_atomically(path: str, records: Iterator[bytes], trailer: bytes, ext: str,
                             progress: Callable[[int], None] | None = None) -> int:
    """Write ``records`` then ``trailer`` then the CRC-64 (little-endian) of all of them to
    a temp file, fsync, rename it to ``path`` and fsync the directory; returns the size.

    ``progress`` is called with the number of records written so far, every MB or so.
    """
    tmp = os.path.join(os.path.dirname(path) or ".", f"temp-{os.getpid()}.{ext}")
    size = 0
    try:
        with open(tmp, "wb", buffering=0) as f:
            crc = 0
            buf: list[bytes] = []
            pending = 0
            count = 0
            for rec in records:
                buf.append(rec)
                pending += len(rec)
                count += 1
                if pending >= _CHUNK:
                    data = b"".join(buf)
                    crc = crc64(data, crc)
                    _write_all(f.fileno(), data)
                    size += len(data)
                    buf, pending = [], 0
                    if progress is not None:
                        progress(count)
            buf.append(trailer)
            data = b"".join(buf)
            crc = crc64(data, crc)
            data += struct.pack("<Q", crc)
            _write_all(f.fileno(), data)
            size += len(data)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(os.path.dirname(path) or ".")
    return size


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class Loaded(Record):
    """A decoded snapshot, not yet installed."""

    _fields = ("dbs", "functions", "keys", "expired", "empty", "aux", "created_ms", "commands")

    def __init__(self, dbs: dict[int, Database] | None = None,
                 functions: list[bytes] | None = None, keys: int = 0, expired: int = 0,
                 empty: int = 0, aux: dict[bytes, bytes] | None = None, created_ms: int = 0,
                 commands: list[list[bytes]] | None = None) -> None:
        self.dbs: dict[int, Database] = {} if dbs is None else dbs
        self.functions: list[bytes] = [] if functions is None else functions
        self.keys = keys
        self.expired = expired
        self.empty = empty  # RDB files: empty collections skipped, as Redis's loader does
        self.aux: dict[bytes, bytes] = {} if aux is None else aux  # RDB files: AUX fields
        self.created_ms = created_ms
        self.commands = commands  # version 1 files: a command stream


# a snapshot this big or bigger is read through a mapping of the file (mapped.py)
_MAP_MIN = 1 << 20


def read_snapshot(engine: Engine, path: str) -> Loaded:
    """Verify and decode ``path`` (raises SnapshotError naming the file and offset)."""
    name = os.path.basename(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size >= _MAP_MIN and os.name == "posix" and f.read(5) != b"REDIS":
            with Mapped(f, 0, size) as m:  # no page fault per 4 KB of a read into memory
                return _read_ours(engine, m.view, name)
        f.seek(0)
        data = f.read()
    if data[:5] == b"REDIS":  # Redis's RDB format
        from .rdb import RdbError, read_rdb_bytes

        try:
            return read_rdb_bytes(engine, data, name)
        except RdbError as e:
            raise SnapshotError(str(e)) from None
    return _read_ours(engine, data, name)


def _read_ours(engine: Engine, data: bytes | memoryview, name: str) -> Loaded:
    """Verify and decode a snapshot of our format held in ``data``."""
    if len(data) < _HEADER.size:
        raise SnapshotError(f"Short read loading snapshot {name}: {len(data)} bytes")
    magic, version, created = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotError(f"Wrong signature trying to load snapshot {name}")
    if data[8:10] == b"\x00\x01":  # version 1 wrote its header big-endian
        return _read_v1(bytes(data), name)
    if version != VERSION:
        raise SnapshotError(f"Can't handle snapshot format version {version} in {name}")
    if len(data) < _HEADER.size + 9:
        raise SnapshotError(f"Short read loading snapshot {name}: {len(data)} bytes")
    mv = data if isinstance(data, memoryview) else memoryview(data)
    (want,) = struct.unpack_from("<Q", data, len(data) - 8)
    if crc64(mv[:-8]) != want:
        raise SnapshotError(
            f"Wrong checksum loading snapshot {name} ({len(data)} bytes): the file is damaged")
    out = Loaded(created_ms=created)
    r = Reader(mv, _HEADER.size, len(data) - 8)
    now = engine.clock.ms()
    db: Database | None = None
    when: int | None = None
    try:
        while True:
            at = r.pos
            op = r.u8()
            if op == OP_EOF:
                break
            if op == OP_FUNCTION:
                out.functions.append(r.blob())
            elif op == OP_SELECTDB:
                idx = r.u32()
                if idx >= len(engine.dbs):
                    raise FormatError(f"database {idx} out of range")
                db = out.dbs.get(idx)
                if db is None:
                    db = out.dbs[idx] = Database(engine, idx)
            elif op == OP_EXPIRE:
                when = r.i64()
            elif op == OP_KEY:
                if db is None:
                    raise FormatError("key before any SELECTDB")
                key = r.blob()
                t, size = r.unpack(_KEYHDR)
                start = r.pos
                if start + size > r.end:
                    raise FormatError("value past the end of the file")
                vr = Reader(mv, start, start + size)
                value = _finish(decode_value(t, vr, engine), vr)
                r.pos = start + size
                if key in db.data:
                    raise FormatError(f"duplicate key {key!r}")
                if when is not None and when < now:
                    out.expired += 1
                else:
                    _place(db, key, value, when, now)
                    out.keys += 1
                when = None
            else:
                raise FormatError(f"unknown record type {op:#x}")
        if r.pos != r.end:
            raise FormatError("bytes after the end marker")
    except (FormatError, struct.error, ValueError, IndexError, OverflowError) as e:
        raise SnapshotError(f"Bad snapshot {name} at offset {at}: {e}") from None
    return out


def _place(db: Database, key: bytes, value: Any, when: int | None, now: int) -> None:
    """Store a loaded key directly (no touch: nobody watches a database being built)."""
    db.data[key] = value
    db.ks_dirty.add(key)  # counted in INFO keysizes when next read
    db.access[key] = now
    if when is not None:
        db.expires[key] = when
        db.exp_heap.append((when, key))
    hook = getattr(value, "on_placed", None)
    if hook is not None:
        hook(db, key)


def _read_v1(data: bytes, name: str) -> Loaded:
    import hiredis

    hdr = struct.Struct(">8sHQQ")
    if len(data) < hdr.size + 4:
        raise SnapshotError(f"Short read loading snapshot {name}: {len(data)} bytes")
    _m, _v, created, n = hdr.unpack_from(data)
    if len(data) != hdr.size + n + 4:
        raise SnapshotError(f"Short read loading snapshot {name}: expected {hdr.size + n + 4} "
                            f"bytes, found {len(data)}")
    (crc,) = struct.unpack_from(">I", data, hdr.size + n)
    if zlib.crc32(data[: hdr.size + n]) != crc:
        raise SnapshotError(f"Wrong checksum loading snapshot {name}: the file is damaged")
    reader = hiredis.Reader()
    cmds = []
    # fed in small pieces: hiredis moves the unread rest of its buffer every ~1 KB it
    # parses, so one big feed makes parsing quadratic in the file size
    step = 1 << 16
    for i in range(0, n, step):
        reader.feed(data, hdr.size + i, min(step, n - i))
        while (argv := reader.gets()) is not False:
            cmds.append(argv)
    if reader.has_data():
        raise SnapshotError(f"Bad snapshot {name}: incomplete command at the end")
    return Loaded(created_ms=created, commands=cmds)


def install(engine: Engine, loaded: Loaded) -> None:
    """Replace ``engine``'s data (every database, the function libraries) with ``loaded``."""
    import heapq

    for db in engine.dbs:
        new = loaded.dbs.get(db.index)
        if db.data or new is not None:
            db.clear()
        if new is None:
            continue
        db.signal_all(new)
        heapq.heapify(new.exp_heap)
        for attr in ("data", "expires", "exp_heap", "access", "hexp_heap", "ks_dirty"):
            setattr(db, attr, getattr(new, attr))
        db.scan_index = None
        db.str_enc = {}
        if new.lfu is not None or db.lfu is not None:
            db.lfu = new.lfu if new.lfu is not None else {}
    fns = get_scripting(engine).functions
    fns.flush()
    client = engine.client()
    client.is_master = True
    client.loading = True
    for code in loaded.functions:
        reply = engine.execute(client, [b"FUNCTION", b"LOAD", b"REPLACE", code])
        if isinstance(reply, bytes) and reply.startswith(b"ERR"):
            raise SnapshotError(f"Cannot load a function library from the snapshot: {reply!r}")
    if loaded.commands is not None:
        for argv in loaded.commands:
            engine.execute(client, argv)
    engine.drop_client(client)


def load_snapshot(engine: Engine, path: str) -> Loaded:
    """Verify, decode, then install a snapshot into ``engine``."""
    loaded = read_snapshot(engine, path)
    install(engine, loaded)
    return loaded
