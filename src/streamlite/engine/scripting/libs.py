"""The ``cjson`` and ``bit`` libraries Redis loads into its Lua, in Python.

They follow lua-cjson 2.1 (Redis's copy: numbers as ``%.14g``, ``/`` escaped,
sparse arrays up to ratio 2 / safe 10, nesting limit 1000, ``cjson.null``) and
LuaBitOp 1.0 (32-bit signed results, ``tohex``), with their error texts.
``cmsgpack`` (``msgpack.py``) and ``struct`` (``structlib.py``) are built here too.

Every function here stands for a C function: errors are raised as
``ScriptError`` with the message ``luaL_error`` would build, position included.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runtime import Scripting

_ESCAPES = {0x22: b'\\"', 0x5C: b"\\\\", 0x2F: b"\\/", 0x08: b"\\b", 0x0C: b"\\f",
            0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t"}
_ESC_TABLE = [
    _ESCAPES.get(i, b"\\u%04x" % i if (i < 0x20 or i == 0x7F) else bytes([i])) for i in range(256)
]
_NEEDS_ESCAPE = re.compile(rb'["\\/\x00-\x1f\x7f]')
_NUMBER = re.compile(rb"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_MAX_DEPTH = 1000


@contextmanager
def _deep_recursion(limit: int = 5000) -> Iterator[None]:
    """Room for the 1000 levels of nesting lua-cjson allows (or ``limit`` frames)."""
    old = sys.getrecursionlimit()
    if old < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _g14(x: float) -> bytes:
    """C's ``%.14g``."""
    return b"%.14g" % x


class _ParseError(Exception):
    def __init__(self, expected: str, found: str, index: int) -> None:
        super().__init__()
        self.msg = f"Expected {expected} but found {found} at character {index + 1}"


class _DepthError(Exception):
    def __init__(self, depth: int, index: int) -> None:
        super().__init__()
        self.msg = f"Found too many nested data structures ({depth}) at character {index + 1}"


