"""Eviction: freeing memory for ``maxmemory`` by deleting keys (Redis's ``evict.c``).

Model. Before a command that may grow memory (``denyoom`` ones, and anything in
MULTI) the engine checks ``maxmemory``; above it, ``perform_evictions`` deletes
keys chosen by ``maxmemory-policy`` until the memory to free (used minus the
limit) is freed, then the command runs. If no key can go (``noeviction``, no
keys, or only keys without a TTL under a ``volatile-*`` policy) the command gets
``-OOM``. Each evicted key counts in INFO ``evicted_keys``, sends the ``evicted``
keyspace event (class ``e``), invalidates client-side caches and propagates as
``DEL`` (``UNLINK`` with ``lazyfree-lazy-eviction``).

Choosing, as Redis approximates it: ``*-random`` picks a random key, visiting the
databases in turn; ``*-lru``, ``*-lfu``, ``*-lrm`` (least recently modified, Redis 8.6:
only writes count, ``Database.lrm``) and ``volatile-ttl`` sample
``maxmemory-samples`` random keys of every database into a pool of the 16 best
candidates (the longest idle, the least frequently used, the soonest to expire),
kept between rounds, and evict the best candidate still present. ``allkeys-*``
sample every key, ``volatile-*`` only keys with a TTL.

Memory. What is freed is counted by the value's own estimate (the one MEMORY
USAGE gives), since the process's resident size, which ``used_memory`` reports on
the server, does not shrink when Python frees objects (it keeps the arenas for
reuse). So the estimate freed is credited against that figure, and the credit shrinks
by as much as the figure grows (growth means the freed room is in use again). A
probe that does shrink with the data declares ``reflects_frees = True`` and gets no
credit.

Random keys come from a per-database snapshot of the key list (a C-speed copy,
rebuilt when the database's size moved by a quarter or its picks keep finding
deleted keys), as Python's dicts offer no random access.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from . import lfu as _lfu

if TYPE_CHECKING:
    from .core import Engine
    from .database import Database

POOL_SIZE = 16  # EVPOOL_SIZE
_rng = random.Random()

POLICIES = ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
            "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction",
            "volatile-lrm", "allkeys-lrm")


def refresh_lrm(eng: Engine) -> None:
    """Keep modification times (``Database.lrm``) only under an ``*-lrm`` policy."""
    on = str(eng.config.get("maxmemory-policy", "")).endswith("-lrm")
    for db in eng.dbs:
        if on and db.lrm is None:
            db.lrm = {}
        elif not on:
            db.lrm = None


class Evictor:
    """Eviction state of one engine: the pool, the snapshots, the memory credit."""

    __slots__ = ("pool", "snapshots", "next_db", "credit", "mark")

    def __init__(self) -> None:
        self.pool: list[tuple[float, int, bytes]] = []  # ascending score
        self.snapshots: dict[tuple[int, bool], tuple[list[bytes], int]] = {}
        self.next_db = 0
        self.credit = 0  # bytes evicted that the probe does not show yet
        self.mark = 0  # the probe's value when they were evicted

    # -- memory --------------------------------------------------------------------

    def effective(self, raw: int) -> int:
        """The used memory: the probe's figure less the estimate of what eviction
        freed and the probe does not show. Growth of the probe past its mark uses
        that room up by as much (the freed memory was in use again first)."""
        if not self.credit:
            return raw
        if raw > self.mark:
            self.credit = max(self.credit - (raw - self.mark), 0)
            self.mark = raw
        return max(raw - self.credit, 0)

    # -- sampling ------------------------------------------------------------------

    def _keys(self, db: Database, allkeys: bool) -> list[bytes]:
        d: Any = db.data if allkeys else db.expires
        snap = self.snapshots.get((db.index, allkeys))
        n = len(d)
        if snap is None or abs(n - snap[1]) * 4 > snap[1] or not snap[0]:
            snap = (list(d), n)
            self.snapshots[(db.index, allkeys)] = snap
        return snap[0]

    def random_key(self, db: Database, allkeys: bool) -> bytes | None:
        d: Any = db.data if allkeys else db.expires
        for attempt in range(16):
            keys = self._keys(db, allkeys)
            if not keys:
                return None
            k = keys[_rng.randrange(len(keys))]
            if k in d:
                return k
            if attempt % 4 == 3:  # too many ghosts: take a fresh snapshot
                self.snapshots.pop((db.index, allkeys), None)
        return next(iter(d), None)

    def sample(self, db: Database, allkeys: bool, count: int) -> list[bytes]:
        d: Any = db.data if allkeys else db.expires
        if len(d) <= count:
            return list(d)
        keys = self._keys(db, allkeys)
        out = []
        for _ in range(count):
            k = keys[_rng.randrange(len(keys))]
            if k in d:
                out.append(k)
        if not out:
            self.snapshots.pop((db.index, allkeys), None)
            out = [k for k in (self.random_key(db, allkeys),) if k is not None]
        return out

    def populate(self, eng: Engine, db: Database, allkeys: bool, policy: str) -> None:
        """Redis's ``evictionPoolPopulate``: score sampled keys, keep the best 16."""
        now = eng.now_ms()
        samples = int(eng.config.get("maxmemory-samples", 5))
        pool = self.pool
        for k in self.sample(db, allkeys, samples):
            if policy.endswith("lru"):
                score = float(now - db.access.get(k, now))
            elif policy.endswith("lrm"):  # reads do not count; keys older than the
                # policy fall back to their last access
                lrm = db.lrm if db.lrm is not None else {}
                score = float(now - lrm.get(k, db.access.get(k, now)))
            elif policy.endswith("lfu"):
                score = float(255 - _lfu.freq(db, k, now))
            else:  # volatile-ttl: the sooner it expires, the better
                score = -float(db.expires.get(k, 0))
            if len(pool) >= POOL_SIZE and score <= pool[0][0]:
                continue
            entry = (score, db.index, k)
            if any(e[1] == db.index and e[2] == k for e in pool):
                continue
            lo = 0
            while lo < len(pool) and pool[lo][0] < score:
                lo += 1
            pool.insert(lo, entry)
            if len(pool) > POOL_SIZE:
                pool.pop(0)

    def best(self, eng: Engine, policy: str, allkeys: bool) -> tuple[Database, bytes] | None:
        while True:
            total = 0
            for db in eng.dbs:
                n = len(db.data if allkeys else db.expires)
                if n:
                    total += n
                    self.populate(eng, db, allkeys, policy)
            if not total:
                return None
            while self.pool:
                _, dbid, k = self.pool.pop()
                db = eng.dbs[dbid]
                if k in (db.data if allkeys else db.expires):
                    return db, k
            # every pooled key was a ghost: sample again


