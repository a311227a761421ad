"""One owner per data directory (``persistence/datadir.py``), with redis-py's error type.

An embedded process that finds the directory held gets ``DirectoryLocked``, a
``redis.ConnectionError`` naming the holder's pid (and the socket it serves on).
"""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError

from ..persistence import datadir
from ..persistence.datadir import LOCK_NAME, DirectoryHeld, unlock_directory

__all__ = ["LOCK_NAME", "DirectoryLocked", "lock_directory", "unlock_directory"]


class DirectoryLocked(RedisConnectionError, DirectoryHeld):
    """Another process has the data directory open."""

    def __init__(self, path: str, pid: str, socket: str | None = None,
                 unserved: str | None = None) -> None:
        DirectoryHeld.__init__(self, path, pid, socket, unserved)


def lock_directory(path: str) -> int:
    """Create ``path`` if needed and lock it for this process; return the lock's fd."""
    try:
        return datadir.lock_directory(path)
    except DirectoryHeld as e:
        raise DirectoryLocked(e.path, e.pid, e.socket, e.unserved) from None
