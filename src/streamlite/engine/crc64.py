"""CRC-64 as Redis computes it (Jones polynomial, reflected, init 0, no final xor).

Redis uses it for the DUMP payload trailer and the RDB checksum; so do we (DUMP,
RESTORE, snapshot files). ``crc64(data, crc)`` continues a running checksum, so a
file can be checksummed piece by piece. The fast path is ``anycrc`` (carry-less
multiply, gigabytes per second); without it a table-driven fallback gives the
same values, slowly.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

POLY = 0xAD93D23594C935A9  # Jones, normal form; reflected below
CHECK = 0xE9C6D914C4B8D9CA  # crc64(b"123456789"), Redis's own self-test value


def _reflect(v: int, width: int) -> int:
    r = 0
    for _ in range(width):
        r = (r << 1) | (v & 1)
        v >>= 1
    return r


@cache  # built when the fallback first runs: not at every start
def _table() -> list[int]:
    rpoly = _reflect(POLY, 64)
    out = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ rpoly if c & 1 else c >> 1
        out.append(c)
    return out


def _pure(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    t = _table()
    for b in bytes(data):
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc



def _fast() -> Callable[..., int] | None:
    try:
        import anycrc
    except ImportError:  # pragma: no cover - anycrc is a dependency
        return None
    c = anycrc.CRC(width=64, poly=POLY, init=0, refin=True, refout=True, xorout=0)
    if c.calc(b"123456789") != CHECK:  # pragma: no cover
        return None

    def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
        if not len(data):
            return crc
        return int(c.calc(data, crc))

    return crc64


crc64: Callable[..., int] = _fast() or _pure
