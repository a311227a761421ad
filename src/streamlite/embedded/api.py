"""The public entry points: ``connect``, ``connect_async``, ``from_url``, ``Embedded``."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, unquote

import redis
import redis.asyncio

from ..cluster_url import cluster_client, cluster_client_async, is_cluster_url
from ..engine.clock import Clock
from ..engine.core import Engine
from .aio import AsyncEmbeddedConnectionPool
from .client import AsyncEmbeddedRedis, EmbeddedRedis
from .host import Host, hold_or_reopen, host_of, open_host, split_persistence_options
from .lockfile import DirectoryLocked
from .sync import EmbeddedConnectionPool

SCHEME = "streamlite://"

# redis.Redis(...) arguments that only make sense for a socket: accepted and ignored,
# so configuration written for redis:// keeps working.
_SOCKET_ONLY = ("host", "port", "unix_socket_path", "socket_connect_timeout",
                "socket_keepalive", "socket_keepalive_options", "ssl")


class Embedded:
    """A handle on an embedded engine, for more than ``connect()`` gives.

    ``Embedded(path)`` opens the data directory (or shares the process's open
    host for it); ``Embedded()`` is a fresh in-memory engine, and
    ``Embedded(engine=e)`` wraps an existing ``Engine``. Make clients with
    ``client()`` / ``async_client()``; several clients, threads and tasks share it.
    The engine stays open while the handle or any of its clients is open:
    ``close()`` (or leaving a ``with`` block) gives up the handle's hold and flushes.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 engine: Engine | Embedded | Host | None = None, clock: Clock | None = None,
                 **persistence_options: Any) -> None:
        if path is not None and engine is not None:
            raise TypeError("give a path or an engine, not both")
        self._spec: tuple[str, dict[str, Any]] | None = None
        if path is not None:
            p = os.fspath(path)
            self._spec = (p, persistence_options)
            self._host = open_host(p, persistence_options, clock=clock)
        else:
            if persistence_options:
                raise TypeError(
                    f"persistence options {sorted(persistence_options)} need a data directory"
                )
            self._host = _host_of(engine, clock)
        self._host = hold_or_reopen(self._host, self._spec, clock)
        self._closed = False

    @property
    def engine(self) -> Engine:
        return self._host.engine

    @property
    def host(self) -> Host:
        return self._host

    @property
    def lock(self) -> Any:
        """The lock every command of this engine runs under (take it to run the engine
        directly from Python alongside clients)."""
        return self._host.lock

    @property
    def path(self) -> str | None:
        return self._host.path

    def client(self, **redis_kwargs: Any) -> redis.Redis:
        """A ``redis.Redis`` on this engine (``decode_responses``, ``protocol``, ``db``...)."""
        return _sync_client(self._current(), self._spec, redis_kwargs)

    def async_client(self, **redis_kwargs: Any) -> redis.asyncio.Redis:
        """A ``redis.asyncio.Redis`` on this engine."""
        return _async_client(self._current(), self._spec, redis_kwargs)

    def _current(self) -> Host:
        if self._closed:
            raise ValueError("this Embedded handle is closed")
        return self._host

    def flush(self) -> None:
        """Write and fsync everything acknowledged so far (a no-op in memory)."""
        self._host.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._host.flush()
        self._host.release()

    def __enter__(self) -> Embedded:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<streamlite.Embedded {self._host.path or 'in memory'}>"


def _host_of(engine: Engine | Embedded | Host | None, clock: Clock | None) -> Host:
    if engine is None:
        return Host(clock=clock)
    if isinstance(engine, Embedded):
        return engine.host
    if isinstance(engine, Host):
        return engine
    if isinstance(engine, Engine):
        h = host_of(engine)
        if h is not None:
            return h
        return Host(engine=engine)
    raise TypeError(f"engine must be an Engine or Embedded, not {type(engine).__name__}")


def _clean_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    kw = dict(kwargs)
    for k in list(kw):
        if k in _SOCKET_ONLY or k.startswith("ssl_"):
            del kw[k]
    kw.pop("connection_pool", None)
    kw.pop("connection_class", None)
    return kw


