"""Streams in Redis's RDB encoding (``RDB_TYPE_STREAM_LISTPACKS``, ``_2`` and ``_3``).

Redis stores a stream as its radix tree of listpacks, then its counters, then its
consumer groups::

    len nodes, per node: string node key (master ID, 16 bytes big-endian),
                         string listpack
    len length, len last-id ms, len last-id seq
    (_2+) len first-id ms, seq; len max-deleted-id ms, seq; len entries-added
    len groups, per group: string name, len last-id ms, seq,
                           (_2+) len entries-read (-1 as 2**64-1)
                           len PEL, per entry: 16 raw ID bytes, 8-byte delivery
                                               time, len delivery count
                           len consumers, per consumer: string name, 8-byte
                               seen-time, (_3) 8-byte active-time,
                               len owned, 16 raw ID bytes each

A listpack holds a master entry (live count, deleted count, the master field
names, a 0) and then each entry: flags (1 deleted, 2 same fields as the master),
ms and seq as differences from the master ID, the field names and their count
unless flag 2, the values, and the entry's element count. One listpack is one
of our stream nodes (``stream.stream._Node``), kept whole: the node boundaries,
tombstones and master fields Redis had are the ones we have, so XINFO's node
counts and later trims behave as in Redis.

Files older than ``_2`` (Redis 6.2) carry no entries-added, max-deleted ID or
entries-read: they are derived as Redis's loader derives them; before ``_3``
(Redis 7.0) a consumer's active-time is its seen-time.

**What Redis's format cannot hold.** Two pieces of streamlite's stream state
have no place in type 21: the IDMP state (idempotent XADD of Redis 8.6: its
settings, counters and remembered iids) and the XNACK NACK zone of Redis 8.8
(released PEL entries that no consumer owns). They travel in a *stream
extension*: bytes starting with ``SLX1`` that Redis never reads. In an RDB file
it is an AUX field ``sl-stream-ext`` written right after the key (Redis skips
AUX fields it does not know, as the format requires); in a DUMP payload it
follows the value, before the footer (Redis's RESTORE ignores bytes after the
value). A Redis 8.2 that loads such a stream keeps everything else; the
released entries are then not pending there (it has no NACK zone).
"""

from __future__ import annotations

import struct
from array import array

from ..accel import speedups
from .rdbprim import (
    M64,
    as_bytes,
    enc_length,
    enc_ms,
    enc_raw_id,
    enc_string,
    listpack_build,
    listpack_values,
    lp_int,
    lp_str,
    read_length,
    read_ms,
    read_raw_id,
    read_signed_length,
    read_string,
)
from .serialize import FormatError, Reader, _blob, _sid, dec_idmp, enc_idmp
from .stream.groups import ConsumerGroup, estimate_entries_read
from .stream.stream import (
    F_DELETED,
    F_SAME,
    Stream,
    _Node,
    _read_varint,
    _varint,
    compact_ids,
    compact_offs,
)
from .stream.stream import same_size as node_same_size
from .types.listpack import int_size, signed64

RDB_STREAM_LISTPACKS = 15
RDB_STREAM_LISTPACKS_2 = 19
RDB_STREAM_LISTPACKS_3 = 21
STREAM_TYPES = (RDB_STREAM_LISTPACKS, RDB_STREAM_LISTPACKS_2, RDB_STREAM_LISTPACKS_3)

EXT_MAGIC = b"SLX1"

# the compiled twin of ``_node_from_listpack_py`` (None: pure Python)
_from_lp = speedups.node_from_listpack if speedups is not None else None
EXT_AUX = b"sl-stream-ext"


# -- writing ---------------------------------------------------------------------------------


# the ID deltas and counters, made on the first write (2-3 ms of every start otherwise);
# bound once whole, so a writer in another thread never sees it half made
_LP_INT: dict[int, bytes] | None = None


def _lp_ints() -> dict[int, bytes]:
    global _LP_INT
    if _LP_INT is None:
        _LP_INT = {v: lp_int(v) for v in range(-4096, 4096)}
    return _LP_INT


