"""The Redis-protocol server: listening socket, connections, blocking, timers, shutdown.

One ``Server`` owns the engine, its persistence and every ``Connection``. It is
the engine's front (``engine.front``): CLIENT LIST/KILL/UNBLOCK/PAUSE,
MONITOR, SHUTDOWN and INFO ask it about connections and the process.

The write path of one read from a client (``Connection.data_received``):
run each complete command; then ``end_batch``: serve blocked clients whose keys
were touched (and what they had pipelined behind), append the writes to the AOF
(``Persistence.after_writes``, fsync under ``always``), and only then send the
replies, one ``transport.write`` per connection.

Periodically (``hz`` times a second): active expiry, persistence ``tick``
(everysec fsync, save points, rewrites), client idle timeouts, output buffer
soft limits. Blocking deadlines have their own timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import accel
from ..engine.blocking import BlockingManager
from ..engine.client import Client
from ..engine.clientinfo import client_info_line
from ..engine.core import Engine
from ..engine.errors import LOADING, NOAUTH, CommandError, unknown_subcommand, wrong_args
from ..engine.front import Front
from ..engine.info import state as info_state
from ..engine.replies import NO_REPLY, Blocked, ErrorReply
from ..engine.subcommands import arity_ok, resolve
from ..memory import MemoryProbe
from ..persistence import datadir
from ..persistence.aof import AofWriteError
from ..persistence.manager import (
    ALWAYS_WRITE_FATAL,
    LoadError,
    Persistence,
)
from .connection import REPLY_BUF, Connection
from .fdlimit import adjust_open_files_limit
from .log import log_line
from .prestart import Prestart, exit_while_loading, prestart
from .replication import Replication
from .scripts import ScriptHost

DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted from "
    b"the loopback interface. If you want to connect from external computers to Redis you may "
    b"adopt one of the following solutions: 1) Just disable protected mode sending the command "
    b"'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    b"the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    b"from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    b"Alternatively you can just disable the protected mode by editing the Redis configuration "
    b"file, and setting the protected mode option to 'no', and then restarting the server. 3) "
    b"If you started the server manually just for testing, restart it with the "
    b"'--protected-mode no' option. 4) Set up an authentication password for the default user. "
    b"NOTE: You only need to do one of the above things in order for the server to start "
    b"accepting connections from the outside.\r\n"
)
MAXCLIENTS = b"-ERR max number of clients reached\r\n"
UNBLOCKED = b"UNBLOCKED client unblocked via CLIENT UNBLOCK"
_MAY_WRITE = frozenset({"publish", "spublish", "eval", "evalsha", "fcall", "pfcount"})


def _is_loopback(host: str) -> bool:
    if host.startswith("127.") or host == "::1":  # (a peer's address: always a valid IP)
        return True
    import ipaddress  # here, not at start-up nor at a local client's connect (2 ms)

    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if ip.is_loopback:
        return True
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(mapped is not None and mapped.is_loopback)


_NO_LIMITS = (0, 0, 0)
GC_AFTER_READY_S = 1.0  # (prestart's gc_after_load)


class Server(Front):
    name = "server"

    def __init__(self, engine: Engine, config_file: str | None = None) -> None:
        self.engine = engine
        self.config_path = config_file
        engine.front = self
        self.memory = MemoryProbe()
        engine.memory_probe = self.memory
        self.blocking = BlockingManager(engine)
        self.conns: dict[int, Connection] = {}
        self.dirty: set[Connection] = set()
        self.resume: list[Connection] = []
        # what its connections' compiled data_received keep (server/fastpath.py reader)
        self.read_cache: Any = None
        self.monitors: dict[int, Connection] = {}
        self.paused_until = 0.0
        self.pause_write_only = False
        self.paused_conns: set[Connection] = set()
        self._pause_handle: asyncio.TimerHandle | None = None
        self._deadline_handle: asyncio.TimerHandle | None = None
        self._deadline_at: int | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.servers: list[asyncio.base_events.Server] = []
        self.listeners: list[str] = []
        self.loading = False
        self.persistence: Persistence | None = None
        self.replication: Replication | None = None
        self._commit_scheduled = False  # a group commit (appendfsync always) is queued
        self.exit_code: int | None = None
        self.install_signals = False  # SIGTERM/SIGINT handlers (the process's own server)
        self.lock_fd: int | None = None  # the data directory's lock (``datadir``)
        self.owner_socket: datadir.OwnerSocket | None = None  # embedded processes attach here
        self._stopped: asyncio.Event | None = None
        self.start_time = time.time()
        # stats
        self.net_in = 0
        self.net_out_closed = 0
        self.connections_received = 0
        self.reads_processed = 0  # reads of client sockets (INFO total_reads_processed)
        self.writes_processed = 0  # writes to them (total_writes_processed)
        self.rejected_connections = 0
        self.stat_qbuf_disconnections = 0
        self.stat_obuf_disconnections = 0
        # (time, commands, net input bytes, net output bytes) at the last 16 ticks: the
        # instantaneous_* rates of INFO stats over them, as Redis's 16 samples
        self._ops_samples: list[tuple[float, int, int, int]] = []
        self.ops_per_sec = 0
        self.input_kbps = self.output_kbps = 0.0

    # -- logging ---------------------------------------------------------------------

    def log(self, msg: str, level: str = "notice") -> None:
        log_line(self.engine.config, msg, level)

    def now_ms(self) -> int:
        return self.engine.clock.ms()

    # -- start / stop -------------------------------------------------------------------

    async def start(self, pre: Prestart | None = None) -> None:
        """Lock the data directory, listen, then load the persisted data (clients get
        LOADING meanwhile). Raises ``DirectoryHeld`` before touching anything when
        another process holds the directory.

        ``pre``: what ``prestart`` did before the event loop existed (the command line's
        start: the load runs while the server's modules are imported); made here
        otherwise."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        self._stopped = asyncio.Event()
        if pre is None:
            pre = prestart(self.engine, self.log)
        self.lock_fd = pre.lock_fd  # unlocked by ``unlock`` whatever happens next
        try:
            if pre.error is not None:
                raise pre.error
            self.persistence = pre.persistence
            self.replication = Replication(self)
            self.loading = True
            backlog = self.engine.config.get("tcp-backlog", 511)
            for sock in pre.sockets:
                self.servers.append(await loop.create_server(
                    lambda: Connection(self), sock=sock, backlog=backlog))
            self.listeners = pre.hosts
            pre.sockets = []  # the servers own them now
            if self.install_signals:
                self.install_signal_handlers()
            loaded = loop.create_future()
            pre.when_loaded(lambda: _resolve_from_thread(loop, loaded))
            await loaded
            pre.wait_loaded()  # (raises what stopped the load)
        except BaseException:
            if pre.gc_after_load:
                gc.enable()
            raise
        finally:
            pre.close()
            self.loading = self.engine.loading = False
        info_state(self.engine)["startup_memory"] = self.memory.read()
        self.engine.script_host = ScriptHost(self)  # busy scripts yield to the loop
        await self._listen_owner_socket()
        self.log(accel.describe())
        self.log("Ready to accept connections tcp")
        self._schedule_tick()
        if pre.gc_after_load:
            # the collector's first pass walks everything the start made since the
            # engine's imports (asyncio's and the server's modules: ~3 ms here); it
            # runs once the server serves, off the way of the clients that waited for it
            loop.call_later(GC_AFTER_READY_S, gc.enable)
        if self.install_signals and pre.signals:
            self.install_signal_handlers(pre.signals)
        if cfg := self.engine.config.get("replicaof"):
            host, port = cfg.split()
            self.replication.replicaof(host, int(port))

    async def _listen_owner_socket(self) -> None:
        """Serve the loaded data directory on its Unix socket too, where embedded processes
        (``streamlite.connect(dir)``) attach; bound only now, so that connecting there
        means the data is loaded."""
        assert self.loop is not None and self.lock_fd is not None
        d = self.engine.config["dir"]
        try:
            owner = datadir.bind_socket(d, self.lock_fd)
        except OSError as e:
            self.log(f"Cannot serve {d} on a Unix socket ({e}): embedded processes cannot "
                     "attach to this server", "warning")
            datadir.record_socket(self.lock_fd, None, str(e))
            return
        try:
            srv = await self.loop.create_unix_server(lambda: Connection(self), sock=owner.sock,
                                                     backlog=self.engine.config.get("tcp-backlog", 511))
        except OSError as e:
            owner.unlink()
            owner.sock.close()
            self.log(f"Cannot serve {d} on a Unix socket ({e})", "warning")
            return
        self.servers.append(srv)
        self.owner_socket = owner
        datadir.record_socket(self.lock_fd, owner.path)
        self.log(f"The data directory {d} is served on unix socket {owner.path} too "
                 f"(streamlite.connect({d!r}) attaches there)")

    def unlock(self) -> None:
        """Give the data directory up (after the last write to its files)."""
        if self.owner_socket is not None:
            self.owner_socket.unlink()  # before unlocking: never a successor's socket
            self.owner_socket = None
        if self.lock_fd is not None:
            datadir.unlock_directory(self.lock_fd)
            self.lock_fd = None

    async def wait_closed(self) -> int:
        assert self._stopped is not None
        await self._stopped.wait()
        return self.exit_code or 0

    def stop(self, code: int = 0) -> None:
        """Close every listener and connection and let ``wait_closed`` return."""
        if self.exit_code is not None:
            return
        self.exit_code = code
        for srv in self.servers:
            srv.close()
        for conn in list(self.conns.values()):
            conn.close()
        for h in (self._tick_handle, self._deadline_handle, self._pause_handle):
            if h is not None:
                h.cancel()
        self.memory.close()
        if self._stopped is not None:
            self._stopped.set()

    def do_shutdown(self, save: bool | None, force: bool = False, reason: str = "") -> bool:
        """Save (as asked), flush the AOF, close everything. False if saving failed."""
        if self.exit_code is not None:
            return True  # already shutting down
        p = self.persistence
        self.log(f"User requested shutdown...{reason}")
        if self.loading:
            save = False
        if p is not None:
            want_save = bool(self.engine.config.get("save")) if save is None else save
            if want_save:
                self.log("Saving the final snapshot before exiting.")
                try:
                    p.save()
                    self.log("DB saved on disk")
                except Exception as e:  # noqa: BLE001
                    self.log(f"Error trying to save the DB, can't exit: {e}", "warning")
                    if not force:
                        return False
            try:
                p.close()
            except Exception as e:  # noqa: BLE001  (Redis logs it and exits all the same)
                self.log(f"Fail to fsync the AOF file: {e}", "warning")
        self.log("streamlite is now ready to exit, bye bye...")
        self.stop(0)
        return True

    def install_signal_handlers(self, pending: list[int] | None = None) -> None:
        """SIGTERM and SIGINT shut the server down (``shutdown-on-sigterm`` ...); during
        the load, at once and saving nothing, as Redis. ``pending``: signals received
        before (``Prestart.signals``), handled now."""
        loop = self.loop
        assert loop is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):
                pass
        for got in pending or ():
            self._on_signal(got)

    def _on_signal(self, sig: int) -> None:
        if self.loading:
            exit_while_loading(self.log)
        name = "shutdown-on-sigterm" if sig == signal.SIGTERM else "shutdown-on-sigint"
        how = self.engine.config.get(name, "default")
        save = {"save": True, "nosave": False}.get(how)
        signame = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
        self.log(f"Received {signame} scheduling shutdown...")
        if not self.do_shutdown(save, force=how == "force"):
            self.log("Shutdown failed: keeps running", "warning")

    # -- connections ----------------------------------------------------------------------

    def refuse_connection(self, peer: Any) -> bytes | None:
        self.connections_received += 1
        cfg = self.engine.config
        if len(self.conns) >= cfg.get("maxclients", 10000):
            self.rejected_connections += 1
            return MAXCLIENTS
        if cfg.get("protected-mode", True) and self.engine.acl.default_nopass():
            host = peer[0] if isinstance(peer, tuple) else ""
            if host and not _is_loopback(host):
                self.rejected_connections += 1
                return DENIED
        return None

    def add(self, conn: Connection) -> None:
        self.conns[conn.client.id] = conn

    def remove(self, conn: Connection) -> None:
        c = conn.client
        self.conns.pop(c.id, None)
        if c.id in self.monitors:
            self.unmonitor(c)
        self.dirty.discard(conn)
        self.paused_conns.discard(conn)
        self.net_out_closed += conn.net_out
        if self.replication is not None:
            self.replication.drop(conn)
        if c.blocked is not None:
            self.blocking.unblock(c)

    # -- the end of every batch of commands ---------------------------------------------------

    def end_batch(self, conn: Connection | None = None) -> None:
        eng = self.engine
        if eng.busy is None:  # while a script is busy, blocked clients wait (scripts.py)
            if eng.ready_keys:
                self.serve_blocked()
            resume = self.resume
            while resume:
                r = resume.pop(0)
                if not r.closed:
                    r.run_pending()
                    self.dirty.add(r)
                if eng.ready_keys:
                    self.serve_blocked()
        tr = eng.tracking
        if tr is not None and tr.prefixes:  # CLIENT TRACKING BCAST: Redis's beforeSleep
            tr.flush_broadcasts()
        p = self.persistence
        if p is not None and (p.writer is not None or p.listeners):
            staged = p.stage()
            if self._commit_scheduled or (staged and self.loop is not None):
                # group commit: one write (and under ``always`` one fsync) for every client
                # served in this turn of the event loop; replies (reads too: they may show
                # these writes) wait for it
                if conn is not None:
                    self.dirty.add(conn)
                if not self._commit_scheduled:
                    self._commit_scheduled = True
                    assert self.loop is not None
                    self.loop.call_soon(self._group_commit)
                return
            if staged:
                self._commit(p)
        if conn is not None:
            conn.flush()
            if conn.close_after_reply:
                conn.close()
        if self.dirty:
            dirty = list(self.dirty)
            self.dirty.clear()
            for d in dirty:
                d.flush()
                if d.close_after_reply:
                    d.close()

    def _commit(self, p: Persistence) -> None:
        try:
            p.commit()
        except AofWriteError:
            # appendfsync always: these writes are not on disk and their replies (and any
            # read that saw them) must never go out; Redis exits here, and so do we
            self.log(ALWAYS_WRITE_FATAL, "warning")
            os._exit(1)

    def _group_commit(self) -> None:
        self._commit_scheduled = False
        p = self.persistence
        if p is not None and p.writer is not None:
            p.stage()
            self._commit(p)
        dirty = list(self.dirty)
        self.dirty.clear()
        for d in dirty:
            d.flush()
            if d.close_after_reply:
                d.close()

    def serve_blocked(self) -> None:
        for c, reply in self.blocking.serve_ready():
            conn = self.conns.get(c.id)
            if conn is not None:
                conn.deliver(reply)
        self._arm_deadline()

    def block(self, conn: Connection, b: Blocked) -> None:
        conn.waiting = True
        self.blocking.block(conn.client, b)
        if b.deadline_ms is not None and (self._deadline_at is None or b.deadline_ms < self._deadline_at):
            self._arm_deadline()

    def _arm_deadline(self) -> None:
        nxt = self.blocking.next_deadline()
        if nxt == self._deadline_at:
            return
        if self._deadline_handle is not None:
            self._deadline_handle.cancel()
            self._deadline_handle = None
        self._deadline_at = nxt
        if nxt is not None and self.loop is not None:
            delay = max(0.0, (nxt - self.engine.clock.ms()) / 1000)
            self._deadline_handle = self.loop.call_later(delay, self._deadline_fired)

    def _deadline_fired(self) -> None:
        self._deadline_handle = None
        self._deadline_at = None
        if self.engine.busy is not None:  # no timeouts while a script is busy: try later
            assert self.loop is not None
            self._deadline_handle = self.loop.call_later(0.01, self._deadline_fired)
            return
        for c, reply in self.blocking.expire(self.engine.clock.ms()):
            conn = self.conns.get(c.id)
            if conn is not None:
                conn.deliver(reply)
        self.end_batch()
        self._arm_deadline()

    def blocked_count(self) -> int:
        return sum(1 for conn in self.conns.values() if conn.client.blocked is not None)

    def unblock(self, c: Client, error: bool) -> bool:
        conn = self.conns.get(c.id)
        b = self.blocking.unblock(c)
        if b is None or conn is None:
            return False
        conn.deliver(ErrorReply(UNBLOCKED) if error else b.timeout_reply)
        self._arm_deadline()
        return True

    def internal_error(self, c: Client, argv: list[bytes], e: BaseException) -> ErrorReply:
        """An unexpected exception in a command: log it, answer an error, keep serving."""
        import traceback

        name = argv[0][:64].decode("utf-8", "replace")
        self.log(f"Internal error running '{name}' for client id={c.id}: {e!r}\n"
                 + "".join(traceback.format_exception(e)), "warning")
        return self.engine.count_error(
            ErrorReply(f"ERR internal error in '{name}': {type(e).__name__}".encode()))

    # -- while loading ---------------------------------------------------------------------

    def run_while_loading(self, c: Client, argv: list[bytes]) -> Any:
        """Commands during the initial load: only those Redis allows while loading.

        They run their handler directly: the loader thread owns the engine's
        per-command state meanwhile.
        """
        eng = self.engine
        cmd = eng.lookup_command(argv[0])
        if cmd is None:
            return eng.execute(c, argv)  # unknown command: no engine state touched
        real = resolve(cmd, argv)  # as Engine.execute: the subcommand and its arity first
        if real is None:
            return ErrorReply(unknown_subcommand(argv[1], argv[0]).encode(
                "utf-8", "surrogateescape"))
        if not arity_ok(real, len(argv)):
            return ErrorReply(wrong_args(eng.full_name(cmd, real)).encode())
        if not c.authenticated and "no-auth" not in cmd.flags:
            return ErrorReply(NOAUTH.encode())
        if not c.user.unrestricted:  # ACLs hold while loading too
            denied = eng.acl.check_command(c, real, cmd, argv, "toplevel")
            if denied is not None:
                return ErrorReply(("NOPERM " + denied[1]).encode("utf-8", "surrogateescape"))
        if "loading" not in cmd.flags:
            return ErrorReply(LOADING.encode())
        try:
            return cmd.handler(c, argv)
        except CommandError as e:
            return ErrorReply(e.msg.encode())

    # -- periodic work ------------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        if self.loop is None or self.exit_code is not None:
            return
        hz = max(1, min(500, int(self.engine.config.get("hz", 10))))
        self._tick_handle = self.loop.call_later(1.0 / hz, self._tick)

    def _tick(self) -> None:
        try:
            self.tick()
        except Exception as e:  # noqa: BLE001  (a failing cron must not stop the server)
            self.log(f"Error in periodic task: {e!r}", "warning")
        self._schedule_tick()

    def tick(self) -> None:
        eng = self.engine
        if self.loading or eng.busy is not None:  # no cron while a script is busy
            return
        if eng.active_expire_enabled:
            eng.active_expire()
        if self.persistence is not None:
            self.persistence.tick()
        if self.replication is not None:
            self.replication.tick()
        self._sample_rates()
        timeout = eng.config.get("timeout", 0)
        now_ms = eng.clock.ms()
        for conn in list(self.conns.values()):
            c = conn.client
            if (timeout and c.blocked is None and not c.in_pubsub
                    and not c.monitoring
                    and now_ms - c.last_interaction_ms > timeout * 1000):
                self.log(f"Closing idle client id={c.id}", "verbose")
                conn.close()
                continue
            if conn.transport is not None and conn.transport.get_write_buffer_size():
                self.check_output_limits(conn, conn.pending_output())
        self.end_batch()

    # -- output buffer limits -----------------------------------------------------------------

    def output_limits(self, c: Client) -> tuple[int, int, int]:
        """(hard, soft, soft seconds) of the client's ``client-output-buffer-limit``
        class: pubsub (RESP2 subscribers) or normal. Replicas are held to the normal
        limits: a full sync's RDB goes through their output here (Redis sends it
        apart, outside the replica limits), so the replica class would cut off a
        large sync."""
        limits = self.engine.config["client-output-buffer-limit"]
        return limits.get(  # type: ignore[no-any-return]
            "pubsub" if (c.in_pubsub and c.protocol == 2) else "normal", _NO_LIMITS)

    def check_output_limits(self, conn: Connection, size: int) -> None:
        """Close ``conn`` when ``size`` bytes of pending output are over its hard limit,
        or over the soft one for longer than its seconds (Redis's
        ``checkClientOutputBufferLimits``)."""
        if conn.closed or conn.client is None or conn.client.is_master:
            return
        size -= REPLY_BUF  # Redis counts only what overflows the client's reply buffer
        hard, soft, secs = self.output_limits(conn.client)
        over = False
        now = time.monotonic()
        if hard and size >= hard:
            over = True
        elif soft and size >= soft:
            if not conn.obuf_soft_since:
                conn.obuf_soft_since = now
            elif now - conn.obuf_soft_since > secs:
                over = True
        else:
            conn.obuf_soft_since = 0.0
        if over:
            self.output_limit_reached(conn)

    def output_limit_reached(self, conn: Connection) -> None:
        """Close the client at once: its buffered replies and pipelined commands are dropped."""
        self.stat_obuf_disconnections += 1
        info = client_info_line(conn.client).decode("utf-8", "replace")
        self.log(f"Client {info} scheduled to be closed ASAP for overcoming of output "
                 "buffer limits.", "warning")
        conn.abort()

    # -- CLIENT PAUSE ------------------------------------------------------------------------

    def pause_applies(self, argv: list[bytes]) -> bool:
        if time.monotonic() >= self.paused_until:
            return False
        if not self.pause_write_only:
            return True
        cmd = self.engine.lookup_command(argv[0])
        if cmd is None:
            return False
        return cmd.is_write or "may-replicate" in cmd.flags or cmd.name in _MAY_WRITE

    def pause(self, timeout_ms: int, write_only: bool) -> None:
        until = time.monotonic() + timeout_ms / 1000
        # a pause only extends the current one, and WRITE never weakens ALL
        if self.paused_until and time.monotonic() < self.paused_until:
            write_only = write_only and self.pause_write_only
            until = max(until, self.paused_until)
        self.paused_until = until
        self.pause_write_only = write_only
        if self._pause_handle is not None:
            self._pause_handle.cancel()
        assert self.loop is not None
        self._pause_handle = self.loop.call_later(max(0.0, until - time.monotonic()),
                                                  self.unpause)

    def unpause(self) -> None:
        self.paused_until = 0.0
        if self._pause_handle is not None:
            self._pause_handle.cancel()
            self._pause_handle = None
        conns = list(self.paused_conns)
        self.paused_conns.clear()
        for conn in conns:
            if not conn.closed:
                self.resume.append(conn)
        if self.loop is not None:
            self.loop.call_soon(self.end_batch)

    # -- MONITOR -----------------------------------------------------------------------------

    def monitor(self, c: Client) -> None:
        conn = self.conns.get(c.id)
        if conn is None:
            return
        c.monitoring = True
        self.monitors[c.id] = conn
        self.engine.on_command = self.feed_monitors

    def unmonitor(self, c: Client) -> None:
        if self.monitors.pop(c.id, None) is not None:
            c.monitoring = False
        if not self.monitors:
            self.engine.on_command = None

    def feed_monitors(self, c: Client, argv: list[bytes]) -> None:
        if not self.monitors:
            return
        cmd = self.engine.lookup_command(argv[0])
        if cmd is not None and cmd.subcommands:
            sub = resolve(cmd, argv)
            if sub is not None and sub is not cmd and "admin" in sub.flags:
                return  # admin subcommands (CONFIG GET, CLIENT LIST ...) are not shown
        line = monitor_line(c, argv, self.engine.clock.us())
        for conn in self.monitors.values():
            conn.out.append(line)
            self.dirty.add(conn)

    # -- Front: other hooks ---------------------------------------------------------------------

    def clients(self) -> list[Client]:
        return [conn.client for conn in self.conns.values()]

    def kill(self, c: Client) -> None:
        conn = self.conns.get(c.id)
        c.closing = True
        if conn is not None:
            conn.close_after_reply = True
            self.dirty.add(conn)

    def shutdown(self, c: Client, save: bool | None, now: bool, force: bool, abort: bool) -> Any:
        if abort:
            return ErrorReply(b"ERR No shutdown in progress.")
        conn = self.conns.get(c.id)
        if conn is not None:
            conn.flush()
        if not self.do_shutdown(save, force):
            return ErrorReply(b"ERR Errors trying to SHUTDOWN. Check logs.")
        return NO_REPLY

    def config_changed(self, name: str, value: Any) -> str | None:
        if name in ("port", "bind") and self.loop is not None:
            return "Changing the listening address at run time is not supported by streamlite"
        if name == "maxclients" and self.loop is not None:
            fits = adjust_open_files_limit(value, self.log)
            if fits != value:
                return ("The operating system is not able to handle the specified number "
                        f"of clients, try with {fits}")
        return None

    def has_pending_replies(self, c: Client) -> bool:
        conn = self.conns.get(c.id)
        return conn is not None and conn.pending_output() > 0

    def config_file(self) -> str | None:
        return self.config_path

    def client_info(self, c: Client) -> dict[str, Any]:
        conn = self.conns.get(c.id)
        return conn.info() if conn is not None else {}

    def info_server(self) -> dict[str, Any]:
        port = self.engine.config.get("port", 0)
        out: dict[str, Any] = {
            "tcp_port": port,
            "config_file": os.path.abspath(self.config_path) if self.config_path else "",
        }
        binds = ",".join(f"bind={h}" for h in self.listeners)
        out["listener0"] = f"name=tcp,{binds},port={port}"
        return out

    def info_clients(self) -> dict[str, Any]:
        return {}

    def info_threads(self) -> dict[str, Any]:
        # one thread does all the I/O, as Redis with io-threads 1 (its main thread)
        return {"io_thread_0": f"clients={len(self.conns)},reads={self.reads_processed},"
                               f"writes={self.writes_processed}"}

    def _net_out(self) -> int:
        return self.net_out_closed + sum(c.net_out for c in self.conns.values())

    def _sample_rates(self) -> None:
        """One sample of the counters behind INFO's instantaneous_* fields (each tick)."""
        samples = self._ops_samples
        samples.append((time.monotonic(), self.engine.stats_commands, self.net_in,
                        self._net_out()))
        while len(samples) > 16:
            samples.pop(0)
        first, last = samples[0], samples[-1]
        dt = last[0] - first[0]
        if len(samples) > 1 and dt > 0:
            self.ops_per_sec = int((last[1] - first[1]) / dt)
            self.input_kbps = max(last[2] - first[2], 0) / dt / 1024
            self.output_kbps = max(last[3] - first[3], 0) / dt / 1024

    def info_stats(self) -> dict[str, Any]:
        p = self.persistence
        return {
            "total_connections_received": self.connections_received,
            "instantaneous_ops_per_sec": self.ops_per_sec,
            "total_net_input_bytes": self.net_in,
            "total_net_output_bytes": self._net_out(),
            "instantaneous_input_kbps": f"{self.input_kbps:.2f}",
            "instantaneous_output_kbps": f"{self.output_kbps:.2f}",
            "rejected_connections": self.rejected_connections,
            "total_reads_processed": self.reads_processed,
            "total_writes_processed": self.writes_processed,
            "latest_fork_usec": getattr(p, "latest_fork_usec", 0) if p is not None else 0,
            "total_forks": getattr(p, "total_forks", 0) if p is not None else 0,
            "client_query_buffer_limit_disconnections": self.stat_qbuf_disconnections,
            "client_output_buffer_limit_disconnections": self.stat_obuf_disconnections,
            **(self.replication.stats if self.replication is not None else {}),
        }

    def reset_stats(self) -> None:
        self.net_in = 0
        self.reads_processed = self.writes_processed = 0
        self.net_out_closed = -sum(c.net_out for c in self.conns.values())
        self.connections_received = 0
        self.rejected_connections = 0
        self.stat_qbuf_disconnections = 0
        self.stat_obuf_disconnections = 0
        self._ops_samples.clear()  # the instantaneous rates restart from the new counts

    def debug_sleep(self, secs: float) -> None:
        time.sleep(secs)


