"""Blocking over the wire: clients parked on keys, served first come first served,
timeouts, CLIENT UNBLOCK, pipelined commands waiting behind a blocked one, and
disconnects.

The server machinery is exercised with a tiny test-only pair of commands
(TPUSH/TBPOP, a list push and blocking pop) registered in an in-process server,
so it does not depend on the data-type commands.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from tests.support.diff import RedisConn

from streamlite.engine.args import parse_float
from streamlite.engine.client import Client
from streamlite.engine.core import Engine
from streamlite.engine.database import register_type
from streamlite.engine.registry import COMMANDS, command
from streamlite.engine.replies import NULL_ARRAY, Blocked
from streamlite.persistence import Persistence
from streamlite.server.app import Server


class TList(list):  # type: ignore[type-arg]
    def encoding(self) -> bytes:
        return b"tlist"

    def mem_usage(self) -> int:
        return 64 + sum(len(x) for x in self)


def _tpush(c: Client, argv: list[bytes]) -> Any:
    v = c.db.lookup(argv[1])
    if v is None:
        v = TList()
        c.db.set(argv[1], v)
    v.append(argv[2])
    c.db.touch(argv[1])
    return len(v)


def _tbpop(c: Client, argv: list[bytes]) -> Any:
    keys = argv[1:-1]
    for k in keys:
        v = c.db.lookup(k)
        if v:
            item = v.pop(0)
            if not v:
                c.db.remove(k)
            else:
                c.db.touch(k)
            return [k, item]
    if c.in_exec or c.in_script:
        return NULL_ARRAY
    timeout = parse_float(argv[-1])
    deadline = None if timeout == 0 else c.engine.now_ms() + int(timeout * 1000)
    return Blocked([(c.db_index, k) for k in keys], argv, deadline, NULL_ARRAY)


class InProcServer:
    """A streamlite Server running in a thread of the test process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dir = tempfile.mkdtemp(prefix="streamlite-inproc-")
        engine.config.update({"port": 0, "bind": ["127.0.0.1"], "dir": self.dir, "save": []})
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.server: Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop

        async def main() -> None:
            self.server = Server(self.engine)
            await self.server.start()
            self.port = self.engine.config["port"]
            self.ready.set()
            await self.server.wait_closed()

        loop.run_until_complete(main())
        loop.close()

    def start(self) -> InProcServer:
        self.thread.start()
        assert self.ready.wait(30)
        return self

    def stop(self) -> None:
        if self.loop is not None and self.server is not None:
            self.loop.call_soon_threadsafe(self.server.stop)
        self.thread.join(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def srv() -> Iterator[InProcServer]:
    register_type(TList, b"tlist")
    command("tpush", 3, "write denyoom fast", 1, 1, 1, group="list")(_tpush)
    command("tbpop", -3, "write blocking", 1, -2, 1, group="list")(_tbpop)
    s = InProcServer(Engine()).start()
    yield s
    s.stop()
    COMMANDS.pop(b"tpush", None)
    COMMANDS.pop(b"tbpop", None)


def _reply(conn: RedisConn, timeout: float = 10) -> Any:
    conn.sock.settimeout(timeout)
    while True:
        r = conn.reader.gets()
        if r is not False:
            return r
        data = conn.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        conn.reader.feed(data)


def _send(conn: RedisConn, *argv: str) -> None:
    from streamlite.protocol.resp import encode_command

    conn.sock.sendall(encode_command([a.encode() for a in argv]))


def _nothing_yet(conn: RedisConn, wait: float = 0.2) -> bool:
    conn.sock.settimeout(wait)
    try:
        conn.sock.recv(1, socket.MSG_PEEK)
    except TimeoutError:
        return True
    return False


def test_pop_is_served_when_a_push_arrives(srv):
    a, b = RedisConn(srv.port), RedisConn(srv.port)
    _send(a, "TBPOP", "q1", "0")
    assert _nothing_yet(a)
    assert b.call("PING") == b"PONG"  # a blocked client never stalls others
    info = b.call("INFO", "clients").decode()
    assert "blocked_clients:1" in info
    assert b"flags=b" in b.call("CLIENT", "LIST")
    assert b.call("TPUSH", "q1", "v1") == 1
    assert _reply(a) == [b"q1", b"v1"]
    assert "blocked_clients:0" in b.call("INFO", "clients").decode()
    a.close()
    b.close()


def test_first_come_first_served_across_keys(srv):
    a, c, p = RedisConn(srv.port), RedisConn(srv.port), RedisConn(srv.port)
    _send(a, "TBPOP", "q2", "q3", "0")
    assert _nothing_yet(a)
    _send(c, "TBPOP", "q3", "0")
    assert _nothing_yet(c)
    p.call("TPUSH", "q3", "x")
    assert _reply(a) == [b"q3", b"x"]
    assert _nothing_yet(c)
    p.call("TPUSH", "q3", "y")
    assert _reply(c) == [b"q3", b"y"]
    for conn in (a, c, p):
        conn.close()


def test_timeout_replies_nil(srv):
    a = RedisConn(srv.port)
    _send(a, "TBPOP", "q4", "0.2")
    assert _nothing_yet(a, 0.05)
    assert _reply(a) is None
    a.close()


def test_pipelined_commands_wait_behind_a_blocked_one(srv):
    a, p = RedisConn(srv.port), RedisConn(srv.port)
    a.sock.sendall(b"*3\r\n$5\r\nTBPOP\r\n$2\r\nq5\r\n$1\r\n0\r\nPING\r\n"
                   b"*2\r\n$4\r\nECHO\r\n$5\r\nafter\r\n")
    assert _nothing_yet(a)
    p.call("TPUSH", "q5", "v")
    assert _reply(a) == [b"q5", b"v"]
    assert _reply(a) == b"PONG"
    assert _reply(a) == b"after"
    a.close()
    p.close()


def test_client_unblock_timeout_and_error(srv):
    a, b = RedisConn(srv.port), RedisConn(srv.port)
    aid = a.call("CLIENT", "ID")
    _send(a, "TBPOP", "q6", "0")
    assert _nothing_yet(a)
    assert b.call("CLIENT", "UNBLOCK", str(aid)) == 1
    assert _reply(a) is None
    assert b.call("CLIENT", "UNBLOCK", str(aid)) == 0  # not blocked any more
    _send(a, "TBPOP", "q6", "0")
    assert _nothing_yet(a)
    assert b.call("CLIENT", "UNBLOCK", str(aid), "ERROR") == 1
    err = _reply(a)
    assert str(err) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    a.close()
    b.close()


def test_disconnect_while_blocked_cleans_up(srv):
    a, p = RedisConn(srv.port), RedisConn(srv.port)
    _send(a, "TBPOP", "q7", "0")
    assert _nothing_yet(a)
    a.close()
    time.sleep(0.2)
    assert "blocked_clients:0" in p.call("INFO", "clients").decode()
    p.call("TPUSH", "q7", "kept")
    assert p.call("TBPOP", "q7", "1") == [b"q7", b"kept"]  # nobody else took it
    p.close()


def test_blocking_inside_multi_does_not_block(srv):
    c = redis.Redis(port=srv.port)
    pipe = c.pipeline(transaction=True)
    pipe.execute_command("TBPOP", "q8", "0")
    assert pipe.execute() == [None]
    c.close()


def test_many_blocked_clients_and_timeouts_in_order(srv):
    conns = [RedisConn(srv.port) for _ in range(5)]
    for i, conn in enumerate(conns):
        _send(conn, "TBPOP", f"q9-{i}", str(0.1 * (5 - i)))
    # the shortest deadline fires first and later deadlines still fire
    for conn in reversed(conns):
        assert _reply(conn) is None
    for conn in conns:
        conn.close()


def test_loading_answers_loading_until_the_data_is_in(monkeypatch):
    """While the persisted data loads (in a worker thread), commands without Redis's
    ``loading`` flag get -LOADING and INFO reports loading:1."""
    release = threading.Event()
    started = threading.Event()
    real_load = Persistence.load

    def slow_load(self: Persistence) -> None:
        started.set()
        release.wait(20)
        real_load(self)

    monkeypatch.setattr(Persistence, "load", slow_load)
    engine = Engine()
    s = InProcServer(engine)
    s.thread.start()
    assert started.wait(20)
    deadline = time.monotonic() + 20
    while not engine.config.get("port"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    c = RedisConn(engine.config["port"])
    try:
        assert c.call("PING") == ("ERR", "LOADING Redis is loading the dataset in memory")
        assert b"loading:1" in c.call("INFO", "persistence")
        assert c.call("CONFIG", "GET", "hz") == [b"hz", b"10"]
        assert c.call("NOSUCH")[1].startswith("ERR unknown command")
        # a subcommand is resolved and its arity checked before it runs, as in Redis
        assert c.call("CONFIG", "GET") == (
            "ERR", "ERR wrong number of arguments for 'config|get' command")
        assert c.call("CONFIG", "NOSUCH") == (
            "ERR", "ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.")
        release.set()
        assert s.ready.wait(20)
        assert c.call("PING") == b"PONG"
        assert b"loading:0" in c.call("INFO", "persistence")
    finally:
        release.set()
        c.close()
        s.stop()
