"""The building blocks of Redis's RDB encoding: lengths, strings, listpacks, ziplists, intsets.

Everything here works on bytes, both ways, exactly as Redis's ``rdb.c``,
``listpack.c``, ``ziplist.c`` and ``intset.c`` lay them out:

- a *length* is 1, 2, 5 or 9 bytes (6-bit, 14-bit, 32-bit big-endian, 64-bit
  big-endian); the top bits ``11`` instead announce a specially encoded string
  (an 8/16/32-bit integer or an LZF-compressed string);
- a *string* is a length and the bytes, or one of those special encodings;
- a *listpack* is a u32 total size, a u16 element count, the elements (an
  encoding byte that says integer or string and its size, the data, a
  back-length of 1-5 bytes) and ``0xFF``; strings that spell an int64 exactly
  are stored as integers, as ``lpAppend`` does;
- a *ziplist* (Redis 6.2 and older) and a *zipmap* (hashes of Redis 2.4) are read only.

Readers take a ``serialize.Reader`` (bounds-checked) and raise ``FormatError``
on anything malformed; writers return bytes.
"""

from __future__ import annotations

import struct

from ..numparse import string2ll
from .serialize import FormatError, Reader

M64 = (1 << 64) - 1
_ms = struct.Struct("<q")
_be_id = struct.Struct(">QQ")

# -- lengths and strings -------------------------------------------------------------------


def read_length_enc(r: Reader) -> tuple[int, bool]:
    """(length, is-special-encoding) as ``rdbLoadLenByRef`` reads it."""
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
    raise FormatError(f"unknown length encoding at offset {r.pos - 1}")


def read_length(r: Reader) -> int:
    n, special = read_length_enc(r)
    if special:
        raise FormatError(f"encoded value where a length was expected at offset {r.pos - 1}")
    return n


def read_signed_length(r: Reader) -> int:
    """A length Redis wrote from a signed counter (entries-read: -1 is 2**64-1)."""
    n = read_length(r)
    return n - (1 << 64) if n >= 1 << 63 else n


def read_string(r: Reader) -> bytes:
    n, special = read_length_enc(r)
    if not special:
        return r.read_bytes(n)
    if n == 0:
        return b"%d" % struct.unpack("<b", r.take(1))[0]
    if n == 1:
        return b"%d" % struct.unpack("<h", r.take(2))[0]
    if n == 2:
        return b"%d" % struct.unpack("<i", r.take(4))[0]
    if n == 3:
        clen = read_length(r)
        ulen = read_length(r)
        return lzf_decompress(r.read_bytes(clen), ulen)
    raise FormatError(f"unknown string encoding at offset {r.pos - 1}")


def read_ms(r: Reader) -> int:
    """``rdbLoadMillisecondTime``: an int64, little-endian."""
    return int(r.unpack(_ms)[0])


def read_raw_id(r: Reader) -> int:
    """A stream ID stored raw (16 bytes, big-endian ms then seq), as an int."""
    ms, seq = r.unpack(_be_id)
    return int((ms << 64) | seq)


def enc_length(n: int) -> bytes:
    if n < 0x40:
        return bytes((n,))
    if n < 0x4000:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n & M64)


def enc_string(b: bytes) -> bytes:
    """``rdbSaveRawString`` without compression: small integers as integers."""
    n = len(b)
    if n <= 11:
        v = string2ll(b)
        if v is not None:
            if -128 <= v <= 127:
                return b"\xc0" + struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + struct.pack("<h", v)
            if -(1 << 31) <= v < 1 << 31:
                return b"\xc2" + struct.pack("<i", v)
    return enc_length(n) + b


def enc_ms(ms: int) -> bytes:
    return _ms.pack(ms)


def enc_raw_id(sid: int) -> bytes:
    return _be_id.pack(sid >> 64, sid & M64)


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
        if len(out) > ulen:
            raise FormatError("LZF length mismatch")
    if len(out) != ulen:
        raise FormatError("LZF length mismatch")
    return bytes(out)


# -- intsets ---------------------------------------------------------------------------------


def intset_items(blob: bytes) -> list[bytes]:
    if len(blob) < 8:
        raise FormatError("short intset")
    width, count = struct.unpack_from("<II", blob)
    code = {2: "h", 4: "i", 8: "q"}.get(width)
    if code is None or len(blob) != 8 + width * count:
        raise FormatError("bad intset")
    return [b"%d" % x for x in struct.unpack_from(f"<{count}{code}", blob, 8)]


