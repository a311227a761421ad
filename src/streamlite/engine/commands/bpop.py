"""What the blocking pops (BLPOP, BLMOVE, BZPOPMIN, BLMPOP, ...) share: Redis's
timeout parsing and the decision to block, answer as timed out, or keep waiting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .. import longdouble
from ..client import Client
from ..errors import TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, CommandError
from ..replies import NULL_ARRAY, Blocked

if TYPE_CHECKING:
    from fractions import Fraction

LLONG_MAX = (1 << 63) - 1
TIMEOUT_RANGE = "ERR timeout is out of range"


def _round_ld(x: Fraction) -> Fraction:
    """``x`` rounded to the nearest x86 long double significand (64 bits, ties to even)."""
    if x == 0:
        return x
    from fractions import Fraction  # on first use: not needed at the server's start

    two = Fraction(2)
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length() - 64
    while a / two**e >= 1 << 64:
        e += 1
    while a / two**e < 1 << 63:
        e -= 1
    r = round(a / two**e) * two**e
    return r if x > 0 else -r


def parse_timeout(c: Client, arg: bytes) -> int | None:
    """A blocking command's timeout in seconds (``getTimeoutFromObjectOrReply``):
    the absolute deadline in ms on the engine clock, or None for 0 (forever).

    Redis computes ``ceill(seconds * 1000.0)`` in long double arithmetic, so
    ``-0.001`` is not negative (it becomes -0.99999... ms); we round the same way.
    """
    v = longdouble.parse(arg)  # string2ld
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
