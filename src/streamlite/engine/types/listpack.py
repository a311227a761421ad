"""Byte sizes of Redis's listpack encoding, for ``OBJECT ENCODING`` thresholds.

Redis decides between compact (listpack/intset) and big encodings partly on
the listpack's byte size; these functions compute that size exactly as
``listpack.c`` lays entries out, without storing anything in that format.
"""

from __future__ import annotations

LP_HEADER = 6  # total bytes (4) + number of elements (2)
LP_END = 1
LP_EMPTY = LP_HEADER + LP_END
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def str_to_int64(b: bytes) -> int | None:
    """The integer ``b`` spells exactly as Redis's ``string2ll`` accepts it, else None.

    No spaces, no ``+``, no leading zeros, no ``-0``, at most 20 characters, in
    the signed 64-bit range.
    """
    n = len(b)
    if n == 0 or n > 20:
        return None
    c0 = b[0]
    if c0 == 0x30:  # "0"
        return 0 if n == 1 else None
    if c0 == 0x2D:  # "-"
        if n == 1 or b[1] == 0x30 or not b[1:].isdigit():
            return None
    elif not b.isdigit():
        return None
    v = int(b)
    if v > INT64_MAX or v < INT64_MIN:
        return None
    return v


def _backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def int_entry_size(v: int) -> int:
    """Bytes a listpack entry holding integer ``v`` takes (encoding + data + backlen)."""
    if 0 <= v <= 127:
        n = 1
    elif -4096 <= v <= 4095:
        n = 2
    elif -32768 <= v <= 32767:
        n = 3
    elif -8388608 <= v <= 8388607:
        n = 4
    elif -2147483648 <= v <= 2147483647:
        n = 5
    else:
        n = 9
    return n + _backlen_size(n)


def entry_size(b: bytes) -> int:
    """Bytes a listpack entry holding ``b`` takes (integers are stored as integers)."""
    v = str_to_int64(b)
    if v is not None:
        return int_entry_size(v)
    n = len(b)
    if n < 64:
        n += 1
    elif n < 4096:
        n += 2
    else:
        n += 5
    return n + _backlen_size(n)
