"""Doubles as Redis reads and writes them: sorted-set scores, weights, ranges.

Redis reads a double in two ways, and they accept different spellings:

- ``string2d`` (libc ``strtod`` on the whole argument): ZADD/ZINCRBY scores,
  WEIGHTS. Hex floats (``0x10``) and ``inf``/``infinity`` are accepted; leading
  space, NaN, overflow (``1e400``) and underflow to zero (``1e-400``) are not.
- ``fast_float`` (Redis 8's ``fast_float_strtod``): score ranges
  (ZRANGEBYSCORE, ZCOUNT, ...). Decimal only, overflow becomes ``inf``, and an
  empty argument reads as 0.

Replies format doubles with Redis's ``d2string``: integral values within 2^62
print as integers, others with the shortest round-trip digits, laid out as
Redis's ``fpconv_dtoa`` does (``1e-7``, ``0.00001``, ``1.5e+20``).
"""

from __future__ import annotations

import math
import re

from ..errors import CommandError

_HEX = re.compile(
    rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?"
)
_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INF = re.compile(rb"([+-]?)(inf(?:inity)?)", re.IGNORECASE)
_NAN = re.compile(rb"[+-]?nan(?:\([0-9A-Za-z_]*\))?", re.IGNORECASE)

_LL_HALF = float((1 << 63) // 2)  # (double)(LLONG_MAX/2) == 2**62


def _strtod_full(b: bytes) -> tuple[float, bool] | None:
    """libc ``strtod`` over all of ``b`` (no leading space): (value, range_error) or None."""
    m = _HEX.fullmatch(b)
    if m is not None:
        sign, mant, exp = m.groups()
        if mant in (b".",):
            return None
        try:
            v = float.fromhex((b"0x" + mant + b"p" + (exp or b"0")).decode())
        except OverflowError:
            v = math.inf
        if sign == b"-":
            v = -v
        return v, _out_of_range(v, mant.strip(b"0.") != b"")
    if _DEC.fullmatch(b) is not None:
        v = float(b)
        mant = b.lstrip(b"+-").split(b"e")[0].split(b"E")[0]
        return v, _out_of_range(v, mant.strip(b"0.") != b"")
    m = _INF.fullmatch(b)
    if m is not None:
        return (-math.inf if m.group(1) == b"-" else math.inf), False
    if _NAN.fullmatch(b) is not None:
        return math.nan, False
    return None


def _out_of_range(v: float, nonzero: bool) -> bool:
    return math.isinf(v) or (v == 0.0 and nonzero)


def parse_score(b: bytes, msg: str = "ERR value is not a valid float") -> float:
    """A double as Redis's ``string2d`` reads it (ZADD, ZINCRBY, WEIGHTS)."""
    if not b or b[:1] in b" \t\n\v\f\r":
        raise CommandError(msg)
    r = _strtod_full(b.split(b"\0", 1)[0] if b"\0" in b else b)
    if r is None or r[1] or math.isnan(r[0]):
        raise CommandError(msg)
    return r[0]


def fast_strtod(b: bytes) -> float | None:
    """Redis 8's ``fast_float_strtod`` when it must consume all of ``b``; None if not.

    An empty string reads as 0 (the parser leaves its output untouched).
    """
    if b"\0" in b:
        b = b.split(b"\0", 1)[0]
    if not b:
        return 0.0
    if _DEC.fullmatch(b) is not None:
        return float(b)
    m = _INF.fullmatch(b)
    if m is not None:
        return -math.inf if m.group(1) == b"-" else math.inf
    return None


def format_score(v: float) -> bytes:
    """``d2string``: how Redis prints a double in replies (RESP2 bulk, RESP3 double)."""
    if v != v:
        return b"nan"
    if math.isinf(v):
        return b"inf" if v > 0 else b"-inf"
    if v == 0.0:
        return b"-0" if math.copysign(1.0, v) < 0 else b"0"
    if -_LL_HALF <= v <= _LL_HALF and v == int(v):
        return str(int(v)).encode()
    return _fpconv(v)


def _fpconv(v: float) -> bytes:
    neg = v < 0
    r = repr(-v if neg else v)
    if "e" in r:
        mant, e = r.split("e")
        exp10 = int(e)
    else:
        mant, exp10 = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    if fp == "0":
        fp = ""
    digits = (ip + fp).lstrip("0")
    k = exp10 - len(fp)
    stripped = digits.rstrip("0")
    k += len(digits) - len(stripped)
    digits = stripped
    nd = len(digits)
    exp = abs(k + nd - 1)
    sign = "-" if neg else ""
    if k >= 0 and exp < nd + 7:
        return (sign + digits + "0" * k).encode()
    if k < 0 and (k > -7 or exp < 4):
        offset = nd + k
        if offset <= 0:
            return (sign + "0." + "0" * (-offset) + digits).encode()
        return (sign + digits[:offset] + "." + digits[offset:]).encode()
    nd = min(nd, 18 - neg)
    out = digits[0]
    if nd > 1:
        out += "." + digits[1:nd]
    out += "e" + ("-" if k + nd - 1 < 0 else "+") + str(exp)
    return (sign + out).encode()
