"""Serve an embedded engine over TCP as well: one dataset for the application and redis-cli.

``streamlite.serve(path_or_engine, port=6379)`` runs the streamlite server
(``streamlite.server``) on the engine the process already uses, in a background
thread with its own event loop. Both fronts share what must be shared:

- **the lock**: every entry of the server into the engine (a read from a socket,
  its timers, its end-of-batch work) holds the host's lock, as embedded commands
  do, so commands from both sides run one at a time;
- **blocked clients**: one ``BlockingManager``; a write on either side serves the
  waiters of both, first come first served. Replies for the other front's clients
  are handed over: embedded sessions get theirs in their ``out`` queue, TCP
  clients through their connection on the server's loop;
- **output**: pub/sub messages (and MONITOR lines) an embedded command produces
  for TCP clients are flushed by the server's loop right after that command.

The server does not load or own the data: the host has loaded it and keeps
persisting it; SHUTDOWN over TCP is refused (the application owns the process).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from ..engine.client import Client
from ..engine.info import state as info_state
from ..engine.replies import ErrorReply
from ..server.app import Server
from ..server.connection import Connection
from .front import EmbeddedFront
from .host import Host, _wake_all


class _SharedConnection(Connection):
    server: _SharedServer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        with self.server.host.lock:
            super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        with self.server.host.lock:
            super().connection_lost(exc)
        self.server.wake_embedded()

    def data_received(self, data: bytes) -> None:
        with self.server.host.lock:
            super().data_received(data)  # runs the commands, then end_batch
        self.server.wake_embedded()


class _SharedServer(Server):
    """The TCP server as a second front of an embedded host."""

    def __init__(self, host: Host) -> None:
        super().__init__(host.engine)
        self.host = host
        self.blocking = host.blocking
        self.persistence = host.persistence
        self.embedded_front = EmbeddedFront(host)
        self._tid = 0
        self._flush_scheduled = False

    # -- start / stop (called from the server's thread) ------------------------------

    async def start_shared(self, bind: str, port: int) -> None:
        self.loop = asyncio.get_running_loop()
        self._tid = threading.get_ident()
        self._stopped = asyncio.Event()
        srv = await self.loop.create_server(lambda: _SharedConnection(self), bind, port,
                                            backlog=511, reuse_address=True)
        self.servers = [srv]
        self.listeners = [bind]
        actual = srv.sockets[0].getsockname()[1]
        with self.host.lock:
            self.engine.config["port"] = actual
            info_state(self.engine)
        self._schedule_tick()

    def stop_shared(self) -> None:
        with self.host.lock:
            self.stop(0)

    # -- every engine entry of the server holds the host's lock -----------------------

    def end_batch(self, conn: Connection | None = None) -> None:
        with self.host.lock:
            self._flush_scheduled = False
            super().end_batch(conn)
        self.wake_embedded()

    def tick(self) -> None:
        with self.host.lock:
            super().tick()
        self.wake_embedded()

    def unpause(self) -> None:
        with self.host.lock:
            super().unpause()

    def _deadline_fired(self) -> None:
        with self.host.lock:
            self._deadline_handle = None
            self._deadline_at = None
            for c, reply in self.blocking.expire(self.engine.clock.ms()):
                self._route(c, reply)
            self.end_batch()

    def serve_blocked(self) -> None:
        for c, reply in self.blocking.serve_ready():
            self._route(c, reply)
        self._arm_deadline()

    def _route(self, c: Client, reply: Any) -> None:
        conn = self.conns.get(c.id)
        if conn is not None:
            conn.deliver(reply)
        else:
            self.host._deliver(c, reply)  # an embedded session: woken after the batch

    def wake_embedded(self) -> None:
        with self.host.lock:
            woken = self.host._woken
            self.host._woken = []
        _wake_all(woken)

    # -- the host's hooks (called under the lock, from embedded threads) ---------------

    def deliver_blocked(self, c: Client, reply: Any) -> None:
        """An embedded write served (or timed out) a TCP client's blocked command."""
        if self.loop is None:
            return
        if threading.get_ident() == self._tid:
            conn = self.conns.get(c.id)
            if conn is not None:
                conn.deliver(reply)
            return
        self.loop.call_soon_threadsafe(self._deliver_later, c.id, reply)

    def _deliver_later(self, cid: int, reply: Any) -> None:
        with self.host.lock:
            conn = self.conns.get(cid)
            if conn is not None and not conn.closed:
                conn.deliver(reply)
            self.end_batch()

    def after_batch(self) -> None:
        """An embedded batch ended: send what it produced for TCP clients."""
        if (self.dirty or self.resume) and not self._flush_scheduled and self.loop is not None \
                and threading.get_ident() != self._tid:
            self._flush_scheduled = True
            try:
                self.loop.call_soon_threadsafe(self.end_batch)
            except RuntimeError:  # the loop is closed
                self._flush_scheduled = False

    # -- Front: both fronts' clients ------------------------------------------------------

    def clients(self) -> list[Client]:
        both = super().clients() + self.embedded_front.clients()
        return sorted(both, key=lambda c: c.id)

    def kill(self, c: Client) -> None:
        if c.id in self.conns:
            super().kill(c)
        else:
            self.embedded_front.kill(c)

    def unblock(self, c: Client, error: bool) -> bool:
        if c.id in self.conns:
            return super().unblock(c, error)
        return self.embedded_front.unblock(c, error)

    def blocked_count(self) -> int:
        return len(self.blocking)

    def shutdown(self, c: Client, save: bool | None, now: bool, force: bool,
                 abort: bool) -> Any:
        return ErrorReply(b"ERR SHUTDOWN is not supported: this engine is embedded in an "
                          b"application, which closes it")


