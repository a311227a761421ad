"""The sorted-set value: a ``SortedList`` of ``(score, member)`` for ranks and
ranges in O(log n), and a dict member -> score for lookups.

``OBJECT ENCODING`` follows Redis: ``listpack`` while the set has at most
``zset-max-listpack-entries`` members none longer than
``zset-max-listpack-value`` bytes, ``skiplist`` after that; deletions never
convert back, the STORE commands build their result in whichever fits. As in
Redis, a listpack stores a score of -0 as 0 (a skiplist keeps -0).

Lexicographic ranges assume equal scores (as Redis documents). With mixed
scores we scan in order like Redis's listpack does, so the answer is the one
a listpack-encoded Redis set gives.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from sortedcontainers import SortedList

from ..database import register_type
from ..scan import ScanIndex
from .config import conf_int

INF = math.inf


class Limits:
    __slots__ = ("entries", "value")

    def __init__(self, engine: Any) -> None:
        self.entries = conf_int(engine, "zset-max-listpack-entries", 128)
        self.value = conf_int(engine, "zset-max-listpack-value", 64)

    def fits(self, n: int, maxlen: int) -> bool:
        return n <= self.entries and maxlen <= self.value


class LexBound:
    """One end of a lex range: ``-`` (kind -1), ``+`` (kind 1) or a value (kind 0)."""

    __slots__ = ("kind", "value", "ex")

    def __init__(self, kind: int, value: bytes = b"", ex: bool = False) -> None:
        self.kind = kind
        self.value = value
        self.ex = ex

    @classmethod
    def parse(cls, b: bytes) -> LexBound | None:
        """``zslParseLexRangeItem``: ``-``, ``+``, ``(value`` or ``[value``; None if invalid."""
        c0 = b[:1]
        if c0 == b"+":
            return cls(1, ex=True) if len(b) == 1 or b[1] == 0 else None
        if c0 == b"-":
            return cls(-1, ex=True) if len(b) == 1 or b[1] == 0 else None
        if c0 == b"(":
            return cls(0, b[1:], True)
        if c0 == b"[":
            return cls(0, b[1:], False)
        return None

    def cmp(self, m: bytes) -> int:
        """Compare this bound with member ``m`` (``sdscmplex``): <0, 0, >0."""
        if self.kind:
            return self.kind
        v = self.value
        return -1 if v < m else (1 if v > m else 0)


def _bound_cmp(a: LexBound, b: LexBound) -> int:
    """``sdscmplex`` between two bounds (``-`` below everything, ``+`` above)."""
    if a.kind and a.kind == b.kind:
        return 0
    if a.kind == -1 or b.kind == 1:
        return -1
    if a.kind == 1 or b.kind == -1:
        return 1
    return (a.value > b.value) - (a.value < b.value)


def lex_empty(lo: LexBound, hi: LexBound) -> bool:
    """A lex range that can never match anything (min > max, or equal and open)."""
    c = _bound_cmp(lo, hi)
    return c > 0 or (c == 0 and (lo.ex or hi.ex))


def _gte_min(m: bytes, lo: LexBound) -> bool:
    c = lo.cmp(m)  # bound vs member
    return c < 0 if lo.ex else c <= 0


def _lte_max(m: bytes, hi: LexBound) -> bool:
    c = hi.cmp(m)
    return c > 0 if hi.ex else c >= 0


class ZSetValue:
    """A Redis sorted set."""

    __slots__ = ("sl", "scores", "listpack", "scan_index")

    def __init__(self, listpack: bool = True) -> None:
        self.sl: SortedList = SortedList()
        self.scores: dict[bytes, float] = {}
        self.listpack = listpack
        self.scan_index: ScanIndex | None = None  # ZSCAN cursors (see engine/scan.py)

    @classmethod
    def create(cls, size_hint: int, maxlen: int, lim: Limits) -> ZSetValue:
        """``zsetTypeCreate``."""
        return cls(lim.fits(size_hint, maxlen))

    @classmethod
    def build(cls, items: Iterable[tuple[bytes, float]], lim: Limits) -> ZSetValue:
        """A STORE result: skiplist, then listpack if it fits (``zsetConvertToListpackIfNeeded``)."""
        z = cls(False)
        maxlen = 0
        for m, s in items:
            z._insert(m, s)
            if len(m) > maxlen:
                maxlen = len(m)
        if lim.fits(len(z.scores), maxlen):
            z.to_listpack()
        return z

    # -- encoding -------------------------------------------------------------

    def encoding(self) -> bytes:
        return b"listpack" if self.listpack else b"skiplist"

    def to_listpack(self) -> None:
        self.listpack = True
        for m, s in self.scores.items():
            if s == 0.0 and math.copysign(1.0, s) < 0:
                self.scores[m] = 0.0
                self.sl.remove((s, m))
                self.sl.add((0.0, m))

    def maybe_convert(self, size_hint: int, maxlen: int, lim: Limits) -> None:
        """``zsetTypeMaybeConvert``: a big ZADD converts a listpack up front."""
        if self.listpack and (size_hint > lim.entries or maxlen > lim.value):
            self.listpack = False

    def mem_usage(self) -> int:
        n = len(self.scores)
        return (
            sys.getsizeof(self.scores)
            + sum(len(m) + 33 for m in self.scores)
            + n * (24 + 56 + 8)  # a float, the (score, member) tuple, the list slot
            + 200
        )

    # -- reading --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.scores)

    def __contains__(self, m: bytes) -> bool:
        return m in self.scores

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        return iter(self.sl)

    def score(self, m: bytes) -> float | None:
        return self.scores.get(m)

    def rank(self, m: bytes) -> int | None:
        s = self.scores.get(m)
        if s is None:
            return None
        return int(self.sl.index((s, m)))

    def by_rank(self, start: int, stop: int, rev: bool = False) -> list[tuple[float, bytes]]:
        """Items ``start``..``stop`` inclusive (clamped) in forward or reverse order."""
        n = len(self.sl)
        if rev:
            lo, hi = n - 1 - stop, n - 1 - start
            out = list(self.sl.islice(lo, hi + 1, reverse=True))
            return out
        return list(self.sl.islice(start, stop + 1))

    def score_bounds(self, lo: float, lo_ex: bool, hi: float, hi_ex: bool) -> tuple[int, int]:
        """Index range [i, j) of items with lo <(=) score <(=) hi."""
        sl = self.sl
        if lo_ex:
            i = len(sl) if lo == INF else sl.bisect_left((math.nextafter(lo, INF), b""))
        else:
            i = sl.bisect_left((lo, b""))
        if hi_ex:
            j = sl.bisect_left((hi, b""))
        else:
            j = len(sl) if hi == INF else sl.bisect_left((math.nextafter(hi, INF), b""))
        return i, max(i, j)

    def _uniform(self) -> bool:
        sl = self.sl
        return not sl or sl[0][0] == sl[-1][0]

    def lex_bounds(self, lo: LexBound, hi: LexBound, rev: bool = False) -> tuple[int, int]:
        """Index range [i, j) of members in the lex range, found as Redis does."""
        sl = self.sl
        n = len(sl)
        if n == 0 or lex_empty(lo, hi):
            return 0, 0
        if self._uniform():
            s = sl[0][0]
            if lo.kind == -1:
                i = 0
            elif lo.kind == 1:
                i = n
            else:
                i = (sl.bisect_right if lo.ex else sl.bisect_left)((s, lo.value))
            if hi.kind == 1:
                j = n
            elif hi.kind == -1:
                j = 0
            else:
                j = (sl.bisect_left if hi.ex else sl.bisect_right)((s, hi.value))
            return i, max(i, j)
        # mixed scores: Redis's walk. First ``zzlIsInLexRange``: the last member must
        # be >= min and the first <= max; then forward from the head, or back from the tail
        if not _gte_min(sl[-1][1], lo) or not _lte_max(sl[0][1], hi):
            return 0, 0
        if not rev:
            i = 0
            while i < n and not _gte_min(sl[i][1], lo):
                i += 1
            if i == n or not _lte_max(sl[i][1], hi):
                return 0, 0
            j = i
            while j < n and _lte_max(sl[j][1], hi):
                j += 1
            return i, j
        j = n - 1
        while j >= 0 and not _lte_max(sl[j][1], hi):
            j -= 1
        if j < 0 or not _gte_min(sl[j][1], lo):
            return 0, 0
        i = j
        while i >= 0 and _gte_min(sl[i][1], lo):
            i -= 1
        return i + 1, j + 1

    def random_item(self) -> tuple[float, bytes]:
        return self.sl[random.randrange(len(self.sl))]  # type: ignore[no-any-return]

    # -- changes --------------------------------------------------------------

    def _insert(self, m: bytes, s: float) -> None:
        self.scores[m] = s
        self.sl.add((s, m))
        if self.scan_index is not None:
            self.scan_index.add(m)

    def insert(self, m: bytes, s: float, lim: Limits) -> None:
        """Add a new member (``zsetAdd``'s insert path, converting a listpack that outgrows)."""
        if self.listpack:
            if len(self.scores) + 1 > lim.entries or len(m) > lim.value:
                self.listpack = False
            elif s == 0.0:
                s = 0.0
        self._insert(m, s)

    def update(self, m: bytes, s: float) -> None:
        old = self.scores[m]
        self.sl.remove((old, m))
        if self.listpack and s == 0.0:
            s = 0.0
        self.scores[m] = s
        self.sl.add((s, m))

    def remove(self, m: bytes) -> bool:
        s = self.scores.pop(m, None)
        if s is None:
            return False
        self.sl.remove((s, m))
        if self.scan_index is not None:
            self.scan_index.discard(m)
        return True

    def delete_index_range(self, i: int, j: int) -> int:
        """Remove items [i, j); the number removed."""
        if j <= i:
            return 0
        sl = self.sl
        idx = self.scan_index
        for _, m in sl.islice(i, j):
            del self.scores[m]
            if idx is not None:
                idx.discard(m)
        del sl[i:j]
        return j - i

    def pop(self, last: bool) -> tuple[float, bytes]:
        s, m = self.sl.pop(-1 if last else 0)
        del self.scores[m]
        if self.scan_index is not None:
            self.scan_index.discard(m)
        return s, m

    def copy(self) -> ZSetValue:
        z = ZSetValue(self.listpack)
        z.sl = SortedList(self.sl)
        z.scores = dict(self.scores)
        return z

    def __repr__(self) -> str:
        return f"ZSetValue({self.encoding().decode()}, {list(self.sl)!r})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, ZSetValue) and self.scores == other.scores

    __hash__ = None  # type: ignore[assignment]


register_type(ZSetValue, b"zset")
