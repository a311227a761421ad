"""An embedded engine served over sockets too: its data directory's Unix socket, and TCP.

A ``HostServer`` runs the streamlite server (``streamlite.server``) on the engine
a process already uses, in a background thread with its own event loop, with any
number of listeners:

- the **owner's socket**: every host of a data directory listens on the
  directory's Unix socket (``persistence/datadir.py``) from the moment its data
  is loaded until it closes, so other processes attach to it (``attach.py``);
- **TCP**: ``streamlite.serve(path_or_engine, port=6379)`` adds a listener for
  ``redis-cli``, other languages and tools; ``close()`` removes it again.

Both fronts share what must be shared:

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
persisting it (group commits included: they take the host's lock too); SHUTDOWN
over a socket is refused (the application owns the process). Once the host is
closed, the server runs nothing more: a command that arrives then drops its
connection (the client sees a connection error, never a reply for a write that
was not persisted).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from ..engine.client import Client
from ..engine.info import state as info_state
from ..engine.replies import ErrorReply
from ..persistence import datadir
from ..server.app import Server
from ..server.connection import Connection
from .front import EmbeddedFront
from .host import Host, _wake_all


class _Listener:
    """One listening socket of a ``HostServer`` and the connections it accepted."""

    def __init__(self, kind: str, address: str) -> None:
        self.kind = kind  # "unix" | "tcp"
        self.address = address  # the socket path, or host:port
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self.conns: set[_SharedConnection] = set()


class _SharedConnection(Connection):
    server: _SharedServer

    def __init__(self, server: _SharedServer, listener: _Listener) -> None:
        super().__init__(server)
        self.listener = listener

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        host = self.server.host
        with host.lock:
            if host.closed:
                self.closed = True
                transport.abort()  # type: ignore[attr-defined]
                return
            super().connection_made(transport)
        self.listener.conns.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.conns.discard(self)
        with self.server.host.lock:
            super().connection_lost(exc)
        self.server.wake_embedded()

    def data_received(self, data: bytes) -> None:
        host = self.server.host
        with host.lock:
            if host.closed:  # its data is no longer persisted: run nothing
                self.abort()
                return
            super().data_received(data)  # runs the commands, then end_batch
        self.server.wake_embedded()


class _SharedServer(Server):
    """The streamlite server as a second front of an embedded host."""

    def __init__(self, host: Host) -> None:
        super().__init__(host.engine)
        self.host = host
        self.blocking = host.blocking
        self.persistence = host.persistence
        self.embedded_front = EmbeddedFront(host)
        self._tid = 0
        self._flush_scheduled = False

    # -- start / stop (called in the server's thread) ------------------------------

    async def start_shared(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._tid = threading.get_ident()
        self._stopped = asyncio.Event()
        with self.host.lock:
            info_state(self.engine)
        self._schedule_tick()

    async def listen(self, listener: _Listener, bind: str = "", port: int = 0,
                     sock: Any = None) -> None:
        assert self.loop is not None

        def factory() -> _SharedConnection:
            return _SharedConnection(self, listener)

        if sock is not None:
            srv = await self.loop.create_unix_server(factory, sock=sock, backlog=511)
        else:
            srv = await self.loop.create_server(factory, bind, port, backlog=511,
                                                reuse_address=True)
            listener.port = srv.sockets[0].getsockname()[1]
            with self.host.lock:
                self.engine.config["port"] = listener.port
        listener.server = srv
        self.servers.append(srv)
        if sock is None:
            self.listeners.append(bind)  # INFO server's listener0 (TCP)

    def unlisten(self, listener: _Listener) -> None:
        srv = listener.server
        if srv is not None:
            srv.close()
            if srv in self.servers:
                self.servers.remove(srv)
        if listener.kind == "tcp" and self.listeners:
            self.listeners.pop(0)
        with self.host.lock:
            for conn in list(listener.conns):
                conn.close()

    def stop_shared(self) -> None:
        with self.host.lock:
            self.stop(0)

    # -- every engine entry of the server holds the host's lock -----------------------

    def end_batch(self, conn: Connection | None = None) -> None:
        with self.host.lock:
            self._flush_scheduled = False
            super().end_batch(conn)
        self.wake_embedded()

    def _group_commit(self) -> None:
        with self.host.lock:  # the AOF writer is the host's: one writer at a time
            super()._group_commit()

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
        """An embedded write served (or timed out) a socket client's blocked command."""
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
        """An embedded batch ended: send what it produced for socket clients."""
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