def _node_listpack(n: _Node, master: int) -> bytes:
    """The listpack Redis holds for node ``n`` (the write hot path: entries are read
    straight from the node's varint-prefixed data, common elements come from tables)."""
    nf = len(n.fields)
    small = _LP_INT if _LP_INT is not None else _lp_ints()
    els = [small.get(n.live) or lp_int(n.live), small.get(n.dead) or lp_int(n.dead),
           small[nf] if nf < 4096 else lp_int(nf)]
    els.extend(lp_str(f) for f in n.fields)
    els.append(small[0])
    app = els.append
    count = 4 + nf
    mms, mseq = master >> 64, master & M64
    ids, flags, offs = n.ids, n.flags, n.offs
    shift = n.base - mms  # the node holds ms - base; the listpack ms - master's
    data = n.data if type(n.data) is bytes else bytes(n.data)
    same_count = small.get(nf + 3) or lp_int(nf + 3)
    cache: dict[bytes, bytes] = {}
    for j in range(len(flags)):
        fl = flags[j]
        app(small[fl])
        d = ids[2 * j] + shift
        app(small.get(d) or lp_int(signed64(d)))
        d = ids[2 * j + 1] - mseq
        app(small.get(d) or lp_int(signed64(d)))
        pos = offs[j]
        if fl & F_SAME:
            k = nf
        else:
            k = data[pos]
            pos += 1
            if k >= 128:
                k, pos = _read_varint(data, pos - 1)
            app(small.get(k) or lp_int(k))
            k *= 2
        for _ in range(k):
            ln = data[pos]
            pos += 1
            if ln >= 128:
                ln, pos = _read_varint(data, pos - 1)
            v = data[pos : pos + ln]
            pos += ln
            e = cache.get(v)
            if e is None:
                e = cache[v] = lp_str(v)
            app(e)
        k = nf + 3 if fl & F_SAME else k + 4
        app(same_count if fl & F_SAME else small.get(k) or lp_int(k))
        count += k + 1
    return listpack_build(els, count)


def write_stream(s: Stream) -> bytes:
    """The body of ``RDB_TYPE_STREAM_LISTPACKS_3`` (the type byte not included)."""
    out = [enc_length(len(s._nodes))]
    for key, n in zip(s._keys, s._nodes, strict=True):
        out.append(enc_string(enc_raw_id(key)))
        out.append(enc_string(_node_listpack(n, key)))
    first = s.first_id
    for x in (s.length, s.last_id >> 64, s.last_id & M64, first >> 64, first & M64,
              s.max_deleted_id >> 64, s.max_deleted_id & M64, s.entries_added, len(s.groups)):
        out.append(enc_length(x))
    for name, g in s.groups.items():
        out.append(enc_string(name))
        out.append(enc_length(g.last_id >> 64))
        out.append(enc_length(g.last_id & M64))
        out.append(enc_length(g.entries_read & M64))
        owned = [(sid, nk) for sid, nk in g.pel.items() if nk.consumer is not None]
        out.append(enc_length(len(owned)))
        for sid, nk in owned:
            out.append(enc_raw_id(sid))
            out.append(enc_ms(nk.delivery_time))
            out.append(enc_length(nk.delivery_count))
        out.append(enc_length(len(g.consumers)))
        for cname, c in g.consumers.items():
            out.append(enc_string(cname))
            out.append(enc_ms(c.seen_time))
            out.append(enc_ms(c.active_time))
            out.append(enc_length(len(c.pel)))
            out.extend(map(enc_raw_id, c.pel))
    return b"".join(out)


def stream_extension(s: Stream) -> bytes | None:
    """The streamlite-only state of ``s`` (IDMP, XNACK zones), or None when it has none.

    ``SLX1``, then ``serialize``'s IDMP record, then u32 groups with a NACK zone and
    per group: blob name, u32 count, per released entry its ID and u64 delivery
    count, in release order.
    """
    zones = [(name, g) for name, g in s.groups.items() if g.nacked]
    if s.idmp is None and not zones:
        return None
    out = [EXT_MAGIC]
    enc_idmp(out, s.idmp)
    out.append(struct.pack("<I", len(zones)))
    for name, g in zones:
        _blob(out, name)
        out.append(struct.pack("<I", len(g.nacked)))
        for sid in g.nacked:
            out.append(_sid(sid))
            out.append(struct.pack("<Q", g.pel[sid].delivery_count))
    return b"".join(out)


