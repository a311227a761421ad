"""Pub/sub through redis-py's PubSub on real Redis and embedded: get_message with
timeouts, listen(), patterns, sharded channels, run_in_thread, RESP3 pushes, asyncio."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

PUBSUB = ("SUBSCRIBE", "PUBLISH", "UNSUBSCRIBE")


def _msg(type_, channel, data, pattern=None):
    return {"type": type_, "pattern": pattern, "channel": channel, "data": data}


@pytest.mark.parametrize("proto", [2, 3])
def test_subscribe_publish_get_message(backend, proto):
    backend.needs(*PUBSUB)
    sub, pub = backend.client(protocol=proto), backend.client(protocol=proto)
    p = sub.pubsub()
    p.subscribe("ch")
    assert p.get_message(timeout=1) == _msg("subscribe", b"ch", 1)
    assert p.get_message(timeout=0.02) is None
    assert pub.publish("ch", "hi") == 1
    assert pub.publish("other", "x") == 0
    assert p.get_message(timeout=1) == _msg("message", b"ch", b"hi")
    assert p.get_message(timeout=0.02) is None
    p.unsubscribe("ch")
    assert p.get_message(timeout=1) == _msg("unsubscribe", b"ch", 0)
    assert not p.subscribed
    p.close()


def test_patterns_and_counts(backend):
    backend.needs(*PUBSUB, "PSUBSCRIBE")
    sub, pub = backend.client(), backend.client()
    p = sub.pubsub(ignore_subscribe_messages=True)
    p.subscribe("news.sport")
    p.psubscribe("news.*")
    for _ in range(2):
        p.get_message(timeout=1)  # subscribe confirmations, ignored
    assert pub.publish("news.sport", "goal") == 2
    got = [p.get_message(timeout=1) for _ in range(2)]
    assert got == [_msg("message", b"news.sport", b"goal"),
                   _msg("pmessage", b"news.sport", b"goal", pattern=b"news.*")]
    assert pub.pubsub_channels() == [b"news.sport"]
    assert pub.pubsub_numsub("news.sport", "nobody") == [(b"news.sport", 1), (b"nobody", 0)]
    assert pub.pubsub_numpat() == 1
    p.close()


def test_sharded(backend):
    backend.needs("SSUBSCRIBE", "SPUBLISH")
    sub, pub = backend.client(), backend.client()
    p = sub.pubsub()
    p.ssubscribe("orders:{1}")
    assert p.get_sharded_message(timeout=1) == _msg("ssubscribe", b"orders:{1}", 1)
    assert pub.spublish("orders:{1}", "paid") == 1
    assert p.get_sharded_message(timeout=1) == _msg("smessage", b"orders:{1}", b"paid")
    p.sunsubscribe("orders:{1}")
    assert p.get_sharded_message(timeout=1) == _msg("sunsubscribe", b"orders:{1}", 0)
    p.close()


def test_listen_in_a_thread(backend):
    backend.needs(*PUBSUB)
    sub, pub = backend.client(decode_responses=True), backend.client()
    p = sub.pubsub()
    p.subscribe("jobs")
    got: list[dict] = []

    def reader():
        for m in p.listen():
            got.append(m)
            if m["type"] == "message" and m["data"] == "stop":
                return

    t = threading.Thread(target=reader)
    t.start()
    deadline = time.monotonic() + 5
    while pub.pubsub_numsub("jobs")[0][1] == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    for x in ("a", "b", "stop"):
        pub.publish("jobs", x)
    t.join(5)
    assert [m["data"] for m in got] == [1, "a", "b", "stop"]
    p.close()


def test_run_in_thread_with_handlers(backend):
    backend.needs(*PUBSUB, "PSUBSCRIBE")
    sub, pub = backend.client(), backend.client()
    p = sub.pubsub()
    got: list[tuple] = []
    done = threading.Event()

    def on_message(m):
        got.append((m["type"], m["channel"], m["data"]))
        if len(got) == 2:
            done.set()

    p.subscribe(alerts=on_message)
    p.psubscribe(**{"low-stock.*": on_message})
    worker = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        deadline = time.monotonic() + 5
        while pub.pubsub_numpat() == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        pub.publish("alerts", "payment failed")
        pub.publish("low-stock.sku1", "3 left")
        assert done.wait(5)
    finally:
        worker.stop()
        worker.join(5)
    assert got == [("message", b"alerts", b"payment failed"),
                   ("pmessage", b"low-stock.sku1", b"3 left")]


def test_ping_while_subscribed(backend):
    backend.needs(*PUBSUB)
    p = backend.client().pubsub()
    p.subscribe("x")
    p.get_message(timeout=1)
    p.ping()
    assert p.get_message(timeout=1) == {"type": "pong", "pattern": None, "channel": None,
                                        "data": b""}
    p.close()


def test_many_publisher_threads_keep_per_publisher_order(backend):
    backend.needs(*PUBSUB)
    sub = backend.client()
    p = sub.pubsub(ignore_subscribe_messages=True)
    p.subscribe("feed")
    p.get_message(timeout=1)

    def publish(n):
        c = backend.client()
        for i in range(50):
            c.publish("feed", f"{n}:{i}")

    ts = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    seen: dict[str, list[int]] = {}
    while True:
        m = p.get_message(timeout=0.2)
        if m is None:
            break
        n, i = m["data"].decode().split(":")
        seen.setdefault(n, []).append(int(i))
    assert seen == {str(n): list(range(50)) for n in range(4)}
    p.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_asyncio_pubsub(backend, proto):
    backend.needs(*PUBSUB, "PSUBSCRIBE")

    async def main():
        sub = backend.async_client(protocol=proto, decode_responses=True)
        pub = backend.async_client(protocol=proto)
        p = sub.pubsub()
        await p.subscribe("a")
        await p.psubscribe("b.*")
        first = [await p.get_message(timeout=1) for _ in range(2)]
        assert await p.get_message(timeout=0.02) is None

        async def later():
            await asyncio.sleep(0.02)
            await pub.publish("a", "1")
            await pub.publish("b.x", "2")

        task = asyncio.create_task(later())
        got = []
        async for m in p.listen():
            got.append(m)
            if len(got) == 2:
                break
        await task
        await p.aclose()
        await sub.aclose()
        await pub.aclose()
        return first, got

    first, got = asyncio.run(main())
    assert first == [_msg("subscribe", "a", 1), _msg("psubscribe", "b.*", 2)]
    assert got == [_msg("message", "a", "1"), _msg("pmessage", "b.x", "2", pattern="b.*")]


def test_async_subscriber_woken_by_thread(backend):
    backend.needs(*PUBSUB)
    pub = backend.client()

    async def main():
        sub = backend.async_client()
        p = sub.pubsub(ignore_subscribe_messages=True)
        await p.subscribe("t")
        await p.get_message(timeout=1)
        threading.Timer(0.03, pub.publish, ("t", "from thread")).start()
        m = await p.get_message(timeout=5)
        await p.aclose()
        await sub.aclose()
        return m

    assert asyncio.run(main()) == _msg("message", b"t", b"from thread")
