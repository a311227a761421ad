"""HyperLogLog values, byte for byte as Redis stores them (``hyperloglog.c``).

An HLL is a plain string (``bytes``) with a 16-byte header::

    "HYLL" | encoding (0 dense, 1 sparse) | 3 unused | cached cardinality (8 bytes, LE)

The top bit of the cached cardinality's last byte set means "stale". 16384
registers of 6 bits follow, in one of two representations:

- **dense**: 12288 bytes, register ``i`` at bit ``6 * i`` counted from the least
  significant bit of each byte;
- **sparse**: run-length opcodes, ``ZERO`` ``00xxxxxx`` (1-64 zero registers),
  ``XZERO`` ``01xxxxxx yyyyyyyy`` (1-16384 zero registers) and ``VAL``
  ``1vvvvvxx`` (1-4 registers of value 1-32). A new HLL is ``XZERO:16384``; it
  turns dense when a register needs a value above 32 or the string would grow
  past ``hll-sparse-max-bytes``.

The sparse form depends on the order of the updates (which runs get split, which
neighbours merged), so ``sparse_set`` follows Redis's ``hllSparseSet`` step by step:
the same PFADDs give the same bytes, which survive DUMP/RESTORE and the RDB with
Redis. Elements hash with MurmurHash64A (seed ``0xadc83b19``); the cardinality is
Ertl's estimator over the register histogram, in the same double arithmetic as
Redis, so PFCOUNT gives Redis's numbers.

Whole-array work (dense <-> one byte per register, histograms) runs on bytes at C
speed: the 6-bit fields are split with ``bytes.translate`` tables and combined
with big-integer ``|`` (the pieces never overlap, so no carries).
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_left, bisect_right
from collections import Counter

P = 14
Q = 64 - P
REGISTERS = 1 << P
HDR = 16
DENSE_BYTES = REGISTERS * 6 // 8
DENSE_SIZE = HDR + DENSE_BYTES
DENSE, SPARSE = 0, 1
MAGIC = b"HYLL"
SPARSE_VAL_MAX = 32
ALPHA_INF = 0.721347520444481703680  # 0.5 / ln(2)

INVALID = "INVALIDOBJ Corrupted HLL object detected"
NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."

_M = 0xC6A4A7935BD1E995
_U64 = (1 << 64) - 1


class CorruptHLL(Exception):
    """A sparse representation whose runs do not add up to 16384 registers."""


# -- hashing ------------------------------------------------------------------------


def murmur64a(data: bytes, seed: int = 0xADC83B19) -> int:
    """Redis's endian-neutral MurmurHash64A."""
    n = len(data)
    h = (seed ^ (n * _M)) & _U64
    body = n & ~7
    for (k,) in struct.iter_unpack("<Q", data[:body]):
        k = (k * _M) & _U64
        k ^= k >> 47
        h ^= (k * _M) & _U64
        h = (h * _M) & _U64
    if n & 7:
        h ^= int.from_bytes(data[body:], "little")
        h = (h * _M) & _U64
    h ^= h >> 47
    h = (h * _M) & _U64
    return h ^ (h >> 47)


def pattern(ele: bytes) -> tuple[int, int]:
    """``hllPatLen``: (register index, length of the ``000..1`` run + 1)."""
    h = murmur64a(ele)
    rest = (h >> P) | (1 << Q)
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


# -- header -----------------------------------------------------------------------------


def is_valid(v: bytes) -> bool:
    """``isHLLObjectOrReply``'s checks (magic, encoding, dense length)."""
    if len(v) < HDR or v[:4] != MAGIC or v[4] > SPARSE:
        return False
    return v[4] == SPARSE or len(v) == DENSE_SIZE


def new_sparse() -> bytearray:
    """``createHLLObject``: an empty sparse HLL (``XZERO:16384``)."""
    return bytearray(MAGIC + bytes((SPARSE, 0, 0, 0)) + bytes(8) + b"\x7f\xff")


def invalidate(s: bytearray) -> None:
    s[15] |= 0x80


