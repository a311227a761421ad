"""HyperLogLog commands (Redis group "hyperloglog"): PFADD, PFCOUNT, PFMERGE,
PFDEBUG and PFSELFTEST.

An HLL is a string holding Redis's exact representation (``types/hll.py``): GET
shows the same bytes as Redis, DUMP/RESTORE and the RDB carry it to and from
Redis, and PFCOUNT gives the same estimates.

As in Redis: PFADD notifies ``pfadd`` and counts a write only when a register
changed (or the key was created); PFMERGE notifies ``pfadd`` on the destination
(itself one of the sources); PFCOUNT of one key caches the estimate in the
header, which is a change to the string, so that PFCOUNT is propagated like a
write; PFDEBUG GETREG/TODENSE propagate when they convert a sparse HLL to dense.
Every value these commands write is a ``raw`` string.
"""

from __future__ import annotations

import math
import os
import random
from typing import Any

from .. import strenc
from ..client import Client
from ..errors import WRONGTYPE, CommandError
from ..notify import notify, read_miss
from ..registry import KeySpec, command
from ..replies import OK, ErrorReply, MultiReply, SimpleString
from ..types import hll
from ..types.config import conf_int

_G = "hyperloglog"


def _hll(c: Client, key: bytes, write: bool = False) -> bytes | None:
    """The HLL at ``key`` (None if missing); WRONGTYPE for other types or strings
    that are not HLLs (``isHLLObjectOrReply``)."""
    v = c.db.lookup(key)
    if not write:
        read_miss(c, key, v)
    if v is None:
        return None
    if type(v) is not bytes:
        raise CommandError(WRONGTYPE)
    if not hll.is_valid(v):
        raise CommandError(hll.NOT_HLL)
    return v


def _save(c: Client, key: bytes, value: bytes | bytearray | hll.Sparse) -> None:
    """Store an HLL as a ``raw`` string, keeping the TTL."""
    v = bytes(hll.value_bytes(value) if not isinstance(value, bytes) else value)
    if isinstance(value, hll.Sparse):
        value.remember(v)
    c.db.set(key, v, keep_ttl=True)
    strenc.set_explicit(c.db, key, v, strenc.RAW)


def _max_bytes(c: Client) -> int:
    return conf_int(c.engine, "hll-sparse-max-bytes", 3000)


@command("pfadd", -2, "write denyoom fast", 1, 1, 1, group=_G,
         specs=(KeySpec("RW insert", 1),))
def pfadd(c: Client, argv: list[bytes]) -> int:
    """PFADD key [element [element ...]]"""
    key = argv[1]
    v = _hll(c, key, write=True)
    dirty = c.engine.dirty
    updated = 0
    if v is None:
        v = bytes(hll.new_sparse())
        _save(c, key, v)  # the key exists even if an element below is refused
        updated = 1
    h = hll.editable(v)
    max_bytes = _max_bytes(c)
    for ele in argv[2:]:
        try:
            changed, h = hll.add(h, ele, max_bytes)
        except hll.CorruptHLL:
            # Redis keeps the registers raised before the corruption was met without
            # counting or propagating it; here it is propagated (the error replays the same)
            _save(c, key, hll.value_bytes(h))
            raise CommandError(hll.INVALID) from None
        updated += changed
    if updated:
        hll.invalidate(hll.value_bytes(h))
        _save(c, key, h)
        notify(c, "$", b"pfadd", key)
        c.engine.dirty = dirty + updated  # Redis: one change per register raised
    else:
        strenc.set_explicit(c.db, key, v, strenc.RAW)
    return 1 if updated else 0


@command("pfcount", -2, "readonly", 1, -1, 1, group=_G,
         specs=(KeySpec("RW access", 1, lastkey=-1, notes="RW because it may change the "
                        "internal representation of the key, and propagate to replicas"),))
def pfcount(c: Client, argv: list[bytes]) -> int:
    """PFCOUNT key [key ...]"""
    if len(argv) > 2:
        mx = bytearray(hll.REGISTERS)
        for key in argv[1:]:
            v = _hll(c, key)
            if v is None:
                continue
            try:
                mx = hll.merge_into(mx, v)
            except hll.CorruptHLL:
                raise CommandError(hll.INVALID) from None
        return hll.estimate(hll.histogram(mx))
    key = argv[1]
    v = _hll(c, key)
    if v is None:
        return 0
    card = hll.cached(v)
    if card is not None:
        strenc.set_explicit(c.db, key, v, strenc.RAW)
        return card
    try:
        card = hll.count(v)
    except hll.CorruptHLL:
        raise CommandError(hll.INVALID) from None
    s = bytearray(v)
    hll.set_cached(s, card)
    _save(c, key, s)
    c.engine.rewrite(c, list(argv))  # a read-only command that changed the string
    return card


@command("pfmerge", -2, "write denyoom", 1, -1, 1, group=_G,
         specs=(KeySpec("RW access insert", 1), KeySpec("RO access", 2, lastkey=-1)))
