"""Pub/sub delivery over the wire compared with Redis 8.2: RESP2 subscribed mode,
RESP3 pushes (also to the publishing client itself), and the pub/sub output
buffer limit closing a subscriber that does not read."""

from __future__ import annotations

import socket
import time

import pytest
import redis
from tests.server.conftest import spawn
from tests.support.redis_proc import start_redis

pytestmark = pytest.mark.redis


def _collect(sock: socket.socket, wait: float = 0.3) -> bytes:
    sock.settimeout(wait)
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return out
        if not chunk:
            return out
        out += chunk


def _script(port: int, steps: list[tuple[int, bytes]], conns: int = 2) -> list[bytes]:
    """Send each step's bytes on connection ``i`` and collect what every connection got."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
    got: list[bytes] = []
    try:
        for i, data in steps:
            socks[i].sendall(data)
            time.sleep(0.05)
            got.append(b" | ".join(_collect(s, 0.15) for s in socks))
    finally:
        for s in socks:
            s.close()
    return got


RESP2 = [
    (0, b"SUBSCRIBE news updates\r\n"),
    (0, b"PSUBSCRIBE n*\r\n"),
    (1, b"PUBLISH news hello\r\n"),
    (0, b"PING\r\n"),
    (0, b"PING hi\r\n"),
    (0, b"ECHO nope\r\n"),
    (1, b"PUBLISH updates u1\r\n"),
    (0, b"UNSUBSCRIBE news\r\n"),
    (1, b"PUBLISH news again\r\n"),
    (0, b"PUNSUBSCRIBE\r\n"),
    (0, b"UNSUBSCRIBE\r\n"),
    (0, b"ECHO back\r\n"),
]

RESP3 = [
    (0, b"HELLO 3\r\n"),
    (0, b"SUBSCRIBE self\r\n"),
    (0, b"PUBLISH self mine\r\n"),
    (0, b"ECHO still-works\r\n"),
    (1, b"PUBLISH self other\r\n"),
    (0, b"UNSUBSCRIBE\r\n"),
]

# (un)subscribe confirmations and messages are pushes: Redis writes them even
# under CLIENT REPLY OFF or SKIP, in RESP2 too (Redis's own pubsub.tcl checks it)
REPLY_OFF = [
    (0, b"CLIENT REPLY OFF\r\n"),
    (0, b"SUBSCRIBE a b\r\n"),
    (0, b"PSUBSCRIBE a*\r\n"),
    (1, b"PUBLISH a hi\r\n"),
    (0, b"PING\r\n"),
    (0, b"UNSUBSCRIBE a\r\n"),
    (0, b"PUNSUBSCRIBE\r\n"),
    (0, b"UNSUBSCRIBE\r\n"),
    (0, b"CLIENT REPLY ON\r\n"),
    (0, b"CLIENT REPLY SKIP\r\n"),
    (0, b"SUBSCRIBE c\r\n"),
    (0, b"ECHO after-skip\r\n"),
]
REPLY_OFF_RESP3 = [(0, b"HELLO 3\r\n"), *REPLY_OFF]


@pytest.mark.parametrize(
    "steps",
    [RESP2, RESP3, REPLY_OFF, REPLY_OFF_RESP3],
    ids=["resp2", "resp3", "reply-off-resp2", "reply-off-resp3"],
)
def test_pubsub_matches_redis(redis_server, sl, steps):
    want = _script(redis_server.port, steps)
    got = _script(sl.port, steps)
    for (_, data), a, b in zip(steps, want, got, strict=True):
        if data.startswith(b"HELLO"):
            continue  # server version and modules differ
        assert b == a, f"{data!r}\n  redis:      {a!r}\n  streamlite: {b!r}"


def _obuf_disconnects(port: int) -> tuple[bool, int]:
    c = redis.Redis(port=port)
    c.config_set("client-output-buffer-limit", "pubsub 256kb 128kb 60")
    sub = socket.create_connection(("127.0.0.1", port))
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub.sendall(b"SUBSCRIBE firehose\r\n")
    time.sleep(0.2)
    payload = b"x" * 8192
    closed = False
    for _ in range(2000):  # 16 MB, far past what the kernel buffers hold
        if c.publish("firehose", payload) == 0:
            closed = True
            break
    stats = c.info("stats")["client_output_buffer_limit_disconnections"]
    c.config_set("client-output-buffer-limit", "pubsub 33554432 8388608 60")
    c.close()
    sub.close()
    return closed, stats


def test_slow_subscriber_is_disconnected_like_redis():
    ref = start_redis()
    ours = spawn()
    try:
        assert _obuf_disconnects(ref.port) == (True, 1)
        assert _obuf_disconnects(ours.port) == (True, 1)
    finally:
        ref.cleanup()
        ours.cleanup()
