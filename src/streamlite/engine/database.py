"""One logical database: the key -> value dict, key expiries, lazy expiry.

Values are plain Python objects; each data type module registers its class and
Redis type name with ``register_type``. Strings are ``bytes``.

Every handler that changes a key calls ``db.touch(key)`` (Redis's
``signalModifiedKey``): it invalidates WATCHes, wakes blocked clients and marks
the command as a write to propagate.
"""

from __future__ import annotations

import heapq
import sys
from typing import TYPE_CHECKING, Any

from . import lfu as _lfu
from . import strenc as _strenc
from .errors import WRONGTYPE, CommandError
from .scan import ScanIndex

# commands whose lookups Redis does not count in keyspace_hits/misses (they walk the
# keyspace rather than look a key up; XGROUP's subcommands look up with lookupKeyWrite)
_NO_STATS = frozenset({"scan", "keys", "randomkey", "debug", "xgroup", "memory"})

if TYPE_CHECKING:
    from .core import Engine

TYPE_NAMES: dict[type, bytes] = {bytes: b"string"}


def register_type(cls: type, name: bytes) -> None:
    """Declare the Redis type name of a value class (``TYPE``, ``SCAN TYPE``)."""
    TYPE_NAMES[cls] = name


def type_name(value: Any) -> bytes:
    return TYPE_NAMES[type(value)]


