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


@pytest.mark.parametrize("step", [1, 7, 4096, 300_000, 1 << 20])
def test_big_argument_in_pieces(step):
    """A bulk of BIG_ARG bytes or more is gathered apart from the buffer: whatever the
    read sizes, the command and the ones around it come out whole."""
    from streamlite.protocol.request import BIG_ARG

    val = bytes(range(256)) * ((BIG_ARG + 1000) // 256)
    stream = (b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % len(val) + val
              + b"\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
    p = RequestParser()
    got = []
    if step == 1:  # byte by byte is slow on 256K: the head and tail byte by byte only
        pieces = [stream[i:i + 1] for i in range(64)] + [stream[64:-64]] + \
            [stream[i:i + 1] for i in range(len(stream) - 64, len(stream))]
    else:
        pieces = [stream[i:i + step] for i in range(0, len(stream), step)]
    for piece in pieces:
        p.feed(piece)
        while (cmd := p.get()) is not None:
            got.append(cmd)
    assert got == [[b"PING"], [b"SET", b"k", val], [b"PING"], [b"ECHO", b"hi"]]
    assert p.pending() == 0 and not p.in_command()
