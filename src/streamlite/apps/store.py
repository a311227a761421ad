"""Reading and changing orders in Redis, every change atomic and applied once.

Every write of the pipeline goes through :func:`apply`: a list of write commands and the
*guards* they depend on, sent as one Lua script call. The script checks the guards (a
hash field equals a value, a hash field is at least a number, a key is absent) and, only
if all hold, runs the commands; Redis runs a script atomically, so all or nothing is
written and nothing can come in between the check and the writes. One round trip.

* :func:`change` moves an order to its next state: it reads the order, lets the stage
  compute the new state (the reducer of :mod:`.model`) and the events to publish, and
  applies them guarded by the order's ``version``. If the order changed meanwhile (or a
  stock guard fails) it reads again and recomputes. A redelivered message finds the order
  past that stage and writes nothing: the state machine refuses to apply a step twice.
  The new state, the event appended to the order's history, the stock counters and the
  events published to the next stage's stream are written together, so a crash leaves
  all or nothing.
* :func:`once` does the same for effects that are not order state changes (ranking,
  analytics, notifications, alerts): the effect and a marker ``done:{scope}:<event id>``
  are written together, guarded by the marker's absence. A second delivery finds the
  marker and changes nothing. (The framework's ``idempotent=True`` helper sets its marker
  after the effect; here the effect is itself a Redis write, so both go in one atomic
  step and there is no window between them.)

Everything goes through redis-py's asyncio API (``register_script``: EVALSHA), so it
runs the same on the embedded engine, the streamlite server and Redis. Keys touched are
not all declared in KEYS (fine on one node, as the pipeline's streams are shared anyway;
Redis Cluster would need the keys of one apply in one slot).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from streamlite.events import DeadLetter, Retry

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

# ARGV: <number of guards>, guards (eq key field value | ge key field number | absent key),
# then commands, each as <argc> <arg1> ... <argc>. Returns 0 when applied, else the
# number of the first guard that failed (nothing written).
APPLY_LUA = """
local unpack = unpack or table.unpack
local i = 2
for g = 1, tonumber(ARGV[1]) do
  local kind = ARGV[i]
  if kind == 'eq' then
    if redis.call('HGET', ARGV[i + 1], ARGV[i + 2]) ~= ARGV[i + 3] then return g end
    i = i + 4
  elseif kind == 'ge' then
    local v = redis.call('HGET', ARGV[i + 1], ARGV[i + 2])
    if (tonumber(v) or 0) < tonumber(ARGV[i + 3]) then return g end
    i = i + 4
  else
    if redis.call('EXISTS', ARGV[i + 1]) == 1 then return g end
    i = i + 2
  end
end
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 0
"""


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


class Ops:
    """Guards and write commands for one atomic :func:`apply` (redis-py-like methods)."""

    def __init__(self) -> None:
        self.guards: list[Any] = []
        self.n_guards = 0
        self.cmds: list[Any] = []

    # guards
    def require(self, key: str, field: str, value: Any) -> None:
        self.guards += ["eq", key, field, str(value)]
        self.n_guards += 1

    def require_at_least(self, key: str, field: str, n: int) -> None:
        self.guards += ["ge", key, field, str(n)]
        self.n_guards += 1

    def require_absent(self, key: str) -> None:
        self.guards += ["absent", key]
        self.n_guards += 1

    # writes
    def command(self, *args: Any) -> None:
        self.cmds += [len(args), *args]

    def hset(self, key: str, mapping: Mapping[str, Any]) -> None:
        flat: list[Any] = []
        for k, v in mapping.items():
            flat += [k, v]
        self.command("HSET", key, *flat)

    def hincrby(self, key: str, field: str, n: int) -> None:
        self.command("HINCRBY", key, field, n)

    def xadd(self, key: str, fields: Mapping[str, Any], maxlen: int | None = None) -> None:
        flat: list[Any] = []
        for k, v in fields.items():
            flat += [k, v]
        trim = ["MAXLEN", "~", maxlen] if maxlen else []
        self.command("XADD", key, *trim, "*", *flat)

    def zadd(self, key: str, mapping: Mapping[str, float]) -> None:
        flat: list[Any] = []
        for m, sc in mapping.items():
            flat += [sc, m]
        self.command("ZADD", key, *flat)

    def zincrby(self, key: str, n: float, member: str) -> None:
        self.command("ZINCRBY", key, n, member)

    def set(self, key: str, value: Any, px: int | None = None) -> None:
        self.command("SET", key, value, *(["PX", px] if px else []))

    def expire(self, key: str, seconds: int) -> None:
        self.command("EXPIRE", key, seconds)

    def argv(self) -> list[Any]:
        return [self.n_guards, *self.guards, *self.cmds]


_SCRIPTS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


async def apply(r: Any, ops: Ops) -> int:
    """Run ``ops`` atomically if its guards hold: 0, else the failed guard's number."""
    script = _SCRIPTS.get(r)
    if script is None:
        script = _SCRIPTS[r] = r.register_script(APPLY_LUA)
    return int(await script(keys=[], args=ops.argv()))


async def _backoff(n: int) -> None:
    await asyncio.sleep(random.random() * min(0.05, 0.0005 * 2 ** min(n, 7)))


