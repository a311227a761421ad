"""The inline splitter on bytes (no sockets): Redis's ``sdssplitargs`` rules, NULs included."""

from __future__ import annotations

import pytest

from streamlite.protocol.inline import split_args
from streamlite.protocol.request import RequestParser


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


def test_parser_moves_past_an_inline_nul():
    p = RequestParser()
    p.feed(b"A\x00B\r\nPING\r\n")
    assert p.get() == [b"A"]
    assert p.get() == [b"PING"]
    assert p.get() is None
