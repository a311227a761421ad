"""The atomic steps of the order pipeline, and reading orders back.

Every write of the pipeline goes through :func:`apply`: a list of write commands and the
*guards* they depend on, sent as one Lua script call. The script checks the guards (a
hash field equals a value, a hash field is at least a number, a key is absent) and, only
if all hold, runs the commands; Redis runs a script atomically, so all or nothing is
written and nothing can come in between the check and the writes. One round trip.

Every key of one :class:`Ops` must be in the hash slot of its *home* key (the script is
routed there on Redis Cluster; :class:`Ops` refuses a key of another slot on every
backend, so a layout mistake shows at once in the tests). The key layout of
:mod:`.keys` makes each step one slot: an order's state change and its history entry
(:mod:`.orders`); a product's stock and its holds, the order counters, analytics,
ranking, alerts, the notification outbox (:mod:`.followups` and :func:`once`).

:func:`once` applies an effect that is not an order state change (ranking, analytics,
notifications, alerts) once per event: the effect and a marker ``{<home>}:done:<event
id>`` are written together, guarded by the marker's absence. A second delivery finds the
marker and changes nothing. (The framework's ``idempotent=True`` helper sets its marker
after the effect; here the effect is itself a Redis write, so both go in one atomic step
and there is no window between them.)

Everything goes through redis-py's asyncio API (``register_script``: EVALSHA), so it
runs the same on the embedded engine, the streamlite server, Redis and Redis Cluster.
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from streamlite.events import key_slot

from . import keys
from .model import HistoryEvent, from_hash, rebuild

CONTENT_TYPE = "application/json"
DONE_TTL_MS = 7 * 86_400_000  # how long an applied effect is remembered

# The stock holds of one order line (see followups.py), as a Lua function shared by the
# step script below (release/sell as follow-ups) and HOLD_LUA (reserve: its answer is
# needed). product: the product's hash; key: the hold; op: reserve|release|sell.
HOLD_FN = """
local function hold(product, key, op, n, ttl)
  local h = redis.call('GET', key)
  local held = h and string.sub(h, 1, 5) == 'held:'
  if op == 'reserve' then
    if h then return h end
    local stock = tonumber(redis.call('HGET', product, 'stock') or '0')
    if stock < n then return 'short:' .. stock end
    redis.call('HINCRBY', product, 'stock', -n)
    redis.call('HINCRBY', product, 'reserved', n)
    h = 'held:' .. (stock - n) .. ':' .. stock
    redis.call('SET', key, h)
    return h
  end
  if held then
    redis.call('HINCRBY', product, 'reserved', -n)
    redis.call('HINCRBY', product, op == 'release' and 'stock' or 'sold', n)
  end
  if held or not h then
    h = op == 'release' and 'released' or 'sold'
    redis.call('SET', key, h, 'PX', ttl)
  end
  return h
end
"""

# ARGV: <number of blocks>, then each block: <number of guards>, guards (eq key field
# value | ge key field number | lt key field number | absent key), <number of
# commands>, commands (each <argc> <arg1> ... <argN>; the pseudo-command HOLD product
# hold op units ttl runs hold() above). The first block's guards are checked before
# anything is written: if one fails, the script returns its number and writes nothing.
# A later block whose guards fail is skipped. Returns 0 when the first block applied.
APPLY_LUA = "local unpack = unpack or table.unpack\n" + HOLD_FN + """
-- the number of the first of ng guards at ARGV[i] that fails (0: none), and where
-- the guards end
local function failed(i, ng)
  local first = 0
  for g = 1, ng do
    local kind = ARGV[i]
    local bad
    if kind == 'absent' then
      bad = redis.call('EXISTS', ARGV[i + 1]) == 1
      i = i + 2
    else
      local v = redis.call('HGET', ARGV[i + 1], ARGV[i + 2])
      local want = ARGV[i + 3]
      bad = (kind == 'eq' and v ~= want)
          or (kind == 'ge' and (tonumber(v) or 0) < tonumber(want))
          or (kind == 'lt' and (tonumber(v) or 0) >= tonumber(want))
      i = i + 4
    end
    if bad and first == 0 then first = g end
  end
  return first, i
end
local i = 2
for b = 1, tonumber(ARGV[1]) do
  local g
  g, i = failed(i + 1, tonumber(ARGV[i]))
  if g ~= 0 and b == 1 then return g end
  local nc = tonumber(ARGV[i])
  i = i + 1
  for c = 1, nc do
    local n = tonumber(ARGV[i])
    if g ~= 0 then
      -- a later block whose guard failed: skipped
    elseif ARGV[i + 1] == 'HOLD' then
      hold(ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6])
    else
      redis.call(unpack(ARGV, i + 1, i + n))
    end
    i = i + n + 1
  end
