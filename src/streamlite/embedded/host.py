"""The engine inside a Python process: one lock, persistence, blocking, background work.

A ``Host`` owns one ``Engine`` and everything a server would do around it:

- **one lock** (``host.lock``) around every entry into the engine, so threads and
  asyncio tasks of the process share it safely; blocked clients wait outside it;
- **persistence** for a data directory: ``load()`` at open, ``after_writes()``
  after each batch of commands and before any of its replies can be read,
  ``tick()`` from the background thread, ``close()`` when the last user goes;
- **blocking**: a ``BlockingManager`` (also published as ``engine.blocking``
  so another front on the same engine serves the same waiters); after every batch
  the keys that changed wake their waiters, first come first served, whoever wrote;
- **background work** in one daemon thread for all hosts of the process: active
  expiry, blocked-client timeouts, ``everysec`` fsync, save points, rewrites;
- **one owner per directory**: a lock file (``lockfile.py``), a registry so every
  ``connect(path)`` in the process shares one host, ``atexit`` flush and fsync,
  and a refusal to run in a forked child (two writers would corrupt the AOF);
- **serving the directory**: once loaded, the host listens on the directory's Unix
  socket (``served.py``), so other processes attach to it instead of being shut
  out (``attach.py``). Closing unlinks the socket, then flushes and unlocks.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Iterable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from ..engine.blocking import BlockingManager
from ..engine.clock import Clock
from ..engine.core import Engine
from ..engine.fastpath import XADD_NAMES, try_xadd
from ..engine.front import NO_FRONT
from ..engine.replies import NO_REPLY, Blocked, MultiReply
from ..memory import MemoryProbe
from ..persistence import Persistence, PersistenceConfig, datadir
from .lockfile import lock_directory, unlock_directory
from .session import Session

log = logging.getLogger("streamlite.embedded")

TICK_SECONDS = 0.1
PID = os.getpid()  # this process's pid, kept current across forks (os.getpid is a syscall)


# the host of each engine that has one (``connect(engine=...)`` finds it again)
_hosts: weakref.WeakKeyDictionary[Engine, Host] = weakref.WeakKeyDictionary()


def host_of(engine: Engine) -> Host | None:
    """The open host around ``engine``, if it has one."""
    h = _hosts.get(engine)
    return h if h is not None and not h.closed else None


class _Queued:
    __slots__ = ()

    def __repr__(self) -> str:
        return "QUEUED_REPLY"


QUEUED_REPLY: Any = _Queued()

# Persistence options a caller may give (kwargs or URL query), with their defaults
# for an embedded data directory: durable unless told otherwise.
PERSISTENCE_DEFAULTS: dict[str, Any] = {"appendonly": True, "appendfsync": "everysec"}
PERSISTENCE_OPTIONS = frozenset(PersistenceConfig._fields) - {"dir"}


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("yes", "true", "1", "on"):
        return True
    if s in ("no", "false", "0", "off"):
        return False
    raise ValueError(f"not a boolean: {v!r}")


def _to_save(v: Any) -> list[tuple[int, int]]:
    if isinstance(v, (list, tuple)):
        return [(int(a), int(b)) for a, b in v]
    nums = str(v).split()
    if len(nums) % 2:
        raise ValueError(f"save: pairs of <seconds> <changes> expected, got {v!r}")
    return [(int(nums[i]), int(nums[i + 1])) for i in range(0, len(nums), 2)]


_CONVERT: dict[str, Any] = {
    "appendonly": _to_bool,
    "aof_load_truncated": _to_bool,
    "auto_aof_rewrite_percentage": int,
    "auto_aof_rewrite_min_size": int,
    "save": _to_save,
}


def persistence_config(path: str, options: dict[str, Any]) -> PersistenceConfig:
    """A ``PersistenceConfig`` for ``path`` from caller options (Redis names, ``-`` or ``_``)."""
    kw: dict[str, Any] = dict(PERSISTENCE_DEFAULTS)
    for k, v in options.items():
        name = k.replace("-", "_")
        if name not in PERSISTENCE_OPTIONS:
            raise TypeError(f"unknown persistence option {k!r}")
        kw[name] = _CONVERT.get(name, str)(v)
    if kw["appendfsync"] not in ("always", "everysec", "no"):
        raise ValueError(f"appendfsync must be always, everysec or no, not {kw['appendfsync']!r}")
    return PersistenceConfig(dir=path, **kw)


def split_persistence_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove and return the persistence options found in ``kwargs``."""
    out = {}
    for k in list(kwargs):
        if k.replace("-", "_") in PERSISTENCE_OPTIONS:
            out[k] = kwargs.pop(k)
    return out


