"""Per-key ordering: partitioned streams, each partition owned by one worker at a time.

A consumer group spreads one stream's entries over its consumers, so two events of the
same key (an account, an order) may run at the same time on two workers, out of order.
When order per key matters:

* the producer routes each event by key to one of N streams ``<stream>:p0 ..
  <stream>:p<N-1>`` (:func:`partition_for`: CRC32 of the key mod N), so one key's events
  are in one stream, in publish order;
* on the worker side, each partition is processed by exactly one worker at a time,
  sequentially. Ownership is a lease: ``SET {<stream>:p<i>}:lease:<group> <consumer> NX PX
  <lease_ms>``, renewed by its owner every ``lease_ms / 3`` (a script renews only if the
  value is still ours) and deleted on graceful release. A worker that cannot renew stops
  processing that partition before its lease can have expired (self-fencing);
* workers balance: each heartbeats into ``{<stream>}:members:<group>`` (a sorted set
  scored by expiry) and holds at most ``ceil(N / live workers)`` partitions, releasing
  extra ones and taking free ones;
* a new owner first claims (``XAUTOCLAIM ... 0``) every entry still pending in the
  partition's group — what the previous owner had read but not acknowledged — and
  processes them in ID order, then reads new entries. A failing entry is retried in place
  (with backoff, blocking its partition: that is what ordering means) up to
  ``max_deliveries``, then dead-lettered, and the partition moves on.

Each entry goes through the same delivery step as a group consumer's
(:mod:`.delivery`): handler choice, context, thread pool for sync handlers, idempotency
(``idempotent=True``), metrics. An entry of a type no handler takes is acknowledged
(``ack_unhandled`` does not apply: left pending, it would come back to every new owner).
"""

from __future__ import annotations

import asyncio
import logging
import math
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from redis.exceptions import ResponseError

from .consumer import ConsumerOptions, entries_of
from .delivery import DEAD, RETRY, Delivery
from .dlq import dead_letter_fields
from .envelope import Message
from .failover import TRANSIENT
from .handlers import HandlerSpec
from .keys import colocated, dlq_stream, partition_stream
from .pel import PendingOps

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("streamlite.events.partition")

RENEW_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def partition_for(key: str | bytes, partitions: int) -> int:
    """The partition of ``key`` (stable across processes and languages: CRC32 mod N)."""
    k = key.encode() if isinstance(key, str) else key
    return zlib.crc32(k) % partitions


def partition_streams(stream: str, partitions: int) -> list[str]:
    return [partition_stream(stream, i) for i in range(partitions)]


def lease_key(stream: str, index: int, group: str) -> str:
    return colocated(partition_stream(stream, index), f":lease:{group}")