end
return 0
"""

# KEYS[1] product hash, KEYS[2] hold; ARGV[1] op, ARGV[2] units, ARGV[3] TTL (ms) of a
# final hold. Returns the hold after the call.
HOLD_LUA = HOLD_FN + "return hold(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), ARGV[3])\n"


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


class CrossSlot(ValueError):
    """A key of another hash slot than the step's home: a layout mistake."""


class Ops:
    """Guards and write commands for one atomic :func:`apply` (redis-py-like methods),
    all on keys of ``home``'s hash slot. :meth:`merge` appends the blocks of other
    steps, to run in the same script where one script may touch every slot (one server,
    not a cluster): a merged block whose guards fail is skipped (and the blocks after
    it), the first block's guards decide for the whole script."""

    def __init__(self, home: str) -> None:
        self.home = home
        self.slot = key_slot(home)
        self.guards: list[Any] = []
        self.n_guards = 0
        self.cmds: list[Any] = []
        self.n_cmds = 0
        self.merged: list[Ops] = []

    def _key(self, key: str) -> str:
        if key_slot(key) != self.slot:
            raise CrossSlot(f"{key!r} is not in the slot of {self.home!r}: one step, one slot")
        return key

    # guards
    def require(self, key: str, field: str, value: Any) -> None:
        self.guards += ["eq", self._key(key), field, str(value)]
        self.n_guards += 1

    def require_at_least(self, key: str, field: str, n: int) -> None:
        self.guards += ["ge", self._key(key), field, str(n)]
        self.n_guards += 1

    def require_below(self, key: str, field: str, n: int) -> None:
        """The hash field (0 when missing) is less than ``n``."""
        self.guards += ["lt", self._key(key), field, str(n)]
        self.n_guards += 1

    def require_absent(self, key: str) -> None:
        self.guards += ["absent", self._key(key)]
        self.n_guards += 1

    # writes (every command used here has its key first)
    def command(self, name: str, key: str, *args: Any) -> None:
        self.cmds += [2 + len(args), name, self._key(key), *args]
        self.n_cmds += 1

    def hold(self, product: str, hold: str, op: str, units: int, ttl_ms: int) -> None:
        """Release or sell a stock hold (see HOLD_FN)."""
        self.command("HOLD", product, self._key(hold), op, units, ttl_ms)

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

    def plain(self) -> list[list[Any]] | None:
        """The commands as they are, when they need no script (no guards, no HOLD)."""
        if self.n_guards or self.merged:
            return None
        out, i = [], 0
        while i < len(self.cmds):
            n = self.cmds[i]
            cmd = self.cmds[i + 1:i + 1 + n]
            if cmd[0] == "HOLD":
                return None
            out.append(cmd)
            i += n + 1
        return out

    def merge(self, *others: Ops) -> Ops:
        self.merged.extend(others)
        return self

    def argv(self) -> list[Any]:
        blocks = [self, *self.merged]
        out: list[Any] = [len(blocks)]
        for b in blocks:
            out += [b.n_guards, *b.guards, b.n_cmds, *b.cmds]
        return out


_SCRIPTS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def script(r: Any, source: str) -> Any:
    """``source`` registered on client ``r`` (once per client)."""
    per_client = _SCRIPTS.get(r)
    if per_client is None:
        per_client = _SCRIPTS[r] = {}
    s = per_client.get(source)
    if s is None:
        s = per_client[source] = r.register_script(source)
    return s


async def apply(r: Any, ops: Ops) -> int:
    """Run ``ops`` atomically if its guards hold: 0, else the failed guard's number."""
    return int(await script(r, APPLY_LUA)(keys=[ops.home], args=ops.argv()))


async def queue_apply(r: Any, pipe: Any, ops: Ops) -> None:
    """Queue :func:`apply` of ``ops`` on ``pipe`` (a pipeline of ``r``); one reply per
    queued command. Ops of one unguarded command are sent as that command."""
    plain = ops.plain()
    if plain is not None and len(plain) == 1:
        pipe.execute_command(*plain[0])
        return
    await script(r, APPLY_LUA)(keys=[ops.home], args=ops.argv(), client=pipe)


async def once(r: Any, home: str, ident: str, effect: Callable[[Ops], None], *,
               ttl_ms: int = DONE_TTL_MS) -> bool:
    """Apply the writes ``effect(ops)`` queues (on keys of ``home``'s slot) once per
    (home, ident), atomically with the marker that says so. False if it was done before."""
    marker = keys.done_key(home, ident)
    ops = Ops(home)
    ops.require_absent(marker)
    effect(ops)
    ops.set(marker, 1, px=ttl_ms)
    return await apply(r, ops) == 0


# ---------------------------------------------------------------- reading orders
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
