"""``streamlite migrate``: an embedded directory's data to a Redis Cluster with one command
(same streams, groups and pending entries there), Redis to a streamlite server with a
pattern, resuming after a crash, and verification that catches a difference."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest
import redis

import streamlite
from streamlite.migrate import migrate
from tests.support.redis_proc import free_port, have_redis, start_redis, start_streamlite

from .rdb_support import dataset_commands, differences, run_all, state

pytestmark = pytest.mark.skipif(not have_redis(), reason="needs redis-server")


def start_cluster() -> tuple[object, redis.cluster.RedisCluster]:
    d = tempfile.mkdtemp(prefix="redis-cluster-")
    # the bus port is given: the default (port + 10000) may be past 65535 or taken
    p = start_redis(["--cluster-enabled", "yes", "--cluster-config-file",
                     os.path.join(d, "nodes.conf"), "--cluster-port", str(free_port())], dir=d)
    p.owns_dir = True
    r = redis.Redis(port=p.port)
    r.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    deadline = time.monotonic() + 30
    while r.cluster("info")["cluster_state"] != "ok":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return p, redis.cluster.RedisCluster(host="127.0.0.1", port=p.port)


def test_embedded_directory_to_redis_cluster_in_one_command(tmp_path):
    d = tmp_path / "data"
    e = streamlite.connect(str(d))
    for i in range(300):
        e.xadd("{orders}:stream", {"id": str(i), "total": str(i * 3)}, id=f"{i + 1}-0")
    e.xdel("{orders}:stream", "5-0")
    e.xgroup_create("{orders}:stream", "billing", id="0")
    e.xgroup_create("{orders}:stream", "shipping", id="0")
    e.xreadgroup("billing", "w1", {"{orders}:stream": ">"}, count=40)
    e.xreadgroup("billing", "w2", {"{orders}:stream": ">"}, count=10)
    e.xack("{orders}:stream", "billing", "1-0", "2-0")
    e.xclaim("{orders}:stream", "billing", "w3", 0, ["3-0"])
    e.xclaim("{orders}:stream", "billing", "w3", 0, ["3-0"])
    e.hset("customer:1", mapping={"name": "a", "n": "1"})
    e.set("counter", 42, px=10**9)
    want = {k: e.xinfo_stream("{orders}:stream", full=True) for k in ["{orders}:stream"]}
    want_pending = e.xpending_range("{orders}:stream", "billing", "-", "+", 100)
    e.close()
    p, cluster = start_cluster()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "streamlite", "migrate", "--from", f"streamlite:///{d}",
             "--to", f"redis+cluster://127.0.0.1:{p.port}"],
            capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "copied 3 keys" in out.stderr and "every key is the same" in out.stderr
        got = cluster.xinfo_stream("{orders}:stream", full=True)
        for g in want["{orders}:stream"]["groups"]:
            g.pop("nacked-count", None)
        for k in ("idmp-duration", "idmp-maxsize", "pids-tracked", "iids-tracked",
                  "iids-added", "iids-duplicates"):
            want["{orders}:stream"].pop(k, None)
        for info in (got, want["{orders}:stream"]):  # the AOF does not carry these times
            for g in info["groups"]:
                for c in g["consumers"]:
                    c.pop("seen-time")
                    c.pop("active-time")
        assert got == want["{orders}:stream"]
        def pending(rows: list[dict]) -> list[tuple]:
            return [(x["message_id"], x["consumer"], x["times_delivered"]) for x in rows]

        got_pending = cluster.xpending_range("{orders}:stream", "billing", "-", "+", 100)
        assert pending(got_pending) == pending(want_pending) and len(got_pending) == 48
        assert cluster.hgetall("customer:1") == {b"name": b"a", b"n": b"1"}
        assert cluster.pttl("counter") > 0
    finally:
        cluster.close()
        p.cleanup()


def test_redis_to_streamlite_with_a_pattern_resumes_after_a_crash(tmp_path):
    red = start_redis()
    sl = start_streamlite()
    try:
        r = redis.Redis(port=red.port)
        run_all(r, dataset_commands())
        for i in range(500):
            r.set(f"bulk:{i}", i)
        src, dst = f"redis://127.0.0.1:{red.port}", f"redis://127.0.0.1:{sl.port}"
        ckpt = str(tmp_path / "state.json")

        class Crash(Exception):
            pass

        def crash_after_progress(msg: str) -> None:
            if msg.startswith("copied") and "keys/s" in msg:
                raise Crash(msg)

        with pytest.raises(Crash):
            migrate(src, dst, match="bulk:*", batch=50, state_path=ckpt, progress_every=100,
                    log=crash_after_progress)
        s = redis.Redis(port=sl.port)
        partial = s.dbsize()
        assert 0 < partial < 500
        logs: list[str] = []
        res = migrate(src, dst, match="bulk:*", batch=50, state_path=ckpt, log=logs.append)
        assert any(x.startswith("resuming:") for x in logs)
        assert res["mismatched"] == [] and s.dbsize() == 500
        # everything else, every type and stream edge case, then a whole-state comparison
        res = migrate(src, dst, log=logs.append, all_dbs=True)
        assert res["mismatched"] == []
        assert differences(state(r), state(s)) == []
        # verification notices a difference
        s.xadd("s", {"extra": "1"})
        s.set("bulk:7", "changed")
        res = migrate(src, dst, match="nothing-matches", log=logs.append)
        from streamlite.migrate import verify

        bad = verify(redis.Redis(port=red.port, protocol=2), redis.Redis(port=sl.port, protocol=2),
                     None, logs.append)
        assert sorted(bad) == [b"bulk:7", b"s"]
    finally:
        red.cleanup()
        sl.cleanup()
