"""``redis+cluster://`` URLs: a Redis Cluster given by one or more seed nodes.

::

    redis+cluster://[user:password@]host:port[,host:port...][?option=value&...]
    rediss+cluster://...            (the same over TLS)

redis-py's own URL parser knows one host per URL and nothing of clusters, so this module
splits the seed nodes off and lets redis-py parse the rest (user, password and the
query options such as ``socket_timeout``, with redis-py's own types), then builds
redis-py's cluster clients: :class:`redis.cluster.RedisCluster` (sync) and
:class:`redis.asyncio.cluster.RedisCluster`. A port defaults to 6379; IPv6 hosts are
written in brackets (``[::1]:7000``). A cluster has one database, so a path other than
``/`` or ``/0`` is refused.

Every entry point that takes a URL (``streamlite.events`` App and Producer, every CLI
``--url``, ``streamlite run --url``, ``streamlite.from_url``) dispatches here when
:func:`is_cluster_url` says so.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

SCHEMES = ("redis+cluster", "rediss+cluster")
DEFAULT_PORT = 6379


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in SCHEMES if "://" in url else False


def _split_node(text: str, url: str) -> tuple[str, int]:
    part = urlsplit("//" + text)
    try:
        host, port = part.hostname, part.port
    except ValueError as e:  # a port that is not a number, or out of range
        raise ValueError(f"bad seed node {text!r} in {url!r}: {e}") from None
    if not host or part.username is not None or part.path:
        raise ValueError(f"bad seed node {text!r} in {url!r} (host:port expected)")
    return host, port if port is not None else DEFAULT_PORT


def parse_cluster_url(url: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """(seed nodes, keyword arguments for redis-py's RedisCluster) of a cluster URL."""
    from redis.connection import SSLConnection, parse_url

    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ValueError(f"not a Redis Cluster URL: {url!r} "
                         "(redis+cluster://host:port[,host:port...])")
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0),
              default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    userinfo, at, hosts = netloc.rpartition("@")
    nodes = [_split_node(h.strip(), url) for h in hosts.split(",") if h.strip()]
    if not nodes:
        raise ValueError(f"no seed node in {url!r} (redis+cluster://host:port[,host:port...])")
    single = "rediss" if scheme.lower().startswith("rediss") else "redis"
    host, port = nodes[0]
    shown = f"[{host}]" if ":" in host else host
    kwargs = parse_url(f"{single}://{userinfo}{at}{shown}:{port}{tail}")
    for k in ("host", "port"):
        kwargs.pop(k, None)
    if kwargs.pop("db", 0) != 0:
        raise ValueError(f"a Redis Cluster has one database (0): {url!r}")
    if kwargs.pop("connection_class", None) is SSLConnection:
        kwargs["ssl"] = True
    return nodes, kwargs


def cluster_client(url: str, **kwargs: Any) -> Any:
    """A sync :class:`redis.cluster.RedisCluster` for a cluster URL (the URL's options
    win over ``kwargs``, as with redis-py's ``from_url``)."""
    from redis.cluster import ClusterNode, RedisCluster

    nodes, opts = parse_cluster_url(url)
    kwargs.update(opts)
    return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in nodes], **kwargs)


def cluster_client_async(url: str, **kwargs: Any) -> Any:
    """An asyncio :class:`redis.asyncio.cluster.RedisCluster` for a cluster URL."""
    from redis.asyncio.cluster import ClusterNode, RedisCluster

    nodes, opts = parse_cluster_url(url)
    kwargs.update(opts)
    return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in nodes], **kwargs)
