"""Follow-ups: what an order's state change sets off outside the order's own slot.

An order step (:func:`.orders.change`) writes only the order's keys (its state and its
history entry, one hash slot). Everything else a step causes is derived from the history
entry it wrote, and applied afterwards, idempotently, by :func:`ensure`:

* **counters** (``{orders}`` slot): orders per status now, the funnel, cancellations per
  reason, the index of orders; applied once per history entry: the hash
  ``{orders}:counted`` remembers, per order, how many of its history entries were
  counted, and each entry's increments are guarded by it (one atomic step each);
* **stock** (the product's slot): a cancelled order releases its holds, a completed one
  sells them (see *holds* below);
* **publications**: the events for the next stages and for the fan-out consumers
  (``inventory-check``, ``payment-processing``, ``order-events``...).

When all of them are applied the order's hash records it (field ``_followed``: how many
history entries are followed up). Whoever touches an order next (the stage handler that
made the change, a redelivery of its message, the next stage, the API) calls
:func:`ensure`, which applies what is missing, in history order. So a process killed
between a step and its follow-ups leaves the message that caused the step
unacknowledged; its redelivery finds the order past that step and finishes the
follow-ups. Nothing is lost and nothing is counted twice; a publication can be repeated
(a crash between it and the ``_followed`` mark), which the consumers tolerate: stage
handlers are guarded by the order's state, fan-out effects by their markers.

**Holds** (``{product:<sku>}:hold:<order>``, next to the product's hash) make stock moves
idempotent and ordered per (order, product): ``reserve`` moves units from ``stock`` to
``reserved`` and stores ``held:<left>:<before>`` (or answers ``short:<stock>`` and holds
nothing); ``release`` gives held units back, ``sell`` moves them to ``sold``; both leave
a final ``released`` / ``sold`` that a late ``reserve`` cannot undo (a release of a
product that was never held leaves ``released`` too, so a reservation still in flight
for a cancelled order holds nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streamlite.events.connection import is_cluster
from streamlite.events.scripts import execute

from . import keys
from .model import (
    CANCEL_OUT_OF_STOCK,
    CANCELLED,
    LOW_STOCK,
    ORDER_CANCELLED,
    ORDER_COMPLETED,
    ORDER_CREATED,
    ORDER_SHIPPED,
    OUT_OF_STOCK,
    PAYMENT_COMPLETED,
    PAYMENT_FAILED_EVENT,
    PAYMENT_REQUESTED,
    STOCK_RESERVED,
    HistoryEvent,
    apply_event,
)
from .store import (
    APPLY_LUA,
    DONE_TTL_MS,
    HOLD_LUA,
    Ops,
    apply,
    envelope,
    parse_entry,
    queue_apply,
    script,
)

FOLLOWED = "_followed"  # order hash field: history entries whose follow-ups are applied

# where each history event is published (ORDER_CREATED reaches order-received before
# the order exists: see orders.create_order)
ROUTES: dict[str, tuple[str, ...]] = {
    ORDER_CREATED: (keys.ORDER_EVENTS,),
    STOCK_RESERVED: (keys.INVENTORY_CHECK,),
    PAYMENT_REQUESTED: (keys.PAYMENT_PROCESSING,),
    PAYMENT_COMPLETED: (keys.PAYMENT_RESULT, keys.ORDER_EVENTS),
    PAYMENT_FAILED_EVENT: (keys.PAYMENT_RESULT, keys.ORDER_EVENTS),
    ORDER_SHIPPED: (keys.SHIPPING_DISPATCH, keys.ORDER_EVENTS),
    ORDER_COMPLETED: (keys.ORDER_EVENTS,),
    ORDER_CANCELLED: (keys.ORDER_EVENTS,),
}

def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


async def holds(r: Any, order_id: str, op: str, items: Iterable[Mapping[str, Any]]) -> list[str]:
    """``op`` (reserve, release, sell) for each order line, in one pipeline: the holds."""
    items = list(items)
    if not items:
        return []
    s = script(r, HOLD_LUA)

    async def build(pipe: Any) -> None:
        for it in items:
            await s(keys=[keys.product_key(it["sku"]), keys.hold_key(it["sku"], order_id)],
                    args=[op, int(it["quantity"]), DONE_TTL_MS], client=pipe)

    return [_s(x) for x in await execute(r, build, [HOLD_LUA])]


def held_levels(hold: str) -> tuple[int, int] | None:
    """(units left after the reservation, units before it) of a ``held:`` hold."""
    if not hold.startswith("held:"):
        return None
    _, left, before = hold.split(":")
    return int(left), int(before)


@dataclass
class Step:
    """One history entry (the ``index``-th, from 1) with the order before and after it."""

    index: int
    event: HistoryEvent
    before: dict[str, Any] | None
    after: dict[str, Any]


def steps(history: list[HistoryEvent]) -> list[Step]:
    out: list[Step] = []
    state: dict[str, Any] | None = None
    for i, e in enumerate(history, 1):
        after = apply_event(state, e.event_type, e.data, e.timestamp_ms)
        out.append(Step(i, e, state, after))
        state = after
    return out


def counter_ops(order_id: str, step: Step) -> Ops:
    """The counters' increments for one history entry, guarded by ``{orders}:counted``."""
    o = Ops(keys.STATUS_COUNTS)
    o.require_below(keys.COUNTED, order_id, step.index)
    if step.before is not None:
        o.hincrby(keys.STATUS_COUNTS, step.before["status"], -1)
    status = step.after["status"]
    o.hincrby(keys.STATUS_COUNTS, status, 1)
    o.hincrby(keys.FUNNEL, status, 1)
    if status == CANCELLED:
        o.hincrby(keys.CANCEL_REASONS, str(step.event.data.get("reason", "")), 1)
    if step.event.event_type == ORDER_CREATED:
        o.zadd(keys.ORDER_INDEX, {order_id: step.after["created_ms"]})
    o.hset(keys.COUNTED, {order_id: step.index})
    return o


