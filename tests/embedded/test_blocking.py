"""Blocking commands through redis-py: woken by writes from other threads and tasks,
first come first served, with timeouts; plumbing tested with ``embtest.bpop`` and the
real commands (BLPOP, XREAD BLOCK, ...) as they land in the engine."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis

from streamlite.embedded import Embedded


def _in_thread(fn, *args):
    box: dict[str, object] = {}

    def run():
        try:
            box["result"] = fn(*args)
        except BaseException as e:  # noqa: BLE001
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def _wait_blocked(emb: Embedded, n: int = 1, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with emb.lock:
            if len(emb.host.blocking) >= n:
                return
        time.sleep(0.002)
    raise AssertionError(f"{n} client(s) never blocked")


def test_blocked_thread_is_woken_by_another_thread(embtest, emb):
    a, b = emb.client(), emb.client()
    t, box = _in_thread(a.execute_command, "EMBTEST.BPOP", "q", 0)
    _wait_blocked(emb)
    assert b.execute_command("EMBTEST.PUSH", "q", "hello") == 1
    t.join(5)
    assert box == {"result": [b"q", b"hello"]}
    assert b.execute_command("EMBTEST.POPNOW", "q") is None  # consumed by the waiter


def test_timeout_answers_nil(embtest, emb):
    a = emb.client()
    assert a.execute_command("EMBTEST.BPOP", "q", 50) is None
    assert len(emb.host.blocking) == 0


def test_first_come_first_served(embtest, emb):
    c1, c2, w = emb.client(), emb.client(), emb.client()
    t1, box1 = _in_thread(c1.execute_command, "EMBTEST.BPOP", "q", 0)
    _wait_blocked(emb, 1)
    t2, box2 = _in_thread(c2.execute_command, "EMBTEST.BPOP", "q", 0)
    _wait_blocked(emb, 2)
    w.execute_command("EMBTEST.PUSH", "q", "first")
    t1.join(5)
    assert box1 == {"result": [b"q", b"first"]}
    assert t2.is_alive()
    w.execute_command("EMBTEST.PUSH", "q", "second")
    t2.join(5)
    assert box2 == {"result": [b"q", b"second"]}


def test_one_push_of_two_values_serves_two_waiters(embtest, emb):
    c1, c2, w = emb.client(), emb.client(), emb.client()
    t1, box1 = _in_thread(c1.execute_command, "EMBTEST.BPOP", "q", 0)
    _wait_blocked(emb, 1)
    t2, box2 = _in_thread(c2.execute_command, "EMBTEST.BPOP", "q", 0)
    _wait_blocked(emb, 2)
    w.execute_command("EMBTEST.PUSH", "q", "a", "b")
    t1.join(5)
    t2.join(5)
    assert (box1["result"], box2["result"]) == ([b"q", b"a"], [b"q", b"b"])


def test_commands_sent_behind_a_blocked_one_wait_for_it(embtest, emb):
    a, w = emb.client(), emb.client()
    p = a.pipeline(transaction=False)
    p.execute_command("EMBTEST.BPOP", "q", 0).echo("after")
    t, box = _in_thread(p.execute)
    _wait_blocked(emb)
    w.execute_command("EMBTEST.PUSH", "q", "v")
    t.join(5)
    assert box == {"result": [[b"q", b"v"], b"after"]}


def test_socket_timeout_drops_the_blocked_client(embtest, emb):
    a = emb.client(socket_timeout=0.05)
    with pytest.raises(redis.TimeoutError):
        a.execute_command("EMBTEST.BPOP", "q", 0)
    assert len(emb.host.blocking) == 0
    w = emb.client()
    w.execute_command("EMBTEST.PUSH", "q", "v")
    assert w.execute_command("EMBTEST.POPNOW", "q") == b"v"  # nobody took it
    assert a.echo("still usable") == b"still usable"


def test_asyncio_task_woken_by_another_task(embtest, emb):
    async def main():
        a, b = emb.async_client(), emb.async_client()
        waiter = asyncio.create_task(a.execute_command("EMBTEST.BPOP", "q", 0))
        await asyncio.sleep(0.02)
        assert not waiter.done()
        await b.execute_command("EMBTEST.PUSH", "q", "x")
        got = await asyncio.wait_for(waiter, 5)
        await a.aclose()
        await b.aclose()
        return got

    assert asyncio.run(main()) == [b"q", b"x"]


def test_asyncio_task_woken_by_a_thread(embtest, emb):
    w = emb.client()

    async def main():
        a = emb.async_client()
        waiter = asyncio.create_task(a.execute_command("EMBTEST.BPOP", "q", 0))
        await asyncio.sleep(0.02)
        threading.Timer(0.02, w.execute_command, ("EMBTEST.PUSH", "q", "from-thread")).start()
        got = await asyncio.wait_for(waiter, 5)
        await a.aclose()
        return got

    assert asyncio.run(main()) == [b"q", b"from-thread"]


def test_asyncio_timeout_and_loop_stays_free(embtest, emb):
    async def main():
        a = emb.async_client()
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        t = asyncio.create_task(ticker())
        got = await a.execute_command("EMBTEST.BPOP", "q", 100)
        t.cancel()
        await a.aclose()
        return got, ticks

    got, ticks = asyncio.run(main())
    assert got is None
    assert ticks >= 1  # the loop ran other tasks while the command waited


def test_cancelled_waiter_is_unblocked(embtest, emb):
    async def main():
        a = emb.async_client()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(a.execute_command("EMBTEST.BPOP", "q", 0), 0.05)
        await a.aclose()

    asyncio.run(main())
    assert len(emb.host.blocking) == 0
    w = emb.client()
    w.execute_command("EMBTEST.PUSH", "q", "v")
    assert w.execute_command("EMBTEST.POPNOW", "q") == b"v"


# -- the real blocking commands, on real Redis and embedded ------------------------


def test_blpop_woken_by_rpush_from_thread(backend):
    backend.needs("BLPOP", "RPUSH")
    a, w = backend.client(), backend.client()
    t, box = _in_thread(a.blpop, ["q1", "q2"], 0)
    backend.wait_blocked()
    w.rpush("q2", "job")
    t.join(5)
    assert box == {"result": (b"q2", b"job")}
    assert a.blpop("q1", timeout=0.05) is None


def test_brpop_serves_waiters_in_order(backend):
    backend.needs("BRPOP", "LPUSH")
    c1, c2, w = backend.client(), backend.client(), backend.client()
    t1, box1 = _in_thread(c1.brpop, "q", 0)
    backend.wait_blocked(1)
    t2, box2 = _in_thread(c2.brpop, "q", 0)
    backend.wait_blocked(2)
    w.lpush("q", "a", "b")  # list is b, a: BRPOP takes a first
    t1.join(5)
    t2.join(5)
    assert (box1["result"], box2["result"]) == ((b"q", b"a"), (b"q", b"b"))


def test_blmove_woken(backend):
    backend.needs("BLMOVE", "RPUSH", "LRANGE")
    a, w = backend.client(), backend.client()
    t, box = _in_thread(a.blmove, "src", "dst", 0, "LEFT", "RIGHT")
    backend.wait_blocked()
    w.rpush("src", "m")
    t.join(5)
    assert box == {"result": b"m"}
    assert w.lrange("dst", 0, -1) == [b"m"]
    assert a.blmove("src", "dst", 0.05, "LEFT", "RIGHT") is None


def test_xread_block_woken_by_xadd(backend):
    backend.needs("XADD", "XREAD")
    a, w = backend.client(), backend.client()
    w.xadd("s", {"f": "0"}, id="1-1")
    t, box = _in_thread(a.xread, {"s": "$"}, None, 0)
    backend.wait_blocked()
    w.xadd("s", {"f": "1"}, id="2-1")
    t.join(5)
    assert box == {"result": [[b"s", [(b"2-1", {b"f": b"1"})]]]}
    assert a.xread({"s": "$"}, block=50) == []


@pytest.mark.parametrize("proto", [2, 3])
def test_xreadgroup_block_woken_by_xadd_async(backend, proto):
    backend.needs("XADD", "XREADGROUP", "XGROUP")

    async def main():
        a, w = backend.async_client(protocol=proto), backend.async_client(protocol=proto)
        await w.xgroup_create("s", "g", id="$", mkstream=True)
        waiter = asyncio.create_task(a.xreadgroup("g", "c1", {"s": ">"}, count=10, block=0))
        await asyncio.sleep(0.05)
        await w.xadd("s", {"k": "v"}, id="5-1")
        got = await asyncio.wait_for(waiter, 5)
        timed_out = await a.xreadgroup("g", "c1", {"s": ">"}, block=30)
        await a.aclose()
        await w.aclose()
        return got, timed_out

    got, timed_out = asyncio.run(main())
    if proto == 2:
        assert got == [[b"s", [(b"5-1", {b"k": b"v"})]]]
        assert timed_out == []
    else:
        assert got == {b"s": [[(b"5-1", {b"k": b"v"})]]}
        assert timed_out == {}


def test_xreadgroup_blocked_on_deleted_stream_gets_unblocked_error(backend):
    backend.needs("XADD", "XREADGROUP", "XGROUP", "DEL")
    a, w = backend.client(), backend.client()
    w.xgroup_create("s", "g", id="$", mkstream=True)
    t, box = _in_thread(a.xreadgroup, "g", "c", {"s": ">"}, None, 0)
    backend.wait_blocked()
    w.delete("s")
    t.join(5)
    err = box.get("error")
    assert isinstance(err, redis.ResponseError)
    assert "UNBLOCKED" in str(err) or "NOGROUP" in str(err), err


def test_blocking_inside_multi_answers_at_once(backend):
    backend.needs("MULTI", "EXEC", "BLPOP")
    r = backend.client()
    p = r.pipeline(transaction=True)
    p.blpop("nothing", 0)
    assert p.execute() == [None]


def test_hundreds_of_blocked_readers(embtest, emb):
    """More concurrent blocked readers than redis-py's default pool size (100)."""
    async def main():
        a, w = emb.async_client(), emb.async_client()
        waiters = [asyncio.create_task(a.execute_command("EMBTEST.BPOP", f"q{i}", 0))
                   for i in range(150)]
        await asyncio.sleep(0.05)
        for i in range(150):
            await w.execute_command("EMBTEST.PUSH", f"q{i}", i)
        got = await asyncio.wait_for(asyncio.gather(*waiters), 10)
        await a.aclose()
        await w.aclose()
        return got

    got = asyncio.run(main())
    assert got == [[f"q{i}".encode(), str(i).encode()] for i in range(150)]
