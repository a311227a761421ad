"""What the blocking pops (BLPOP, BLMOVE, BZPOPMIN, BLMPOP, ...) share: Redis's
timeout parsing and the decision to block, answer as timed out, or keep waiting.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..client import Client
from ..errors import TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, CommandError
from ..replies import NULL_ARRAY, Blocked

LLONG_MAX = (1 << 63) - 1
TIMEOUT_RANGE = "ERR timeout is out of range"

_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(
    rb"([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?[0-9]+))?"
)
_INF = re.compile(rb"[+-]?inf(?:inity)?", re.IGNORECASE)
# x86 long double: largest finite value and smallest denormal
_LDBL_MAX = Fraction(Decimal("1.18973149535723176502e+4932"))
_LDBL_TRUE_MIN = Fraction(Decimal("3.64519953188247460253e-4951"))
_TWO = Fraction(2)


def _round_ld(x: Fraction) -> Fraction:
    """``x`` rounded to the nearest x86 long double (64-bit mantissa, ties to even)."""
    if x == 0:
        return x
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length() - 64
    while a / _TWO**e >= 1 << 64:
        e += 1
    while a / _TWO**e < 1 << 63:
        e -= 1
    r = round(a / _TWO**e) * _TWO**e
    return r if x > 0 else -r


def _string2ld(b: bytes) -> Fraction | float | None:
    """A long double as Redis's ``string2ld`` reads it (exactly); None when it refuses."""
    if not b or len(b) >= 5 * 1024 or b[:1] in b" \t\n\v\f\r" or b"\0" in b:
        return None
    if _DEC.fullmatch(b):
        v = Fraction(Decimal(b.decode()))
    else:
        m = _HEX.fullmatch(b)
        if m is not None and (m.group(2) or m.group(3)):
            sign, ip, fp, exp = m.groups()
            v = Fraction(int((ip + fp).decode() or "0", 16)) * _TWO ** (
                int(exp or b"0") - 4 * len(fp)
            )
            if sign == b"-":
                v = -v
        elif _INF.fullmatch(b):
            return -math.inf if b.startswith(b"-") else math.inf
        else:
            return None
    a = abs(v)
    if a > _LDBL_MAX:
        return None  # overflow: HUGE_VAL with ERANGE
    if a != 0 and a < _LDBL_TRUE_MIN / 2:
        return None  # underflow to zero
    return _round_ld(v)


def parse_timeout(c: Client, arg: bytes) -> int | None:
    """A blocking command's timeout in seconds (``getTimeoutFromObjectOrReply``):
    the absolute deadline in ms on the engine clock, or None for 0 (forever).

    Redis computes ``ceill(seconds * 1000.0)`` in long double arithmetic, so
    ``-0.001`` is not negative (it becomes -0.99999... ms); we round the same way.
    """
    v = _string2ld(arg)
    if v is None:
        raise CommandError(TIMEOUT_NOT_FLOAT)
    if isinstance(v, float):  # infinities
        if v > 0:
            raise CommandError(TIMEOUT_RANGE)
        raise CommandError(TIMEOUT_NEGATIVE)
    ms = _round_ld(v * 1000)
    if ms > LLONG_MAX:
        raise CommandError(TIMEOUT_RANGE)
    tval = math.ceil(ms)
    if tval < 0:
        raise CommandError(TIMEOUT_NEGATIVE)
    if tval == 0:
        return None
    now = c.engine.now_ms()
    if tval > LLONG_MAX - now:
        raise CommandError(TIMEOUT_RANGE)
    return now + tval


def no_blocking(c: Client) -> bool:
    """Inside MULTI/EXEC or a script a blocking command answers at once, as if timed out."""
    return c.in_exec or c.in_script


def block(
    c: Client,
    keys: Iterable[bytes],
    argv: list[bytes],
    deadline: int | None,
    timeout_reply: Any = NULL_ARRAY,
) -> Blocked:
    """The ``Blocked`` reply that parks ``c`` on ``keys`` (duplicates once, in order)."""
    seen: dict[tuple[int, bytes], None] = {}
    for k in keys:
        seen[(c.db_index, k)] = None
    return Blocked(list(seen), argv, deadline, timeout_reply)


def any_ready(c: Client, keys: Iterable[bytes], ok: Callable[[Any], bool]) -> bool:
    """For a re-run while blocked: does one of ``keys`` hold a value ``ok`` accepts?

    A blocked client is only served when a key of its type has something;
    a key that became another type keeps it waiting, as in Redis.
    """
    db = c.db
    for k in keys:
        v = db.lookup(k)
        if v is not None and ok(v):
            return True
    return False
