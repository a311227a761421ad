"""Blocking XREAD/XREADGROUP, real Redis 8.2 over raw sockets vs the engine's
BlockingManager: the same steps on both, the replies each blocked client gets
(or that it is still waiting) compared.

Note Redis 8.2 re-executes a blocked XREADGROUP when its key is deleted, so the
waiter answers the usual NOGROUP error (not Redis 7.0's "UNBLOCKED the stream key
no longer exists"); a key turned into another type answers WRONGTYPE.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.diff.stream_helpers import FALLBACK, norm_info
from tests.support.diff import EngineConn, RedisConn, _norm

from streamlite.engine import Engine, FakeClock
from streamlite.engine.blocking import BlockingManager
from streamlite.engine.replies import Blocked
from streamlite.protocol.resp import encode, encode_command

WAITING = "waiting"


class RedisSide:
    def __init__(self, port: int) -> None:
        self.port = port
        self.conns: dict[str, RedisConn] = {}

    def conn(self, name: str) -> RedisConn:
        if name not in self.conns:
            self.conns[name] = RedisConn(self.port)
        return self.conns[name]

    def send(self, name: str, argv: list[bytes]) -> None:
        self.conn(name).sock.sendall(encode_command(argv))

    def read(self, name: str, timeout: float = 0.3) -> Any:
        conn = self.conn(name)
        conn.sock.settimeout(timeout)
        try:
            while True:
                r = conn.reader.gets()
                if r is not False:
                    return _norm(r)
                conn.reader.feed(conn.sock.recv(65536))
        except TimeoutError:
            return WAITING
        finally:
            conn.sock.settimeout(None)

    def close(self) -> None:
        for c in self.conns.values():
            c.close()


class EngineSide:
    def __init__(self) -> None:
        self.engine = Engine(FakeClock())
        self.mgr = BlockingManager(self.engine)
        self.clients: dict[str, Any] = {}
        self.inbox: dict[str, list[Any]] = {}

    def client(self, name: str) -> Any:
        if name not in self.clients:
            self.clients[name] = self.engine.client()
            self.inbox[name] = []
        return self.clients[name]

    def _decode(self, c: Any, reply: Any) -> Any:
        import hiredis

        r = hiredis.Reader()
        r.feed(encode(reply, c.protocol))
        return _norm(r.gets())

    def send(self, name: str, argv: list[bytes]) -> None:
        c = self.client(name)
        cmd = argv[0].decode().upper()
        if cmd in FALLBACK and self.engine.lookup_command(cmd.lower().encode()) is None:
            conn = EngineConn(self.engine)
            conn.client = c
            reply = FALLBACK[cmd](conn, tuple(argv))
        else:
            reply = self.engine.execute(c, argv)
        if isinstance(reply, Blocked):
            self.mgr.block(c, reply)
        else:
            self.inbox[name].append(self._decode(c, reply))
        for cl, r in self.mgr.serve_ready():
            n = next(k for k, v in self.clients.items() if v is cl)
            self.inbox[n].append(self._decode(cl, r))

    def read(self, name: str) -> Any:
        box = self.inbox[name]
        return box.pop(0) if box else WAITING


def run_blocking(port: int, steps: list[tuple[str, ...]]) -> None:
    red = RedisSide(port)
    eng = EngineSide()
    red.conn("admin").call("FLUSHALL")
    try:
        for i, step in enumerate(steps):
            who, *rest = step
            if rest and rest[0] == "?":
                a, b = red.read(who), eng.read(who)
                a, b = norm_info(a), norm_info(b)
                assert a == b, f"step {i} {step}: redis {a!r} vs streamlite {b!r}"
                continue
            argv = [x.encode() for x in rest]
            red.send(who, argv)
            eng.send(who, argv)
            time.sleep(0.02)  # let Redis serve/park it before the next step
    finally:
        red.close()


def steps(text: str) -> list[tuple[str, ...]]:
    return [tuple(line.split()) for line in text.strip().splitlines() if line.strip()]


@pytest.fixture
def port(redis_server):
    return redis_server.port


def test_xread_waits_then_served(port):
    run_blocking(port, steps("""
        p XADD s 1-0 old x
        a XREAD BLOCK 0 STREAMS s t $ $
        a ?
        p XADD t 5-0 new y
        a ?
        b XREAD BLOCK 0 STREAMS s 1-0
        b ?
        p XADD s 2-0 f v
        b ?
    """))


def test_xread_not_woken_by_delete_or_type_change(port):
    run_blocking(port, steps("""
        p XADD s 1-0 f v
        a XREAD BLOCK 0 STREAMS s $
        p XDEL s 1-0
        a ?
        p DEL s
        a ?
        p SET s x
        a ?
        p DEL s
        p XADD s 3-0 f w
        a ?
    """))


def test_xreadgroup_two_waiters(port):
    run_blocking(port, steps("""
        p XGROUP CREATE s g $ MKSTREAM
        a XREADGROUP GROUP g alice BLOCK 0 STREAMS s >
        b XREADGROUP GROUP g bob BLOCK 0 STREAMS s >
        p XADD s 1-0 f v
        a ?
        b ?
        p XADD s 2-0 f w
        b ?
        p XPENDING s g
        p ?
        p XINFO CONSUMERS s g
        p ?
    """))


@pytest.mark.parametrize("how", [
    "p XGROUP DESTROY s g",
    "p DEL s",
    "p XGROUP SETID s g 0",
])
def test_xreadgroup_waiter_when_key_or_group_changes(port, how):
    run_blocking(port, steps(f"""
        p XGROUP CREATE s g $ MKSTREAM
        a XREADGROUP GROUP g c BLOCK 0 STREAMS s >
        a ?
        {how}
        p ?
        a ?
    """))


def test_xreadgroup_waiter_on_type_change(port):
    run_blocking(port, steps("""
        p XGROUP CREATE s g $ MKSTREAM
        a XREADGROUP GROUP g c BLOCK 0 STREAMS s >
        p SET s x
        a ?
        b XREADGROUP GROUP g c BLOCK 0 STREAMS s >
        b ?
    """))


def test_history_read_never_blocks(port):
    run_blocking(port, steps("""
        p XGROUP CREATE s g $ MKSTREAM
        a XREADGROUP GROUP g c BLOCK 0 STREAMS s 0
        a ?
        a XREAD BLOCK 0 STREAMS s +
        p XADD s 1-0 k v
        a ?
    """))


def test_rename_serves_or_fails_xreadgroup_waiter(port):
    run_blocking(port, steps("""
        p XGROUP CREATE s g $ MKSTREAM
        a XREADGROUP GROUP g alice BLOCK 0 STREAMS s >
        p XGROUP CREATE s2 g $ MKSTREAM
        p XADD s2 100 f1 v1
        p RENAME s2 s
        a ?
        b XREADGROUP GROUP g bob BLOCK 0 STREAMS s >
        p XADD s3 100 f1 v1
        p RENAME s3 s
        b ?
    """))


def test_xread_waiter_after_set_then_del(port):
    run_blocking(port, steps("""
        p XADD s 666 f v
        a XREAD BLOCK 0 STREAMS s $
        p SET s val1
        a ?
        p DEL s
        p XADD s 667 f v
        a ?
    """))
