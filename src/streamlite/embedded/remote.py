"""redis-py clients of a data directory another process owns: the Redis protocol over
the owner's Unix socket (``attach.py`` finds the owner, or takes the directory over).

``streamlite.connect(dir)`` returns an ``AttachedRedis`` (a ``redis.Redis``) when
another process holds ``dir``; ``connect_async`` an ``AsyncAttachedRedis``. They are
redis-py's own classes over redis-py's Unix socket connections, so commands,
blocking reads, pipelines, transactions, pub/sub and scripts behave as against a
server. What they add is what an owner that can die asks for:

- **connecting** asks the attachment for the current owner's socket: it waits
  while the owner loads or while another process takes over, and takes the
  directory over itself when nobody holds it;
- **a command is sent again only if it never left**: a pooled connection to an
  owner that died is noticed before use (redis-py checks a pooled connection for
  EOF), and a command whose very first byte could not be written (``EPIPE``: the
  peer is gone) raises ``NotDelivered``, the one error the retry policy repeats, on
  a connection to the new owner. A command that was (even partly) written may have
  run: losing its reply raises ``ConnectionError``, it is never repeated blindly;
- **pub/sub** reconnects and subscribes again (a lost message is at most once anyway).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.client import PubSub as AsyncPubSub
from redis.asyncio.connection import ConnectionPool as AsyncConnectionPool
from redis.asyncio.connection import UnixDomainSocketConnection as AsyncUnixConnection
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.client import PubSub
from redis.connection import ConnectionPool, UnixDomainSocketConnection
from redis.exceptions import AuthenticationError, AuthorizationError, ConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry

from .attach import ATTACH_TIMEOUT, Attachment, attachment

RETRIES = 3  # sends of a command that never reached an owner (each to the next owner)
_HANDSHAKE_PAUSE = 0.01  # between connections whose owner went away during the handshake
_NOT_RECONNECTABLE = (AuthenticationError, AuthorizationError)


class NotDelivered(ConnectionError):
    """The command never reached the owner (its socket was closed): safe to send again."""


def _retry() -> Retry:
    return Retry(NoBackoff(), RETRIES, supported_errors=(NotDelivered,))


def _async_retry() -> AsyncRetry:
    return AsyncRetry(NoBackoff(), RETRIES, supported_errors=(NotDelivered,))


class _Source:
    """What an attached pool gives its connections: the attachment (kept current across
    forks) and how long to wait for an owner."""

    def __init__(self, path: str, options: dict[str, Any], timeout: float) -> None:
        self.path = path
        self.options = options
        self.timeout = timeout
        self._att: Attachment | None = None
        self._pid = 0
        self._held = False
        self._lock = threading.Lock()

    def get(self) -> Attachment:
        att = self._att
        if att is not None and self._held and self._pid == os.getpid():
            return att
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's hold is not ours
                self._held, self._lock = False, threading.Lock()
            if not self._held or self._att is None:
                att = attachment(self.path, self.options)
                att.hold()
                self._att, self._pid, self._held = att, os.getpid(), True
            return self._att

    def drop(self) -> None:
        with self._lock:
            att, held = self._att, self._held
            self._held = False
        if att is not None and held and self._pid == os.getpid():
            att.release()


def _host_error(source: _Source, sock_path: str) -> str:
    return f"streamlite data directory {source.path} (owner's socket {sock_path or '-'})"


# -- sync ------------------------------------------------------------------------------


class AttachedConnection(UnixDomainSocketConnection):
    """A Unix socket connection to the directory's current owner."""

    def __init__(self, *, source: _Source, **kwargs: Any) -> None:
        kwargs.pop("path", None)
        super().__init__(path="", **kwargs)
        self.source = source

    def repr_pieces(self) -> list[tuple[str, Any]]:
        return [("dir", self.source.path), ("socket", self.path), ("db", self.db)]

    def _host_error(self) -> str:
        return _host_error(self.source, self.path)

    def _connect(self) -> socket.socket:
        sock, self.path = self.source.get().connect(self.source.timeout)
        sock.settimeout(self.socket_timeout)
        self._reached = True
        return sock

    def connect_check_health(self, check_health: bool = True,
                             retry_socket_connect: bool = True) -> None:
        if self._sock:
            return
        deadline = time.monotonic() + self.source.timeout
        while True:
            self._reached = False
            try:
                super().connect_check_health(check_health, retry_socket_connect=False)
                return
            except _NOT_RECONNECTABLE:
                raise
            except ConnectionError:  # (a timeout is an owner alive but slow: not retried)
                # an owner accepted, then went away during the handshake (nothing of the
                # caller's was sent yet): connect to the next one. Finding no owner at
                # all is final (the attachment waited for one already).
                self.disconnect()
                if not self._reached or time.monotonic() >= deadline:
                    raise
                time.sleep(_HANDSHAKE_PAUSE)

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if not self._sock:
            self.connect_check_health(check_health=False)
        if check_health:
            self.check_health()
        items = [command] if isinstance(command, (str, bytes)) else command
        sent = 0
        try:
            for item in items:
                view = memoryview(item.encode() if isinstance(item, str) else item)
                while view:
                    n = self._sock.send(view)  # type: ignore[union-attr,attr-defined]
                    sent += n
                    view = view[n:]
        except (BrokenPipeError, ConnectionResetError) as e:
            self.disconnect()
            if sent == 0:
                raise NotDelivered(f"{self._host_error()}: the owner had closed the "
                                   "connection; the command was not sent") from e
            raise ConnectionError(f"Error {e.errno} while writing to socket. "
                                  f"{e.strerror}.") from e
        except TimeoutError:
            self.disconnect()
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as e:
            self.disconnect()
            raise ConnectionError(f"Error {e.errno} while writing to socket. "
                                  f"{e.strerror}.") from e
        except BaseException:
            self.disconnect()
            raise


