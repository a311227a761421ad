"""Number conversions between Lua and Redis, as Redis does them in C.

- A Lua number given to ``redis.call`` becomes an argument string the way
  ``luaArgsToRedisArgv`` writes it: an integer when the double is one (and
  within +/- LLONG_MAX/2, Redis's ``double2ll``), else ``fpconv_dtoa``'s shortest
  form (``1.5``, ``1.5e-7``, ``1e+20``, ``9223372036854776000``).
- A Lua number returned by a script becomes an integer reply by C's
  ``(long long)`` cast: truncation toward zero, and LLONG_MIN for anything out
  of range or NaN (what x86 gives).
"""

from __future__ import annotations

import math

LLONG_MIN = -(1 << 63)
_HALF = float(((1 << 63) - 1) // 2)


def to_long_long(x: float | int) -> int:
    """C's ``(long long)x`` on x86-64."""
    if type(x) is int:
        return x if LLONG_MIN <= x < (1 << 63) else LLONG_MIN
    if not math.isfinite(x) or x >= 9.223372036854775807e18 or x < -9.223372036854775808e18:
        return LLONG_MIN
    return int(x)


def number_arg(x: float | int) -> bytes:
    """A Lua number as ``redis.call`` passes it to a command."""
    d = float(x)
    if -_HALF <= d <= _HALF and d == int(d):
        return b"%d" % int(d)
    return fpconv_dtoa(d).encode()


def fpconv_dtoa(d: float) -> str:
    """Redis's ``fpconv_dtoa``: shortest digits, its own choice of notation."""
    neg = math.copysign(1.0, d) < 0
    sign = "-" if neg else ""
    if d == 0:
        return sign + "0"
    if math.isnan(d):
        return sign + "nan"
    if math.isinf(d):
        return sign + "inf"
    from decimal import Decimal  # on first use: not needed at the server's start

    t = Decimal(repr(abs(d))).as_tuple()
    digits = "".join(map(str, t.digits)).rstrip("0") or "0"
    k = int(t.exponent) + (len(t.digits) - len(digits))  # value = digits * 10**k
    return sign + _emit(digits, k, neg)


def _emit(digits: str, k: int, neg: bool) -> str:
    nd = len(digits)
    exp = abs(k + nd - 1)
    if k >= 0 and exp < nd + 7:  # plain integer
        return digits + "0" * k
    if k < 0 and (k > -7 or exp < 4):  # decimal without exponent
        offset = nd - abs(k)
        if offset <= 0:
            return "0." + "0" * (-offset) + digits
        return digits[:offset] + "." + digits[offset:]
    nd = min(nd, 18 - neg)
    out = digits[0]
    if nd > 1:
        out += "." + digits[1:nd]
    esign = "-" if k + nd - 1 < 0 else "+"
    # Redis computes the sign after capping the digits but the magnitude before
    return out + "e" + esign + str(exp)
