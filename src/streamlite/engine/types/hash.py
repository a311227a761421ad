"""The hash value: field -> value, in insertion order, with Redis's encodings.

A Python dict keeps insertion order, and an update keeps a field's place, which is
exactly how a Redis listpack-encoded hash orders its fields: so HGETALL, HKEYS,
HSCAN ... of a small hash answer in Redis's own order. ``OBJECT ENCODING`` is
``listpack`` until the hash outgrows ``hash-max-listpack-entries`` fields or gets a
field or value longer than ``hash-max-listpack-value`` bytes; then it is
``hashtable`` for good (Redis never converts back).

``scan_index`` is the HSCAN cursor index of a ``hashtable`` hash (see ``scan.py``),
built on its first HSCAN and kept in step by ``set``/``delete``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..database import register_type
from ..scan import ScanIndex

if TYPE_CHECKING:
    from ..core import Engine

DEFAULT_MAX_ENTRIES = 512  # Redis 8's hash-max-listpack-entries
DEFAULT_MAX_VALUE = 64


class Hash:
    __slots__ = ("d", "big", "scan_index", "ttls")

    def __init__(self) -> None:
        self.d: dict[bytes, bytes] = {}
        self.big = False  # True once converted to a hashtable
        self.scan_index: ScanIndex | None = None
        self.ttls: dict[bytes, int] | None = None  # field -> absolute ms (field TTLs)

    # -- reading ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.d)

    def __contains__(self, field: bytes) -> bool:
        return field in self.d

    def get(self, field: bytes) -> bytes | None:
        return self.d.get(field)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self.d.items())

    def keys(self) -> Iterator[bytes]:
        return iter(self.d)

    def values(self) -> Iterator[bytes]:
        return iter(self.d.values())

    # -- writing ---------------------------------------------------------------

    def set(self, field: bytes, value: bytes) -> bool:
        """Set a field; True if it is new."""
        d = self.d
        new = field not in d
        if new and self.scan_index is not None:
            self.scan_index.add(field)
        d[field] = value
        return new

    def delete(self, field: bytes) -> bool:
        d = self.d
        if field not in d:
            return False
        del d[field]
        if self.scan_index is not None:
            self.scan_index.discard(field)
        if self.ttls:
            self.ttls.pop(field, None)
        return True

    def dup(self) -> Hash:
        h = Hash()
        h.d = dict(self.d)
        h.big = self.big
        h.ttls = dict(self.ttls) if self.ttls else None
        return h

    # -- encoding --------------------------------------------------------------

    def convert_if_needed(self, engine: Engine, *items: bytes, pairs: int = 0) -> None:
        """Convert to hashtable if any of ``items`` is too long, there are too many
        fields, or ``pairs`` (field-value pairs about to be set) alone is too many."""
        if self.big:
            return
        cfg = engine.config
        maxe = int(cfg.get("hash-max-listpack-entries", DEFAULT_MAX_ENTRIES))
        if pairs > maxe or len(self.d) > maxe:
            self.big = True
            return
        maxv = int(cfg.get("hash-max-listpack-value", DEFAULT_MAX_VALUE))
        for it in items:
            if len(it) > maxv:
                self.big = True
                return

    def encoding(self) -> bytes:
        if self.big:
            return b"hashtable"
        return b"listpackex" if self.ttls else b"listpack"

    def mem_usage(self) -> int:
        if not self.big:
            n = 16 + 7  # listpack header and end
            for f, v in self.d.items():
                n += len(f) + len(v) + 4
            return n + 16
        size = sys.getsizeof(self.d)
        for f, v in self.d.items():
            size += sys.getsizeof(f) + sys.getsizeof(v)
        return size


register_type(Hash, b"hash")
