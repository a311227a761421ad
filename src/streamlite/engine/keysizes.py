"""INFO keysizes: per-database histograms of key sizes, as Redis 8 keeps them.

The model. Redis counts every string, list, set, sorted set and hash key of a database
in one power-of-two bin of its type's histogram: a string by its length in bytes
(bitmaps and HyperLogLogs are strings), the others by their number of elements; bin
``2^i`` holds sizes ``2^i .. 2^(i+1)-1`` and bin ``0`` the empty strings. Streams,
arrays and other types are not counted. INFO prints, per database and type, the
non-empty bins in ascending order: ``db0_distrib_lists_items:2=1,8=3``, with
``K``/``M``/``G``/``T``/``P`` for powers of 1024.

Redis updates the histogram inside every command that changes a length. Here every
change already goes through ``Database.touch(key)`` (the rule the engine keeps for
WATCH and blocked clients), so ``touch`` only notes the key in ``db.ks_dirty``; the
bin each counted key was last put in lives in ``db.ks_bins`` and the counts in
``db.ks_hist``. ``settle`` recounts the noted keys: when INFO reads the histograms,
and whenever the noted set outgrows the database (so a workload that never calls INFO
keeps it bounded). A key that expired but was not removed yet stays counted, as in
Redis, until lazy or active expiry removes it (which touches it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .types.hash import Hash
from .types.list import ListValue
from .types.set import SetValue
from .types.zset import ZSetValue

if TYPE_CHECKING:
    from .core import Engine
    from .database import Database

# the histograms in the order Redis prints them; a slot is kind * _BINS + bin, where
# bin is the size's bit length (0 for an empty string, 1 for 1, 2 for 2-3, ...)
_NAMES = ("strings_sizes", "lists_items", "sets_items", "zsets_items", "hashes_items")
_KIND: dict[type, int] = {bytes: 0, ListValue: 1, SetValue: 2, ZSetValue: 3, Hash: 4}
_BINS = 65
# settle when more keys are noted than this (or than the database holds)
MIN_CAP = 4096


def settle(db: Database) -> None:
    """Move every noted key to the bin of its current size (or out, if it went)."""
    dirty = db.ks_dirty
    if not dirty:
        return
    bins = db.ks_bins
    hist = db.ks_hist
    data = db.data
    kind_of = _KIND.get
    for key in dirty:
        old = bins.pop(key, None)
        if old is not None:
            n = hist[old] - 1
            if n:
                hist[old] = n
            else:
                del hist[old]
        v = data.get(key)
        if v is None:
            continue
        kind = kind_of(type(v))
        if kind is None:
            continue
        slot = kind * _BINS + len(v).bit_length()
        bins[key] = slot
        hist[slot] = hist.get(slot, 0) + 1
    db.ks_dirty = set()
    db.ks_cap = max(MIN_CAP, len(data))


def _power(bin_: int) -> str:
    """The label of a bin: 0, 1, 2, 4, ... 512, 1K, ... 512K, 1M, ..."""
    if bin_ == 0:
        return "0"
    exp = bin_ - 1
    for suffix, shift in (("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if exp >= shift:
            return f"{1 << (exp - shift)}{suffix}"
    return str(1 << exp)


def section(engine: Engine) -> dict[str, Any]:
    """INFO's ``# Keysizes`` fields for every database with counted keys."""
    out: dict[str, Any] = {}
    for db in engine.dbs:
        settle(db)
        if not db.ks_hist:
            continue
        per_kind: dict[int, list[tuple[int, int]]] = {}
        for slot, count in db.ks_hist.items():
            kind, bin_ = divmod(slot, _BINS)
            per_kind.setdefault(kind, []).append((bin_, count))
        for kind in sorted(per_kind):
            cells = ",".join(f"{_power(b)}={n}" for b, n in sorted(per_kind[kind]))
            out[f"db{db.index}_distrib_{_NAMES[kind]}"] = cells
    return out


def check(db: Database) -> None:
    """Recount ``db`` from scratch and compare (DEBUG KEYSIZES-HIST-ASSERT's check; tests)."""
    settle(db)
    fresh: dict[int, int] = {}
    for v in db.data.values():
        kind = _KIND.get(type(v))
        if kind is not None:
            slot = kind * _BINS + len(v).bit_length()
            fresh[slot] = fresh.get(slot, 0) + 1
    if fresh != db.ks_hist:
        raise AssertionError(f"keysizes histogram of db{db.index} drifted: "
                             f"kept {sorted(db.ks_hist.items())}, "
                             f"counted {sorted(fresh.items())}")
