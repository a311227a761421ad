"""``streamlite.serve``: the application's embedded engine over TCP too, one dataset for
both fronts: data, blocking commands woken across fronts, pub/sub across fronts,
CLIENT LIST, durability, and redis-cli."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time

import pytest
import redis

import streamlite
from streamlite.embedded import Embedded, serve


def _thread(fn, *args):
    box: dict = {}

    def run():
        try:
            box["result"] = fn(*args)
        except BaseException as e:  # noqa: BLE001
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def _wait_blocked(emb: Embedded, n: int = 1) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with emb.lock:
            if len(emb.host.blocking) >= n:
                return
        time.sleep(0.003)
    raise AssertionError("never blocked")


@pytest.fixture
def served():
    emb = Embedded()
    s = serve(emb, port=0)
    tcp = redis.Redis(port=s.port)
    yield emb, s, tcp
    tcp.close()
    s.close()
    emb.close()


def test_one_dataset_for_both_fronts(served):
    emb, s, tcp = served
    app = emb.client()
    app.xadd("orders", {"id": "1"}, id="1-1")
    assert tcp.xrange("orders") == [(b"1-1", {b"id": b"1"})]
    tcp.hset("h", mapping={"a": "1"})
    assert app.hgetall("h") == {b"a": b"1"}
    assert s.url == f"redis://127.0.0.1:{s.port}/0"
    assert s.client().xlen("orders") == 1


def test_embedded_waiter_woken_by_tcp_write(served):
    emb, s, tcp = served
    app = emb.client()
    t, box = _thread(app.blpop, "q", 0)
    _wait_blocked(emb)
    tcp.rpush("q", "from-tcp")
    t.join(5)
    assert box == {"result": (b"q", b"from-tcp")}


def test_tcp_waiter_woken_by_embedded_write(served):
    emb, s, tcp = served
    app = emb.client()
    app.xgroup_create("s", "g", id="$", mkstream=True)
    t, box = _thread(tcp.xreadgroup, "g", "c", {"s": ">"}, None, 0)
    _wait_blocked(emb)
    app.xadd("s", {"k": "v"}, id="7-1")
    t.join(5)
    assert box == {"result": [[b"s", [(b"7-1", {b"k": b"v"})]]]}


def test_waiters_of_both_fronts_are_served_in_order(served):
    emb, s, tcp = served
    app = emb.client()
    t1, box1 = _thread(tcp.blpop, "q", 0)
    _wait_blocked(emb, 1)
    t2, box2 = _thread(app.blpop, "q", 0)
    _wait_blocked(emb, 2)
    app.rpush("q", "first", "second")
    t1.join(5)
    t2.join(5)
    assert box1 == {"result": (b"q", b"first")}
    assert box2 == {"result": (b"q", b"second")}


def test_timeouts_on_both_fronts(served):
    emb, s, tcp = served
    app = emb.client()
    assert tcp.blpop("nothing", timeout=0.05) is None
    assert app.blpop("nothing", timeout=0.05) is None
    assert len(emb.host.blocking) == 0


def test_pubsub_across_fronts(served):
    emb, s, tcp = served
    app = emb.client()
    tcp_sub = tcp.pubsub(ignore_subscribe_messages=True)
    tcp_sub.subscribe("orders")
    app_sub = app.pubsub(ignore_subscribe_messages=True)
    app_sub.psubscribe("order*")
    tcp_sub.get_message(timeout=1)
    app_sub.get_message(timeout=1)
    assert app.publish("orders", "from-app") == 2
    assert tcp_sub.get_message(timeout=2)["data"] == b"from-app"
    assert app_sub.get_message(timeout=2)["data"] == b"from-app"
    assert tcp.publish("orders", "from-tcp") == 2
    assert tcp_sub.get_message(timeout=2)["data"] == b"from-tcp"
    assert app_sub.get_message(timeout=2)["data"] == b"from-tcp"
    tcp_sub.close()
    app_sub.close()


def test_asyncio_embedded_waiter_woken_by_tcp(served):
    emb, s, tcp = served

    async def main():
        a = emb.async_client()
        waiter = asyncio.create_task(a.xread({"s": "$"}, block=0))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(tcp.xadd, "s", {"x": "1"}, "9-9")
        got = await asyncio.wait_for(waiter, 5)
        await a.aclose()
        return got

    assert asyncio.run(main()) == [[b"s", [(b"9-9", {b"x": b"1"})]]]


def test_client_list_and_unblock_across_fronts(served):
    emb, s, tcp = served
    app = emb.client(client_name="app-worker")
    app.ping()
    names = [line for line in tcp.client_list() if line["name"] == "app-worker"]
    assert len(names) == 1
    t, box = _thread(app.blpop, "q", 0)
    _wait_blocked(emb)
    blocked = next(x.client.id for x in emb.host.sessions.values() if x.blocked)
    assert tcp.client_unblock(blocked) is True
    t.join(5)
    assert box == {"result": None}


def test_shutdown_over_tcp_is_refused(served):
    emb, s, tcp = served
    with pytest.raises(redis.ResponseError, match="embedded in an application"):
        tcp.shutdown()
    assert tcp.ping()


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="no redis-cli")
def test_redis_cli_sees_the_application_data(tmp_path):
    d = str(tmp_path / "data")
    app = streamlite.connect(d, appendfsync="always")
    with serve(d, port=0) as s:
        app.xadd("events", {"type": "ORDER_COMPLETED"}, id="5-1")
        out = subprocess.run(["redis-cli", "-p", str(s.port), "XLEN", "events"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        assert out == "1"
        subprocess.run(["redis-cli", "-p", str(s.port), "SET", "from-cli", "yes"],
                       capture_output=True, timeout=30, check=True)
        assert app.get("from-cli") == b"yes"
    app.close()
    # everything written through either front is in the directory
    again = streamlite.connect(d)
    assert again.get("from-cli") == b"yes" and again.xlen("events") == 1
    again.close()


def test_close_releases_the_port_and_the_directory(tmp_path):
    d = str(tmp_path / "data")
    s = serve(d, port=0)
    port = s.port
    redis.Redis(port=port).set("k", "v")
    s.close()
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=port, socket_connect_timeout=1).ping()
    r = streamlite.connect(d)  # the served host was the directory's only user: closed
    assert r.get("k") == b"v"
    r.close()


def test_port_in_use_and_serving_twice_are_errors():
    emb, other = Embedded(), Embedded()
    s = serve(emb, port=0)
    try:
        with pytest.raises(RuntimeError, match="already served"):
            serve(emb, port=0)
        with pytest.raises(OSError):
            serve(other, port=s.port)
        assert redis.Redis(port=s.port).ping()  # the first one is unharmed
        t, box = _thread(emb.client().blpop, "q", 0)
        _wait_blocked(emb)
        redis.Redis(port=s.port).rpush("q", "x")
        t.join(5)
        assert box == {"result": (b"q", b"x")}
    finally:
        s.close()
        emb.close()
        other.close()
