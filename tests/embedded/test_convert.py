"""Reply conversion = what hiredis makes of streamlite's own RESP encoding, for any reply."""

from __future__ import annotations

from typing import Any

import hiredis
from hypothesis import given, settings
from hypothesis import strategies as st
from redis._parsers.base import BaseParser

from streamlite.embedded.convert import PushReply, convert
from streamlite.engine.replies import (
    NULL_ARRAY,
    Double,
    ErrorReply,
    Push,
    RespSet,
    SimpleString,
    Verbatim,
)
from streamlite.protocol.resp import encode

_text = st.binary(max_size=12).filter(lambda b: b"\r" not in b and b"\n" not in b)
_utf8 = st.text(max_size=8).map(str.encode)
_scalars = st.one_of(
    st.binary(max_size=20),
    _utf8,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.none(),
    st.just(NULL_ARRAY),
    _utf8.filter(lambda b: b"\r" not in b and b"\n" not in b).map(SimpleString),
    st.sampled_from([b"ERR syntax error", b"WRONGTYPE Operation against a key",
                     b"NOSCRIPT No matching script.", b"EXECABORT Transaction discarded",
                     b"BUSYGROUP Consumer Group name already exists", b"NOGROUP x"]).map(ErrorReply),
    st.floats(allow_nan=False).map(Double),
    st.booleans(),
    _utf8.map(Verbatim),
)


def _trees(children: Any) -> Any:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(RespSet),
        # keys stay distinct once decoded (undecodable bytes would all become U+FFFD)
        st.dictionaries(st.one_of(_utf8, st.integers(-5, 5)), children, max_size=3),
    )


replies = st.recursive(_scalars, _trees, max_leaves=12)


def _hiredis(v: Any, proto: int, encoding: str | None) -> Any:
    kw: dict[str, Any] = {"replyError": BaseParser.parse_error, "notEnoughData": Ellipsis}
    if encoding:
        kw["encoding"] = encoding
        kw["errors"] = "replace"
    r = hiredis.Reader(**kw)
    r.feed(encode(v, proto))
    return r.gets()


def _norm(v: Any) -> Any:
    if isinstance(v, Exception):
        return ("exc", type(v).__name__, str(v))
    if isinstance(v, float) and v == 0:
        return 0.0
    if isinstance(v, list):
        return (type(v).__name__ == "PushNotification" or type(v) is PushReply,
                [_norm(x) for x in v])
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


@settings(max_examples=400, deadline=None)
@given(replies, st.sampled_from([2, 3]), st.sampled_from([None, "utf-8"]))
def test_convert_matches_hiredis(v, proto, encoding):
    got = convert(v, proto, encoding, "replace")
    want = _hiredis(v, proto, encoding)
    assert _norm(got) == _norm(want)


def test_push_is_marked_only_in_resp3():
    msg = Push([b"message", b"ch", b"hi"])
    assert type(convert(msg, 3, None)) is PushReply
    assert type(convert(msg, 2, None)) is list
    assert _norm(convert(msg, 3, None)) == _norm(_hiredis(msg, 3, None))


def test_error_classes_follow_redis_py():
    from redis.exceptions import ExecAbortError, NoScriptError, ResponseError

    assert type(convert(ErrorReply(b"NOSCRIPT No matching script."), 2, None)) is NoScriptError
    assert type(convert(ErrorReply(b"EXECABORT Transaction discarded"), 2, None)) is ExecAbortError
    e = convert(ErrorReply(b"ERR syntax error"), 2, None)
    assert type(e) is ResponseError and str(e) == "syntax error"
    nested = convert([1, ErrorReply(b"WRONGTYPE Operation")], 2, None)
    assert nested[0] == 1 and type(nested[1]) is ResponseError
