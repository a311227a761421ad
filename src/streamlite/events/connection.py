"""Clients from URLs: ``redis://`` / ``rediss://`` / ``unix://`` for a server (Redis or the
streamlite server), ``redis+cluster://host:port[,host:port...]`` (``rediss+cluster://``)
for a Redis Cluster (redis-py's cluster clients, see :mod:`streamlite.cluster_url`),
``streamlite:///path`` for the embedded engine (which attaches to the process that owns
the directory, if another one does).

Which URL a command line uses: ``streamlite.urls``.

The framework talks to every backend through redis-py only, with ``decode_responses``
off (payloads may be binary). A client passed in by the user must be configured the same
way; :func:`check_client` says so plainly when it is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import redis
import redis.asyncio as aioredis

from streamlite.cluster_url import cluster_client, cluster_client_async, is_cluster_url


class EmbeddedUnavailable(RuntimeError):
    """``streamlite://`` was asked for but this build has no embedded mode."""


def _embedded(url: str, asyncio: bool) -> Any:
    import streamlite

    name = "from_url_async" if asyncio else "from_url"
    try:
        factory = getattr(streamlite, name)
    except AttributeError:
        raise EmbeddedUnavailable(
            f"this streamlite build has no embedded mode (streamlite.{name})") from None
    return factory(url, decode_responses=False)


SCHEMES = ("streamlite://", "redis://", "rediss://", "unix://", "redis+cluster://",
           "rediss+cluster://")


class BadUrl(ValueError):
    """A URL none of the clients takes: the message lists the schemes that work."""


def check_url(url: str) -> None:
    """Refuse a URL with a scheme no client takes (redis-py's own message lists only its
    three schemes, not ``streamlite://`` or the cluster ones)."""
    scheme, sep, _ = url.partition(":")
    if not sep or f"{scheme.lower()}://" not in SCHEMES:
        raise BadUrl(f"{url!r} is not a URL streamlite can use: it must start with one of "
                     f"{', '.join(SCHEMES)} (e.g. streamlite:///./data or "
                     "redis://127.0.0.1:6379/0)")


def connect(url: str, **kwargs: Any) -> redis.Redis:
    """A sync redis-py client for ``url``."""
    check_url(url)
    if url.startswith("streamlite:"):
        return _embedded(url, asyncio=False)  # type: ignore[no-any-return]
    kwargs.setdefault("decode_responses", False)
    if is_cluster_url(url):
        return cluster_client(url, **kwargs)  # type: ignore[no-any-return]
    return redis.Redis.from_url(url, **kwargs)


def connect_async(url: str, **kwargs: Any) -> aioredis.Redis:
    """An asyncio redis-py client for ``url``."""
    check_url(url)
    if url.startswith("streamlite:"):
        return _embedded(url, asyncio=True)  # type: ignore[no-any-return]
    kwargs.setdefault("decode_responses", False)
    if is_cluster_url(url):
        return cluster_client_async(url, **kwargs)  # type: ignore[no-any-return]
    return aioredis.Redis.from_url(url, **kwargs)


def is_cluster(client: Any) -> bool:
    """Whether ``client`` is one of redis-py's Redis Cluster clients (sync or asyncio)."""
    return hasattr(client, "get_nodes") and hasattr(client, "get_node_from_key")


def check_client(client: Any) -> None:
    try:
        kw = client.get_connection_kwargs()
    except AttributeError:
        kw = getattr(client, "connection_kwargs", None)
        if not isinstance(kw, dict):
            return
    if kw.get("decode_responses"):
        raise ValueError("streamlite.events needs a client with decode_responses=False "
                         "(payloads are bytes); create it with streamlite.events.connect()")


CLUSTER_HINT = ("{what} is a node of a Redis Cluster, and a client for one server sees "
                "only that node's keys: use a cluster URL, redis+cluster://host:port"
                "[,host:port...]")


def cluster_node_problem(info: Any, what: str = "the server") -> str | None:
    """The message for a single-server client connected to a cluster node (``info``:
    the client's ``INFO cluster``), else None."""
    try:
        enabled = int((info or {}).get("cluster_enabled", 0))
    except (TypeError, ValueError):
        return None
    return CLUSTER_HINT.format(what=what) if enabled else None


class ClusterNodeError(RuntimeError):
    """A client for one server was given a node of a Redis Cluster."""


async def check_not_cluster_node(client: Any) -> None:
    """Refuse (clearly) a single-server asyncio client pointed at a cluster node."""
    if is_cluster(client):
        return
    problem = cluster_node_problem(await client.info("cluster"))
    if problem:
        raise ClusterNodeError(problem)


def check_not_cluster_node_sync(client: Any) -> None:
    """:func:`check_not_cluster_node` for sync clients."""
    if is_cluster(client):
        return
    problem = cluster_node_problem(client.info("cluster"))
    if problem:
        raise ClusterNodeError(problem)


def scan_keys(client: Any, *, match: str | None = None, _type: str | None = None,
              count: int = 1000) -> Iterator[bytes]:
    """Every key (of ``_type``, matching ``match``) of a sync client: on Redis Cluster,
    of every primary, each scanned on its own (a SCAN cursor belongs to one node)."""
    if not is_cluster(client):
        yield from client.scan_iter(match=match, _type=_type, count=count)
        return
    for node in client.get_primaries():
        yield from client.get_redis_connection(node).scan_iter(match=match, _type=_type,
                                                               count=count)
