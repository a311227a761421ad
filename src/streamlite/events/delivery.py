"""One delivery step, shared by group consumers (:mod:`.consumer`) and partitions
(:mod:`.partition`).

The model: a subscription reads an entry and knows how many times it has been delivered;
:meth:`Delivery.deliver` does everything that does not depend on how the subscription
reads, and says what to do next as an :class:`Outcome`:

* it picks the handler for the entry's event type (or the ``"*"`` one);
* an entry delivered more than ``max_deliveries`` times (crashed handlers) is not run:
  ``dead``;
* it builds the handler's :class:`~.context.Context` and arguments (dependencies
  resolved, :mod:`.dependencies`), and runs it inside the app's middlewares
  (:mod:`.middleware`): awaited when async, in the subscription's thread pool when sync,
  through the idempotency store (:mod:`.idempotency`) when ``idempotent=True``;
* it records the metrics (latency, processed, failed) and logs the failure;
* and decides: ``ack`` (done, or no handler and ``ack_unhandled``), ``leave`` (no handler,
  leave it pending), ``retry`` after ``delay_ms`` (the retry policy's backoff or the
  handler's :class:`~.retry.Retry`), ``dead`` (not retryable, or out of deliveries), or
  ``drop`` (a failure under ``noack``: nothing can be done).

The subscription carries the outcome out its own way (a group consumer batches XACKs and
releases retries with XNACK or XCLAIM IDLE; a partition retries in place to keep its
order), then counts it with :meth:`Delivery.retried` / :meth:`Delivery.dead_lettered`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .context import Context
from .envelope import Message
from .handlers import HandlerSpec
from .idempotency import SKIPPED
from .metrics import metrics
from .retry import DeadLetter, Retry

if TYPE_CHECKING:
    from .consumer import ConsumerOptions
    from .runtime import Runtime

log = logging.getLogger("streamlite.events.delivery")

ACK = "ack"
LEAVE = "leave"
RETRY = "retry"
DEAD = "dead"
DROP = "drop"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the subscription does with the entry after a delivery."""

    action: str  # ACK | LEAVE | RETRY | DEAD | DROP
    delay_ms: int = 0  # RETRY: how long to wait before the next delivery
    exc: BaseException | None = None  # the handler's exception, if it raised
    reason: str | None = None  # DEAD without an exception: why


