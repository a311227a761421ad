"""``struct``: Roberto Ierusalimschy's struct library (1.4) as Redis builds it, in Python.

Formats: ``>``/``<`` endianness (native, little, by default), ``![n]`` alignment
(default 1; ``!`` alone is 8), ``x`` padding, ``b/B h/H l/L T i[n]/I[n]`` integers
(1, 2, 8, 8, n or 4 bytes; n up to 32), ``f``/``d`` floats, ``c[n]`` fixed
strings (``c0``: the whole string when packing, the previous number as length
when unpacking), ``s`` zero-terminated strings, spaces ignored. As in C on
x86-64: integers wider than 8 bytes carry 8 bytes of value, sign extension uses
the shift count modulo 64, a negative number packs as ``(unsigned long)(long)n``.
Errors are the library's ``luaL_error``/``luaL_argerror`` texts.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from .msgpack import _lua_number

if TYPE_CHECKING:
    from .libs import Libs

MAXINTSIZE = 32
MAXALIGN = 8
LUAI_MAXCSTACK = 8000
_M64 = (1 << 64) - 1
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}
_INTS = frozenset("bBhHlLTiI")


class _Format:
    """A cursor over a format string (``getnum`` reads the digits after an option)."""

    def __init__(self, fmt: bytes) -> None:
        self.fmt = fmt
        self.i = 0

    def next(self) -> str | None:
        if self.i >= len(self.fmt) or self.fmt[self.i] == 0:  # a C string ends at NUL
            return None
        c = chr(self.fmt[self.i])
        self.i += 1
        return c

    def getnum(self, default: int) -> int:
        f = self.fmt
        if self.i >= len(f) or not 0x30 <= f[self.i] <= 0x39:
            return default
        a = 0
        while self.i < len(f) and 0x30 <= f[self.i] <= 0x39:
            d = f[self.i] - 0x30
            if a > 0x7FFFFFFF // 10 or a * 10 > 0x7FFFFFFF - d:
                raise OverflowError
            a = a * 10 + d
            self.i += 1
        return a


def _float_bytes(x: float) -> bytes:
    try:
        return struct.pack("<f", x)
    except OverflowError:  # C's (float) cast: out of range becomes infinity
        return struct.pack("<f", float("inf") if x > 0 else float("-inf"))


def _to_unsigned(n: float) -> int:
    """putinteger's conversion, as gcc on x86-64 does it."""
    if n != n:
        return 1 << 63
    if n < 0:
        v = int(n) if n > -9.223372036854775808e18 else -(1 << 63)
        return v & _M64
    if n >= 1.8446744073709552e19:
        return 0
    return int(n) & _M64


