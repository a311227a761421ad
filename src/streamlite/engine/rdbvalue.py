"""Values in Redis's RDB object encoding, both ways (RDB files, DUMP/RESTORE payloads).

Read: every type and encoding Redis 6.2 to 8.2 writes -- strings (plain, integer,
LZF), lists (quicklist 2 of listpacks or plain nodes, quicklist of ziplists, the
old linked list and ziplist types), sets (hashtable, intset, listpack), sorted sets
(skiplist with binary or text doubles, listpack, ziplist), hashes (hashtable,
listpack, ziplist, and with field TTLs ``RDB_TYPE_HASH_METADATA`` /
``LISTPACK_EX``), streams (``rdbstream``). Module values are refused with a
clear error; so is anything malformed.

Written: what Redis 8.2 writes for the same value (``redis_value``): the
encoding follows ours (listpack/intset/hashtable/skiplist/quicklist, listpackex).

Values are rebuilt through ``serialize``'s loaders, so encodings after a load
follow the same rules as for our own payloads (Redis's loader rules).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from ..numparse import string2ll
from .crc64 import crc64
from .database import type_name
from .rdbprim import (
    enc_length,
    enc_ms,
    enc_string,
    intset_build,
    intset_items,
    listpack_build,
    listpack_items,
    listpack_of,
    lp_int,
    lp_str,
    read_length,
    read_ms,
    read_string,
    ziplist_items,
    zipmap_items,
)
from .rdbstream import (
    RDB_STREAM_LISTPACKS_3,
    STREAM_TYPES,
    apply_extension,
    read_stream,
    stream_extension,
    write_stream,
)
from .serialize import FormatError, Reader, _dec_hash, _dec_list, _dec_set, _dec_zset
from .types import list as _list
from .types.scores import format_score
from .types.set import HASHTABLE, INTSET, LISTPACK

if TYPE_CHECKING:
    from .core import Engine

# Redis's RDB object types (rdb.h)
RDB_STRING = 0
RDB_LIST = 1
RDB_SET = 2
RDB_ZSET = 3
RDB_HASH = 4
RDB_ZSET_2 = 5
RDB_MODULE_PRE_GA = 6
RDB_MODULE_2 = 7
RDB_HASH_ZIPMAP = 9
RDB_LIST_ZIPLIST = 10
RDB_SET_INTSET = 11
RDB_ZSET_ZIPLIST = 12
RDB_HASH_ZIPLIST = 13
RDB_LIST_QUICKLIST = 14
RDB_HASH_LISTPACK = 16
RDB_ZSET_LISTPACK = 17
RDB_LIST_QUICKLIST_2 = 18
RDB_SET_LISTPACK = 20
RDB_HASH_METADATA_PRE_GA = 22
RDB_HASH_LISTPACK_EX_PRE_GA = 23
RDB_HASH_METADATA = 24
RDB_HASH_LISTPACK_EX = 25

RDB_VERSION = 12  # what Redis 7.4 to 8.2 write; we read 1 .. 12
EB_EXPIRE_TIME_INVALID = 1 << 48  # a listpackex hash's min-expire when no field has a TTL

_QUICKLIST_PLAIN = 1
_QUICKLIST_PACKED = 2


class ModuleValueError(FormatError):
    """A module's value (RDB_TYPE_MODULE_2): nothing here can load it."""


# -- reading ---------------------------------------------------------------------------------