def publications(order_id: str, step: Step) -> list[tuple[str, str, dict[str, Any], str]]:
    """(stream, event type, data, event id) of each event this history entry publishes
    (event ids are stable: ``<order>:<event type>[:<sku>]``)."""
    e = step.event
    data = {k: v for k, v in e.data.items() if k != "low_stock"}
    out = [(stream, e.event_type, data, e.event_id) for stream in ROUTES.get(e.event_type, ())]
    if e.event_type == STOCK_RESERVED:
        for x in e.data.get("low_stock", []):
            out.append((keys.INVENTORY_CHECK, LOW_STOCK, x,
                        f"{order_id}:{LOW_STOCK}:{x['sku']}"))
    if e.event_type == ORDER_CANCELLED and e.data.get("reason") == CANCEL_OUT_OF_STOCK:
        fields = ("order_id", "sku", "name", "requested", "available")
        info: dict[str, Any] = {k: e.data[k] for k in fields if k in e.data}
        out.append((keys.INVENTORY_CHECK, OUT_OF_STOCK, info, f"{order_id}:{OUT_OF_STOCK}"))
    return out


def stock_op(step: Step) -> str | None:
    """The holds a history entry settles: a cancelled order's are released (including
    any reservation still in flight), a completed order's sold."""
    if step.event.event_type == ORDER_CANCELLED:
        return "release"
    if step.event.event_type == ORDER_COMPLETED:
        return "sell"
    return None


def followup_ops(order_id: str, todo: Iterable[Step], maxlen: int) -> list[Ops]:
    """The follow-ups of ``todo`` (history entries, in order), one :class:`Ops` per slot
    touched and entry: counters, publications, stock holds."""
    out: list[Ops] = []
    for st in todo:
        out.append(counter_ops(order_id, st))
        for stream, etype, data, eid in publications(order_id, st):
            o = Ops(stream)
            o.xadd(stream, envelope(etype, data, eid, st.event.timestamp_ms), maxlen=maxlen)
            out.append(o)
        op = stock_op(st)
        for it in (st.after.get("items") or []) if op is not None else []:
            assert op is not None
            product = keys.product_key(it["sku"])
            o = Ops(product)
            o.hold(product, keys.hold_key(it["sku"], order_id), op, int(it["quantity"]),
                   DONE_TTL_MS)
            out.append(o)
    return out


def mark_ops(order_id: str, index: int) -> Ops:
    """Record in the order that its first ``index`` history entries are followed up."""
    okey = keys.order_key(order_id)
    o = Ops(okey)
    o.require_below(okey, FOLLOWED, index)
    o.hset(okey, {FOLLOWED: index})
    return o


async def pending(r: Any, order_id: str, raw: Mapping[Any, Any],
                  recent: list[Step]) -> list[Step]:
    """The history entries of the order (``raw``: its hash) not followed up yet; reads
    the history unless they are exactly ``recent``."""
    h = {_s(k): _s(v) for k, v in raw.items()}
    if not h:
        return []
    version, followed = int(h.get("version", 0)), int(h.get(FOLLOWED, 0))
    if followed >= version:
        return []
    if recent and recent[0].index == followed + 1 and recent[-1].index == version:
        return recent
    rows = await r.xrange(keys.order_events_key(order_id), "-", "+")
    return steps([parse_entry(i, f) for i, f in rows])[followed:]


async def apply_with_followups(r: Any, head: Ops, order_id: str, todo: list[Step],
                               maxlen: int) -> int:
    """Apply ``head`` (the order's step, or an empty one), then the follow-ups of
    ``todo`` and the mark that they are done: in one script on one server (every key is
    reachable from one script there), as separate steps in a pipeline on a cluster
    (``head`` first; the mark only once every follow-up succeeded). ``head``'s result."""
    ops = followup_ops(order_id, todo, maxlen)
    mark = mark_ops(order_id, todo[-1].index) if todo else None
    if not is_cluster(r):
        return await apply(r, head.merge(*ops, *([mark] if mark else [])))
    if head.n_guards or head.n_cmds:
        res = await apply(r, head)
        if res != 0:
            return res
    if ops:
        async def build(pipe: Any) -> None:
            for o in ops:
                await queue_apply(r, pipe, o)

        await execute(r, build, [APPLY_LUA])  # (every follow-up is safe to repeat)
    if mark is not None:
        await apply(r, mark)
    return 0


async def ensure(r: Any, order_id: str, maxlen: int,
                 known: tuple[Mapping[Any, Any], list[Step]] | None = None) -> None:
    """Apply the follow-ups of the order's history entries not followed up yet.

    ``known``: the order's hash as just read or written, and the steps just applied (when
    they are all that is not followed up, the history need not be read)."""
    raw, recent = known if known is not None else (
        await r.hgetall(keys.order_key(order_id)), [])
    todo = await pending(r, order_id, raw, recent)
    if todo:
        await apply_with_followups(r, Ops(keys.order_key(order_id)), order_id, todo, maxlen)
