"""Hash field expiration (Redis 7.4+/8): HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HTTL,
HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST, and HGETDEL, HGETEX, HSETEX.

Propagation as Redis: TTLs go as ``HPEXPIREAT key <abs ms> FIELDS ...`` with the
fields actually updated, a time already past deletes the fields and goes as
``HDEL``; HGETDEL goes as HDEL; HGETEX as HPEXPIREAT/HPERSIST/HDEL; HSETEX with an
absolute ``PXAT`` (conditions dropped once they held).
"""

from __future__ import annotations

from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import NOT_INTEGER, CommandError, wrong_args
from ..notify import notify, notify_fields
from ..registry import command
from ..types.hash import expire_fields, track_ttl
from .hashes import get_hash, hash_for_write

MAX_ABS_MS = (1 << 46) - 1  # HFE_MAX_ABS_TIME_MSEC (ebuckets' limit)
FIELDS_MISSING = "ERR Mandatory argument FIELDS is missing or not at the right position"
NUMFIELDS_MISMATCH = "ERR The `numfields` parameter must match the number of arguments"
NUMFIELDS_POSITIVE = "ERR Number of fields must be a positive integer"
MUST_BE_POSITIVE = "ERR invalid expire time, must be >= 0"
_LONG_MAX = (1 << 63) - 1


def _fields(argv: list[bytes], at: int, numfields_err: str) -> list[bytes]:
    """``FIELDS numfields field ...`` starting at ``argv[at]``."""
    if at >= len(argv) or argv[at].lower() != b"fields":
        raise CommandError(FIELDS_MISSING)
    if at + 1 >= len(argv):
        raise CommandError(FIELDS_MISSING)
    try:
        n = parse_int(argv[at + 1])
    except CommandError:
        raise CommandError(numfields_err)
    if n < 1 or n > _LONG_MAX:
        raise CommandError(numfields_err)
    if n != len(argv) - at - 2:
        raise CommandError(NUMFIELDS_MISMATCH)
    return argv[at + 2 :]


def _abs_ms(raw: bytes, unit_ms: int, basetime: int, cmd: str) -> int:
    v = parse_int(raw, NOT_INTEGER)
    if v < 0:
        raise CommandError(MUST_BE_POSITIVE)
    if unit_ms == 1000:
        if v > MAX_ABS_MS // 1000:
            raise CommandError(f"ERR invalid expire time in '{cmd}' command")
        v *= 1000
    if v > MAX_ABS_MS - basetime:
        raise CommandError(f"ERR invalid expire time in '{cmd}' command")
    return v + basetime


def _past(c: Client, when: int) -> bool:
    eng = c.engine
    return when <= eng.now_ms() and not eng.loading and not c.is_master


# -- HEXPIRE family ----------------------------------------------------------------

_CONDS = {b"nx": 1, b"xx": 2, b"gt": 4, b"lt": 8}


def _hexpire(c: Client, argv: list[bytes], unit_ms: int, relative: bool) -> Any:
    cmd = argv[0].decode("utf-8", "replace").lower()
    key = argv[1]
    h = get_hash(c.db, key)
    now = c.engine.now_ms()
    when = _abs_ms(argv[2], unit_ms, now if relative else 0, cmd)
    at = 3
    cond = _CONDS.get(argv[3].lower(), 0) if len(argv) > 3 else 0
    if cond:
        at += 1
    fields = _fields(argv, at, "ERR Parameter `numFields` should be greater than 0")
    if h is None:
        return [-2] * len(fields)
    out: list[int] = []
    updated: list[bytes] = []
    deleted: list[bytes] = []
    for f in fields:
        if f not in h:
            out.append(-2)
            continue
        cur = h.ttl_of(f)
        if (cond == 1 and cur is not None) or (cond == 2 and cur is None) or \
                (cond == 4 and (cur is None or when <= cur)) or \
                (cond == 8 and cur is not None and when >= cur):
            out.append(0)
            continue
        if _past(c, when):
            h.delete(f)
            deleted.append(f)
            out.append(2)
        else:
            h.set_ttl(f, when)
            if f not in updated:
                updated.append(f)
            out.append(1)
    if deleted or updated:
        eng = c.engine
        eng.rewrite(c)
        for f in deleted:
            eng.rewrite(c, [b"HDEL", key, f])
        if updated:
            track_ttl(c.db, key, when)
            flag = [argv[3]] if cond else []
            eng.rewrite(c, [b"HPEXPIREAT", key, b"%d" % when, *flag, b"FIELDS",
                            b"%d" % len(updated), *updated])
        notify(c, "h", b"hdel" if deleted else b"hexpire", key)
        notify_fields(c, b"hdel", key, deleted)
        notify_fields(c, b"hexpire", key, updated)
        _drop_if_empty(c, key, h)
    return out


