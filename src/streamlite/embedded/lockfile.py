"""One process per data directory: an ``fcntl.flock`` on ``<dir>/streamlite.lock``.

The lock belongs to the open file, so it goes away by itself when the process
dies, however it dies (SIGKILL included); the file keeps the owner's pid for the
error message.
"""

from __future__ import annotations

import errno
import fcntl
import os

from redis.exceptions import ConnectionError as RedisConnectionError

LOCK_NAME = "streamlite.lock"


class DirectoryLocked(RedisConnectionError):
    """Another process has the data directory open."""

    def __init__(self, path: str, pid: str) -> None:
        super().__init__(f"data directory {path} is in use by process {pid}")
        self.path = path
        self.pid = pid


def lock_directory(path: str) -> int:
    """Create ``path`` if needed and lock it for this process; return the lock's fd."""
    os.makedirs(path, exist_ok=True)
    fd = os.open(os.path.join(path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            os.close(fd)
            raise
        try:
            pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        finally:
            os.close(fd)
        raise DirectoryLocked(path, pid) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def unlock_directory(fd: int) -> None:
    """Release the lock (even if a forked child still holds a copy of the fd) and close it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass
    try:
        os.close(fd)
    except OSError:
        pass