def read_value(t: int, r: Reader, engine: Engine) -> Any:
    """The value of RDB type ``t`` whose encoding ``r`` is at (consumes exactly it)."""
    if t == RDB_STRING:
        return read_string(r)
    if t in (RDB_LIST_QUICKLIST_2, RDB_LIST_QUICKLIST):
        return _dec_list(_quicklist(r, t), engine)
    if t == RDB_LIST:
        return _dec_list([read_string(r) for _ in range(read_length(r))], engine)
    if t == RDB_LIST_ZIPLIST:  # Redis's loader keeps these a quicklist, whatever the size
        lv = _dec_list(ziplist_items(read_string(r)), engine)
        lv.quick = True
        return lv
    if t == RDB_SET:
        return _dec_set(HASHTABLE, [read_string(r) for _ in range(read_length(r))], engine)
    if t == RDB_SET_INTSET:
        return _dec_set(INTSET, intset_items(read_string(r)), engine)
    if t == RDB_SET_LISTPACK:
        return _dec_set(LISTPACK, listpack_items(read_string(r)), engine)
    if t in (RDB_ZSET_2, RDB_ZSET):
        members, scores = [], []
        for _ in range(read_length(r)):
            members.append(read_string(r))
            scores.append(struct.unpack("<d", r.take(8))[0] if t == RDB_ZSET_2
                          else _text_score(r))
        return _dec_zset(members, scores, engine)
    if t in (RDB_ZSET_LISTPACK, RDB_ZSET_ZIPLIST):
        blob = read_string(r)
        flat = listpack_items(blob) if t == RDB_ZSET_LISTPACK else ziplist_items(blob)
        if len(flat) & 1:
            raise FormatError("odd sorted set listpack")
        return _dec_zset(flat[0::2], [_score(x) for x in flat[1::2]], engine)
    if t == RDB_HASH:
        flat = []
        for _ in range(read_length(r)):
            flat.append(read_string(r))
            flat.append(read_string(r))
        return _dec_hash(1, flat, {}, engine)
    if t in (RDB_HASH_LISTPACK, RDB_HASH_ZIPLIST):
        blob = read_string(r)
        items = listpack_items(blob) if t == RDB_HASH_LISTPACK else ziplist_items(blob)
        return _dec_hash(0, items, {}, engine)
    if t in (RDB_HASH_METADATA, RDB_HASH_METADATA_PRE_GA):
        return _hash_metadata(r, t, engine)
    if t in (RDB_HASH_LISTPACK_EX, RDB_HASH_LISTPACK_EX_PRE_GA):
        if t == RDB_HASH_LISTPACK_EX:
            read_ms(r)  # the min expire: derived from the fields
        return _hash_listpack_ex(listpack_items(read_string(r)), engine)
    if t in STREAM_TYPES:
        return read_stream(r, t)
    if t in (RDB_MODULE_2, RDB_MODULE_PRE_GA):
        raise ModuleValueError(_module_message(r, t))
    if t == RDB_HASH_ZIPMAP:
        return _dec_hash(0, zipmap_items(read_string(r)), {}, engine)
    raise FormatError(f"unknown RDB object type {t}")


def _module_message(r: Reader, t: int) -> str:
    if t == RDB_MODULE_2:
        name = module_type_name(read_length(r))
        return (f"the data holds a value of the module type '{name}', which streamlite "
                f"cannot load (it has no Redis modules)")
    return "the data holds a module value (pre-release format), which streamlite cannot load"


_MODULE_CHARSET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def module_type_name(module_id: int) -> str:
    """The 9-character module type name encoded in a module ID (``moduleTypeNameByID``)."""
    out = bytearray(9)
    mid = module_id >> 10
    for j in range(8, -1, -1):
        out[j] = _MODULE_CHARSET[mid & 63]
        mid >>= 6
    return out.decode()


def _quicklist(r: Reader, t: int) -> list[bytes]:
    items: list[bytes] = []
    for _ in range(read_length(r)):
        container = read_length(r) if t == RDB_LIST_QUICKLIST_2 else _QUICKLIST_PACKED
        node = read_string(r)
        if not node:
            raise FormatError("empty quicklist node")
        if container == _QUICKLIST_PLAIN:
            items.append(node)
        elif container == _QUICKLIST_PACKED:
            items.extend(listpack_items(node) if t == RDB_LIST_QUICKLIST_2 else ziplist_items(node))
        else:
            raise FormatError("quicklist integrity check failed")
    return items


def _text_score(r: Reader) -> float:
    """``rdbLoadDoubleValue``: a length byte (253 nan, 254 inf, 255 -inf) and the text."""
    n = r.u8()
    if n == 253:
        raise FormatError("NaN score")
    if n == 254:
        return float("inf")
    if n == 255:
        return float("-inf")
    return _score(r.read_bytes(n))


def _score(x: bytes) -> float:
    try:
        v = float(x)
    except ValueError:
        raise FormatError("bad score") from None
    if v != v:
        raise FormatError("NaN score")
    return v


def _hash_metadata(r: Reader, t: int, engine: Engine) -> Any:
    base = read_ms(r) if t == RDB_HASH_METADATA else 0
    flat: list[bytes] = []
    ttls: dict[bytes, int] = {}
    for _ in range(read_length(r)):
        ttl = read_length(r)
        field = read_string(r)
        flat.append(field)
        flat.append(read_string(r))
        if ttl:
            when = ttl + base - 1 if t == RDB_HASH_METADATA else ttl
            if when >= EB_EXPIRE_TIME_INVALID:
                raise FormatError("invalid hash field expire time")
            ttls[field] = when
    return _dec_hash(3, flat, ttls, engine)


def _hash_listpack_ex(items: list[bytes], engine: Engine) -> Any:
    if len(items) % 3:
        raise FormatError("listpackex hash is not field, value, TTL triplets")
    flat: list[bytes] = []
    ttls: dict[bytes, int] = {}
    for i in range(0, len(items), 3):
        f, v, ttl = items[i], items[i + 1], string2ll(items[i + 2])
        if ttl is None or ttl < 0 or ttl >= EB_EXPIRE_TIME_INVALID:
            raise FormatError("bad hash field TTL")
        flat.append(f)
        flat.append(v)
        if ttl:
            ttls[f] = ttl
    return _dec_hash(2, flat, ttls, engine)