def intset_build(values: list[int]) -> bytes:
    """An intset of ``values`` (sorted here), in the narrowest width that holds them all."""
    vals = sorted(values)
    lo, hi = (vals[0], vals[-1]) if vals else (0, 0)
    if lo >= -32768 and hi <= 32767:
        width, code = 2, "h"
    elif lo >= -(1 << 31) and hi < 1 << 31:
        width, code = 4, "i"
    else:
        width, code = 8, "q"
    return struct.pack("<II", width, len(vals)) + struct.pack(f"<{len(vals)}{code}", *vals)


# -- listpacks -------------------------------------------------------------------------------


def listpack_values(lp: bytes | memoryview) -> list[bytes | int]:
    """Every element of a listpack: integers as ints, strings as bytes.

    The common elements (7-bit integers, strings under 64 bytes, 13-bit integers) are
    taken first with their back-length (1 byte) folded into the step; a length that
    points outside the listpack ends in an error, not a short element."""
    n_all = len(lp)
    if n_all < 7:
        raise FormatError("short listpack")
    total, _count = struct.unpack_from("<IH", lp)
    if total != n_all or lp[-1] != 0xFF:
        raise FormatError("bad listpack header")
    if type(lp) is not bytes:
        lp = bytes(lp)
    out: list[bytes | int] = []
    app = out.append
    i = 6
    end = total - 1
    unpack = struct.unpack_from
    try:
        while i < end:
            b = lp[i]
            if b < 0x80:  # 7-bit uint
                app(b)
                i += 2
                continue
            if b < 0xC0:  # 6-bit string length
                j = i + 1 + (b & 0x3F)
                app(lp[i + 1 : j])
                i = j + 1
                continue
            if b < 0xE0:  # 13-bit int
                v = ((b & 0x1F) << 8) | lp[i + 1]
                app(v - (1 << 13) if v >= 1 << 12 else v)
                i += 3
                continue
            start = i
            if b < 0xF0:  # 12-bit string length
                ln = ((b & 0x0F) << 8) | lp[i + 1]
                app(lp[i + 2 : i + 2 + ln])
                i += 2 + ln
            elif b == 0xF0:  # 32-bit string length
                ln = unpack("<I", lp, i + 1)[0]
                app(lp[i + 5 : i + 5 + ln])
                i += 5 + ln
            elif b == 0xF1:
                app(unpack("<h", lp, i + 1)[0])
                i += 3
            elif b == 0xF2:
                app(int.from_bytes(lp[i + 1 : i + 4], "little", signed=True))
                i += 4
            elif b == 0xF3:
                app(unpack("<i", lp, i + 1)[0])
                i += 5
            elif b == 0xF4:
                app(unpack("<q", lp, i + 1)[0])
                i += 9
            else:
                raise FormatError("bad listpack entry")
            size = i - start
            i += 1 if size < 128 else 2 if size < 16384 else 3 if size < 2097152 else \
                4 if size < 268435456 else 5
    except (IndexError, struct.error):
        raise FormatError("listpack entry past the end") from None
    if i != end:
        raise FormatError("listpack entry past the end")
    return out


def as_bytes(x: bytes | int) -> bytes:
    return x if isinstance(x, bytes) else b"%d" % x


def listpack_items(lp: bytes | memoryview) -> list[bytes]:
    """Every element of a listpack, integers as their decimal strings."""
    return [x if isinstance(x, bytes) else b"%d" % x for x in listpack_values(lp)]


def _backlen(n: int) -> bytes:
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128,
                      (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128,
                  ((n >> 7) & 127) | 128, (n & 127) | 128))


_SMALL_BACKLEN = [bytes((n,)) for n in range(128)]


def lp_int(v: int) -> bytes:
    """One listpack integer element (encoding, data, back-length)."""
    if 0 <= v <= 127:
        return bytes((v, 1))
    if -4096 <= v <= 4095:
        u = v & 0x1FFF
        return bytes(((u >> 8) | 0xC0, u & 0xFF, 2))
    if -32768 <= v <= 32767:
        return b"\xf1" + struct.pack("<h", v) + b"\x03"
    if -8388608 <= v <= 8388607:
        return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little") + b"\x04"
    if -(1 << 31) <= v < 1 << 31:
        return b"\xf3" + struct.pack("<i", v) + b"\x05"
    return b"\xf4" + struct.pack("<q", v) + b"\x09"


