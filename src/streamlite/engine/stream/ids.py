"""Stream IDs: ``<ms>-<seq>``, both unsigned 64-bit, held as one int ``ms << 64 | seq``.

One int compares, hashes and sorts exactly like Redis's ``streamID`` and costs
far less than a tuple. Parsing follows Redis's ``streamGenericParseIDOrReply``
(including its use of ``string2ull``, which falls back to ``strtoull``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ...accel import speedups
from ...numparse import string2ll
from ..errors import CommandError

SEQ_MASK = (1 << 64) - 1
U64_MAX = (1 << 64) - 1
MIN_ID = 0
MAX_ID = (U64_MAX << 64) | U64_MAX

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
INVALID_START = "ERR invalid start ID for the interval"
INVALID_END = "ERR invalid end ID for the interval"

_SPACE = b" \t\n\v\f\r"


def make_id(ms: int, seq: int) -> int:
    return (ms << 64) | seq


def id_ms(i: int) -> int:
    return i >> 64


def id_seq(i: int) -> int:
    return i & SEQ_MASK


# format_id is on every path that answers entries: the ``<ms>-`` prefix of recent
# milliseconds and the small sequence numbers are kept ready
_SMALL = [b"%d" % i for i in range(4096)]
_PREFIX: dict[int, bytes] = {}


def format_id(i: int) -> bytes:
    """``1700000000000-0`` as bytes."""
    ms = i >> 64
    p = _PREFIX.get(ms)
    if p is None:
        if len(_PREFIX) >= 256:
            _PREFIX.clear()
        p = _PREFIX[ms] = b"%d-" % ms
    seq = i & SEQ_MASK
    return p + _SMALL[seq] if seq < 4096 else p + b"%d" % seq


def _strtoull(s: bytes) -> int | None:
    """C's ``strtoull(s, &end, 10)`` that must consume all of ``s`` (None = rejected)."""
    i = 0
    n = len(s)
    while i < n and s[i] in _SPACE:
        i += 1
    neg = False
    if i < n and s[i] in b"+-":
        neg = s[i] == 0x2D
        i += 1
    digits = s[i:]
    if not digits or not digits.isdigit() or not digits.isascii():
        return None
    v = int(digits)
    if v > U64_MAX:
        return None  # ERANGE
    return (-v) & U64_MAX if neg else v


def _u64(b: bytes) -> int | None:
    """Redis's ``string2ull``: ``string2ll`` (negatives rejected), else ``strtoull``."""
    v = string2ll(b)
    if v is not None:
        return v if v >= 0 else None
    if not b:
        return None
    return _strtoull(b)


def parse_id(
    b: bytes,
    missing_seq: int = 0,
    strict: bool = False,
    msg: str = INVALID_ID,
) -> int:
    """Parse a stream ID as Redis's ``streamGenericParseIDOrReply``.

    ``-`` and ``+`` mean the smallest and largest ID unless ``strict``; an ID
    without ``-seq`` gets ``missing_seq`` (0 for range starts, U64_MAX for ends).
    """
    if len(b) > 127:
        raise CommandError(msg)
    if b"\0" in b:  # Redis works on a C string copy
        b = b[: b.index(b"\0")]
    if len(b) == 1:
        if b == b"-":
            if strict:
                raise CommandError(msg)
            return MIN_ID
        if b == b"+":
            if strict:
                raise CommandError(msg)
            return MAX_ID
    dash = b.find(b"-")
    if dash < 0:
        ms = _u64(b)
        if ms is None:
            raise CommandError(msg)
        return (ms << 64) | missing_seq
    ms = _u64(b[:dash])
    if ms is None:
        raise CommandError(msg)
    seq = _u64(b[dash + 1 :])
    if seq is None:
        raise CommandError(msg)
    return (ms << 64) | seq


def parse_xadd_id(b: bytes) -> tuple[int, bool]:
    """The ID argument of XADD: ``(id, seq_given)``; ``<ms>-*`` gives seq_given False."""
    if len(b) > 127:
        raise CommandError(INVALID_ID)
    if b"\0" in b:
        b = b[: b.index(b"\0")]
    if b in (b"-", b"+"):
        raise CommandError(INVALID_ID)
    dash = b.find(b"-")
    if dash >= 0 and b[dash + 1 :] == b"*":
        ms = _u64(b[:dash])
        if ms is None:
            raise CommandError(INVALID_ID)
        return ms << 64, False
    return parse_id(b, 0, strict=True), True


def parse_strict(b: bytes) -> int:
    """An ID where ``-``/``+`` are not allowed (XACK, XCLAIM, XDEL, XSETID...)."""
    dash = b.find(b"-")
    if 0 < dash < 20 and len(b) - dash < 21:
        # ``<ms>-<seq>`` of ASCII digits, each below 10**19: what parse_id makes of
        # it (string2ll, else strtoull, which also takes leading zeros) is int()
        ms = b[:dash]
        seq = b[dash + 1 :]
        if ms.isdigit() and seq.isdigit():
            return (int(ms) << 64) | int(seq)
    elif b.isdigit() and 0 < len(b) <= 20 and (b[0] != 0x30 or len(b) == 1):
        v = int(b)
        if v <= U64_MAX:
            return v << 64
    return parse_id(b, 0, strict=True)


def parse_ids_py(items: list[bytes]) -> list[int]:
    """``parse_strict`` of each item (XACK's IDs); the reference of ``_speedups.parse_ids``."""
    return [parse_strict(x) for x in items]


# the compiled twin parses the usual ``<ms>-<seq>`` in C and hands anything else to
# parse_strict (a partial: no Python frame per call)
parse_ids: Callable[[list[bytes]], list[int]] = (
    partial(speedups.parse_ids, parse_strict) if speedups is not None else parse_ids_py)


def incr_id(i: int) -> int | None:
    """The next ID, or None past the largest one (Redis's ``streamIncrID`` failing)."""
    return None if i == MAX_ID else i + 1


def decr_id(i: int) -> int | None:
    """The previous ID, or None before 0-0."""
    return None if i == 0 else i - 1


def parse_interval(b: bytes, is_start: bool) -> int:
    """An XRANGE/XPENDING/XAUTOCLAIM bound: ``(`` makes it exclusive; returns an inclusive ID."""
    if len(b) > 1 and b[:1] == b"(":
        i = parse_id(b[1:], 0 if is_start else U64_MAX, strict=True)
        if is_start:
            j = incr_id(i)
            if j is None:
                raise CommandError(INVALID_START)
        else:
            j = decr_id(i)
            if j is None:
                raise CommandError(INVALID_END)
        return j
    return parse_id(b, 0 if is_start else U64_MAX)
