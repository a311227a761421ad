"""Riding out failover: which errors pass, how long a write keeps trying, and waiting for
replicas.

When a Redis Cluster master dies, its slots are unavailable until a replica is promoted
(``cluster-node-timeout`` plus an election: seconds). Meanwhile commands fail with
connection errors, ``CLUSTERDOWN``, ``TRYAGAIN``, ``MOVED``/``ASK`` once the slots moved,
or ``READONLY`` from a demoted master. :data:`TRANSIENT` lists these: the framework's
readers, claimers and ackers wait and try again on them instead of stopping.

A write that must get through uses :class:`WriteRetry`: it is tried again with
exponential backoff (``backoff_ms`` doubling up to ``max_backoff_ms``) until it succeeds
or ``timeout_s`` has passed since the first attempt; then the last error is raised. A
retried write must be idempotent: a write whose reply was lost may have been applied.
The producer makes each retried publish idempotent (see :mod:`.producer`).

Replication is asynchronous: a master acknowledges a write before its replicas have it,
and a master that dies in that moment loses it even though the client was told it
succeeded. :class:`ReplicaWait` closes that window for the writes that matter: it sends
``WAIT <replicas> <timeout>`` after the write, on the same connection (``WAIT`` counts the
writes of the connection it is sent on, so on a cluster it goes to the key's master on the
connection that carried the write), and raises :class:`NotReplicated` when fewer replicas
than asked acknowledged in time. A promoted replica has every write that was
acknowledged this way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.exceptions import (
    AskError,
    ClusterError,
    ReadOnlyError,
    RedisClusterUnreachableError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .connection import is_cluster

log = logging.getLogger("streamlite.events.failover")

T = TypeVar("T")

# errors a failover (or a slot migration) produces: worth waiting out
TRANSIENT = (
    RedisConnectionError, RedisTimeoutError, OSError,
    ClusterError,              # CLUSTERDOWN, MASTERDOWN, redis-py's "TTL exhausted"
    TryAgainError, AskError,   # TRYAGAIN; ASK and MOVED (AskError's subclass)
    ReadOnlyError,             # a master that was demoted to replica
    SlotNotCoveredError, RedisClusterUnreachableError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TRANSIENT):
        return True
    # a cluster script can fail this way while its slot moves (as -MOVED would)
    return isinstance(exc, ResponseError) and "non local key" in str(exc)


@dataclass(frozen=True)
class WriteRetry:
    """A bounded retry for writes: tried again on :data:`TRANSIENT` errors with
    exponential backoff, until ``timeout_s`` after the first attempt."""

    timeout_s: float = 30.0
    backoff_ms: int = 50
    max_backoff_ms: int = 2_000

    def delays(self) -> Iterator[float]:
        """Seconds to sleep before each retry, as long as the deadline allows one."""
        deadline = time.monotonic() + self.timeout_s
        delay = self.backoff_ms / 1000
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            yield min(delay, left)
            delay = min(delay * 2, self.max_backoff_ms / 1000)


NO_RETRY = WriteRetry(timeout_s=0)
DEFAULT: Any = object()  # "the default policy": a WriteRetry() on a cluster client, else none


def resolve_retry(retry: Any, client: Any) -> WriteRetry | None:
    """``retry`` as given, or for :data:`DEFAULT` the default for ``client``: writes are
    retried through failover on Redis Cluster; a single server has no failover to ride
    out, so there a lost connection is reported at once (as before)."""
    if retry is DEFAULT:
        return WriteRetry() if is_cluster(client) else None
    return retry  # type: ignore[no-any-return]


def retry_sync(policy: WriteRetry | None, fn: Callable[[], T], what: str = "write") -> T:
    delays = (policy or NO_RETRY).delays()
    while True:
        try:
            return fn()
        except Exception as e:
            if not is_transient(e):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            log.warning("%s failed: %s (retrying in %.2fs)", what, e, delay)
            time.sleep(delay)


async def retry_async(policy: WriteRetry | None, fn: Callable[[], Awaitable[T]],
                      what: str = "write") -> T:
    delays = (policy or NO_RETRY).delays()
    while True:
        try:
            return await fn()
        except Exception as e:
            if not is_transient(e):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            log.warning("%s failed: %s (retrying in %.2fs)", what, e, delay)
            await asyncio.sleep(delay)


class NotReplicated(RedisConnectionError):
    """Fewer replicas than asked acknowledged a write in time. The write happened on the
    master; a failover now could lose it. A :class:`WriteRetry` tries again (the writes
    that wait are idempotent)."""


def _check(acked: Any, want: int, key: Any) -> None:
    if int(acked) < want:
        raise NotReplicated(f"WAIT: {int(acked)} of {want} replicas acknowledged the write "
                            f"to {key!r} in time")


class ReplicaWait:
    """Run writes to one key's slot, then ``WAIT`` on the same connection (sync)."""

    def __init__(self, client: Any, replicas: int, timeout_ms: int = 1_000) -> None:
        self.client = client
        self.replicas = replicas
        self.timeout_ms = timeout_ms

    def _pipeline(self, key: Any) -> Any:
        if not is_cluster(self.client):
            return self.client.pipeline(transaction=False)
        node = self.client.get_node_from_key(key)
        return self.client.get_redis_connection(node).pipeline(transaction=False)

    def run(self, key: Any, build: Callable[[Any], None]) -> list[Any]:
        """``build(pipe)`` queues the writes (all in ``key``'s slot); their replies."""
        try:
            pipe = self._pipeline(key)
            build(pipe)
            pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
            *replies, acked = pipe.execute()
        except Exception as e:
            if is_cluster(self.client) and is_transient(e):
                # this path bypasses the cluster client's routing: let it find the slot's
                # master again (it follows MOVED and refreshes after connection errors)
                with contextlib.suppress(Exception):
                    self.client.exists(key)
            raise
        _check(acked, self.replicas, key)
        return replies


class AsyncReplicaWait:
    """:class:`ReplicaWait` for asyncio clients."""

    def __init__(self, client: Any, replicas: int, timeout_ms: int = 1_000) -> None:
        self.client = client
        self.replicas = replicas
        self.timeout_ms = timeout_ms
        self._nodes: dict[str, Any] = {}  # node name -> a plain client to that master

    def _node_client(self, key: Any) -> Any:
        import redis.asyncio as aioredis

        node = self.client.get_node_from_key(key)
        c = self._nodes.get(node.name)
        if c is None:
            pool = aioredis.ConnectionPool(connection_class=node.connection_class,
                                           **node.connection_kwargs)
            c = self._nodes[node.name] = aioredis.Redis(connection_pool=pool)
        return c

    async def run(self, key: Any, build: Callable[[Any], Awaitable[None] | None]) -> list[Any]:
        cluster = is_cluster(self.client)
        try:
            if cluster:
                await self.client.initialize()  # a no-op once the routes are known
                pipe = self._node_client(key).pipeline(transaction=False)
            else:
                pipe = self.client.pipeline(transaction=False)
            res = build(pipe)
            if asyncio.iscoroutine(res):
                await res
            pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
            *replies, acked = await pipe.execute()
        except Exception as e:
            if cluster and is_transient(e):  # see ReplicaWait.run
                with contextlib.suppress(Exception):
                    await self.client.exists(key)
            raise
        _check(acked, self.replicas, key)
        return replies

    async def aclose(self) -> None:
        nodes, self._nodes = self._nodes, {}
        for c in nodes.values():
            await c.aclose()
