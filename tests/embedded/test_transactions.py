"""MULTI/EXEC/WATCH through redis-py pipelines on real Redis and embedded: results,
errors, WatchError when another thread or task changes a watched key."""

from __future__ import annotations

import asyncio
import threading

import pytest
from redis.exceptions import ResponseError, WatchError

TXN = ("MULTI", "EXEC", "WATCH", "SET", "GET", "INCR")


def test_transaction_pipeline(backend):
    backend.needs(*TXN)
    r = backend.client()
    p = r.pipeline()
    p.set("a", 1).incr("a").get("a").incrby("a", 5)
    assert p.execute() == [True, 2, b"2", 7]
    assert p.execute() == []  # empty pipeline


def test_queue_time_error_aborts(backend):
    backend.needs(*TXN)
    r = backend.client()
    p = r.pipeline()
    p.set("a", 1).execute_command("SET", "only-key").incr("a")
    with pytest.raises(ResponseError) as e:
        p.execute()
    assert "wrong number of arguments for 'set' command" in str(e.value)
    assert r.get("a") is None  # nothing ran


def test_runtime_error_inside_exec(backend):
    backend.needs(*TXN, "LPUSH")
    r = backend.client()
    r.set("s", "x")
    p = r.pipeline()
    p.incr("n").lpush("s", "v").incr("n")
    out = p.execute(raise_on_error=False)
    assert out[0] == 1 and out[2] == 2
    assert isinstance(out[1], ResponseError) and "WRONGTYPE" in str(out[1])
    p.incr("n").lpush("s", "v")
    with pytest.raises(ResponseError, match="Command # 2"):
        p.execute()


def test_watch_conflict_from_another_thread(backend):
    backend.needs(*TXN)
    r, other = backend.client(), backend.client()
    r.set("k", "1")
    with r.pipeline() as p:
        p.watch("k")
        v = int(p.get("k"))
        t = threading.Thread(target=other.set, args=("k", "100"))
        t.start()
        t.join()
        p.multi()
        p.set("k", v + 1)
        with pytest.raises(WatchError):
            p.execute()
    assert r.get("k") == b"100"


def test_watch_without_conflict_and_unwatch(backend):
    backend.needs(*TXN, "UNWATCH")
    r, other = backend.client(), backend.client()
    r.set("k", "1")
    with r.pipeline() as p:
        p.watch("k")
        p.unwatch()
        other.set("k", "5")
        p.multi()
        p.incr("k")
        assert p.execute() == [6]


def test_transaction_helper_retries_under_contention(backend):
    backend.needs(*TXN)
    clients = [backend.client() for _ in range(4)]
    clients[0].set("counter", 0)

    def bump(pipe):
        n = int(pipe.get("counter"))
        pipe.multi()
        pipe.set("counter", n + 1)

    def work(c):
        for _ in range(50):
            c.transaction(bump, "counter")

    ts = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert clients[0].get("counter") == b"200"


def test_incr_from_four_threads(backend):
    backend.needs("INCR", "GET")
    clients = [backend.client() for _ in range(4)]

    def work(c):
        for _ in range(500):
            c.incr("hits")

    ts = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert clients[0].get("hits") == b"2000"


def test_asyncio_tasks_incr_and_watch(backend):
    backend.needs(*TXN)

    async def main():
        a, b = backend.async_client(), backend.async_client()

        async def work():
            for _ in range(200):
                await a.incr("n")

        await asyncio.gather(*(work() for _ in range(4)))
        n = await b.get("n")
        await a.set("k", "1")
        async with a.pipeline() as p:
            await p.watch("k")
            await b.set("k", "2")
            p.multi()
            p.set("k", "3")
            with pytest.raises(WatchError):
                await p.execute()
        async with a.pipeline() as p:
            p.incr("x").incr("x")
            out = await p.execute()
        await a.aclose()
        await b.aclose()
        return n, out

    n, out = asyncio.run(main())
    assert n == b"800"
    assert out == [1, 2]