class ServedEngine:
    """An embedded engine served over TCP from a background thread (``streamlite.serve``).

    ``port`` is the port it listens on (useful with ``port=0``), ``url`` a
    ``redis://`` URL for it; ``client()`` gives an embedded client of the same
    engine; ``close()`` (or leaving a ``with`` block) stops the TCP server and gives
    back its hold on the engine.
    """

    def __init__(self, host: Host, bind: str, port: int) -> None:
        with host.lock:
            other = host.foreign
        if other is not None:
            raise RuntimeError(
                f"{host!r} is already served on port {other.engine.config.get('port')}")
        self.host = host
        self.bind = bind
        self._server = _SharedServer(host)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        host.hold()
        with host.lock:
            host.foreign = self._server
        self._thread = threading.Thread(target=self._run, args=(bind, port),
                                        name="streamlite-serve", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._detach()
            raise self._error
        self.port: int = self._server.engine.config["port"]

    def _run(self, bind: str, port: int) -> None:
        loop: asyncio.AbstractEventLoop
        try:
            import uvloop

            loop = uvloop.new_event_loop()
        except ImportError:  # pragma: no cover
            loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._server.start_shared(bind, port))
        except BaseException as e:  # noqa: BLE001  (reported to the caller)
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(asyncio.sleep(0))  # let closed transports finish
            loop.close()

    @property
    def url(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"redis://{host}:{self.port}/0"

    def client(self, **redis_kwargs: Any) -> Any:
        """An embedded ``redis.Redis`` on the served engine."""
        from .api import _sync_client

        return _sync_client(self.host, None, redis_kwargs)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            def stop() -> None:
                self._server.stop_shared()
                loop.stop()

            try:
                loop.call_soon_threadsafe(stop)
            except RuntimeError:
                pass
        if self._thread is not threading.current_thread():
            self._thread.join(10)
        self._detach()

    def _detach(self) -> None:
        h = self.host
        with h.lock:
            if h.foreign is self._server:
                h.foreign = None
            if h.engine.ext.get("front") is self._server:
                h.engine.ext["front"] = EmbeddedFront(h)
            if getattr(h.engine, "memory_probe", None) is self._server.memory:
                from ..server.memory import MemoryProbe

                h.engine.memory_probe = MemoryProbe()  # the server closed its own
        h.release()

    def __enter__(self) -> ServedEngine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<streamlite.ServedEngine {self.url} for {self.host!r}>"


def serve(target: Any = None, *, port: int = 6379, host: str = "127.0.0.1",
          **persistence_options: Any) -> ServedEngine:
    """Serve an embedded engine over TCP (RESP2/RESP3) too, so that redis-cli, other
    processes and other languages see the application's dataset.

    ``target`` is a data directory (opened, or shared if this process has it open),
    an ``Embedded``, an ``Engine``, a client from ``streamlite.connect``, or None for a
    new in-memory engine. ``port=0`` picks a free port (see ``.port``).
    """
    from .api import Embedded, _host_of
    from .host import open_host
    from .sync import EmbeddedConnectionPool

    h: Host
    if isinstance(target, (str, os.PathLike)):
        h = open_host(os.fspath(target), persistence_options)
    else:
        if persistence_options:
            raise TypeError(f"persistence options {sorted(persistence_options)} need a "
                            "data directory")
        pool = getattr(target, "connection_pool", None)
        if isinstance(pool, EmbeddedConnectionPool):
            h = pool.current_host()
        elif isinstance(target, Embedded):
            h = target.host
        else:
            h = _host_of(target, None)
    return ServedEngine(h, host, port)
