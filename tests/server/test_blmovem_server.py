"""BLMOVEM on the server: a client blocked for EXACTLY 2 elements is served once a
push makes two (Redis 8.10, from the command docs)."""

from __future__ import annotations

from tests.diff.resp_wire import RedisWire
from tests.server.conftest import spawn


def test_blmovem_waits_for_exactly() -> None:
    srv = spawn()
    try:
        a, b = RedisWire(srv.port), RedisWire(srv.port)
        a.send("BLMOVEM", "q", "d", "LEFT", "RIGHT", "0", "EXACTLY", "2", "OBO")
        b.send("RPUSH", "q", "x")
        assert b._read_one() == b":1\r\n"
        b.send("RPUSH", "q", "y")
        assert b._read_one() == b":2\r\n"
        assert a._read_one() == b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
        b.send("LRANGE", "d", "0", "-1")
        assert b._read_one() == b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
        a.close()
        b.close()
    finally:
        srv.cleanup()
