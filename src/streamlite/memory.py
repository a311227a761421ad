"""How much memory the process uses: what ``INFO memory used_memory`` and
``maxmemory`` measure.

Redis counts the bytes its allocator handed out. Python has no cheap equivalent
(tracemalloc slows every allocation), so streamlite reports the process's
resident set size (RSS), read from ``/proc/self/statm`` on Linux (and
``getrusage``'s peak elsewhere). RSS grows with the data; it shrinks less
readily than Redis's figure after deletes, because Python's allocator keeps
freed arenas for reuse. The probe caches its reading for a few milliseconds so
checking ``maxmemory`` before every write stays cheap.
"""

from __future__ import annotations

import os
import sys
import time

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class MemoryProbe:
    """Callable returning the process RSS in bytes, refreshed at most every ``ttl`` s."""

    __slots__ = ("ttl", "_value", "_at", "_fd")

    def __init__(self, ttl: float = 0.005) -> None:
        self.ttl = ttl
        self._value = 0
        self._at = -1.0
        self._fd = -1
        if sys.platform.startswith("linux"):
            try:
                self._fd = os.open("/proc/self/statm", os.O_RDONLY)
            except OSError:
                self._fd = -1

    def read(self) -> int:
        if self._fd >= 0:
            try:
                data = os.pread(self._fd, 128, 0)
                return int(data.split()[1]) * _PAGE
            except (OSError, ValueError, IndexError):
                pass
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return ru if sys.platform == "darwin" else ru * 1024

    def __call__(self) -> int:
        now = time.monotonic()
        if now - self._at > self.ttl:
            self._value = self.read()
            self._at = now
        return self._value

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
