"""Reading and changing orders in Redis, every change atomic.

Two building blocks make every effect of the pipeline happen exactly once, however often
a message is delivered (redelivery after a crash, a retry, a redrive):

* :func:`transact` runs ``WATCH keys`` / read / ``MULTI`` ... ``EXEC``, again from the
  read when a watched key changed meanwhile (optimistic concurrency). A state change of
  an order (:class:`Change`) watches the order's hash and checks its status first: the
  state machine itself refuses to apply a step twice. The new state, the event appended
  to the order's history, the stock counters and the events published to the next
  stage's stream all go in the one MULTI/EXEC, so a crash leaves all or nothing.
* :func:`once` does the same for effects that are not order state changes (ranking,
  analytics, notifications, alerts): the effect and a marker ``done:{scope}:<event id>``
  are written in one MULTI/EXEC while the marker is watched. A second delivery finds the
  marker and changes nothing. (The framework's ``idempotent=True`` helper sets its marker
  after the effect; here the effect is itself a Redis write, so both go in one EXEC and
  there is no window between them.)

Everything here goes through redis-py's asyncio API only, so it runs the same on the
embedded engine, the streamlite server and Redis.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from redis.exceptions import WatchError

from streamlite.events import Retry

from . import keys
from .model import (
    CANCELLED,
    ORDER_CREATED,
    HistoryEvent,
    NewOrder,
    apply_event,
    from_hash,
    rebuild,
    to_hash,
)

T = TypeVar("T")

CONTENT_TYPE = "application/json"
DONE_TTL_MS = 7 * 86_400_000  # how long an applied effect is remembered


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def envelope(event_type: str, data: Mapping[str, Any], event_id: str,
             ts_ms: int) -> dict[str, str]:
    """Stream entry fields in the framework's envelope (docs/framework.md, section 2), so
    ``streamlite.events`` workers decode ``data`` as JSON and see the event type and id."""
    return {"event_type": event_type, "event_id": event_id, "timestamp": str(ts_ms),
            "content_type": CONTENT_TYPE,
            "data": json.dumps(data, ensure_ascii=False, separators=(",", ":"))}


def parse_entry(entry_id: Any, fields: Mapping[Any, Any]) -> HistoryEvent:
    f = {_s(k): _s(v) for k, v in fields.items()}
    try:
        data = json.loads(f.get("data", "{}"))
    except ValueError:
        data = {}
    return HistoryEvent(_s(entry_id), f.get("event_type", ""), f.get("event_id", ""),
                        int(f.get("timestamp") or _s(entry_id).split("-")[0]), data)


async def transact(r: Any, watch: list[str], body: Callable[[Any], Awaitable[T]],
                   attempts: int = 200) -> T:
    """``body(pipe)`` reads (immediately, watched), then calls ``pipe.multi()`` and queues
    writes, or returns without ``multi()`` to write nothing. Repeated when a watched key
    changed before EXEC. Gives up with :class:`Retry` (the message is delivered again
    later) if it keeps losing."""
    for n in range(attempts):
        async with r.pipeline(transaction=True) as pipe:
            try:
                if watch:
                    await pipe.watch(*watch)
                result = await body(pipe)
                if pipe.explicit_transaction:
                    await pipe.execute()
                return result
            except WatchError:
                await asyncio.sleep(random.random() * min(0.05, 0.0005 * 2 ** min(n, 7)))
    raise Retry(f"gave up after {attempts} conflicting transactions on {watch}")


class Change:
    """What one state change of an order writes, queued on a MULTI (see :func:`change`)."""

    def __init__(self, pipe: Any, order_id: str, state: dict[str, Any] | None, ts_ms: int,
                 maxlen: int) -> None:
        self.pipe = pipe
        self.order_id = order_id
        self.state = state
        self.ts_ms = ts_ms
        self.maxlen = maxlen

    def record(self, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Append ``event_type`` to the order's history and store the state it leads to."""
        before = self.state
        after = apply_event(before, event_type, data, self.ts_ms)
        p = self.pipe
        p.hset(keys.order_key(self.order_id), mapping=to_hash(after))
        p.xadd(keys.order_events_key(self.order_id),
               envelope(event_type, data, self.event_id(event_type), self.ts_ms))
        if before is not None:
            p.hincrby(keys.STATUS_COUNTS, before["status"], -1)
        p.hincrby(keys.STATUS_COUNTS, after["status"], 1)
        p.hincrby(keys.FUNNEL, after["status"], 1)
        if after["status"] == CANCELLED:
            p.hincrby(keys.CANCEL_REASONS, str(data.get("reason", "")), 1)
        self.state = after
        return after

    def event_id(self, event_type: str, suffix: str = "") -> str:
        # each event type happens at most once per order: a stable id, the same on every
        # redelivery, which the fan-out consumers use as their idempotency key
        return f"{self.order_id}:{event_type}{suffix}"

    def publish(self, stream: str, event_type: str, data: Mapping[str, Any],
                suffix: str = "") -> None:
        """Add an event to a pipeline stream (in the same EXEC as the state change)."""
        self.pipe.xadd(stream, envelope(event_type, data, self.event_id(event_type, suffix),
                                        self.ts_ms),
                       maxlen=self.maxlen, approximate=True)


