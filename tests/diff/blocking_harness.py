"""Blocking scenarios run on a real Redis (several raw sockets) and on the engine
(clients parked in ``BlockingManager``), compared event by event.

A scenario is a list of ``(client, argv)`` steps. A step whose command blocks
records nothing until some later write serves it. After each step we record,
in client order, the exact reply bytes of every client that got an answer.

On Redis we learn whether a client is blocked from ``CLIENT LIST`` (its flags
contain ``b``) through a control connection, never by waiting on a clock:
Redis serves blocked clients before it answers the write that readied them.
"""

from __future__ import annotations

import select
import time
from collections.abc import Sequence
from typing import Any

from tests.diff.raw_resp import RawConn

from streamlite.engine import Engine, FakeClock
from streamlite.engine.blocking import BlockingManager
from streamlite.engine.replies import Blocked
from streamlite.protocol.resp import encode

Step = tuple[int, tuple[Any, ...]]
Event = tuple[int, int, bytes]  # (step index, client, reply bytes)


def _args(cmd: Sequence[Any]) -> list[bytes]:
    return [a if isinstance(a, bytes) else str(a).encode() for a in cmd]


class RedisSide:
    def __init__(self, port: int, nclients: int, protocol: int = 2) -> None:
        self.ctl = RawConn(port)
        self.conns = [RawConn(port, protocol) for _ in range(nclients)]
        for i, c in enumerate(self.conns):
            c.call("CLIENT", "SETNAME", f"hc{i}")
        self.waiting: set[int] = set()

    def _blocked_names(self) -> set[str]:
        raw = self.ctl.call("CLIENT", "LIST")
        text = raw.split(b"\r\n", 1)[1].decode()
        out = set()
        for line in text.splitlines():
            fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            if "b" in fields.get("flags", ""):
                out.add(fields.get("name", ""))
        return out

    def _has_data(self, i: int) -> bool:
        c = self.conns[i]
        if c.buf:
            return True
        r, _, _ = select.select([c.sock], [], [], 0)
        return bool(r)

    def step(self, idx: int, client: int, cmd: Sequence[Any]) -> list[Event]:
        conn = self.conns[client]
        conn.send(*cmd)
        events: list[Event] = []
        while True:  # either a reply comes or the client shows up as blocked
            if self._has_data(client):
                events.append((idx, client, conn.read()))
                break
            if f"hc{client}" in self._blocked_names():
                self.waiting.add(client)
                break
            time.sleep(0.002)
        blocked = self._blocked_names()
        for i in sorted(self.waiting):
            if i != client and f"hc{i}" not in blocked:
                events.append((idx, i, self.conns[i].read()))
                self.waiting.discard(i)
        return events

    def close(self) -> None:
        for c in [self.ctl, *self.conns]:
            c.close()


class EngineSide:
    def __init__(self, nclients: int, protocol: int = 2, engine: Engine | None = None) -> None:
        self.engine = engine or Engine(FakeClock())
        self.mgr = BlockingManager(self.engine)
        self.clients = [self.engine.client() for _ in range(nclients)]
        for c in self.clients:
            c.protocol = protocol

    def step(self, idx: int, client: int, cmd: Sequence[Any]) -> list[Event]:
        c = self.clients[client]
        reply = self.engine.execute(c, _args(cmd))
        events: list[Event] = []
        if type(reply) is Blocked:
            self.mgr.block(c, reply)
        else:
            events.append((idx, client, encode(reply, c.protocol)))
        served = self.mgr.serve_ready()
        index = {id(x): i for i, x in enumerate(self.clients)}
        for cl, rep in sorted(served, key=lambda p: index[id(p[0])]):
            events.append((idx, index[id(cl)], encode(rep, cl.protocol)))
        return events


def run_scenario(port: int, nclients: int, steps: Sequence[Step], protocol: int = 2) -> list[Event]:
    """Run ``steps`` on both sides; assert the same events; return them."""
    redis = RedisSide(port, nclients, protocol)
    try:
        redis.ctl.call("FLUSHALL")
        eng = EngineSide(nclients, protocol)
        all_events: list[Event] = []
        for idx, (client, cmd) in enumerate(steps):
            a = sorted(redis.step(idx, client, cmd))
            b = sorted(eng.step(idx, client, cmd))
            assert a == b, f"RESP{protocol} step {idx}: client {client} {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
            all_events += a
        return all_events
    finally:
        redis.close()  # Redis forgets a blocked client when its connection closes