def _drop_if_empty(c: Client, key: bytes, h: Any) -> None:
    """Delete the hash once its last field is gone (notifying ``del``), else signal it."""
    if len(h) == 0:
        c.db.remove(key)
        notify(c, "g", b"del", key)
    else:
        c.db.touch(key)


@command("hexpire", -6, "write fast", 1, 1, 1, group="hash")
def hexpire(c: Client, argv: list[bytes]) -> Any:
    """HEXPIRE key seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]"""
    return _hexpire(c, argv, 1000, True)


@command("hpexpire", -6, "write fast", 1, 1, 1, group="hash")
def hpexpire(c: Client, argv: list[bytes]) -> Any:
    """HPEXPIRE key milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]"""
    return _hexpire(c, argv, 1, True)


@command("hexpireat", -6, "write fast", 1, 1, 1, group="hash")
def hexpireat(c: Client, argv: list[bytes]) -> Any:
    """HEXPIREAT key unix-time-seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]"""
    return _hexpire(c, argv, 1000, False)


@command("hpexpireat", -6, "write fast", 1, 1, 1, group="hash")
def hpexpireat(c: Client, argv: list[bytes]) -> Any:
    """HPEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]"""
    return _hexpire(c, argv, 1, False)


# -- reading and removing TTLs ---------------------------------------------------------


