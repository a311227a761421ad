"""Fixtures for the server tests: the real ``streamlite server`` process on a free
port, redis-py clients to it, and raw RESP connections to it and to Redis 8.2."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from tests.support.diff import RedisConn
from tests.support.redis_proc import ServerProc, start_streamlite

BASE_ARGS = ["--enable-debug-command", "yes", "--save", ""]


def spawn(extra: list[str] | None = None, dir: str | None = None,
          preexec_fn: Callable[[], None] | None = None) -> ServerProc:
    return start_streamlite([*BASE_ARGS, *(extra or [])], dir=dir, preexec_fn=preexec_fn)


@pytest.fixture(scope="module")
def sl() -> Iterator[ServerProc]:
    """A streamlite server shared by the tests of one module."""
    srv = spawn()
    yield srv
    srv.cleanup()


@pytest.fixture
def r(sl: ServerProc) -> Iterator[redis.Redis]:
    client = redis.Redis(port=sl.port, socket_timeout=20)
    yield client
    client.close()


@pytest.fixture
def raw(sl: ServerProc) -> Callable[..., RedisConn]:
    """Open raw RESP connections to the shared streamlite server."""
    opened: list[RedisConn] = []

    def open_(protocol: int = 2) -> RedisConn:
        c = RedisConn(sl.port, protocol)
        opened.append(c)
        return c

    yield open_  # type: ignore[misc]
    for c in opened:
        c.close()


def send_raw(port: int, data: bytes, wait: float = 0.3, until_closed: bool = False) -> bytes:
    """Send bytes on a fresh socket and collect what comes back (until quiet or closed)."""
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(data)
        s.settimeout(wait if not until_closed else 5)
        out = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def is_closed(sock: socket.socket, timeout: float = 3.0) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def run_both(a: RedisConn, b: RedisConn, script: list[tuple[Any, ...]],
             norm: Callable[[Any], Any] = lambda v: v) -> None:
    """Run ``script`` on Redis (``a``) and streamlite (``b``); replies must match."""
    for i, cmd in enumerate(script):
        x = norm(a.call(*cmd))
        y = norm(b.call(*cmd))
        assert x == y, f"step {i}: {cmd!r}\n  redis:      {x!r}\n  streamlite: {y!r}"