def evictor(eng: Engine) -> Evictor:
    ev = eng.ext.get("evict")
    if ev is None:
        ev = eng.ext["evict"] = Evictor()
    return ev


def perform_evictions(eng: Engine) -> bool:
    """Free memory down to ``maxmemory``; False when it cannot (the caller answers -OOM)."""
    limit = int(eng.config.get("maxmemory", 0))
    if not limit:
        return True
    used = eng.used_memory()
    if used <= limit:
        return True
    policy = str(eng.config.get("maxmemory-policy", "noeviction")).lower()
    if policy == "noeviction":
        return False
    from .commands.server import key_memory
    from .latency import monitor
    from .notify import notify_db

    ev = evictor(eng)
    probe = eng.memory_probe
    raw = probe() if probe is not None else 0
    credit = not getattr(probe, "reflects_frees", False)
    allkeys = policy.startswith("allkeys")
    to_free = used - limit
    freed = 0
    lazy = bool(eng.config.get("lazyfree-lazy-eviction", False))
    t0 = eng.clock.ms()
    evicted_any = False
    while freed < to_free:
        pick: tuple[Database, bytes] | None = None
        if policy.endswith("random"):
            n = len(eng.dbs)
            for _ in range(n):
                ev.next_db = (ev.next_db + 1) % n
                db = eng.dbs[ev.next_db]
                k = ev.random_key(db, allkeys)
                if k is not None:
                    pick = (db, k)
                    break
        else:
            pick = ev.best(eng, policy, allkeys)
        if pick is None:
            break
        db, key = pick
        value = db.data.get(key)
        size = key_memory(key, value) if value is not None else 0
        dirty = eng.dirty
        db.remove(key)  # touches: WATCH, client-side caches
        eng.dirty = dirty
        freed += size
        eng.stats_evicted_keys = getattr(eng, "stats_evicted_keys", 0) + 1
        evicted_any = True
        notify_db(eng, db.index, "e", b"evicted", key)
        eng.propagate(db.index, [b"UNLINK" if lazy else b"DEL", key])
    if evicted_any and credit:
        if ev.credit == 0 or raw > ev.mark:
            ev.mark = raw
        ev.credit += freed
    threshold = int(eng.config.get("latency-monitor-threshold", 0))
    took = eng.clock.ms() - t0
    if evicted_any and threshold and took >= threshold:
        monitor(eng).add("eviction-cycle", took, eng.clock.ms() // 1000)
    return freed >= to_free