def members_key(stream: str, group: str) -> str:
    return colocated(stream, f":members:{group}")


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class _Partition:
    def __init__(self, sub: PartitionedSubscription, index: int) -> None:
        self.sub = sub
        self.index = index
        self.stream = partition_stream(sub.stream, index)
        self.lease = lease_key(sub.stream, index, sub.group)
        self.dlq = sub.opts.dead_letter_stream or dlq_stream(self.stream)
        self.valid_until = 0.0  # monotonic time our lease surely still holds
        self.stopping = False
        self.task: asyncio.Task[Any] | None = None
        self.acks: list[str] = []
        self.busy = False  # a handler or an XACK is running (the test client's drain)
        self.delivery = Delivery(sub.runtime, self.stream, sub.group, sub.handlers, sub.opts,
                                 sub.pool)

    def valid(self) -> bool:
        return not self.stopping and self.sub.runtime.clock.monotonic() < self.valid_until

    async def run(self) -> None:
        sub = self.sub
        me = sub.runtime.consumer_name
        r = sub.runtime.redis
        try:
            await r.xgroup_create(self.stream, sub.group, id=sub.opts.start_id, mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        try:
            # 1) whatever earlier owners left pending, in ID order
            cursor = "0-0"
            while self.valid():
                res = await r.xautoclaim(self.stream, sub.group, me, 0,
                                         start_id=cursor, count=sub.opts.batch_size)
                rows = [x for x in res[1] if x[0] is not None]
                if rows:
                    ids = [_s(x[0]) for x in rows]
                    info = await r.xpending_range(self.stream, sub.group, min=ids[0],
                                                  max=ids[-1], count=len(ids) + 16,
                                                  consumername=me)
                    counts = {_s(x["message_id"]): int(x["times_delivered"]) for x in info}
                    for (_, fields), eid in zip(rows, ids, strict=True):
                        if not self.valid():
                            break
                        if not fields:
                            self.acks.append(eid)
                            continue
                        await self.handle(Message.from_entry(self.stream, eid, fields),
                                          counts.get(eid, 1))
                    await self.flush()
                cursor = _s(res[0])
                if cursor == "0-0":
                    break
            # 2) new entries
            while self.valid():
                resp = await r.xreadgroup(sub.group, me, {self.stream: ">"},
                                          count=sub.opts.batch_size,
                                          block=min(sub.opts.block_ms, sub.lease_ms // 3))
                for eid, fields in entries_of(resp):
                    if not self.valid():
                        break  # the rest stays pending: the next owner takes it, in order
                    await self.handle(Message.from_entry(self.stream, eid, fields or {}), 1)
                await self.flush()
        except asyncio.CancelledError:
            raise
        except TRANSIENT as e:
            log.warning("partition %s: %s", self.stream, e)
        finally:
            try:
                await asyncio.shield(self.flush())
            except Exception:
                pass

    async def flush(self) -> None:
        if self.acks:
            ids, self.acks = self.acks, []
            self.busy = True
            try:
                await self.sub.runtime.redis.xack(self.stream, self.sub.group, *ids)
            finally:
                self.busy = False

    async def handle(self, msg: Message, count: int) -> None:
        """Deliver ``msg`` until it is done: a failure is retried in place after its
        backoff (the partition waits: that is its order), up to ``max_deliveries``."""
        sub = self.sub
        r = sub.runtime.redis
        me = sub.runtime.consumer_name
        while True:
            self.busy = True
            try:
                out = await self.delivery.deliver(msg, count)
            finally:
                self.busy = False
            if out.action == DEAD:
                await self.dead_letter(msg, count, out.exc, out.reason)
                return
            if out.action != RETRY:  # done (or no handler for it): acknowledged
                self.acks.append(msg.id)
                return
            self.delivery.retried(msg.event_type)
            await self.flush()  # what came before is done: not redone if we die waiting
            await sub.runtime.clock.sleep(out.delay_ms / 1000)
            if not self.valid():
                return  # stays pending; the next owner retries it first
            # a new delivery: the server's counter goes up (and the idle time resets)
            claimed = await r.xclaim(self.stream, sub.group, me, 0, [msg.id])
            if not claimed or claimed[0][0] is None:
                return  # deleted meanwhile
            count += 1

    async def dead_letter(self, msg: Message, count: int, exc: BaseException | None,
                          reason: str | None = None) -> None:
        sub = self.sub
        flat = dead_letter_fields(msg.fields, stream=self.stream, entry_id=msg.id,
                                  group=sub.group, consumer=sub.runtime.consumer_name,
                                  deliveries=count, exc=exc, reason=reason)
        await self.flush()
        ops = PendingOps(sub.runtime.redis, self.stream, sub.group, sub.runtime.consumer_name)
        # only while still ours: a previous owner that lost its lease writes nothing
        if await ops.dead_letter(self.dlq, msg.id, flat, sub.opts.dead_letter_maxlen) is None:
            log.warning("%s not dead-lettered: no longer pending for this consumer", msg.id,
                        extra={"stream": self.stream, "group": sub.group})
            return
        self.delivery.dead_lettered(msg.event_type)


class PartitionedSubscription:
    """The handlers of one partitioned (stream, group), and while running the partitions
    this worker owns. Made at registration (``@app.partitioned_handler``); :meth:`start`
    gives it the worker's :class:`~.runtime.Runtime`."""

    def __init__(self, stream: str, group: str, partitions: int, opts: ConsumerOptions,
                 *, lease_ms: int = 10_000) -> None:
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        self.stream = stream
        self.group = group
        self.partitions = partitions
        self.lease_ms = lease_ms
        self.opts = opts
        self.handlers: dict[str, HandlerSpec] = {}
        self.owned: dict[int, _Partition] = {}
        self.stopping = False
        self.task: asyncio.Task[Any] | None = None
        self.members = members_key(stream, group)
        self.rebalanced = asyncio.Event()
        self.pool: ThreadPoolExecutor | None = None
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the subscription is not running")
        return self._runtime

    def add(self, fn: Callable[..., Any], event: str | None, idempotent: bool = False) -> None:
        ev = event or "*"
        if ev in self.handlers:
            raise ValueError(f"a handler for {ev!r} on {self.stream!r} already exists")
        self.handlers[ev] = HandlerSpec.inspect(fn, ev, idempotent)

    def idle(self) -> bool:
        """No handler and no XACK running in any owned partition (one waiting out a
        retry's backoff is idle)."""
        return not any(p.busy for p in self.owned.values())

    async def start(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.stopping = False
        if any(not h.is_async for h in self.handlers.values()):
            # a partition runs one handler at a time: one thread per partition at most
            self.pool = ThreadPoolExecutor(min(self.partitions, self.opts.concurrency),
                                           thread_name_prefix=f"p-{self.stream}")
        r = runtime.redis
        # every partition's group now (not when a worker first takes the partition), so
        # start_id "$" means "from when the first worker started" for all of them
        for i in range(self.partitions):
            try:
                await r.xgroup_create(partition_stream(self.stream, i), self.group,
                                      id=self.opts.start_id, mkstream=True)
            except ResponseError as e:
                if "BUSYGROUP" not in str(e):
                    raise
        self._renew = r.register_script(RENEW_LUA)
        self._release = r.register_script(RELEASE_LUA)
        await self.tick()
        self.task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while not self.stopping:
            await self.runtime.clock.sleep(self.lease_ms / 3000)
            if self.stopping:
                break
            try:
                await self.tick()
            except TRANSIENT as e:
                log.warning("partition balancer: %s", e)

    async def tick(self) -> None:
        """Heartbeat, renew our leases, release extras, acquire our share."""
        r = self.runtime.redis
        me = self.runtime.consumer_name
        clock = self.runtime.clock
        secs, micros = await r.time()
        now_ms = int(secs) * 1000 + int(micros) // 1000
        pipe = r.pipeline(transaction=False)
        pipe.zadd(self.members, {me: now_ms + self.lease_ms})
        pipe.zremrangebyscore(self.members, "-inf", now_ms)
        pipe.zcard(self.members)
        pipe.pexpire(self.members, self.lease_ms * 3)
        _, _, live, _ = await pipe.execute()
        share = math.ceil(self.partitions / max(1, int(live)))
        # renew what we hold
        t0 = clock.monotonic()
        for i, p in list(self.owned.items()):
            if p.task is not None and p.task.done():
                self.owned.pop(i)
                await self._release(keys=[p.lease], args=[me])
                continue
            ok = await self._renew(keys=[p.lease], args=[me, self.lease_ms])
            if ok:
                p.valid_until = t0 + self.lease_ms / 1000 * 0.8
            else:
                log.warning("lost lease of %s", p.stream)
                p.stopping = True
                self.owned.pop(i)
        # give back what is more than our share (highest indexes first)
        while len(self.owned) > share:
            i = max(self.owned)
            await self._give_back(self.owned.pop(i))
        # take free partitions up to our share, starting at a per-worker offset
        if len(self.owned) < share:
            start = partition_for(me, self.partitions)
            for k in range(self.partitions):
                i = (start + k) % self.partitions
                if i in self.owned:
                    continue
                t1 = clock.monotonic()
                if await r.set(lease_key(self.stream, i, self.group), me, nx=True,
                               px=self.lease_ms):
                    p = _Partition(self, i)
                    p.valid_until = t1 + self.lease_ms / 1000 * 0.8
                    p.task = asyncio.get_running_loop().create_task(p.run())
                    self.owned[i] = p
                    log.info("acquired partition %s", p.stream)
                    if len(self.owned) >= share:
                        break
        self.rebalanced.set()

    async def _give_back(self, p: _Partition) -> None:
        p.stopping = True
        if p.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(p.task), timeout=self.opts.block_ms / 1000
                                       + 5)
            except Exception:
                p.task.cancel()
        await self._release(keys=[p.lease], args=[self.runtime.consumer_name])
        log.info("released partition %s", p.stream)

    async def stop(self, grace_s: float) -> None:
        self.stopping = True
        if self.task is not None:
            self.task.cancel()
        parts = list(self.owned.values())
        self.owned.clear()
        for p in parts:
            p.stopping = True
        tasks = [p.task for p in parts if p.task is not None]
        if tasks:
            _, still = await asyncio.wait(tasks, timeout=grace_s + self.opts.block_ms / 1000)
            for t in still:
                t.cancel()
        for p in parts:
            try:
                await self._release(keys=[p.lease], args=[self.runtime.consumer_name])
            except Exception:
                pass
        try:
            await self.runtime.redis.zrem(self.members, self.runtime.consumer_name)
        except Exception:
            pass
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
