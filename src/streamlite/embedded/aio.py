"""redis-py's asyncio connection and pool, running commands in the process.

A command runs synchronously in the event loop's thread under the host's lock:
the loop is held for as long as the command takes and no longer. A blocking
command (XREAD BLOCK, BLPOP, ...) that has nothing to serve parks the session;
``read_response`` then awaits a future that whichever thread or task writes the
key resolves (``loop.call_soon_threadsafe`` from other threads), or that a
timer resolves at the command's timeout.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError, TimeoutError
from redis.maint_notifications import MaintNotificationsConfig

from .convert import PushReply, convert, raised_by
from .handshake import handshake
from .holding import HostHold
from .host import Host
from .session import Packed, Session, encode_args, parse_packed

_CLOSED = "Connection closed by server."


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class AsyncEmbeddedConnection(AbstractConnection):
    """An asyncio connection to the engine of ``embedded`` (a ``Host``), without a socket."""

    def __init__(self, *, embedded: Host, pool: AsyncEmbeddedConnectionPool | None = None,
                 host: Any = None, port: Any = None, **kwargs: Any) -> None:
        for k in ("socket_keepalive", "socket_keepalive_options", "socket_type"):
            kwargs.pop(k, None)
        kwargs.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
        self._embedded = embedded
        self._pool_ref = pool
        self._session: Session | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_tid = 0
        super().__init__(**kwargs)

    # -- identity ------------------------------------------------------------------

    def repr_pieces(self) -> list[tuple[str, Any]]:
        return [("path", self._embedded.path or ":memory:"), ("db", self.db)]

    host = "streamlite-embedded"
    port = 0

    def _host_error(self) -> str:
        return f"streamlite embedded engine {self._embedded.path or '(in memory)'}"

    async def _connect(self) -> None:  # never called: connect_check_health is replaced
        raise NotImplementedError

    @property
    def is_connected(self) -> bool:
        s = self._session
        return s is not None and not s.closed

    def getpeername(self) -> None:
        return None

    def _close(self) -> None:
        s = self._session
        if s is not None:
            self._session = None
            try:
                s.host.close_session(s)
            except Exception:  # noqa: BLE001
                pass

    # -- waking (any thread) ---------------------------------------------------------

    def _wake(self) -> None:
        fut = self._waiter
        if fut is None or fut.done():
            return
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_tid:
            fut.set_result(None)
        else:
            try:
                loop.call_soon_threadsafe(_resolve, fut)
            except RuntimeError:  # the loop is closed
                pass

    # -- connecting --------------------------------------------------------------------

    async def connect(self) -> None:
        await self.connect_check_health()

    async def connect_check_health(self, check_health: bool = True,
                                   retry_socket_connect: bool = True) -> None:
        if self.is_connected:
            return
        self._connect_sync()
        try:
            auth_args = None
            if self.credential_provider or self.username or self.password:
                from redis.credentials import UsernamePasswordCredentialProvider

                cp = self.credential_provider or UsernamePasswordCredentialProvider(
                    self.username, self.password)
                auth_args = await cp.get_credentials_async()
            assert self._session is not None
            handshake(self, self._session, auth_args)
            if self.redis_connect_func is not None:
                r = self.redis_connect_func(self)
                if asyncio.iscoroutine(r):
                    await r
        except BaseException:
            self._close()
            raise
        self._connect_callbacks = [ref for ref in self._connect_callbacks if ref()]
        for ref in self._connect_callbacks:
            callback = ref()
            if callback is None:
                continue
            task = callback(self)
            if task is not None and asyncio.iscoroutine(task):
                await task

    def _connect_sync(self) -> None:
        host = self._embedded
        if host.closed and self._pool_ref is not None:
            host = self._embedded = self._pool_ref.current_host()
        self._reset_himport_state()
        self._session = host.open_session(self._wake)

    async def on_connect(self) -> None:
        pass

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        pass

    async def disconnect(self, nowait: bool = False, error: Any = None,
                         failure_count: Any = None, health_check_failed: bool = False) -> None:
        self._reset_himport_state()
        self.reset_should_reconnect()
        self._close()

    async def check_health(self) -> None:
        pass

    # -- sending -----------------------------------------------------------------------

    async def _live(self) -> Session:
        s = self._session
        if s is None or s.closed:
            await self.connect()
            s = self._session
            assert s is not None
        return s

    async def send_command(self, *args: Any, **kwargs: Any) -> None:
        s = self._session
        if s is None or s.closed:
            s = await self._live()
        s.host.run(s, [encode_args(args, self.encoder)])

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        s = await self._live()
        argvs = command if type(command) is Packed else parse_packed(command)
        s.host.run(s, argvs)

    def pack_command(self, *args: Any) -> Packed:  # type: ignore[override]
        return Packed([encode_args(args, self.encoder)])

    def pack_commands(self, commands: Any) -> Packed:  # type: ignore[override]
        enc = self.encoder
        return Packed([encode_args(tuple(args), enc) for args in commands])

    # -- reading -----------------------------------------------------------------------

    async def can_read(self) -> bool:
        s = self._session
        return bool(s is not None and s.out)

    async def can_read_destructive(self) -> bool:
        return await self.can_read()

    def _socket_is_empty(self) -> bool:
        s = self._session
        return not (s is not None and s.out)

    async def _wait(self, s: Session, timeout: float | None) -> bool:
        """Wait until ``s.out`` has something; False when ``timeout`` runs out."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._loop_tid = threading.get_ident()
        host = s.host
        clock = host.engine.clock
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            fut: asyncio.Future[None] = loop.create_future()
            self._waiter = fut
            s.waiting = True
            try:
                if s.out:
                    return True
                if s.closed:
                    raise ConnectionError(_CLOSED)
                wait = None if end is None else end - time.monotonic()
                b = s.client.blocked if s.blocked else None
                dl = b.deadline_ms if b is not None else None
                if dl is not None:
                    until = (dl - clock.ms()) / 1000.0
                    if until <= 0:
                        s.waiting = False
                        host.expire_blocked()
                        continue
                    wait = until if wait is None else min(wait, until)
                if wait is not None and wait <= 0:
                    return False
                timer = loop.call_later(wait, _resolve, fut) if wait is not None else None
                try:
                    await fut
                finally:
                    if timer is not None:
                        timer.cancel()
            finally:
                s.waiting = False
                self._waiter = None

    async def read_response(self, disable_decoding: bool = False, timeout: float | None = None,
                            *, disconnect_on_error: bool = True,
                            push_request: bool | None = False) -> Any:
        s = self._session
        if s is None:
            raise ConnectionError(_CLOSED)
        out = s.out
        while True:
            if not out:
                if timeout == math.inf:
                    t = None
                else:
                    t = timeout if timeout is not None else self.socket_timeout
                try:
                    got = await self._wait(s, t)
                except BaseException:
                    if disconnect_on_error:
                        self._close()
                    raise
                if not got:
                    if timeout is not None:  # the caller's own timeout: nothing yet
                        return None
                    if disconnect_on_error:
                        self._close()
                    raise TimeoutError(f"Timeout reading from {self._host_error()}")
            value = out.popleft()
            enc = self.encoder
            try:
                r = convert(value, s.client.protocol,
                            None if disable_decoding or not enc.decode_responses else enc.encoding,
                            enc.encoding_errors)
            except UnicodeDecodeError:
                if disconnect_on_error:
                    self._close()
                raise
            if type(r) is PushReply:
                r = await self._parser.handle_push_response(list(r))  # type: ignore[attr-defined]
                if push_request:
                    return r
                continue
            if self.health_check_interval:
                self.next_health_check = (asyncio.get_running_loop().time()
                                          + self.health_check_interval)
            err = raised_by(r)
            if err is not None:
                if isinstance(err, ConnectionError) and disconnect_on_error:
                    self._close()
                raise err
            return r


