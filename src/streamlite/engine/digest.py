"""``DEBUG DIGEST-VALUE`` / ``DEBUG DIGEST``: a SHA-1 of a value's logical content.

Like Redis's ``xorObjectDigest``: equal content gives an equal digest whatever the
internal layout (a COPY, a RESTORE, a reload from the AOF or a snapshot, a set
rebuilt in another order), and the key's expiry is part of it. Unordered types
(sets, hashes) XOR their elements' digests; ordered ones (lists, sorted sets, stream
entries) mix them in order. Idle and delivery times of stream groups are left out
(they change with the clock). The digests are our own: Redis hashes its encodings'
bytes, which we do not keep, so the hex strings differ from Redis's for the same data.
"""

from __future__ import annotations

from typing import Any

from .types.hash import Hash
from .types.list import ListValue
from .types.set import SetValue
from .types.zset import ZSetValue

_ZERO = bytes(20)


def _h(*parts: bytes) -> bytes:
    import hashlib  # on first use (DEBUG DIGEST): not needed at the server's start

    m = hashlib.sha1()
    for p in parts:
        m.update(b"%d:" % len(p))
        m.update(p)
    return m.digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(20, "big")


def _mix(acc: bytes, d: bytes) -> bytes:
    """Order-dependent: Redis's mixDigest (SHA-1 of the running digest and the new one)."""
    import hashlib

    return hashlib.sha1(acc + d).digest()


def _unordered(items: Any) -> bytes:
    acc = _ZERO
    for parts in items:
        acc = _xor(acc, _h(*parts))
    return acc


def _stream(s: Any) -> bytes:
    acc = _h(b"stream", b"%d" % s.last_id, b"%d" % s.max_deleted_id,
             b"%d" % s.entries_added, b"%d" % s.length)
    for sid, fields in s.range(0, (1 << 128) - 1):
        acc = _mix(acc, _h(b"%d" % sid, *fields))
    for name, g in s.groups.items():
        acc = _mix(acc, _h(b"group", name, b"%d" % g.last_id, b"%d" % g.entries_read))
        for sid, nack in g.pel.items():
            owner = nack.consumer.name if nack.consumer is not None else b""
            acc = _mix(acc, _h(b"pel", b"%d" % sid, owner, b"%d" % nack.delivery_count))
        for sid in g.nacked:
            acc = _mix(acc, _h(b"nacked", b"%d" % sid))
        for cname in g.consumers:
            acc = _mix(acc, _h(b"consumer", cname))
    idmp = s.idmp
    if idmp is not None:
        acc = _mix(acc, _h(b"idmp", repr((idmp.duration, idmp.maxsize)).encode()))
    if s.cfg is not None:
        acc = _mix(acc, _h(b"cfg", repr(s.cfg).encode()))
    return acc


def value_digest(v: Any, expire_ms: int | None) -> bytes:
    """The 40 hex digits of ``v``'s digest (with its key's absolute expiry, if any)."""
    return _value(v, expire_ms).hex().encode()


def _value(v: Any, expire_ms: int | None) -> bytes:
    if isinstance(v, bytes):
        d = _h(b"string", v)
    elif isinstance(v, ListValue):
        d = _h(b"list")
        for x in v:
            d = _mix(d, _h(x))
    elif isinstance(v, SetValue):
        d = _xor(_h(b"set"), _unordered((x,) for x in v))
    elif isinstance(v, Hash):
        ttls = v.ttls or {}
        d = _xor(_h(b"hash"), _unordered(
            (f, x, b"%d" % ttls[f] if f in ttls else b"") for f, x in v.items()))
    elif isinstance(v, ZSetValue):
        d = _h(b"zset")
        for score, member in v:
            d = _mix(d, _h(member, repr(float(score)).encode()))
    elif type(v).__name__ == "Stream":
        d = _stream(v)
    else:  # a type without a digest of its own: its repr must then be canonical
        d = _h(type(v).__name__.encode(), repr(v).encode())
    if expire_ms is not None:
        d = _mix(d, _h(b"!!expire!!", b"%d" % expire_ms))
    return d


def dataset_digest(engine: Any) -> bytes:
    """``DEBUG DIGEST``: every key of every database; 40 zeros when all are empty."""
    acc = _ZERO
    empty = True
    for index, db in enumerate(engine.dbs):
        if not db.data:
            continue
        empty = False
        dbd = _h(b"db", b"%d" % index)
        for k, v in db.data.items():
            kd = _mix(_h(k), _value(v, db.expires.get(k)))
            dbd = _xor(dbd, kd)
        acc = _mix(acc, dbd)
    return b"0" * 40 if empty else acc.hex().encode()
