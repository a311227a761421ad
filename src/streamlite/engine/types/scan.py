"""SCAN-style cursors over a hash table, with Redis's guarantees.

Redis walks a hash table's buckets in reverse-binary order, so an element
present for the whole iteration is returned at least once even if the table
grows or shrinks between calls. We do the same over a virtual table: each
member's bucket is its (per-process stable) hash masked by the table size
Redis would use for that many elements. The bucket index is cached per value
and rebuilt only after a change.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..args import parse_int
from ..errors import SYNTAX, CommandError
from .listpack import str_to_int64


def table_size(n: int) -> int:
    """The power-of-two table size a Redis dict holding ``n`` entries has (min 4)."""
    size = 4
    while size < n:
        size <<= 1
    return size


class BucketIndex:
    """Members grouped by bucket for one table size."""

    __slots__ = ("mask", "buckets")

    def __init__(self, members: Iterable[bytes], n: int) -> None:
        self.mask = table_size(n) - 1
        buckets: dict[int, list[bytes]] = {}
        m = self.mask
        for x in members:
            buckets.setdefault(hash(x) & m, []).append(x)
        self.buckets = buckets


def _rev_incr(v: int, mask: int) -> int:
    """Redis's reverse-binary cursor increment (``dictScan``)."""
    v |= ~mask & 0xFFFFFFFFFFFFFFFF
    v = int(f"{v:064b}"[::-1], 2)
    v = (v + 1) & 0xFFFFFFFFFFFFFFFF
    return int(f"{v:064b}"[::-1], 2)


def scan_buckets(index: BucketIndex, cursor: int, count: int) -> tuple[int, list[bytes]]:
    """Visit buckets from ``cursor`` until about ``count`` members are collected
    (at most ``10 * count`` empty buckets), as ``scanGenericCommand`` does.
    Returns the next cursor (0 when done) and the members found."""
    out: list[bytes] = []
    mask = index.mask
    buckets = index.buckets
    budget = count * 10
    v = cursor
    while True:
        b = buckets.get(v & mask)
        if b:
            out.extend(b)
        v = _rev_incr(v, mask)
        budget -= 1
        if v == 0 or budget <= 0 or len(out) >= count:
            break
    return v, out


ULLONG_MAX = (1 << 64) - 1


def parse_cursor(b: bytes) -> int:
    """A SCAN cursor as Redis's ``string2ull`` reads it, else ``ERR invalid cursor``."""
    v = str_to_int64(b)
    if v is not None:
        if v < 0:
            raise CommandError("ERR invalid cursor")
        return v
    # strtoull: leading space, a sign, decimal digits; '-' negates modulo 2**64
    s = b.lstrip(b" \t\n\v\f\r")
    neg = False
    if s[:1] in (b"+", b"-"):
        neg = s[:1] == b"-"
        s = s[1:]
    if not s or not s.isdigit() or not b:
        raise CommandError("ERR invalid cursor")
    n = int(s)
    if n > ULLONG_MAX:
        raise CommandError("ERR invalid cursor")
    return (-n) & ULLONG_MAX if neg else n


def parse_scan_options(argv: list[bytes], start: int, is_hash: bool = False) -> tuple[int, bytes | None, bool]:
    """COUNT and MATCH of SSCAN/ZSCAN/HSCAN (``scanGenericCommand``): (count, pattern,
    novalues). A MATCH of ``*`` is dropped, as Redis does."""
    count = 10
    pat: bytes | None = None
    novalues = False
    i = start
    n = len(argv)
    while i < n:
        word = argv[i].lower()
        left = n - i
        if word == b"count" and left >= 2:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
            i += 2
        elif word == b"match" and left >= 2:
            p = argv[i + 1]
            pat = None if p == b"*" else p
            i += 2
        elif word == b"novalues":
            if not is_hash:
                raise CommandError("ERR NOVALUES option can only be used in HSCAN")
            novalues = True
            i += 1
        else:
            raise CommandError(SYNTAX)
    return count, pat, novalues
