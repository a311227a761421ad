"""Stream IDs: ``<ms>-<seq>``, both unsigned 64-bit, held as one int ``ms << 64 | seq``.

One int compares, hashes and sorts exactly like Redis's ``streamID`` and costs
far less than a tuple.
"""

from __future__ import annotations

from ..errors import CommandError

SEQ_BITS = 64
SEQ_MASK = (1 << 64) - 1
U64_MAX = (1 << 64) - 1
MIN_ID = 0
MAX_ID = (U64_MAX << 64) | U64_MAX

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"


def make_id(ms: int, seq: int) -> int:
    return (ms << 64) | seq


def id_ms(i: int) -> int:
    return i >> 64


def id_seq(i: int) -> int:
    return i & SEQ_MASK


def format_id(i: int) -> bytes:
    """``1700000000000-0`` as bytes."""
    return b"%d-%d" % (i >> 64, i & SEQ_MASK)


def _u64(b: bytes) -> int | None:
    # strtoull-like but strict: digits only (Redis uses string2ull)
    if not b or len(b) > 20 or not b.isdigit():
        return None
    v = int(b)
    return v if v <= U64_MAX else None


def parse_id(
    b: bytes,
    missing_seq: int = 0,
    strict: bool = False,
    msg: str = INVALID_ID,
) -> int:
    """Parse a stream ID as Redis's ``streamGenericParseIDOrReply``.

    ``-`` and ``+`` mean the smallest and largest ID unless ``strict``; an ID
    without ``-seq`` gets ``missing_seq`` (0 for range starts, U64_MAX for ends)
    unless ``strict``, which also requires both parts.
    """
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
        if strict:
            raise CommandError(msg)
        ms = _u64(b)
        if ms is None:
            raise CommandError(msg)
        return (ms << 64) | missing_seq
    ms = _u64(b[:dash])
    seq = _u64(b[dash + 1 :])
    if ms is None or seq is None:
        raise CommandError(msg)
    return (ms << 64) | seq


def parse_range_bound(b: bytes, is_start: bool) -> tuple[int, bool]:
    """Parse an XRANGE bound; returns ``(id, exclusive)``; ``(`` prefix = exclusive."""
    if b[:1] == b"(":
        if len(b) == 1:
            raise CommandError(INVALID_ID)
        i = parse_id(b[1:], 0 if is_start else U64_MAX, strict=False)
        inner = b[1:]
        if inner in (b"-", b"+"):
            raise CommandError(INVALID_ID)
        return i, True
    return parse_id(b, 0 if is_start else U64_MAX), False
