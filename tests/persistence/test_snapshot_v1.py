"""Snapshots written by the first releases (format version 1, ``main`` before format 2):
a big-endian header, a RESP command stream body, a CRC-32. They must still load."""

from __future__ import annotations

import os
import struct
import zlib

import pytest

from streamlite.engine import Engine, FakeClock
from streamlite.persistence import SnapshotError
from streamlite.persistence.rewrite import base_bytes

from .helpers import Durable, canonical, populate_every_type


def write_v1(engine: Engine, path: str) -> None:
    """A snapshot exactly as version 1's ``write_snapshot`` laid it out."""
    body = b"".join(base_bytes(engine, preamble=False))  # SELECT + plain commands
    header = struct.pack(">8sHQQ", b"SLSNAP\r\n", 1, engine.clock.ms(), len(body))
    crc = zlib.crc32(body, zlib.crc32(header))
    with open(path, "wb") as f:
        f.write(header + body + struct.pack(">I", crc))


def test_a_version_1_snapshot_loads(tmp_path):
    clock = FakeClock()
    src = Engine(clock)
    populate_every_type(src)
    write_v1(src, str(tmp_path / "dump.sldb"))
    d = Durable(str(tmp_path), clock, appendonly=False)
    assert canonical(d.engine, times=False, layout=False) == canonical(
        src, times=False, layout=False)
    d.close()


def test_a_damaged_version_1_snapshot_is_refused(tmp_path):
    clock = FakeClock()
    src = Engine(clock)
    populate_every_type(src)
    path = str(tmp_path / "dump.sldb")
    write_v1(src, path)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x40
    with open(path, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(SnapshotError, match="checksum"):
        Durable(str(tmp_path), clock, appendonly=False)
    os.unlink(path)
