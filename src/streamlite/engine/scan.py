"""Cursors for SCAN, HSCAN (and the other *SCAN commands): a scheme with Redis's guarantee.

Redis's guarantee: an element present in the collection for the whole duration of
a full iteration is returned (at least once), whatever is inserted or deleted
meanwhile; elements added or removed during the iteration may or may not be.

The scheme. Every element has a fixed position in the unsigned 64-bit space: its
hash (``hash(elem) & MASK``; CPython caches the hash on the bytes object, and it is
randomized per process just as Redis seeds its dict hash). A cursor is a position in
that space. ``SCAN c`` visits the elements whose position is ``>= c`` in increasing
order, about ``COUNT`` of them (never splitting a group of equal positions), and
answers ``last visited position + 1`` as the next cursor, or ``0`` when nothing is
left. The positions a full iteration visits only grow, so every element that stays
put is visited exactly once: no duplicates at all for stable elements (Redis may
repeat some after a rehash), and no misses whatever changes.

Finding the elements at or after a cursor uses a ``ScanIndex``: the elements sorted
by position (``SortedKeyList``). It is built on a collection's first scan and from
then on kept up to date by the collection's own insert/delete paths (``add``,
``discard``) until an iteration reaches its end, so collections nobody is
scanning pay nothing. If the index was bypassed
(its size differs from the collection's) it is rebuilt before use.

Like Redis, ``COUNT`` is the amount of work (elements visited), and MATCH/TYPE
filter afterwards, so a page may be empty while the cursor is not 0.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from sortedcontainers import SortedKeyList

from .args import parse_int
from .errors import CommandError

MASK = (1 << 64) - 1
INVALID_CURSOR = "ERR invalid cursor"


def position(elem: bytes) -> int:
    """An element's fixed place in the cursor space."""
    return hash(elem) & MASK


class ScanIndex:
    """The elements of one collection sorted by ``position``."""

    __slots__ = ("_sl",)

    def __init__(self, elems: Iterable[bytes]) -> None:
        self._sl: Any = SortedKeyList(elems, key=position)

    def __len__(self) -> int:
        return len(self._sl)

    def add(self, elem: bytes) -> None:
        self._sl.add(elem)

    def discard(self, elem: bytes) -> None:
        self._sl.discard(elem)

    def page(self, cursor: int, count: int) -> tuple[list[bytes], int]:
        """Elements at positions ``>= cursor`` (about ``count``) and the next cursor."""
        sl = self._sl
        n = len(sl)
        i = sl.bisect_key_left(cursor)
        if i >= n:
            return [], 0
        end = min(i + max(count, 1), n)
        out: list[bytes] = list(sl.islice(i, end))
        last = position(out[-1])
        # never split a group of equal positions across pages
        while end < n:
            e = sl[end]
            if position(e) != last:
                break
            out.append(e)
            end += 1
        if end >= n:
            return out, 0
        nxt = last + 1
        return out, (0 if nxt > MASK else nxt)


def index_for(holder: Any, attr: str, elems: Collection[bytes]) -> ScanIndex:
    """``holder.<attr>``, (re)built from ``elems`` if missing or out of step."""
    idx: ScanIndex | None = getattr(holder, attr)
    if idx is None or len(idx) != len(elems):
        idx = ScanIndex(elems)
        setattr(holder, attr, idx)
    return idx


def parse_cursor(b: bytes) -> int:
    """Parse a cursor as Redis's ``string2ull``: a strict integer, else ``strtoull``."""
    try:
        v = parse_int(b)
    except CommandError:
        pass
    else:
        if v < 0:
            raise CommandError(INVALID_CURSOR)
        return v
    # strtoull(s, &end, 10): leading C whitespace, optional sign, digits, nothing after
    t = b.lstrip(b" \t\n\v\f\r")
    neg = False
    if t[:1] in (b"+", b"-"):
        neg = t[:1] == b"-"
        t = t[1:]
    if not t or not t.isdigit():
        raise CommandError(INVALID_CURSOR)
    v = int(t)
    if v > MASK:
        raise CommandError(INVALID_CURSOR)
    return (-v) & MASK if neg else v


def scan_page(
    idx_holder: Any,
    attr: str,
    elems: Collection[bytes],
    cursor: int,
    count: int,
    keep: Callable[[bytes], bool] | None = None,
) -> tuple[int, list[bytes]]:
    """One page of a scan over ``elems``: (next cursor, the visited elements ``keep`` keeps)."""
    idx = index_for(idx_holder, attr, elems)
    page, nxt = idx.page(cursor, count)
    if nxt == 0:
        # An iteration ended: stop paying for the index on every insert until the
        # next scan. Positions do not depend on the index, so a scan still running
        # elsewhere keeps its guarantee when the index is rebuilt for it.
        setattr(idx_holder, attr, None)
    if keep is not None:
        page = [e for e in page if keep(e)]
    return nxt, page
