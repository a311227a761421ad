"""The test client: run an app's handlers in process, on an in-memory engine, with time
under the test's control.

::

    from streamlite.events.testing import TestApp
    from myservice.worker import app

    async def test_order_is_billed():
        async with TestApp(app) as test:
            await test.publish("orders", {"order_id": 1, "amount": 9.5},
                               event_type="ORDER_CREATED")
            await test.drain()
            assert [r.payload for r in test.handled("orders")] == [
                {"order_id": 1, "amount": 9.5}]

The model: :class:`TestApp` gives the app a private in-memory engine (the embedded
``streamlite.Embedded()``, the same engine and the same Redis semantics as a real
deployment: consumer groups, pending entries, XAUTOCLAIM, XNACK, scripts) in place of its
URL, and starts it with a :class:`VirtualClock` in its runtime. The app's producer, the
test's :meth:`TestApp.publish` and its clients (:attr:`TestApp.redis`,
:attr:`TestApp.client`) all reach that engine. Nothing is mocked: entries go through the
real consumer (reads, acks, retries, dead letters).

Time: every wait of the framework (a retry's backoff, the reclaim tick, keepalives,
partition leases) goes through the virtual clock, and the engine's clock
(:class:`~streamlite.engine.clock.FakeClock`) moves with it, so idle times, expiries and
blocked reads see the same time. Time moves only when the test says so:
:meth:`TestApp.advance` (``await test.advance(30)``), or :meth:`TestApp.drain`, which
jumps to the next timer whenever everything left is waiting for one. A handler that fails
twice with a 10-second backoff is therefore handled three times in one ``drain()``, in a
few milliseconds.

What a test can look at: :attr:`TestApp.deliveries` (every delivery: message, delivery
count, what came of it, the exception), :meth:`TestApp.handled`, :meth:`TestApp.failures`,
:meth:`TestApp.retries`, and the dead letters actually written
(:meth:`TestApp.dead_letters`).

The pytest plugin (:mod:`.pytest_plugin`) gives tests an ``app`` and a ``test_app``
fixture.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import TYPE_CHECKING, Any

from ..engine.clock import FakeClock
from .delivery import ACK, RETRY, DeliveryRecord
from .dlq import DeadLetterEntry, DeadLetters
from .keys import dlq_stream, partition_stream
from .producer import Producer

if TYPE_CHECKING:
    from .app import App

__all__ = ["DeliveryRecord", "NotDrained", "TestApp", "VirtualClock"]


class NotDrained(AssertionError):
    """:meth:`TestApp.drain` gave up: entries still unread or pending."""


class VirtualClock:
    """Framework time that moves only when told (:meth:`advance`, :meth:`step`).

    Sleepers register a timer; moving the clock resolves the timers that are due, in
    order. ``engine_clock`` (the embedded engine's :class:`FakeClock`) is kept at the
    same time, and ``on_move`` is called after each move (the test client answers the
    engine's blocked reads whose timeout passed).
    """

    def __init__(self, engine_clock: FakeClock | None = None,
                 on_move: Any = None) -> None:
        self.now = 0.0
        self.engine_clock = engine_clock
        self._engine_start_ms = engine_clock.ms() if engine_clock is not None else 0
        self.on_move = on_move
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    # -- the Clock protocol (see streamlite.events.clock) -------------------------------
    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + seconds, next(self._seq), fut))
        try:
            await fut
        finally:
            if not fut.done():
                fut.cancel()  # dropped from the heap when it comes up

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        if event.is_set():
            return True
        waiter = asyncio.ensure_future(event.wait())
        sleeper = asyncio.ensure_future(self.sleep(timeout))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (waiter, sleeper):
                if not t.done():
                    t.cancel()
        return event.is_set()

    # -- moving it ----------------------------------------------------------------------
    def next_due(self) -> float | None:
        """When the earliest live timer is due (None: nobody sleeps)."""
        while self._timers and self._timers[0][2].done():
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _move(self, t: float) -> None:
        if t <= self.now:
            return
        self.now = t
        if self.engine_clock is not None:
            self.engine_clock.set(self._engine_start_ms + int(round(t * 1000)))
        if self.on_move is not None:
            self.on_move()

    def step(self) -> bool:
        """Move to the earliest timer and wake every timer due then; False if none."""
        due = self.next_due()
        if due is None:
            return False
        self._move(due)
        while self._timers and self._timers[0][0] <= self.now:
            _, _, fut = heapq.heappop(self._timers)
            if not fut.done():
                fut.set_result(None)
        return True

    def move_to(self, t: float) -> None:
        """Move to ``t`` without waking timers (they wake on the next :meth:`step`)."""
        self._move(t)


class TestApp:
    """Run ``app``'s handlers in this process on a private in-memory engine (an async
    context manager). See the module's documentation."""

    __test__ = False  # not a pytest test class

    def __init__(self, app: App, *, drain_timeout_s: float = 30.0,
                 max_virtual_s: float = 7 * 86_400.0, start_ms: int | None = None) -> None:
        self.app = app
        self.drain_timeout_s = drain_timeout_s
        self.max_virtual_s = max_virtual_s
        self.engine_clock = FakeClock(start_ms if start_ms is not None
                                      else time.time_ns() // 1_000_000)
        self.clock = VirtualClock(self.engine_clock, self._expire_blocked)
        self.deliveries: list[DeliveryRecord] = []
        self.embedded: Any = None
        self.redis: Any = None  # an asyncio client on the engine (decode_responses=False)
        self.client: Any = None  # a sync client on the engine
        self._saved: dict[str, Any] = {}
        self._running = False

    # ---------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> TestApp:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        from streamlite.embedded import Embedded

        app = self.app
        if app.runtime is not None and app.consumers:
            raise RuntimeError("the app is already running")
        self.embedded = Embedded(clock=self.engine_clock)
        self.redis = self.embedded.async_client()
        self.client = self.embedded.client()
        names = ("url", "_client", "_redis", "_producer", "_sync_producer", "_idem",
                 "_xnack")
        self._saved = {n: getattr(app, n) for n in names}
        app.url = None
        app._client = self.redis
        app._redis = None
        app._producer = None
        app._idem = None
        app._xnack = None
        app._sync_producer = Producer(self.client, codec=app.codec,
                                      producer_id=app.producer_id, retention=app.retention)
        app._sync_producer.middlewares = app.publish_middlewares
        runtime = app.make_runtime(self.clock)
        runtime.observers.append(self.deliveries.append)
        try:
            await app.start(runtime)
        except BaseException:
            app.runtime = None
            self._restore()
            await self._close()
            raise
        self._running = True

    async def _close(self) -> None:
        self.client.close()
        await self.redis.aclose()
        self.embedded.close()

    async def stop(self) -> None:
        """Stop the app (gracefully: in-flight handlers finish) and drop the engine."""
        if not self._running:
            return
        self._running = False
        app = self.app
        stopping = asyncio.ensure_future(app.stop(grace_s=self.drain_timeout_s))
        try:
            # blocked reads end at their timeout: move time along until everything stopped
            block = max([c.opts.block_ms for c in app.consumers]
                        + [s.opts.block_ms for s in app.partitioned] + [1]) / 1000
            while not stopping.done():
                await asyncio.wait({stopping}, timeout=0.01)
                if not stopping.done():
                    self.clock.move_to(self.clock.now + block)
                    self.clock.step()
            await stopping
        finally:
            app.runtime = None
            self._restore()
            await self._close()

    def _restore(self) -> None:
        for n, v in self._saved.items():
            setattr(self.app, n, v)

    def _expire_blocked(self) -> None:
        if self.embedded is not None:
            self.embedded.host.expire_blocked()

    # ---------------------------------------------------------------- producing
    async def publish(self, stream: str, payload: Any, *, event_type: str | None = None,
                      **kw: Any) -> str:
        """Publish an event with the app's producer (same codec and envelope); its ID."""
        return await self.app.producer.publish(stream, payload, event_type=event_type, **kw)

    async def publish_partitioned(self, stream: str, key: str, payload: Any, *,
                                  partitions: int, **kw: Any) -> str:
        return await self.app.producer.publish_partitioned(stream, key, payload,
                                                           partitions=partitions, **kw)

    # ---------------------------------------------------------------- time
    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of framework (and engine) time pass: the timers due meanwhile
        wake in order, and what they start runs before the next one wakes."""
        end = self.clock.now + seconds
        await self._settle()
        while True:
            if await self._move_due():
                await self._settle()
                continue
            due = self.clock.next_due()
            delayed = await self._next_delayed()
            if delayed is not None and delayed <= end and (due is None or delayed < due):
                self.clock.move_to(delayed)
                continue
            if due is None or due > end:
                break
            self.clock.step()
            await self._settle()
        self.clock.move_to(end)
        await self._move_due()
        await self._settle()

    # ---------------------------------------------------------------- delayed messages
    async def delayed(self) -> dict[str, int]:
        """stream -> delayed events waiting for it (``publish(..., delay=/at=)``)."""
        from .delayed import delayed_key

        out: dict[str, int] = {}
        for stream in self.app.consumed_streams():
            n = int(await self.redis.zcard(delayed_key(stream)))
            if n:
                out[stream] = n
        return out

    async def _next_delayed(self) -> float | None:
        """The framework time at which the earliest delayed event is due (None: none)."""
        from .delayed import delayed_key

        first: int | None = None
        for stream in self.app.consumed_streams():
            rows = await self.redis.zrange(delayed_key(stream), 0, 0, withscores=True)
            if rows and (first is None or int(rows[0][1]) < first):
                first = int(rows[0][1])
        if first is None:
            return None
        return self.clock.now + max(0, first - self.engine_clock.ms()) / 1000

    async def _move_due(self) -> int:
        """Append the delayed events that are due now (what the app's mover does on its
        own schedule, done at once): how many."""
        mover = getattr(self.app, "delayed_mover", None)
        if mover is None:
            return 0
        n = 0
        for stream in mover.streams:
            while True:
                moved, _ = await mover.move_once(stream)
                n += moved
                if moved < mover.batch:
                    break
        return n

    # ---------------------------------------------------------------- draining
    def _idle(self) -> bool:
        app = self.app
        for c in app.consumers:
            if c.inflight or c.acks or c.flushing:
                return False
        return all(s.idle() for s in app.partitioned)

    async def _settle(self, deadline: float | None = None) -> None:
        """Let the event loop run until no handler, ack or read is in progress."""
        for _ in range(5):
            await asyncio.sleep(0)
        end = deadline if deadline is not None else time.monotonic() + self.drain_timeout_s
        while not self._idle():
            if time.monotonic() > end:
                raise NotDrained("handlers still running after "
                                 f"{self.drain_timeout_s}s (real time)")
            await asyncio.sleep(0.001)
        for _ in range(5):
            await asyncio.sleep(0)

    def _groups(self) -> list[tuple[str, str]]:
        out = list(self.app.subscriptions)
        for s in self.app.partitioned:
            out += [(partition_stream(s.stream, i), s.group) for i in range(s.partitions)]
        return out

    async def backlog(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(stream, group) -> (entries not yet read by the group, entries pending), for
        the groups that have either."""
        r = self.redis
        out: dict[tuple[str, str], tuple[int, int]] = {}
        for stream, group in self._groups():
            try:
                groups = await r.xinfo_groups(stream)
            except Exception:  # no stream yet
                continue
            for g in groups:
                if _s(g["name"]) != group:
                    continue
                last = _s(g["last-delivered-id"])
                unread = len(await r.xrange(stream, f"({last}", "+", count=1))
                pending = int(g["pending"])
                if unread or pending:
                    out[(stream, group)] = (unread, pending)
        return out

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every group of the app has read everything and has nothing pending
        (handlers done, acks written, retries retried or dead-lettered). When only timers
        are left (a backoff, the next reclaim), time jumps to the next one. Raises
        :class:`NotDrained` after ``timeout`` real seconds or ``max_virtual_s`` of
        framework time."""
        limit = timeout if timeout is not None else self.drain_timeout_s
        deadline = time.monotonic() + limit
        v_end = self.clock.now + self.max_virtual_s
        while True:
            await self._settle(deadline)
            for c in self.app.consumers:
                if c.failure is not None:  # a reader/claimer/acker died: say why
                    raise NotDrained(f"{c.stream}/{c.group} stopped: {c.failure!r}") \
                        from c.failure
            if await self._move_due():
                continue
            left = await self.backlog()
            delayed = await self._next_delayed()
            if not left and delayed is None:
                return
            if time.monotonic() > deadline or self.clock.now > v_end:
                what = _describe(left) if left else ""
                if delayed is not None:
                    what += f"{', ' if what else ''}delayed events waiting: {await self.delayed()}"
                raise NotDrained(f"not drained: {what}")
            if any(unread for unread, _ in left.values()):
                await asyncio.sleep(0.002)  # a reader is about to take them
                continue
            # nothing running, nothing unread: what is left waits for a timer or for a
            # delayed event's due time, whichever comes first
            due = self.clock.next_due()
            if delayed is not None and (due is None or delayed < due):
                self.clock.move_to(delayed)
            elif not self.clock.step():
                await asyncio.sleep(0.002)

    # ---------------------------------------------------------------- assertions
    def _streams(self, stream: str) -> set[str]:
        """``stream``, and its partitions' streams if it is partitioned."""
        out = {stream}
        for sub in self.app.partitioned:
            if sub.stream == stream:
                out.update(partition_stream(stream, i) for i in range(sub.partitions))
        return out

    def _select(self, stream: str | None, group: str | None,
                event_type: str | None) -> list[DeliveryRecord]:
        streams = self._streams(stream) if stream is not None else None
        return [d for d in self.deliveries
                if (streams is None or d.stream in streams)
                and (group is None or d.group == group)
                and (event_type is None or d.event_type == event_type)]

    def handled(self, stream: str | None = None, *, group: str | None = None,
                event_type: str | None = None) -> list[DeliveryRecord]:
        """Deliveries a handler completed (in order). A partitioned stream's name covers
        its partitions."""
        return [d for d in self._select(stream, group, event_type)
                if d.action == ACK and d.handler is not None]

    def failures(self, stream: str | None = None, *, group: str | None = None,
                 event_type: str | None = None) -> list[DeliveryRecord]:
        """Deliveries whose handler raised (whatever came of them)."""
        return [d for d in self._select(stream, group, event_type) if d.error is not None]

    def retries(self, stream: str | None = None, *, group: str | None = None,
                event_type: str | None = None) -> list[DeliveryRecord]:
        """Failed deliveries that were to be retried."""
        return [d for d in self._select(stream, group, event_type) if d.action == RETRY]

    def dead_letters(self, stream: str) -> list[DeadLetterEntry]:
        """The dead letters written for ``stream`` (every partition's, for a partitioned
        one), read from the engine."""
        dlqs: list[str] = []
        for (s, _g), (opts, _h) in self.app.subscriptions.items():
            if s == stream:
                dlqs.append(opts.dead_letter_stream or dlq_stream(s))
        for sub in self.app.partitioned:
            if sub.stream == stream:
                for i in range(sub.partitions):
                    p = partition_stream(stream, i)
                    dlqs.append(sub.opts.dead_letter_stream or dlq_stream(p))
        if not dlqs:
            dlqs = [dlq_stream(stream)]
        out: list[DeadLetterEntry] = []
        for q in dict.fromkeys(dlqs):
            out += DeadLetters(self.client, dlq=q).list(count=1_000_000)
        return out


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _describe(left: dict[tuple[str, str], tuple[int, int]]) -> str:
    return ", ".join(f"{s}/{g}: {u} unread, {p} pending" for (s, g), (u, p) in left.items())