class Change:
    """One state change of an order (see :func:`change`): ``record`` an event, ``publish``
    events, and more writes and guards on ``ops``; applied together."""

    def __init__(self, order_id: str, state: dict[str, Any] | None, ts_ms: int,
                 maxlen: int) -> None:
        self.order_id = order_id
        self.state = state
        self.ts_ms = ts_ms
        self.maxlen = maxlen
        self.ops = Ops()

    def record(self, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Append ``event_type`` to the order's history and store the state it leads to."""
        before = self.state
        after = apply_event(before, event_type, data, self.ts_ms)
        o = self.ops
        o.hset(keys.order_key(self.order_id), to_hash(after))
        o.xadd(keys.order_events_key(self.order_id),
               envelope(event_type, data, self.event_id(event_type), self.ts_ms))
        if before is not None:
            o.hincrby(keys.STATUS_COUNTS, before["status"], -1)
        o.hincrby(keys.STATUS_COUNTS, after["status"], 1)
        o.hincrby(keys.FUNNEL, after["status"], 1)
        if after["status"] == CANCELLED:
            o.hincrby(keys.CANCEL_REASONS, str(data.get("reason", "")), 1)
        self.state = after
        return after

    def event_id(self, event_type: str, suffix: str = "") -> str:
        # each event type happens at most once per order: a stable id, the same on every
        # redelivery, which the fan-out consumers use as their idempotency key
        return f"{self.order_id}:{event_type}{suffix}"

    def publish(self, stream: str, event_type: str, data: Mapping[str, Any],
                suffix: str = "") -> None:
        """Add an event to a pipeline stream (in the same atomic step as the change)."""
        self.ops.xadd(stream, envelope(event_type, data, self.event_id(event_type, suffix),
                                       self.ts_ms), maxlen=self.maxlen)


async def change(r: Any, order_id: str, expect: frozenset[str] | set[str],
                 body: Callable[[Change], Awaitable[T]], *, must_exist: bool = True,
                 maxlen: int = 1_000_000, attempts: int = 100) -> T | None:
    """Run ``body`` if the order's status is in ``expect``, and apply what it queued
    atomically, provided the order is still at the version ``body`` saw.

    Returns None (and writes nothing) when the order is in another state: the step was
    done already (a redelivery) or does not apply any more (cancelled). A missing order
    is a poison message (:class:`DeadLetter`) unless ``must_exist`` is False."""
    okey = keys.order_key(order_id)
    for n in range(attempts):
        state = from_hash(await r.hgetall(okey))
        if state is None:
            if must_exist:
                raise DeadLetter(f"no order {order_id}")
            return None
        if state["status"] not in expect:
            return None
        c = Change(order_id, state, now_ms(), maxlen)
        c.ops.require(okey, "version", state["version"])
        result = await body(c)
        if not c.ops.cmds or await apply(r, c.ops) == 0:
            return result
        await _backoff(n)  # the order or a guarded counter moved: look again
    raise Retry(f"order {order_id}: gave up after {attempts} conflicting changes")


async def once(r: Any, scope: str, ident: str, effect: Callable[[Ops], None], *,
               ttl_ms: int = DONE_TTL_MS) -> bool:
    """Apply the writes ``effect(ops)`` queues once per (scope, ident), atomically with
    the marker that says so. False if it was done before."""
    marker = keys.done_key(scope, ident)
    ops = Ops()
    ops.require_absent(marker)
    effect(ops)
    ops.set(marker, 1, px=ttl_ms)
    return await apply(r, ops) == 0


# ---------------------------------------------------------------- orders
def order_id_for(n: int) -> str:
    return f"ORD-{n:08d}"


async def create_order(r: Any, new: NewOrder, *, request_id: str | None = None,
                       maxlen: int = 1_000_000) -> tuple[dict[str, Any], bool]:
    """Store a new order and publish ORDER_CREATED, atomically. With a ``request_id``
    (the Idempotency-Key of the request) a repeated request returns the order the first
    one created, and False."""
    rkey = keys.request_key(request_id) if request_id else None
    if rkey is not None:
        prev = await r.get(rkey)
        if prev is not None:
            return await _existing(r, _s(prev)), False
    order_id = order_id_for(int(await r.incr(keys.ORDER_SEQ)))
    ts = now_ms()
    c = Change(order_id, None, ts, maxlen)
    data = {"order_id": order_id, "customer_id": new.customer_id,
            "customer_name": new.customer_name, "customer_email": new.customer_email,
            "shipping_address": new.shipping_address, "items": new.items,
            "total_amount": new.total_amount, "currency": "KRW",
            "payment_token": new.payment_token}
    if rkey is not None:
        c.ops.require_absent(rkey)
        c.ops.set(rkey, order_id, px=86_400_000)
    state = c.record(ORDER_CREATED, data)
    c.ops.zadd(keys.ORDER_INDEX, {order_id: ts})
    c.publish(keys.ORDER_RECEIVED, ORDER_CREATED, data)
    c.publish(keys.ORDER_EVENTS, ORDER_CREATED, data)
    if await apply(r, c.ops) != 0:  # the same request, concurrently: it won
        assert rkey is not None
        return await _existing(r, _s(await r.get(rkey))), False
    return state, True


async def _existing(r: Any, order_id: str) -> dict[str, Any]:
    state = await get_order(r, order_id)
    assert state is not None, order_id
    return state


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