def lp_str(b: bytes) -> bytes:
    """One listpack element for a string: an integer if it spells one exactly."""
    n = len(b)
    if n and (b[0] > 57 or b[0] < 45):  # cannot be an integer: the common case
        if n < 64:
            return bytes((0x80 | n,)) + b + _SMALL_BACKLEN[n + 1]
    elif 0 < n <= 20:
        v = string2ll(b)
        if v is not None:
            return lp_int(v)
    if n < 64:
        return bytes((0x80 | n,)) + b + _SMALL_BACKLEN[n + 1]
    if n < 4096:
        return bytes(((n >> 8) | 0xE0, n & 0xFF)) + b + _backlen(n + 2)
    return b"\xf0" + struct.pack("<I", n) + b + _backlen(n + 5)


def listpack_build(elements: list[bytes], count: int) -> bytes:
    """A listpack from already encoded elements (``lp_int``/``lp_str``) of ``count`` items."""
    body = b"".join(elements)
    total = 7 + len(body)
    return struct.pack("<IH", total, min(count, 65535)) + body + b"\xff"


def listpack_of(items: list[bytes]) -> bytes:
    return listpack_build([lp_str(x) for x in items], len(items))


# -- ziplists (read only: Redis 6.2 and older wrote them) ---------------------------------------


def ziplist_items(zl: bytes) -> list[bytes]:
    """Every element of a ziplist, integers as their decimal strings."""
    if len(zl) < 11:
        raise FormatError("short ziplist")
    total, _tail, _count = struct.unpack_from("<IIH", zl)
    if total != len(zl) or zl[-1] != 0xFF:
        raise FormatError("bad ziplist header")
    out: list[bytes] = []
    i = 10
    end = total - 1
    while i < end:
        i += 1 if zl[i] < 254 else 5  # prevlen
        if i >= end:
            raise FormatError("ziplist entry past the end")
        b = zl[i]
        kind = b >> 6
        if kind == 0:
            ln, i = b & 0x3F, i + 1
        elif kind == 1:
            ln, i = ((b & 0x3F) << 8) | zl[i + 1], i + 2
        elif kind == 2:
            ln, i = struct.unpack_from(">I", zl, i + 1)[0], i + 5
        else:
            i += 1
            if b == 0xC0:
                v, i = struct.unpack_from("<h", zl, i)[0], i + 2
            elif b == 0xD0:
                v, i = struct.unpack_from("<i", zl, i)[0], i + 4
            elif b == 0xE0:
                v, i = struct.unpack_from("<q", zl, i)[0], i + 8
            elif b == 0xF0:
                v, i = int.from_bytes(zl[i : i + 3], "little", signed=True), i + 3
            elif b == 0xFE:
                v, i = struct.unpack_from("<b", zl, i)[0], i + 1
            elif 0xF1 <= b <= 0xFD:
                v = (b & 0x0F) - 1
            else:
                raise FormatError("bad ziplist entry")
            out.append(b"%d" % v)
            continue
        if i + ln > end:
            raise FormatError("ziplist entry past the end")
        out.append(zl[i : i + ln])
        i += ln
    if i != end:
        raise FormatError("ziplist entry past the end")
    return out


def zipmap_items(zm: bytes) -> list[bytes]:
    """A zipmap's fields and values, flat (``zipmap.c``: a count byte, then per pair a
    length, the field, a length, a free-space byte, the value and its free space)."""
    out: list[bytes] = []
    i = 1
    n = len(zm)

    def length() -> int:
        nonlocal i
        if i >= n:
            raise FormatError("zipmap entry past the end")
        b = zm[i]
        if b < 254:
            i += 1
            return b
        if b == 254 and i + 5 <= n:
            i += 5
            return int(struct.unpack_from("<I", zm, i - 4)[0])
        raise FormatError("bad zipmap length")

    while i < n and zm[i] != 0xFF:
        ln = length()
        out.append(zm[i : i + ln])
        i += ln
        ln = length()
        if i >= n:
            raise FormatError("zipmap entry past the end")
        free = zm[i]
        i += 1
        out.append(zm[i : i + ln])
        i += ln + free
        if i > n:
            raise FormatError("zipmap entry past the end")
    if i != n - 1:
        raise FormatError("bad zipmap end")
    return out
