"""What the blocking pops (BLPOP, BLMOVE, BZPOPMIN, BLMPOP, ...) share: Redis's
timeout parsing and the decision to block, answer as timed out, or keep waiting.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ..client import Client
from ..errors import TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, CommandError
from ..replies import NULL_ARRAY, Blocked

LLONG_MAX = (1 << 63) - 1
TIMEOUT_RANGE = "ERR timeout is out of range"

_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_INF = re.compile(rb"[+-]?inf(?:inity)?", re.IGNORECASE)
# x86 long double: largest finite value and smallest denormal
_LDBL_MAX = Decimal("1.18973149535723176502e+4932")
_LDBL_TRUE_MIN = Decimal("3.64519953188247460253e-4951")


def _string2ld(b: bytes) -> Decimal | float | None:
    """A long double as Redis's ``string2ld`` reads it; None when it refuses."""
    if not b or len(b) >= 5 * 1024 or b[:1] in b" \t\n\v\f\r":
        return None
    if b"\0" in b:
        return None
    if _DEC.fullmatch(b):
        v = Decimal(b.decode())
        a = abs(v)
        if a > _LDBL_MAX:
            return None  # overflow: HUGE_VAL with ERANGE
        if a != 0 and a < _LDBL_TRUE_MIN / 2:
            return None  # underflow to zero
        return v
    if _HEX.fullmatch(b):
        try:
            return float.fromhex(b.decode())
        except OverflowError:
            return math.inf if not b.startswith(b"-") else -math.inf
    if _INF.fullmatch(b):
        return -math.inf if b.startswith(b"-") else math.inf
    return None


def parse_timeout(c: Client, arg: bytes) -> int | None:
    """A blocking command's timeout in seconds (``getTimeoutFromObjectOrReply``):
    the absolute deadline in ms on the engine clock, or None for 0 (forever)."""
    v = _string2ld(arg)
    if v is None:
        raise CommandError(TIMEOUT_NOT_FLOAT)
    if isinstance(v, float):
        if math.isinf(v):
            if v > 0:
                raise CommandError(TIMEOUT_RANGE)
            raise CommandError(TIMEOUT_NEGATIVE)
        v = Decimal(v)
    ms = v * 1000
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