class Struct:
    """The ``struct`` table's functions, bound to one interpreter's ``Libs``."""

    def __init__(self, libs: Libs) -> None:
        self.libs = libs

    def tables(self) -> dict[bytes, Any]:
        return {b"pack": self.pack, b"unpack": self.unpack, b"size": self.size}

    # -- shared ---------------------------------------------------------------------

    def _optsize(self, opt: str, f: _Format) -> int:
        if opt in _SIZES:
            return _SIZES[opt]
        if opt == "c":
            return self._num(f, 1)
        if opt in ("i", "I"):
            sz = self._num(f, 4)
            if sz > MAXINTSIZE:
                raise self.libs._error(f"integral size {sz} is larger than limit of {MAXINTSIZE}")
            return sz
        return 0

    def _num(self, f: _Format, default: int) -> int:
        try:
            return f.getnum(default)
        except OverflowError:
            raise self.libs._error("integral size overflow")

    @staticmethod
    def _toalign(length: int, align: int, opt: str, size: int) -> int:
        if size == 0 or opt == "c":
            return 0
        size = min(size, align)
        return (size - (length & (size - 1))) & (size - 1)

    def _control(self, opt: str, f: _Format, h: list[int]) -> None:
        """controloptions; ``h`` is [little_endian, align]."""
        if opt == " ":
            return
        if opt == ">":
            h[0] = 0
        elif opt == "<":
            h[0] = 1
        elif opt == "!":
            a = self._num(f, MAXALIGN)
            if not (a > 0 and a & (a - 1) == 0):
                raise self.libs._error(f"alignment {a} is not a power of 2")
            h[1] = a
        else:
            raise self.libs._argerror(1, f"invalid format option '{opt}'")

    # -- struct.pack ----------------------------------------------------------------

    def pack(self, *args: Any) -> bytes:
        libs = self.libs
        f = _Format(libs._checkstring(args, 1, "pack"))
        h = [1, 1]
        arg = 2
        out = bytearray()
        while (opt := f.next()) is not None:
            size = self._optsize(opt, f)
            pad = self._toalign(len(out), h[1], opt, size)
            out += b"\0" * pad
            if opt in _INTS:
                n = self._packnumber(args, arg)
                arg += 1
                v = _to_unsigned(n)
                data = bytes(((v >> (8 * i)) & 0xFF) if i < 8 else 0 for i in range(size))
                out += data if h[0] else data[::-1]
            elif opt == "x":
                out.append(0)
            elif opt in ("f", "d"):
                x = self._packnumber(args, arg)
                arg += 1
                data = _float_bytes(x) if opt == "f" else struct.pack("<d", x)
                out += data if h[0] else data[::-1]
            elif opt in ("c", "s"):
                s = libs._checkstring(args + (None,), arg, "pack")  # the nil mark
                arg += 1
                if size == 0:
                    size = len(s)
                if len(s) < size:  # luaL_argcheck after arg++: names the next argument
                    raise libs._argerror(arg, "string too short")
                out += s[:size]
                if opt == "s":
                    out.append(0)
            else:
                self._control(opt, f, h)
        return bytes(out)

    def _packnumber(self, args: tuple[Any, ...], i: int) -> float:
        """luaL_checknumber in b_pack: the nil mark it pushes follows the arguments."""
        return self.libs._checknumber(args + (None,), i, "pack")

    # -- struct.unpack --------------------------------------------------------------

    def unpack(self, *args: Any) -> tuple[Any, ...]:
        libs = self.libs
        f = _Format(libs._checkstring(args, 1, "unpack"))
        data = libs._checkstring(args, 2, "unpack")
        ld = len(data)
        start = 1 if len(args) < 3 or args[2] is None else libs.s._checkint(args, 3, "unpack")
        if start < 1:  # Redis's check (upstream wraps the offset around)
            raise libs._argerror(3, "offset must be 1 or greater")
        pos = (start - 1) & _M64  # size_t
        h = [1, 1]
        res: list[Any] = []
        while (opt := f.next()) is not None:
            size = self._optsize(opt, f)
            pos += self._toalign(pos, h[1], opt, size)
            if pos + size > ld:
                raise libs._argerror(2, "data string too short")
            if 2 + len(res) + 1 > LUAI_MAXCSTACK:
                raise libs._error("stack overflow (too many results)")
            if opt in _INTS:
                res.append(self._getinteger(data[pos : pos + size], h[0], opt.islower()))
            elif opt == "f":
                b = data[pos : pos + 4]
                res.append(struct.unpack("<f" if h[0] else ">f", b)[0])
            elif opt == "d":
                b = data[pos : pos + 8]
                res.append(struct.unpack("<d" if h[0] else ">d", b)[0])
            elif opt == "c":
                if size == 0:
                    prev = res[-1] if res else data
                    n = libs.s._number(prev)
                    if n is None:
                        raise libs._error("format 'c0' needs a previous size")
                    size = int(n) & _M64
                    if res:
                        res.pop()
                    if pos + size > ld:
                        raise libs._argerror(2, "data string too short")
                res.append(data[pos : pos + size])
            elif opt == "s":
                e = data.find(b"\0", pos)
                if e < 0:
                    raise libs._error("unfinished string in data")
                size = e - pos + 1
                res.append(data[pos:e])
            elif opt != "x":
                self._control(opt, f, h)
            pos += size
        res.append(pos + 1)
        return tuple(_number(x) for x in res)

    @staticmethod
    def _getinteger(b: bytes, little: bool, signed: bool) -> float:
        size = len(b)
        v = 0
        for byte in (reversed(b) if little else b):
            v = ((v << 8) | byte) & _M64
        if signed:
            mask = (_M64 << ((size * 8 - 1) & 63)) & _M64  # x86 masks the shift count
            if v & mask:
                v |= mask
            if v >= 1 << 63:
                v -= 1 << 64
        return float(v)

    # -- struct.size ----------------------------------------------------------------

    def size(self, *args: Any) -> int:
        f = _Format(self.libs._checkstring(args, 1, "size"))
        h = [1, 1]
        pos = 0
        while (opt := f.next()) is not None:
            size = self._optsize(opt, f)
            pos += self._toalign(pos, h[1], opt, size)
            if opt == "s":
                raise self.libs._argerror(1, "option 's' has no fixed size")
            if opt == "c" and size == 0:
                raise self.libs._argerror(1, "option 'c0' has no fixed size")
            if not (opt.isascii() and opt.isalnum()):
                self._control(opt, f, h)
            pos += size
        return pos


def _number(x: Any) -> Any:
    """A result as lupa hands it to Lua: integral floats as ints (same Lua number)."""
    if type(x) is float:
        return _lua_number(x)
    return x