async def change(r: Any, order_id: str, expect: frozenset[str] | set[str],
                 body: Callable[[Change], Awaitable[T]], *, watch: list[str] = (),  # type: ignore[assignment]
                 maxlen: int = 1_000_000) -> T | None:
    """Run ``body`` if the order exists and its status is in ``expect``, atomically.

    Returns None (and writes nothing) when the order is missing or in another state:
    the step was done already (a redelivery) or does not apply any more (cancelled)."""
    okey = keys.order_key(order_id)

    async def tx(pipe: Any) -> T | None:
        state = from_hash(await pipe.hgetall(okey))
        if state is None or state["status"] not in expect:
            return None
        c = Change(pipe, order_id, state, now_ms(), maxlen)
        return await body(c)

    return await transact(r, [okey, *watch], tx)


async def once(r: Any, scope: str, ident: str,
               effect: Callable[[Any], Awaitable[None] | None], *,
               watch: list[str] = (), ttl_ms: int = DONE_TTL_MS) -> bool:  # type: ignore[assignment]
    """Apply ``effect(pipe)`` (queued writes; reads before ``pipe.multi()`` are allowed
    when their keys are in ``watch``) once per (scope, ident). False if done before."""
    marker = keys.done_key(scope, ident)

    async def tx(pipe: Any) -> bool:
        if await pipe.exists(marker):
            return False
        res = effect(pipe)
        if asyncio.iscoroutine(res):
            await res
        if not pipe.explicit_transaction:
            pipe.multi()
        pipe.set(marker, 1, px=ttl_ms)
        return True

    return await transact(r, [marker, *watch], tx)


# ---------------------------------------------------------------- orders
def order_id_for(n: int) -> str:
    return f"ORD-{n:08d}"


async def create_order(r: Any, new: NewOrder, *, request_id: str | None = None,
                       maxlen: int = 1_000_000) -> tuple[dict[str, Any], bool]:
    """Store a new order and publish ORDER_CREATED, in one MULTI/EXEC. With a
    ``request_id`` (the Idempotency-Key of the request) a repeated request returns the
    order the first one created, and False."""
    order_id = order_id_for(int(await r.incr(keys.ORDER_SEQ)))
    rkey = keys.request_key(request_id) if request_id else None

    async def tx(pipe: Any) -> tuple[str, bool]:
        if rkey is not None:
            prev = await pipe.get(rkey)
            if prev is not None:
                return _s(prev), False
        pipe.multi()
        ts = now_ms()
        c = Change(pipe, order_id, None, ts, maxlen)
        data = {"order_id": order_id, "customer_id": new.customer_id,
                "customer_name": new.customer_name, "customer_email": new.customer_email,
                "shipping_address": new.shipping_address, "items": new.items,
                "total_amount": new.total_amount, "currency": "KRW",
                "payment_token": new.payment_token}
        c.record(ORDER_CREATED, data)
        pipe.zadd(keys.ORDER_INDEX, {order_id: ts})
        c.publish(keys.ORDER_RECEIVED, ORDER_CREATED, data)
        c.publish(keys.ORDER_EVENTS, ORDER_CREATED, data)
        if rkey is not None:
            pipe.set(rkey, order_id, px=86_400_000)
        return order_id, True

    oid, created = await transact(r, [rkey] if rkey else [], tx)
    state = await get_order(r, oid)
    assert state is not None
    return state, created


async def get_order(r: Any, order_id: str) -> dict[str, Any] | None:
    return from_hash(await r.hgetall(keys.order_key(order_id)))


async def history(r: Any, order_id: str) -> list[HistoryEvent]:
    rows = await r.xrange(keys.order_events_key(order_id), "-", "+")
    return [parse_entry(eid, f) for eid, f in rows]


async def state_at(r: Any, order_id: str, at_ms: int) -> tuple[dict[str, Any] | None, bool]:
    """(the order as it was at ``at_ms``, whether the order exists at all)."""
    h = await history(r, order_id)
    return rebuild(h, at_ms), bool(h)


async def get_orders(r: Any, ids: list[str]) -> list[dict[str, Any] | None]:
    pipe = r.pipeline(transaction=False)
    for i in ids:
        pipe.hgetall(keys.order_key(i))
    return [from_hash(h) for h in await pipe.execute()]


async def recent_orders(r: Any, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    ids = [_s(x) for x in await r.zrevrange(keys.ORDER_INDEX, offset, offset + limit - 1)]
    return [o for o in await get_orders(r, ids) if o is not None]
