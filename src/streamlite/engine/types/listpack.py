"""Byte sizes of Redis's listpack encoding (``listpack.c``), without storing one.

streamlite does not keep values as listpacks, but Redis decides several things
by a listpack's byte size, and to decide them where Redis does we count the
bytes each element would take: its encoding header, its data and its
back-length. Strings that are canonical 64-bit integers (``string2ll``) are
stored as integers.

- ``OBJECT ENCODING`` of lists: listpack while the list's listpack stays under
  ``list-max-listpack-size`` (``types/list.py``).
- Stream nodes: a node closes when its listpack would reach
  ``stream-node-max-bytes``, so trimming with ``MAXLEN ~``/``MINID ~`` leaves the
  lengths Redis leaves (``stream/stream.py``; its append path inlines the common
  cases of ``str_size`` and ``int_size``).
"""

from __future__ import annotations

from ...numparse import INT64_MAX, string2ll

LP_HEADER = 6  # total bytes (4) + number of elements (2)
LP_END = 1
LP_EMPTY = LP_HEADER + LP_END


def backlen_size(enc: int) -> int:
    """Bytes of the back-length of an element whose header and data take ``enc``."""
    if enc <= 127:
        return 1
    if enc < 16383:
        return 2
    if enc < 2097151:
        return 3
    if enc < 268435455:
        return 4
    return 5


def int_size(v: int) -> int:
    """Bytes of an integer element (encoding + data + back-length)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def str_size(b: bytes) -> int:
    """Bytes of an element holding ``b``: an integer element when ``b`` is a
    canonical int64, else a string element."""
    n = len(b)
    if n and (b[0] > 57 or b[0] < 45):  # cannot be an integer (not 0-9, '-'): the common case
        return n + 2 if n < 64 else _long_str_size(n)
    if n <= 20:
        v = string2ll(b)
        if v is not None:
            return int_size(v)
    if n < 64:
        return n + 2  # 1 byte header, 1 byte back-length
    return _long_str_size(n)


def _long_str_size(n: int) -> int:
    enc = n + 2 if n < 4096 else n + 5
    return enc + backlen_size(enc)


def signed64(v: int) -> int:
    """A uint64 difference as C's int64 cast sees it (``lpAppendInteger(int64_t)``)."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v > INT64_MAX else v