def cached(s: bytes) -> int | None:
    """The cached cardinality, or None when it is stale."""
    return None if s[15] & 0x80 else int.from_bytes(s[8:16], "little")


def set_cached(s: bytearray, card: int) -> None:
    s[8:16] = card.to_bytes(8, "little")


# -- dense <-> raw (one byte per register) --------------------------------------------

_AND63 = bytes(b & 63 for b in range(256))
_SHR6 = bytes(b >> 6 for b in range(256))
_SHR4 = bytes(b >> 4 for b in range(256))
_SHR2 = bytes(b >> 2 for b in range(256))
_AND15_SHL2 = bytes((b & 15) << 2 for b in range(256))
_AND3_SHL4 = bytes((b & 3) << 4 for b in range(256))
_AND3_SHL6 = bytes((b & 3) << 6 for b in range(256))
_AND15_SHL4 = bytes((b & 15) << 4 for b in range(256))
_SHL2 = bytes((b << 2) & 0xFF for b in range(256))


def _or(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") | int.from_bytes(b, "big")).to_bytes(len(a), "big")


def dense_to_raw(regs: bytes | bytearray) -> bytearray:
    """The 16384 registers of the 12288 dense bytes ``regs``, one per byte."""
    b0, b1, b2 = bytes(regs[0::3]), bytes(regs[1::3]), bytes(regs[2::3])
    raw = bytearray(REGISTERS)
    raw[0::4] = b0.translate(_AND63)
    raw[1::4] = _or(b0.translate(_SHR6), b1.translate(_AND15_SHL2))
    raw[2::4] = _or(b1.translate(_SHR4), b2.translate(_AND3_SHL4))
    raw[3::4] = b2.translate(_SHR2)
    return raw


def raw_to_dense(raw: bytes | bytearray) -> bytes:
    """``hllDenseCompress``: registers (values 0..63, one per byte) -> 12288 bytes."""
    r0, r1, r2, r3 = (bytes(raw[i::4]) for i in range(4))
    out = bytearray(DENSE_BYTES)
    out[0::3] = _or(r0, r1.translate(_AND3_SHL6))
    out[1::3] = _or(r1.translate(_SHR2), r2.translate(_AND15_SHL4))
    out[2::3] = _or(r2.translate(_SHR4), r3.translate(_SHL2))
    return bytes(out)


def dense_get(s: bytes | bytearray, i: int) -> int:
    b = HDR + i * 6 // 8
    fb = i * 6 & 7
    b1 = s[b + 1] if b + 1 < len(s) else 0
    return ((s[b] >> fb) | (b1 << (8 - fb))) & 63


def dense_set(s: bytearray, i: int, val: int) -> None:
    b = HDR + i * 6 // 8
    fb = i * 6 & 7
    s[b] = (s[b] & ~(63 << fb) & 0xFF) | ((val << fb) & 0xFF)
    if b + 1 < len(s):
        s[b + 1] = (s[b + 1] & ~(63 >> (8 - fb))) | (val >> (8 - fb))


def dense_add(s: bytearray, index: int, count: int) -> int:
    """``hllDenseSet``: raise register ``index`` to ``count``; 1 if it changed."""
    if count > dense_get(s, index):
        dense_set(s, index, count)
        return 1
    return 0


# -- sparse ---------------------------------------------------------------------------


def _op(s: bytes | bytearray, p: int) -> tuple[int, int, int]:
    """The opcode at ``p``: (kind 0 ZERO / 1 XZERO / 2 VAL, run length, value)."""
    b = s[p]
    if b & 0x80:
        return 2, (b & 3) + 1, ((b >> 2) & 0x1F) + 1
    if b & 0x40:
        nxt = s[p + 1] if p + 1 < len(s) else 0
        return 1, (((b & 0x3F) << 8) | nxt) + 1, 0
    return 0, (b & 0x3F) + 1, 0


# run length of a one-byte opcode (ZERO, VAL); 0 marks the first byte of an XZERO
_SPANS = tuple(0 if b & 0xC0 == 0x40 else ((b & 3) + 1 if b & 0x80 else (b & 0x3F) + 1)
               for b in range(256))


def _val(v: int, n: int) -> int:
    return ((v - 1) << 2 | (n - 1)) | 0x80


def _filler(kind: int, val: int, n: int) -> bytes:
    """The opcode for ``n`` registers of the run being split: VAL ``val`` or zeros."""
    return bytes((_val(val, n),)) if kind == 2 else _zeros(n)


def _zeros(n: int) -> bytes:
    if n > 64:
        return bytes((((n - 1) >> 8) | 0x40, (n - 1) & 0xFF))
    return bytes((n - 1,))


def sparse_runs(s: bytes | bytearray) -> list[tuple[int, int]]:
    """(value, run length) of every opcode, validated (``CorruptHLL``)."""
    runs: list[tuple[int, int]] = []
    p, end, idx = HDR, len(s), 0
    while p < end:
        kind, n, v = _op(s, p)
        idx += n
        if idx > REGISTERS:
            raise CorruptHLL
        runs.append((v, n))
        p += 2 if kind == 1 else 1
    if idx != REGISTERS:
        raise CorruptHLL
    return runs


def sparse_to_raw(s: bytes | bytearray) -> bytearray:
    raw = bytearray(REGISTERS)
    i = 0
    for v, n in sparse_runs(s):
        if v:
            raw[i : i + n] = bytes((v,)) * n
        i += n
    return raw


def to_dense(s: bytes | bytearray) -> bytearray:
    """``hllSparseToDense``: the same header (cached cardinality included), dense."""
    if s[4] == DENSE:
        return bytearray(s)
    raw = sparse_to_raw(s)
    return bytearray(s[:4] + bytes((DENSE,)) + s[5:HDR] + raw_to_dense(raw))


class Sparse:
    """A sparse HLL being edited: its bytes ``s`` plus an index of its opcodes kept in
    step with every edit: the first register of each (``firsts``), the positions
    (opcode numbers) of the two-byte ones (``xz``, the XZEROs: every other opcode is
    one byte, so opcode ``i`` starts at byte ``16 + i + (XZEROs before i)``) and the
    registers they cover in all. Finding the opcode of a register is then a
    bisection instead of Redis's scan from the start; the edits are Redis's.

    ``of(v)`` reuses the index of a value this module produced before (a small
    cache keyed by the identity of the immutable ``bytes``), so a one-element PFADD
    does not parse the whole string again."""

    __slots__ = ("s", "firsts", "xz", "end")

    def __init__(self, s: bytearray, firsts: list[int], xz: list[int], end: int) -> None:
        self.s = s
        self.firsts = firsts
        self.xz = xz
        self.end = end  # registers covered by all the opcodes (16384 when valid)

    @classmethod
    def parse(cls, s: bytearray) -> Sparse:
        firsts: list[int] = []
        xz: list[int] = []
        p, n, first = HDR, len(s), 0
        spans = _SPANS
        while p < n:
            span = spans[s[p]]
            if span:
                p += 1
            else:  # XZERO (the byte after a truncated one reads as 0, as in C)
                span = (((s[p] & 0x3F) << 8) | (s[p + 1] if p + 1 < n else 0)) + 1
                if p + 1 < n:
                    xz.append(len(firsts))
                p += 2
            firsts.append(first)
            first += span
        return cls(s, firsts, xz, first)

    @classmethod
    def of(cls, v: bytes) -> Sparse:
        hit = _INDEX.get(id(v))
        if hit is not None and hit[0] is v:
            _, firsts, xz, end = hit
            return cls(bytearray(v), list(firsts), list(xz), end)
        return cls.parse(bytearray(v))

    def remember(self, v: bytes) -> None:
        """Keep this index for ``v`` (the bytes of ``self.s``, about to be stored)."""
        if len(_INDEX) >= _INDEX_SIZE:
            try:  # engines in other threads may be trimming it too
                _INDEX.pop(next(iter(_INDEX)), None)
            except (StopIteration, RuntimeError):
                pass
        _INDEX[id(v)] = (v, self.firsts, self.xz, self.end)

    def pos(self, i: int) -> int:
        """The byte offset of opcode ``i``."""
        return HDR + i + bisect_left(self.xz, i)

    def replace(self, i: int, firsts: list[int], two_byte: list[int]) -> None:
        """Opcode ``i`` became ``len(firsts)`` opcodes (``two_byte``: which of them, by
        number from 0, are XZEROs)."""
        xz = self.xz
        k = bisect_left(xz, i)
        tail = xz[k + 1:] if k < len(xz) and xz[k] == i else xz[k:]
        shift = len(firsts) - 1
        xz[k:] = [i + j for j in two_byte] + ([x + shift for x in tail] if shift else tail)
        self.firsts[i : i + 1] = firsts

    def drop(self, i: int) -> None:
        """Opcode ``i`` (one byte) was removed."""
        xz = self.xz
        k = bisect_left(xz, i)
        xz[k:] = [x - 1 for x in xz[k:]]
        del self.firsts[i]


_INDEX: dict[int, tuple[bytes, list[int], list[int], int]] = {}
_INDEX_SIZE = 64


def sparse_set(sp: Sparse, index: int, count: int, max_bytes: int) -> tuple[int, Sparse | bytearray]:
    """``hllSparseSet``: raise register ``index`` to ``count``.

    Returns (1 changed / 0 not, the value: ``sp`` updated in place, or a dense
    bytearray when it had to be promoted). ``CorruptHLL`` for an invalid HLL."""
    s = sp.s
    if count > SPARSE_VAL_MAX:
        return _promote(s, index, count)
    # step 1: the opcode covering ``index``
    if index >= sp.end:
        raise CorruptHLL
    i = bisect_right(sp.firsts, index) - 1
    first = sp.firsts[i]
    p = sp.pos(i)
    kind, span, val = _op(s, p)
    # step 2: the trivial updates in place, else the split sequence
    if kind == 2:
        if val >= count:
            return 0, sp
        if span == 1:
            s[p] = _val(count, 1)
            return _merge_from(sp, i), sp
    if kind == 0 and span == 1:
        s[p] = _val(count, 1)
        return _merge_from(sp, i), sp
    last = first + span - 1
    seq = bytearray()
    firsts: list[int] = []
    two_byte: list[int] = []
    if index != first:
        run = _filler(kind, val, index - first)
        if len(run) == 2:
            two_byte.append(0)
        seq += run
        firsts.append(first)
    seq.append(_val(count, 1))
    firsts.append(index)
    if index != last:
        run = _filler(kind, val, last - index)
        if len(run) == 2:
            two_byte.append(len(firsts))
        seq += run
        firsts.append(index + 1)
    # step 3: put it in place of the old opcode, unless the string gets too long
    oldlen = 2 if kind == 1 else 1
    delta = len(seq) - oldlen
    if delta > 0 and len(s) + delta > max_bytes:
        return _promote(s, index, count)
    size = len(s)
    s[p : p + oldlen] = seq
    if len(s) != size + delta:  # the old XZERO was cut short by the end of the string:
        del s[size + delta:]  # Redis's length arithmetic drops the overhang
        fresh = Sparse.parse(s)
        sp.firsts, sp.xz, sp.end = fresh.firsts, fresh.xz, fresh.end
        return _merge_from(sp, i), sp
    sp.replace(i, firsts, two_byte)
    return _merge_from(sp, i), sp


def _merge_from(sp: Sparse, i: int) -> int:
    """Step 4: merge adjacent equal VAL opcodes, scanning up to 5 opcodes from the
    one before opcode ``i`` (the changed one); then mark the cached cardinality stale."""
    s = sp.s
    j = i - 1 if i > 0 else 0
    p = sp.pos(j)
    scan = 5
    while p < len(s) and scan > 0:
        scan -= 1
        b = s[p]
        if not b & 0x80:
            p += 2 if b & 0x40 else 1
            j += 1
            continue
        if p + 1 < len(s) and s[p + 1] & 0x80:
            v1 = ((b >> 2) & 0x1F) + 1
            v2 = ((s[p + 1] >> 2) & 0x1F) + 1
            n = (b & 3) + (s[p + 1] & 3) + 2
            if v1 == v2 and n <= 4:
                s[p + 1] = _val(v1, n)
                del s[p]
                sp.drop(j + 1)  # the merged opcode keeps opcode j's first register
                continue
        p += 1
        j += 1
    invalidate(s)
    return 1


def _promote(s: bytearray, index: int, count: int) -> tuple[int, bytearray]:
    d = to_dense(s)
    changed = dense_add(d, index, count)
    assert changed == 1
    return 1, d


def add(v: Sparse | bytearray, ele: bytes, max_bytes: int) -> tuple[int, Sparse | bytearray]:
    """``hllAdd``: (1 if a register changed, the value, promoted to dense if needed)."""
    index, count = pattern(ele)
    if isinstance(v, Sparse):
        return sparse_set(v, index, count, max_bytes)
    return dense_add(v, index, count), v


def editable(v: bytes) -> Sparse | bytearray:
    """A stored HLL ready for edits: a ``Sparse`` or the dense bytes."""
    return Sparse.of(v) if v[4] == SPARSE else bytearray(v)


def value_bytes(v: Sparse | bytearray) -> bytearray:
    return v.s if isinstance(v, Sparse) else v


# -- counting ---------------------------------------------------------------------------


def registers(s: bytes | bytearray) -> bytearray:
    """All 16384 registers, one per byte (``CorruptHLL`` for a broken sparse form)."""
    if s[4] == DENSE:
        return dense_to_raw(s[HDR:DENSE_SIZE])
    return sparse_to_raw(s)


_GUARD = int.from_bytes(b"\x80" * REGISTERS, "big")


def merge_into(mx: bytearray, s: bytes | bytearray) -> bytearray:
    """``hllMerge``: the register-wise maximum of ``mx`` and HLL ``s``.

    All 16384 maxima at once on big integers (registers are below 128): per byte,
    ``(b | 0x80) - a`` keeps its top bit exactly when ``b >= a`` and never borrows
    from the next byte; that bit, spread over the byte, selects ``b`` or ``a``."""
    a = int.from_bytes(mx, "big")
    b = int.from_bytes(registers(s), "big")
    take_b = (((b | _GUARD) - a) & _GUARD) >> 7
    take_b *= 0xFF
    return bytearray(((b & take_b) | (a & ~take_b)).to_bytes(REGISTERS, "big"))


def histogram(raw: bytes | bytearray) -> list[int]:
    counts = Counter(raw)
    return [counts.get(i, 0) for i in range(64)]


def sparse_histogram(s: bytes | bytearray) -> list[int]:
    hist = [0] * 64
    for v, n in sparse_runs(s):
        hist[v] += n
    return hist


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        prev = z
        z += x * y
        y += y
        if prev == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1 - x
    while True:
        x = math.sqrt(x)
        prev = z
        y *= 0.5
        d = 1 - x
        z -= d * d * y
        if prev == z:
            return z / 3


def estimate(hist: list[int]) -> int:
    """``hllCount`` from a register histogram (Ertl, arXiv:1702.01284)."""
    m = float(REGISTERS)
    z = m * _tau((m - hist[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    e = ALPHA_INF * m * m / z
    r = math.floor(e)
    return int(r + 1 if e - r >= 0.5 else r)  # llroundl: halves away from zero


def count(s: bytes | bytearray) -> int:
    """The cardinality estimate of HLL ``s`` (``CorruptHLL`` if sparse and broken)."""
    if s[4] == DENSE:
        return estimate(histogram(dense_to_raw(s[HDR:DENSE_SIZE])))
    return estimate(sparse_histogram(s))


def decode(s: bytes | bytearray) -> bytes:
    """PFDEBUG DECODE: ``z:n`` / ``Z:n`` / ``v:value,n`` for each sparse opcode."""
    out = []
    p, end = HDR, len(s)
    while p < end:
        kind, n, v = _op(s, p)
        out.append(f"v:{v},{n}" if kind == 2 else f"{'Z' if kind else 'z'}:{n}")
        p += 2 if kind == 1 else 1
    return " ".join(out).encode()
