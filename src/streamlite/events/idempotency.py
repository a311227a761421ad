"""Exactly-once effects on top of at-least-once delivery: a processed-ID store.

A message can be delivered more than once (a worker dies after its handler's effect but
before the XACK; a slow handler's message is reclaimed). Guard effects with a marker key
per (scope, id) kept with a TTL::

    SET idem:<scope>:<id> "inflight:<owner>" NX PX <lock_ms>   -> we own the work
        ... run the effect ...
    SET idem:<scope>:<id> "done" PX <ttl_ms>                   -> later deliveries skip it
    (on failure) DEL the marker if still ours                  -> a retry may run it again

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
                 lock_ms: int = 60_000) -> None:
        self.prefix = prefix
        self.ttl_ms = ttl_ms
        self.lock_ms = lock_ms
        self.owner = f"inflight:{os.getpid()}:{uuid.uuid4().hex[:12]}"

    def key(self, scope: str, ident: str) -> str:
        # the scope is the hash tag: one scope's markers share a slot, scopes spread out
        return f"{self.prefix}:{{{scope}}}:{ident}"


class Idempotency(_Base):
    """Processed-ID store for synchronous code."""

    def __init__(self, client: redis.Redis, **kw: Any) -> None:
        super().__init__(**kw)
        self.redis = client
        self._release = client.register_script(RELEASE_LUA)

    def is_done(self, scope: str, ident: str) -> bool:
        return self.redis.get(self.key(scope, ident)) == DONE

    def run(self, scope: str, ident: str, fn: Callable[[], T]) -> T | Any:
        """Run ``fn`` once per (scope, ident); returns its result or :data:`SKIPPED`."""
        k = self.key(scope, ident)
        if not self.redis.set(k, self.owner, nx=True, px=self.lock_ms):
            if self.redis.get(k) == DONE:
                return SKIPPED
            raise InFlightElsewhere(k)
        try:
            result = fn()
        except BaseException:
            self._release(keys=[k], args=[self.owner])
            raise
        self.redis.set(k, DONE, px=self.ttl_ms)
        return result


class AsyncIdempotency(_Base):
    """Processed-ID store for asyncio code."""

    def __init__(self, client: aioredis.Redis, **kw: Any) -> None:
        super().__init__(**kw)
        self.redis = client
        self._release = client.register_script(RELEASE_LUA)

    async def is_done(self, scope: str, ident: str) -> bool:
        return bool(await self.redis.get(self.key(scope, ident)) == DONE)

    async def run(self, scope: str, ident: str, fn: Callable[[], Awaitable[T]]) -> T | Any:
        k = self.key(scope, ident)
        if not await self.redis.set(k, self.owner, nx=True, px=self.lock_ms):
            if await self.redis.get(k) == DONE:
                return SKIPPED
            raise InFlightElsewhere(k)
        try:
            result = await fn()
        except BaseException:
            await self._release(keys=[k], args=[self.owner])
            raise
        await self.redis.set(k, DONE, px=self.ttl_ms)
        return result