class Libs:
    """Builds the library tables for one Lua runtime."""

    def __init__(self, scripting: Scripting, runtime: Any) -> None:
        self.s = scripting
        self.rt = runtime
        self.null = runtime.eval(
            "(function() local u = newproxy(true)"
            " getmetatable(u).__tostring = function() return 'userdata: (nil)' end"
            " return u end)()"
        )
        self._is_null = runtime.eval("function(n) return function(v) return rawequal(v, n) end end")(
            self.null
        )
        self._type = runtime.eval("type")
        self.cjson: Any = None

    def tables(self) -> dict[bytes, Any]:
        rt = self.rt
        cjson = rt.table_from({
            b"encode": self.encode,
            b"decode": self.decode,
            b"null": self.null,
            b"encode_max_depth": self._setting,
            b"decode_max_depth": self._setting,
            b"encode_number_precision": self._setting,
            b"encode_sparse_array": self._setting,
            b"encode_invalid_numbers": self._setting,
            b"decode_invalid_numbers": self._setting,
            b"encode_keep_buffer": None,
            b"new": self._new,
            b"_NAME": b"cjson",
            b"_VERSION": b"2.1.0",
        })
        self.cjson = cjson
        bit = rt.table_from({
            b"tobit": self.tobit, b"tohex": self.tohex, b"bnot": self.bnot,
            b"band": self.band, b"bor": self.bor, b"bxor": self.bxor,
            b"lshift": self.lshift, b"rshift": self.rshift, b"arshift": self.arshift,
            b"rol": self.rol, b"ror": self.ror, b"bswap": self.bswap,
        })
        from .msgpack import CMsgPack
        from .structlib import Struct

        return {
            b"cjson": cjson,
            b"bit": bit,
            b"cmsgpack": rt.table_from(CMsgPack(self).tables()),
            b"struct": rt.table_from(Struct(self).tables()),
        }

    # -- helpers ---------------------------------------------------------------------------

    def _error(self, msg: str, where: bool = True) -> Exception:
        """luaL_error: ``msg`` raised in Lua, after the caller's position."""
        from .runtime import ScriptError

        return ScriptError((self.s._api.where() if where else b"") + msg.encode())

    def _argerror(self, i: int, msg: str) -> Exception:
        """luaL_argerror: names the function as its caller called it."""
        name = self.s._api.fname().decode("utf-8", "replace")
        return self._error(f"bad argument #{i} to '{name}' ({msg})")

    def _checkstring(self, args: tuple[Any, ...], i: int, name: str) -> bytes:
        """luaL_checklstring: a string, or a number as Lua writes it."""
        a = args[i - 1] if i <= len(args) else None
        if type(a) is bytes:
            return a
        if type(a) in (int, float):
            return self.s._api.tostring(a)  # type: ignore[no-any-return]
        got = "no value" if i > len(args) else self._typename(a)
        raise self._argerror(i, f"string expected, got {got}")

    def _checknumber(self, args: tuple[Any, ...], i: int, name: str) -> float:
        """luaL_checknumber: a number, or a string that reads as one."""
        a = args[i - 1] if i <= len(args) else None
        v = self.s._number(a)
        if v is None:
            got = "no value" if i > len(args) else self._typename(a)
            raise self._argerror(i, f"number expected, got {got}")
        return v

    def _argcheck_one(self, args: tuple[Any, ...], name: str) -> None:
        if len(args) != 1:
            raise self._error(f"bad argument #1 to '{name}' (expected 1 argument)")

    def _typename(self, v: Any) -> str:
        t = self._type(v)
        return t.decode() if isinstance(t, bytes) else str(t)

    def _setting(self, *args: Any) -> Any:
        return None  # configuration knobs: accepted, the defaults stay

    def _new(self, *args: Any) -> Any:
        return self.cjson

    # -- cjson.encode ------------------------------------------------------------------------

    def encode(self, *args: Any) -> bytes:
        self._argcheck_one(args, "encode")
        out: list[bytes] = []
        with _deep_recursion():
            self._enc(args[0], out, 0)
        return b"".join(out)

    def _enc(self, v: Any, out: list[bytes], depth: int) -> None:
        t = type(v)
        if t is bytes:
            out.append(b'"' + self._escape(v) + b'"')
        elif t is bool:
            out.append(b"true" if v else b"false")
        elif t is int or t is float:
            out.append(self._number(float(v)))
        elif v is None:
            out.append(b"null")
        else:
            lt = self._typename(v)
            if lt == "table":
                depth += 1
                if depth > _MAX_DEPTH:
                    raise self._error(f"Cannot serialise, excessive nesting ({depth})")
                n = self._array_length(v)
                if n > 0:
                    out.append(b"[")
                    for i in range(1, n + 1):
                        if i > 1:
                            out.append(b",")
                        self._enc(v[i], out, depth)  # lua_rawgeti: no metatable on our own tables
                    out.append(b"]")
                else:
                    out.append(b"{")
                    first = True
                    for k, x in v.items():
                        if not first:
                            out.append(b",")
                        first = False
                        if type(k) is bytes:
                            out.append(b'"' + self._escape(k) + b'":')
                        elif type(k) in (int, float):
                            out.append(b'"' + _g14(float(k)) + b'":')
                        else:
                            raise self._error(
                                f"Cannot serialise {self._typename(k)}: table key must be a number or string"
                            )
                        self._enc(x, out, depth)
                    out.append(b"}")
            elif lt == "userdata" and self._is_null(v):
                out.append(b"null")
            else:
                raise self._error(f"Cannot serialise {lt}: type not supported")

    def _number(self, x: float) -> bytes:
        if math.isinf(x) or math.isnan(x):
            raise self._error("Cannot serialise number: must not be NaN or Inf")
        return _g14(x)

    @staticmethod
    def _escape(s: bytes) -> bytes:
        if not _NEEDS_ESCAPE.search(s):
            return s
        return b"".join(_ESC_TABLE[c] for c in s)

    def _array_length(self, t: Any) -> int:
        """lua-cjson's ``lua_array_length``: the array size, or 0 if not an array."""
        size = 0
        count = 0
        for k in t:
            if type(k) in (int, float) and k >= 1 and math.floor(k) == k:
                size = max(size, int(k))
                count += 1
            else:
                return 0
        if size > 10 and size > count * 2:
            raise self._error("Cannot serialise table: excessively sparse array")
        return size

    # -- cjson.decode ------------------------------------------------------------------------

    def decode(self, *args: Any) -> Any:
        self._argcheck_one(args, "decode")
        s = args[0]
        if type(s) in (int, float):
            s = self.s._api.tostring(s)
        if type(s) is not bytes:
            raise self._error(
                f"bad argument #1 to 'decode' (string expected, got {self._typename(s)})"
            )
        try:
            with _deep_recursion():
                value, pos = self._value(s, 0, 0)
            kind, _, at, _ = self._token(s, pos)
            if kind != "T_END":
                raise _ParseError("the end", kind, at)
        except (_ParseError, _DepthError) as e:
            raise self._error(e.msg)
        return value

    _SINGLE = {0x7B: "T_OBJ_BEGIN", 0x7D: "T_OBJ_END", 0x5B: "T_ARR_BEGIN",
               0x5D: "T_ARR_END", 0x2C: "T_COMMA", 0x3A: "T_COLON"}
    _SIMPLE_ESC = {0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 8, 0x66: 12, 0x6E: 10, 0x72: 13,
                   0x74: 9}

    def _token(self, s: bytes, pos: int) -> tuple[str, Any, int, int]:
        """The next token after whitespace: (name, value, start, end).

        Errors are tokens named by their message, placed where lua-cjson places them.
        """
        n = len(s)
        while pos < n and s[pos] in b" \t\n\r":
            pos += 1
        if pos >= n:
            return "T_END", None, pos, pos
        c = s[pos]
        kind = self._SINGLE.get(c)
        if kind is not None:
            return kind, None, pos, pos + 1
        if c == 0x22:
            return self._string(s, pos)
        if c == 0x2D or 0x30 <= c <= 0x39:
            m = _NUMBER.match(s, pos)
            if m is None:
                return "invalid number", None, pos, pos
            return "T_NUMBER", float(m.group()), pos, m.end()
        if s.startswith(b"true", pos):
            return "T_BOOLEAN", True, pos, pos + 4
        if s.startswith(b"false", pos):
            return "T_BOOLEAN", False, pos, pos + 5
        if s.startswith(b"null", pos):
            return "T_NULL", self.null, pos, pos + 4
        return "invalid token", None, pos, pos

    def _string(self, s: bytes, pos: int) -> tuple[str, Any, int, int]:
        out = bytearray()
        i = pos + 1
        n = len(s)
        while True:
            if i >= n:
                return "unexpected end of string", None, i, i
            c = s[i]
            if c == 0x22:
                return "T_STRING", bytes(out), pos, i + 1
            if c != 0x5C:
                out.append(c)
                i += 1
                continue
            e = s[i + 1] if i + 1 < n else 0
            if e in self._SIMPLE_ESC:
                out.append(self._SIMPLE_ESC[e])
                i += 2
                continue
            if e != 0x75:
                return "invalid escape code", None, i, i
            cp, i2 = self._unicode(s, i)
            if cp is None:
                return "invalid unicode escape code", None, i, i
            out += chr(cp).encode("utf-8", "surrogatepass")
            i = i2

    @staticmethod
    def _unicode(s: bytes, i: int) -> tuple[int | None, int]:
        def hex4(j: int) -> int | None:
            h = s[j : j + 4]
            if len(h) != 4 or not all(ch in b"0123456789abcdefABCDEF" for ch in h):
                return None
            return int(h, 16)

        cp = hex4(i + 2)
        if cp is None:
            return None, i
        i += 6
        if 0xD800 <= cp <= 0xDBFF:  # a high surrogate needs its low half
            if s[i : i + 2] != b"\\u":
                return None, i
            lo = hex4(i + 2)
            if lo is None or not 0xDC00 <= lo <= 0xDFFF:
                return None, i
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
            i += 6
        elif 0xDC00 <= cp <= 0xDFFF:
            return None, i
        return cp, i

    def _value(self, s: bytes, pos: int, depth: int) -> tuple[Any, int]:
        kind, value, at, end = self._token(s, pos)
        if kind == "T_OBJ_BEGIN":
            return self._object(s, end, depth + 1)
        if kind == "T_ARR_BEGIN":
            return self._array(s, end, depth + 1)
        if kind in ("T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL"):
            return value, end
        raise _ParseError("value", kind, at)

    def _array(self, s: bytes, pos: int, depth: int) -> tuple[Any, int]:
        if depth > _MAX_DEPTH:
            raise _DepthError(depth, pos - 1)
        items: list[Any] = []
        kind, _, at, end = self._token(s, pos)
        if kind == "T_ARR_END":
            return self.rt.table_from(items), end
        while True:
            v, pos = self._value(s, pos, depth)
            items.append(v)
            kind, _, at, end = self._token(s, pos)
            if kind == "T_ARR_END":
                return self.rt.table_from(items), end
            if kind != "T_COMMA":
                raise _ParseError("comma or array end", kind, at)
            pos = end

    def _object(self, s: bytes, pos: int, depth: int) -> tuple[Any, int]:
        if depth > _MAX_DEPTH:
            raise _DepthError(depth, pos - 1)
        obj: dict[bytes, Any] = {}
        kind, key, at, end = self._token(s, pos)
        if kind == "T_OBJ_END":
            return self.rt.table_from(obj), end
        while True:
            if kind != "T_STRING":
                raise _ParseError("object key string", kind, at)
            kind, _, at, end = self._token(s, end)
            if kind != "T_COLON":
                raise _ParseError("colon", kind, at)
            v, pos = self._value(s, end, depth)
            obj[key] = v
            kind, _, at, end = self._token(s, pos)
            if kind == "T_OBJ_END":
                return self.rt.table_from(obj), end
            if kind != "T_COMMA":
                raise _ParseError("comma or object end", kind, at)
            kind, key, at, end = self._token(s, end)

    # -- bit ---------------------------------------------------------------------------------

    def _num(self, args: tuple[Any, ...], i: int, name: str) -> int:
        """LuaBitOp's ``barg``: the argument as a 32-bit pattern (round to nearest even)."""
        a = args[i - 1] if i <= len(args) else None
        x = self.s._number(a)
        if x is None:
            got = "no value" if i > len(args) else self._typename(a)
            raise self._error(f"bad argument #{i} to '{name}' (number expected, got {got})")
        if not math.isfinite(x):
            return 0
        return round(x) & 0xFFFFFFFF

    @staticmethod
    def _signed(v: int) -> int:
        v &= 0xFFFFFFFF
        return v - (1 << 32) if v & 0x80000000 else v

    def tobit(self, *args: Any) -> int:
        return self._signed(self._num(args, 1, "tobit"))

    def bnot(self, *args: Any) -> int:
        return self._signed(~self._num(args, 1, "bnot"))

    def _fold(self, args: tuple[Any, ...], name: str, op: Any) -> int:
        v = self._num(args, 1, name)
        for i in range(2, len(args) + 1):
            v = op(v, self._num(args, i, name))
        return self._signed(v)

    def band(self, *args: Any) -> int:
        return self._fold(args, "band", lambda x, y: x & y)

    def bor(self, *args: Any) -> int:
        return self._fold(args, "bor", lambda x, y: x | y)

    def bxor(self, *args: Any) -> int:
        return self._fold(args, "bxor", lambda x, y: x ^ y)

    def lshift(self, *args: Any) -> int:
        x, n = self._num(args, 1, "lshift"), self._num(args, 2, "lshift") & 31
        return self._signed(x << n)

    def rshift(self, *args: Any) -> int:
        x, n = self._num(args, 1, "rshift"), self._num(args, 2, "rshift") & 31
        return self._signed(x >> n)

    def arshift(self, *args: Any) -> int:
        x, n = self._num(args, 1, "arshift"), self._num(args, 2, "arshift") & 31
        return self._signed(self._signed(x) >> n)

    def rol(self, *args: Any) -> int:
        x, n = self._num(args, 1, "rol"), self._num(args, 2, "rol") & 31
        return self._signed((x << n) | (x >> (32 - n)))

    def ror(self, *args: Any) -> int:
        x, n = self._num(args, 1, "ror"), self._num(args, 2, "ror") & 31
        return self._signed((x >> n) | (x << (32 - n)))

    def bswap(self, *args: Any) -> int:
        x = self._num(args, 1, "bswap")
        return self._signed(int.from_bytes(x.to_bytes(4, "little"), "big"))

    def tohex(self, *args: Any) -> bytes:
        x = self._num(args, 1, "tohex")
        n = 8 if len(args) < 2 or args[1] is None else self._signed(self._num(args, 2, "tohex"))
        digits = "0123456789abcdef"
        if n < 0:
            n = -n
            digits = digits.upper()
        n = min(n, 8)
        out = []
        for _ in range(n):
            out.append(digits[x & 15])
            x >>= 4
        return "".join(reversed(out)).encode()
