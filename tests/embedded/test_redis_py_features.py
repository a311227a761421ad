"""More of redis-py's API on real Redis and embedded alike: locks (Lua + SET NX PX),
scan iterators, MULTI results with callbacks, RESP3 reply shapes."""

from __future__ import annotations

import threading

import pytest


def test_lock_excludes_other_threads(backend):
    backend.needs("SET", "EVALSHA", "INCR", "GET")
    r = backend.client()
    seen: list[int] = []

    def work():
        c = backend.client()
        for _ in range(20):
            with c.lock("resource", timeout=5, blocking_timeout=10):
                n = int(c.get("n") or 0)
                seen.append(n)
                c.set("n", n + 1)

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert r.get("n") == b"60"
    assert sorted(seen) == list(range(60))
    lock = r.lock("other", timeout=1)
    assert lock.acquire(blocking=False)
    assert not r.lock("other").acquire(blocking=False)
    lock.release()


def test_scan_iterators(backend):
    backend.needs("SCAN", "HSCAN", "SSCAN", "ZSCAN", "MSET", "HSET", "SADD", "ZADD")
    r = backend.client(decode_responses=True)
    r.mset({f"k{i}": i for i in range(50)})
    r.hset("h", mapping={f"f{i}": i for i in range(30)})
    r.sadd("s", *range(30))
    r.zadd("z", {f"m{i}": i for i in range(30)})
    assert sorted(r.scan_iter("k*", count=7)) == sorted(f"k{i}" for i in range(50))
    assert dict(r.hscan_iter("h")) == {f"f{i}": str(i) for i in range(30)}
    assert sorted(r.sscan_iter("s"), key=int) == [str(i) for i in range(30)]
    assert list(r.zscan_iter("z"))[:2] == [("m0", 0.0), ("m1", 1.0)]


@pytest.mark.parametrize("proto", [2, 3])
def test_reply_shapes_follow_the_protocol(backend, proto):
    backend.needs("HSET", "HGETALL", "ZADD", "ZRANGE", "SMEMBERS", "SADD", "INCRBYFLOAT",
                  "CONFIG", "XADD", "XINFO", "MULTI")
    r = backend.client(protocol=proto)
    r.hset("h", mapping={"a": "1"})
    r.zadd("z", {"x": 1.5, "y": 2})
    r.sadd("s", "only")
    r.xadd("st", {"f": "v"}, id="1-1")
    # redis-py's RESP3 callbacks give [member, score] lists where RESP2 gives tuples
    scored = [(b"x", 1.5), (b"y", 2.0)] if proto == 2 else [[b"x", 1.5], [b"y", 2.0]]
    assert r.hgetall("h") == {b"a": b"1"}
    assert r.zrange("z", 0, -1, withscores=True) == scored
    assert r.smembers("s") == {b"only"}
    assert r.incrbyfloat("f", 0.5) == 0.5
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"} or \
        r.config_get("maxmemory-policy") == {b"maxmemory-policy": b"noeviction"}
    p = r.pipeline()
    p.hgetall("h").zrange("z", 0, -1, withscores=True).smembers("s")
    assert p.execute() == [{b"a": b"1"}, scored, {b"only"}]
    info = r.xinfo_stream("st")
    assert info["length"] == 1 and info["first-entry"] == (b"1-1", {b"f": b"v"})
