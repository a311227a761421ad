"""Key expiry: parsing expire arguments as Redis does, and the active expire cycle.

Lazy expiry lives in ``Database.lookup``/``peek`` (a key is expired when ``now >
when``, Redis's ``keyIsExpired``). The active cycle reclaims expired keys nobody
reads, as Redis's ``activeExpireCycle`` does from ``serverCron``; fronts call
``engine.active_expire()`` periodically.

Redis samples random keys of its (unordered) expires dict and repeats while more
than 10% of a sample was expired. Each database here keeps its TTLs in a
time-ordered heap instead (``Database.exp_heap``, the approach Redis itself takes
for hash fields with its ``ebuckets``), so a cycle pops exactly the keys that are
due, oldest first, and stops at its budget: no sampling error, no wasted probes.
A cycle stopped by its budget counts as Redis's stopped by its time limit (INFO
``expired_time_cap_reached_count``); ``expired_stale_perc`` is estimated from what
a cycle expired (``_stale_estimate``).
Heap entries made stale by a changed TTL or a deleted key are skipped when popped
and compacted away when they outnumber live TTLs.
"""

from __future__ import annotations

import heapq
import random
import time
from typing import TYPE_CHECKING

from .args import LLONG_MAX, parse_int
from .errors import INVALID_EXPIRE, NOT_INTEGER, CommandError

if TYPE_CHECKING:
    from .core import Engine

LLONG_MIN = -LLONG_MAX - 1
_rng = random.Random()


def invalid_expire(cmd: str) -> CommandError:
    return CommandError(INVALID_EXPIRE.format(cmd))


def set_expire_ms(raw: bytes, unit_ms: int, relative: bool, now_ms: int, cmd: str) -> int:
    """An absolute expire time in ms from a SET/GETEX/SETEX-style argument.

    As Redis's ``getExpireMillisecondsOrReply``: a strict integer, strictly
    positive, no overflow when converted to ms and made absolute.
    """
    v = parse_int(raw, NOT_INTEGER)
    if v <= 0 or (unit_ms == 1000 and v > LLONG_MAX // 1000):
        raise invalid_expire(cmd)
    v *= unit_ms
    if relative:
        if v > LLONG_MAX - now_ms:
            raise invalid_expire(cmd)
        v += now_ms
    return v


def expire_cmd_ms(raw: bytes, unit_ms: int, basetime: int, cmd: str) -> int:
    """The absolute ms of an EXPIRE-family argument (negative values allowed)."""
    v = parse_int(raw, NOT_INTEGER)
    if unit_ms == 1000:
        if v > LLONG_MAX // 1000 or v < -(LLONG_MAX // 1000):
            raise invalid_expire(cmd)
        v *= 1000
    if v > LLONG_MAX - basetime:
        raise invalid_expire(cmd)
    return v + basetime


def active_expire_cycle(engine: Engine, budget: int = 200, deadline_ns: int | None = None) -> int:
    """Delete up to ``budget`` expired keys, databases visited round-robin, stopping
    at ``deadline_ns`` (``time.perf_counter_ns``) when given: Redis's slow cycle, which
    runs until nothing sampled is due or its time limit (25% of the cron period).

    Returns how many keys were deleted. Each deletion propagates a ``DEL`` and
    counts in ``engine.stats_expired_keys``, as a lazy one does.
    """
    from . import lfu

    if engine.loading or engine._depth:
        return 0  # never in the middle of a command (its time snapshot must hold)
    lfu.refresh_policy(engine)  # serverCron-like housekeeping
    removed = 0
    volatile = 0  # keys with a TTL, and those due, in the databases visited: for
    due = 0.0  # expired_stale_perc
    ndb = len(engine.dbs)
    start = engine.expire_cursor % ndb
    engine._now_ms = now = engine.clock.ms()
    try:
        for step in range(ndb):
            db = engine.dbs[(start + step) % ndb]
            if db.expires:
                v = len(db.expires)
                n = _expire_db(db, now, budget - removed, deadline_ns)
                volatile += v
                stopped = n >= budget - removed or (deadline_ns is not None and _past(deadline_ns))
                due += n + (_due_share(db, now) * (v - n) if stopped else 0)
                removed += n
            if db.hexp_heap and removed < budget:
                from .types.hash import active_expire_fields

                removed += active_expire_fields(db, now, budget - removed, deadline_ns)
            if removed >= budget or (deadline_ns is not None and _past(deadline_ns)):
                engine.expire_cursor = (start + step) % ndb  # resume here next time
                engine.stats_expire_cycle_cap_reached += 1
                break
        else:
            engine.expire_cursor = start
    finally:
        engine._now_ms = None
    _stale_estimate(engine, due, volatile)
    return removed


def _stale_estimate(engine: Engine, due: float, volatile: int) -> None:
    """INFO ``expired_stale_perc``: Redis keeps a running average (each cycle weighs
    5%) of the share of expired keys among the keys with a TTL its cycle sampled,
    random keys, so about the share of the keys with a TTL that were due. A cycle here
    knows that share when it expired every due key; when its budget stopped it, the
    rest is estimated by ``_due_share``. A cycle with no TTL at all counts as 0%."""
    perc = due / volatile if volatile else 0.0
    engine.stats_expired_stale_perc = perc * 0.05 + engine.stats_expired_stale_perc * 0.95


def _due_share(db, now: int) -> float:  # type: ignore[no-untyped-def]
    """The share of due keys among a database's remaining TTLs, from up to 20 random
    live entries of its heap (Redis's sample size), after a cycle stopped early."""
    heap, exp = db.exp_heap, db.expires
    live = due = 0
    for _ in range(40):
        if not heap or live == 20:
            break
        when, key = heap[_rng.randrange(len(heap))]
        if exp.get(key) == when:
            live += 1
            due += when < now
    return due / live if live else 0.0


def _past(deadline_ns: int) -> bool:
    return time.perf_counter_ns() >= deadline_ns


def _expire_db(db, now: int, budget: int,  # type: ignore[no-untyped-def]
               deadline_ns: int | None = None) -> int:
    heap = db.exp_heap
    exp = db.expires
    if len(heap) < len(exp):  # someone set TTLs without set_expire: re-index
        db.rebuild_exp_heap()
        heap = db.exp_heap
    removed = 0
    probes = 0
    while heap and heap[0][0] < now and removed < budget and probes < 4 * budget:
        when, key = heapq.heappop(heap)
        probes += 1
        if exp.get(key) != when:
            continue  # stale: TTL changed or key gone
        if db._expire_if_due(key):
            removed += 1
            # the time limit is read every 64 keys, as Redis's cycle does every 16 loops
            if deadline_ns is not None and not removed & 63 and _past(deadline_ns):
                break
    return removed
