"""Who owns a data directory: one process at a time, named in ``<dir>/streamlite.lock``.

Every process that loads and persists a data directory (an embedded engine, or
``streamlite server --dir``) first takes an ``fcntl.flock`` on
``<dir>/streamlite.lock``. Two writers appending to one AOF would corrupt it
(interleaved IDs that neither can load back), so whoever finds the lock taken
must not touch the directory's files.

- The lock belongs to the open file, so it goes away by itself when its process
  dies, however it dies (SIGKILL included). A forked child (a background
  rewrite, a user's ``os.fork``) closes its inherited copy at once, so the lock
  never outlives the process that took it.
- The file holds the owner's record, for the error message and for whoever wants
  to reach the owner: its pid on the first line, then (``record_socket``) the
  Unix socket on which it serves the directory's engine, written once that socket
  accepts connections. The record is rewritten in one ``pwrite``; a reader that
  catches it half-written just reads again.

No redis-py here: the server imports this module and stays light.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading

LOCK_NAME = "streamlite.lock"

_held: set[int] = set()  # lock fds of this process (closed in forked children)
_held_lock = threading.Lock()


class DirectoryHeld(Exception):
    """Another process holds the data directory."""

    def __init__(self, path: str, pid: str, socket: str | None = None) -> None:
        super().__init__(f"data directory {path} is in use by process {pid}")
        self.path = path
        self.pid = pid
        self.socket = socket


def lock_path(path: str) -> str:
    return os.path.join(path, LOCK_NAME)


def read_holder(path: str) -> tuple[str, str | None]:
    """(pid, socket or None) as the holder of ``path`` recorded them ("unknown" pid if
    nothing is recorded)."""
    try:
        with open(lock_path(path), "rb") as f:
            data = f.read(8192)
    except OSError:
        data = b""
    return _parse(data)


def _parse(data: bytes) -> tuple[str, str | None]:
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    pid = lines[0].strip() or "unknown"
    sock = lines[1] if len(lines) > 2 and lines[1] else None  # complete lines only
    return pid, sock


def lock_directory(path: str) -> int:
    """Create ``path`` if needed and lock it for this process; return the lock's fd.

    Raises ``DirectoryHeld`` (naming the holder's pid and socket) without writing
    anything when another process holds it.
    """
    os.makedirs(path, exist_ok=True)
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            os.close(fd)
            raise
        try:
            pid, sock = _parse(os.pread(fd, 8192, 0))
        finally:
            os.close(fd)
        raise DirectoryHeld(path, pid, sock) from None
    with _held_lock:
        _held.add(fd)
    os.ftruncate(fd, 0)  # a reader sees the old record, nothing, or the new one
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def record_socket(fd: int, socket: str) -> None:
    """Name the Unix socket this process serves the directory on (it accepts connections).

    The record only grows (the pid line stays), so a reader never sees a mix."""
    data = f"{os.getpid()}\n{socket}\n".encode("utf-8", "surrogateescape")
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def unlock_directory(fd: int) -> None:
    """Release the lock and close it."""
    with _held_lock:
        _held.discard(fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass
    try:
        os.close(fd)
    except OSError:
        pass


def _close_in_child() -> None:
    # The child shares the parent's open lock file: closing its copy leaves the
    # parent's lock alone, and the lock dies with the parent, not with the child.
    global _held, _held_lock
    for fd in _held:
        try:
            os.close(fd)
        except OSError:
            pass
    _held = set()
    _held_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)
