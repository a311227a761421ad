"""Redis's LFU access counters (``maxmemory-policy *-lfu``), for ``OBJECT FREQ``.

Each key keeps ``(minutes << 8) | counter`` as Redis keeps it in the object's 24
``lru`` bits: an 8-bit logarithmic counter that starts at ``LFU_INIT_VAL`` and
decays by one every ``lfu-decay-time`` minutes without access. Tracking is on only
while the policy is an LFU one (``refresh_policy``), as in Redis, where the same bits
hold LRU time otherwise.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core import Engine
    from .database import Database

LFU_INIT_VAL = 5
_rng = random.Random()


def is_lfu(engine: Engine) -> bool:
    policy = engine.config.get("maxmemory-policy", "noeviction")
    if isinstance(policy, bytes):
        policy = policy.decode()
    return str(policy).lower().endswith("-lfu")


def refresh_policy(engine: Engine) -> bool:
    """Turn LFU tracking on or off in every database to follow the policy."""
    on = is_lfu(engine)
    for db in engine.dbs:
        if on and db.lfu is None:
            db.lfu = {}
        elif not on and db.lfu is not None:
            db.lfu = None
    return on


def _minutes(now_ms: int) -> int:
    return (now_ms // 60000) & 0xFFFF


def _decayed(engine: Engine, packed: int, now_ms: int) -> int:
    counter = packed & 0xFF
    ldt = (packed >> 8) & 0xFFFF
    now = _minutes(now_ms)
    elapsed = now - ldt if now >= ldt else 65535 - ldt + now
    decay = int(engine.config.get("lfu-decay-time", 1))
    periods = elapsed // decay if decay else 0
    return 0 if periods > counter else counter - periods


def access(db: Database, key: bytes, now_ms: int, new: bool = False) -> None:
    """Count one access to ``key`` (``updateLFU``); a new key starts at LFU_INIT_VAL."""
    lfu = db.lfu
    if lfu is None:
        return
    packed = lfu.get(key)
    if new or packed is None:
        lfu[key] = (_minutes(now_ms) << 8) | LFU_INIT_VAL
        return
    counter = _decayed(db.engine, packed, now_ms)
    if counter < 255:
        base = max(counter - LFU_INIT_VAL, 0)
        factor = int(db.engine.config.get("lfu-log-factor", 10))
        if _rng.random() < 1.0 / (base * factor + 1):
            counter += 1
    lfu[key] = (_minutes(now_ms) << 8) | counter


def freq(db: Database, key: bytes, now_ms: int) -> int:
    """The decayed counter ``OBJECT FREQ`` answers."""
    lfu = db.lfu
    packed = lfu.get(key) if lfu is not None else None
    if packed is None:
        return LFU_INIT_VAL
    return _decayed(db.engine, packed, now_ms)
