"""The stream value: entries in ID order plus the bookkeeping Redis keeps.

This is the interface the stream commands and consumer groups use. The storage
behind it (``_ids`` + ``_entries``) is the simple first version; the stream
storage owner replaces it with compact blocks without changing this interface.

IDs are ints (``ms << 64 | seq``, see ``ids``); an entry's fields are a flat list
``[f1, v1, f2, v2, ...]`` of bytes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..database import register_type

if TYPE_CHECKING:
    from .groups import ConsumerGroup


class Stream:
    __slots__ = (
        "_ids",
        "_entries",
        "length",
        "last_id",
        "max_deleted_id",
        "entries_added",
        "groups",
        "idmp",
        "cfg",
    )

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._entries: dict[int, list[bytes]] = {}
        self.length = 0  # live entries
        self.last_id = 0  # last-generated-id (XADD / XSETID)
        self.max_deleted_id = 0  # max-deleted-entry-id
        self.entries_added = 0  # entries-added over the stream's lifetime
        self.groups: dict[bytes, ConsumerGroup] = {}  # creation order
        self.idmp: Any = None  # IDMP (idempotent XADD) state, owned by XADD
        self.cfg: Any = None  # XCFGSET settings, None = defaults

    # -- entries ---------------------------------------------------------------

    def add(self, sid: int, fields: list[bytes]) -> None:
        """Append an entry; ``sid`` must be greater than every ID present."""
        self._ids.append(sid)
        self._entries[sid] = fields
        self.length += 1

    def get(self, sid: int) -> list[bytes] | None:
        return self._entries.get(sid)

    def __contains__(self, sid: int) -> bool:
        return sid in self._entries

    def delete(self, sid: int) -> bool:
        """Remove one entry; True if it was there. (Callers update max_deleted_id.)"""
        if self._entries.pop(sid, None) is None:
            return False
        i = bisect_left(self._ids, sid)
        del self._ids[i]
        self.length -= 1
        return True

    def range(
        self, start: int, end: int, count: int | None = None, rev: bool = False
    ) -> Iterator[tuple[int, list[bytes]]]:
        """Entries with ``start <= id <= end`` in ID order (reverse if ``rev``)."""
        if count is not None and count <= 0 or start > end:
            return
        ids = self._ids
        lo = bisect_left(ids, start)
        hi = bisect_right(ids, end)
        rng = range(hi - 1, lo - 1, -1) if rev else range(lo, hi)
        n = 0
        for i in rng:
            sid = ids[i]
            yield sid, self._entries[sid]
            n += 1
            if count is not None and n >= count:
                return

    @property
    def first_id(self) -> int:
        """ID of the first live entry, 0 when empty."""
        return self._ids[0] if self._ids else 0

    def first_entry(self) -> tuple[int, list[bytes]] | None:
        if not self._ids:
            return None
        sid = self._ids[0]
        return sid, self._entries[sid]

    def last_entry(self) -> tuple[int, list[bytes]] | None:
        if not self._ids:
            return None
        sid = self._ids[-1]
        return sid, self._entries[sid]

    @property
    def node_count(self) -> int:
        """Storage blocks (XINFO's radix-tree-keys)."""
        return (len(self._ids) + 99) // 100


register_type(Stream, b"stream")
