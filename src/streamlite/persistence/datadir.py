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

The owner also serves the directory's engine on a Unix socket (``bind_socket``),
``<dir>/streamlite.sock``, mode 0600: owner-only. A Unix socket path must fit in
``sun_path`` (108 bytes with its NUL on Linux), so a longer one, or a directory on
a filesystem without sockets, gets a private directory (``mkdtemp``, 0700) under
``$XDG_RUNTIME_DIR`` or the temp directory instead; the lock file records which.
The socket is bound only once the data is loaded, so "it accepts connections"
means "ready"; it is unlinked before the lock is released, and only while it is
still ours (by inode), so a closing owner never removes its successor's socket.

Forked children must not keep the owner's descriptors: a child holding a copy of
the lock, the listening socket or a client's connection would keep them open
after the owner died (no takeover, clients waiting on a socket nobody serves).
``guard(fd)`` registers such descriptors; in a forked child each is replaced by
``/dev/null`` (``dup2``: the number stays taken, so a stale Python object closing
it later closes nothing that matters).

No redis-py here: the server imports this module and stays light.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import stat

LOCK_NAME = "streamlite.lock"
SOCKET_NAME = "streamlite.sock"
SUN_PATH_MAX = 107  # bytes of a Unix socket path (Linux: sun_path[108], NUL included)
PRIVATE_PREFIX = "streamlite-"

_guarded: set[int] = set()  # fds a forked child must not keep (lock, listener, clients)
_lock_fds: set[int] = set()
_previous: dict[int, str] = {}  # lock fd -> the socket the previous owner recorded


class DirectoryHeld(Exception):
    """Another process holds the data directory (``socket``: where it serves it, once it
    does; ``unserved``: why it cannot, if it said so)."""

    def __init__(self, path: str, pid: str, socket: str | None = None,
                 unserved: str | None = None) -> None:
        super().__init__(f"data directory {path} is in use by process {pid}")
        self.path = path
        self.pid = pid
        self.socket = socket
        self.unserved = unserved


def lock_path(path: str) -> str:
    return os.path.join(path, LOCK_NAME)


def read_holder(path: str) -> tuple[str, str | None]:
    """(pid, socket or None) as the holder of ``path`` recorded them ("unknown" pid if
    nothing is recorded)."""
    pid, sock, _ = read_record(path)
    return pid, sock


def read_record(path: str) -> tuple[str, str | None, str | None]:
    """(pid, socket, why it serves none): the holder's record of ``path``."""
    try:
        with open(lock_path(path), "rb") as f:
            data = f.read(8192)
    except OSError:
        data = b""
    return _parse(data)


def _parse(data: bytes) -> tuple[str, str | None, str | None]:
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    pid = lines[0].strip() or "unknown"
    second = lines[1] if len(lines) > 2 and lines[1] else None  # complete lines only
    if second is not None and second.startswith("!"):
        return pid, None, second[1:] or "no socket"
    return pid, second, None


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
            pid, sock, unserved = _parse(os.pread(fd, 8192, 0))
        finally:
            os.close(fd)
        raise DirectoryHeld(path, pid, sock, unserved) from None
    _lock_fds.add(fd)
    guard(fd)
    _, old, _ = _parse(os.pread(fd, 8192, 0))
    if old:
        _previous[fd] = old
    os.ftruncate(fd, 0)  # a reader sees the old record, nothing, or the new one
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def record_socket(fd: int, socket: str | None, unserved: str = "") -> None:
    """Name the Unix socket this process serves the directory on (it accepts connections),
    or say why it cannot (``socket`` None): attaching processes then give up at once.

    The record only grows (the pid line stays), so a reader never sees a mix."""
    second = socket if socket is not None else "!" + " ".join(unserved.split())
    data = f"{os.getpid()}\n{second}\n".encode("utf-8", "surrogateescape")
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def unlock_directory(fd: int) -> None:
    """Release the lock and close it."""
    _lock_fds.discard(fd)
    unguard(fd)
    _previous.pop(fd, None)
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass
    try:
        os.close(fd)
    except OSError:
        pass


# -- the owner's socket ------------------------------------------------------------------