def apply_extension(s: Stream, data: bytes | memoryview) -> None:
    """Put the state ``stream_extension`` wrote back into ``s``."""
    r = Reader(data)
    if r.read_bytes(4) != EXT_MAGIC:
        raise FormatError("not a streamlite stream extension")
    s.idmp = dec_idmp(r)
    for _ in range(r.u32()):
        g = s.groups.get(r.blob())
        if g is None:
            raise FormatError("stream extension names an unknown group")
        for _ in range(r.u32()):
            sid = r.sid()
            count = r.u64()
            if sid in g.pel:
                raise FormatError("released entry is already pending")
            g.add_released(sid, count)
    if r.pos != r.end:
        raise FormatError("bytes after the stream extension")


# -- reading ---------------------------------------------------------------------------------


def _node_from_listpack(lp: bytes, master: int) -> _Node:
    """One of our nodes from a Redis stream listpack whose master ID is ``master``:
    compiled (``_speedups.node_from_listpack``) when the accelerator is active, else
    ``_node_from_listpack_py``, the reference (same checks, same errors)."""
    if _from_lp is None:
        return _node_from_listpack_py(lp, master)
    got = _from_lp(lp, master >> 64, master & M64)
    if type(got) is str:
        raise FormatError(got)
    live, dead, fields, base, ids_tc, ids_b, flags_b, offs_tc, offs_b, data = got
    n = _Node.__new__(_Node)
    n.fields = fields
    n.same_size = node_same_size(len(fields))
    n.live, n.dead = live, dead
    n.body = len(lp) - int_size(live) - int_size(dead)
    n.base = base
    n.ids = array(ids_tc)
    n.ids.frombytes(ids_b)
    n.flags = bytearray(flags_b)
    n.offs = array(offs_tc)
    n.offs.frombytes(offs_b)
    n.data = data
    return n


def _node_from_listpack_py(lp: bytes, master: int) -> _Node:
    """One of our nodes from a Redis stream listpack whose master ID is ``master``.

    The read hot path: elements are decoded in one pass (``listpack_values``) and the
    entries' values are copied into the node's varint-prefixed data inline.
    """
    el = listpack_values(lp)
    try:
        live, dead, nf = el[0], el[1], el[2]
        if type(live) is not int or type(dead) is not int or type(nf) is not int or nf < 0:
            raise FormatError("bad stream listpack master entry")
        fields = [as_bytes(x) for x in el[3 : 3 + nf]]
        if el[3 + nf] != 0:
            raise FormatError("bad stream listpack master entry")
        i = 4 + nf
        mms, mseq = master >> 64, master & M64
        ids = array("Q")
        flags = bytearray()
        offs = array("I")
        data = bytearray()
        ids_app, flags_app, offs_app, data_app = ids.append, flags.append, offs.append, data.append
        n_el = len(el)
        same_count = nf + 3
        last_ms, last_seq = -1, -1
        while i < n_el:
            fl, dms, dseq = el[i], el[i + 1], el[i + 2]
            if type(dms) is not int or type(dseq) is not int or type(fl) is not int \
                    or fl & ~(F_DELETED | F_SAME):
                raise FormatError("bad stream entry header")
            i += 3
            ms, seq = (mms + dms) & M64, (mseq + dseq) & M64
            if ms < last_ms or (ms == last_ms and seq <= last_seq):
                raise FormatError("stream IDs out of order inside a listpack")
            last_ms, last_seq = ms, seq
            ids_app(ms)
            ids_app(seq)
            flags_app(fl)
            offs_app(len(data))
            if fl & F_SAME:
                k = nf
                want = same_count
            else:
                kv = el[i]
                if not isinstance(kv, int) or kv <= 0:
                    raise FormatError("bad stream entry field count")
                k = kv
                i += 1
                if k < 128:
                    data_app(k)
                else:
                    data += _varint(k)
                want = 2 * k + 4
                k *= 2
            for v in el[i : i + k]:
                if not isinstance(v, bytes):
                    v = b"%d" % v
                ln = len(v)
                if ln < 128:
                    data_app(ln)
                else:
                    data += _varint(ln)
                data += v
            i += k
            if i >= n_el or el[i] != want:
                raise FormatError("bad stream entry element count")
            i += 1
    except IndexError:
        raise FormatError("stream listpack entry past the end") from None
    cnt = len(flags)
    ndead = cnt - flags.count(0) - flags.count(F_SAME)
    if not cnt or live + dead != cnt or ndead != dead or not live:
        raise FormatError("stream listpack counters do not match its entries")
    n = _Node.__new__(_Node)
    n.fields = fields
    n.same_size = node_same_size(nf)
    n.live, n.dead = live, dead
    n.body = len(lp) - int_size(live) - int_size(dead)
    n.base = ids[0]
    n.ids, n.offs = compact_ids(ids[0], ids), compact_offs(offs)
    n.flags, n.data = flags, bytes(data)
    return n


