"""Keyspace notifications through redis-py's PubSub, on real Redis and embedded
(``streamlite.connect()``), and on the streamlite server: the same messages."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

import streamlite
from tests.support.redis_proc import start_streamlite

SCRIPT: list[tuple[Any, ...]] = [
    ("XADD", "orders", "1-1", "f", "v"),
    ("XGROUP", "CREATE", "orders", "g", "0"),
    ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "orders", ">"),
    ("SET", "k", "v", "EX", "100"),
    ("DEL", "k", "orders"),
]

EXPECTED = [
    (b"__keyspace@0__:orders", b"xadd"),
    (b"__keyevent@0__:xadd", b"orders"),
    (b"__keyspace@0__:orders", b"xgroup-create"),
    (b"__keyevent@0__:xgroup-create", b"orders"),
    (b"__keyspace@0__:orders", b"xgroup-createconsumer"),
    (b"__keyevent@0__:xgroup-createconsumer", b"orders"),
    (b"__keyspace@0__:k", b"set"),
    (b"__keyevent@0__:set", b"k"),
    (b"__keyspace@0__:k", b"expire"),
    (b"__keyevent@0__:expire", b"k"),
    (b"__keyspace@0__:k", b"del"),
    (b"__keyevent@0__:del", b"k"),
    (b"__keyspace@0__:orders", b"del"),
    (b"__keyevent@0__:del", b"orders"),
]


def _collect(sub: redis.Redis, writer: redis.Redis, flags: str = "KEA") -> list[tuple[bytes, bytes]]:
    writer.config_set("notify-keyspace-events", flags)
    try:
        p = sub.pubsub(ignore_subscribe_messages=True)
        p.psubscribe("__key*__:*")
        p.get_message(timeout=1)  # the psubscribe confirmation, ignored
        for cmd in SCRIPT:
            writer.execute_command(*cmd)
        writer.publish("__keyend__:x", "end")  # matches the pattern: the last message
        out: list[tuple[bytes, bytes]] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            m = p.get_message(timeout=1)
            if m is None:
                continue
            if m["channel"] == b"__keyend__:x":
                break
            assert m["type"] == "pmessage" and m["pattern"] == b"__key*__:*"
            out.append((m["channel"], m["data"]))
        p.close()
        return out
    finally:
        writer.config_set("notify-keyspace-events", "")


@pytest.mark.parametrize("proto", [2, 3])
def test_notifications_redis_and_embedded(backend, proto):
    backend.needs("XADD", "PSUBSCRIBE")
    sub, writer = backend.client(protocol=proto), backend.client(protocol=proto)
    assert _collect(sub, writer) == EXPECTED


def test_connect_shared_engine():
    """Two ``streamlite.connect()`` clients on one engine: one writes, one listens."""
    writer = streamlite.connect()
    pool = writer.connection_pool
    sub = redis.Redis(connection_pool=pool)
    try:
        assert _collect(sub, writer) == EXPECTED
        assert _collect(sub, writer, "Kt") == [e for e in EXPECTED[:6:2]]
    finally:
        writer.close()


def test_streamlite_server():
    srv = start_streamlite()
    try:
        sub, writer = redis.Redis(port=srv.port), redis.Redis(port=srv.port)
        assert _collect(sub, writer) == EXPECTED
        assert _collect(sub, writer, "Et") == [e for e in EXPECTED[1:6:2]]
        sub.close()
        writer.close()
    finally:
        srv.cleanup()
