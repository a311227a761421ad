"""Exact reply bytes for differential tests: hiredis maps ``$-1``/``*-1`` and arrays/sets
alike, so reply *shapes* (null bulk vs null array, RESP3 set vs array) are compared raw."""

from __future__ import annotations

import socket
from typing import Any

from streamlite.protocol.resp import encode, encode_command


def _reply_end(buf: bytes, i: int) -> int:
    """Index just past the RESP2/RESP3 reply starting at ``buf[i]``; -1 if incomplete."""
    nl = buf.find(b"\r\n", i)
    if nl < 0:
        return -1
    t = buf[i : i + 1]
    head = buf[i + 1 : nl]
    j = nl + 2
    if t in (b"+", b"-", b":", b",", b"_", b"#", b"("):
        return j
    if t in (b"$", b"=", b"!"):
        n = int(head)
        if n < 0:
            return j
        return j + n + 2 if len(buf) >= j + n + 2 else -1
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(head)
        if n < 0:
            return j
        if t in (b"%", b"|"):
            n *= 2
        for _ in range(n):
            j = _reply_end(buf, j)
            if j < 0:
                return -1
        return j
    raise ValueError(f"bad RESP type byte {t!r}")


class RawConn:
    """A raw socket to a real server returning each reply's exact bytes."""

    def __init__(self, port: int, protocol: int = 2) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        if protocol == 3:
            self.call("HELLO", "3")

    def send(self, *argv: Any) -> None:
        args = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        self.sock.sendall(encode_command(args))

    def read(self) -> bytes:
        while True:
            if self.buf:
                end = _reply_end(self.buf, 0)
                if end >= 0:
                    out, self.buf = self.buf[:end], self.buf[end:]
                    return out
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("server closed the connection")
            self.buf += data

    def call(self, *argv: Any) -> bytes:
        self.send(*argv)
        return self.read()

    def close(self) -> None:
        self.sock.close()


class RawEngine:
    """The engine behind the same interface, replies encoded by streamlite's encoder."""

    def __init__(self, engine: Any, protocol: int = 2) -> None:
        self.engine = engine
        self.client = engine.client()
        self.client.protocol = protocol

    def call(self, *argv: Any) -> bytes:
        args = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        return encode(self.engine.execute(self.client, args), self.client.protocol)