# An embedded connection costs a session object, no socket: the pool may hold many
# (every blocked reader holds one), far more than redis-py's default of 100.
DEFAULT_MAX_CONNECTIONS = 10_000


def _sync_client(host: Host, spec: Any, redis_kwargs: dict[str, Any]) -> redis.Redis:
    kw = _clean_kwargs(redis_kwargs)
    kw["max_connections"] = kw.get("max_connections") or DEFAULT_MAX_CONNECTIONS
    single = kw.pop("single_connection_client", False)
    kw.setdefault("retry", None)
    pool = EmbeddedConnectionPool(host, spec=spec, **kw)
    client = EmbeddedRedis(connection_pool=pool, single_connection_client=single)
    client.auto_close_connection_pool = True
    return client


def _async_client(host: Host, spec: Any, redis_kwargs: dict[str, Any]) -> redis.asyncio.Redis:
    kw = _clean_kwargs(redis_kwargs)
    kw["max_connections"] = kw.get("max_connections") or DEFAULT_MAX_CONNECTIONS
    single = kw.pop("single_connection_client", False)
    kw.setdefault("retry", None)
    pool = AsyncEmbeddedConnectionPool(host, spec=spec, **kw)
    client = AsyncEmbeddedRedis(connection_pool=pool, single_connection_client=single)
    client.auto_close_connection_pool = True
    return client


