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
import struct
from functools import lru_cache

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


# -- Grisu2, as Redis's fpconv_dtoa runs it -------------------------------------------
#
# Redis prints non-integral doubles with fpconv (Florian Loitsch's Grisu2). Its
# digits round-trip but are not always the shortest or closest (``524.75385``
# prints as ``524.7538500000001``), so Python's repr cannot stand in for it. This
# is the same algorithm on 64-bit unsigned arithmetic (wrapping like C).

_M64 = (1 << 64) - 1
_HIDDEN = 1 << 52
_EXPBIAS = 1023 + 52
_TENS = [10**i for i in range(19, -1, -1)]  # 10^19 .. 10^0
_NPOWERS, _STEP, _FIRST, _EXPMAX, _EXPMIN = 87, 8, -348, -32, -60


def _cached_power(k: int) -> tuple[int, int]:
    """10^k as a normalized 64-bit significand and binary exponent, rounded to nearest
    (half up), in integers: ``frac * 2**e`` is 10^k with ``2**63 <= frac < 2**64``."""
    num, den = (10**k, 1) if k >= 0 else (1, 10**-k)
    e = num.bit_length() - den.bit_length() - 64
    while True:  # q, r = divmod(10^k / 2^e); e adjusted until 2^63 <= q < 2^64
        d = den << e if e >= 0 else den
        q, r = divmod(num if e >= 0 else num << -e, d)
        if q >= 1 << 64:
            e += 1
        elif q < 1 << 63:
            e -= 1
        else:
            return (q + 1 if 2 * r >= d else q), e


_POWERS = [_cached_power(_FIRST + i * _STEP) for i in range(_NPOWERS)]


def _find_cachedpow10(exp: int) -> tuple[int, int, int]:
    approx = int(-(exp + _NPOWERS) * 0.30102999566398114)
    idx = int((approx - _FIRST) / _STEP)
    while True:
        current = exp + _POWERS[idx][1] + 64
        if current < _EXPMIN:
            idx += 1
            continue
        if current > _EXPMAX:
            idx -= 1
            continue
        frac, e = _POWERS[idx]
        return frac, e, _FIRST + idx * _STEP


def _multiply(af: int, ae: int, bf: int, be: int) -> tuple[int, int]:
    lo = 0xFFFFFFFF
    ah_bl = (af >> 32) * (bf & lo)
    al_bh = (af & lo) * (bf >> 32)
    al_bl = (af & lo) * (bf & lo)
    ah_bh = (af >> 32) * (bf >> 32)
    tmp = (ah_bl & lo) + (al_bh & lo) + (al_bl >> 32)
    tmp += 1 << 31
    return (ah_bh + (ah_bl >> 32) + (al_bh >> 32) + (tmp >> 32)) & _M64, ae + be + 64


def _round_digit(digits: list[int], delta: int, rem: int, kappa: int, frac: int) -> None:
    while (
        rem < frac
        and ((delta - rem) & _M64) >= kappa
        and (((rem + kappa) & _M64) < frac or ((frac - rem) & _M64) > ((rem + kappa - frac) & _M64))
    ):
        digits[-1] -= 1
        rem = (rem + kappa) & _M64


def _grisu2(d: float) -> tuple[list[int], int]:
    """The digits fpconv generates for positive ``d``, and the decimal exponent K."""
    bits = struct.unpack("<Q", struct.pack("<d", d))[0]
    frac = bits & (_HIDDEN - 1)
    bexp = (bits >> 52) & 0x7FF
    if bexp:
        frac += _HIDDEN
        exp = bexp - _EXPBIAS
    else:
        exp = -_EXPBIAS + 1
    # boundaries (from the value before normalizing)
    uf, ue = (frac << 1) + 1, exp - 1
    while not uf & (_HIDDEN << 1):
        uf <<= 1
        ue -= 1
    uf <<= 64 - 52 - 2
    ue -= 64 - 52 - 2
    l_shift = 2 if frac == _HIDDEN else 1
    lf, le = (frac << l_shift) - 1, exp - l_shift
    lf = (lf << (le - ue)) & _M64
    # normalize w
    wf, we = frac, exp
    while not wf & _HIDDEN:
        wf <<= 1
        we -= 1
    wf <<= 64 - 52 - 1
    we -= 64 - 52 - 1
    cf, ce, k = _find_cachedpow10(ue)
    wf, we = _multiply(wf, we, cf, ce)
    uf, ue = _multiply(uf, ue, cf, ce)
    lf, _ = _multiply(lf, ue, cf, ce)
    lf = (lf + 1) & _M64
    uf = (uf - 1) & _M64
    kk = -k
    # generate_digits
    wfrac = (uf - wf) & _M64
    delta = (uf - lf) & _M64
    shift = -ue
    one = 1 << shift
    part1 = uf >> shift
    part2 = uf & (one - 1)
    digits: list[int] = []
    kappa = 10
    i = 10
    while kappa > 0:
        div = _TENS[i]
        digit = part1 // div
        if digit or digits:
            digits.append(digit)
        part1 -= digit * div
        kappa -= 1
        tmp = ((part1 << shift) + part2) & _M64
        if tmp <= delta:
            kk += kappa
            _round_digit(digits, delta, tmp, (div << shift) & _M64, wfrac)
            return digits, kk
        i += 1
    unit = 18
    while True:
        part2 = (part2 * 10) & _M64
        delta = (delta * 10) & _M64
        kappa -= 1
        digit = part2 >> shift
        if digit or digits:
            digits.append(digit)
        part2 &= one - 1
        if part2 < delta:
            kk += kappa
            _round_digit(digits, delta, part2, one, (wfrac * _TENS[unit]) & _M64)
            return digits, kk
        unit -= 1


@lru_cache(maxsize=4096)
def _fpconv(v: float) -> bytes:
    """``fpconv_dtoa``'s text for a finite, non-zero double."""
    neg = v < 0
    dl, k = _grisu2(-v if neg else v)
    digits = "".join(map(str, dl))
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