class HostServer:
    """The server thread of one host (``host.server``): its loop and its listeners."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._server = _SharedServer(host)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.listeners: list[_Listener] = []
        self.closed = False
        self._thread = threading.Thread(target=self._run, name="streamlite-serve",
                                        daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        with host.lock:
            host.foreign = self._server

    def _run(self) -> None:
        loop: asyncio.AbstractEventLoop
        try:
            import uvloop

            loop = uvloop.new_event_loop()
        except ImportError:  # pragma: no cover
            loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._server.start_shared())
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

    def _call(self, coro: Any) -> Any:
        assert self._loop is not None
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a listener cannot be changed from the server's own thread")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    def listen_unix(self, owner: datadir.OwnerSocket) -> _Listener:
        lst = _Listener("unix", owner.path)
        self._call(self._server.listen(lst, sock=owner.sock))
        self.listeners.append(lst)
        return lst

    def listen_tcp(self, bind: str, port: int) -> _Listener:
        lst = _Listener("tcp", f"{bind}:{port}")
        self._call(self._server.listen(lst, bind=bind, port=port))
        lst.address = f"{bind}:{lst.port}"
        self.listeners.append(lst)
        return lst

    def tcp(self) -> _Listener | None:
        return next((x for x in self.listeners if x.kind == "tcp"), None)

    def unlisten(self, lst: _Listener) -> None:
        """Stop listening on ``lst`` and close the connections it accepted."""
        if lst not in self.listeners:
            return
        self.listeners.remove(lst)
        loop = self._loop
        if loop is not None and not loop.is_closed() and not self.closed:
            done = threading.Event()

            def go() -> None:
                try:
                    self._server.unlisten(lst)
                finally:
                    done.set()

            try:
                loop.call_soon_threadsafe(go)
            except RuntimeError:
                return
            if threading.current_thread() is not self._thread:
                done.wait(10)

    def close(self, wait: bool = True) -> None:
        """Stop every listener and the thread (waits for it unless ``wait`` is False)."""
        if self.closed:
            return
        self.closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            def stop() -> None:
                self._server.stop_shared()
                loop.stop()

            try:
                loop.call_soon_threadsafe(stop)
            except RuntimeError:
                pass
        if wait and self._thread is not threading.current_thread():
            self._thread.join(10)
        h = self.host
        with h.lock:
            if h.foreign is self._server:
                h.foreign = None
            if h.engine.front is self._server:
                h.engine.front = EmbeddedFront(h)
            if h.engine.memory_probe is self._server.memory:
                from ..memory import MemoryProbe

                h.engine.memory_probe = MemoryProbe()  # the server closed its own


class ServedEngine:
    """An embedded engine served over TCP from a background thread (``streamlite.serve``).

    ``port`` is the port it listens on (useful with ``port=0``), ``url`` a
    ``redis://`` URL for it; ``client()`` gives an embedded client of the same
    engine; ``close()`` (or leaving a ``with`` block) stops listening on TCP, closes
    the TCP connections and gives back its hold on the engine.
    """

    def __init__(self, host: Host, bind: str, port: int) -> None:
        srv = host.server
        other = srv.tcp() if srv is not None else None
        if other is not None:
            raise RuntimeError(f"{host!r} is already served on port {other.port}")
        self.host = host
        self.bind = bind
        self._closed = False
        host.hold()
        try:
            self._hs = host.ensure_server()
            self._listener = self._hs.listen_tcp(bind, port)
        except BaseException:
            self._closed = True
            self._drop_server()
            host.release()
            raise
        self.port: int = self._listener.port

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
        self._hs.unlisten(self._listener)
        self._drop_server()
        self.host.release()

    def _drop_server(self) -> None:
        h = self.host
        srv = h.server
        if srv is not None and not srv.listeners and h.path is None:
            h.server = None  # an in-memory engine served only over TCP: its thread ends
            srv.close()

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
