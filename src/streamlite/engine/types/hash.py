"""The hash value: field -> value, in insertion order, with Redis's encodings and field TTLs.

A Python dict keeps insertion order, and an update keeps a field's place, which is
exactly how a Redis listpack-encoded hash orders its fields: so HGETALL, HKEYS,
HSCAN ... of a small hash answer in Redis's own order. ``OBJECT ENCODING`` is
``listpack`` until the hash outgrows ``hash-max-listpack-entries`` fields or gets a
field or value longer than ``hash-max-listpack-value`` bytes; then it is
``hashtable`` for good (Redis never converts back).

``scan_index`` is the HSCAN cursor index of a ``hashtable`` hash (see ``scan.py``),
built on its first HSCAN and kept in step by ``set``/``delete``.

Field TTLs (Redis 7.4's hash field expiration) live in ``ttls`` (field -> absolute
ms). An expired field is deleted when a command reads it (``expire_fields``) and by
the active expire cycle, which finds hashes through ``Database.hexp_heap`` (one
``(when, key)`` entry per TTL set, stale ones skipped, as for key TTLs); each
deletion propagates ``HDEL key field`` and counts in ``stats_expired_subkeys``.
Commands that iterate (HGETALL, HKEYS, HVALS, HSCAN) skip expired fields without
deleting them, and HLEN counts them until they are reclaimed, as in Redis.
A hash that once had a field TTL answers ``listpackex`` while small.
"""

from __future__ import annotations

import heapq
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..database import register_type
from ..notify import notify_db, subkeys
from ..scan import ScanIndex

if TYPE_CHECKING:
    from ..core import Engine
    from ..database import Database

DEFAULT_MAX_ENTRIES = 512  # Redis 8's hash-max-listpack-entries
DEFAULT_MAX_VALUE = 64


class Hash:
    __slots__ = ("d", "big", "scan_index", "ttls", "ex")

    def __init__(self) -> None:
        self.d: dict[bytes, bytes] = {}
        self.big = False  # True once converted to a hashtable
        self.scan_index: ScanIndex | None = None
        self.ttls: dict[bytes, int] | None = None  # field -> absolute ms (field TTLs)
        self.ex = False  # listpackex: a field had a TTL once

    # -- reading ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.d)

    def __contains__(self, field: bytes) -> bool:
        return field in self.d

    def get(self, field: bytes) -> bytes | None:
        return self.d.get(field)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self.d.items())

    def keys(self) -> Iterator[bytes]:
        return iter(self.d)

    def values(self) -> Iterator[bytes]:
        return iter(self.d.values())

    def live_items(self, now: int) -> Iterator[tuple[bytes, bytes]]:
        """Fields whose TTL has not passed (iteration skips expired fields)."""
        ttls = self.ttls
        if not ttls:
            return iter(self.d.items())
        return ((f, v) for f, v in self.d.items() if not (f in ttls and ttls[f] < now))

    def is_live(self, field: bytes, now: int) -> bool:
        ttls = self.ttls
        return field in self.d and not (ttls and field in ttls and ttls[field] < now)

    def ttl_of(self, field: bytes) -> int | None:
        return self.ttls.get(field) if self.ttls else None

    def set_ttl(self, field: bytes, when: int) -> None:
        if self.ttls is None:
            self.ttls = {}
        self.ttls[field] = when
        self.ex = True

    def persist(self, field: bytes) -> bool:
        ttls = self.ttls
        if not ttls or field not in ttls:
            return False
        del ttls[field]
        if not ttls:
            self.ttls = None
        return True

    def min_ttl(self) -> int | None:
        return min(self.ttls.values()) if self.ttls else None

    def on_placed(self, db: Database, key: bytes) -> None:
        """Stored under ``key`` (RENAME, MOVE, COPY): register its field TTLs there."""
        when = self.min_ttl()
        if when is not None:
            heapq.heappush(db.hexp_heap, (when, key))

    # -- writing ---------------------------------------------------------------

    def set(self, field: bytes, value: bytes, keep_ttl: bool = False) -> bool:
        """Set a field (dropping its TTL unless ``keep_ttl``); True if it is new."""
        d = self.d
        new = field not in d
        if new and self.scan_index is not None:
            self.scan_index.add(field)
        d[field] = value
        if self.ttls and not keep_ttl:
            self.persist(field)
        return new

    def delete(self, field: bytes) -> bool:
        d = self.d
        if field not in d:
            return False
        del d[field]
        if self.scan_index is not None:
            self.scan_index.discard(field)
        if self.ttls:
            self.persist(field)
        return True

    def dup(self) -> Hash:
        h = Hash()
        h.d = dict(self.d)
        h.big = self.big
        h.ttls = dict(self.ttls) if self.ttls else None
        h.ex = self.ex
        return h

    # -- encoding --------------------------------------------------------------

    def convert_if_needed(self, engine: Engine, *items: bytes, pairs: int = 0) -> None:
        """Convert to hashtable if any of ``items`` is too long, there are too many
        fields, or ``pairs`` (field-value pairs about to be set) alone is too many."""
        if self.big:
            return
        cfg = engine.config
        maxe = int(cfg.get("hash-max-listpack-entries", DEFAULT_MAX_ENTRIES))
        if pairs > maxe or len(self.d) > maxe:
            self.big = True
            return
        maxv = int(cfg.get("hash-max-listpack-value", DEFAULT_MAX_VALUE))
        for it in items:
            if len(it) > maxv:
                self.big = True
                return

    def encoding(self) -> bytes:
        if self.big:
            return b"hashtable"
        return b"listpackex" if self.ex else b"listpack"

    def mem_usage(self) -> int:
        if not self.big:
            n = 16 + 7  # listpack header and end
            for f, v in self.d.items():
                n += len(f) + len(v) + 4
            return n + 16
        size = sys.getsizeof(self.d)
        for f, v in self.d.items():
            size += sys.getsizeof(f) + sys.getsizeof(v)
        return size