def pfmerge(c: Client, argv: list[bytes]) -> Any:
    """PFMERGE destkey [sourcekey [sourcekey ...]]"""
    mx = bytearray(hll.REGISTERS)
    use_dense = False
    for key in argv[1:]:  # the destination is one of the sources
        v = _hll(c, key)
        if v is None:
            continue
        use_dense = use_dense or v[4] == hll.DENSE
        try:
            mx = hll.merge_into(mx, v)
        except hll.CorruptHLL:
            raise CommandError(hll.INVALID) from None
    dest = argv[1]
    dirty = c.engine.dirty
    cur = c.db.peek(dest)
    if cur is None:
        cur = bytes(hll.new_sparse())
        _save(c, dest, cur)
    h: bytearray | hll.Sparse
    if use_dense:
        try:
            h = hll.to_dense(cur)
        except hll.CorruptHLL:
            raise CommandError(hll.INVALID) from None
        h[hll.HDR:] = hll.raw_to_dense(mx)
    else:
        h = hll.editable(cur)
        max_bytes = _max_bytes(c)
        for j, r in enumerate(mx):
            if not r:
                continue
            if isinstance(h, hll.Sparse):
                _, h = hll.sparse_set(h, j, r, max_bytes)
            else:
                hll.dense_add(h, j, r)
    hll.invalidate(hll.value_bytes(h))
    _save(c, dest, h)
    notify(c, "$", b"pfadd", dest)
    c.engine.dirty = dirty + 1
    return OK


# -- testing and debugging -------------------------------------------------------------


@command("pfdebug", 3, "write denyoom admin", 2, 2, 1, group=_G,
         acl="@write @hyperloglog @admin @slow @dangerous", specs=(KeySpec("RW access", 2),))
def pfdebug(c: Client, argv: list[bytes]) -> Any:
    """PFDEBUG subcommand key"""
    sub = argv[1].lower()
    if sub == b"simd":  # Redis 8's switch for its AVX2 paths (the results are the same)
        arg = argv[2].lower()
        if arg in (b"on", b"off"):
            c.engine.hll_simd = arg == b"on"
        state = SimpleString(b"enabled" if c.engine.hll_simd else b"disabled")
        if arg not in (b"on", b"off"):  # Redis replies twice here: the error, then the state
            return MultiReply([ErrorReply(b"ERR Argument must be ON or OFF"), state])
        return state
    key = argv[2]
    v = c.db.lookup(key)
    if v is None:
        raise CommandError("ERR The specified key does not exist")
    v = _hll(c, key, write=True)
    assert v is not None
    strenc.set_explicit(c.db, key, v, strenc.RAW)
    if sub in (b"getreg", b"todense"):
        converted = v[4] == hll.SPARSE
        try:
            s = hll.to_dense(v)
        except hll.CorruptHLL:
            raise CommandError(hll.INVALID) from None
        if converted:
            _save(c, key, s)  # counted as a write: the conversion is propagated
        if sub == b"todense":
            return 1 if converted else 0
        return list(hll.dense_to_raw(s[hll.HDR:]))
    if sub == b"decode":
        if v[4] != hll.SPARSE:
            raise CommandError("ERR HLL encoding is not sparse")
        return hll.decode(v)
    if sub == b"encoding":
        return SimpleString(b"sparse" if v[4] == hll.SPARSE else b"dense")
    raise CommandError(f"ERR Unknown PFDEBUG subcommand '{argv[1].decode('utf-8', 'replace')}'")


_U64 = (1 << 64) - 1
_SIX_BITS = bytes(b & 63 for b in range(256))
_SELFTEST_CARD = 100_000  # Redis goes to 10 million; a Python loop stops earlier


@command("pfselftest", 1, "admin", group=_G, acl="@hyperloglog @admin @slow @dangerous")
def pfselftest(c: Client, argv: list[bytes]) -> Any:
    """PFSELFTEST"""
    rng = random.Random()
    # 1. registers: random values packed and unpacked come back unchanged
    for _ in range(1000):
        raw = os.urandom(hll.REGISTERS).translate(_SIX_BITS)
        back = hll.dense_to_raw(hll.raw_to_dense(raw))
        if back != raw:
            i = next(j for j in range(hll.REGISTERS) if back[j] != raw[j])
            raise CommandError(f"ERR TESTFAILED Register {i} should be {raw[i]} but is {back[i]}")
    # 2. dense and sparse agree, sparse is used while small, the error is bounded
    dense = hll.to_dense(hll.new_sparse())
    sparse: hll.Sparse | bytearray = hll.Sparse.parse(hll.new_sparse())
    max_bytes = _max_bytes(c)
    relerr = 1.04 / hll.REGISTERS ** 0.5
    seed = rng.getrandbits(64)
    checkpoint = 1
    for j in range(1, _SELFTEST_CARD + 1):
        ele = ((j ^ seed) & _U64).to_bytes(8, "little")
        hll.add(dense, ele, max_bytes)
        _, sparse = hll.add(sparse, ele, max_bytes)
        if j != checkpoint:
            continue
        if j < max_bytes / 2 and not isinstance(sparse, hll.Sparse):
            raise CommandError("ERR TESTFAILED sparse encoding not used")
        card = hll.count(dense)
        if card != hll.count(hll.value_bytes(sparse)):
            raise CommandError("ERR TESTFAILED dense/sparse disagree")
        maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
        if abs(checkpoint - card) > maxerr:
            raise CommandError(f"ERR TESTFAILED Too big error. card:{checkpoint} "
                               f"abserr:{abs(checkpoint - card)}")
        checkpoint *= 10
    return OK
