"""The test harness starts a server on another free port when the one it picked was
taken before the server bound it (by another test's server, under pytest-xdist): it
must never hand a test a connection to someone else's server."""

from __future__ import annotations

import socket

import pytest
from tests.support import redis_proc
from tests.support.redis_proc import have_redis, start_redis, start_streamlite


@pytest.mark.parametrize("start", [
    start_streamlite,
    pytest.param(start_redis, marks=pytest.mark.skipif(not have_redis(), reason="no redis")),
])
def test_a_taken_port_is_not_mistaken_for_the_server(monkeypatch, start):
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen(8)
    taken = squatter.getsockname()[1]
    real = redis_proc.free_port
    ports = iter([taken])
    monkeypatch.setattr(redis_proc, "free_port", lambda: next(ports, None) or real())
    try:
        srv = start()
    finally:
        squatter.close()
    try:
        assert srv.port != taken
        assert redis_proc._owns_listener(srv.proc.pid, srv.port) is True
        with socket.create_connection(("127.0.0.1", srv.port)) as s:
            s.sendall(b"PING\r\n")
            assert s.recv(64) == b"+PONG\r\n"
    finally:
        srv.cleanup()