class _Held(Exception):
    """``_open``: another process owns the directory (attach to it)."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        self.path = path
        self.options = options


def _open(path: Any, engine: Any, clock: Clock | None,
          kwargs: dict[str, Any]) -> tuple[Host, Any, dict[str, Any]]:
    popts = split_persistence_options(kwargs)
    if path is not None:
        if engine is not None:
            raise TypeError("give a path or an engine, not both")
        p = os.fspath(path)
        try:
            return open_host(p, popts, clock=clock), (p, popts), kwargs
        except DirectoryLocked:
            raise _Held(p, popts) from None
    if popts:
        raise TypeError(f"persistence options {sorted(popts)} need a data directory")
    return _host_of(engine, clock), None, kwargs


def _attached_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], float, bool]:
    from .attach import ATTACH_TIMEOUT

    kw = _clean_kwargs(kwargs)
    timeout = float(kw.pop("attach_timeout", ATTACH_TIMEOUT))
    single = bool(kw.pop("single_connection_client", False))
    kw.pop("retry", None)  # only commands that never left are sent again (remote.py)
    return kw, timeout, single


def _attached_sync(held: _Held, kwargs: dict[str, Any]) -> redis.Redis:
    from .remote import AttachedConnectionPool, AttachedRedis

    kw, timeout, single = _attached_kwargs(kwargs)
    pool = AttachedConnectionPool(held.path, held.options, attach_timeout=timeout, **kw)
    client = AttachedRedis(connection_pool=pool, single_connection_client=single)
    client.auto_close_connection_pool = True
    return client


def _attached_async(held: _Held, kwargs: dict[str, Any]) -> redis.asyncio.Redis:
    from .remote import AsyncAttachedConnectionPool, AsyncAttachedRedis

    kw, timeout, single = _attached_kwargs(kwargs)
    pool = AsyncAttachedConnectionPool(held.path, held.options, attach_timeout=timeout, **kw)
    client = AsyncAttachedRedis(connection_pool=pool, single_connection_client=single)
    client.auto_close_connection_pool = True
    return client


def connect(path: str | os.PathLike[str] | None = None, *,
            engine: Engine | Embedded | None = None, clock: Clock | None = None,
            **redis_kwargs: Any) -> redis.Redis:
    """A ``redis.Redis`` client on streamlite's engine.

    ``path`` is a data directory: the data survives restarts (AOF, ``appendfsync
    everysec`` unless ``appendfsync=`` says otherwise; other Redis persistence
    options such as ``appendonly=False``, ``save="60 1000"`` also apply). Every
    ``connect(path)`` of the process shares one engine per directory. When another
    process owns the directory (an application, ``streamlite server --dir``), the
    client attaches to it through the directory's socket instead (the same API;
    ``attach_timeout=`` seconds to wait for an owner, default 60), and takes the
    directory over if that process dies. Without a path the client gets a
    fresh in-memory engine of its own, unless ``engine=`` (an ``Embedded`` or
    ``Engine``) is shared. Other keyword arguments go to ``redis.Redis``.
    """
    kw = dict(redis_kwargs)
    try:
        host, spec, kw = _open(path, engine, clock, kw)
    except _Held as held:
        return _attached_sync(held, kw)
    kw.pop("attach_timeout", None)
    return _sync_client(host, spec, kw)


def connect_async(path: str | os.PathLike[str] | None = None, *,
                  engine: Engine | Embedded | None = None, clock: Clock | None = None,
                  **redis_kwargs: Any) -> redis.asyncio.Redis:
    """Like ``connect``, returning a ``redis.asyncio.Redis``."""
    kw = dict(redis_kwargs)
    try:
        host, spec, kw = _open(path, engine, clock, kw)
    except _Held as held:
        return _attached_async(held, kw)
    kw.pop("attach_timeout", None)
    return _async_client(host, spec, kw)


def is_attached(client: Any) -> bool:
    """True if ``client`` talks to a data directory another process owned when it was
    made (through the directory's socket), False if it runs the engine in process."""
    from .remote import is_attached as _is

    return _is(client)


# -- URLs ------------------------------------------------------------------------------


def _bool(v: str) -> bool:
    s = v.strip().lower()
    if s in ("1", "yes", "true", "on", "y"):
        return True
    if s in ("0", "no", "false", "off", "n", ""):
        return False
    raise ValueError(f"not a boolean: {v!r}")


_QUERY_TYPES: dict[str, Any] = {
    "db": int,
    "protocol": int,
    "decode_responses": _bool,
    "socket_timeout": float,
    "health_check_interval": int,
    "max_connections": int,
    "single_connection_client": _bool,
    "attach_timeout": float,
}


def parse_url(url: str) -> tuple[str | None, dict[str, Any]]:
    """``streamlite:///abs/dir``, ``streamlite:///./rel/dir``, ``streamlite://`` (memory)
    -> (path or None, keyword arguments from the query string)."""
    if not url.startswith(SCHEME):
        raise ValueError(f"not a streamlite URL: {url!r}")
    rest = url[len(SCHEME):]
    rest, _, query = rest.partition("?")
    rest = unquote(rest)
    path: str | None
    if not rest:
        path = None
    elif rest.startswith(("/./", "/../")) or rest in ("/.", "/.."):
        path = rest[1:]
    else:
        path = rest  # '/abs/dir', or 'rel/dir' for streamlite://rel/dir
    kwargs: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        name = name.replace("-", "_") if name.replace("-", "_") in _QUERY_TYPES else name
        conv = _QUERY_TYPES.get(name)
        try:
            kwargs[name] = conv(value) if conv else value
        except ValueError:
            raise ValueError(f"Invalid value for '{name}' in streamlite URL.") from None
    return path, kwargs


def from_url(url: str, **kwargs: Any) -> redis.Redis:
    """A client from a URL: ``streamlite://...`` runs in process, ``redis://``,
    ``rediss://`` and ``unix://`` go to ``redis.from_url``, ``redis+cluster://`` and
    ``rediss+cluster://`` to redis-py's ``RedisCluster``; so one setting switches an
    application between embedded streamlite, a Redis server and a Redis Cluster."""
    if is_cluster_url(url):
        return cluster_client(url, **kwargs)  # type: ignore[no-any-return]
    if not url.startswith(SCHEME):
        return redis.from_url(url, **kwargs)
    path, q = parse_url(url)
    kwargs.update(q)  # the URL wins, as in redis-py
    return connect(path, **kwargs)


def from_url_async(url: str, **kwargs: Any) -> redis.asyncio.Redis:
    """``from_url`` for ``redis.asyncio``."""
    if is_cluster_url(url):
        return cluster_client_async(url, **kwargs)  # type: ignore[no-any-return]
    if not url.startswith(SCHEME):
        return redis.asyncio.from_url(url, **kwargs)
    path, q = parse_url(url)
    kwargs.update(q)
    return connect_async(path, **kwargs)
