"""Retention: what keeps ``streamlite run`` bounded when it is left running.

Without it every order is kept forever (about 25 KB of data per order at the demo's
default shape, 4 GB a day at 2 orders/s). The policy, on by default:

* **Stage streams** (the pipeline's six streams): entries older than ``streams_s`` are
  trimmed with ``XTRIM <stream> MINID ~ <now - streams_s> ACKED`` (Redis 8.2): only
  entries every consumer group has read *and* acknowledged go, so unfinished work (a
  pending entry, one a lagging group has not read yet) is never lost, however old.
* **Finished orders** (COMPLETED or CANCELLED): the order's state, its history, its
  place in the order index, its stock holds and the done-markers of its events' effects
  are deleted ``orders_s`` after it was created (default 7 days); orders the demo placed
  (listed in ``{orders}:demo``) after ``demo_orders_s`` (default 1 hour). An order that
  is not final is never deleted. (A marker guards an effect against a redelivered
  event: after the window, the order's stream entries are gone too, acknowledged.)
* **Analytics** stay as aggregates: the totals, the status counts and the funnel are
  counters; the per-minute buckets expire after 7 days (set where they are written) and
  their index is trimmed to the same window here.
* **The AOF** of the embedded engine is rewritten as it grows (``auto-aof-rewrite-
  percentage`` 100 and ``auto-aof-rewrite-min-size``, Redis's settings and defaults):
  the deletions above shrink the next rewrite, so the files stay bounded too.

One process sweeps at a time (a lock key with a TTL), every ``interval_s``; a sweep
handles at most ``batch`` orders per index, so a backlog is worked off over a few sweeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from . import keys
from .model import FINAL
from .store import get_order, history

log = logging.getLogger("streamlite.apps.retention")

LOCK = "retention:lock"
DEMO_INDEX = "{orders}:demo"   # zset: order id -> created (ms), orders the demo placed
MINUTE_BUCKETS_S = 7 * 86_400  # how long the per-minute analytics live (services.py)


@dataclass
class RetentionPolicy:
    streams_s: float = 3600.0           # acknowledged stream entries kept this long
    orders_s: float = 7 * 86_400.0      # finished orders kept this long after creation
    demo_orders_s: float = 3600.0       # the same for the demo's orders
    interval_s: float = 30.0            # between sweeps
    batch: int = 2000                   # orders looked at per index and sweep
    approximate: bool = True            # XTRIM ~ (whole stream nodes: cheap) or =

    @property
    def enabled(self) -> bool:
        return self.streams_s > 0 or self.orders_s > 0 or self.demo_orders_s > 0


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


async def trim_streams(r: Any, max_age_s: float, now_ms: int,
                       approximate: bool = True) -> dict[str, int]:
    """``XTRIM MINID ~ ... ACKED`` on every pipeline stream: how many entries each lost.
    (``~`` removes whole nodes of the stream only, ``stream-node-max-entries`` = 100
    entries each: a stream keeps up to that many entries beyond the age.)"""
    minid = f"{max(0, now_ms - int(max_age_s * 1000))}-0"
    how = "~" if approximate else "="
    out: dict[str, int] = {}
    for s in keys.PIPELINE_STREAMS:
        out[s] = int(await r.execute_command("XTRIM", s, "MINID", how, minid, "ACKED"))
    return out


async def expire_orders(r: Any, index: str, max_age_s: float, now_ms: int,
                        batch: int) -> int:
    """Delete the finished orders of ``index`` created more than ``max_age_s`` ago (at
    most ``batch`` looked at); how many were deleted."""
    cutoff = now_ms - int(max_age_s * 1000)
    ids = [_s(x) for x in await r.zrangebyscore(index, "-inf", cutoff, start=0, num=batch)]
    deleted = 0
    for oid in ids:
        order = await get_order(r, oid)
        if order is not None and order.get("status") not in FINAL:
            continue  # unfinished work is kept, however old
        await delete_order(r, oid, order)
        deleted += 1
    return deleted


MARKER_HOMES = (keys.RANKING, keys.ANALYTICS_TOTALS, keys.OUTBOX, keys.ALERTS)


async def delete_order(r: Any, oid: str, order: dict[str, Any] | None) -> None:
    """An order's state, history and index entries, and what its events left behind:
    the effects' done-markers (see :func:`.store.once`) and its stock holds, which
    would otherwise stay for their 7-day TTL (most of the keys of a busy data set)."""
    from .followups import publications, steps

    try:
        hist = await history(r, oid)
        event_ids = {pub[3] for st in steps(hist) for pub in publications(oid, st)}
        event_ids |= {e.event_id for e in hist}
    except Exception:  # an unreadable history: the markers expire on their own
        event_ids = set()
    skus = {str(i.get("sku")) for i in (order or {}).get("items") or [] if isinstance(i, dict)}
    p = r.pipeline(transaction=False)
    for eid in event_ids:
        for home in MARKER_HOMES:
            p.delete(keys.done_key(home, eid))
    for sku in skus:
        p.delete(keys.hold_key(sku, oid))
    p.delete(keys.order_key(oid))
    p.delete(keys.order_events_key(oid))
    p.zrem(keys.ORDER_INDEX, oid)
    p.zrem(DEMO_INDEX, oid)
    p.hdel(keys.COUNTED, oid)
    await p.execute()


async def sweep(r: Any, policy: RetentionPolicy, now_ms: int | None = None) -> dict[str, Any]:
    """One pass of the policy; what it removed."""
    now = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    out: dict[str, Any] = {"stream_entries": 0, "orders": 0, "demo_orders": 0}
    if policy.streams_s > 0:
        out["stream_entries"] = sum((await trim_streams(r, policy.streams_s, now,
                                                        policy.approximate)).values())
    if policy.demo_orders_s > 0:
        out["demo_orders"] = await expire_orders(r, DEMO_INDEX, policy.demo_orders_s, now,
                                                 policy.batch)
    if policy.orders_s > 0:
        out["orders"] = await expire_orders(r, keys.ORDER_INDEX, policy.orders_s, now,
                                            policy.batch)
    await r.zremrangebyscore(keys.ANALYTICS_MINUTES, "-inf",
                             now // 1000 - MINUTE_BUCKETS_S)
    return out


async def run_retention(r: Any, policy: RetentionPolicy) -> None:
    """Sweep every ``interval_s`` while holding the lock (one process at a time)."""
    me = f"{os.getpid()}-{id(policy)}"
    ttl_ms = int(max(10.0, policy.interval_s * 3) * 1000)
    while True:
        try:
            holder = await r.get(LOCK)
            if holder is None:
                got = await r.set(LOCK, me, nx=True, px=ttl_ms)
            else:
                got = _s(holder) == me and await r.set(LOCK, me, xx=True, px=ttl_ms)
            if got:
                done = await sweep(r, policy)
                if any(done.values()):
                    log.info("retention: trimmed %d stream entries, deleted %d orders and "
                             "%d demo orders", done["stream_entries"], done["orders"],
                             done["demo_orders"])
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the backend away for a moment: next round
            _raise_if_cancelled()  # a cancel seen as an error
            log.warning("retention sweep failed: %s", e)
        _raise_if_cancelled()  # (redis-py may answer a cancel with the reply)
        await asyncio.sleep(policy.interval_s)


def _raise_if_cancelled() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def note_demo_order(r: Any, order_id: str, created_ms: int) -> None:
    """Remember that the demo placed ``order_id`` (it is expired sooner)."""
    with contextlib.suppress(Exception):
        await r.zadd(DEMO_INDEX, {order_id: created_ms})
