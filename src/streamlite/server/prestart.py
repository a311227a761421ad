"""The server's start before its event loop exists: lock the data directory, listen,
and load the data in a thread while the rest of the server is imported.

Why: ``import asyncio``, uvloop and the server's own modules are 50-60 ms of a start
on the reference machine (docs/benchmarks.md, "Start-up: where the time goes"), and
loading a big dataset is tens of milliseconds more, much of it without the GIL (file
reads, the compiled loader's copies and the page faults they take). Started here, the
load runs while those imports do; it used to begin only once they had ended.

What a client and the data directory see keeps Redis's order: the directory is locked
before anything reads it, the listening sockets are bound before the load begins (a
port in use stops the start before any file changes), and a client gets ``-LOADING``
until the load has ended (the sockets listen from here; the event loop accepts what
waited in their backlog once it runs). Errors are kept, not raised: ``Server.start``
raises them where it used to meet them, and logs them as before.

The engine is the loader thread's until ``wait_loaded`` returns: meanwhile the main
thread only imports modules, builds the ``Server`` (which sets ``engine.front``,
``engine.memory_probe`` and ``engine.replication``: single attribute writes, none of
which the commands of an AOF or a snapshot use while loading) and answers ``LOADING``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable

from ..engine.core import Engine
from ..engine.info import state as info_state
from ..persistence import datadir
from ..persistence.manager import Persistence, PersistenceConfig
from .fdlimit import adjust_open_files_limit
from .headstart import LoadThread
from .log import log_line

Log = Callable[..., None]


def persistence_config(engine: Engine) -> PersistenceConfig:
    """The persistence settings of ``engine``'s configuration: every field of
    ``PersistenceConfig`` under its config name ("-" for "_")."""
    cfg = engine.config
    kw = {f: cfg[f.replace("_", "-")] for f in PersistenceConfig._fields}
    kw["save"] = list(kw["save"])  # (a copy: CONFIG SET save replaces the config's)
    return PersistenceConfig(**kw)


def listen_hosts(binds: list[str]) -> list[str]:
    """The addresses of ``bind`` (a leading ``-`` marks an optional one; ``*`` and
    ``::*`` are every IPv4 and every IPv6 address)."""
    hosts = [b.lstrip("-") for b in binds] or ["0.0.0.0"]
    return ["0.0.0.0" if h == "*" else ("::" if h == "::*" else h) for h in hosts]


class ListenError(OSError):
    """A required address could not be bound (its text is the whole log line)."""

    def __str__(self) -> str:
        return str(self.strerror)


def bind_listeners(binds: list[str], port: int, backlog: int,
                   log: Log) -> tuple[list[socket.socket], list[str], int]:
    """Listening sockets for every ``bind`` address on ``port``, as asyncio's
    ``create_server`` makes them (every address the name resolves to, SO_REUSEADDR,
    IPv6 sockets IPv6-only); returns them, the hosts and the port (the one picked when
    ``port`` is 0). OSError, with Redis's wording, when a required address cannot be
    bound; nothing stays open then."""
    hosts = listen_hosts(binds)
    socks: list[socket.socket] = []
    bound: list[str] = []
    try:
        for host, given in zip(hosts, binds or ["0.0.0.0"], strict=True):
            try:
                socks.extend(_bind(host, port, backlog))
            except OSError as e:
                if given.startswith("-"):  # optional: skipped when it cannot be bound
                    continue
                why = e.strerror or str(e)
                log(f"Warning: Could not create server TCP listening socket "
                    f"{given.lstrip('-')}:{port}: bind: {why}", "warning")
                raise ListenError(e.errno, f"Failed listening on port {port} (tcp), "
                                           "aborting.") from e
            bound.append(host)
    except BaseException:
        for s in socks:
            s.close()
        raise
    actual = port
    for s in socks:
        actual = s.getsockname()[1]
    return socks, bound, actual


def _bind(host: str, port: int, backlog: int) -> list[socket.socket]:
    # an ASCII name as bytes: a str is encoded with the idna codec first, whose import
    # (with stringprep and unicodedata) is 1 ms of a start; for ASCII both are the same
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    infos = socket.getaddrinfo(name, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                               socket.AI_PASSIVE)
    out: list[socket.socket] = []
    try:
        for af, kind, proto, _name, addr in dict.fromkeys(infos):
            s = socket.socket(af, kind, proto)
            out.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if af == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(addr)
            s.listen(backlog)
            s.setblocking(False)
    except BaseException:
        for s in out:
            s.close()
        raise
    return out


class Prestart:
    """What ``prestart`` did: the lock, the listening sockets, the loading thread, and
    the error that stopped it (raised by ``Server.start`` in its place)."""

    __slots__ = ("engine", "lock_fd", "sockets", "hosts", "port", "persistence", "error",
                 "_thread", "_load_error", "gc_after_load", "signals", "_log",
                 "_loaded", "_lock", "_callbacks")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock_fd: int | None = None
        self.sockets: list[socket.socket] = []
        self.hosts: list[str] = []
        self.port = 0
        self.persistence: Persistence | None = None
        self.error: BaseException | None = None  # DirectoryHeld, or OSError (listen)
        self._thread: LoadThread | None = None
        self._load_error: BaseException | None = None
        self._loaded = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        # the caller turned the collector off for its imports and this load: turn it on
        # once the load has ended (``Server.start``)
        self.gc_after_load = False
        self.signals: list[int] = []  # SIGTERM/SIGINT received after the load, before serving
        self._log: Log | None = None

    def _load(self) -> None:
        assert self.persistence is not None
        try:
            self.persistence.load()
        except BaseException as e:  # handed to the waiter, which raises it
            self._load_error = e
        finally:
            with self._lock:
                self._loaded.set()
                callbacks, self._callbacks = self._callbacks, []
            for cb in callbacks:
                cb()

    def when_loaded(self, cb: Callable[[], None]) -> None:
        """Call ``cb`` once the load has ended (now if it has; else from the loading
        thread: ``cb`` must be thread-safe, e.g. ``loop.call_soon_threadsafe``)."""
        with self._lock:
            if not self._loaded.is_set():
                self._callbacks.append(cb)
                return
        cb()

    def wait_loaded(self) -> None:
        """Block until the load has ended; raise what stopped it (LoadError ...)."""
        if self._thread is not None:
            self._loaded.wait()
        if self._load_error is not None:
            raise self._load_error

    def loading(self) -> bool:
        return self._thread is not None and not self._loaded.is_set()

    def catch_signals(self, log: Log) -> None:
        """SIGTERM and SIGINT before the event loop's handlers exist: during the load the
        process exits at once without saving (Redis's "shutdown during loading"); after
        it, the signal waits in ``signals`` for ``Server.start``, which handles it as
        its own handlers do once it serves."""
        self._log = log
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, sig: int, _frame: object) -> None:
        assert self._log is not None
        if self.loading():
            exit_while_loading(self._log)
        self.signals.append(sig)

    def close(self) -> None:
        """Close sockets nobody took over (a start that stopped before serving them)."""
        for s in self.sockets:
            s.close()
        self.sockets = []


def exit_while_loading(log: Log) -> None:
    """A shutdown signal during the load: exit now, saving nothing, as Redis does
    (``whileBlockedCron``: ``prepareForShutdown(SHUTDOWN_NOSAVE)``, then ``exit(0)``).
    Nothing is open for writing yet: the AOF opens once the load has ended."""
    log("Received shutdown signal during loading, scheduling shutdown.", "warning")
    log("User requested shutdown...")
    log("streamlite is now ready to exit, bye bye...")
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(0)


def prestart(engine: Engine, log: Log | None = None, catch_signals: bool = False,
             loader: LoadThread | None = None) -> Prestart:
    """Lock ``engine``'s data directory, bind its listening sockets and start loading
    its data in a thread (``loader``, when the start made one early: headstart.py);
    what stopped it, if anything, is ``.error`` (and ``loader`` is ended). With
    ``catch_signals`` (the process's own server, from its main thread), SIGTERM and
    SIGINT are handled from the start of the load (``Prestart.catch_signals``)."""
    if log is None:
        def log(msg: str, level: str = "notice") -> None:
            log_line(engine.config, msg, level)
    pre = Prestart(engine)
    try:
        _lock_and_listen(pre, log)
    finally:
        if pre.error is not None and loader is not None:
            loader.cancel()  # stopped before loading: the early thread ends
    if pre.error is None:
        info_state(engine)
        if catch_signals:
            pre.catch_signals(log)
        pre._thread = loader or LoadThread(0)
        pre._thread.run(pre._load)
    return pre


def _lock_and_listen(pre: Prestart, log: Log) -> None:
    engine = pre.engine
    cfg = engine.config
    cfg["maxclients"] = adjust_open_files_limit(cfg["maxclients"], log)
    try:
        pre.lock_fd = datadir.lock_directory(cfg["dir"])
    except datadir.DirectoryHeld as e:
        pre.error = e
        return
    pre.persistence = Persistence(engine, persistence_config(engine), log=log)
    # loading before listening: a client accepted before the load began would run
    # commands on the empty dataset; INFO's ``loading`` (the engine's flag) says so
    # from the same moment to the same end
    engine.loading = True
    try:
        pre.sockets, pre.hosts, pre.port = bind_listeners(
            cfg["bind"], cfg["port"], cfg.get("tcp-backlog", 511), log)
    except OSError as e:
        pre.error = e
        return
    cfg["port"] = pre.port
    for h in pre.hosts:
        where = f"[{h}]:{pre.port}" if ":" in h else f"{h}:{pre.port}"
        log(f"streamlite server listening on {where}")
