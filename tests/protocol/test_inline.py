"""The inline splitter on bytes (no sockets): Redis's ``sdssplitargs`` rules, NULs included."""

from __future__ import annotations

import pytest

from streamlite.protocol.inline import split_args
from streamlite.protocol.request import RequestError, RequestParser


@pytest.mark.parametrize(
    ("line", "args"),
    [
        (b"A\x00B", [b"A"]),
        (b"\x00", []),
        (b"ECHO a\x00 b", [b"ECHO", b"a"]),
        (b'ECHO "a\x00b"', None),  # the NUL ends the line inside the quotes
        (b"ECHO 'a\x00b'", None),
        (b'SET k "\\x00"', [b"SET", b"k", b"\x00"]),  # an escaped NUL is data
    ],
)
def test_nul_ends_the_line(line, args):
    assert split_args(line) == args


def test_parser_waits_at_an_inline_nul():
    """Redis finds an inline request's newline with strchr: a NUL before it hides the
    newline, so the request waits for more data (the server does not hang) until the
    pending bytes pass 64K, then it is a protocol error."""
    p = RequestParser()
    p.feed(b"A\x00B\r\nPING\r\n")
    assert p.get() is None
    assert p.get() is None
    p.feed(b"x" * (64 * 1024))
    with pytest.raises(RequestError, match="too big inline request"):
        p.get()


def test_parser_nul_after_the_newline_is_the_next_request():
    p = RequestParser()
    p.feed(b"PING\r\nA\x00B\r\n")
    assert p.get() == [b"PING"]
    assert p.get() is None
