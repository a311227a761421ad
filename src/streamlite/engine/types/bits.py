"""Bit-level arithmetic on string values: what SETBIT, BITCOUNT, BITPOS, BITOP and
BITFIELD compute (Redis's ``bitops.c``), with no keyspace in it.

A bitmap is a plain Redis string (``bytes``); bit 0 is the most significant bit of
the first byte, and a string is read as if zero-padded on the right forever. Whole
ranges go through Python's big integers (``int.from_bytes`` then ``&``, ``|``,
``^``, ``bit_count``), so BITOP and BITCOUNT run at C speed on large strings.

BITFIELD integers are 1..64 bits wide (unsigned up to 63), read and written at any
bit offset, MSB first; ``overflow_unsigned``/``overflow_signed`` reproduce Redis's
``checkUnsignedBitfieldOverflow``/``checkSignedBitfieldOverflow`` including their
64-bit wrap-around arithmetic, so WRAP, SAT and FAIL give Redis's numbers.
"""

from __future__ import annotations

from functools import reduce

U64 = (1 << 64) - 1
I64_MAX = (1 << 63) - 1

WRAP, SAT, FAIL = 0, 1, 2  # BITFIELD OVERFLOW kinds


def to_int64(v: int) -> int:
    """``v`` as C's ``int64_t`` after unsigned 64-bit wrap-around."""
    v &= U64
    return v - (1 << 64) if v > I64_MAX else v


# -- ranges ----------------------------------------------------------------------------


def popcount(v: bytes, start: int, end: int, first_mask: int = 0, last_mask: int = 0) -> int:
    """Set bits in bytes ``v[start..end]``, minus the bits of the first/last byte that
    ``first_mask``/``last_mask`` mark as outside a bit range (BITCOUNT ... BIT)."""
    n = int.from_bytes(v[start : end + 1], "big").bit_count()
    if first_mask:
        n -= (v[start] & first_mask).bit_count()
    if last_mask:
        n -= (v[end] & last_mask).bit_count()
    return n


def bitpos(v: bytes, bit: int, start: int, end: int, first_mask: int, last_mask: int) -> int:
    """Position (relative to byte ``start``) of the first ``bit`` in ``v[start..end]``,
    with the masked edge bits not counting; ``-1`` when looking for a 1 and there is
    none, ``8 * (end - start + 1)`` when looking for a 0 and there is none (Redis's
    ``redisBitpos`` treats the string as zero-padded on the right)."""
    chunk = bytearray(v[start : end + 1])
    if bit:
        chunk[0] &= ~first_mask & 0xFF
        chunk[-1] &= ~last_mask & 0xFF
        skip = 0
    else:
        chunk[0] |= first_mask
        chunk[-1] |= last_mask
        skip = 0xFF
    rest = chunk.lstrip(bytes([skip]))
    i = len(chunk) - len(rest)
    if i == len(chunk):
        return -1 if bit else 8 * len(chunk)
    byte = rest[0] if bit else ~rest[0] & 0xFF
    return 8 * i + 8 - byte.bit_length()


def edge_masks(start: int, end: int) -> tuple[int, int]:
    """For a bit range: the bits of the first and last byte that fall outside it."""
    return ~((1 << (8 - (start & 7))) - 1) & 0xFF, (1 << (7 - (end & 7))) - 1


# -- BITOP -----------------------------------------------------------------------------

OPS = (b"AND", b"OR", b"XOR", b"NOT", b"DIFF", b"DIFF1", b"ANDOR", b"ONE")