class AsyncEmbeddedConnectionPool(HostHold, ConnectionPool):
    """redis-py's asyncio pool of ``AsyncEmbeddedConnection``s on one host (see the sync
    pool: it holds a data directory open until it is closed)."""

    OMIT_REPR_KEYS = ConnectionPool.OMIT_REPR_KEYS | {"pool", "embedded"}

    def __init__(self, embedded: Host, *, spec: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
        self._init_hold(embedded, spec)
        super().__init__(connection_class=AsyncEmbeddedConnection, embedded=embedded, **kwargs)
        self.connection_kwargs["pool"] = self
        self._hold()

    async def get_connection(self, command_name: Any = None, *keys: Any,
                             **options: Any) -> Any:
        if not self._held or self._host.closed:
            self.current_host()
        try:
            conn = self._available_connections.pop()
        except IndexError:
            if len(self._in_use_connections) >= self.max_connections:
                from redis.exceptions import MaxConnectionsError

                raise MaxConnectionsError("Too many connections") from None
            conn = self.make_connection()
        self._in_use_connections.add(conn)
        try:
            if not conn.is_connected:
                await conn.connect()
            s = conn._session  # type: ignore[attr-defined]
            if s is not None and (s.out or s.blocked):
                conn._close()
                await conn.connect()
        except BaseException:
            await self.release(conn)
            raise
        return conn

    def make_connection(self) -> Any:
        kwargs = dict(self.connection_kwargs)
        kwargs["embedded"] = self._host
        return self.connection_class(**kwargs)

    async def release(self, connection: Any) -> None:
        self._in_use_connections.discard(connection)
        if connection.should_reconnect():
            await connection.disconnect()
        self._available_connections.append(connection)

    async def disconnect(self, inuse_connections: bool = True) -> None:
        await super().disconnect(inuse_connections)
        if inuse_connections:
            self._unhold()

    async def aclose(self) -> None:
        await self.disconnect()