def _httl(c: Client, argv: list[bytes], ms: bool, absolute: bool) -> Any:
    h = get_hash(c.db, argv[1])
    fields = _fields(argv, 2, NUMFIELDS_POSITIVE)
    if h is None:
        return [-2] * len(fields)
    now = c.engine.now_ms()
    out: list[int] = []
    for f in fields:
        if not h.is_live(f, now):
            out.append(-2)
            continue
        when = h.ttl_of(f)
        if when is None:
            out.append(-1)
            continue
        t = when if absolute else max(0, when - now)
        out.append(t if ms else (t + 999) // 1000)
    return out


@command("httl", -5, "readonly fast", 1, 1, 1, group="hash")
def httl(c: Client, argv: list[bytes]) -> Any:
    """HTTL key FIELDS numfields field [field ...]"""
    return _httl(c, argv, False, False)


@command("hpttl", -5, "readonly fast", 1, 1, 1, group="hash")
def hpttl(c: Client, argv: list[bytes]) -> Any:
    """HPTTL key FIELDS numfields field [field ...]"""
    return _httl(c, argv, True, False)


@command("hexpiretime", -5, "readonly fast", 1, 1, 1, group="hash")
def hexpiretime(c: Client, argv: list[bytes]) -> Any:
    """HEXPIRETIME key FIELDS numfields field [field ...]"""
    return _httl(c, argv, False, True)


@command("hpexpiretime", -5, "readonly fast", 1, 1, 1, group="hash")
def hpexpiretime(c: Client, argv: list[bytes]) -> Any:
    """HPEXPIRETIME key FIELDS numfields field [field ...]"""
    return _httl(c, argv, True, True)


@command("hpersist", -5, "write fast", 1, 1, 1, group="hash")
def hpersist(c: Client, argv: list[bytes]) -> Any:
    """HPERSIST key FIELDS numfields field [field ...]"""
    h = get_hash(c.db, argv[1])
    fields = _fields(argv, 2, NUMFIELDS_POSITIVE)
    if h is None:
        return [-2] * len(fields)
    now = c.engine.now_ms()
    out: list[int] = []
    done: list[bytes] = []
    for f in fields:
        if not h.is_live(f, now):
            out.append(-2)
        elif h.persist(f):
            out.append(1)
            done.append(f)
        else:
            out.append(-1)
    if done:
        c.db.touch(argv[1])
        notify(c, "h", b"hpersist", argv[1])
        notify_fields(c, b"hpersist", argv[1], done)
    return out


# -- HGETDEL, HGETEX, HSETEX -------------------------------------------------------------


@command("hgetdel", -5, "write fast", 1, 1, 1, group="hash")
def hgetdel(c: Client, argv: list[bytes]) -> Any:
    """HGETDEL key FIELDS numfields field [field ...]"""
    key = argv[1]
    h = get_hash(c.db, key)
    fields = _fields(argv, 2, NUMFIELDS_POSITIVE)
    if h is None:
        return [None] * len(fields)
    expire_fields(c.db, key, h, c.engine.now_ms(), fields)
    out: list[Any] = []
    gone: list[bytes] = []
    for f in fields:
        v = h.get(f)
        out.append(v)
        if v is not None:
            h.delete(f)
            gone.append(f)
    if gone:  # propagated with every field asked for, as Redis does
        c.engine.rewrite(c, [b"HDEL", key, *fields])
        notify(c, "h", b"hdel", key)
        notify_fields(c, b"hdel", key, gone)
        _drop_if_empty(c, key, h)
    return out


_GETEX_UNITS = {b"ex": (1000, True), b"px": (1, True), b"exat": (1000, False),
                b"pxat": (1, False)}


@command("hgetex", -5, "write fast", 1, 1, 1, group="hash")
def hgetex(c: Client, argv: list[bytes]) -> Any:
    """HGETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST] FIELDS numfields field [field ...]"""
    key = argv[1]
    h = get_hash(c.db, key)
    opt = argv[2].lower()
    at = 2
    when: int | None = None
    persist = False
    if opt in _GETEX_UNITS:
        unit, rel = _GETEX_UNITS[opt]
        when = _abs_ms(argv[3], unit, c.engine.now_ms() if rel else 0, "hgetex")
        at = 4
    elif opt == b"persist":
        persist = True
        at = 3
    fields = _fields(argv, at, NUMFIELDS_POSITIVE)
    if h is None:
        return [None] * len(fields)
    expire_fields(c.db, key, h, c.engine.now_ms(), fields)
    out = [h.get(f) for f in fields]
    present = list(dict.fromkeys(f for f in fields if f in h))
    eng = c.engine
    if when is not None and present:
        if _past(c, when):
            for f in present:
                h.delete(f)
            eng.rewrite(c, [b"HDEL", key, *present])
            notify(c, "h", b"hdel", key)
            notify_fields(c, b"hdel", key, present)
        else:
            for f in present:
                h.set_ttl(f, when)
            track_ttl(c.db, key, when)
            eng.rewrite(c, [b"HPEXPIREAT", key, b"%d" % when, b"FIELDS",
                            b"%d" % len(present), *present])
            notify(c, "h", b"hexpire", key)
            notify_fields(c, b"hexpire", key, present)
        _drop_if_empty(c, key, h)
    elif persist:
        done = [f for f in present if h.persist(f)]
        if done:  # propagated with every field asked for, as Redis does
            eng.rewrite(c, [b"HPERSIST", key, b"FIELDS", b"%d" % len(fields), *fields])
            c.db.touch(key)
            notify(c, "h", b"hpersist", key)
            notify_fields(c, b"hpersist", key, done)
    return out


_SETEX_EXPIRES = {b"ex": (1000, True), b"px": (1, True), b"exat": (1000, False),
                  b"pxat": (1, False)}


@command("hsetex", -6, "write denyoom fast", 1, 1, 1, group="hash")
def hsetex(c: Client, argv: list[bytes]) -> Any:
    """HSETEX key [FNX | FXX] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] FIELDS numfields field value [field value ...]"""
    key = argv[1]
    cond = b""
    exp_raw: tuple[bytes, int, bool] | None = None
    keepttl = False
    i = 2
    n = len(argv)
    while i < n:
        o = argv[i].lower()
        if o in (b"fnx", b"fxx"):
            if cond:
                raise CommandError("ERR Only one of FXX or FNX arguments can be specified")
            cond = o
            i += 1
        elif o in _SETEX_EXPIRES or o == b"keepttl":
            if exp_raw is not None or keepttl:
                raise CommandError(
                    "ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified")
            if o == b"keepttl":
                keepttl = True
                i += 1
            else:
                if i + 1 >= n:
                    raise CommandError(wrong_args("hsetex"))
                unit, rel = _SETEX_EXPIRES[o]
                exp_raw = (argv[i + 1], unit, rel)
                i += 2
        elif o == b"fields":
            break
        else:
            raise CommandError(f"ERR unknown argument: {argv[i].decode('utf-8', 'replace')}")
    if i + 1 >= n:
        raise CommandError(wrong_args("hsetex"))
    try:
        nf = parse_int(argv[i + 1])
    except CommandError:
        raise CommandError("ERR invalid number of fields")
    if nf < 1:
        raise CommandError("ERR invalid number of fields")
    if nf * 2 != n - i - 2:
        raise CommandError(wrong_args("hsetex"))
    pairs = argv[i + 2 :]
    when: int | None = None
    if exp_raw is not None:
        raw, unit, rel = exp_raw
        when = _abs_ms(raw, unit, c.engine.now_ms() if rel else 0, "hsetex")
    h = get_hash(c.db, key)
    names = pairs[::2]
    if h is not None:  # HSETEX drops expired fields silently (no hexpired), as Redis
        expire_fields(c.db, key, h, c.engine.now_ms(), names, notify=False)
        if len(h) == 0:
            h = None
    if cond == b"fnx" and h is not None and any(f in h for f in names):
        return 0
    if cond == b"fxx" and (h is None or not all(f in h for f in names)):
        return 0
    h = hash_for_write(c, key)
    h.convert_if_needed(c.engine, *pairs, pairs=nf)
    for j in range(0, len(pairs), 2):
        h.set(pairs[j], pairs[j + 1], keep_ttl=keepttl)
    h.convert_if_needed(c.engine)
    eng = c.engine
    notify(c, "h", b"hset", key)
    notify_fields(c, b"hset", key, names)
    if when is not None and _past(c, when):
        for f in names:
            h.delete(f)
        eng.rewrite(c, [b"HDEL", key, *dict.fromkeys(names)])
        notify(c, "h", b"hdel", key)
        notify_fields(c, b"hdel", key, list(dict.fromkeys(names)))
        if len(h) == 0:
            c.db.remove(key)
            notify(c, "g", b"del", key)
            return 1
    elif when is not None:
        notify(c, "h", b"hexpire", key)
        notify_fields(c, b"hexpire", key, names)
        for f in names:
            h.set_ttl(f, when)
        track_ttl(c.db, key, when)
        eng.rewrite(c, [b"HSETEX", key, b"PXAT", b"%d" % when, b"FIELDS", b"%d" % nf, *pairs])
    else:
        eng.rewrite(c, [b"HSETEX", key, *([b"KEEPTTL"] if keepttl else []), b"FIELDS",
                        b"%d" % nf, *pairs])
    c.db.touch(key)
    return 1