register_type(Hash, b"hash")


def hashes_with_ttls(db: Database) -> int:
    """How many hashes of ``db`` have field TTLs (INFO keyspace's ``subexpiry``)."""
    return sum(1 for v in db.data.values() if type(v) is Hash and v.ttls)


def track_ttl(db: Database, key: bytes, when: int) -> None:
    """Index a field TTL of the hash at ``key`` for the active expire cycle."""
    heap = db.hexp_heap
    heapq.heappush(heap, (when, key))
    if len(heap) > 4096 and len(heap) > 2 * _live_ttl_count(db):
        rebuild_hexp_heap(db)


def _live_ttl_count(db: Database) -> int:
    return sum(len(v.ttls) for v in db.data.values() if type(v) is Hash and v.ttls)


def rebuild_hexp_heap(db: Database) -> None:
    heap = [(v.min_ttl(), k) for k, v in db.data.items() if type(v) is Hash and v.ttls]
    heapq.heapify(heap)
    db.hexp_heap = heap  # type: ignore[assignment]


def expire_fields(db: Database, key: bytes, h: Hash, now: int,
                  fields: list[bytes] | None = None, notify: bool = True) -> int:
    """Delete the expired fields of ``h`` (all, or those among ``fields``).

    Each goes to the AOF as ``HDEL key field``; a hash left empty is deleted. Like
    key expiry, this signals the key but is not a change of the running command.
    Notifies one ``hexpired`` (then ``del`` for an emptied hash), as Redis does.
    """
    ttls = h.ttls
    eng = db.engine
    if not ttls or eng.loading:
        return 0
    if fields is None:
        due = [f for f, t in ttls.items() if t < now]
    else:
        due = list(dict.fromkeys(f for f in fields if f in ttls and ttls[f] < now))
    if not due:
        return 0
    dirty = eng.dirty
    for f in due:
        h.delete(f)
        eng.propagate(db.index, [b"HDEL", key, f])
    eng.stats_expired_subkeys += len(due)
    if notify:
        notify_db(eng, db.index, "h", b"hexpired", key)
        subkeys(eng, db.index, b"hexpired", key, due)
    if len(h) == 0:
        db.remove(key)
        if notify:
            notify_db(eng, db.index, "g", b"del", key)
    else:
        db.touch(key)
    eng.dirty = dirty
    return len(due)


def active_expire_fields(db: Database, now: int, budget: int,
                         deadline_ns: int | None = None) -> int:
    """The active expire cycle's part for hash fields; returns fields deleted (stops
    at ``deadline_ns`` of ``time.perf_counter_ns`` when given, checked per hash)."""
    heap = db.hexp_heap
    done = 0
    probes = 0
    while heap and heap[0][0] < now and done < budget and probes < 4 * budget:
        if deadline_ns is not None and time.perf_counter_ns() >= deadline_ns:
            break
        _, key = heapq.heappop(heap)
        probes += 1
        h = db.peek(key)
        if type(h) is not Hash or not h.ttls:
            continue
        done += expire_fields(db, key, h, now)
        when = h.min_ttl()
        if when is not None and db.data.get(key) is h:
            heapq.heappush(heap, (when, key))
    return done