def _repr_arg(a: bytes) -> str:
    """Redis's ``sdscatrepr``."""
    out = ['"']
    for ch in a:
        if ch in (0x5C, 0x22):
            out.append("\\" + chr(ch))
        elif ch == 0x0A:
            out.append("\\n")
        elif ch == 0x0D:
            out.append("\\r")
        elif ch == 0x09:
            out.append("\\t")
        elif ch == 0x07:
            out.append("\\a")
        elif ch == 0x08:
            out.append("\\b")
        elif 32 <= ch < 127:
            out.append(chr(ch))
        else:
            out.append(f"\\x{ch:02x}")
    out.append('"')
    return "".join(out)


def _redact(argv: list[bytes]) -> list[bytes]:
    name = argv[0].lower()
    if name == b"auth":
        return [argv[0]] + [b"(redacted)"] * (len(argv) - 1)
    if name == b"acl" and len(argv) > 2 and argv[1].lower() == b"setuser":
        return argv[:2] + [b"(redacted)"] * (len(argv) - 2)
    if name == b"hello":
        out = list(argv)
        for i in range(2, len(out) - 2):
            if out[i].lower() == b"auth":
                out[i + 1] = out[i + 2] = b"(redacted)"
        return out
    return argv


def monitor_line(c: Client, argv: list[bytes], now_us: int) -> bytes:
    """One MONITOR line: ``+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"``."""
    who = "lua" if c.in_script else c.addr.decode("utf-8", "replace")
    args = " ".join(_repr_arg(a) for a in _redact(argv))
    return (f"+{now_us // 1_000_000}.{now_us % 1_000_000:06d} [{c.db_index} {who}] {args}\r\n"
            .encode("utf-8", "surrogateescape"))


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _resolve_from_thread(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[None]) -> None:
    """Resolve ``fut`` from another thread (nothing if its loop has closed meanwhile)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_resolve, fut)


def refuse_held(server: Server, e: datadir.DirectoryHeld) -> None:
    """The data directory belongs to another process: say whose, and how to reach it,
    on stderr (also when a logfile is set: the server never started)."""
    sock = e.socket or os.path.join(e.path, datadir.SOCKET_NAME)
    serving = ("it serves that data on" if e.socket else
               "it is loading the data; once loaded it serves it on")
    way_in = (f"{serving.capitalize()} unix socket {sock}: use `redis-cli -s {sock}`, or the "
              f"URL streamlite://{e.path} from Python and the streamlite CLI. ")
    if e.unserved:
        way_in = f"It cannot serve that data to other processes ({e.unserved}). "
    msg = (f"Data directory {e.path} is in use by process {e.pid}: not starting (two "
           f"processes writing one AOF would corrupt it). {way_in}Or stop process {e.pid} "
           "first.")
    server.log(msg, "warning")
    if server.engine.config.get("logfile"):
        print(msg, file=sys.stderr, flush=True)


def run_server(engine: Engine, config_file: str | None = None,
               on_ready: Callable[[Server], None] | None = None,
               pre: Prestart | None = None) -> int:
    """Run a server for ``engine`` until SHUTDOWN or SIGTERM; returns the exit code.
    ``pre``: what ``prestart`` began (the directory locked, the load running)."""
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        runner = asyncio.run

    async def main() -> int:
        server = Server(engine, config_file)
        server.install_signals = True
        try:
            try:
                await server.start(pre)
            except datadir.DirectoryHeld as e:
                refuse_held(server, e)
                return 1
            except OSError as e:
                server.log(str(e), "warning")
                return 1
            except LoadError as e:  # a damaged AOF or snapshot: refuse to serve part of it
                server.log(f"Fatal error loading the DB: {e}. Exiting.", "warning")
                return 1
            if on_ready is not None:
                on_ready(server)
            return await server.wait_closed()
        finally:
            server.unlock()

    code = runner(main())
    return int(code or 0)

