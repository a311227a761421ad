"""Snapshot files (SAVE, BGSAVE, save points, DEBUG RELOAD).

Format, version 1 (all integers big-endian)::

    offset  size  what
    0       8     magic  b"SLSNAP\\r\\n"
    8       2     format version (1)
    10      8     creation time, unix ms
    18      8     body length N
    26      N     body: a RESP command stream that rebuilds the dataset
                  (SELECT before each database's keys; see rewrite.py)
    26+N    4     CRC-32 (zlib) of bytes 0 .. 26+N

The whole file is read and its checksum verified before a single command is
executed, so a damaged snapshot is refused whole, never half-loaded. Files are
written to a temp name, fsynced and renamed into place.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator

import hiredis

from ..engine.core import Engine
from ..protocol.resp import encode_command
from .aof import fsync_dir
from .rewrite import dataset_commands

MAGIC = b"SLSNAP\r\n"
VERSION = 1
_HEADER = struct.Struct(">8sHQQ")


class SnapshotError(Exception):
    pass


def commands_bytes(engine: Engine) -> Iterator[bytes]:
    """The dataset as RESP-encoded commands with SELECTs, in pieces."""
    cur = -1
    for db, argv in dataset_commands(engine):
        if db != cur:
            yield encode_command([b"SELECT", b"%d" % db])
            cur = db
        yield encode_command(argv)


def write_snapshot(engine: Engine, path: str) -> int:
    """Write the dataset to ``path`` atomically; returns the file size."""
    body = b"".join(commands_bytes(engine))
    header = _HEADER.pack(MAGIC, VERSION, engine.clock.ms(), len(body))
    crc = zlib.crc32(body, zlib.crc32(header))
    tmp = os.path.join(os.path.dirname(path) or ".", f"temp-{os.getpid()}.snap")
    with open(tmp, "wb") as f:
        f.write(header)
        f.write(body)
        f.write(struct.pack(">I", crc))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path) or ".")
    return _HEADER.size + len(body) + 4


def read_snapshot(path: str) -> bytes:
    """The verified body of a snapshot file (raises SnapshotError naming the problem)."""
    with open(path, "rb") as f:
        data = f.read()
    name = os.path.basename(path)
    if len(data) < _HEADER.size + 4:
        raise SnapshotError(f"Short read loading snapshot {name}: {len(data)} bytes")
    magic, version, _created, n = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotError(f"Wrong signature trying to load snapshot {name}")
    if version > VERSION:
        raise SnapshotError(f"Can't handle snapshot format version {version} in {name}")
    if len(data) != _HEADER.size + n + 4:
        raise SnapshotError(
            f"Short read loading snapshot {name}: expected {_HEADER.size + n + 4} bytes, "
            f"found {len(data)}"
        )
    (crc,) = struct.unpack_from(">I", data, _HEADER.size + n)
    if zlib.crc32(data[: _HEADER.size + n]) != crc:
        raise SnapshotError(f"Wrong checksum loading snapshot {name}: the file is damaged")
    return data[_HEADER.size : _HEADER.size + n]


def load_snapshot(engine: Engine, path: str) -> int:
    """Verify, then execute a snapshot into ``engine``; returns commands executed."""
    body = read_snapshot(path)
    reader = hiredis.Reader()
    reader.feed(body)
    client = engine.client()
    client.is_master = True
    n = 0
    while True:
        argv = reader.gets()
        if argv is False:
            break
        engine.execute(client, argv)
        n += 1
    return n
