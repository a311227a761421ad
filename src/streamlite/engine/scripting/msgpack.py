"""``cmsgpack``: lua-cmsgpack 0.4.0 as Redis builds it into its Lua, in Python.

Its encodings, not MessagePack's newest: a Lua number is an integer when it is
one within int64 (``(int64_t)n == n``), else a float32 when that loses nothing,
else a float64; strings are "raw" (``0xa0``/``0xd9``/``0xda``/``0xdb``, never
``bin``); a table is an array when its keys are exactly the numbers ``1..n``
(an empty table too), else a map in ``next`` order; a table nested 16 deep, and
anything that is not a string, number, boolean or table, is ``nil``. Decoding
knows those types only (``bin``/``ext`` are "Bad data format"); every number
comes back as a Lua number (a uint64 above int64 wraps negative, as the C cast
does); too many values for Lua's C stack (8000 slots) fail as Redis's do.

``unpack_one``/``unpack_limit`` return the next offset first (-1 at the end).
Errors are ``luaL_error``'s, position included.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .libs import Libs

MAX_NESTING = 16
LUAI_MAXCSTACK = 8000  # luaL_checkstack's limit on a C function's stack slots
_INT32 = (-(1 << 31), (1 << 31) - 1)
_TOO_MANY = "too many return values at once; use unpack_one or unpack_limit instead."


class _Eof(Exception):
    pass


class _BadFormat(Exception):
    pass


class _Stack(Exception):
    pass


def encode_int(n: int, out: bytearray) -> None:
    """mp_encode_int."""
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + n.to_bytes(1, "big")
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        else:
            out += b"\xcf" + n.to_bytes(8, "big")
    elif n >= -32:
        out.append(n & 0xFF)
    elif n >= -128:
        out += b"\xd0" + n.to_bytes(1, "big", signed=True)
    elif n >= -32768:
        out += b"\xd1" + n.to_bytes(2, "big", signed=True)
    elif n >= -(1 << 31):
        out += b"\xd2" + n.to_bytes(4, "big", signed=True)
    else:
        out += b"\xd3" + n.to_bytes(8, "big", signed=True)


def encode_double(d: float, out: bytearray) -> None:
    """mp_encode_double: float32 when ``(double)(float)d == d``."""
    try:
        f = struct.pack(">f", d)
    except OverflowError:  # too large for a float32: C's cast gives inf, never equal
        f = None
    if f is not None and struct.unpack(">f", f)[0] == d:
        out += b"\xca" + f
    else:
        out += b"\xcb" + struct.pack(">d", d)


def _header(n: int, fix: int, fixmax: int, w16: bytes, w32: bytes, out: bytearray) -> None:
    if n <= fixmax:
        out.append(fix | n)
    elif n <= 0xFFFF:
        out += w16 + n.to_bytes(2, "big")
    else:
        out += w32 + (n & 0xFFFFFFFF).to_bytes(4, "big")


def encode_bytes(s: bytes, out: bytearray) -> None:
    n = len(s)
    if n < 32:
        out.append(0xA0 | n)
    elif n <= 0xFF:
        out += b"\xd9" + n.to_bytes(1, "big")
    elif n <= 0xFFFF:
        out += b"\xda" + n.to_bytes(2, "big")
    else:
        out += b"\xdb" + (n & 0xFFFFFFFF).to_bytes(4, "big")
    out += s


class CMsgPack:
    """The ``cmsgpack`` table's functions, bound to one interpreter's ``Libs``."""

    def __init__(self, libs: Libs) -> None:
        self.libs = libs

    def tables(self) -> dict[bytes, Any]:
        return {
            b"pack": self.pack,
            b"unpack": self.unpack,
            b"unpack_one": self.unpack_one,
            b"unpack_limit": self.unpack_limit,
            b"_NAME": b"cmsgpack",
            b"_VERSION": b"lua-cmsgpack 0.4.0",
            b"_COPYRIGHT": b"Copyright (C) 2012, Salvatore Sanfilippo",
            b"_DESCRIPTION": b"MessagePack C implementation for Lua",
        }

    # -- pack -----------------------------------------------------------------------

    def pack(self, *args: Any) -> bytes:
        if not args:
            raise self.libs._argerror(0, "MessagePack pack needs input.")
        out = bytearray()
        for a in args:
            self._encode(a, out, 0)
        return bytes(out)

    def _encode(self, v: Any, out: bytearray, level: int) -> None:
        t = type(v)
        if t is bytes:
            encode_bytes(v, out)
        elif t is bool:
            out.append(0xC3 if v else 0xC2)
        elif t is int:  # lupa gives an int exactly when (int64_t)n == n
            encode_int(v, out)
        elif t is float:
            encode_double(v, out)
        elif v is not None and self.libs._typename(v) == "table" and level != MAX_NESTING:
            if self._is_array(v):
                n = len(v)  # lua_objlen
                _header(n, 0x90, 15, b"\xdc", b"\xdd", out)
                for j in range(1, n + 1):
                    self._encode(v[j], out, level + 1)
            else:
                items = list(v.items())
                _header(len(items), 0x80, 15, b"\xde", b"\xdf", out)
                for k, x in items:
                    self._encode(k, out, level + 1)
                    self._encode(x, out, level + 1)
        else:
            out.append(0xC0)

    @staticmethod
    def _is_array(t: Any) -> bool:
        """table_is_an_array: number keys only, each a positive C int, max == count."""
        count = 0
        top = 0
        for k in t:  # lupa: iterating a table gives its keys (lua_next)
            tk = type(k)
            if tk is not int and tk is not float:
                return False
            if k <= 0 or not (_INT32[0] <= k <= _INT32[1]) or int(k) != k:
                return False
            top = max(top, int(k))
            count += 1
        return top == count

    # -- unpack ---------------------------------------------------------------------

    def unpack(self, *args: Any) -> tuple[Any, ...]:
        return self._unpack_full(args, "unpack", 0, 0)

    def unpack_one(self, *args: Any) -> tuple[Any, ...]:
        offset = self._optint(args, 2, "unpack_one")
        return self._unpack_full(args[:1], "unpack_one", 1, offset)

    def unpack_limit(self, *args: Any) -> tuple[Any, ...]:
        limit = self.libs.s._checkint(args, 2, "unpack_limit")
        offset = self._optint(args, 3, "unpack_limit")
        return self._unpack_full(args[:1], "unpack_limit", limit, offset)

    def _optint(self, args: tuple[Any, ...], i: int, name: str) -> int:
        if len(args) < i or args[i - 1] is None:
            return 0
        return self.libs.s._checkint(args, i, name)

    def _unpack_full(self, args: tuple[Any, ...], name: str, limit: int, offset: int) -> tuple[Any, ...]:
        data = self.libs._checkstring(args, 1, name)
        decode_all = not limit and not offset
        n = len(data)
        if offset < 0 or limit < 0:
            raise self.libs._error(
                f"Invalid request to unpack with offset of {offset} and limit of {n}.")
        if offset > n:
            raise self.libs._error(f"Start offset {offset} greater than input length {n}.")
        if decode_all:
            limit = (1 << 31) - 1
        out: list[Any] = []
        pos = offset
        from .libs import _deep_recursion

        try:
            with _deep_recursion(4 * LUAI_MAXCSTACK):
                while pos < n and len(out) < limit:
                    v, pos = self._decode(data, pos, 1 + len(out))
                    out.append(v)
        except _Eof:
            raise self.libs._error("Missing bytes in input.")
        except _BadFormat:
            raise self.libs._error("Bad data format in input.")
        except _Stack as e:
            raise self.libs._error(f"stack overflow ({e.args[0]})")
        if not decode_all:
            out.insert(0, -1 if pos >= n else pos)
        return tuple(out)

    def _decode(self, s: bytes, pos: int, used: int) -> tuple[Any, int]:
        """One value at ``pos``; ``used`` is how many stack slots are taken meanwhile."""
        n = len(s)
        if pos >= n:
            raise _Eof
        if used + 1 > LUAI_MAXCSTACK:  # luaL_checkstack(L, 1, ...)
            raise _Stack(_TOO_MANY)
        b = s[pos]

        def need(k: int) -> None:
            if n - pos < k:
                raise _Eof

        if b <= 0x7F:
            return b, pos + 1
        if b >= 0xE0:
            return b - 0x100, pos + 1
        if 0xA0 <= b <= 0xBF:
            k = b & 0x1F
            need(1 + k)
            return s[pos + 1 : pos + 1 + k], pos + 1 + k
        if 0x90 <= b <= 0x9F:
            return self._array(s, pos + 1, b & 0xF, used)
        if 0x80 <= b <= 0x8F:
            return self._map(s, pos + 1, b & 0xF, used)
        fixed = _FIXED.get(b)
        if fixed is not None:
            size, fmt = fixed
            need(1 + size)
            v = struct.unpack_from(fmt, s, pos + 1)[0]
            if b == 0xCF and v >= 1 << 63:  # (lua_Integer)uint64: wraps negative
                v -= 1 << 64
            if type(v) is int:
                v = _lua_number(float(v))  # lua_pushinteger: a double, rounded as C does
            return v, pos + 1 + size
        if b == 0xC0:
            return None, pos + 1
        if b == 0xC2 or b == 0xC3:
            return b == 0xC3, pos + 1
        if b in (0xD9, 0xDA, 0xDB):
            w = {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
            need(1 + w)
            k = int.from_bytes(s[pos + 1 : pos + 1 + w], "big")
            start = pos + 1 + w
            if n - start < k:
                raise _Eof
            return s[start : start + k], start + k
        if b in (0xDC, 0xDD, 0xDE, 0xDF):
            w = 2 if b in (0xDC, 0xDE) else 4
            need(1 + w)
            k = int.from_bytes(s[pos + 1 : pos + 1 + w], "big")
            if b in (0xDC, 0xDD):
                return self._array(s, pos + 1 + w, k, used)
            return self._map(s, pos + 1 + w, k, used)
        raise _BadFormat

    def _array(self, s: bytes, pos: int, k: int, used: int) -> tuple[Any, int]:
        if used + 2 > LUAI_MAXCSTACK:  # the new table, then luaL_checkstack(L, 1, ...)
            raise _Stack("in function mp_decode_to_lua_array")
        items: list[Any] = []
        for _ in range(k):  # the table and the index stay on the stack
            v, pos = self._decode(s, pos, used + 2)
            items.append(v)
        return self._table(items, None), pos

    def _map(self, s: bytes, pos: int, k: int, used: int) -> tuple[Any, int]:
        pairs: list[tuple[Any, Any]] = []
        for _ in range(k):
            key, pos = self._decode(s, pos, used + 1)
            v, pos = self._decode(s, pos, used + 2)
            pairs.append((key, v))
        return self._table(None, pairs), pos

    def _table(self, items: list[Any] | None, pairs: list[tuple[Any, Any]] | None) -> Any:
        """A Lua table, filled as lua_settable would (nil keys fail, nil values skip)."""
        t = self.libs.rt.table_from({})
        if items is not None:
            for i, v in enumerate(items, 1):
                if v is not None:
                    t[i] = v
            return t
        assert pairs is not None
        for key, v in pairs:
            if key is None:  # luaG_runerror from a C function: no position
                raise self.libs._error("table index is nil", where=False)
            if type(key) is float and key != key:
                raise self.libs._error("table index is NaN", where=False)
            t[key] = v
        return t


def _lua_number(x: float) -> float | int:
    """An integral double within int64 as an int (lupa hands both to Lua the same)."""
    if x.is_integer() and -(1 << 63) <= x < (1 << 63):
        return int(x)
    return x


_FIXED: dict[int, tuple[int, str]] = {
    0xCC: (1, ">B"), 0xD0: (1, ">b"), 0xCD: (2, ">H"), 0xD1: (2, ">h"),
    0xCE: (4, ">I"), 0xD2: (4, ">i"), 0xCF: (8, ">Q"), 0xD3: (8, ">q"),
    0xCA: (4, ">f"), 0xCB: (8, ">d"),
}