class OwnerSocket:
    """The listening Unix socket of a data directory's owner (``bind_socket``)."""

    def __init__(self, sock: socket.socket, path: str, private_dir: str | None) -> None:
        self.sock = sock
        self.path = path
        self.private_dir = private_dir
        self._ino = os.stat(path).st_ino
        guard(sock.fileno())

    def unlink(self) -> None:
        """Remove the socket's name (if it is still ours) and its private directory.
        Call before releasing the lock; the listening socket itself is closed by
        whoever serves on it."""
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._ino:
                os.unlink(self.path)
        if self.private_dir is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self.private_dir)

    def __repr__(self) -> str:
        return f"<OwnerSocket {self.path}>"


def bind_socket(path: str, lock_fd: int, backlog: int = 511) -> OwnerSocket:
    """Listen on the socket of data directory ``path`` (locked by ``lock_fd``), 0600.

    A stale socket left by a dead owner is replaced (we hold the lock: nobody else
    serves this directory). Raises ``OSError`` when no socket can be bound at all.
    """
    _forget_previous(lock_fd)
    inside = os.path.join(os.path.realpath(path), SOCKET_NAME)
    if len(os.fsencode(inside)) <= SUN_PATH_MAX:
        _remove_stale(inside)
        try:
            return OwnerSocket(_listen(inside, backlog), inside, None)
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                raise
            # a filesystem without Unix sockets (EPERM, EOPNOTSUPP...): a private one
    private = _private_dir()
    where = os.path.join(private, SOCKET_NAME)
    try:
        return OwnerSocket(_listen(where, backlog), where, private)
    except OSError:
        with contextlib.suppress(OSError):
            os.rmdir(private)
        raise


def _listen(path: str, backlog: int) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
        os.chmod(path, 0o600)  # before listen(): nobody else can connect meanwhile
        s.listen(backlog)
    except BaseException:
        s.close()
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        raise
    return s


def _remove_stale(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise OSError(errno.EEXIST, f"{path} exists and is not a socket")
    os.unlink(path)


def _private_bases() -> list[str]:
    import tempfile  # on first use: tempfile (and shutil) are not needed at the server's start

    return [os.environ.get("XDG_RUNTIME_DIR", ""), tempfile.gettempdir(), "/tmp"]


def _private_dir() -> str:
    """A new 0700 directory with a short path, for a socket that cannot live in the data
    directory."""
    for base in _private_bases():
        if not base or not os.path.isdir(base):
            continue
        probe = os.path.join(base, PRIVATE_PREFIX + "x" * 8, SOCKET_NAME)
        if len(os.fsencode(probe)) > SUN_PATH_MAX:
            continue
        with contextlib.suppress(OSError):
            import tempfile

            return tempfile.mkdtemp(prefix=PRIVATE_PREFIX, dir=base)
    raise OSError(errno.ENAMETOOLONG, "no directory with a short enough path for a Unix socket")


def _forget_previous(lock_fd: int) -> None:
    """Remove the private socket directory a dead previous owner left behind."""
    old = _previous.pop(lock_fd, None)
    if not old:
        return
    parent = os.path.dirname(old)
    bases = {os.path.realpath(b) for b in _private_bases() if b}
    if not os.path.basename(parent).startswith(PRIVATE_PREFIX) or \
            os.path.realpath(os.path.dirname(parent)) not in bases:
        return  # in the data directory (``_remove_stale`` handles it), or not one of ours
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(os.lstat(old).st_mode):
            os.unlink(old)
        os.rmdir(parent)


# -- forked children ---------------------------------------------------------------------


def guard(fd: int) -> None:
    """``fd`` must not stay open in a forked child (see the module docstring)."""
    _guarded.add(fd)


def unguard(fd: int) -> None:
    _guarded.discard(fd)


def _release_in_child() -> None:
    global _guarded, _lock_fds, _previous
    fds, _guarded, _lock_fds, _previous = _guarded, set(), set(), {}
    if not fds:
        return
    try:
        null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return
    for fd in fds:
        with contextlib.suppress(OSError):
            os.dup2(null, fd, inheritable=False)
    os.close(null)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_release_in_child)
