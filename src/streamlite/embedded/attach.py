"""Attaching to a data directory another process owns, and taking it over when it dies.

The model: a data directory has **one owner**, the process holding its lock
(``persistence/datadir.py``): an embedded application or ``streamlite server``.
The owner has loaded the data, persists every write, and serves its engine on
the directory's Unix socket. Every other process that opens the directory
(``streamlite.connect(dir)``, ``App("streamlite:///dir")``, the CLI) is
**attached**: its redis-py clients talk the Redis protocol over that socket
(``remote.py``), so everything redis-py does works unchanged.

An ``Attachment`` is one process's link to one directory (one per directory,
shared by the process's attached clients while any of them is open). Its single
operation is ``connect()``: a socket connected to whoever serves the directory
now. It loops over three cases, and the lock decides between them:

1. the lock is free (the owner died, or closed the directory): take it, which
   loads the directory in this process and serves it: this process is the owner
   now (the **takeover**, logged with its time);
2. the lock is held and its record names a socket that accepts a connection:
   that is the owner (a socket is bound only once its owner has loaded);
3. the lock is held but nobody accepts yet (the owner is still loading, or
   another process is taking over right now, or its socket file is stale): wait
   a few milliseconds and look again, until ``timeout``.

Two processes racing for a free lock: ``flock`` lets exactly one win; the other
finds case 2 or 3 and attaches to the winner once it serves. An owner that is
alive but slow keeps its lock, so nobody takes over from it: its clients wait.

A **watcher** thread per attachment holds an idle connection to the owner; the
owner's death closes it (the kernel closes every socket of a killed process), and
the watcher calls ``connect()``, which takes over at once rather than at the next
command. Clients that were connected to the dead owner find out on their next
use (``remote.py``: a command that could not be sent is sent again to the new
owner; one whose reply was lost fails with a ``ConnectionError``).

The takeover bound: the death is noticed at once (EOF on the watcher's socket);
the lock is free at once; then the load, then the socket is bound: under 2 s
plus the load time, and logged as both.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from ..persistence import datadir
from .host import Host, open_host
from .lockfile import DirectoryLocked

log = logging.getLogger("streamlite.embedded")

ATTACH_TIMEOUT = 60.0  # seconds a command waits for an owner that does not serve yet
_FIRST_WAIT, _MAX_WAIT = 0.002, 0.05  # polling while nobody accepts (case 3)


class Attachment:
    """This process's link to the data directory ``path`` owned by another process."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        self.path = path  # realpath
        self.options = dict(options)  # persistence options, used when taking over
        self.lock = threading.Lock()  # holds, host, watcher; serializes takeovers
        self.holds = 0
        self.host: Host | None = None  # the host this process opened by taking over
        self.owner_pid: str | None = None  # the owner last seen
        self.lost_at: float | None = None  # when a dropped owner was first noticed
        self.takeovers = 0
        self.exiting = False  # interpreter exit: no more takeovers
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._watch_sock: socket.socket | None = None
        self.pid = os.getpid()

    def __repr__(self) -> str:
        who = "this process" if self.owns() else f"process {self.owner_pid}"
        return f"<streamlite attachment {self.path}, owned by {who}>"

    # -- users ---------------------------------------------------------------------

    def hold(self) -> None:
        """An attached client pool opened: watch the owner while any is open."""
        with self.lock:
            self.holds += 1
            if self._watcher is None or not self._watcher.is_alive():
                self._stop = threading.Event()
                self._watcher = threading.Thread(target=self._watch, args=(self._stop,),
                                                 name="streamlite-attach", daemon=True)
                self._watcher.start()

    def release(self) -> None:
        """An attached pool closed; the last one stops watching and gives up a directory
        this process took over (another attached process takes it over in turn).

        At interpreter exit (a client's ``__del__`` during finalization) the watcher
        thread may have been frozen while holding the lock: then there is nothing to
        give up (the process is going), and waiting for the lock would hang the exit."""
        if not self.lock.acquire(timeout=1.0 if self.exiting else -1):
            return
        try:
            self.holds -= 1
            if self.holds > 0:
                return
            self.holds = 0
            self._stop_watching()
            host, self.host = self.host, None
        finally:
            self.lock.release()
        if host is not None:
            host.release()

    def owns(self) -> bool:
        h = self.host
        return h is not None and not h.closed

    # -- reaching the owner --------------------------------------------------------------

    def connect(self, timeout: float = ATTACH_TIMEOUT,
                stop: threading.Event | None = None) -> tuple[socket.socket, str]:
        """(socket, its path): a connection to whoever serves the directory now, which may
        be this process after taking it over. Raises ``redis.ConnectionError`` after
        ``timeout`` seconds without an owner that accepts."""
        deadline = time.monotonic() + timeout
        wait = _FIRST_WAIT
        last: BaseException | str = "nobody accepted a connection"
        while True:
            if stop is not None and stop.is_set():
                raise RedisConnectionError(f"no longer attached to {self.path}")
            path = self._where()
            if path is not None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(max(0.05, min(5.0, deadline - time.monotonic())))
                try:
                    s.connect(path)
                except (FileNotFoundError, ConnectionRefusedError, TimeoutError) as e:
                    s.close()  # not listening (yet, or any more)
                    last = e
                    self._lost()
                except OSError as e:
                    s.close()
                    hint = (" (the owner's socket is 0600: run as the owner's user)"
                            if isinstance(e, PermissionError) else "")
                    raise RedisConnectionError(f"cannot attach to data directory {self.path} "
                                               f"through {path}: {e}{hint}") from e
                else:
                    s.settimeout(None)
                    self.lost_at = None
                    return s, path
            if (stop is not None and stop.is_set()) or time.monotonic() >= deadline:
                raise RedisConnectionError(
                    f"data directory {self.path} is held by process {self.owner_pid}, which "
                    f"has not served it for {timeout:g} s (still loading?): {last}")
            time.sleep(wait)
            wait = min(wait * 2, _MAX_WAIT)

    def _where(self) -> str | None:
        """The socket to try now: ours (after taking over), else the owner's record;
        takes the directory over when its lock is free."""
        h = self.host
        if h is not None and not h.closed:
            if h.socket_path is None:
                raise RedisConnectionError(
                    f"this process took over {self.path} but cannot serve it on a socket")
            return h.socket_path
        if self.exiting or os.getpid() != self.pid:
            pid, sock, unserved = datadir.read_record(self.path)
        else:
            try:
                return self._take_over()
            except DirectoryLocked as e:
                pid, sock, unserved = e.pid, e.socket, e.unserved
        self.owner_pid = pid
        if unserved:
            raise RedisConnectionError(
                f"data directory {self.path} is owned by process {pid}, which cannot serve "
                f"it to other processes: {unserved}")
        return sock

    def _take_over(self) -> str | None:
        with self.lock:
            h = self.host
            if h is not None and not h.closed:
                return h.socket_path
            if self.holds <= 0:  # released meanwhile (a watcher on its way out)
                raise RedisConnectionError(f"no longer attached to {self.path}")
            before = self.owner_pid
            t0 = time.monotonic()
            try:
                h = open_host(self.path, self.options)  # DirectoryLocked: somebody owns it
            except DirectoryLocked:
                raise
            except Exception as e:
                raise RedisConnectionError(f"taking over data directory {self.path} "
                                           f"failed: {e}") from e
            h.hold()
            self.host = h
            self.takeovers += 1
            self.owner_pid = str(os.getpid())
            p = h.persistence
            load = p.loading_time_ms / 1000 if p is not None else 0.0
            since = time.monotonic() - (self.lost_at or t0)
            log.warning("%s: process %s no longer serves it; this process (pid %d) took it "
                        "over: loaded in %.3f s, serving %.3f s after the owner was lost",
                        self.path, before or "?", os.getpid(), load, since)
            self.lost_at = None
            return h.socket_path

    def _lost(self) -> None:
        if self.lost_at is None:
            self.lost_at = time.monotonic()

    # -- the watcher ------------------------------------------------------------------

    def _watch(self, stop: threading.Event) -> None:
        """Hold an idle connection to the owner; when it drops, find (or become) the next."""
        while not stop.is_set():
            try:
                s, _ = self.connect(stop=stop)
            except RedisConnectionError:
                if stop.wait(0.5):
                    return
                continue
            except Exception:  # noqa: BLE001  (never let the watcher die silently)
                log.exception("%s: watching the owner failed", self.path)
                if stop.wait(1.0):
                    return
                continue
            if self.owns():
                s.close()
                return  # this process serves it now: nothing to watch
            self._watch_sock = s
            try:
                while not stop.is_set():
                    if not s.recv(4096):  # the owner went away (or closed us)
                        break
            except OSError:
                pass
            finally:
                self._watch_sock = None
                s.close()
            if not stop.is_set():
                self._lost()

    def _stop_watching(self) -> None:
        self._stop.set()
        s = self._watch_sock
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# -- one attachment per directory in the process -----------------------------------------

_attachments: dict[str, Attachment] = {}
_attachments_lock = threading.Lock()


def attachment(path: str, options: dict[str, Any]) -> Attachment:
    """The process's attachment to ``path`` (made on first use)."""
    key = os.path.realpath(path)
    with _attachments_lock:
        a = _attachments.get(key)
        if a is None or a.pid != os.getpid():
            a = _attachments[key] = Attachment(key, options)
            _, sock = datadir.read_holder(key)
            log.info("%s: in use by another process: attaching through %s", key,
                     sock or "its socket once it serves")
        return a


def _stop_all_at_exit() -> None:
    # before the hosts close (atexit runs this first): no watcher may take a directory
    # over while the interpreter goes down
    with _attachments_lock:
        atts = list(_attachments.values())
    for a in atts:
        a.exiting = True
        a._stop_watching()


atexit.register(_stop_all_at_exit)


def _after_fork_in_child() -> None:
    global _attachments, _attachments_lock
    _attachments = {}
    _attachments_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
