"""The list value: a deque of bytes (O(1) at both ends), plus what ``OBJECT
ENCODING`` needs to answer as Redis does.

Redis keeps a small list as one listpack and converts it to a quicklist when
it would grow past ``list-max-listpack-size`` (-2: 8 KB; positive: a count of
entries), and back to a listpack when a shrinking quicklist fits in half of
that limit. We track the listpack byte size the entries would take
(``listpack.str_size``) and apply the same rules; the one simplification is
that a quicklist is assumed to be a single node whenever its bytes fit in one.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from ..database import register_type
from .listpack import LP_EMPTY, str_size

# quicklist's size classes for negative list-max-listpack-size (-1 .. -5)
_SIZE_LEVELS = (4096, 8192, 16384, 32768, 65536)
_SIZE_SAFETY_LIMIT = 8192


def _limits(fill: int) -> tuple[float, float]:
    """(byte limit, count limit) of one quicklist node, as ``quicklistNodeLimit``."""
    if fill >= 0:
        return math_inf, float(fill or 1)
    return float(_SIZE_LEVELS[min(-fill - 1, len(_SIZE_LEVELS) - 1)]), math_inf


math_inf = float("inf")


class ListValue:
    """A Redis list. ``items`` is the deque; ``quick`` is True once it is a quicklist."""

    __slots__ = ("items", "quick", "lp_bytes")

    def __init__(self, items: Iterable[bytes] = ()) -> None:
        self.items: deque[bytes] = deque(items)
        self.quick = False
        self.lp_bytes = LP_EMPTY + sum(str_size(x) for x in self.items)

    # -- encoding -------------------------------------------------------------

    def grow_check(self, fill: int, adding: Iterable[bytes]) -> None:
        """Before adding ``adding``: convert to a quicklist if the listpack would be too big
        (``listTypeTryConvertListpack``: current bytes plus the raw lengths added)."""
        if self.quick:
            return
        add_bytes = 0
        add_count = 0
        for a in adding:
            add_bytes += len(a)
            add_count += 1
        new_sz = self.lp_bytes + add_bytes
        new_count = len(self.items) + add_count
        sz_limit, count_limit = _limits(fill)
        if sz_limit != math_inf:
            exceeds = new_sz > sz_limit
        else:
            exceeds = new_sz > _SIZE_SAFETY_LIMIT or new_count > count_limit
        if exceeds:
            self.quick = True

    def shrink_check(self, fill: int) -> None:
        """After removing: back to a listpack when it fits in half a node
        (``listTypeTryConvertQuicklist`` with shrinking)."""
        if not self.quick:
            return
        sz_limit, count_limit = _limits(fill)
        if self.lp_bytes <= sz_limit / 2 and len(self.items) <= count_limit / 2:
            self.quick = False

    def settle(self, fill: int) -> None:
        """A list built as a quicklist (SORT ... STORE) becomes a listpack when it fits
        in one node (``listTypeTryConversion`` with ``LIST_CONV_AUTO``)."""
        sz_limit, count_limit = _limits(fill)
        if sz_limit != math_inf:
            self.quick = self.lp_bytes > sz_limit
        else:
            self.quick = self.lp_bytes > _SIZE_SAFETY_LIMIT or len(self.items) > count_limit

    def encoding(self) -> bytes:
        return b"quicklist" if self.quick else b"listpack"

    def mem_usage(self) -> int:
        # deque blocks hold 64 pointers; each bytes object has a ~33 byte header
        n = len(self.items)
        return (
            sys.getsizeof(self.items)
            + 8 * n
            + sum(len(x) + 33 for x in self.items)
            + 48
        )

    # -- access ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.items)

    def index(self, i: int) -> bytes | None:
        n = len(self.items)
        if i < 0:
            i += n
        if i < 0 or i >= n:
            return None
        return self.items[i]

    def range(self, start: int, stop: int) -> list[bytes]:
        """Elements ``start`` .. ``stop`` inclusive (already clamped, 0 <= start <= stop < n)."""
        d = self.items
        n = len(d)
        if start > n - 1 - stop:  # closer to the tail: walk backwards
            out = list(islice(reversed(d), n - 1 - stop, n - start))
            out.reverse()
            return out
        return list(islice(d, start, stop + 1))

    # -- changes --------------------------------------------------------------

    def push(self, v: bytes, left: bool) -> None:
        if left:
            self.items.appendleft(v)
        else:
            self.items.append(v)
        self.lp_bytes += str_size(v)

    def pop(self, left: bool) -> bytes:
        v = self.items.popleft() if left else self.items.pop()
        self.lp_bytes -= str_size(v)
        return v

    def set(self, i: int, v: bytes) -> None:
        old = self.items[i]
        self.items[i] = v
        self.lp_bytes += str_size(v) - str_size(old)

    def insert(self, i: int, v: bytes) -> None:
        self.items.insert(i, v)
        self.lp_bytes += str_size(v)

    def replace_all(self, items: Iterable[bytes]) -> None:
        self.items = deque(items)
        self.lp_bytes = LP_EMPTY + sum(str_size(x) for x in self.items)

    def trim(self, ltrim: int, rtrim: int) -> None:
        """Drop ``ltrim`` elements from the head and ``rtrim`` from the tail."""
        d = self.items
        n = len(d)
        if ltrim + rtrim >= n:
            d.clear()
            self.lp_bytes = LP_EMPTY
            return
        if ltrim + rtrim > n // 2:  # keep the middle: rebuild
            self.replace_all(islice(d, ltrim, n - rtrim))
            return
        for _ in range(ltrim):
            self.lp_bytes -= str_size(d.popleft())
        for _ in range(rtrim):
            self.lp_bytes -= str_size(d.pop())

    def copy(self) -> ListValue:
        c = ListValue.__new__(ListValue)
        c.items = deque(self.items)
        c.quick = self.quick
        c.lp_bytes = self.lp_bytes
        return c

    def __repr__(self) -> str:
        return f"ListValue({list(self.items)!r})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, ListValue) and self.items == other.items

    __hash__ = None  # type: ignore[assignment]


register_type(ListValue, b"list")
