"""``redis+cluster://`` URLs: parsing (seed nodes, credentials, options, TLS) and the
client each entry point builds (against the session's real cluster)."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

from streamlite.cluster_url import is_cluster_url, parse_cluster_url


def test_seed_nodes_credentials_and_options():
    nodes, kw = parse_cluster_url(
        "redis+cluster://app:s%40cret@10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002,node4"
        "?socket_timeout=2.5&max_connections=64")
    assert nodes == [("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002), ("node4", 6379)]
    assert kw == {"username": "app", "password": "s@cret", "socket_timeout": 2.5,
                  "max_connections": 64}


def test_tls_and_database():
    nodes, kw = parse_cluster_url("rediss+cluster://h:1/0?ssl_cert_reqs=none")
    assert nodes == [("h", 1)] and kw == {"ssl": True, "ssl_cert_reqs": "none"}
    assert parse_cluster_url("REDIS+CLUSTER://h:1/")[0] == [("h", 1)]


@pytest.mark.parametrize("url, why", [
    ("redis+cluster://", "no seed node"),
    ("redis+cluster://h:1/2", "one database"),
    ("redis+cluster://h:notaport", "bad seed node"),
    ("redis+cluster://h:1,:2", "bad seed node"),
    ("redis+cluster://h:1?socket_timeout=soon", "Invalid value"),
    ("redis://h:1", "not a Redis Cluster URL"),
])
def test_bad_urls_say_why(url, why):
    with pytest.raises(ValueError, match=why):
        parse_cluster_url(url)


def test_scheme_detection():
    assert is_cluster_url("redis+cluster://h:1") and is_cluster_url("rediss+cluster://h")
    assert not is_cluster_url("redis://h:1") and not is_cluster_url("streamlite:///d")
    assert not is_cluster_url("redis+clusterx://h")


def test_every_entry_point_builds_cluster_clients(redis_cluster):
    """connect/connect_async, streamlite.from_url/from_url_async and App: one URL with
    several seed nodes (one of them down: any reachable seed will do)."""
    import asyncio

    import streamlite
    from streamlite.events import App, connect, connect_async

    url = redis_cluster.url() + ",127.0.0.1:1"
    for c in (connect(url), streamlite.from_url(url)):
        assert isinstance(c, RedisCluster)
        c.set("k", "v")
        assert c.get("k") == b"v"
        assert len(c.get_primaries()) == 3
        c.close()

    async def check() -> None:
        for c in (connect_async(url), streamlite.from_url_async(url), App(url).redis):
            assert isinstance(c, AsyncRedisCluster)
            assert await c.get("k") == b"v"
            await c.aclose()

    asyncio.run(check())
