"""Encode engine reply values (see ``streamlite.engine.replies``) as RESP2 or RESP3.

``encode_py`` is the reference; ``encode`` is its compiled twin from the C
accelerator when that is active (``streamlite.accel``), which does the common
types itself and hands the rest (doubles, big numbers, verbatim text, subclasses)
back to ``encode_py`` value by value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..accel import speedups
from ..engine.args import format_double
from ..engine.replies import (
    NULL_ARRAY,
    BigNumber,
    Double,
    ErrorReply,
    MultiReply,
    Push,
    RawResp,
    RespSet,
    SimpleString,
    Verbatim,
)

# built with map (no Python-level loop): a quarter less of the module's import time
_INT_CACHE = list(map(b":%d\r\n".__mod__, range(10000)))
_LEN_CACHE = list(map(b"$%d\r\n".__mod__, range(1024)))
_ARR_CACHE = list(map(b"*%d\r\n".__mod__, range(1024)))


def _encode_into(out: list[bytes], v: Any, proto: int) -> None:
    t = type(v)
    if t is bytes:
        n = len(v)
        out.append(_LEN_CACHE[n] if n < 1024 else b"$%d\r\n" % n)
        out.append(v)
        out.append(b"\r\n")
    elif t is int:
        out.append(_INT_CACHE[v] if 0 <= v < 10000 else b":%d\r\n" % v)
    elif t is list or t is tuple:
        n = len(v)
        out.append(_ARR_CACHE[n] if n < 1024 else b"*%d\r\n" % n)
        for x in v:  # bulk strings inline: stream entries are lists of lists of them
            tx = type(x)
            if tx is bytes:
                n = len(x)
                out += (_LEN_CACHE[n] if n < 1024 else b"$%d\r\n" % n, x, b"\r\n")
            elif tx is list:
                n = len(x)
                out.append(_ARR_CACHE[n] if n < 1024 else b"*%d\r\n" % n)
                for y in x:
                    if type(y) is bytes:
                        n = len(y)
                        out += (_LEN_CACHE[n] if n < 1024 else b"$%d\r\n" % n, y, b"\r\n")
                    else:
                        _encode_into(out, y, proto)
            else:
                _encode_into(out, x, proto)
    elif t is SimpleString:
        out.append(b"+" + v + b"\r\n")
    elif t is ErrorReply:
        out.append(b"-" + v.replace(b"\r", b" ").replace(b"\n", b" ") + b"\r\n")
    elif t is RawResp:
        out.append(bytes(v))
    elif v is None:
        out.append(b"_\r\n" if proto == 3 else b"$-1\r\n")
    elif v is NULL_ARRAY:
        out.append(b"_\r\n" if proto == 3 else b"*-1\r\n")
    elif t is dict:
        if proto == 3:
            out.append(b"%%%d\r\n" % len(v))
        else:
            out.append(b"*%d\r\n" % (2 * len(v)))
        for k, x in v.items():
            _encode_into(out, k, proto)
            _encode_into(out, x, proto)
    elif t is bool:
        if proto == 3:
            out.append(b"#t\r\n" if v else b"#f\r\n")
        else:
            out.append(b":1\r\n" if v else b":0\r\n")
    elif t is Double or t is float:
        if proto == 3:
            s = format_double(v)
            if s == b"-inf" or s == b"inf":
                out.append(b"," + s + b"\r\n")
            else:
                out.append(b"," + s + b"\r\n")
        else:
            _encode_into(out, format_double(v), proto)
    elif t is RespSet:
        out.append((b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(v))
        for x in v:
            _encode_into(out, x, proto)
    elif t is Push:
        out.append((b">%d\r\n" if proto == 3 else b"*%d\r\n") % len(v))
        for x in v:
            _encode_into(out, x, proto)
    elif t is MultiReply:  # several replies back to back (SUBSCRIBE a b)
        for x in v:
            _encode_into(out, x, proto)
    elif t is BigNumber:
        if proto == 3:
            out.append(b"(" + v + b"\r\n")
        else:
            _encode_into(out, bytes(v), proto)
    elif t is Verbatim:
        if proto == 3:
            out.append(b"=%d\r\ntxt:" % (len(v) + 4))
            out.append(v)
            out.append(b"\r\n")
        else:
            _encode_into(out, bytes(v), proto)
    elif isinstance(v, bytes):  # other bytes subclasses
        _encode_into(out, bytes(v), proto)
    elif isinstance(v, int):
        _encode_into(out, int(v), proto)
    elif isinstance(v, str):
        _encode_into(out, v.encode(), proto)
    else:
        raise TypeError(f"cannot encode reply of type {t.__name__}")


def encode_py(v: Any, proto: int = 2) -> bytes:
    """The RESP bytes for one reply value."""
    t = type(v)
    if t is bytes:
        n = len(v)
        return b"$%d\r\n%b\r\n" % (n, v)
    if t is int:
        return _INT_CACHE[v] if 0 <= v < 10000 else b":%d\r\n" % v
    if t is SimpleString:
        return b"+%b\r\n" % v
    out: list[bytes] = []
    _encode_into(out, v, proto)
    return b"".join(out)


def encode_bounded(v: list[Any], proto: int, limit: int, step: int = 256) -> bytes | None:
    """``encode(v)`` for a long array, or None as soon as its encoding passes ``limit``
    bytes: encoded ``step`` elements at a time, so a reply never grows much beyond what
    the client's output limit allows (the caller then closes the client)."""
    n = len(v)
    out: list[bytes] = [_ARR_CACHE[n] if n < 1024 else b"*%d\r\n" % n]
    size = len(out[0])
    for i in range(0, n, step):
        start = len(out)
        for x in v[i:i + step]:
            _encode_into(out, x, proto)
        size += sum(map(len, out[start:]))
        if size > limit:
            return None
    return b"".join(out)


encode: Callable[[Any, int], bytes] = encode_py
if speedups is not None:
    speedups.setup(SimpleString=SimpleString, ErrorReply=ErrorReply, RespSet=RespSet, Push=Push,
                   MultiReply=MultiReply, RawResp=RawResp, NULL_ARRAY=NULL_ARRAY,
                   fallback=encode_py)
    encode = speedups.encode


def encode_command(argv: list[bytes]) -> bytes:
    """A command as a RESP array of bulk strings (AOF, client requests)."""
    out = [b"*%d\r\n" % len(argv)]
    for a in argv:
        out.append(b"$%d\r\n" % len(a))
        out.append(a)
        out.append(b"\r\n")
    return b"".join(out)
