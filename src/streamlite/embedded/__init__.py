"""streamlite inside your Python process, through redis-py's own API.

    import streamlite

    r = streamlite.connect("/var/lib/myapp")        # a redis.Redis, durable on disk
    r = streamlite.connect()                        # in memory, private
    r = streamlite.from_url("streamlite:///var/lib/myapp?appendfsync=always")
    r = streamlite.from_url("redis://localhost:6379")   # the same code on Redis
    ar = streamlite.connect_async("/var/lib/myapp")  # a redis.asyncio.Redis

The modules: ``api`` (entry points, URLs), ``host`` (the engine, its lock,
persistence, blocking and background work, one per directory), ``session`` (a
connection's state in the engine), ``sync`` / ``aio`` (redis-py connection and
pool classes), ``convert`` (reply values as redis-py's parser gives them),
``handshake`` (what redis-py does on connect), ``lockfile`` (one owner per
directory), ``front`` (CLIENT LIST/KILL/UNBLOCK), ``served`` (the same engine over
the directory's Unix socket and TCP), ``attach`` (reaching, or taking over, the owner
of a directory another process holds) and ``remote`` (redis-py clients over the
owner's socket).
"""

from .aio import AsyncEmbeddedConnection, AsyncEmbeddedConnectionPool
from .api import (
    Embedded,
    connect,
    connect_async,
    from_url,
    from_url_async,
    is_attached,
    parse_url,
)
from .host import EngineClosed, Host
from .lockfile import DirectoryLocked
from .served import ServedEngine, serve
from .sync import EmbeddedConnection, EmbeddedConnectionPool

__all__ = [
    "AsyncEmbeddedConnection",
    "AsyncEmbeddedConnectionPool",
    "DirectoryLocked",
    "Embedded",
    "EmbeddedConnection",
    "EmbeddedConnectionPool",
    "EngineClosed",
    "Host",
    "ServedEngine",
    "connect",
    "connect_async",
    "from_url",
    "from_url_async",
    "is_attached",
    "parse_url",
    "serve",
]
