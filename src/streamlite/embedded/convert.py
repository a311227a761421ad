"""Engine reply values -> the Python values redis-py's parser would hand back.

Over TCP, redis-py reads a reply with hiredis (its default parser when hiredis is
installed, as it is with streamlite) and passes the result to its response
callbacks. The embedded connection skips the wire: it converts the engine's reply
value straight into what hiredis would have produced from streamlite's own RESP
encoding of it (``streamlite.protocol.resp``), for the connection's protocol:

=================  ==============================  ==============================
engine value       RESP2 (hiredis)                 RESP3 (hiredis)
=================  ==============================  ==============================
``bytes``          bytes (str if decoding)         same
``SimpleString``   bytes (str if decoding)         same
``int``            int                             int
``None``           None                            None
``NULL_ARRAY``     None                            None
``list``/tuple     list                            list
``dict``           flat list k1 v1 ...             dict
``RespSet``        list                            list
``Double``/float   bytes "%.17g" (str if decoding) float
``bool``           1 / 0                           True / False
``Verbatim``       bytes (str if decoding)         same (no ``txt:`` prefix)
``Push``           list                            ``PushReply`` (a list)
``ErrorReply``     exception instance              exception instance
=================  ==============================  ==============================

Errors become the exception redis-py's parser builds (``parse_error``: the
``ResponseError`` subclass for the error code): raised by the connection when
it is the whole reply, left in place inside arrays (EXEC) as hiredis does.
The tests check this table against hiredis itself on random reply trees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis._parsers.base import BaseParser
from redis.exceptions import ConnectionError, ResponseError

from ..accel import speedups
from ..engine.args import format_double
from ..engine.replies import (
    NULL_ARRAY,
    Double,
    ErrorReply,
    Push,
    RespSet,
    SimpleString,
    Verbatim,
)

parse_error: Callable[[str], Exception] = BaseParser.parse_error


class PushReply(list):  # type: ignore[type-arg]
    """A RESP3 push message (pub/sub), as hiredis marks it (``PushNotification``)."""

    __slots__ = ()


def raised_by(r: Any) -> Exception | None:
    """The exception redis-py raises for a converted reply, if any.

    Error replies (``ResponseError`` and its subclasses) are raised by the
    connection; those redis-py maps to a ``ConnectionError`` (NOAUTH, WRONGPASS:
    ``AuthenticationError``) are raised by its parser, also as the first element
    of an array, and cost the connection.
    """
    if isinstance(r, (ResponseError, ConnectionError)):
        return r
    if type(r) is list and r and isinstance(r[0], ConnectionError):
        return r[0]
    return None


def error_of(v: bytes) -> Exception:
    """The redis-py exception for an error reply's text."""
    text = v.decode("utf-8", "replace")
    if "\r" in text or "\n" in text:  # the RESP encoder flattens these
        text = text.replace("\r", " ").replace("\n", " ")
    return parse_error(text)


def convert(v: Any, proto: int, encoding: str | None, errors: str = "strict") -> Any:
    """``v`` as hiredis would return it; ``encoding`` set = decode_responses.

    Without decoding, the C accelerator's twin does the common types (bytes, ints,
    lists, nulls, status replies) and hands the rest back to ``convert_py``."""
    if encoding is None and _convert_c is not None:
        return _convert_c(v, proto)
    return convert_py(v, proto, encoding, errors)


def convert_py(v: Any, proto: int, encoding: str | None, errors: str = "strict") -> Any:
    """``convert`` in pure Python (the reference and the fallback)."""
    t = type(v)
    if t is bytes:
        return v.decode(encoding, errors) if encoding else v
    if t is int:
        return v
    if t is list:
        # leaves inline: stream replies are lists of lists of bulk strings
        out_list: list[Any] = []
        add = out_list.append
        if encoding is None:
            # without decoding, one level more inline: an entry [id, [field, value ...]]
            # costs one call instead of two
            for x in v:
                tx = type(x)
                if tx is bytes or tx is int:
                    add(x)
                elif tx is list:
                    inner: list[Any] = []
                    iadd = inner.append
                    for y in x:
                        ty = type(y)
                        if ty is bytes or ty is int:
                            iadd(y)
                        else:
                            iadd(convert(y, proto, None, errors))
                    add(inner)
                else:
                    add(convert(x, proto, None, errors))
            return out_list
        for x in v:
            tx = type(x)
            if tx is bytes:
                add(x.decode(encoding, errors) if encoding else x)
            elif tx is int:
                add(x)
            else:
                add(convert(x, proto, encoding, errors))
        return out_list
    if v is None or v is NULL_ARRAY:
        return None
    if t is SimpleString or t is Verbatim:
        return v.decode(encoding, errors) if encoding else bytes(v)
    if t is ErrorReply:
        return error_of(v)
    if t is dict:
        if proto == 3:
            out: dict[Any, Any] = {}
            for k, x in v.items():
                ck = convert(k, proto, encoding, errors)
                if type(ck) is list:  # hiredis cannot key a dict by a list; we can
                    ck = tuple(ck)
                out[ck] = convert(x, proto, encoding, errors)
            return out
        flat: list[Any] = []
        for k, x in v.items():
            flat.append(convert(k, proto, encoding, errors))
            flat.append(convert(x, proto, encoding, errors))
        return flat
    if t is bool:
        return v if proto == 3 else int(v)
    if t is Double or t is float:
        if v != v:  # NaN: no Redis reply carries one; keep it as it is
            return float(v) if proto == 3 else (b"nan" if not encoding else "nan")
        if proto == 3:
            return float(format_double(v))
        s = format_double(v)
        return s.decode(encoding, errors) if encoding else s
    if t is RespSet or t is tuple:
        return [convert(x, proto, encoding, errors) for x in v]
    if t is Push:
        items = [convert(x, proto, encoding, errors) for x in v]
        return PushReply(items) if proto == 3 else items
    # what the RESP encoder also accepts
    if isinstance(v, bytes):
        return convert(bytes(v), proto, encoding, errors)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        return v if encoding else v.encode()
    raise TypeError(f"cannot convert reply of type {t.__name__}")


_convert_c: Callable[[Any, int], Any] | None = None
if speedups is not None:
    speedups.setup_convert(SimpleString=SimpleString, Verbatim=Verbatim, NULL_ARRAY=NULL_ARRAY,
                           fallback=convert_py)
    _convert_c = speedups.convert
