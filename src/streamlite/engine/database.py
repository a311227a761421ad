"""One logical database: the key -> value dict, key expiries, lazy expiry.

Values are plain Python objects; each data type module registers its class and
Redis type name with ``register_type``. Strings are ``bytes``.

Every handler that changes a key calls ``db.touch(key)`` (Redis's
``signalModifiedKey``): it invalidates WATCHes, wakes blocked clients and marks
the command as a write to propagate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import WRONGTYPE, CommandError

if TYPE_CHECKING:
    from .core import Engine

TYPE_NAMES: dict[type, bytes] = {bytes: b"string"}


def register_type(cls: type, name: bytes) -> None:
    """Declare the Redis type name of a value class (``TYPE``, ``SCAN TYPE``)."""
    TYPE_NAMES[cls] = name


def type_name(value: Any) -> bytes:
    return TYPE_NAMES[type(value)]


class Database:
    __slots__ = ("engine", "index", "data", "expires")

    def __init__(self, engine: Engine, index: int) -> None:
        self.engine = engine
        self.index = index
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}  # key -> absolute unix ms

    # -- reading -------------------------------------------------------------

    def lookup(self, key: bytes) -> Any:
        """The live value of ``key`` or None; deletes it first if it has expired."""
        v = self.data.get(key)
        if v is None:
            return None
        if self.expires and key in self.expires and self._expire_if_due(key):
            return None
        return v

    def get_typed(self, key: bytes, cls: type) -> Any:
        """Like lookup, raising WRONGTYPE if the value is not a ``cls``."""
        v = self.lookup(key)
        if v is not None and type(v) is not cls:
            raise CommandError(WRONGTYPE)
        return v

    def exists(self, key: bytes) -> bool:
        return self.lookup(key) is not None

    def _expire_if_due(self, key: bytes) -> bool:
        when = self.expires[key]
        eng = self.engine
        if when > eng.now_ms() or eng.loading:
            return False
        self.remove(key)
        eng.propagate_expired(self.index, key)
        eng.stats_expired_keys += 1
        return True

    # -- writing -------------------------------------------------------------

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` (new or overwritten); drops any TTL unless ``keep_ttl``."""
        self.data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        self.touch(key)

    def remove(self, key: bytes) -> bool:
        """Delete ``key``; True if it existed. Touches it."""
        if key not in self.data:
            return False
        del self.data[key]
        if self.expires:
            self.expires.pop(key, None)
        self.touch(key)
        return True

    def delete(self, key: bytes) -> bool:
        """Delete ``key`` if it is live (expired keys count as absent)."""
        if self.lookup(key) is None:
            return False
        return self.remove(key)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        self.touch(key)

    def persist(self, key: bytes) -> bool:
        if self.expires.pop(key, None) is None:
            return False
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
        k = (self.index, key)
        if eng.watched and k in eng.watched:
            for c in eng.watched[k]:
                c.dirty_cas = True
        if k in eng.blocked_on:
            eng.ready_keys[k] = None

    def clear(self) -> int:
        """Remove every key (FLUSHDB); returns how many there were."""
        n = len(self.data)
        eng = self.engine
        for key in list(self.data):
            k = (self.index, key)
            if k in eng.watched:
                for c in eng.watched[k]:
                    c.dirty_cas = True
            if k in eng.blocked_on:
                eng.ready_keys[k] = None
        self.data = {}
        self.expires = {}
        eng.dirty += max(n, 1)
        return n

    def __len__(self) -> int:
        return len(self.data)