def bitop(op: bytes, srcs: list[bytes]) -> bytes:
    """BITOP ``op`` over ``srcs`` (missing keys as empty strings), zero-padded to the
    longest; the result has that length (``b""`` when every source is empty).

    DIFF is X & ~(A1 | ... | An), DIFF1 is ~X & (A1 | ...), ANDOR is X & (A1 | ...),
    ONE keeps the bits set in exactly one source."""
    maxlen = max(len(s) for s in srcs)
    if not maxlen:
        return b""
    mask = (1 << (8 * maxlen)) - 1
    ints = [int.from_bytes(s, "big") << (8 * (maxlen - len(s))) for s in srcs]
    x = ints[0]
    if op == b"AND":
        r = reduce(lambda a, b: a & b, ints)
    elif op == b"OR":
        r = reduce(lambda a, b: a | b, ints)
    elif op == b"XOR":
        r = reduce(lambda a, b: a ^ b, ints)
    elif op == b"NOT":
        r = ~x & mask
    elif op == b"ONE":
        seen = multi = 0
        for k in ints:
            multi |= seen & k
            seen |= k
        r = seen & ~multi
    else:
        rest = reduce(lambda a, b: a | b, ints[1:], 0)
        if op == b"DIFF":
            r = x & ~rest & mask
        elif op == b"DIFF1":
            r = ~x & rest & mask
        else:  # ANDOR
            r = x & rest
    return r.to_bytes(maxlen, "big")


# -- BITFIELD integers ---------------------------------------------------------------


def get_unsigned(p: bytes | bytearray, offset: int, bits: int) -> int:
    """The ``bits``-wide unsigned integer at bit ``offset`` (beyond the end: zeros)."""
    first, last = offset >> 3, (offset + bits - 1) >> 3
    chunk = bytes(p[first : last + 1]).ljust(last - first + 1, b"\0")
    shift = 8 * (last + 1) - (offset + bits)
    return (int.from_bytes(chunk, "big") >> shift) & ((1 << bits) - 1)


def get_signed(p: bytes | bytearray, offset: int, bits: int) -> int:
    v = get_unsigned(p, offset, bits)
    return v - (1 << bits) if v >> (bits - 1) else v


def set_bits(p: bytearray, offset: int, bits: int, value: int) -> None:
    """Write the low ``bits`` bits of ``value`` (two's complement) at bit ``offset``
    (``p`` is long enough)."""
    first, last = offset >> 3, (offset + bits - 1) >> 3
    width = 8 * (last - first + 1)
    shift = width - (offset - 8 * first) - bits
    field = ((1 << bits) - 1) << shift
    cur = int.from_bytes(p[first : last + 1], "big")
    cur = (cur & ~field) | ((value << shift) & field)
    p[first : last + 1] = cur.to_bytes(width // 8, "big")


def overflow_unsigned(value: int, incr: int, bits: int, kind: int) -> tuple[int, int]:
    """``checkUnsignedBitfieldOverflow``: (0 | 1 overflow | -1 underflow, value to
    store on overflow under ``kind``). ``value`` is a uint64, ``incr`` an int64."""
    mx = (1 << bits) - 1
    maxincr = to_int64(mx - value)
    minincr = to_int64(-value)
    if value > mx or (incr > 0 and incr > maxincr):
        return 1, (value + incr) & mx if kind == WRAP else mx
    if incr < 0 and incr < minincr:
        return -1, (value + incr) & mx if kind == WRAP else 0
    return 0, 0


def overflow_signed(value: int, incr: int, bits: int, kind: int) -> tuple[int, int]:
    """``checkSignedBitfieldOverflow``, with C's int64 wrap-around in its limits."""
    mx = I64_MAX if bits == 64 else (1 << (bits - 1)) - 1
    mn = -mx - 1
    maxincr = to_int64(mx - value)
    minincr = to_int64(mn - value)
    if value > mx or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and incr > maxincr):
        return 1, _wrap_signed(value, incr, bits) if kind == WRAP else mx
    if value < mn or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and incr < minincr):
        return -1, _wrap_signed(value, incr, bits) if kind == WRAP else mn
    return 0, 0


def _wrap_signed(value: int, incr: int, bits: int) -> int:
    c = (value + incr) & U64
    if bits < 64:
        c &= (1 << bits) - 1
        if c >> (bits - 1):
            c -= 1 << bits
        return c
    return to_int64(c)
