"""The array type (Redis 8.8, in preview there): sparse integer index -> string value.

Follows the command docs (no released Redis here to compare with). Model: the
elements live in a ``SortedDict`` (index -> bytes), so a single index is
O(log n) and a range visits only the elements that exist; ``ARLEN`` is the
highest index + 1, ``ARCOUNT`` the number of elements. An insert cursor serves
ARINSERT (index = cursor) and ARRING (index = cursor % size); ``ring`` remembers
the ring size last used, so ARLASTITEMS can walk back through the most recent
inserts. Indices are unsigned 64-bit integers.

``ARINFO`` describes a sliced layout as Redis's docs do (slices of
``SLICE_SIZE`` indices, dense when at least a quarter full); streamlite keeps one
sorted dict, so those numbers describe the data, not streamlite's memory.
"""

from __future__ import annotations

import sys
from typing import Any

from sortedcontainers import SortedDict

from ..database import register_type

MAX_INDEX = (1 << 64) - 1
SLICE_SIZE = 4096


class ArrayValue:
    __slots__ = ("items", "cursor", "ring")

    def __init__(self) -> None:
        self.items: SortedDict = SortedDict()
        self.cursor = 0  # the next ARINSERT index (total inserts for ARRING)
        self.ring = 0  # the last ARRING size, 0 when ARINSERT was used last

    def __len__(self) -> int:
        return len(self.items)

    def length(self) -> int:
        return int(self.items.peekitem(-1)[0]) + 1 if self.items else 0

    def get(self, i: int) -> bytes | None:
        v: bytes | None = self.items.get(i)
        return v

    def set(self, i: int, v: bytes) -> bool:
        """Store ``v`` at ``i``; True when the slot was empty."""
        items = self.items
        new = i not in items
        items[i] = v
        return new

    def delete(self, i: int) -> bool:
        return self.items.pop(i, None) is not None

    def range_items(self, lo: int, hi: int, reverse: bool = False) -> Any:
        """(index, value) of the existing elements with ``lo <= index <= hi``."""
        items = self.items
        for i in items.irange(lo, hi, reverse=reverse):
            yield i, items[i]

    def encoding(self) -> bytes:
        return b"sliced"

    def mem_usage(self) -> int:
        return sys.getsizeof(self.items) + sum(
            sys.getsizeof(v) + 36 for v in self.items.values())

    def __repr__(self) -> str:  # canonical: DEBUG DIGEST hashes it
        return f"ArrayValue({list(self.items.items())!r}, {self.cursor}, {self.ring})"

    def info(self, full: bool) -> dict[bytes, Any]:
        slices: dict[int, int] = {}
        for i in self.items:
            s = i // SLICE_SIZE
            slices[s] = slices.get(s, 0) + 1
        n = len(slices)
        directory = 1
        while directory < n:
            directory *= 2
        out: dict[bytes, Any] = {
            b"len": self.length(),
            b"count": len(self.items),
            b"next-insert-index": self.cursor if self.cursor <= MAX_INDEX else 0,
            b"slice-size": SLICE_SIZE,
            b"slices": n,
            b"directory-size": directory if n else 0,
            b"super-dir-entries": 0,
        }
        if full:
            from ..replies import Double

            dense = [c for c in slices.values() if c * 4 >= SLICE_SIZE]
            sparse = [c for c in slices.values() if c * 4 < SLICE_SIZE]
            out[b"dense-slices"] = len(dense)
            out[b"sparse-slices"] = len(sparse)
            out[b"avg-dense-fill"] = Double(
                sum(dense) / (len(dense) * SLICE_SIZE) if dense else 0.0)
            out[b"avg-dense-size"] = Double(float(SLICE_SIZE) if dense else 0.0)
            out[b"avg-sparse-size"] = Double(sum(sparse) / len(sparse) if sparse else 0.0)
        return out


register_type(ArrayValue, b"array")
