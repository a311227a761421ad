"""RESTORE of payloads that a real Redis produced with DUMP (its RDB object encoding).

Read here: strings (plain, integer-encoded, LZF-compressed), lists (quicklist 2
of listpacks or plain nodes), sets (hashtable, intset, listpack), sorted sets
(skiplist with binary doubles, listpack) and hashes (hashtable, listpack). Hashes
with field TTLs and streams in Redis's encoding are not read: RESTORE answers
``Bad data format`` for them, as for anything malformed.

The value is rebuilt through ``serialize``'s loaders, so encodings follow the same
rules as for our own payloads.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from .serialize import FormatError, Reader, _dec_hash, _dec_list, _dec_set, _dec_zset
from .types.set import HASHTABLE, INTSET, LISTPACK

if TYPE_CHECKING:
    from .core import Engine

# Redis's RDB object types (rdb.h)
RDB_STRING = 0
RDB_SET = 2
RDB_ZSET_2 = 5
RDB_HASH = 4
RDB_SET_INTSET = 11
RDB_HASH_LISTPACK = 16
RDB_ZSET_LISTPACK = 17
RDB_LIST_QUICKLIST_2 = 18
RDB_SET_LISTPACK = 20

_QUICKLIST_PLAIN = 1
_QUICKLIST_PACKED = 2


def load_redis_value(body: bytes | memoryview, engine: Engine) -> Any:
    r = Reader(body)
    t = r.u8()
    if t == RDB_STRING:
        v: Any = _string(r)
    elif t == RDB_LIST_QUICKLIST_2:
        items: list[bytes] = []
        for _ in range(_length(r)):
            container = _length(r)
            node = _string(r)
            if container == _QUICKLIST_PLAIN:
                items.append(node)
            elif container == _QUICKLIST_PACKED:
                items.extend(listpack_items(node))
            else:
                raise FormatError("unknown quicklist container")
        v = _dec_list(items, engine)
    elif t == RDB_SET:
        v = _dec_set(HASHTABLE, [_string(r) for _ in range(_length(r))], engine)
    elif t == RDB_SET_INTSET:
        v = _dec_set(INTSET, intset_items(_string(r)), engine)
    elif t == RDB_SET_LISTPACK:
        v = _dec_set(LISTPACK, listpack_items(_string(r)), engine)
    elif t == RDB_ZSET_2:
        members, scores = [], []
        for _ in range(_length(r)):
            members.append(_string(r))
            scores.append(struct.unpack("<d", r.take(8))[0])
        v = _dec_zset(members, scores, engine)
    elif t == RDB_ZSET_LISTPACK:
        flat = listpack_items(_string(r))
        if len(flat) & 1:
            raise FormatError("odd sorted set listpack")
        v = _dec_zset(flat[0::2], [_score(x) for x in flat[1::2]], engine)
    elif t == RDB_HASH:
        flat = []
        for _ in range(_length(r)):
            flat.append(_string(r))
            flat.append(_string(r))
        v = _dec_hash(1, flat, {}, engine)
    elif t == RDB_HASH_LISTPACK:
        v = _dec_hash(0, listpack_items(_string(r)), {}, engine)
    else:
        raise FormatError(f"RDB object type {t} is not supported")
    if r.pos != r.end:
        raise FormatError("unexpected bytes after the value")
    return v


def _score(x: bytes) -> float:
    try:
        return float(x)
    except ValueError:
        raise FormatError("bad score")


# -- RDB primitives ---------------------------------------------------------------------------


def _length_enc(r: Reader) -> tuple[int, bool]:
    """(length, is-special-encoding) as rdbLoadLenByRef reads it."""
    b = r.u8()
    kind = b >> 6
    if kind == 0:
        return b & 0x3F, False
    if kind == 1:
        return ((b & 0x3F) << 8) | r.u8(), False
    if kind == 3:
        return b & 0x3F, True
    if b == 0x80:
        return int(struct.unpack(">I", r.take(4))[0]), False
    if b == 0x81:
        return int(struct.unpack(">Q", r.take(8))[0]), False
    raise FormatError("unknown length encoding")


def _length(r: Reader) -> int:
    n, special = _length_enc(r)
    if special:
        raise FormatError("encoded value where a length was expected")
    return n


def _string(r: Reader) -> bytes:
    n, special = _length_enc(r)
    if not special:
        return r.read_bytes(n)
    if n == 0:
        return b"%d" % struct.unpack("<b", r.take(1))[0]
    if n == 1:
        return b"%d" % struct.unpack("<h", r.take(2))[0]
    if n == 2:
        return b"%d" % struct.unpack("<i", r.take(4))[0]
    if n == 3:
        clen = _length(r)
        ulen = _length(r)
        return lzf_decompress(r.read_bytes(clen), ulen)
    raise FormatError("unknown string encoding")


def lzf_decompress(data: bytes, ulen: int) -> bytes:
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # literal run of ctrl + 1 bytes
            ln = ctrl + 1
            if i + ln > n:
                raise FormatError("bad LZF data")
            out += data[i : i + ln]
            i += ln
            continue
        ln = ctrl >> 5
        if ln == 7:
            if i >= n:
                raise FormatError("bad LZF data")
            ln += data[i]
            i += 1
        if i >= n:
            raise FormatError("bad LZF data")
        ref = len(out) - ((ctrl & 0x1F) << 8) - 1 - data[i]
        i += 1
        if ref < 0:
            raise FormatError("bad LZF data")
        for k in range(ln + 2):  # may overlap what it copies
            out.append(out[ref + k])
    if len(out) != ulen:
        raise FormatError("LZF length mismatch")
    return bytes(out)


def intset_items(blob: bytes) -> list[bytes]:
    if len(blob) < 8:
        raise FormatError("short intset")
    width, count = struct.unpack_from("<II", blob)
    code = {2: "h", 4: "i", 8: "q"}.get(width)
    if code is None or len(blob) != 8 + width * count:
        raise FormatError("bad intset")
    return [b"%d" % x for x in struct.unpack_from(f"<{count}{code}", blob, 8)]


def listpack_items(lp: bytes) -> list[bytes]:
    """Every element of a listpack, integers as their decimal strings."""
    if len(lp) < 7:
        raise FormatError("short listpack")
    total, _count = struct.unpack_from("<IH", lp)
    if total != len(lp) or lp[-1] != 0xFF:
        raise FormatError("bad listpack header")
    out: list[bytes] = []
    i = 6
    end = total - 1
    while i < end:
        b = lp[i]
        start = i
        if b < 0x80:  # 7-bit uint
            out.append(b"%d" % b)
            i += 1
        elif b < 0xC0:  # 6-bit string length
            ln = b & 0x3F
            out.append(lp[i + 1 : i + 1 + ln])
            i += 1 + ln
        elif b < 0xE0:  # 13-bit int
            v = ((b & 0x1F) << 8) | lp[i + 1]
            if v >= 1 << 12:
                v -= 1 << 13
            out.append(b"%d" % v)
            i += 2
        elif b < 0xF0:  # 12-bit string length
            ln = ((b & 0x0F) << 8) | lp[i + 1]
            out.append(lp[i + 2 : i + 2 + ln])
            i += 2 + ln
        elif b == 0xF0:  # 32-bit string length
            ln = struct.unpack_from("<I", lp, i + 1)[0]
            out.append(lp[i + 5 : i + 5 + ln])
            i += 5 + ln
        elif b == 0xF1:
            out.append(b"%d" % struct.unpack_from("<h", lp, i + 1)[0])
            i += 3
        elif b == 0xF2:
            v = int.from_bytes(lp[i + 1 : i + 4], "little", signed=True)
            out.append(b"%d" % v)
            i += 4
        elif b == 0xF3:
            out.append(b"%d" % struct.unpack_from("<i", lp, i + 1)[0])
            i += 5
        elif b == 0xF4:
            out.append(b"%d" % struct.unpack_from("<q", lp, i + 1)[0])
            i += 9
        else:
            raise FormatError("bad listpack entry")
        size = i - start
        i += 1 if size < 128 else 2 if size < 16384 else 3 if size < 2097152 else \
            4 if size < 268435456 else 5
        if i > end:
            raise FormatError("listpack entry past the end")
    return out
