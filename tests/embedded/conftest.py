"""Fixtures for the embedded front: clients on private in-memory engines, test commands."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

import streamlite
from streamlite.embedded import Embedded

from .support import embtest_commands


@pytest.fixture
def embtest() -> Iterator[None]:
    """The ``embtest.*`` commands, registered for the test."""
    with embtest_commands():
        yield


@pytest.fixture
def emb() -> Iterator[Embedded]:
    """A shared in-memory engine handle."""
    e = Embedded()
    yield e
    e.close()


@pytest.fixture
def r(emb: Embedded) -> Iterator[object]:
    """A redis.Redis on a private in-memory engine (shadows the engine runner ``r``)."""
    c = emb.client()
    yield c
    c.close()


@pytest.fixture
def rd(emb: Embedded) -> Iterator[object]:
    c = emb.client(decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def r3(emb: Embedded) -> Iterator[object]:
    c = emb.client(protocol=3)
    yield c
    c.close()


@pytest.fixture
def tmpdir_path(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return str(tmp_path / "data")


__all__ = ["streamlite"]


class Backend:
    """Where a behaviour test runs: real Redis over TCP (the reference) or embedded.

    The same test body runs on both, so an expectation that holds on real Redis
    and fails embedded is a streamlite bug, not a test bug.
    """

    def __init__(self, name: str, port: int | None = None) -> None:
        self.name = name
        self.port = port
        self.emb = Embedded() if name == "embedded" else None
        self._clients: list[object] = []

    def needs(self, *commands: str) -> None:
        if self.emb is not None:
            from .support import needs

            needs(*commands)

    def client(self, **kw: object) -> redis.Redis:
        c = self.emb.client(**kw) if self.emb else redis.Redis(port=self.port, **kw)
        self._clients.append(c)
        return c

    def async_client(self, **kw: object) -> redis.asyncio.Redis:
        if self.emb:
            return self.emb.async_client(**kw)
        return redis.asyncio.Redis(port=self.port, **kw)

    def blocked_clients(self) -> int:
        if self.emb is not None:
            with self.emb.lock:
                return len(self.emb.host.blocking)
        r = redis.Redis(port=self.port)
        try:
            return int(r.info("clients")["blocked_clients"])
        finally:
            r.close()

    def wait_blocked(self, n: int = 1, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.blocked_clients() >= n:
                return
            time.sleep(0.003)
        raise AssertionError(f"{n} client(s) never blocked")

    def close(self) -> None:
        for c in self._clients:
            c.close()  # type: ignore[attr-defined]
        if self.emb is not None:
            self.emb.close()


@pytest.fixture(params=["redis", "embedded"])
def backend(request) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    if request.param == "redis":
        srv = request.getfixturevalue("redis_server")
        r = redis.Redis(port=srv.port)
        r.flushall()
        r.script_flush()
        r.close()
        b = Backend("redis", srv.port)
    else:
        b = Backend("embedded")
    yield b
    b.close()
