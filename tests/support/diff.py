"""Differential testing: run the same commands on a real redis-server and on the
engine, and compare the replies as a client sees them.

Both sides are decoded by hiredis: redis-server's bytes off the wire, and the
engine's reply values after streamlite's own RESP encoder. So a difference in a
reply, an error text or the encoding shows up as a mismatch.
"""

from __future__ import annotations

import socket
from typing import Any

import hiredis

from streamlite.engine import Engine, FakeClock
from streamlite.protocol.resp import encode, encode_command


def _norm(v: Any) -> Any:
    if isinstance(v, hiredis.ReplyError):
        return ("ERR", str(v))
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {_norm_key(k): _norm(x) for k, x in v.items()}
    return v


def _norm_key(k: Any) -> Any:
    return tuple(_norm(k)) if isinstance(k, list) else k


class RedisConn:
    """A raw RESP connection to a real server; replies decoded by hiredis."""

    def __init__(self, port: int, protocol: int = 2) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = hiredis.Reader()
        if protocol == 3:
            self.call(b"HELLO", b"3")

    def call(self, *argv: bytes | str | int) -> Any:
        args = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        self.sock.sendall(encode_command(args))
        while True:
            r = self.reader.gets()
            if r is not False:
                return _norm(r)
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("server closed the connection")
            self.reader.feed(data)

    def close(self) -> None:
        self.sock.close()


class EngineConn:
    """The engine behind the same interface: reply -> RESP bytes -> hiredis."""

    def __init__(self, engine: Engine | None = None, protocol: int = 2) -> None:
        self.engine = engine or Engine(FakeClock())
        self.client = self.engine.client()
        self.protocol = protocol
        if protocol == 3:
            self.client.protocol = 3

    def call(self, *argv: bytes | str | int) -> Any:
        args = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        reply = self.engine.execute(self.client, args)
        reader = hiredis.Reader()
        reader.feed(encode(reply, self.client.protocol))
        return _norm(reader.gets())


def compare(redis: RedisConn, eng: EngineConn, script: list[tuple[Any, ...]]) -> None:
    """Run each command on both; assert identical replies, naming the first mismatch."""
    for i, cmd in enumerate(script):
        a = redis.call(*cmd)
        b = eng.call(*cmd)
        assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
