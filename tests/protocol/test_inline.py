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


def test_a_nul_before_the_newline_never_completes_the_line():
    """As Redis, whose strchr for the newline stops at the NUL: no command, and
    past 64 KB of input the protocol error (the parser once looped forever here)."""
    p = RequestParser()
    p.feed(b"A\x00B\r\nPING\r\n")
    assert p.get() is None
    assert p.get() is None
    p.feed(b"x" * (64 * 1024))
    with pytest.raises(RequestError, match="too big inline request"):
        p.get()


def test_a_nul_after_the_newline_belongs_to_the_next_line():
    p = RequestParser()
    p.feed(b"PING\r\nA\x00B\r\n")
    assert p.get() == [b"PING"]
    assert p.get() is None