def _show_config(engine: Engine, cfg: PersistenceConfig) -> None:
    """What CONFIG GET answers for persistence: the directory's actual settings
    (CONFIG SET on them then acts on the running persistence, as in the server)."""
    conf = engine.config
    for name, value in (
        ("dir", cfg.dir), ("appendonly", cfg.appendonly), ("appendfsync", cfg.appendfsync),
        ("appendfilename", cfg.appendfilename), ("appenddirname", cfg.appenddirname),
        ("dbfilename", cfg.dbfilename), ("save", list(cfg.save)),
        ("aof-load-truncated", cfg.aof_load_truncated),
        ("auto-aof-rewrite-percentage", cfg.auto_aof_rewrite_percentage),
        ("auto-aof-rewrite-min-size", cfg.auto_aof_rewrite_min_size),
    ):
        if name in conf or not conf:
            conf[name] = value


class EngineClosed(RedisConnectionError):
    """The embedded engine was closed (or the process forked since it was opened)."""


class Host:
    """One engine, its lock, persistence and blocked clients; shared by its clients."""

    def __init__(
        self,
        path: str | None = None,
        *,
        engine: Engine | None = None,
        clock: Clock | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.path = os.path.realpath(path) if path is not None else None
        self.options = dict(options or {})
        self._lock_fd: int | None = None
        cfg = None
        if self.path is not None:  # the lock first: a held directory costs nothing more
            cfg = persistence_config(self.path, self.options)
            self._lock_fd = lock_directory(self.path)
        self.engine = engine if engine is not None else Engine(clock)
        self.lock = threading.RLock()
        self.pid = os.getpid()
        self.persistence: Persistence | None = None
        self.server: Any = None  # the HostServer (served.py): the owner's socket, TCP
        self.owner_socket: datadir.OwnerSocket | None = None
        self._holds = 0
        self._woken: list[Session] = []  # sessions given a reply during this batch
        self.sessions: dict[int, Session] = {}  # client id -> open session
        # another front on this engine (``serve``): delivers its clients' blocked replies
        # (``deliver_blocked(c, reply)``) and flushes their output (``after_batch()``)
        self.foreign: Any = None
        self.closed = False
        eng = self.engine
        self.blocking: BlockingManager = eng.blocking or BlockingManager(eng)
        eng.blocking = self.blocking
        _hosts[eng] = self
        if eng.script_host is None:  # busy scripts let other threads in
            from .busy import LockYield

            eng.script_host = LockYield(self.lock)
        if eng.memory_probe is None:  # INFO memory, maxmemory
            eng.memory_probe = MemoryProbe()
        if eng.front is NO_FRONT:
            from .front import EmbeddedFront

            eng.front = EmbeddedFront(self)
        if self.path is not None:
            assert cfg is not None and self._lock_fd is not None
            try:
                p = Persistence(eng, cfg, log=log.info)
                p.load()
            except BaseException:
                eng.persistence = None
                unlock_directory(self._lock_fd)
                self._lock_fd = None
                raise
            self.persistence = p
            _show_config(eng, cfg)
            self._serve_directory()
        _ticker.add(self)

    def __repr__(self) -> str:
        return f"<streamlite embedded engine {self.path or 'in memory'}>"

    @property
    def socket_path(self) -> str | None:
        """The Unix socket other processes attach through (None: not served)."""
        o = self.owner_socket
        return o.path if o is not None else None

    def ensure_server(self) -> Any:
        """The host's server thread (``served.HostServer``), started if needed."""
        if self.server is None:
            from .served import HostServer

            self.server = HostServer(self)
        return self.server

    def _serve_directory(self) -> None:
        """Listen on the directory's socket and record it in the lock file: from now on
        other processes attach here. Without a socket the host still works, alone."""
        assert self.path is not None and self._lock_fd is not None
        p = self.persistence
        loaded = (f"loaded in {p.loading_time_ms / 1000:.3f} s, {p.loaded_keys} keys"
                  if p is not None else "")
        try:
            owner = datadir.bind_socket(self.path, self._lock_fd)
        except OSError as e:
            log.warning("%s: opened by this process (%s); cannot serve it on a Unix socket "
                        "(%s): other processes cannot attach", self.path, loaded, e)
            datadir.record_socket(self._lock_fd, None, str(e))
            return
        try:
            self.ensure_server().listen_unix(owner)
        except BaseException:
            owner.unlink()
            owner.sock.close()
            raise
        self.owner_socket = owner
        datadir.record_socket(self._lock_fd, owner.path)
        log.info("%s: opened by this process, pid %d (%s); other processes attach "
                 "through %s", self.path, os.getpid(), loaded, owner.path)

    # -- users -------------------------------------------------------------------

    def hold(self) -> None:
        with self.lock:
            self._check()
            self._holds += 1

    def release(self) -> None:
        """A user (client pool, ``Embedded`` handle) is done; the last one closes a directory."""
        with self.lock:
            if self.closed:
                return
            self._holds -= 1
            if self._holds > 0:
                self.flush()
                return
            if self.path is None:
                self._holds = 0
                return
            srv = self._close_locked()
        self._stop_server(srv)

    def flush(self) -> None:
        """Write and fsync everything acknowledged so far."""
        with self.lock:
            p = self.persistence
            if p is not None and not self.closed and p.writer is not None:
                p.after_writes()
                p.writer.flush()
                p.writer.fsync()

    def close(self) -> None:
        """Stop serving, flush, fsync, close the AOF, unlock the directory; clients reopen
        it on next use."""
        with self.lock:
            if self.closed:
                return
            srv = self._close_locked()
        self._stop_server(srv)

    def _close_locked(self) -> Any:
        """``close()`` under the lock; returns the server thread to stop after it."""
        self.closed = True  # from now on the socket server runs nothing
        if os.getpid() != self.pid:
            return None  # a forked child: never touch the parent's files
        srv, self.server = self.server, None
        try:
            if self.owner_socket is not None:
                self.owner_socket.unlink()  # before unlocking: never a successor's socket
            for s in list(self.sessions.values()):  # their readers get ConnectionError
                self.close_session(s)
            for c in list(self._blocked_clients()):
                self.blocking.unblock(c)
            if self.persistence is not None:
                self.persistence.close()
        finally:
            if self._lock_fd is not None:
                unlock_directory(self._lock_fd)
                self._lock_fd = None
            _registry_forget(self)
            _ticker.discard(self)
        return srv

    def _stop_server(self, srv: Any) -> None:
        if srv is not None:
            # waiting for its thread needs our lock free (it takes it to stop)
            srv.close(wait=not _owns(self.lock))

    def _blocked_clients(self) -> Iterable[Any]:
        seen: dict[Any, None] = {}
        for waiters in self.blocking.by_key.values():
            for c in waiters:
                seen[c] = None
        return seen

    def _check(self) -> None:
        if self.closed:
            raise EngineClosed(f"{self!r} is closed")
        if os.getpid() != self.pid:
            raise EngineClosed(
                f"{self!r} was opened by process {self.pid}; a forked child cannot use it "
                "(call streamlite.connect() again in the child: it attaches to the parent)"
            )

    # -- sessions ------------------------------------------------------------------

    def open_session(self, wake: Any) -> Session:
        with self.lock:
            self._check()
            sess = Session(self, wake)
            self.sessions[sess.client.id] = sess
            return sess

    def close_session(self, s: Session) -> None:
        with self.lock:
            if s.closed:
                return
            s.closed = True
            s.held.clear()
            c = s.client
            self.sessions.pop(c.id, None)
            if c.blocked is not None:
                self.blocking.unblock(c)
            s.blocked = False
            self.engine.drop_client(c)  # its subscriptions, WATCHes, MULTI
        if s.waiting:
            s.wake()

    # -- running commands ----------------------------------------------------------
    #
    # Every entry (run, call, expire_blocked, tick, CLIENT UNBLOCK/KILL through the
    # front) works under the lock and ends with ``_finish()``: serve the blocked
    # clients whose keys changed, write the batch's effects to the AOF, and only then
    # hand the lock back and wake the sessions that got a reply meanwhile.

    def run(self, s: Session, argvs: list[list[bytes]]) -> None:
        """Run commands for ``s`` (held back while it is blocked); replies go to ``s.out``.

        Everything the batch wrote is in the AOF (and fsynced under ``always``)
        before this returns, and before any client it woke can read its reply.
        """
        with self.lock:
            if s.closed or self.closed:
                self._check()
                raise RedisConnectionError("Connection closed by server.")
            c = s.client
            eng = self.engine
            execute = eng.execute
            out = s.out
            for argv in argvs:
                if s.blocked or s.held:
                    s.held.append(argv)
                    continue
                reply = try_xadd(eng, c, argv) if argv[0] in XADD_NAMES else None
                if reply is None:
                    s.running = True  # self._emit(s, self._exec(s, argv)), inline for a
                    try:  # plain reply (a pipeline's common case)
                        reply = execute(c, argv)
                    finally:
                        s.running = False
                if type(reply) is bytes and not s.after:
                    out.append(reply)
                else:
                    self._emit(s, reply)
                if c.closing:  # QUIT / CLIENT KILL: the rest is never read
                    break
            if c.closing:
                self.close_session(s)
            woken = self._finish()
        _wake_all(woken)

    def call(self, s: Session, argv: list[bytes]) -> Any:
        """Run one command and return its reply value, the fast path of ``run``.

        An XADD runs compiled (``engine.fastpath``: ``fast_xadd``) while the guard
        shared with the server's compiled dispatch holds, else through ``Engine.execute``
        (so does each XADD of ``run``).

        Returns ``QUEUED_REPLY`` when the reply must be read from ``s.out`` instead:
        the session had unread output or was blocked, the command blocked, it gave
        several replies or none, or pushes for the session follow its reply.
        """
        with self.lock:
            if s.closed or self.closed or s.blocked or s.held or s.out:
                self.run(s, [argv])
                return QUEUED_REPLY
            c = s.client
            eng = self.engine
            # an XADD compiled when it may (None: not run), else Python's path
            reply = try_xadd(eng, c, argv) if argv[0] in XADD_NAMES else None
            if reply is None:
                s.running = True  # self._exec(s, argv), one frame less
                try:
                    reply = eng.execute(c, argv)
                finally:
                    s.running = False
            t = type(reply)
            if t is Blocked or t is MultiReply or reply is NO_REPLY or s.after or c.closing:
                self._emit(s, reply)
                reply = QUEUED_REPLY
                if c.closing:
                    self.close_session(s)
            woken = self._finish() if (eng.ready_keys or self.persistence
                                       or self._woken or self.foreign
                                       or eng.tracking is not None) else None
        if woken:
            _wake_all(woken)
        return reply

    def _finish(self) -> list[Session]:
        """End of a batch, under the lock: serve, persist, and say whom to wake."""
        if self.engine.ready_keys and self.engine.busy is None:  # not during a busy script
            self._serve()
        tr = self.engine.tracking
        if tr is not None and tr.prefixes:  # CLIENT TRACKING BCAST: one batch per call
            tr.flush_broadcasts()
        p = self.persistence
        if p is not None:
            p.after_writes()
        if self.foreign is not None:  # its clients may have output now (pushes, replies)
            self.foreign.after_batch()
        woken = self._woken
        if woken:
            self._woken = []
        return woken

    def _serve(self) -> None:
        """Re-run blocked commands whose keys changed; their replies go to their sessions."""
        eng = self.engine
        while eng.ready_keys:
            for c, reply in self.blocking.serve_ready():
                self._deliver(c, reply)

    def _deliver(self, c: Any, reply: Any) -> None:
        """The reply of ``c``'s blocked command (served, timed out, unblocked)."""
        s = c.session
        if s is None:  # another front's client (``serve``): it delivers its own replies
            if self.foreign is not None:
                self.foreign.deliver_blocked(c, reply)
            return
        if s.closed:
            return
        self._resume(s, reply)
        self._woken.append(s)

    def _exec(self, s: Session, argv: list[bytes]) -> Any:
        s.running = True
        try:
            return self.engine.execute(s.client, argv)
        finally:
            s.running = False

    def _emit(self, s: Session, reply: Any) -> None:
        """Queue ``reply`` (or park ``s`` on it), then the pushes its command made."""
        t = type(reply)
        if t is Blocked:
            self.blocking.block(s.client, reply)
            s.blocked = True
        elif t is MultiReply:
            s.out.extend(reply)
        elif reply is not NO_REPLY:
            s.out.append(reply)
        if s.after:
            s.out.extend(s.after)
            s.after.clear()

    def _resume(self, s: Session, reply: Any) -> None:
        """``s`` got its blocked command's reply: run what it sent meanwhile."""
        s.blocked = False
        self._emit(s, reply)
        while s.held and not s.blocked:
            self._emit(s, self._exec(s, s.held.popleft()))

    def expire_blocked(self) -> None:
        """Answer blocked clients whose timeout has passed (and what that unblocks)."""
        with self.lock:
            if self.closed or self.engine.busy is not None:  # after the busy script
                return
            for c, reply in self.blocking.expire(self.engine.clock.ms()):
                self._deliver(c, reply)
            woken = self._finish()
        _wake_all(woken)

    def unblock(self, c: Any, reply: Any) -> bool:
        """CLIENT UNBLOCK: end ``c``'s blocking command with ``reply`` (under the lock)."""
        if self.blocking.unblock(c) is None:
            return False
        self._deliver(c, reply)
        return True

    def tick(self) -> None:
        """Background work, about every 100 ms."""
        with self.lock:
            if self.closed or os.getpid() != self.pid or self.engine.busy is not None:
                return
            if self.engine.active_expire_enabled:  # DEBUG SET-ACTIVE-EXPIRE
                self.engine.active_expire()
            woken = self._finish()
            p = self.persistence
            if p is not None:
                p.tick()
            dl = self.blocking.next_deadline()
        _wake_all(woken)
        if dl is not None and dl <= self.engine.clock.ms():
            self.expire_blocked()


def _owns(lock: Any) -> bool:
    is_owned = getattr(lock, "_is_owned", None)
    return bool(is_owned()) if is_owned is not None else False


def _wake_all(sessions: Iterable[Session]) -> None:
    for s in sessions:
        if s.waiting:
            s.wake()


# -- one host per directory in the process ------------------------------------------

_registry: dict[str, Host] = {}
_registry_lock = threading.Lock()


def open_host(path: str, options: dict[str, Any], clock: Clock | None = None) -> Host:
    """The process's host for ``path``, opened (loaded, locked) if it is not open yet."""
    key = os.path.realpath(path)
    while True:
        with _registry_lock:
            h = _registry.get(key)
            if h is None or h.pid != os.getpid():
                h = Host(key, clock=clock, options=options)
                _registry[key] = h
                return h
            if not h.closed:
                if options:
                    want = persistence_config(key, options)
                    have = h.persistence.cfg if h.persistence else None
                    if have is not None and want != have:
                        raise ValueError(
                            f"{key} is already open in this process with other persistence "
                            f"options ({have}); open it with the same options or none"
                        )
                return h
        # its last user is closing it (flush, unlock, forget): wait, then open it again.
        # close() holds h.lock and then takes _registry_lock, so wait outside the latter.
        with h.lock:
            _registry_forget(h)


def hold_or_reopen(h: Host, spec: tuple[str, dict[str, Any]] | None,
                   clock: Clock | None = None) -> Host:
    """Hold ``h``; if its last user has closed it (perhaps just now, between opening and
    holding) and ``spec`` (path, options) tells how to find it, open it again and hold
    that. Returns the host held."""
    while True:
        try:
            h.hold()
            return h
        except EngineClosed:
            if spec is None:
                raise
        h = open_host(spec[0], spec[1], clock)


def _registry_forget(h: Host) -> None:
    with _registry_lock:
        if h.path is not None and _registry.get(h.path) is h:
            del _registry[h.path]


def open_hosts() -> list[Host]:
    with _registry_lock:
        return list(_registry.values())


def _close_all_at_exit() -> None:
    _ticker.stop()
    for h in open_hosts():
        try:
            h.close()
        except Exception:  # noqa: BLE001  (keep closing the others)
            log.exception("closing %r at exit failed", h)


atexit.register(_close_all_at_exit)


def _after_fork_in_child() -> None:
    # No locks here: another thread may have held them at the fork. The child
    # inherits the parent's hosts but must not use or close them.
    global _registry, _registry_lock, PID
    PID = os.getpid()
    _registry = {}
    _registry_lock = threading.Lock()
    _ticker.reset_after_fork()


# -- the background thread ------------------------------------------------------------


class _Ticker:
    """One daemon thread ticking every live host of the process."""

    def __init__(self) -> None:
        self.hosts: weakref.WeakSet[Host] = weakref.WeakSet()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def add(self, h: Host) -> None:
        with self.lock:
            self.hosts.add(h)
            if self.thread is None or not self.thread.is_alive():
                if self.stopping.is_set():
                    return
                self.thread = threading.Thread(
                    target=self._run, name="streamlite-embedded", daemon=True
                )
                self.thread.start()

    def discard(self, h: Host) -> None:
        with self.lock:
            self.hosts.discard(h)

    def _run(self) -> None:
        while not self.stopping.wait(TICK_SECONDS):
            with self.lock:
                hosts = list(self.hosts)
            for h in hosts:
                try:
                    h.tick()
                except Exception:  # noqa: BLE001  (a bad tick must not stop the others)
                    log.exception("background tick of %r failed", h)
            del hosts

    def stop(self) -> None:
        self.stopping.set()
        t = self.thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2)

    def reset_after_fork(self) -> None:
        self.hosts = weakref.WeakSet()
        self.lock = threading.Lock()
        self.thread = None
        self.stopping = threading.Event()


_ticker = _Ticker()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
