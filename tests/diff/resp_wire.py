"""Byte-exact transcripts of several connections, on a real Redis and on the engine.

Each side offers ``send(*argv)`` and ``until_ping()``; a ``Session`` runs a step on
one connection, then puts a PING "barrier" on every connection and collects what
each received before the PING's reply, as a list of raw RESP messages. Because
the barrier is sent only after the step's own replies arrived, everything the
step caused (replies, pub/sub messages to other connections) is before it:
the transcripts are deterministic, with no sleeps.

The engine side follows the front contract documented in
``streamlite.engine.pubsub``: a ``MultiReply`` is written as several
replies, pushes for the client whose command is running are written after the
reply, pushes for other clients at once.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from streamlite.engine import Engine
from streamlite.protocol.resp import encode, encode_command

TOKEN = b"__barrier__"
_PONGS = (b"$11\r\n__barrier__\r\n", b"*2\r\n$4\r\npong\r\n$11\r\n__barrier__\r\n")


def _line_end(buf: bytes, pos: int) -> int:
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise IndexError
    return end


def message_end(buf: bytes, pos: int = 0) -> int:
    """Offset just after the RESP value starting at ``pos`` (IndexError if incomplete)."""
    if pos >= len(buf):
        raise IndexError
    t = buf[pos : pos + 1]
    end = _line_end(buf, pos)
    if t in (b"+", b"-", b":", b",", b"#", b"_", b"("):
        return end + 2
    n = int(buf[pos + 1 : end])
    if t in (b"$", b"=", b"!"):
        if n < 0:
            return end + 2
        stop = end + 2 + n + 2
        if stop > len(buf):
            raise IndexError
        return stop
    if t in (b"*", b">", b"~", b"%", b"|"):
        if n < 0:
            return end + 2
        count = n * 2 if t in (b"%", b"|") else n
        p = end + 2
        for _ in range(count):
            p = message_end(buf, p)
        return p
    raise ValueError(f"not RESP at {pos}: {buf[pos:pos + 20]!r}")


def split_messages(buf: bytes) -> tuple[list[bytes], bytes]:
    """Complete messages in ``buf`` and the incomplete rest."""
    out: list[bytes] = []
    pos = 0
    while True:
        try:
            end = message_end(buf, pos)
        except IndexError:
            return out, buf[pos:]
        out.append(buf[pos:end])
        pos = end


class RedisWire:
    """A raw connection to a real server."""

    def __init__(self, port: int, protocol: int = 2) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(10)
        self.buf = b""
        if protocol == 3:
            self.send("HELLO", "3")
            self._read_one()

    def send(self, *argv: Any) -> None:
        self.sock.sendall(encode_command([_b(a) for a in argv]))

    def _read_one(self) -> bytes:
        while True:
            msgs, rest = split_messages(self.buf)
            if msgs:
                self.buf = self.buf[len(msgs[0]) :]
                return msgs[0]
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed")
            self.buf += data

    def until_ping(self) -> list[bytes]:
        self.send("PING", TOKEN)
        out: list[bytes] = []
        while True:
            m = self._read_one()
            if m in _PONGS:
                return out
            out.append(m)

    def close(self) -> None:
        self.sock.close()


class EngineWire:
    """The same on the engine, bytes produced the way the server front writes them."""

    def __init__(self, engine: Engine, protocol: int = 2) -> None:
        self.engine = engine
        self.client = engine.client()
        self.client.protocol = protocol
        self.client.push = self._push
        self.out: list[bytes] = []
        self._running = False
        self._held: list[Any] = []

    def _push(self, msg: Any) -> None:
        if self._running:
            self._held.append(msg)
        else:
            self.out.append(encode(msg, self.client.protocol))

    def send(self, *argv: Any) -> None:
        self._running = True
        try:
            reply = self.engine.execute(self.client, [_b(a) for a in argv])
        finally:
            self._running = False
        self.out.append(encode(reply, self.client.protocol))
        for m in self._held:
            self.out.append(encode(m, self.client.protocol))
        self._held.clear()

    def read_all(self) -> list[bytes]:
        msgs, rest = split_messages(b"".join(self.out))
        assert rest == b""
        self.out.clear()
        return msgs

    def until_ping(self) -> list[bytes]:
        self.send("PING", TOKEN)
        msgs, rest = split_messages(b"".join(self.out))
        assert rest == b""
        self.out.clear()
        assert msgs and msgs[-1] in _PONGS, msgs
        return msgs[:-1]

    def close(self) -> None:
        self.engine.drop_client(self.client)


def _b(a: Any) -> bytes:
    return a if isinstance(a, bytes) else str(a).encode()


class Session:
    """The same steps on N Redis connections and N engine connections."""

    def __init__(self, port: int, engine: Engine, protocols: list[int]) -> None:
        self.redis = [RedisWire(port, p) for p in protocols]
        self.eng = [EngineWire(engine, p) for p in protocols]
        self.in_multi = [False] * len(protocols)

    def step(self, who: int, *argv: Any) -> tuple[list[list[bytes]], list[list[bytes]]]:
        self.redis[who].send(*argv)
        self.eng[who].send(*argv)
        name = str(argv[0]).upper()
        ends = name in ("EXEC", "DISCARD", "RESET")
        if (self.in_multi[who] and not ends) or name == "MULTI":  # a barrier would be queued
            r = [[self.redis[who]._read_one()]]
            e = [self.eng[who].read_all()]
        else:
            r = [self.redis[who].until_ping()]
            e = [self.eng[who].until_ping()]
        if name == "MULTI" and r[0] == [b"+OK\r\n"]:
            self.in_multi[who] = True
        elif name in ("EXEC", "DISCARD", "RESET"):
            self.in_multi[who] = False
        for i in range(len(self.redis)):
            if i != who:
                r.append(self.redis[i].until_ping())
                e.append(self.eng[i].until_ping())
        return r, e

    def run(self, steps: list[tuple[Any, ...]], unordered: bool = False) -> None:
        """Run ``(who, *argv)`` steps; assert identical transcripts after each.

        ``unordered`` compares each connection's messages as a multiset (for
        what Redis orders by its hash tables, like several matching patterns).
        """
        for n, (who, *argv) in enumerate(steps):
            if who == "sleep":  # let time pass: really on Redis, on the engine's fake clock
                time.sleep(argv[0] / 1000)
                self.eng[0].engine.clock.advance(argv[0])  # type: ignore[attr-defined]
                continue
            r, e = self.step(who, *argv)
            if unordered:
                r = [sorted(x) for x in r]
                e = [sorted(x) for x in e]
            assert r == e, f"step {n}: conn {who} {argv!r}\n  redis:      {r!r}\n  streamlite: {e!r}"

    def close(self) -> None:
        for c in self.redis:
            c.close()
        for w in self.eng:
            w.close()