class Database:
    __slots__ = (
        "engine",
        "index",
        "data",
        "expires",
        "exp_heap",
        "scan_index",
        "access",
        "lfu",
        "lrm",
        "str_enc",
        "hexp_heap",
        "ks_dirty",
        "ks_bins",
        "ks_hist",
        "ks_cap",
    )

    def __init__(self, engine: Engine, index: int) -> None:
        self.engine = engine
        self.index = index
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}  # key -> absolute unix ms
        # (when, key) for every TTL set, time-ordered for the active expire cycle;
        # entries whose TTL changed or whose key went are skipped when popped
        self.exp_heap: list[tuple[int, bytes]] = []
        self.scan_index: ScanIndex | None = None  # built by the first SCAN (see scan.py)
        self.access: dict[bytes, int] = {}  # key -> last access ms (OBJECT IDLETIME)
        self.lfu: dict[bytes, int] | None = None  # LFU counters, only under an LFU policy
        # key -> last modification ms, only under an LRM policy (evict.py, Redis 8.6)
        self.lrm: dict[bytes, int] | None = None
        # string encodings that differ from what the value itself implies (see
        # commands/strings.py ``encoding_of``): b"raw" after APPEND/SETRANGE, ...
        self.str_enc: dict[bytes, bytes] = {}
        # (earliest field expiry, key) of hashes with field TTLs (see types/hash.py)
        self.hexp_heap: list[tuple[int, bytes]] = []
        self._reset_keysizes()

    def _reset_keysizes(self) -> None:
        """INFO keysizes' state (see keysizes.py): keys changed since the histograms
        were last settled, each counted key's bin, the count per bin."""
        self.ks_dirty: set[bytes] = set()
        self.ks_bins: dict[bytes, int] = {}
        self.ks_hist: dict[int, int] = {}
        self.ks_cap = 4096

    # -- reading -------------------------------------------------------------

    def lookup(self, key: bytes) -> Any:
        """The live value of ``key`` or None; deletes it first if it has expired.

        Counts as an access (``OBJECT IDLETIME``/``FREQ``); use ``peek`` for lookups
        Redis does with ``LOOKUP_NOTOUCH`` (TYPE, EXISTS, TTL, OBJECT ...).
        """
        v = self.data.get(key)
        if v is None or (self.expires and key in self.expires and self._expire_if_due(key)):
            self.missed(key)
            return None
        eng = self.engine
        cmd = eng.running
        if cmd is not None and not cmd.is_write and cmd.name not in _NO_STATS:
            eng.stats_keyspace_hits += 1
        t = eng._now_ms
        if t is None:
            t = eng.clock.ms()
        self.access[key] = t
        if self.lfu is not None:
            _lfu.access(self, key, t)
        return v

    def peek(self, key: bytes) -> Any:
        """Like ``lookup`` (lazy expiry included) without counting an access."""
        v = self.data.get(key)
        if v is None or (self.expires and key in self.expires and self._expire_if_due(key)):
            self.missed(key)
            return None
        cmd = self.engine.running
        if cmd is not None and not cmd.is_write and cmd.name not in _NO_STATS:
            self.engine.stats_keyspace_hits += 1
        return v

    def missed(self, key: bytes) -> None:
        """A lookup found no ``key``: for the lookups of commands that do not write
        (Redis's ``lookupKeyRead``), a keyspace miss in ``INFO stats`` and the
        ``keymiss`` event (class ``m``). Write commands that read a key as Redis
        does with ``lookupKeyRead`` report it through ``notify.read_miss``."""
        eng = self.engine
        cmd = eng.running
        if cmd is not None and not cmd.is_write and cmd.name not in _NO_STATS:
            eng.stats_keyspace_misses += 1
        if eng.config.get("notify-keyspace-events"):
            from .notify import keymiss

            keymiss(eng, self.index, key)

    def get_typed(self, key: bytes, cls: type) -> Any:
        """Like lookup, raising WRONGTYPE if the value is not a ``cls``."""
        v = self.lookup(key)
        if v is not None and type(v) is not cls:
            raise CommandError(WRONGTYPE)
        return v

    def exists(self, key: bytes) -> bool:
        return self.peek(key) is not None

    def is_expired(self, key: bytes) -> bool:
        """True if ``key`` has a TTL that has passed (whether or not it was deleted yet)."""
        when = self.expires.get(key)
        if when is None:
            return False
        return when < self.engine.now_ms()

    def _expire_if_due(self, key: bytes) -> bool:
        """Delete ``key`` if its TTL passed (Redis: ``now > when``); propagate a DEL.

        As Redis's ``deleteExpiredKeyAndPropagate``: it signals the key (WATCH,
        blocked clients) but is not counted as a change of the running command.
        """
        when = self.expires[key]
        eng = self.engine
        if when >= eng.now_ms() or eng.loading:
            return False
        dirty = eng.dirty
        self.remove(key)
        eng.dirty = dirty
        eng.propagate_expired(self.index, key)
        eng.stats_expired_keys += 1
        if eng.config.get("notify-keyspace-events"):
            from .notify import notify_db

            notify_db(eng, self.index, "x", b"expired", key)
        return True

    # -- writing -------------------------------------------------------------

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` (new or overwritten); drops any TTL unless ``keep_ttl``."""
        data = self.data
        if keep_ttl and key in self.expires:
            self._expire_if_due(key)  # an expired key's TTL is not kept
        new = key not in data
        if new and self.scan_index is not None:
            self.scan_index.add(key)
        data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        if self.str_enc:
            self.str_enc.pop(key, None)
        eng = self.engine
        t = eng._now_ms
        if t is None:
            t = eng.clock.ms()
        self.access[key] = t
        if self.lfu is not None and new:
            _lfu.access(self, key, t, new=True)
        self.touch(key)
        if new and eng.config.get("notify-keyspace-events"):
            from .notify import notify_db

            notify_db(eng, self.index, "n", b"new", key)

    def remove(self, key: bytes) -> bool:
        """Delete ``key``; True if it existed. Touches it."""
        if key not in self.data:
            return False
        del self.data[key]
        if self.expires:
            self.expires.pop(key, None)
        if self.scan_index is not None:
            self.scan_index.discard(key)
        self.access.pop(key, None)
        if self.str_enc:
            self.str_enc.pop(key, None)
        if self.lfu:
            self.lfu.pop(key, None)
        self.touch(key)
        if self.lrm is not None:
            self.lrm.pop(key, None)
        return True

    def delete(self, key: bytes) -> bool:
        """Delete ``key`` if it is live (expired keys count as absent)."""
        if self.peek(key) is None:
            return False
        return self.remove(key)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        if key not in self.expires:
            _strenc.before_ttl_change(self, key, True)
        self.expires[key] = when_ms
        heap = self.exp_heap
        heapq.heappush(heap, (when_ms, key))
        if len(heap) > 2 * len(self.expires) + 1024:
            self.rebuild_exp_heap()
        self.touch(key)

    def rebuild_exp_heap(self) -> None:
        """Drop stale entries: one per key with a TTL, heap-ordered."""
        heap = [(t, k) for k, t in self.expires.items()]
        heapq.heapify(heap)
        self.exp_heap = heap

    def persist(self, key: bytes) -> bool:
        if key not in self.expires:
            return False
        _strenc.before_ttl_change(self, key, False)
        del self.expires[key]
        self.touch(key)
        return True

    def ttl_ms(self, key: bytes) -> int | None:
        """Remaining ms, or None when the key has no TTL (caller checks existence)."""
        when = self.expires.get(key)
        if when is None:
            return None
        return max(0, when - self.engine.now_ms())

    def touch(self, key: bytes) -> None:
        """Signal that ``key`` changed (WATCH, blocked clients, dirty counter)."""
        eng = self.engine
        eng.dirty += 1
        dirty = self.ks_dirty
        dirty.add(key)
        if len(dirty) > self.ks_cap:
            from .keysizes import settle

            settle(self)
        if eng.watched or eng.blocked_on:  # most writes: nobody watches or waits
            k = (self.index, key)
            if eng.watched and k in eng.watched:
                for c in eng.watched[k]:
                    c.dirty_cas = True
            if k in eng.blocked_on:
                eng.ready_keys[k] = None
        if eng.tracking is not None:  # client-side caching: tell the key's readers
            eng.tracking.invalidate(key)
        if self.lrm is not None:
            t = eng._now_ms
            self.lrm[key] = t if t is not None else eng.clock.ms()

    # -- whole-database operations ------------------------------------------

    def signal_all(self, other: Database | None = None) -> None:
        """Signal every watched or blocked-on key of this database that exists here
        (or in ``other``, the contents replacing these): Redis's
        ``touchAllWatchedKeysInDb`` and ``scanDatabaseForDeletedKeys``/``ReadyKeys``."""
        eng = self.engine
        idx = self.index
        data = self.data
        odata = other.data if other is not None else None
        if eng.watched:
            for (i, key), clients in eng.watched.items():
                if i == idx and (key in data or (odata is not None and key in odata)):
                    for c in clients:
                        c.dirty_cas = True
        if eng.blocked_on:
            for i, key in eng.blocked_on:
                if i == idx and (key in data or (odata is not None and key in odata)):
                    eng.ready_keys[(i, key)] = None

    def clear(self) -> int:
        """Remove every key (FLUSHDB); returns how many there were."""
        n = len(self.data)
        self.signal_all()
        self.data = {}
        self.expires = {}
        self.exp_heap = []
        self.scan_index = None
        self.access = {}
        if self.lfu is not None:
            self.lfu = {}
        if self.lrm is not None:
            self.lrm = {}
        self.str_enc = {}
        self.hexp_heap = []
        self._reset_keysizes()
        self.engine.dirty += max(n, 1)
        return n

    def swap_contents(self, other: Database) -> None:
        """SWAPDB: exchange every key with ``other``; clients stay on their index."""
        self.signal_all(other)
        other.signal_all(self)
        for attr in ("data", "expires", "exp_heap", "scan_index", "access", "lfu", "lrm",
                     "str_enc", "hexp_heap", "ks_dirty", "ks_bins", "ks_hist", "ks_cap"):
            a, b = getattr(self, attr), getattr(other, attr)
            setattr(self, attr, b)
            setattr(other, attr, a)
        self.engine.dirty += 1

    def __len__(self) -> int:
        return len(self.data)


def key_memory(key: bytes, value: Any) -> int:
    """MEMORY USAGE: the value's own estimate plus the key and its table entry."""
    usage = getattr(value, "mem_usage", None)
    v = usage() if usage is not None else sys.getsizeof(value)
    return int(v) + sys.getsizeof(key) + 16
