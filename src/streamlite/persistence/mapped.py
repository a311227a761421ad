"""A span of a file seen in its pages (``mmap``) instead of read into fresh memory.

Loading a big value (the AOF base's RESTORE payload of a million-entry stream, a
snapshot) from bytes read into new memory costs a page fault per 4 KB and a copy; a
read-only mapping populated at once (``MAP_POPULATE``) costs neither. The loaders copy
what they keep out of the buffer they are given, so the mapping is closed after the
load, and closing raises ``BufferError`` if anything still holds a view of it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any


class Mapped:
    """``n`` bytes of the open file ``f`` from ``start``, mapped: ``view`` is a read-only
    memoryview of them; ``close`` unmaps them, and raises ``BufferError`` if anything
    still holds a view of them."""

    def __init__(self, f: Any, start: int, n: int) -> None:
        import mmap

        gran = mmap.ALLOCATIONGRANULARITY
        at = start - start % gran
        self.map = mmap.mmap(f.fileno(), start + n - at, offset=at, prot=mmap.PROT_READ,
                             flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
        self.view = memoryview(self.map)[start - at:]

    def close(self) -> None:
        self.view.release()
        self.map.close()

    def __enter__(self) -> Mapped:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Closed: a view kept of the pages is a bug of a loader (BufferError), unless an
        error is on its way out (its traceback's frames may hold one)."""
        try:
            self.close()
        except BufferError:
            if typ is None:
                raise
