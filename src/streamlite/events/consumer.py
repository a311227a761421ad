"""The runtime of one (stream, group) subscription in a worker process.

Tasks, all on the app's event loop:

* **reader**: first this consumer's own pending entries (``XREADGROUP ... STREAMS s 0``,
  paging by the last ID seen) — work a previous run of the same consumer name left
  unacknowledged — then new entries (``>``), ``COUNT`` up to the free capacity and
  ``BLOCK`` for at most ``block_ms`` (never 0, so shutdown is never stuck in a read);
* **claimer**: every ``claim_interval_ms``, ``XAUTOCLAIM <claim_idle_ms>`` takes over
  entries idle that long: those of dead consumers, and failed ones whose retry backoff
  has elapsed (see :mod:`.retry`);
* **workers**: ``concurrency`` coroutines deliver entries through the delivery step
  (:mod:`.delivery`: handler, context, middlewares, thread pool of the same size for sync
  handlers, idempotency, metrics, the ack/retry/dead-letter decision) and carry out what
  it decided;
* **acker**: acknowledges finished entries with one ``XACK`` carrying every ID finished
  since the previous one (acks are batched, never one round trip per message);
* **keepalive**: every ``claim_idle_ms / 6``, the entries this worker has held for
  ``claim_idle_ms / 3`` or longer (running, or waiting for a free handler) get their idle
  time reset (``XCLAIM ... IDLE 0 JUSTID``, only for entries still pending for this
  consumer, see :mod:`.pel`), so no other consumer reclaims them while this one is alive
  however long a handler runs. A dead worker stops refreshing: its entries are reclaimed
  after ``claim_idle_ms``.

On a server with ``XNACK`` (Redis 8.8+, streamlite), a graceful shutdown releases the
entries read but not started (``XNACK ... SILENT``: the delivery does not count) so other
consumers take them at once, and a failed entry is released with ``XNACK ... FAIL`` once
its backoff is over (at once for a retry with no delay; during the backoff the worker
keeps it alive). Elsewhere the worker handles them before stopping, and retries with
``XCLAIM ... IDLE`` (see :mod:`.retry`).

Delivery counts come from the server: entries read with ``>`` are on their first
delivery; for entries read from the PEL or claimed, one ``XPENDING`` range query per batch
gives each entry's count. A failure on delivery ``max_deliveries`` (or an entry found
with more deliveries than that, e.g. after crashes) goes to the dead-letter stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from redis.exceptions import ResponseError

from .delivery import ACK, DEAD, LEAVE, RETRY, Delivery
from .dlq import dead_letter_fields
from .envelope import F_REDRIVE_GROUP, Message
from .failover import TRANSIENT
from .handlers import HandlerSpec
from .keys import dlq_stream
from .metrics import metrics
from .pel import PendingOps
from .retry import DeadLetter, RetryPolicy

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("streamlite.events.consumer")


@dataclass
class ConsumerOptions:
    """Per-subscription settings (``App(defaults=...)`` or ``@app.handler(..., **opts)``)."""

    start_id: str = "$"            # where a new group starts: "$" (new entries) or "0"
    batch_size: int = 100          # COUNT of each read
    concurrency: int = 16          # handlers running at once
    block_ms: int = 2_000          # longest a read blocks (bounded: shutdown stays prompt)
    noack: bool = False            # at-most-once: XREADGROUP NOACK, no acks, no retries
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    claim_idle_ms: int = 30_000    # reclaim entries idle this long (dead consumers, retries)
    claim_interval_ms: int = 1_000  # how often XAUTOCLAIM runs
    dead_letter_stream: str | None = None  # default: {stream}:dlq
    dead_letter_maxlen: int | None = 100_000
    ack_unhandled: bool = True     # ack event types with no handler (else leave pending)
    use_xnack: bool = True         # release entries with XNACK where the server has it

    def with_(self, **kw: Any) -> ConsumerOptions:
        return replace(self, **kw)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def entries_of(resp: Any) -> list[tuple[Any, Any]]:
    """Entries of a one-stream XREAD/XREADGROUP reply, RESP2 or RESP3 shaped."""
    if not resp:
        return []
    if isinstance(resp, dict):
        v = next(iter(resp.values()))
        if v and len(v) == 1 and isinstance(v[0], list):
            v = v[0]
        return list(v)
    return list(resp[0][1])


class GroupConsumer:
    def __init__(self, runtime: Runtime, stream: str, group: str, opts: ConsumerOptions,
                 handlers: dict[str, HandlerSpec]) -> None:
        self.runtime = runtime
        self.clock = runtime.clock
        self.stream = stream
        self.group = group
        self.opts = opts
        self.handlers = handlers
        self.consumer = runtime.consumer_name
        self.delivery = Delivery(runtime, stream, group, handlers, opts)
        self.flushing = False  # an XACK is on its way (the test client's drain)
        self.dlq = opts.dead_letter_stream or dlq_stream(stream)
        self.max_inflight = opts.concurrency + opts.batch_size
        self.inflight = 0
        self.queue: asyncio.Queue[tuple[Message, int] | None] = asyncio.Queue()
        self.space = asyncio.Event()
        self.space.set()
        self.stopping = False
        self.stop_event = asyncio.Event()  # set with stopping: wakes sleeping tasks
        self.closing = False
        self.acks: list[str] = []
        self.ack_event = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []
        self.workers: list[asyncio.Task[Any]] = []
        self.acker: asyncio.Task[Any] | None = None
        self.keepalive: asyncio.Task[Any] | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.m = metrics()
        self.pending_done = asyncio.Event()  # own PEL drained (tests, ordering)
        self.failure: BaseException | None = None
        # entries this worker holds (queued or running) -> when their idle time was
        # last reset (monotonic s); the keepalive refreshes the old ones
        self.held: dict[str, float] = {}
        # held entries found to be no longer ours (another consumer claimed them):
        # not started if still queued
        self.lost: set[str] = set()
        self.pel: PendingOps | None = None
        self.xnack = False  # the server has XNACK (and use_xnack allows it)
        # shutting down with XNACK: workers set aside what they dequeue, to be released
        self.divert = False
        self.unstarted: list[tuple[Message, int]] = []
        self._pel_lock = asyncio.Lock()  # keepalive vs. retry scheduling (IDLE)
        # with XNACK, failed entries waiting out their backoff here (kept alive), then
        # released: entry ID -> (the task that releases it, when it is due, monotonic s)
        self.delayed: dict[str, tuple[asyncio.Task[None], float]] = {}

    # ----------------------------------------------------------------- lifecycle
    async def ensure_group(self) -> None:
        try:
            await self.runtime.redis.xgroup_create(self.stream, self.group, id=self.opts.start_id,
                                               mkstream=True)
            log.info("created group", extra={"stream": self.stream, "group": self.group})
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def start(self) -> None:
        await self.ensure_group()
        self.pel = PendingOps(self.runtime.redis, self.stream, self.group, self.consumer)
        if not self.opts.noack and self.opts.use_xnack:
            self.xnack = await self.runtime.xnack_supported(self.stream, self.group)
        if any(not h.is_async for h in self.handlers.values()):
            self.pool = ThreadPoolExecutor(self.opts.concurrency,
                                           thread_name_prefix=f"h-{self.stream}")
            self.delivery.pool = self.pool
        loop = asyncio.get_running_loop()
        self.workers = [loop.create_task(self._worker()) for _ in range(self.opts.concurrency)]
        self.tasks = [loop.create_task(self._reader())]
        if not self.opts.noack:
            self.tasks.append(loop.create_task(self._claimer()))
            self.keepalive = loop.create_task(self._keepalive())
            self.keepalive.add_done_callback(self._task_done)
        self.acker = loop.create_task(self._acker())
        for t in (*self.tasks, self.acker):
            t.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        """A reader/claimer/acker that died of an unexpected error stops the worker
        (rather than leaving a process that looks alive and consumes nothing)."""
        if task.cancelled() or self.stopping:
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s/%s: %s stopped: %r; shutting the worker down", self.stream,
                      self.group, task.get_coro().__name__, exc,  # type: ignore[union-attr]
                      exc_info=exc)
            self.failure = exc
            self.runtime.request_stop()

    async def stop(self, grace_s: float) -> None:
        """Stop reading; release (XNACK) or finish what was read; let in-flight work
        finish within ``grace_s``; flush acks."""
        self.stopping = True
        self.stop_event.set()
        self.divert = self.xnack and not self.opts.noack
        self.space.set()
        deadline = time.monotonic() + grace_s
        # readers return within block_ms; claimers at their next tick
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=max(0.0, grace_s))
            for t in pending:
                t.cancel()
        if self.divert:
            await self._release_unstarted()
        for _ in self.workers:
            self.queue.put_nowait(None)
        left = max(0.0, deadline - time.monotonic())
        if self.workers:
            _, still = await asyncio.wait(self.workers, timeout=left)
            for t in still:  # their entries stay pending: reclaimed later, not lost
                t.cancel()
            if still:
                log.warning("grace period over, %d handlers cancelled", len(still),
                            extra={"stream": self.stream, "group": self.group})
                await asyncio.wait(still, timeout=1)
        if self.delayed:  # backoffs in progress: handed over with IDLE (they are woken)
            await asyncio.wait([t for t, _ in self.delayed.values()], timeout=5)
        if self.keepalive is not None:
            self.keepalive.cancel()
            await asyncio.wait([self.keepalive], timeout=1)
        self.ack_event.set()
        self.closing = True
        if self.acker is not None:
            try:
                await asyncio.wait_for(self.acker, timeout=5)
            except Exception:
                self.acker.cancel()
        if self.acks:
            await self._flush_acks()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def _release_unstarted(self) -> None:
        """Shutdown on a server with XNACK: entries read but not started go back to the
        group at once (``XNACK ... SILENT``: this delivery does not count) instead of
        being handled during the grace period."""
        items, self.unstarted = self.unstarted, []
        self.divert = False  # from now on (nothing more is read) workers handle them
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is not None:
                items.append(item)
        if not items:
            return
        assert self.pel is not None
        try:
            released = await self.pel.nack("SILENT", [m.id for m, _ in items])
        except (*TRANSIENT, ResponseError) as e:
            log.warning("could not release %d unstarted entries: %s (handling them)",
                        len(items), e, extra={"stream": self.stream, "group": self.group})
            for it in items:
                self.queue.put_nowait(it)
            return
        for m, _ in items:  # the others are no longer ours: nothing to do
            self.held.pop(m.id, None)
        log.info("released %d entries not started (XNACK SILENT)", len(released),
                 extra={"stream": self.stream, "group": self.group})

    # ----------------------------------------------------------------- reading
    async def _wait_space(self) -> int:
        while not self.stopping and self.inflight >= self.max_inflight:
            self.space.clear()
            await self.space.wait()
        return min(self.opts.batch_size, self.max_inflight - self.inflight)

    async def _transient(self, what: str, e: BaseException, delay: float) -> float:
        log.warning("%s failed: %s (retrying in %.1fs)", what, e, delay,
                    extra={"stream": self.stream, "group": self.group})
        await self.clock.sleep(delay)
        return min(delay * 2, 5.0)

    async def _reader(self) -> None:
        r = self.runtime.redis
        delay = 0.2
        # 1) our own pending entries first (left by an earlier run with this name)
        last = "0"
        while not self.stopping and not self.opts.noack:
            n = await self._wait_space()
            if self.stopping:
                break
            try:
                resp = await r.xreadgroup(self.group, self.consumer, {self.stream: last},
                                          count=n)
            except TRANSIENT as e:
                delay = await self._transient("read pending", e, delay)
                continue
            except ResponseError as e:
                if "NOGROUP" in str(e) or "UNBLOCKED" in str(e):
                    await self.ensure_group()
                    continue
                raise
            rows = entries_of(resp)
            if not rows:
                break
            last = _s(rows[-1][0])
            await self._dispatch_known(rows, from_pel=True)
        self.pending_done.set()
        # 2) new entries
        stream = self.stream
        from_entry = Message.from_entry
        while not self.stopping:
            n = await self._wait_space()
            if self.stopping:
                break
            try:
                resp = await r.xreadgroup(self.group, self.consumer, {stream: ">"},
                                          count=n, block=self.opts.block_ms,
                                          noack=self.opts.noack)
                delay = 0.2
            except TRANSIENT as e:
                delay = await self._transient("read", e, delay)
                continue
            except ResponseError as e:
                if "NOGROUP" in str(e) or "UNBLOCKED" in str(e):
                    await self.ensure_group()
                    continue
                raise
            rows = entries_of(resp)
            if not rows:
                continue
            now = self.clock.monotonic()
            held = self.held
            put = self.queue.put_nowait
            self.inflight += len(rows)
            for eid, fields in rows:
                msg = from_entry(stream, eid, fields or {})
                if not self.opts.noack:
                    held[msg.id] = now
                put((msg, 1))

    async def _claimer(self) -> None:
        r = self.runtime.redis
        interval = self.opts.claim_interval_ms / 1000
        cursor = "0-0"
        while not self.stopping:
            await self.clock.wait(self.stop_event, interval)
            if self.stopping:
                break
            try:
                while not self.stopping:
                    n = await self._wait_space()
                    if self.stopping or n <= 0:
                        break
                    res = await r.xautoclaim(self.stream, self.group, self.consumer,
                                             self.opts.claim_idle_ms, start_id=cursor,
                                             count=n)
                    cursor = _s(res[0])
                    rows = [x for x in res[1] if x[0] is not None]
                    if rows:
                        self.m.reclaimed.labels(self.stream, self.group).inc(len(rows))
                        log.info("reclaimed %d idle entries", len(rows),
                                 extra={"stream": self.stream, "group": self.group})
                        await self._dispatch_known(rows, from_pel=True)
                    if cursor == "0-0":
                        break
            except TRANSIENT as e:
                await self._transient("autoclaim", e, 1.0)
            except ResponseError as e:
                if "NOGROUP" in str(e) or "UNBLOCKED" in str(e):
                    await self.ensure_group()
                else:
                    log.error("autoclaim: %s", e)

    async def _dispatch_known(self, rows: Sequence[tuple[Any, Any]], from_pel: bool) -> None:
        """Entries read from the PEL: look their delivery counts up, then queue them."""
        ids = [_s(eid) for eid, _ in rows]
        counts: dict[str, int] = {}
        try:
            info = await self.runtime.redis.xpending_range(
                self.stream, self.group, min=ids[0], max=ids[-1], count=len(ids) + 16,
                consumername=self.consumer)
            counts = {_s(x["message_id"]): int(x["times_delivered"]) for x in info}
        except TRANSIENT:
            pass
        gone: list[str] = []
        for (_eid, fields), sid in zip(rows, ids, strict=True):
            if not fields:  # the entry was deleted/trimmed while pending: nothing to do
                gone.append(sid)
                continue
            if sid in self.held:  # already queued or running here (a late keepalive)
                continue
            self.lost.discard(sid)
            self._enqueue(Message.from_entry(self.stream, sid, fields), counts.get(sid, 1))
        if gone:
            self.acks.extend(gone)
            self.ack_event.set()

    def _enqueue(self, msg: Message, count: int) -> None:
        self.inflight += 1
        if not self.opts.noack:
            self.held[msg.id] = self.clock.monotonic()
        self.queue.put_nowait((msg, count))

    # ----------------------------------------------------------------- keepalive
    async def _keepalive(self) -> None:
        """Reset the idle time of entries held for ``claim_idle_ms / 3`` or longer,
        every ``claim_idle_ms / 6``: an entry is never older than half ``claim_idle_ms``
        while its worker lives."""
        every = max(0.01, self.opts.claim_idle_ms / 6000)
        max_age = self.opts.claim_idle_ms / 3000
        delay = 0.2
        while True:
            await self.clock.sleep(every)
            now = self.clock.monotonic()
            stale = [i for i, t in self.held.items() if now - t >= max_age]
            if not stale:
                continue
            assert self.pel is not None
            try:
                async with self._pel_lock:
                    stale = [i for i in stale if i in self.held]
                    kept = await self.pel.touch(stale, 0) if stale else set()
                delay = 0.2
            except TRANSIENT as e:
                delay = await self._transient("keepalive", e, delay)
                continue
            except ResponseError as e:
                if "NOGROUP" not in str(e):
                    log.warning("keepalive: %s", e,
                                extra={"stream": self.stream, "group": self.group})
                continue
            for i in stale:
                if i in kept:
                    if i in self.held:
                        self.held[i] = now
                elif self.held.pop(i, None) is not None:
                    self.lost.add(i)
                    log.warning("entry %s is no longer pending for this consumer (another "
                                "consumer claimed it, or it was acknowledged elsewhere)", i,
                                extra={"stream": self.stream, "group": self.group,
                                       "entry_id": i})

    # ----------------------------------------------------------------- processing
    async def _worker(self) -> None:
        q = self.queue
        lost = self.lost
        while True:
            item = await q.get()
            if item is None:
                return
            msg, count = item
            try:
                if self.divert:  # shutting down: released instead (see stop)
                    self.unstarted.append(item)
                    continue
                if lost and msg.id in lost:  # claimed by another consumer while queued
                    lost.discard(msg.id)
                    continue
                await self._process(msg, count)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in the framework itself: keep the worker alive
                log.exception("internal error processing %s", msg.id)
            finally:
                self.inflight -= 1
                if self.inflight < self.max_inflight:
                    self.space.set()

    async def _process(self, msg: Message, count: int) -> None:
        """One delivery (:mod:`.delivery`), then what it decided: a batched XACK, a
        retry after its backoff (:meth:`_schedule_retry`), a dead letter. An entry
        redriven for another group (``dlq redrive --group``) is not ours to run again."""
        only = msg.fields.get(F_REDRIVE_GROUP)
        if only is not None and only.decode("utf-8", "replace") != self.group:
            if not self.opts.noack:
                self._ack(msg.id)
            else:
                self.held.pop(msg.id, None)
            return
        out = await self.delivery.deliver(msg, count)
        action = out.action
        if action == ACK:
            if not self.opts.noack:
                self._ack(msg.id)
        elif action == RETRY:
            await self._schedule_retry(msg, out.delay_ms)
        elif action == DEAD:
            await self._dead_letter(msg, count, out.exc, reason=out.reason)
        elif action == LEAVE:
            self.held.pop(msg.id, None)
        # DROP (a failure under noack): nothing to do

    async def _schedule_retry(self, msg: Message, delay: int) -> None:
        et = msg.event_type
        if delay > 0 and self.xnack and not self.stopping:
            # hold it (the keepalive keeps it ours) for the backoff, then give it back
            # with XNACK: the next XAUTOCLAIM of any worker takes it, never earlier
            now = self.clock.monotonic()
            self.held[msg.id] = now
            task = asyncio.get_running_loop().create_task(
                self._release_after(msg.id, now + delay / 1000))
            self.delayed[msg.id] = (task, now + delay / 1000)
            self.delivery.retried(et)
            return
        self.held.pop(msg.id, None)  # no more keepalive: it must age now
        assert self.pel is not None
        try:
            async with self._pel_lock:
                if delay <= 0 and self.xnack:
                    # retry now: released, any consumer of the group claims it at once
                    done = await self.pel.nack("FAIL", [msg.id])
                else:
                    idle = max(0, self.opts.claim_idle_ms - delay)
                    done = await self.pel.touch([msg.id], idle)
        except (*TRANSIENT, ResponseError) as e:
            log.warning("could not schedule retry of %s: %s (it stays pending)", msg.id, e)
            done = {msg.id}
        if msg.id not in done:
            log.info("retry of %s not scheduled: no longer pending for this consumer", msg.id,
                     extra={"stream": self.stream, "group": self.group, "entry_id": msg.id})
            return
        self.delivery.retried(et)

    async def _release_after(self, entry_id: str, due: float) -> None:
        """The end of a backoff on a server with XNACK: ``XNACK ... FAIL`` (the entry is
        released to the group; the failed delivery counts). Woken early by a stop: the
        entry is then left to age (``XCLAIM ... IDLE claim_idle_ms - remaining``), so
        another worker takes it when the backoff is over."""
        assert self.pel is not None
        try:
            await self.clock.wait(self.stop_event, max(0.0, due - self.clock.monotonic()))
            self.held.pop(entry_id, None)  # the keepalive leaves it alone from now on
            async with self._pel_lock:
                if not self.stopping:
                    done = await self.pel.nack("FAIL", [entry_id])
                else:
                    left_ms = max(0, int((due - self.clock.monotonic()) * 1000))
                    done = await self.pel.touch([entry_id],
                                                max(0, self.opts.claim_idle_ms - left_ms))
            if entry_id not in done:
                log.info("retry of %s: no longer pending for this consumer", entry_id,
                         extra={"stream": self.stream, "group": self.group,
                                "entry_id": entry_id})
        except (*TRANSIENT, ResponseError) as e:
            # it stays pending, ours, and no longer kept alive: reclaimed after
            # claim_idle_ms
            log.warning("could not release %s after its backoff: %s", entry_id, e,
                        extra={"stream": self.stream, "group": self.group,
                               "entry_id": entry_id})
        finally:
            self.held.pop(entry_id, None)
            self.delayed.pop(entry_id, None)

    async def _dead_letter(self, msg: Message, count: int, exc: BaseException | None,
                           reason: str | None = None) -> None:
        """Dead letter + XACK in one script, only if the entry is still pending for this
        consumer: an entry is dead-lettered once, whoever else tried."""
        self.held.pop(msg.id, None)
        flat = dead_letter_fields(msg.fields, stream=self.stream, entry_id=msg.id,
                                  group=self.group, consumer=self.consumer, deliveries=count,
                                  exc=exc, reason=reason)
        assert self.pel is not None
        try:
            dl_id = await self.pel.dead_letter(self.dlq, msg.id, flat,
                                               self.opts.dead_letter_maxlen)
        except (*TRANSIENT, ResponseError) as e:
            log.error("could not dead-letter %s: %s (it stays pending)", msg.id, e,
                      extra={"stream": self.stream, "group": self.group, "entry_id": msg.id})
            return
        if dl_id is None:
            log.warning("%s not dead-lettered: no longer pending for this consumer (another "
                        "consumer claimed it, or it was acknowledged)", msg.id,
                        extra={"stream": self.stream, "group": self.group,
                               "entry_id": msg.id})
            return
        self.delivery.dead_lettered(msg.event_type)
        # a handler's own DeadLetter is a decision (a message that can never succeed),
        # told at WARNING; giving up after max_deliveries failures is an ERROR
        level = logging.WARNING if isinstance(exc, DeadLetter) else logging.ERROR
        why = f": {exc}" if isinstance(exc, DeadLetter) else ""
        log.log(level, "dead-lettered %s after %d deliveries%s", msg.id, count, why,
                  extra={"stream": self.stream, "group": self.group, "entry_id": msg.id,
                         "dlq": self.dlq, "event_type": msg.event_type})

    # ----------------------------------------------------------------- acks
    def _ack(self, entry_id: str) -> None:
        self.held.pop(entry_id, None)
        self.acks.append(entry_id)
        if len(self.acks) == 1:
            self.ack_event.set()

    async def _flush_acks(self) -> None:
        ids, self.acks = self.acks, []
        if not ids:
            return
        self.flushing = True
        try:
            await self.runtime.redis.xack(self.stream, self.group, *ids)
        except TRANSIENT as e:
            self.acks[:0] = ids  # keep them: acked on the next flush
            raise e
        finally:
            self.flushing = False

    async def _acker(self) -> None:
        delay = 0.1
        while True:
            await self.ack_event.wait()
            self.ack_event.clear()
            try:
                await self._flush_acks()
                delay = 0.1
            except TRANSIENT as e:
                delay = await self._transient("ack", e, delay)
                self.ack_event.set()
            if self.closing and not self.acks:
                return
