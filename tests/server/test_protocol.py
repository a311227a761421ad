"""The wire protocol: pipelining, inline commands, protocol errors byte for byte as
Redis 8.2 sends them (each case on a fresh socket, read until the server closes or
goes quiet)."""

from __future__ import annotations

import socket

import pytest
from tests.server.conftest import send_raw

pytestmark = pytest.mark.redis

CLOSING = [
    b"*x\r\n",
    b"*3000000000\r\n",
    b"*2\r\n:1\r\n+OK\r\n",
    b"*1\r\n$-1\r\n",
    b"*1\r\n$x\r\n",
    b"*1\r\n$600000000\r\n",
    b"*2\r\n$4\r\nECHO\r\n*1\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\n%1\r\n",
    b'ECHO "unbalanced\r\n',
    b'ECHO "a"b\r\n',
    b"ECHO 'a'b\r\n",
    b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n",
    b"*1\r\n$4\r\nPING\r\nECHO \"x\r\n",
    b"x" * 70000,
    b"*" + b"1" * 70000,
    b"*1\r\n$" + b"1" * 70000,
    b"A\x00B\r\n" + b"PING\r\n" * 12000,  # the NUL's line grows past 64 KB
]

QUIET = [
    b"*1\r\n$4\r\nPING\r\n",
    b"PING\r\n",
    b"ping\n",
    b"\r\n\r\n\n",
    b'ECHO "a b"\r\nECHO \'c\\\'d\'\r\nECHO "\\x41\\n\\t"\r\n',
    b"ECHO   spaced   \r\n",
    b"*0\r\n*-1\r\nPING\r\n",
    b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
    b"*1\r\n$4\r\nPI",  # incomplete: nothing
    b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    b"NOSUCH a b\r\n",
    b"*3\r\n$4\r\nECHO\r\n$1\r\na\r\n$1\r\nb\r\n",
    # a NUL before an inline line's newline: Redis's strchr never finds the newline, so
    # nothing is answered (the server once looped forever here)
    b"A\x00B\r\nPING\r\n",
    b"PING\r\nECHO a\x00 b\r\nPING\r\n",
    b"ECHO \"a\x00b\"\r\nPING\r\n",
    b"\x00\r\nPING\r\n",
]


@pytest.mark.parametrize("data", CLOSING, ids=lambda d: repr(d[:24]))
def test_protocol_errors_close_like_redis(redis_server, sl, data):
    expected = send_raw(redis_server.port, data, until_closed=True)
    got = send_raw(sl.port, data, until_closed=True)
    assert got == expected


@pytest.mark.parametrize("data", QUIET, ids=lambda d: repr(d[:24]))
def test_requests_answered_like_redis(redis_server, sl, data):
    assert send_raw(sl.port, data) == send_raw(redis_server.port, data)


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(1 << 16)
        assert chunk, "connection closed early"
        buf += chunk
    return buf


def test_thousands_of_pipelined_commands_in_one_write(sl):
    n = 5000
    req = b"".join(b"*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(n))
    expected = b"".join(b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(n))
    with socket.create_connection(("127.0.0.1", sl.port)) as s:
        s.settimeout(20)
        s.sendall(req)
        assert _read_exact(s, len(expected)) == expected


def test_command_split_across_many_writes(sl):
    req = b"*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n"
    with socket.create_connection(("127.0.0.1", sl.port)) as s:
        s.settimeout(10)
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
        assert _read_exact(s, 18) == b"$11\r\nhello world\r\n"
        s.sendall(b"PING\r\n")  # inline after RESP on the same connection
        assert _read_exact(s, 7) == b"+PONG\r\n"
        s.sendall(b"*1\r\n$4\r\nPING\r\n")  # and back
        assert _read_exact(s, 7) == b"+PONG\r\n"


def test_large_argument(sl):
    value = b"v" * (3 * 1024 * 1024)
    req = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%b\r\n" % (len(value), value)
    with socket.create_connection(("127.0.0.1", sl.port)) as s:
        s.settimeout(20)
        s.sendall(req + b"*1\r\n$4\r\nPING\r\n")
        header = b"$%d\r\n" % len(value)
        got = _read_exact(s, len(header) + len(value) + 2 + 7)
        assert got == header + value + b"\r\n+PONG\r\n"
