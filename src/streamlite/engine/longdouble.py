"""x86 ``long double`` (80-bit extended) arithmetic for INCRBYFLOAT and HINCRBYFLOAT.

Redis parses these with ``strtold``, adds in ``long double`` and formats with
``%.17Lf`` minus trailing zeros (``ld2string(..., LD_STR_HUMAN)``). Python floats
are 64-bit doubles, which would give different digits (``INCRBYFLOAT k 0.1`` twice
is ``0.2`` in Redis, ``0.20000000000000001`` with doubles at 17 digits). So values
are kept exact as ``Fraction``s and rounded to the extended format (64-bit
significand, round half to even) after every parse and every addition.

``fractions`` (and ``decimal``, which it imports) is imported on first use: the
server does not need it to start.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

_MANT = 64
_EMIN = -16382  # smallest normal exponent (value = m * 2**(e-63), 1 <= m/2**63 < 2)
_EMAX = 16383
_DEC = re.compile(rb"(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_HEX = re.compile(rb"0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?")
_MAX_CHARS = 5 * 1024  # MAX_LONG_DOUBLE_CHARS

INF = float("inf")


class LongDoubleRangeError(ValueError):
    """The result is not finite (Redis: ``increment would produce NaN or Infinity``)."""


def _round(x: Fraction) -> Fraction | float:
    """Round ``x`` to the nearest extended-precision value (ties to even); inf on overflow."""
    from fractions import Fraction

    if x == 0:
        return Fraction(0)
    neg = x < 0
    a = -x if neg else x
    num, den = a.numerator, a.denominator
    # exponent e with 2**e <= a < 2**(e+1)
    e = num.bit_length() - den.bit_length()
    if (num << max(0, -e)) < (den << max(0, e)):
        e -= 1
    shift = max(e, _EMIN) - (_MANT - 1)  # value of the last significand bit is 2**shift
    # significand = round(a / 2**shift)
    if shift >= 0:
        q, r = divmod(num, den << shift)
        rden = den << shift
    else:
        q, r = divmod(num << -shift, den)
        rden = den
    twice = 2 * r
    if twice > rden or (twice == rden and q & 1):
        q += 1
    if q.bit_length() > _MANT:  # rounding carried into a new bit
        q >>= 1
        shift += 1
    if shift + _MANT - 1 > _EMAX:
        return -INF if neg else INF
    v = Fraction(q << shift) if shift >= 0 else Fraction(q, 1 << -shift)
    return -v if neg else v


def parse(b: bytes) -> Fraction | float | None:
    """``strtold`` as Redis's ``string2ld`` checks it: None when rejected.

    Accepts decimal and hex floats and inf/infinity; rejects NaN, spaces, trailing
    garbage, and overflow/underflow (``ERANGE`` to HUGE_VAL or zero).
    """
    from fractions import Fraction

    n = len(b)
    if n == 0 or n >= _MAX_CHARS or b[:1].isspace():
        return None
    s = b
    neg = False
    if s[:1] in (b"+", b"-"):
        neg = s[:1] == b"-"
        s = s[1:]
    low = s.lower()
    if low in (b"inf", b"infinity"):
        return -INF if neg else INF
    m = _HEX.fullmatch(s)
    if m is not None and (m.group(1) or m.group(2)):
        ip, fp, ex = m.group(1), m.group(2) or b"", m.group(3)
        mant = int((ip + fp) or b"0", 16)
        exp2 = (int(ex) if ex else 0) - 4 * len(fp)
        if mant == 0:
            return Fraction(0)
        if exp2 > 20000 or exp2 < -20000 - 4 * len(ip + fp):
            return None
        x = Fraction(mant) * (Fraction(2) ** exp2)
    else:
        m = _DEC.fullmatch(s)
        if m is None:
            return None
        ip, fp, ex = m.group(1), m.group(2) or b"", m.group(3)
        if not ip and not fp:
            return None
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp10 = (int(ex) if ex else 0) - len(fp)
        mag = exp10 + len(digits)  # value < 10**mag
        if mag > 4940:
            return None  # overflow: ERANGE, HUGE_VAL
        if mag < -4960:
            return None  # underflow to zero: ERANGE
        x = Fraction(int(digits)) * (Fraction(10) ** exp10)
    v = _round(x)
    if isinstance(v, float):
        return None  # ERANGE, HUGE_VAL
    if v == 0:
        return None  # underflow to zero
    return -v if neg else v


def from_int(i: int) -> Fraction:
    from fractions import Fraction

    v = _round(Fraction(i))
    assert not isinstance(v, float)
    return v


def add(a: Fraction | float, b: Fraction | float) -> Fraction:
    """``a + b`` in long double; raises LongDoubleRangeError if not finite."""
    if isinstance(a, float) or isinstance(b, float):
        raise LongDoubleRangeError
    v = _round(a + b)
    if isinstance(v, float):
        raise LongDoubleRangeError
    return v


def format_human(v: Fraction) -> bytes:
    """``%.17Lf`` with trailing zeros (and a bare dot) removed; ``-0`` becomes ``0``."""
    neg = v < 0
    a = -v if neg else v
    scaled = a * 10**17
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator or (twice == scaled.denominator and q & 1):
        q += 1
    s = str(q).rjust(18, "0")
    out = s[:-17] + "." + s[-17:]
    out = out.rstrip("0").rstrip(".")
    if neg:
        out = "-" + out
    if out == "-0":
        out = "0"
    return out.encode()
