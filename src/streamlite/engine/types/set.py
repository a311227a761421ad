"""The set value: an insertion-ordered dict of members, plus the encoding Redis
would use (``intset``, ``listpack`` or ``hashtable``) so that ``OBJECT ENCODING``
and member order match Redis.

Order matters where Redis's is deterministic: an intset iterates in numeric
order, a listpack in insertion order (and an intset that becomes a listpack
keeps its numeric order, new members after). A hashtable's order is Redis's
hash order, which nobody can rely on; ours is insertion order.

Conversions follow ``t_set.c``: a set is created as an intset when its first
member is an integer and the size hint fits ``set-max-intset-entries``, else as
a listpack when the hint fits ``set-max-listpack-entries``, else a hashtable;
adding converts upwards (intset -> listpack -> hashtable, or intset ->
hashtable); nothing converts back.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from ...numparse import string2ll
from ..database import register_type
from ..scan import ScanIndex
from .config import conf_int

INTSET, LISTPACK, HASHTABLE = 0, 1, 2
_ENC_NAMES = (b"intset", b"listpack", b"hashtable")


class Limits:
    """The set encoding thresholds of an engine's config."""

    __slots__ = ("intset", "lp_entries", "lp_value")

    def __init__(self, engine: Any) -> None:
        self.intset = min(conf_int(engine, "set-max-intset-entries", 512), 1 << 30)
        self.lp_entries = conf_int(engine, "set-max-listpack-entries", 128)
        self.lp_value = conf_int(engine, "set-max-listpack-value", 64)


def _digits(v: int) -> int:
    return len(str(v))


class SetValue:
    """A Redis set."""

    __slots__ = ("d", "enc", "_unsorted", "scan_index")

    def __init__(self, enc: int = LISTPACK) -> None:
        self.d: dict[bytes, None] = {}
        self.enc = enc
        self._unsorted = False  # intset members not yet in numeric order
        self.scan_index: ScanIndex | None = None  # SSCAN cursors (see engine/scan.py)

    @classmethod
    def create(cls, first: bytes | None, size_hint: int, lim: Limits) -> SetValue:
        """``setTypeCreate``: the encoding a new set starts with."""
        if first is not None and string2ll(first) is not None and size_hint <= lim.intset:
            return cls(INTSET)
        if size_hint <= lim.lp_entries:
            return cls(LISTPACK)
        return cls(HASHTABLE)

    # -- reading --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.d)

    def __contains__(self, m: bytes) -> bool:
        return m in self.d

    def _sort(self) -> None:
        if self._unsorted:
            self.d = dict.fromkeys(sorted(self.d, key=int))
            self._unsorted = False

    def members(self) -> list[bytes]:
        """All members, in the order Redis iterates them (intset: numeric)."""
        self._sort()
        return list(self.d)

    def __iter__(self) -> Iterator[bytes]:
        self._sort()
        return iter(self.d)

    def keys(self) -> Any:
        """A set-like view of the members (for intersections and differences)."""
        return self.d.keys()

    def encoding(self) -> bytes:
        return _ENC_NAMES[self.enc]

    def mem_usage(self) -> int:
        return sys.getsizeof(self.d) + sum(len(m) + 33 for m in self.d) + 56

    # -- random ---------------------------------------------------------------

    def random_member(self) -> bytes:
        n = len(self.d)
        i = random.randrange(n)
        return next(islice(self.d, i, None))

    def random_distinct(self, k: int) -> list[bytes]:
        """``k`` distinct members (k < len) in random order."""
        return random.sample(list(self.d), k)

    # -- changes --------------------------------------------------------------

    def add(self, m: bytes, lim: Limits) -> bool:
        """``setTypeAdd``: add ``m``, converting the encoding as Redis does."""
        d = self.d
        if m in d:
            return False
        if self.scan_index is not None:
            self.scan_index.add(m)
        enc = self.enc
        if enc == HASHTABLE:
            d[m] = None
            return True
        if enc == INTSET:
            v = string2ll(m)
            if v is not None:
                if d and not self._unsorted and v < int(next(reversed(d))):
                    self._unsorted = True
                d[m] = None
                if len(d) > lim.intset:
                    self.enc = HASHTABLE
                return True
            # a non-integer: listpack if everything fits, else hashtable
            n = len(d)
            maxlen = 0
            if n:
                self._sort()
                maxlen = max(_digits(int(next(iter(d)))), _digits(int(next(reversed(d)))))
            if n < lim.lp_entries and len(m) <= lim.lp_value and maxlen <= lim.lp_value:
                self.enc = LISTPACK
            else:
                self.enc = HASHTABLE
            self.d[m] = None  # _sort() may have replaced the dict
            return True
        # listpack
        if len(d) < lim.lp_entries and len(m) <= lim.lp_value:
            d[m] = None
        else:
            self.enc = HASHTABLE
            d[m] = None
        return True

    def maybe_convert(self, size_hint: int, lim: Limits) -> None:
        """``setTypeMaybeConvert``: a big SADD turns a compact set into a hashtable at once."""
        if (self.enc == LISTPACK and size_hint > lim.lp_entries) or (
            self.enc == INTSET and size_hint > lim.intset
        ):
            self._sort()
            self.enc = HASHTABLE

    def add_many(self, members: Iterable[bytes], lim: Limits) -> int:
        n = 0
        for m in members:
            if self.add(m, lim):
                n += 1
        return n

    def remove(self, m: bytes) -> bool:
        if m in self.d:
            del self.d[m]
            if self.scan_index is not None:
                self.scan_index.discard(m)
            return True
        return False

    def pop_random(self) -> bytes:
        m = self.random_member()
        self.remove(m)
        return m

    def replace_with(self, other: SetValue) -> None:
        """Take ``other``'s members and encoding (SPOP rebuilding a set in place)."""
        self.d, self.enc, self._unsorted = other.d, other.enc, other._unsorted
        self.scan_index = None

    def copy(self) -> SetValue:
        c = SetValue(self.enc)
        c.d = dict(self.d)
        c._unsorted = self._unsorted
        return c

    def __repr__(self) -> str:
        return f"SetValue({self.encoding().decode()}, {list(self.d)!r})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, SetValue) and self.d.keys() == other.d.keys()

    __hash__ = None  # type: ignore[assignment]


register_type(SetValue, b"set")
