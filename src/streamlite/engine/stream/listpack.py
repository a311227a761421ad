"""Byte accounting of Redis's listpack encoding, as used by stream nodes.

streamlite does not store listpacks, but a stream node closes when its listpack
would reach ``stream-node-max-bytes``; to close nodes where Redis closes them (and
so to trim with ``MAXLEN ~``/``MINID ~`` to the same lengths Redis leaves) we
count the bytes each element would take in a listpack: its encoding header, its
data and its back-length.
"""

from __future__ import annotations

LP_EMPTY = 7  # 6 bytes header (total bytes + element count) + 1 end byte
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def backlen_size(enc: int) -> int:
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
    """Bytes of an integer element (encoding + back-length)."""
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
    """Bytes of a string element; strings that are canonical int64s are stored as integers."""
    n = len(b)
    if n and (b[0] > 57 or b[0] < 45):  # cannot be an integer: the common case
        return n + 2 if n < 64 else _long_str_size(n)
    if 0 < n <= 20:
        c = b[0]
        if (49 <= c <= 57 and b.isdigit()) or (n == 1 and c == 48) or (
            c == 45 and n > 1 and 49 <= b[1] <= 57 and b[1:].isdigit()
        ):
            v = int(b)
            if INT64_MIN <= v <= INT64_MAX:
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
