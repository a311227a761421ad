"""redis-py's sync connection and pool, running commands in the process.

``EmbeddedConnection`` is a ``redis.connection.AbstractConnection``: the client,
pipelines, transactions, pub/sub and scripts of redis-py use it unchanged. It
has a ``Session`` instead of a socket: ``send_command`` runs the command in the
engine (under the host's lock) and ``read_response`` hands its reply value,
converted as hiredis would have parsed it, to redis-py's response callbacks.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from redis.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError, TimeoutError
from redis.maint_notifications import MaintNotificationsConfig
from redis.utils import SENTINEL

from . import host as host_mod
from .convert import PushReply, convert, raised_by
from .handshake import handshake
from .holding import HostHold
from .host import Host
from .session import Packed, Session, encode_args, parse_packed

_CLOSED = "Connection closed by server."


class EmbeddedConnection(AbstractConnection):
    """A connection to the engine of ``embedded`` (a ``Host``), without a socket."""

    def __init__(self, *, embedded: Host, pool: EmbeddedConnectionPool | None = None,
                 host: Any = None, port: Any = None, **kwargs: Any) -> None:
        kwargs.pop("socket_keepalive", None)
        kwargs.pop("socket_keepalive_options", None)
        kwargs.pop("socket_type", None)
        kwargs.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
        self._embedded = embedded
        self._pool_ref = pool
        self._session: Session | None = None
        self._event = threading.Event()
        super().__init__(**kwargs)

    # -- identity ------------------------------------------------------------------

    def repr_pieces(self) -> list[tuple[str, Any]]:
        return [("path", self._embedded.path or ":memory:"), ("db", self.db)]

    @property
    def host(self) -> str:
        return "streamlite-embedded"

    @host.setter
    def host(self, value: str) -> None:
        pass

    port = 0

    def _host_error(self) -> str:
        return f"streamlite embedded engine {self._embedded.path or '(in memory)'}"

    def _connect(self) -> Any:  # never called: connect_check_health is replaced
        raise NotImplementedError

    def _get_socket(self) -> None:
        return None

    @property
    def is_connected(self) -> bool:
        s = self._session
        return s is not None and not s.closed

    def extract_connection_details(self) -> str:
        return "in process" if self.is_connected else "not connected"

    def getpeername(self) -> None:
        return None

    # -- connecting --------------------------------------------------------------------

    def connect(self) -> None:
        self.connect_check_health()

    def connect_check_health(self, check_health: bool = True,
                             retry_socket_connect: bool = True) -> None:
        s = self._session
        if s is not None and not s.closed:
            return
        host = self._embedded
        if host.closed and self._pool_ref is not None:
            host = self._embedded = self._pool_ref.current_host()
        s = host.open_session(self._event.set)
        self._session = s
        try:
            self._reset_himport_state()
            auth_args = None
            if self.credential_provider or self.username or self.password:
                from redis.credentials import UsernamePasswordCredentialProvider

                cp = self.credential_provider or UsernamePasswordCredentialProvider(
                    self.username, self.password)
                auth_args = cp.get_credentials()
            handshake(self, s, auth_args)
            if self.redis_connect_func is not None:
                self.redis_connect_func(self)  # type: ignore[call-arg]
        except BaseException:
            self.disconnect()
            raise
        self._connect_callbacks = [ref for ref in self._connect_callbacks if ref()]
        for ref in self._connect_callbacks:
            callback = ref()
            if callback:
                callback(self)

    def on_connect(self) -> None:
        pass

    def on_connect_check_health(self, check_health: bool = True) -> None:
        pass

    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        self._reset_himport_state()
        self.reset_should_reconnect()
        s = self._session
        if s is None:
            return
        self._session = None
        try:
            s.host.close_session(s)
        except Exception:  # noqa: BLE001  (a closed host has nothing left to free)
            pass

    def check_health(self) -> None:
        pass

    # -- sending -----------------------------------------------------------------------

    def _live(self) -> Session:
        s = self._session
        if s is None or s.closed:
            self.connect()
            s = self._session
            assert s is not None
        return s

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        s = self._session
        if s is None or s.closed:
            s = self._live()
        s.host.run(s, [encode_args(args, self.encoder)])

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        s = self._live()
        argvs = command if type(command) is Packed else parse_packed(command)
        s.host.run(s, argvs)

    def pack_command(self, *args: Any) -> Packed:
        return Packed([encode_args(args, self.encoder)])

    def pack_commands(self, commands: Any) -> Packed:
        enc = self.encoder
        return Packed([encode_args(tuple(args), enc) for args in commands])

    # -- reading -----------------------------------------------------------------------

    def can_read(self, timeout: float | None = 0) -> bool:
        s = self._session
        if s is None or s.closed:
            if s is not None and s.out:
                return True
            self.connect()
            s = self._session
            assert s is not None
        if s.out:
            return True
        if timeout == 0:
            return False
        return self._wait(s, timeout, raise_on_timeout=False)

    def _wait(self, s: Session, timeout: float | None, raise_on_timeout: bool) -> bool:
        """Wait until ``s.out`` has something; False (or TimeoutError) when time runs out."""
        host = s.host
        clock = host.engine.clock
        end = None if timeout is None else time.monotonic() + timeout
        ev = self._event
        while True:
            s.waiting = True
            ev.clear()
            if s.out:
                s.waiting = False
                return True
            if s.closed:
                s.waiting = False
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
                s.waiting = False
                if raise_on_timeout:
                    raise TimeoutError(f"Timeout reading from {self._host_error()}")
                return False
            ev.wait(wait)
            s.waiting = False

    def read_response(self, disable_decoding: bool = False, *,
                      timeout: Any = SENTINEL, disconnect_on_error: bool = True,
                      push_request: bool = False) -> Any:
        s = self._session
        if s is None:
            raise ConnectionError(_CLOSED)
        out = s.out
        while True:
            if not out:
                t = self.socket_timeout if timeout is SENTINEL else timeout
                try:
                    self._wait(s, t, raise_on_timeout=True)
                except BaseException:  # as over a socket: a broken read drops the connection
                    if disconnect_on_error:
                        self.disconnect()
                    raise
            value = out.popleft()
            enc = self.encoder
            if type(value) is bytes and (disable_decoding or not enc.decode_responses):
                # a bulk string kept as bytes: what convert() would give, and no error
                if self.health_check_interval:
                    self.next_health_check = time.monotonic() + self.health_check_interval  # type: ignore[assignment]
                return value
            c = s.client
            try:
                r = convert(value, c.protocol,
                            None if disable_decoding or not enc.decode_responses else enc.encoding,
                            enc.encoding_errors)
            except UnicodeDecodeError:
                if disconnect_on_error:
                    self.disconnect()
                raise
            if type(r) is PushReply:
                r = self._parser.handle_push_response(list(r))
                if push_request:
                    return r
                continue
            if self.health_check_interval:
                self.next_health_check = time.monotonic() + self.health_check_interval  # type: ignore[assignment]
            err = raised_by(r)
            if err is not None:
                if isinstance(err, ConnectionError) and disconnect_on_error:
                    self.disconnect()
                raise err
            return r


class EmbeddedConnectionPool(HostHold, ConnectionPool):
    """redis-py's pool of ``EmbeddedConnection``s on one host.

    The pool holds its host open while it is open: a data directory stays loaded
    and locked until the last pool on it is closed (``Redis.close()``); a later
    command reopens it.
    """

    OMIT_REPR_KEYS = ConnectionPool.OMIT_REPR_KEYS | {"pool", "embedded"}

    def __init__(self, embedded: Host, *, spec: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
        self._init_hold(embedded, spec)
        super().__init__(connection_class=EmbeddedConnection, embedded=embedded, **kwargs)
        self.connection_kwargs["pool"] = self
        self._hold()

    def get_connection(self, command_name: Any = None, *keys: Any, **options: Any) -> Any:
        if self.pid != host_mod.PID:
            self._checkpid()
        if not self._held or self._host.closed:
            self.current_host()
        try:
            conn = self._available_connections.pop()
        except IndexError:
            with self._lock:
                conn = self.make_connection()
        self._in_use_connections.add(conn)
        s = conn._session
        if s is None or s.closed or s.out or s.blocked:
            try:
                if s is not None:  # unread output or a blocked command: start afresh
                    conn.disconnect()
                conn.connect()
            except BaseException:
                self.release(conn)
                raise
        return conn

    def make_connection(self) -> Any:
        if self._created_connections >= self.max_connections:
            from redis.exceptions import MaxConnectionsError

            raise MaxConnectionsError("Too many connections")
        self._created_connections += 1
        kwargs = dict(self.connection_kwargs)
        kwargs["embedded"] = self._host
        return self.connection_class(**kwargs)

    def release(self, connection: Any) -> None:
        if self.pid != host_mod.PID:
            self._checkpid()
        try:
            self._in_use_connections.remove(connection)
        except KeyError:
            return
        if connection.pid != self.pid:
            connection.disconnect()
            with self._lock:
                self._created_connections -= 1
            return
        if connection._should_reconnect:
            connection.disconnect()
        self._available_connections.append(connection)

    def disconnect(self, inuse_connections: bool = True) -> None:
        super().disconnect(inuse_connections)
        if inuse_connections:
            self._unhold()

    def close(self) -> None:
        self.disconnect()
