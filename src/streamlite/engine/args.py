"""Argument parsing helpers with Redis's exact rules and error texts."""

from __future__ import annotations

import math

from ..numparse import string2ll
from .errors import NOT_FLOAT, NOT_INTEGER, CommandError

LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)


def parse_int(b: bytes, msg: str = NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer exactly as Redis's ``string2ll`` does."""
    v = string2ll(b)
    if v is None:
        raise CommandError(msg)
    return v


def parse_uint(b: bytes, msg: str = NOT_INTEGER) -> int:
    v = parse_int(b, msg)
    if v < 0:
        raise CommandError(msg)
    return v


def parse_float(b: bytes, msg: str = NOT_FLOAT, allow_nan: bool = False) -> float:
    """Parse a double as Redis's ``string2ld``/``strtod`` checks: no spaces, no NaN."""
    if not b or b[:1].isspace() or b[-1:].isspace():
        raise CommandError(msg)
    s = b.lower()
    if s in (b"inf", b"+inf", b"infinity", b"+infinity"):
        return math.inf
    if s in (b"-inf", b"-infinity"):
        return -math.inf
    try:
        v = float(b)
    except ValueError:
        raise CommandError(msg)
    if math.isnan(v) and not allow_nan:
        raise CommandError(msg)
    if b"_" in b:  # python accepts 1_0
        raise CommandError(msg)
    return v


def format_double(v: float) -> bytes:
    """Format a double as Redis replies it (``d2string``/fpconv digits, inf, -0)."""
    from .types.scores import format_score

    return format_score(v)
