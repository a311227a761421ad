"""INCREX (Redis 8.8): a bounded increment with its expiration, in one command.

Follows the command's documentation (no released Redis here to compare with):
``INCREX key [BYFLOAT increment | BYINT increment] [LBOUND lowerbound]
[UBOUND upperbound] [SATURATE] [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST] [ENX]``.

Model: the key's value (0 when missing) plus the increment (1 by default) must
stay within the bounds (the type's limits when none is given: 64-bit integers,
or ``long double`` with BYFLOAT, where the result must also be finite). Out of
bounds, the command changes nothing and answers ``[current, 0]``; with SATURATE
the result is clamped to the bound and the reply's second element is the delta
applied. The reply is ``[new value, applied increment]``: integers, or with
BYFLOAT bulk strings (RESP2) / doubles (RESP3). Without an expiration option the
TTL is kept; ``ENX`` sets the given one only when the key has none; ``PERSIST``
removes it. Propagated as ``SET key value KEEPTTL`` / ``PXAT <absolute>`` / plain
``SET`` (TTL removed), like INCRBYFLOAT. Keyspace events: ``incrby`` (or
``incrbyfloat``), then ``expire`` or ``persist`` when the TTL changed.

The error texts for arguments the docs only forbid are chosen to match Redis's
usual ones (syntax error, not an integer / not a valid float, invalid expire time).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from .. import longdouble
from ..args import LLONG_MAX, LLONG_MIN, parse_int
from ..client import Client
from ..errors import NOT_INTEGER, SYNTAX, CommandError
from ..expiry import set_expire_ms
from ..notify import notify
from ..registry import command
from ..replies import Double
from .strings import NOT_FLOAT, get_string

if TYPE_CHECKING:
    from fractions import Fraction

_BOUNDS_ORDER = "ERR LBOUND must be less than or equal to UBOUND"


def _ld(raw: bytes) -> Fraction:
    v = longdouble.parse(raw)
    if v is None or isinstance(v, float):
        raise CommandError(NOT_FLOAT)
    return v


@cache
def _ldbl_max() -> Fraction:
    """LDBL_MAX (``fractions`` is imported on first use, not at the server's start)."""
    from fractions import Fraction

    return Fraction((1 << 64) - 1) * Fraction(2) ** (16383 - 63)


@command("increx", -2, "write denyoom fast", 1, 1, 1, group="string")
def increx(c: Client, argv: list[bytes]) -> Any:
    """INCREX key [BYFLOAT increment | BYINT increment] [LBOUND lowerbound] [UBOUND upperbound] [SATURATE] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST] [ENX]"""
    eng = c.engine
    now = eng.now_ms()
    by_raw: bytes | None = None
    is_float = False
    lo_raw: bytes | None = None
    hi_raw: bytes | None = None
    saturate = enx = persist = False
    expire_at: int | None = None
    j, n = 2, len(argv)
    while j < n:
        opt = argv[j].lower()
        more = j + 1 < n
        if opt in (b"byint", b"byfloat") and more and by_raw is None:
            by_raw, is_float = argv[j + 1], opt == b"byfloat"
            j += 1
        elif opt == b"lbound" and more and lo_raw is None:
            lo_raw = argv[j + 1]
            j += 1
        elif opt == b"ubound" and more and hi_raw is None:
            hi_raw = argv[j + 1]
            j += 1
        elif opt == b"saturate" and not saturate:
            saturate = True
        elif opt == b"enx" and not enx:
            enx = True
        elif opt == b"persist" and not persist and expire_at is None:
            persist = True
        elif opt in (b"ex", b"px", b"exat", b"pxat") and more and expire_at is None \
                and not persist:
            unit = 1000 if opt in (b"ex", b"exat") else 1
            expire_at = set_expire_ms(argv[j + 1], unit, opt in (b"ex", b"px"), now, "increx")
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    if enx and (persist or expire_at is None):
        raise CommandError(SYNTAX)
    db = c.db
    key = argv[1]
    if is_float:
        from fractions import Fraction

        assert by_raw is not None
        inc_f = _ld(by_raw)
        lo_f = _ld(lo_raw) if lo_raw is not None else -_ldbl_max()
        hi_f = _ld(hi_raw) if hi_raw is not None else _ldbl_max()
        if lo_f > hi_f:
            raise CommandError(_BOUNDS_ORDER)
        v = get_string(db, key)
        cur_f = longdouble.from_int(0) if v is None else longdouble.parse(v)
        if cur_f is None or isinstance(cur_f, float):
            raise CommandError(NOT_FLOAT)
        exact = cur_f + inc_f
        if exact > hi_f or exact < lo_f:
            if not saturate:
                eng.rewrite(c)
                return _float_reply(c, cur_f, Fraction(0))
            exact = hi_f if exact > hi_f else lo_f
        try:
            new_f = longdouble.add(exact, Fraction(0))
        except longdouble.LongDoubleRangeError:
            raise CommandError("ERR increment would produce NaN or Infinity")
        out = longdouble.format_human(new_f)
        _store(c, key, out, expire_at, persist, enx, b"incrbyfloat")
        return _float_reply(c, new_f, new_f - cur_f)
    inc = parse_int(by_raw) if by_raw is not None else 1
    lo = parse_int(lo_raw) if lo_raw is not None else LLONG_MIN
    hi = parse_int(hi_raw) if hi_raw is not None else LLONG_MAX
    if lo > hi:
        raise CommandError(_BOUNDS_ORDER)
    v = get_string(db, key)
    cur = 0 if v is None else parse_int(v, NOT_INTEGER)
    new = cur + inc  # exact: the type limits are bounds like the others
    if new > hi or new < lo:
        if not saturate:
            eng.rewrite(c)
            return [cur, 0]
        new = hi if new > hi else lo
    delta = new - cur
    if not LLONG_MIN <= delta <= LLONG_MAX:
        raise CommandError("ERR increment or decrement would overflow")
    _store(c, key, b"%d" % new, expire_at, persist, enx, b"incrby")
    return [new, delta]


def _float_reply(c: Client, value: Fraction, delta: Fraction) -> list[Any]:
    if c.protocol > 2:
        return [Double(float(value)), Double(float(delta))]
    return [longdouble.format_human(value), longdouble.format_human(delta)]


def _store(c: Client, key: bytes, out: bytes, expire_at: int | None, persist: bool,
           enx: bool, event: bytes) -> None:
    db = c.db
    had_ttl = db.expires.get(key) is not None
    db.set(key, out, keep_ttl=True)
    eng = c.engine
    ttl_event: bytes | None = None
    if persist:
        if db.persist(key):
            ttl_event = b"persist"
        eng.rewrite(c, [b"SET", key, out])
    elif expire_at is not None and not (enx and had_ttl):
        db.set_expire(key, expire_at)
        ttl_event = b"expire"
        eng.rewrite(c, [b"SET", key, out, b"PXAT", b"%d" % expire_at])
    else:
        eng.rewrite(c, [b"SET", key, out, b"KEEPTTL"])
    notify(c, "$", event, key)
    if ttl_event is not None:
        notify(c, "g", ttl_event, key)