def read_stream(r: Reader, rdbtype: int) -> Stream:
    s = Stream()
    prev_last = -1
    for _ in range(read_length(r)):
        key = read_string(r)
        if len(key) != 16:
            raise FormatError("stream node key is not the size of a stream ID")
        ms, seq = struct.unpack(">QQ", key)
        master = (ms << 64) | seq
        n = _node_from_listpack(read_string(r), master)
        first = n.first_id()
        if first <= prev_last or master <= (s._keys[-1] if s._keys else -1):
            raise FormatError("stream nodes out of order")
        prev_last = n.last_id()
        s._nodes.append(n)
        s._keys.append(master)
    if s._nodes:
        s._nodes[-1].data = bytearray(s._nodes[-1].data)
    s.length = read_length(r)
    s.last_id = (read_length(r) << 64) | read_length(r)
    if rdbtype >= RDB_STREAM_LISTPACKS_2:
        read_length(r)  # first ID: we find it from the nodes
        read_length(r)
        s.max_deleted_id = (read_length(r) << 64) | read_length(r)
        s.entries_added = read_length(r)
    else:
        s.entries_added = s.length
    if s.length != sum(n.live for n in s._nodes) or (s._nodes and prev_last > s.last_id):
        raise FormatError("stream length inconsistent with its entries")
    for _ in range(read_length(r)):
        _read_group(r, s, rdbtype)
    return s


def _read_group(r: Reader, s: Stream, rdbtype: int) -> None:
    name = read_string(r)
    last = (read_length(r) << 64) | read_length(r)
    if rdbtype >= RDB_STREAM_LISTPACKS_2:
        entries_read = read_signed_length(r)
    else:
        entries_read = estimate_entries_read(s, last)
    if name in s.groups:
        raise FormatError("duplicated consumer group name")
    g = ConsumerGroup(name, last, entries_read)
    pending: dict[int, tuple[int, int]] = {}
    for _ in range(read_length(r)):
        sid = read_raw_id(r)
        when = read_ms(r)
        if sid in pending:
            raise FormatError("duplicated global PEL entry")
        pending[sid] = (when, read_length(r))
    for _ in range(read_length(r)):
        cname = read_string(r)
        seen = read_ms(r)
        c = g.create_consumer(cname, seen)
        if c is None:
            raise FormatError("duplicate stream consumer")
        c.active_time = read_ms(r) if rdbtype >= RDB_STREAM_LISTPACKS_3 else seen
        for _ in range(read_length(r)):
            sid = read_raw_id(r)
            nack = pending.pop(sid, None)
            if nack is None:
                raise FormatError("consumer entry not found in group global PEL")
            g.add_nack(sid, c, nack[0], nack[1])
    if pending:
        raise FormatError("stream group PEL entry without consumer")
    s.groups[name] = g


def is_stream_type(t: int) -> bool:
    return t in STREAM_TYPES
