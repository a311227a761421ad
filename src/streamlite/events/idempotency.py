"""Exactly-once effects on top of at-least-once delivery: a processed-ID store.

A message can be delivered more than once (a worker dies after its handler's effect but
before the XACK; a slow handler's message is reclaimed). Guard effects with a marker key
per (scope, id) kept with a TTL::

    SET idem:{<scope>:<id>} "inflight:<owner>" NX PX <lock_ms>   -> we own the work
        ... run the effect ...
    SET idem:{<scope>:<id>} "done" PX <ttl_ms>                   -> later deliveries skip it
    (on failure) DEL the marker if still ours                    -> a retry may run it again

Each marker is a key of its own, hashed on scope and id together, so on Redis Cluster the
markers of one scope (a consumer group) spread over every slot instead of loading one.

A delivery that finds ``done`` skips the effect (and the message is acked); one that finds
another owner's ``inflight`` marker raises :class:`InFlightElsewhere`, which the worker
treats as a retry (the other owner either finishes, or dies and its lock expires).
The effect itself should be idempotent or transactional for the window between its
completion and the ``done`` marker (the same window every processed-ID store has).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis
import redis.asyncio as aioredis

from .failover import AsyncReplicaWait, ReplicaWait, WriteRetry, retry_async, retry_sync

T = TypeVar("T")

# KEYS[1] marker; ARGV[1] owner token: delete the marker only if it is still ours
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

DONE = b"done"


class AlreadyProcessed(Exception):
    """The effect for this ID was already done (returned by ``run`` as a sentinel)."""


class InFlightElsewhere(Exception):
    """Another worker holds this ID's lock right now: retry later."""


SKIPPED: Any = AlreadyProcessed  # what run()/arun() return when the effect was done before


class _Base:
    def __init__(self, prefix: str = "idem", ttl_ms: int = 86_400_000,
                 lock_ms: int = 60_000, retry: WriteRetry | None = None,
                 wait_replicas: int = 0, wait_timeout_ms: int = 1_000) -> None:
        self.prefix = prefix
        self.ttl_ms = ttl_ms
        self.lock_ms = lock_ms
        self.retry = retry
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        self.owner = f"inflight:{os.getpid()}:{uuid.uuid4().hex[:12]}"

    def key(self, scope: str, ident: str) -> str:
        # scope and id together are the hash tag: markers spread over the cluster's slots
        return f"{self.prefix}:{{{scope}:{ident}}}"

    def token(self) -> str:
        """The owner value of one run (unique, so a retried acquire recognises its own)."""
        return f"{self.owner}:{uuid.uuid4().hex[:8]}"

    @staticmethod
    def outcome(prev: Any, token: str, key: str) -> bool:
        """After ``SET key token NX GET``: True when this run owns the work, False when
        it was done before; raises :class:`InFlightElsewhere` when another run holds it."""
        if prev is None or _b(prev) == token.encode():
            return True
        if _b(prev) == DONE:
            return False
        raise InFlightElsewhere(key)


def _b(v: Any) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


class Idempotency(_Base):
    """Processed-ID store for synchronous code. ``retry`` (a :class:`~.failover.WriteRetry`)
    carries its writes through a failover; ``wait_replicas`` makes the ``done`` marker
    wait for that many replicas, so a failover cannot forget that the effect ran."""

    def __init__(self, client: redis.Redis, **kw: Any) -> None:
        super().__init__(**kw)
        self.redis = client
        self._release = client.register_script(RELEASE_LUA)
        self._wait = ReplicaWait(client, self.wait_replicas, self.wait_timeout_ms) \
            if self.wait_replicas > 0 else None

    def is_done(self, scope: str, ident: str) -> bool:
        return retry_sync(self.retry, lambda: self.redis.get(self.key(scope, ident))) == DONE

    def run(self, scope: str, ident: str, fn: Callable[[], T]) -> T | Any:
        """Run ``fn`` once per (scope, ident); returns its result or :data:`SKIPPED`."""
        k, token = self.key(scope, ident), self.token()
        prev = retry_sync(self.retry, lambda: self.redis.set(k, token, nx=True,
                                                             px=self.lock_ms, get=True))
        if not self.outcome(prev, token, k):
            return SKIPPED
        try:
            result = fn()
        except BaseException:
            retry_sync(self.retry, lambda: self._release(keys=[k], args=[token]))
            raise
        retry_sync(self.retry, lambda: self._mark_done(k), "idempotency marker")
        return result

    def _mark_done(self, k: str) -> None:
        if self._wait is None:
            self.redis.set(k, DONE, px=self.ttl_ms)
        else:
            self._wait.run(k, lambda p: p.set(k, DONE, px=self.ttl_ms))


class AsyncIdempotency(_Base):
    """Processed-ID store for asyncio code (same options as :class:`Idempotency`)."""

    def __init__(self, client: aioredis.Redis, **kw: Any) -> None:
        super().__init__(**kw)
        self.redis = client
        self._release = client.register_script(RELEASE_LUA)
        self._wait = AsyncReplicaWait(client, self.wait_replicas, self.wait_timeout_ms) \
            if self.wait_replicas > 0 else None

    async def is_done(self, scope: str, ident: str) -> bool:
        v = await retry_async(self.retry, lambda: self.redis.get(self.key(scope, ident)))
        return bool(v == DONE)

    async def run(self, scope: str, ident: str, fn: Callable[[], Awaitable[T]]) -> T | Any:
        k, token = self.key(scope, ident), self.token()
        prev = await retry_async(self.retry, lambda: self.redis.set(
            k, token, nx=True, px=self.lock_ms, get=True))
        if not self.outcome(prev, token, k):
            return SKIPPED
        try:
            result = await fn()
        except BaseException:
            await retry_async(self.retry, lambda: self._release(keys=[k], args=[token]))
            raise
        await retry_async(self.retry, lambda: self._mark_done(k), "idempotency marker")
        return result

    async def _mark_done(self, k: str) -> None:
        if self._wait is None:
            await self.redis.set(k, DONE, px=self.ttl_ms)
        else:
            await self._wait.run(k, lambda p: p.set(k, DONE, px=self.ttl_ms))

    async def aclose(self) -> None:
        if self._wait is not None:
            await self._wait.aclose()
