"""What a running subscription needs from its worker: :class:`Runtime`.

Group consumers (:mod:`.consumer`), partitions (:mod:`.partition`), the delivery step
(:mod:`.delivery`) and the handler's :class:`~.context.Context` see the worker only
through this object, never the whole :class:`~.app.App`: the consumer name, the client,
the producer and idempotency store (made on first use), the clock every wait goes through
(:mod:`.clock`), the provided dependencies and handling middlewares
(:mod:`.dependencies`, :mod:`.middleware`), ``run_sync`` for sync handlers, ``request_stop`` for a subscription that
failed, and the observers the test client listens with (:mod:`.testing`). The App builds
one when it starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .clock import REAL_CLOCK, Clock
from .dependencies import Dependencies
from .middleware import HandleChain

if TYPE_CHECKING:
    from .delivery import DeliveryRecord
    from .idempotency import AsyncIdempotency
    from .producer import AsyncProducer


class Runtime:
    """The running worker, as its subscriptions see it."""

    def __init__(self, *, consumer_name: str, redis: Any,
                 producer: Callable[[], AsyncProducer],
                 idempotency: Callable[[], AsyncIdempotency],
                 xnack_supported: Callable[[str, str], Awaitable[bool]],
                 request_stop: Callable[[], None],
                 loop: asyncio.AbstractEventLoop | None = None,
                 clock: Clock = REAL_CLOCK, owner: Any = None,
                 dependencies: Dependencies | None = None,
                 middlewares: HandleChain | None = None) -> None:
        self.consumer_name = consumer_name
        self.redis = redis
        self._producer = producer
        self._idempotency = idempotency
        self._xnack_supported = xnack_supported
        self._request_stop = request_stop
        self.loop = loop
        self.clock = clock
        self.owner = owner  # the App (for users who reach it through ctx.app)
        self.dependencies = dependencies or Dependencies()  # app.provide(...)
        self.middlewares = middlewares or HandleChain([])  # around every handler call
        # called with every delivery's record (the test client's log)
        self.observers: list[Callable[[DeliveryRecord], None]] = []

    @property
    def producer(self) -> AsyncProducer:
        return self._producer()

    @property
    def idempotency(self) -> AsyncIdempotency:
        return self._idempotency()

    async def xnack_supported(self, stream: str, group: str) -> bool:
        return await self._xnack_supported(stream, group)

    def request_stop(self) -> None:
        self._request_stop()

    def run_sync(self, coro: Any) -> Any:
        """Run a coroutine on the worker's event loop from a handler thread and wait for
        it (what ``ctx.publish_sync`` does: sync handlers run in a thread pool)."""
        loop = self.loop
        if loop is None or not loop.is_running():
            coro.close()
            raise RuntimeError("the app is not running")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("called from the app's event loop: await it instead")
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def observe(self, record: DeliveryRecord) -> None:
        for fn in self.observers:
            fn(record)