ACKED = Outcome(ACK)
LEFT = Outcome(LEAVE)


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One delivery as the runtime's observers see it (the test client's log)."""

    stream: str
    group: str
    consumer: str
    message: Message
    delivery_count: int
    action: str
    error: BaseException | None
    handler: str | None  # the handler function's name (None: no handler)

    @property
    def entry_id(self) -> str:
        return self.message.id

    @property
    def event_type(self) -> str:
        return self.message.event_type

    @property
    def event_id(self) -> str:
        return self.message.event_id

    @property
    def payload(self) -> Any:
        """The decoded payload (as plain data: dicts, lists, ...)."""
        return self.message.payload()


class Delivery:
    """The delivery step of one (stream, group): handlers, options, thread pool."""

    def __init__(self, runtime: Runtime, stream: str, group: str,
                 handlers: dict[str, HandlerSpec], opts: ConsumerOptions,
                 pool: Executor | None = None) -> None:
        self.runtime = runtime
        self.stream = stream
        self.group = group
        # the provided values settled (raises TypeError for one nobody provides)
        self.handlers = {ev: spec.bind(runtime.dependencies) for ev, spec in handlers.items()}
        self.chain = runtime.middlewares
        self.opts = opts
        self.pool = pool
        self.consumer = runtime.consumer_name
        self.m = metrics()
        self._children: dict[tuple[str, str], Any] = {}

    def _child(self, metric: Any, name: str, event_type: str) -> Any:
        key = (name, event_type)
        c = self._children.get(key)
        if c is None:
            c = self._children[key] = metric.labels(self.stream, self.group, event_type)
        return c

    def retried(self, event_type: str) -> None:
        """Count a retry the subscription did schedule."""
        self._child(self.m.retried, "retry", event_type).inc()

    def dead_lettered(self, event_type: str) -> None:
        """Count a dead letter the subscription did write."""
        self._child(self.m.dead_lettered, "dlq", event_type).inc()

    async def deliver(self, msg: Message, count: int) -> Outcome:
        """Delivery number ``count`` of ``msg``: run its handler, say what comes next."""
        spec = self.handlers.get(msg.event_type) or self.handlers.get("*")
        if spec is None:
            out = ACKED if self.opts.ack_unhandled else LEFT
        else:
            out = await self._run(spec, msg, count)
        if self.runtime.observers:
            self.runtime.observe(DeliveryRecord(
                self.stream, self.group, self.consumer, msg, count, out.action, out.exc,
                getattr(spec.fn, "__name__", repr(spec.fn)) if spec is not None else None))
        return out

    async def _run(self, spec: HandlerSpec, msg: Message, count: int) -> Outcome:
        et = msg.event_type
        retry = self.opts.retry
        if count > retry.max_deliveries and not self.opts.noack:
            return Outcome(DEAD, reason=f"delivered {count} times, more than max_deliveries "
                                        f"{retry.max_deliveries} (crashed handlers?)")
        ctx = Context(self.runtime, msg, self.group, self.consumer, count)
        t0 = time.perf_counter()
        try:
            if self.chain:
                result = await self.chain.run(ctx, lambda: self.invoke(spec, msg, ctx))
            else:
                result = await self.invoke(spec, msg, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._child(self.m.latency, "lat", et).observe(time.perf_counter() - t0)
            return self._failed(msg, count, exc)
        self._child(self.m.latency, "lat", et).observe(time.perf_counter() - t0)
        self._child(self.m.processed, "ok", et).inc()
        if result is SKIPPED:
            log.debug("already processed %s", msg.event_id)
        return ACKED

    async def invoke(self, spec: HandlerSpec, msg: Message, ctx: Context) -> Any:
        """Arguments (dependencies resolved), the idempotency check, the handler."""
        if not spec.dependent:
            return await self._guarded(spec, spec.arguments(msg, ctx), ctx)
        async with contextlib.AsyncExitStack() as stack:
            args = await spec.resolve(msg, ctx, self.runtime.dependencies, stack)
            return await self._guarded(spec, args, ctx)

    async def _guarded(self, spec: HandlerSpec, args: list[Any], ctx: Context) -> Any:
        if spec.idempotent:
            return await self.runtime.idempotency.run(self.group, ctx.event_id,
                                                      lambda: self.call(spec, args))
        return await self.call(spec, args)

    async def call(self, spec: HandlerSpec, args: list[Any]) -> Any:
        """Run the handler: awaited when async, in the thread pool when sync (with the
        caller's context variables, as ``asyncio.to_thread`` does)."""
        if spec.is_async:
            return await spec.fn(*args)
        loop = asyncio.get_running_loop()
        cv = contextvars.copy_context()
        return await loop.run_in_executor(self.pool, cv.run, spec.fn, *args)

    def _failed(self, msg: Message, count: int, exc: Exception) -> Outcome:
        et = msg.event_type
        self._child(self.m.failed, "fail", et).inc()
        # DeadLetter: the handler's decision, told once at WARNING with the dead letter
        log.log(logging.INFO if isinstance(exc, DeadLetter) else logging.WARNING,
                "handler failed on %s (delivery %d): %s: %s", msg.id, count,
                type(exc).__name__, exc,
                extra={"stream": self.stream, "group": self.group, "entry_id": msg.id,
                       "event_type": et, "delivery": count})
        if self.opts.noack:
            return Outcome(DROP, exc=exc)
        policy = self.opts.retry
        if not policy.retryable(exc) or count >= policy.max_deliveries:
            return Outcome(DEAD, exc=exc)
        delay = exc.delay_ms if isinstance(exc, Retry) and exc.delay_ms is not None \
            else policy.delay_ms(count)
        return Outcome(RETRY, delay_ms=delay, exc=exc)
