"""Conversions between engine replies and Lua values, with Redis's exact rules.

Reply -> Lua (what ``redis.call`` returns; Redis's ``redisProtocolToLuaType``),
depending on the script's protocol (``redis.setresp``, 2 by default):

==================  ==================  ==========================================
reply               RESP2 script        RESP3 script
==================  ==================  ==========================================
integer             number              number
bulk string         string              string
null bulk / array   false               nil
status              ``{ok=s}``          ``{ok=s}``
error               ``{err=s}``         ``{err=s}``
array               table               table
map                 flat table          ``{map={k=v}}``
set                 table               ``{set={m=true}}``
double              string              ``{double=n}``
boolean             1 / 0 (number)      true / false
big number          string              ``{big_number=s}``
verbatim            string              ``{verbatim_string={format=, string=}}``
==================  ==================  ==========================================

Lua -> reply (what a script returns; Redis's ``luaReplyToRedisReply``): string ->
bulk; number -> integer (C cast: truncated, LLONG_MIN out of range); boolean ->
RESP2 script: true = 1, false = null, RESP3 script: boolean; nil -> null; a table
is an error if ``err`` is a string, a status if ``ok`` is, then ``double``,
``big_number``, ``verbatim_string``, ``map``, ``set``, else an array of
``t[1], t[2] ...`` up to the first nil. Anything else -> null.
"""

from __future__ import annotations

from typing import Any

from ..replies import (
    NULL_ARRAY,
    BigNumber,
    Double,
    ErrorReply,
    MultiReply,
    Push,
    RespSet,
    SimpleString,
    Verbatim,
)
from .numbers import to_long_long


def error_fields(text: bytes) -> bytes:
    """Redis's ``luaPushErrorBuff``: ``-CODE msg`` or ``msg`` -> ``CODE msg``."""
    if text[:1] == b"-":
        sp = text.find(b" ")
        if sp < 0:
            code, msg = b"ERR", text[1:]
        else:
            code, msg = text[1:sp], text[sp + 1 :]
    else:
        code, msg = b"ERR", text
    return code + b" " + msg.strip(b"\r\n")


class Converter:
    """Bound to one Lua runtime (tables are created in it)."""

    def __init__(self, runtime: Any, api: Any) -> None:
        self.table_from = runtime.table_from
        self.rawget = api.rawget
        self.tostring = api.tostring

    # -- reply -> Lua -----------------------------------------------------------------

    def error_table(self, text: bytes) -> Any:
        """An error reply's text (``CODE msg``) as the ``{err=...}`` table."""
        return self.table_from(
            {b"err": error_fields(b"-" + text), b"ignore_error_stats_update": True}
        )

    def to_lua(self, v: Any, resp: int) -> Any:
        t = type(v)
        if t is bytes:
            return v
        if t is int:
            return v
        if t is list or t is tuple or t is Push or t is MultiReply:
            return self.table_from([self.to_lua(x, resp) for x in v])
        if t is SimpleString:
            return self.table_from({b"ok": bytes(v)})
        if t is ErrorReply:
            return self.error_table(bytes(v))
        if v is None or v is NULL_ARRAY:
            return None if resp == 3 else False
        if t is bool:
            return v if resp == 3 else int(v)
        if t is dict:
            if resp == 3:
                m = self.table_from({})
                for k, x in v.items():
                    m[self.to_lua(k, resp)] = self.to_lua(x, resp)
                return self.table_from({b"map": m})
            flat: list[Any] = []
            for k, x in v.items():
                flat.append(self.to_lua(k, resp))
                flat.append(self.to_lua(x, resp))
            return self.table_from(flat)
        if t is RespSet:
            if resp == 3:
                s = self.table_from({})
                for x in v:
                    s[self.to_lua(x, resp)] = True
                return self.table_from({b"set": s})
            return self.table_from([self.to_lua(x, resp) for x in v])
        if t is Double or t is float:
            if resp == 3:
                return self.table_from({b"double": float(v)})
            from ..args import format_double

            return format_double(float(v))
        if t is Verbatim:
            if resp == 3:
                inner = self.table_from({b"format": b"txt", b"string": bytes(v)})
                return self.table_from({b"verbatim_string": inner})
            return bytes(v)
        if t is BigNumber:
            if resp == 3:
                return self.table_from({b"big_number": bytes(v)})
            return bytes(v)
        if isinstance(v, bytes):
            return bytes(v)
        if isinstance(v, int):
            return int(v)
        if isinstance(v, str):
            return v.encode()
        raise TypeError(f"cannot convert reply of type {t.__name__} for Lua")

    # -- Lua -> reply -----------------------------------------------------------------

    def to_reply(self, v: Any, resp: int) -> Any:
        t = type(v)
        if t is bytes:
            return v
        if t is bool:
            if resp == 3:
                return v
            return 1 if v else None
        if t is int or t is float:
            return to_long_long(v)
        if v is None:
            return None
        if _lua_type(v) != "table":
            return None
        get = self.rawget
        err = get(v, b"err")
        if type(err) is bytes:
            return ErrorReply(err)
        ok = get(v, b"ok")
        if type(ok) is bytes:
            return SimpleString(ok.replace(b"\r", b" ").replace(b"\n", b" "))
        dbl = get(v, b"double")
        if type(dbl) is int or type(dbl) is float:
            return Double(float(dbl))
        big = get(v, b"big_number")
        if type(big) is bytes:
            return BigNumber(big.replace(b"\r", b" ").replace(b"\n", b" "))
        verb = get(v, b"verbatim_string")
        if _lua_type(verb) == "table":
            fmt = get(verb, b"format")
            s = get(verb, b"string")
            if type(fmt) is bytes and type(s) is bytes:
                return Verbatim(s)
        m = get(v, b"map")
        if _lua_type(m) == "table":
            out: dict[Any, Any] = {}
            for k, x in m.items():  # lua_next order, as Redis
                out[_hashable(self.to_reply(k, resp))] = self.to_reply(x, resp)
            return out
        s = get(v, b"set")
        if _lua_type(s) == "table":
            return RespSet([self.to_reply(k, resp) for k in s])
        arr: list[Any] = []
        j = 1
        while True:
            x = get(v, j)
            if x is None:
                break
            arr.append(self.to_reply(x, resp))
            j += 1
        return arr


def _lua_type(v: Any) -> str | None:
    from lupa import lua51

    return lua51.lua_type(v)  # type: ignore[no-any-return]


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple((k, _hashable(x)) for k, x in v.items())
    return v