# -- writing ---------------------------------------------------------------------------------


def redis_value(v: Any) -> tuple[int, bytes]:
    """(RDB type, encoding) of a value, as Redis 8.2 saves it."""
    name = type_name(v)
    if name == b"string":
        return RDB_STRING, enc_string(bytes(v))
    if name == b"list":
        return RDB_LIST_QUICKLIST_2, _write_list(list(v.items))
    if name == b"set":
        if v.enc == INTSET:
            return RDB_SET_INTSET, enc_string(intset_build([int(m) for m in v.members()]))
        if v.enc == LISTPACK:
            return RDB_SET_LISTPACK, enc_string(listpack_of(v.members()))
        return RDB_SET, enc_length(len(v)) + b"".join(enc_string(m) for m in v.members())
    if name == b"zset":
        if v.listpack:
            els = []
            for score, m in v.sl:
                els.append(lp_str(m))
                els.append(lp_str(format_score(score)))
            return RDB_ZSET_LISTPACK, enc_string(listpack_build(els, len(els)))
        out = [enc_length(len(v))]
        for score, m in reversed(v.sl):  # as Redis: greatest first (faster to load)
            out.append(enc_string(m))
            out.append(struct.pack("<d", score))
        return RDB_ZSET_2, b"".join(out)
    if name == b"hash":
        return _write_hash(v)
    if name == b"array":
        raise ValueError("arrays (Redis 8.8) have no RDB encoding here: "
                         "use the streamlite snapshot format or the AOF")
    return RDB_STREAM_LISTPACKS_3, write_stream(v)


def _write_list(items: list[bytes]) -> bytes:
    """Quicklist 2: packed nodes of at most 8 KB (``list-max-listpack-size -2``)."""
    limit, _ = _list._limits(-2)
    nodes: list[bytes] = []
    cur: list[bytes] = []
    size = 7
    for it in items:
        e = lp_str(it)
        if cur and size + len(e) > limit:
            nodes.append(listpack_build(cur, len(cur)))
            cur, size = [], 7
        cur.append(e)
        size += len(e)
    if cur:
        nodes.append(listpack_build(cur, len(cur)))
    out = [enc_length(len(nodes))]
    for n in nodes:
        out.append(enc_length(_QUICKLIST_PACKED))
        out.append(enc_string(n))
    return b"".join(out)


def _write_hash(h: Any) -> tuple[int, bytes]:
    ttls = h.ttls or {}
    if not ttls and not h.ex:
        if h.big:
            out = [enc_length(len(h.d))]
            for f, x in h.d.items():
                out.append(enc_string(f))
                out.append(enc_string(x))
            return RDB_HASH, b"".join(out)
        flat = [y for pair in h.d.items() for y in pair]
        return RDB_HASH_LISTPACK, enc_string(listpack_of(flat))
    low = min(ttls.values()) if ttls else EB_EXPIRE_TIME_INVALID
    if h.big:
        out = [enc_ms(low), enc_length(len(h.d))]
        for f, x in h.d.items():
            when = ttls.get(f)
            out.append(enc_length(0 if when is None else when - low + 1))
            out.append(enc_string(f))
            out.append(enc_string(x))
        return RDB_HASH_METADATA, b"".join(out)
    # listpackex: fields with a TTL first, by TTL (Redis keeps that order), then the rest
    order = sorted(ttls, key=ttls.__getitem__) + [f for f in h.d if f not in ttls]
    els = []
    for f in order:
        els.append(lp_str(f))
        els.append(lp_str(h.d[f]))
        els.append(lp_int(ttls.get(f, 0)))
    return RDB_HASH_LISTPACK_EX, enc_ms(low) + enc_string(listpack_build(els, len(els)))


# -- DUMP / RESTORE payloads ---------------------------------------------------------------------


def dump_redis_payload(v: Any) -> bytes:
    """DUMP's reply in Redis's format: RDB type, encoding, [stream extension], version 12,
    CRC-64 -- what Redis 8.2's RESTORE reads (it ignores the extension)."""
    t, body = redis_value(v)
    ext = stream_extension(v) if t == RDB_STREAM_LISTPACKS_3 else None
    data = bytes((t,)) + body + (ext or b"") + struct.pack("<H", RDB_VERSION)
    return data + struct.pack("<Q", crc64(data))


def load_redis_value(body: bytes | memoryview, engine: Engine) -> Any:
    """A value from a Redis DUMP payload's body (type byte and encoding, no footer)."""
    r = Reader(body)
    t = r.u8()
    v = read_value(t, r, engine)
    if r.pos != r.end:
        if t not in STREAM_TYPES:
            raise FormatError("unexpected bytes after the value")
        apply_extension(v, r.take(r.end - r.pos))
    return v
