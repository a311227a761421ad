"""Values to bytes and back: the one serializer behind DUMP/RESTORE, snapshots and AOF bases.

A serialized value is a type byte and a body (``encode_value``/``decode_value``).
DUMP wraps it as Redis wraps its payloads: the value, then a 2-byte format version
and a CRC-64 of everything before it, both little-endian (``dump_payload``).
Our version numbers start at ``0x4000`` so a real Redis (whose RDB versions are
small numbers) refuses our payloads with its own error, and RESTORE tells ours
from Redis's payloads (``rdbvalue`` reads and writes those; DUMP writes Redis's,
AOF bases and snapshots this module's, which load much faster).

Bodies (all integers little-endian; ``strvec`` = u32 count, u32 lengths, then
the bytes back to back; ``blob`` = u32 length and bytes; IDs = two u64, ms and seq):

=====  =======  ==============================================================
type   value    body
=====  =======  ==============================================================
0      string   the bytes (the rest of the body)
1      list     strvec of the items, head first
2      set      u8 encoding (0 intset, 1 listpack, 2 hashtable), strvec members
3      zset     strvec members, then one f64 score per member
4      hash     u8 flags (1 hashtable, 2 had field TTLs), strvec f1 v1 f2 v2 ...,
                strvec TTL fields, one i64 absolute ms per TTL field
5      stream   see ``_enc_stream``: counters, then the entry nodes as their
                packed arrays (IDs, flags, offsets, field data: never entry by
                entry), the IDMP state, groups with consumers and PELs
=====  =======  ==============================================================

Loading rebuilds encodings as Redis's RDB loader does: compact encodings stay
compact unless the current limits are exceeded, a saved hashtable/skiplist/
quicklist becomes compact again when it fits (``OBJECT ENCODING`` after
``DEBUG RELOAD`` or ``RESTORE`` answers what Redis answers).

Malformed input raises ``FormatError``; callers turn it into Redis's
``Bad data format``.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..accel import speedups
from ..numparse import string2ll
from .crc64 import crc64
from .database import type_name
from .stream.groups import ConsumerGroup
from .stream.idmp import IdmpState
from .stream.stream import F_DELETED, Stream, _Node, absolute_ids, compact_ids, compact_offs
from .stream.stream import same_size as node_same_size
from .types import list as _list
from .types.hash import Hash
from .types.list import ListValue
from .types.set import HASHTABLE, INTSET, LISTPACK, SetValue
from .types.set import Limits as SetLimits
from .types.zset import Limits as ZLimits
from .types.zset import ZSetValue

if TYPE_CHECKING:
    from .core import Engine

T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_STREAM, T_ARRAY = range(7)
TYPE_CODES = {b"string": T_STRING, b"list": T_LIST, b"set": T_SET, b"zset": T_ZSET,
              b"hash": T_HASH, b"stream": T_STREAM, b"array": T_ARRAY}

FORMAT_VERSION = 2  # 2: a group's PEL keeps XNACK-released entries and the NACK zone order
RELEASED = 0xFFFFFFFF  # owner index of a PEL entry released by XNACK (no consumer)
PAYLOAD_VERSION = 0x4000 + FORMAT_VERSION  # DUMP footer: ours, never a Redis RDB version
_M64 = (1 << 64) - 1
_BIG = sys.byteorder == "big"

_u8 = struct.Struct("<B")
_u32 = struct.Struct("<I")
_u64 = struct.Struct("<Q")
_i64 = struct.Struct("<q")
_id = struct.Struct("<QQ")
_footer = struct.Struct("<HQ")
_node_hdr = struct.Struct("<IIQI")  # live, deleted, listpack bytes, then the IDs blob length


class FormatError(Exception):
    """The bytes are not a value this module wrote."""


class EmptyKeyError(FormatError):
    """A well-formed collection with no element (Redis's loader skips such keys in an
    RDB file; RESTORE refuses them)."""


# -- writing ----------------------------------------------------------------------------


def _le(a: array[int]) -> bytes:
    if _BIG:  # pragma: no cover - the formats are little-endian everywhere
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def _strvec(out: list[bytes], items: list[bytes]) -> None:
    out.append(_u32.pack(len(items)))
    out.append(_le(array("I", map(len, items))))
    out.append(b"".join(items))


def _blob(out: list[bytes], b: bytes | bytearray) -> None:
    out.append(_u32.pack(len(b)))
    out.append(bytes(b))


def _sid(sid: int) -> bytes:
    return _id.pack(sid >> 64, sid & _M64)


def encode_value(v: Any) -> tuple[int, list[bytes]]:
    """(type code, body pieces) of a value."""
    t = TYPE_CODES[type_name(v)]
    out: list[bytes] = []
    if t == T_STRING:
        out.append(bytes(v))
    elif t == T_LIST:
        _strvec(out, list(v.items))
    elif t == T_SET:
        out.append(_u8.pack(v.enc))
        _strvec(out, v.members())
    elif t == T_ZSET:
        members = list(v.scores)
        _strvec(out, members)
        out.append(_le(array("d", v.scores.values())))
    elif t == T_HASH:
        out.append(_u8.pack((1 if v.big else 0) | (2 if v.ex else 0)))
        flat: list[bytes] = []
        for f, x in v.d.items():
            flat.append(f)
            flat.append(x)
        _strvec(out, flat)
        ttls = v.ttls or {}
        _strvec(out, list(ttls))
        out.append(_le(array("q", ttls.values())))
    elif t == T_ARRAY:  # cursor, a reserved 0 (was a ring size), the indices and values
        out.append(_u64.pack(min(v.cursor, _M64)) + _u64.pack(0)
                   + _u32.pack(len(v.items)))
        out.append(_le(array("Q", v.items.keys())))
        _strvec(out, list(v.items.values()))
    else:
        _enc_stream(out, v)
    return t, out


def _enc_stream(out: list[bytes], s: Stream) -> None:
    """Counters; nodes; IDMP; groups (consumers, then the group PEL naming owners,
    then the NACK zone's IDs in release order).

    Per group: blob name, last ID, i64 entries-read; u32 consumer count, each a blob
    name and i64 seen-time, i64 active-time; u64 PEL count, each record ms, seq (u64),
    i64 delivery time, u64 delivery count, u32 owner (index of a consumer above, or
    ``RELEASED`` for an entry XNACK released); u64 NACK-zone count and its IDs.

    A node's IDs are written as absolute u64 (ms, seq) pairs and its offsets as u32,
    whatever widths the node holds them in (``stream._Node``: 32-bit deltas and 16-bit
    offsets when they fit); ``_dec_stream`` narrows them again.
    """
    out.append(_u64.pack(s.length))
    out.append(_sid(s.last_id))
    out.append(_sid(s.max_deleted_id))
    out.append(_u64.pack(s.entries_added))
    nodes = s._nodes
    out.append(_u32.pack(len(nodes)))
    for n in nodes:
        _strvec(out, list(n.fields))
        out.append(struct.pack("<IIQ", n.live, n.dead, n.body))
        _blob(out, _le(absolute_ids(n.base, n.ids)))
        _blob(out, n.flags)
        _blob(out, _le(n.offs if n.offs.typecode == "I" else array("I", n.offs)))
        _blob(out, n.data)
    enc_idmp(out, s.idmp)
    out.append(_u32.pack(len(s.groups)))
    for name, g in s.groups.items():
        _blob(out, name)
        out.append(_sid(g.last_id))
        out.append(_i64.pack(g.entries_read))
        index: dict[bytes, int] = {}
        out.append(_u32.pack(len(g.consumers)))
        for i, (cname, cons) in enumerate(g.consumers.items()):
            index[cname] = i
            _blob(out, cname)
            out.append(struct.pack("<qq", cons.seen_time, cons.active_time))
        rec = struct.Struct("<QQqQI")
        parts = []
        nacked = g.nacked
        for sid, nack in g.pel.items():
            if nack.consumer is not None:
                owner = index[nack.consumer.name]
            elif sid in nacked:  # released by XNACK: in the NACK zone, unowned
                owner = RELEASED
            else:  # an orphan only exists inside one XCLAIM ... FORCE
                continue
            parts.append(rec.pack(sid >> 64, sid & _M64, nack.delivery_time,
                                  nack.delivery_count, owner))
        out.append(_u64.pack(len(parts)))
        out.append(b"".join(parts))
        # the NACK zone's order (release order, which XREADGROUP ... CLAIM serves)
        out.append(_u64.pack(len(nacked)))
        out.append(b"".join(map(_sid, nacked)))


def value_bytes(v: Any) -> bytes:
    t, body = encode_value(v)
    return _u8.pack(t) + b"".join(body)


def dump_payload(v: Any) -> bytes:
    """DUMP's reply: type, body, version and CRC-64, as Redis lays out its payloads."""
    data = value_bytes(v) + struct.pack("<H", PAYLOAD_VERSION)
    return data + _u64.pack(crc64(data))


def payload_version(payload: bytes) -> int | None:
    """The footer's version if the CRC-64 matches, else None (Redis's verifyDumpPayload)."""
    if len(payload) < 10:
        return None
    ver, crc = _footer.unpack_from(payload, len(payload) - 10)
    if crc64(memoryview(payload)[:-8]) != crc:
        return None
    return int(ver)


# -- reading ----------------------------------------------------------------------------


class Reader:
    """Bounds-checked little-endian reads from a buffer."""

    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def take(self, n: int) -> memoryview | bytes:
        p = self.pos
        if n < 0 or p + n > self.end:
            raise FormatError(f"short read at offset {p}: {n} bytes wanted")
        self.pos = p + n
        return self.buf[p : p + n]

    def read_bytes(self, n: int) -> bytes:
        return bytes(self.take(n))

    def unpack(self, st: struct.Struct) -> tuple[Any, ...]:
        p = self.pos
        if p + st.size > self.end:
            raise FormatError(f"short read at offset {p}")
        self.pos = p + st.size
        return st.unpack_from(self.buf, p)

    def u8(self) -> int:
        return int(self.unpack(_u8)[0])

    def u32(self) -> int:
        return int(self.unpack(_u32)[0])

    def u64(self) -> int:
        return int(self.unpack(_u64)[0])

    def i64(self) -> int:
        return int(self.unpack(_i64)[0])

    def sid(self) -> int:
        ms, seq = self.unpack(_id)
        return int((ms << 64) | seq)

    def blob(self) -> bytes:
        return self.read_bytes(self.u32())

    def read_array(self, code: str, n: int) -> array[int]:
        a = array(code)
        a.frombytes(self.take(n * a.itemsize))
        if _BIG:  # pragma: no cover
            a.byteswap()
        return a

    def array_blob(self, code: str) -> array[int]:
        """An array stored as a blob (u32 byte length, then the items)."""
        n = self.u32()
        size = array(code).itemsize
        if n % size:
            raise FormatError(f"array of {n} bytes at offset {self.pos}")
        return self.read_array(code, n // size)

    def strvec(self) -> list[bytes]:
        n = self.u32()
        lens = self.read_array("I", n)
        total = sum(lens)
        blob = self.read_bytes(total)
        out = []
        p = 0
        for ln in lens:
            out.append(blob[p : p + ln])
            p += ln
        return out


def decode_value(t: int, r: Reader, engine: Engine) -> Any:
    """The value of type ``t`` whose body ``r`` holds (up to ``r.end``)."""
    if t == T_STRING:
        return r.read_bytes(r.end - r.pos)
    if t == T_LIST:
        return _dec_list(r.strvec(), engine)
    if t == T_SET:
        enc = r.u8()
        return _dec_set(enc, r.strvec(), engine)
    if t == T_ZSET:
        members = r.strvec()
        scores = r.read_array("d", len(members))
        return _dec_zset(members, list(scores), engine)
    if t == T_HASH:
        flags = r.u8()
        flat = r.strvec()
        tfields = r.strvec()
        whens = r.read_array("q", len(tfields))
        return _dec_hash(flags, flat, dict(zip(tfields, whens, strict=True)), engine)
    if t == T_STREAM:
        return _dec_stream(r)
    if t == T_ARRAY:
        from .types.array import ArrayValue

        a = ArrayValue()
        a.cursor = r.u64()
        r.u64()  # reserved: older files kept the last ARRING size here
        n = r.u32()
        idx = r.read_array("Q", n)
        values = r.strvec()
        if len(values) != n:
            raise FormatError("array: indices and values differ in number")
        a.items.update(zip(idx, values, strict=True))
        return a
    raise FormatError(f"unknown value type {t}")


def load_value(data: bytes | memoryview, engine: Engine) -> Any:
    """A value from ``value_bytes`` output (type byte + body), all of it consumed."""
    r = Reader(data)
    t = r.u8()
    return _finish(decode_value(t, r, engine), r)


def _finish(v: Any, r: Reader) -> Any:
    if r.pos != r.end:
        raise FormatError(f"{r.end - r.pos} unexpected bytes after the value")
    return v


def load_payload(payload: bytes, engine: Engine, deep: bool = True) -> Any:
    """RESTORE: the value of a payload whose footer ``payload_version`` accepted.

    ``deep`` also checks every stream entry's encoding (a payload from a client may
    have been damaged before its CRC was computed); the AOF's own RESTOREs skip it.
    """
    ver = struct.unpack_from("<H", payload, len(payload) - 10)[0]
    body = memoryview(payload)[:-10]
    if ver == PAYLOAD_VERSION:
        v = load_value(body, engine)
        if deep and type(v) is Stream:
            validate_stream(v)
        return v
    if ver < 0x4000:
        from .rdbvalue import load_redis_value

        return load_redis_value(body, engine)
    raise FormatError(f"unknown payload version {ver}")


def _varint_size(n: int) -> int:
    size = 1
    while n >= 128:
        n >>= 7
        size += 1
    return size


def validate_stream(s: Stream) -> None:
    """Deep check of a decoded stream's nodes: IDs ascending, every entry's fields
    exactly filling its bytes (Redis's ``sanitize-dump-payload``, for streams)."""
    prev = -1
    for n in s._nodes:
        data = n.data
        end = len(data)
        nf = len(n.fields)
        for j in range(len(n.flags)):
            sid = n.id_at(j)
            if sid <= prev:
                raise FormatError("stream IDs out of order")
            prev = sid
            stop = n.offs[j + 1] if j + 1 < len(n.flags) else end
            try:
                fields = n.decode(j)
            except IndexError:
                raise FormatError("stream entry past its node's data")
            if n.flags[j] & 2:
                size = sum(_varint_size(len(v)) + len(v) for v in fields[1::2])
                if len(fields) != 2 * nf:
                    raise FormatError("bad stream entry")
            else:
                size = _varint_size(len(fields) // 2) + sum(_varint_size(len(x)) + len(x)
                                                             for x in fields)
            if n.offs[j] + size != stop or not fields:
                raise FormatError("stream entry does not fill its bytes")


# -- rebuilding values as Redis's loader does ----------------------------------------------


def _dec_list(items: list[bytes], engine: Engine) -> ListValue:
    if not items:
        raise EmptyKeyError("empty list")
    lv = ListValue(items)
    fill = engine.config.get("list-max-listpack-size", -2)
    sz_limit, count_limit = _list._limits(int(fill))
    # a quicklist of one node that fits becomes a listpack (listTypeTryConvertQuicklist)
    if sz_limit != _list.math_inf:
        lv.quick = lv.lp_bytes > sz_limit
    else:
        lv.quick = lv.lp_bytes > _list._SIZE_SAFETY_LIMIT or len(items) > count_limit
    return lv


def _dec_set(enc: int, members: list[bytes], engine: Engine) -> SetValue:
    if not members:
        raise EmptyKeyError("empty set")
    lim = SetLimits(engine)
    if enc == INTSET:
        s = SetValue(INTSET)
        for m in members:
            if string2ll(m) is None:
                raise FormatError("intset member is not an integer")
        s.d = dict.fromkeys(members)
        s._unsorted = True
        if len(s.d) > lim.intset:
            s._sort()
            s.enc = HASHTABLE
    elif enc == LISTPACK:
        s = SetValue(LISTPACK)
        s.d = dict.fromkeys(members)
        if len(s.d) > lim.lp_entries:
            s.enc = HASHTABLE
    elif enc == HASHTABLE:
        if len(members) > lim.intset and len(members) > lim.lp_entries:
            s = SetValue(HASHTABLE)
            s.d = dict.fromkeys(members)
        else:  # rdbLoadObject's RDB_TYPE_SET path: start small, convert upwards
            s = SetValue(INTSET if len(members) <= lim.intset else HASHTABLE)
            for m in members:
                s.add(m, lim)
    else:
        raise FormatError(f"unknown set encoding {enc}")
    if len(s.d) != len(members):
        raise FormatError("duplicate set member")
    return s


def _dec_zset(members: list[bytes], scores: list[float], engine: Engine) -> ZSetValue:
    from sortedcontainers import SortedList

    if not members:
        raise EmptyKeyError("empty sorted set")
    for sc in scores:
        if sc != sc:
            raise FormatError("NaN score")
    z = ZSetValue(False)
    z.scores = dict(zip(members, scores, strict=True))
    if len(z.scores) != len(members):
        raise FormatError("duplicate sorted set member")
    z.sl = SortedList(zip(scores, members, strict=True))
    if ZLimits(engine).fits(len(members), max(map(len, members))):
        z.to_listpack()
    return z


def _dec_hash(flags: int, flat: list[bytes], ttls: dict[bytes, int], engine: Engine) -> Hash:
    if not flat:
        raise EmptyKeyError("empty hash")
    if len(flat) & 1:
        raise FormatError("bad hash field list")
    h = Hash()
    h.d = dict(zip(flat[0::2], flat[1::2], strict=True))
    if len(h.d) * 2 != len(flat):
        raise FormatError("duplicate hash field")
    cfg = engine.config
    maxe = int(cfg.get("hash-max-listpack-entries", 512))
    maxv = int(cfg.get("hash-max-listpack-value", 64))
    h.big = len(h.d) > maxe or max(map(len, flat)) > maxv
    h.ex = bool(flags & 2)
    for f in ttls:
        if f not in h.d:
            raise FormatError("TTL for a missing hash field")
    h.ttls = ttls or None
    return h


def stream_node_py(buf: bytes | memoryview, pos: int, end: int) -> tuple[
        list[bytes], int, int, int, int, array[int], bytearray, array[int], bytes, int]:
    """The stream node ``_enc_stream`` wrote at ``pos`` (up to ``end``): its fields,
    live and deleted counts, listpack size, base (its first ms), IDs and offsets in
    the node's compact layout (``compact_ids``, ``compact_offs``), flags, data, and the
    offset after it. Raises ``ValueError`` or ``struct.error`` when it runs past
    ``end``, ``OverflowError`` when an ms is below the first or an offset does not fit
    the width the last one chose (``stream_nodes_py`` reads a stream's nodes with it)."""
    if not 0 <= pos <= end:
        raise ValueError("stream node past the end of the value")
    (nf,) = _u32.unpack_from(buf, pos)
    lens = struct.unpack_from(f"<{nf}I", buf, pos + 4)
    pos += 4 + 4 * nf
    fields = []
    for ln in lens:
        fields.append(bytes(buf[pos : pos + ln]))
        pos += ln
    live, dead, body, idlen = _node_hdr.unpack_from(buf, pos)
    pos += 20
    if pos + idlen > end:  # (before compact_ids can fail on what is not this node's)
        raise ValueError("stream node past the end of the value")
    ids = array("Q")
    ids.frombytes(buf[pos : pos + idlen])
    if _BIG:  # pragma: no cover
        ids.byteswap()
    base = ids[0] if ids else 0
    ids = compact_ids(base, ids)
    pos += idlen
    (flen,) = _u32.unpack_from(buf, pos)
    flags = bytearray(buf[pos + 4 : pos + 4 + flen])
    pos += 4 + flen
    (olen,) = _u32.unpack_from(buf, pos)
    if pos + 4 + olen > end:
        raise ValueError("stream node past the end of the value")
    offs = array("I")
    offs.frombytes(buf[pos + 4 : pos + 4 + olen])
    if _BIG:  # pragma: no cover
        offs.byteswap()
    offs = compact_offs(offs)
    pos += 4 + olen
    (dlen,) = _u32.unpack_from(buf, pos)
    data = bytes(buf[pos + 4 : pos + 4 + dlen])
    pos += 4 + dlen
    if pos > end or len(data) != dlen:
        raise ValueError("stream node past the end of the value")
    return fields, live, dead, body, base, ids, flags, offs, data, pos


def stream_nodes_py(buf: bytes | memoryview, pos: int, end: int, nnodes: int,
                    node_type: type[_Node], same_size: Callable[[int], int],
                    format_error: type[FormatError]) -> tuple[
                        list[_Node], list[int], int, int, int]:
    """The ``nnodes`` nodes ``_enc_stream`` wrote from ``pos`` (up to ``end``), read,
    checked and built: (nodes, their first IDs, their live entries in all, the last
    node's last ID or -1, the offset after them). ``format_error`` (``FormatError``) for
    nodes that do not hold together; ``ValueError`` or ``struct.error`` when one runs
    past ``end`` (as ``stream_node_py``). The reference of ``_speedups.stream_nodes``
    (``_loadpath.c``), the hot loop of loading a big stream."""
    live_total = 0
    prev_last = -1
    nodes: list[_Node] = []
    keys: list[int] = []
    new_node = node_type.__new__
    for _ in range(nnodes):
        try:
            fields, live, dead, body, base, ids, flags, offs, data, pos = stream_node_py(
                buf, pos, end)
        except OverflowError:  # an ms below the first entry's, offsets out of order
            raise format_error("stream IDs or offsets out of order") from None
        cnt = len(flags)
        if (not cnt or len(ids) != 2 * cnt or len(offs) != cnt or live + dead != cnt
                or offs[-1] >= max(len(data), 1) or offs[0] != 0
                or flags.count(F_DELETED) + flags.count(F_DELETED | 2) != dead):
            raise format_error("inconsistent stream node")
        n = new_node(node_type)
        # a list, as Stream.add compares it with fields[0::2]; one list shared by
        # consecutive nodes with the same names, as Stream.add shares it
        if nodes and nodes[-1].fields == fields:
            n.fields, n.same_size = nodes[-1].fields, nodes[-1].same_size
        else:
            n.fields, n.same_size = list(fields), same_size(len(fields))
        n.live, n.dead, n.body = live, dead, body
        n.base, n.ids, n.offs, n.flags, n.data = base, ids, offs, flags, data
        first = (base << 64) | ids[1]
        if first <= prev_last:
            raise format_error("stream nodes out of order")
        prev_last = ((base + ids[-2]) << 64) | ids[-1]
        nodes.append(n)
        keys.append(first)
        live_total += live
    return nodes, keys, live_total, prev_last, pos


stream_nodes = getattr(speedups, "stream_nodes", None) or stream_nodes_py


def _dec_stream(r: Reader) -> Stream:
    s = Stream()
    s.length = r.u64()
    s.last_id = r.sid()
    s.max_deleted_id = r.sid()
    s.entries_added = r.u64()
    nnodes = r.u32()
    nodes, keys, live_total, prev_last, pos = stream_nodes(
        r.buf, r.pos, r.end, nnodes, _Node, node_same_size, FormatError)
    s._nodes, s._keys = nodes, keys
    r.pos = pos
    if live_total != s.length or (nodes and prev_last > s.last_id):
        raise FormatError("stream counters do not match its entries")
    if nodes:
        nodes[-1].data = bytearray(nodes[-1].data)
    s.idmp = dec_idmp(r)
    rec = struct.Struct("<QQqQI")
    for _ in range(r.u32()):
        name = r.blob()
        g = ConsumerGroup(name, r.sid(), r.i64())
        consumers = []
        for _ in range(r.u32()):
            cname = r.blob()
            seen, active = r.unpack(struct.Struct("<qq"))
            cons = g.create_consumer(cname, seen)
            if cons is None:
                raise FormatError("duplicate consumer")
            cons.active_time = active
            consumers.append(cons)
        npel = r.u64()
        raw = r.take(npel * rec.size)
        released = 0
        for ms, seq, when, count, owner in rec.iter_unpack(raw):
            sid = (ms << 64) | seq
            if sid in g.pel:
                raise FormatError("duplicate PEL entry")
            if owner == RELEASED:
                g.add_nack_orphan(sid, when).delivery_count = count
                released += 1
                continue
            if owner >= len(consumers):
                raise FormatError("PEL entry of an unknown consumer")
            g.add_nack(sid, consumers[owner], when, count)
        nnacked = r.u64()
        if nnacked != released:
            raise FormatError("NACK zone does not match the released PEL entries")
        for _ in range(nnacked):
            sid = r.sid()
            nack = g.pel.get(sid)
            if nack is None or nack.consumer is not None or sid in g.nacked:
                raise FormatError("bad NACK zone entry")
            g.nacked[sid] = None
        if name in s.groups:
            raise FormatError("duplicate consumer group")
        s.groups[name] = g
    return s


_idmp_hdr = struct.Struct("<IIQQI")


def enc_idmp(out: list[bytes], idmp: IdmpState | None) -> None:
    """u8 has-IDMP, then u32 duration, u32 maxsize, u64 iids-added, u64 iids-duplicates,
    u32 producers and per producer its iids (blob iid, ID, i64 time added)."""
    if idmp is None:
        out.append(_u8.pack(0))
        return
    out.append(_u8.pack(1))
    out.append(_idmp_hdr.pack(idmp.duration, idmp.maxsize, idmp.iids_added,
                              idmp.iids_duplicates, len(idmp.producers)))
    for pid, iids in idmp.producers.items():
        _blob(out, pid)
        out.append(_u32.pack(len(iids)))
        for iid, (sid, added) in iids.items():
            _blob(out, iid)
            out.append(_sid(sid))
            out.append(_i64.pack(added))


def dec_idmp(r: Reader) -> IdmpState | None:
    if not r.u8():
        return None
    duration, maxsize, added, dups, npids = r.unpack(_idmp_hdr)
    st = IdmpState(duration, maxsize)
    st.iids_added = added
    st.iids_duplicates = dups
    for _ in range(npids):
        pid = r.blob()
        iids: dict[bytes, tuple[int, int]] = {}
        for _ in range(r.u32()):
            iid = r.blob()
            sid = r.sid()
            iids[iid] = (sid, r.i64())
        st.producers[pid] = iids
    return st