class AttachedConnectionPool(ConnectionPool):
    """redis-py's pool of ``AttachedConnection``s; it keeps the process attached (and a
    directory it took over open) until it is closed."""

    def __init__(self, path: str, options: dict[str, Any], *,
                 attach_timeout: float = ATTACH_TIMEOUT, **kwargs: Any) -> None:
        kwargs.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
        kwargs.setdefault("retry", _retry())
        self.source = _Source(path, options, attach_timeout)
        super().__init__(connection_class=AttachedConnection, source=self.source, **kwargs)
        self.source.get()

    def get_connection(self, *args: Any, **options: Any) -> Any:
        self.source.get()  # attached again after close() or a fork
        return super().get_connection(*args, **options)

    def disconnect(self, inuse_connections: bool = True) -> None:
        super().disconnect(inuse_connections)
        if inuse_connections:
            self.source.drop()

    def close(self) -> None:
        self.disconnect()


class AttachedPubSub(PubSub):
    """redis-py's ``PubSub``, reconnecting (and subscribing again) to the next owner."""

    def _execute(self, conn: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = None
        while True:
            try:
                return super()._execute(conn, command, *args, **kwargs)
            except _NOT_RECONNECTABLE:
                raise
            except ConnectionError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + conn.source.timeout
                elif now >= deadline:
                    raise
                self._reconnect(conn)  # on_connect subscribes again


class AttachedRedis(redis.Redis):
    """A ``redis.Redis`` on a data directory another process owns."""

    def pubsub(self, **kwargs: Any) -> AttachedPubSub:
        return AttachedPubSub(self.connection_pool, event_dispatcher=self._event_dispatcher,
                              **kwargs)

    def __repr__(self) -> str:
        return f"<streamlite.AttachedRedis {self.connection_pool.source.path}>"  # type: ignore[attr-defined]


# -- asyncio ---------------------------------------------------------------------------


class AsyncAttachedConnection(AsyncUnixConnection):
    """An asyncio Unix socket connection to the directory's current owner."""

    def __init__(self, *, source: _Source, **kwargs: Any) -> None:
        kwargs.pop("path", None)
        super().__init__(path="", **kwargs)
        self.source = source

    def repr_pieces(self) -> list[tuple[str, Any]]:
        return [("dir", self.source.path), ("socket", self.path), ("db", self.db)]

    def _host_error(self) -> str:
        return _host_error(self.source, self.path)

    async def _connect(self) -> None:
        att = self.source.get()
        # waiting for an owner, or loading the directory to take it over, blocks: a thread
        sock, self.path = await asyncio.to_thread(att.connect, self.source.timeout)
        sock.setblocking(False)
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(sock=sock)
        except BaseException:
            sock.close()
            raise
        self._reached = True

    async def connect_check_health(self, check_health: bool = True,
                                   retry_socket_connect: bool = True) -> None:
        if self.is_connected:
            return
        deadline = time.monotonic() + self.source.timeout
        while True:
            self._reached = False
            try:
                await super().connect_check_health(check_health, retry_socket_connect=False)
                return
            except _NOT_RECONNECTABLE:
                raise
            except ConnectionError:  # (a timeout is an owner alive but slow: not retried)
                await self.disconnect(nowait=True)
                if not self._reached or time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(_HANDSHAKE_PAUSE)

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        reader = self._reader
        if reader is not None and reader.at_eof():
            # the owner closed this connection before anything was written: not sent
            await self.disconnect(nowait=True)
            raise NotDelivered(f"{self._host_error()}: the owner had closed the connection; "
                               "the command was not sent")
        await super().send_packed_command(command, check_health)


class AsyncAttachedConnectionPool(AsyncConnectionPool):
    """The asyncio pool of ``AsyncAttachedConnection``s (see ``AttachedConnectionPool``)."""

    def __init__(self, path: str, options: dict[str, Any], *,
                 attach_timeout: float = ATTACH_TIMEOUT, **kwargs: Any) -> None:
        kwargs.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
        kwargs.setdefault("retry", _async_retry())
        self.source = _Source(path, options, attach_timeout)
        super().__init__(connection_class=AsyncAttachedConnection, source=self.source,
                         **kwargs)
        self.source.get()

    async def get_connection(self, *args: Any, **options: Any) -> Any:
        self.source.get()
        return await super().get_connection(*args, **options)

    async def disconnect(self, inuse_connections: bool = True) -> None:
        await super().disconnect(inuse_connections)
        if inuse_connections:
            self.source.drop()

    async def aclose(self) -> None:
        await self.disconnect()


class AsyncAttachedPubSub(AsyncPubSub):
    """redis-py's asyncio ``PubSub``, reconnecting (and subscribing again) to the next owner."""

    async def _execute(self, conn: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = None
        while True:
            try:
                return await super()._execute(conn, command, *args, **kwargs)
            except _NOT_RECONNECTABLE:
                raise
            except ConnectionError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + conn.source.timeout
                elif now >= deadline:
                    raise
                await self._reconnect(conn)


class AsyncAttachedRedis(redis.asyncio.Redis):
    """A ``redis.asyncio.Redis`` on a data directory another process owns."""

    def pubsub(self, **kwargs: Any) -> AsyncAttachedPubSub:
        return AsyncAttachedPubSub(self.connection_pool,
                                   event_dispatcher=self._event_dispatcher, **kwargs)

    def __repr__(self) -> str:
        return f"<streamlite.AsyncAttachedRedis {self.connection_pool.source.path}>"  # type: ignore[attr-defined]


def is_attached(client: Any) -> bool:
    """True for a client of a data directory another process owned when it was made."""
    return isinstance(getattr(client, "connection_pool", None),
                      (AttachedConnectionPool, AsyncAttachedConnectionPool))
