"""Blocking commands over the wire, step by step on several connections, compared
with Redis 8.2: XREAD/XREADGROUP BLOCK, BLPOP/BRPOP, timeouts, CLIENT UNBLOCK,
first-come-first-served, a stream deleted under a blocked XREADGROUP."""

from __future__ import annotations

import re
import socket
import time
from typing import Any

import pytest

from streamlite.engine.registry import COMMANDS
from streamlite.protocol.resp import encode_command

pytestmark = pytest.mark.redis

_ID = re.compile(rb"\d{13}-\d+")


def _run(port: int, steps: list[tuple[Any, ...]], conns: int = 3) -> list[bytes]:
    """Run each step (conn, command[, seconds to wait]) and collect every
    connection's output after it."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
    for s in socks:
        s.sendall(b"CLIENT SETNAME c\r\n")
    time.sleep(0.05)
    for s in socks:
        s.settimeout(0.2)
        s.recv(100)
    ids: list[int] = []
    for s in socks:
        s.sendall(b"CLIENT ID\r\n")
        ids.append(int(s.recv(100)[1:-2]))
    out: list[bytes] = []
    try:
        for i, cmd, *wait in steps:
            cmd = cmd.replace("{id0}", str(ids[0])).replace("{id1}", str(ids[1]))
            socks[i].sendall(encode_command([a.encode() for a in cmd.split()]))
            time.sleep(wait[0] if wait else 0.12)
            got = []
            for s in socks:
                s.settimeout(0.02)
                buf = b""
                while True:
                    try:
                        chunk = s.recv(65536)
                    except (TimeoutError, BlockingIOError):
                        break
                    if not chunk:
                        break
                    buf += chunk
                got.append(buf)
            out.append(_ID.sub(b"<ID>", b" | ".join(got)))
    finally:
        for s in socks:
            s.close()
    return out


def _need(*names: str) -> None:
    missing = [n for n in names if n.encode() not in COMMANDS]
    if missing:
        pytest.fail(f"waiting for {', '.join(missing).upper()} to land in main")


SCENARIOS: dict[str, list[tuple[Any, ...]]] = {
    "xread-block-served": [
        (0, "XREAD BLOCK 0 STREAMS s1 $"),
        (1, "XADD s1 * f v"),
        (1, "XADD s1 * f w"),
    ],
    "xread-timeout": [
        (0, "XREAD BLOCK 50 STREAMS s2 $", 0.6),  # Redis times out at its hz (100 ms)
        (1, "PING"),
    ],
    "xread-fifo-two-readers": [
        (0, "XREAD BLOCK 0 STREAMS s3 $"),
        (1, "XREAD BLOCK 0 STREAMS s3 $"),
        (2, "XADD s3 * a 1"),
    ],
    "xreadgroup-block": [
        (2, "XGROUP CREATE s4 g $ MKSTREAM"),
        (0, "XREADGROUP GROUP g c1 BLOCK 0 STREAMS s4 >"),
        (1, "XREADGROUP GROUP g c2 BLOCK 0 STREAMS s4 >"),
        (2, "XADD s4 * k 1"),
        (2, "XADD s4 * k 2"),
        (2, "XPENDING s4 g"),
    ],
    "xreadgroup-stream-deleted": [
        (2, "XGROUP CREATE s5 g $ MKSTREAM"),
        (0, "XREADGROUP GROUP g c1 BLOCK 0 STREAMS s5 >"),
        (2, "DEL s5"),
    ],
    "client-unblock-xread": [
        (0, "XREAD BLOCK 0 STREAMS s6 $"),
        (1, "CLIENT UNBLOCK {id0}"),
        (0, "XREAD BLOCK 0 STREAMS s6 $"),
        (1, "CLIENT UNBLOCK {id0} ERROR"),
    ],
    "pipelined-after-block": [
        (0, "XREAD BLOCK 0 STREAMS s7 $"),
        (0, "PING"),
        (1, "XADD s7 * x y"),
    ],
    "blpop-served-fifo": [
        (0, "BLPOP l1 l2 0"),
        (1, "BRPOP l2 0"),
        (2, "RPUSH l2 a b"),
        (2, "LLEN l2"),
    ],
    "blpop-timeout-and-wrongtype": [
        (2, "SET str v"),
        (0, "BLPOP str 0.05", 0.6),
        (0, "BLPOP nolist 0.05", 0.6),
        (1, "PING"),
    ],
    "blpop-inside-multi": [
        (0, "MULTI"),
        (0, "BLPOP l3 0"),
        (0, "EXEC"),
    ],
}

_XREAD = ("xadd", "xread")
NEEDS = {
    "xread-block-served": _XREAD, "xread-timeout": _XREAD, "xread-fifo-two-readers": _XREAD,
    "xreadgroup-block": ("xgroup", "xreadgroup", "xadd", "xpending"),
    "xreadgroup-stream-deleted": ("xgroup", "xreadgroup", "del"),
    "client-unblock-xread": _XREAD, "pipelined-after-block": _XREAD,
    "blpop-served-fifo": ("blpop", "brpop", "rpush", "llen"),
    "blpop-timeout-and-wrongtype": ("blpop", "set"),
    "blpop-inside-multi": ("blpop", "multi", "exec"),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_blocking_matches_redis(name, redis_server, sl):
    _need(*NEEDS[name])
    steps = SCENARIOS[name]
    for port in (redis_server.port, sl.port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"FLUSHALL\r\n")
        s.settimeout(5)
        s.recv(100)
        s.close()
    want = _run(redis_server.port, steps)
    got = _run(sl.port, steps)
    for (i, cmd, *_), a, b in zip(steps, want, got, strict=True):
        assert b == a, f"{name}: after {cmd!r} on conn {i}\n  redis:      {a!r}\n  streamlite: {b!r}"
