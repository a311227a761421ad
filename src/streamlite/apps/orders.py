"""Orders change one atomic step at a time, each step in the order's own hash slot.

* :func:`change` moves an order to its next state: it reads the order, lets the stage
  compute the new state (the reducer of :mod:`.model`) and the event to record, and
  applies both (the new state in ``order:{id}``, the event appended to
  ``order:{id}:events``), guarded by the order's ``version``, with the step's follow-ups
  (counters, stock, the events for the next stages: :mod:`.followups`): in the same script
  on one server, as one-slot steps after it on a cluster. If the order changed meanwhile
  it reads again and recomputes. A redelivered message finds the order past that stage
  and writes nothing: the state machine refuses to apply a step twice. Whoever reads an
  order first finishes follow-ups a crash interrupted (on a cluster, between a step and
  its follow-ups), so the redelivery of the message that caused the step repairs it.
* :func:`create_order` (``POST /api/orders``) first adds ``ORDER_CREATED`` with the whole
  order to ``order-received``, then stores the order (:func:`materialize`). An
  ``ORDER_CREATED`` entry is therefore the order's intake record: a process that dies
  between the two leaves the entry, and the inventory consumer creates the order from it
  (the same :func:`materialize`, guarded by the order's absence) before reserving stock.
  With an Idempotency-Key the request is remembered first (``SET NX``), so a repeated
  request answers the order the first one created.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from streamlite.events import DeadLetter, Retry

from . import keys
from .followups import FOLLOWED, Step, apply_with_followups, ensure
from .model import (
    ORDER_CREATED,
    HistoryEvent,
    NewOrder,
    ValidationError,
    apply_event,
    from_hash,
    to_hash,
    validate_order,
)
from .store import Ops, envelope, get_order, now_ms

T = TypeVar("T")

SETTLE_S = 1.0  # how long a fresh step's own process is given to finish its follow-ups


def order_id_for(n: int) -> str:
    return f"ORD-{n:08d}"


def event_id(order_id: str, event_type: str) -> str:
    # each event type happens at most once per order: a stable id, the same on every
    # redelivery, which the fan-out consumers use as their idempotency key
    return f"{order_id}:{event_type}"


async def _backoff(n: int) -> None:
    await asyncio.sleep(random.random() * min(0.05, 0.0005 * 2 ** min(n, 7)))


def _text(h: Mapping[Any, Any]) -> dict[str, str]:
    return {(k.decode() if isinstance(k, bytes) else str(k)):
            (v.decode() if isinstance(v, bytes) else str(v)) for k, v in h.items()}


class Change:
    """One state change of an order (see :func:`change`): ``record`` events and add
    guards on ``ops`` (keys of the order's slot only); applied together."""

    def __init__(self, order_id: str, state: dict[str, Any] | None, ts_ms: int) -> None:
        self.order_id = order_id
        self.state = state
        self.ts_ms = ts_ms
        self.ops = Ops(keys.order_key(order_id))
        self.steps: list[Step] = []

    def record(self, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Append ``event_type`` to the order's history and store the state it leads to."""
        before = self.state
        after = apply_event(before, event_type, data, self.ts_ms)
        eid = event_id(self.order_id, event_type)
        self.ops.hset(keys.order_key(self.order_id), to_hash(after))
        self.ops.xadd(keys.order_events_key(self.order_id),
                      envelope(event_type, data, eid, self.ts_ms))
        self.steps.append(Step(int(after["version"]),
                               HistoryEvent("", event_type, eid, self.ts_ms, dict(data)),
                               before, after))
        self.state = after
        return after


async def change(r: Any, order_id: str, expect: frozenset[str] | set[str],
                 body: Callable[[Change], Awaitable[T]], *, must_exist: bool = True,
                 maxlen: int = 1_000_000, attempts: int = 100) -> T | None:
    """Run ``body`` if the order's status is in ``expect``, and apply what it recorded
    atomically, provided the order is still at the version ``body`` saw; then the
    follow-ups (:func:`.followups.ensure`).

    Returns None (and changes nothing but missing follow-ups) when the order is in
    another state: the step was done already (a redelivery) or does not apply any more
    (cancelled). A missing order is a poison message (:class:`DeadLetter`) unless
    ``must_exist`` is False."""
    okey = keys.order_key(order_id)
    for n in range(attempts):
        raw = _text(await r.hgetall(okey))
        state = from_hash(raw)
        if state is None:
            if must_exist:
                raise DeadLetter(f"no order {order_id}")
            return None
        # what earlier steps started comes first (on a cluster: see followups.py)
        if int(raw.get(FOLLOWED, 0)) < state["version"]:
            raw = await _settled(r, okey, raw, state)
            await ensure(r, order_id, maxlen, (raw, []))
        if state["status"] not in expect:
            return None
        c = Change(order_id, state, now_ms())
        c.ops.require(okey, "version", state["version"])
        result = await body(c)
        if not c.steps or await apply_with_followups(r, c.ops, order_id, c.steps,
                                                     maxlen) == 0:
            return result
        await _backoff(n)  # the order moved: look again
    raise Retry(f"order {order_id}: gave up after {attempts} conflicting changes")


async def _settled(r: Any, okey: str, raw: dict[str, str],
                   state: dict[str, Any]) -> dict[str, str]:
    """The order's hash once a step applied a moment ago (on a cluster) has had the time
    to be followed up by the process that applied it, which is busy with it now (``raw``
    as it is if that takes longer than ``SETTLE_S``: then that process may have died,
    and the caller finishes its follow-ups)."""
    now = time.time()  # (bounded by now + SETTLE_S too: clocks of machines differ)
    deadline = min(state.get("updated_ms", 0) / 1000 + SETTLE_S, now + SETTLE_S)
    while time.time() < deadline:
        await asyncio.sleep(0.02)
        followed = await r.hget(okey, FOLLOWED)
        if int(followed or 0) >= state["version"]:
            return {**raw, FOLLOWED: str(int(followed))}
    return raw


def creation_data(order_id: str, new: NewOrder) -> dict[str, Any]:
    return {"order_id": order_id, "customer_id": new.customer_id,
            "customer_name": new.customer_name, "customer_email": new.customer_email,
            "shipping_address": new.shipping_address, "items": new.items,
            "total_amount": new.total_amount, "currency": "KRW",
            "payment_token": new.payment_token}


async def materialize(r: Any, data: Mapping[str, Any], ts_ms: int,
                      maxlen: int) -> tuple[dict[str, Any], bool]:
    """Store the order ``data`` describes (its ORDER_CREATED), unless it exists: (the
    order, whether this call stored it). Then its follow-ups."""
    order_id = str(data["order_id"])
    c = Change(order_id, None, ts_ms)
    c.ops.require_absent(keys.order_key(order_id))
    state = c.record(ORDER_CREATED, data)
    if await apply_with_followups(r, c.ops, order_id, c.steps, maxlen) == 0:
        return state, True
    existing = await get_order(r, order_id)
    assert existing is not None, order_id
    await ensure(r, order_id, maxlen)
    return existing, False


async def create_order(r: Any, new: NewOrder, *, request_id: str | None = None,
                       maxlen: int = 1_000_000) -> tuple[dict[str, Any], bool]:
    """Create an order: ORDER_CREATED to ``order-received``, then the order itself (see
    the module's docstring). With a ``request_id`` (the Idempotency-Key of the request)
    a repeated request returns the order the first one created, and False."""
    rkey = keys.request_key(request_id) if request_id else None
    prev = await r.get(rkey) if rkey is not None else None
    if prev is None:
        order_id = order_id_for(int(await r.incr(keys.ORDER_SEQ)))
        if rkey is not None and not await r.set(rkey, order_id, nx=True, px=86_400_000):
            prev = await r.get(rkey)  # the same request, concurrently: it won
    if prev is not None:
        order_id = prev.decode() if isinstance(prev, bytes) else str(prev)
        existing = await get_order(r, order_id)
        if existing is not None:
            await ensure(r, order_id, maxlen)
            return existing, False
        # the first request died before storing it: this one does
    ts = now_ms()
    data = creation_data(order_id, new)
    await r.xadd(keys.ORDER_RECEIVED, envelope(ORDER_CREATED, data,
                                               event_id(order_id, ORDER_CREATED), ts),
                 maxlen=maxlen, approximate=True)
    state, stored = await materialize(r, data, ts, maxlen)
    # (the inventory consumer may have stored it from the entry first: still this
    # request's new order, unless it repeats an earlier request)
    return state, stored or prev is None


async def creation_from_entry(r: Any, data: Mapping[str, Any],
                              catalog: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The order an ORDER_CREATED entry describes, checked as the API checks a request
    (and its id must be one the API handed out); :class:`DeadLetter` if it is not one."""
    try:
        order_id = str(data["order_id"])
        n = int(order_id.removeprefix("ORD-"))
        body = {"customer_id": data["customer_id"], "customer_name": data["customer_name"],
                "customer_email": data["customer_email"],
                "shipping_address": data["shipping_address"],
                "payment_token": data["payment_token"],
                "items": [{"sku": i["sku"], "quantity": i["quantity"],
                           "unit_price": i["unit_price"]} for i in data["items"]]}
        new = validate_order(body, catalog)
    except (KeyError, TypeError, ValueError, ValidationError) as e:
        raise DeadLetter(f"not a valid order: {e}") from None
    if order_id != order_id_for(n) or n > int(await r.get(keys.ORDER_SEQ) or 0):
        raise DeadLetter(f"{order_id} is not an order id the API handed out")
    return creation_data(order_id, new)
