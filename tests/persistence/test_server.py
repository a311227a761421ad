"""The server with real files and kills: exact round trips, rewrites and BGSAVE under load,
disk errors (a file size limit makes writes fail), everysec, INFO persistence."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.diff import RedisConn
from tests.support.redis_proc import ServerProc, free_port, have_redis, start_redis, wait_port

from .helpers import LIB
from .support import check_stream_consistent, connect, sid, start, wait_no_child

ALWAYS = ("--appendonly", "yes", "--appendfsync", "always")


def populate(r: redis.Redis) -> None:
    r.set("str", "v")
    r.set("ttl", "x", px=10**9)
    r.rpush("list", *[f"i{i}" for i in range(300)])
    r.sadd("set", *range(50))
    r.zadd("z", {f"m{i}": i / 7 for i in range(200)})
    r.hset("h", mapping={f"f{i}": i for i in range(20)})
    r.execute_command("HPEXPIRE", "h", 10**9, "FIELDS", 2, "f1", "f2")
    for i in range(500):
        r.xadd("s", {"n": i, "pad": "x" * (i % 13)})
    ids = [e[0] for e in r.xrange("s", count=40)]
    r.xdel("s", *ids[::7])
    r.xgroup_create("s", "g1", id="0")
    r.xgroup_create("s", "g2", id="$")
    r.xreadgroup("g1", "alice", {"s": ">"}, count=30)
    r.xreadgroup("g1", "bob", {"s": ">"}, count=12)
    r.xack("s", "g1", *ids[1:5])
    r.execute_command("XCLAIM", "s", "g1", "carol", 0, ids[10], "RETRYCOUNT", 4)
    r.execute_command("XADD", "s", "IDMP", "p", "i1", "*", "k", "v")
    r.execute_command("XCFGSET", "s", "IDMP-DURATION", 300)
    r.execute_command("FUNCTION", "LOAD", LIB)


def snapshot_of(port: int) -> dict[str, Any]:
    """Every key's type, expiry time and contents, read through the protocol."""
    c = RedisConn(port)
    try:
        out: dict[str, Any] = {}
        for key in sorted(c.call("KEYS", "*")):
            t = c.call("TYPE", key)
            read = {b"string": ("GET",), b"list": ("LRANGE", "0", "-1"),
                    b"set": ("SMEMBERS",), b"zset": ("ZRANGE", "0", "-1", "WITHSCORES"),
                    b"hash": ("HGETALL",)}.get(t)
            if read is None:
                v: Any = c.call("XINFO", "STREAM", key, "FULL", "COUNT", "0")
            else:
                v = c.call(read[0], key, *read[1:])
                if t in (b"set", b"hash"):
                    v = sorted(v)
            out[key.decode()] = (t, c.call("PEXPIRETIME", key), v)
        out["functions"] = c.call("FUNCTION", "LIST", "WITHCODE")
        return out
    finally:
        c.close()


def _drop_times(v: Any) -> Any:
    if isinstance(v, tuple):
        return tuple(_drop_times(x) for x in v)
    if isinstance(v, list):
        out = []
        skip = False
        for x in v:
            if skip:
                skip = False
                continue
            if x in (b"seen-time", b"active-time"):
                skip = True
                continue
            out.append(_drop_times(x))
        return out
    return v


@pytest.mark.parametrize("how", ["kill-incr", "kill-after-rewrite", "snapshot-shutdown",
                                 "debug-reload"])
def test_everything_round_trips_across_restarts(tmp_path, how):
    args = ALWAYS if how != "snapshot-shutdown" else ("--save", "3600 1")
    srv = start(str(tmp_path), *args)
    try:
        r = connect(srv)
        populate(r)
        if how == "kill-after-rewrite":
            r.bgrewriteaof()
            wait_no_child(r)
            r.xadd("s", {"after": "rewrite"})
        before = snapshot_of(srv.port)
        if how == "snapshot-shutdown":
            try:
                RedisConn(srv.port).call("SHUTDOWN")
            except ConnectionError:
                pass
            assert srv.proc.wait(10) == 0
        elif how == "debug-reload":
            srv.stop(sig_kill=True)
            srv = start(str(tmp_path), *args, "--enable-debug-command", "yes")
            r = connect(srv)
            before = snapshot_of(srv.port)
            assert r.execute_command("DEBUG", "RELOAD") == b"OK"
            assert snapshot_of(srv.port) == before
            assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
            # LOADAOF replays the log: consumers' seen/active times are the replay's
            after = snapshot_of(srv.port)
            assert {k: _drop_times(v) for k, v in after.items()} == \
                   {k: _drop_times(v) for k, v in before.items()}
            return
        else:
            srv.stop(sig_kill=True)
        srv = start(str(tmp_path), *args)
        connect(srv)
        after = snapshot_of(srv.port)
        if how == "kill-incr":  # replayed commands: seen/active times are the replay's own
            after = {k: _drop_times(v) for k, v in after.items()}
            before = {k: _drop_times(v) for k, v in before.items()}
        assert after == before
        check_stream_consistent(srv.port, "s")
    finally:
        srv.cleanup()


class Producer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.acked: list[tuple[int, int]] = []
        self.t = threading.Thread(target=self.run)

    def run(self) -> None:
        r = redis.Redis(port=self.port, socket_timeout=10, retry=Retry(NoBackoff(), 0))
        try:
            while not self.stop.is_set():
                p = r.pipeline(transaction=False)
                for i in range(10):
                    p.xadd("load", {"i": i, "pad": "y" * 50})
                ids = p.execute()
                self.acked.extend(sid(x) for x in ids)
        except (redis.ConnectionError, redis.TimeoutError):
            pass
        except BaseException as e:  # noqa: BLE001
            self.error = e

    error: BaseException | None = None


def test_rewrites_and_bgsaves_under_load_lose_nothing(tmp_path):
    srv = start(str(tmp_path), *ALWAYS, "--save", "")
    try:
        r = connect(srv)
        prods = [Producer(srv.port) for _ in range(2)]
        for p in prods:
            p.t.start()
        marks = []
        for _ in range(4):
            time.sleep(0.3)
            assert r.bgrewriteaof()
            wait_no_child(r)
            time.sleep(0.2)
            marks.append(sum(len(p.acked) for p in prods))
            assert r.bgsave()
            wait_no_child(r)
        info = r.info("persistence")
        assert info["aof_rewrites"] == 4 and info["rdb_saves"] == 4
        assert info["aof_last_bgrewrite_status"] == "ok"
        time.sleep(0.3)
        srv.stop(sig_kill=True)
        for p in prods:
            p.stop.set()
            p.t.join(10)
        acked = {x for p in prods for x in p.acked}
        assert len(acked) > marks[0] > 0
        # the AOF holds every acknowledged entry
        srv = start(str(tmp_path), *ALWAYS)
        connect(srv)
        info = check_stream_consistent(srv.port, "load")
        present = {sid(e[0]) for e in info[b"entries"]}
        assert acked <= present
        srv.stop(sig_kill=True)
        # the last snapshot holds at least what was acknowledged before it started
        srv = start(str(tmp_path), "--appendonly", "no")
        connect(srv)
        info = check_stream_consistent(srv.port, "load")
        assert info[b"length"] >= marks[-1]
        snap_ids = {sid(e[0]) for e in info[b"entries"]}
        assert snap_ids <= present
    finally:
        srv.cleanup()


def test_enabling_aof_at_run_time_under_load(tmp_path):
    srv = start(str(tmp_path))
    try:
        r = connect(srv)
        prod = Producer(srv.port)
        prod.t.start()
        time.sleep(0.3)
        assert r.config_set("appendonly", "yes")
        assert r.config_set("appendfsync", "always")
        wait_no_child(r)
        time.sleep(0.3)
        srv.stop(sig_kill=True)
        prod.stop.set()
        prod.t.join(10)
        srv = start(str(tmp_path), "--appendonly", "yes")
        connect(srv)
        info = check_stream_consistent(srv.port, "load")
        # entries acknowledged before CONFIG SET are in the base, the rest in the log
        assert set(prod.acked) <= {sid(e[0]) for e in info[b"entries"]}
    finally:
        srv.cleanup()


def test_everysec_kill_9_keeps_what_was_written(tmp_path):
    """A process crash under everysec loses nothing acknowledged: each batch is written
    (to the page cache) before its replies; only an OS crash can lose up to ~1 s."""
    args = ("--appendonly", "yes", "--appendfsync", "everysec")
    srv = start(str(tmp_path), *args)
    try:
        connect(srv)
        prod = Producer(srv.port)
        prod.t.start()
        time.sleep(1.5)
        srv.stop(sig_kill=True)
        prod.stop.set()
        prod.t.join(10)
        assert prod.error is None and prod.acked, prod.error
        srv = start(str(tmp_path), *args)
        connect(srv)
        info = check_stream_consistent(srv.port, "load")
        assert set(prod.acked) <= {sid(e[0]) for e in info[b"entries"]}
    finally:
        srv.cleanup()


# -- disk errors: a file size limit (RLIMIT_FSIZE) makes the AOF writes fail ---------------


def _spawn_limited(dir: str, limit: int, *args: str) -> ServerProc:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlite", "server", "--port", str(port),
           "--bind", "127.0.0.1", "--dir", dir, *args]

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=limit_files)
    wait_port(port, proc=proc)
    return ServerProc(proc, port, dir, False, args=cmd)


def test_everysec_write_error_gives_misconf_and_recovers_after_restart(tmp_path):
    srv = _spawn_limited(str(tmp_path), 64 * 1024, "--appendonly", "yes",
                         "--appendfsync", "everysec")
    try:
        r = connect(srv)
        acked = []
        err = None
        for i in range(5000):
            try:
                r.set(f"k{i}", "v" * 100)
                acked.append(i)
            except redis.ResponseError as e:
                err = str(e)
                break
        assert err == "MISCONF Errors writing to the AOF file: File too large"
        assert r.get("k0") == b"v" * 100  # reads still work
        with pytest.raises(redis.ResponseError, match="MISCONF"):
            r.ping()
        info = r.info("persistence")
        assert info["aof_last_write_status"] == "err"
        srv.stop()
        srv = start(str(tmp_path), "--appendonly", "yes")
        r = connect(srv)
        # everysec acknowledged the batch that then failed to reach the file (as Redis
        # does): at most that last batch is missing
        present = sum(1 for i in acked if r.exists(f"k{i}"))
        assert present >= len(acked) - 1
    finally:
        srv.cleanup()


def test_always_write_error_exits_without_acknowledging(tmp_path):
    srv = _spawn_limited(str(tmp_path), 64 * 1024, *ALWAYS)
    try:
        r = redis.Redis(port=srv.port, socket_timeout=10, retry=Retry(NoBackoff(), 0))
        connect(srv)
        acked = []
        with pytest.raises((redis.ConnectionError, redis.TimeoutError)) as exc:
            for i in range(5000):
                r.set(f"k{i}", "v" * 100)
                acked.append(i)
        try:
            code = srv.proc.wait(10)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            code = None
        log = srv.proc.stderr.read().decode() if srv.proc.stderr else ""
        assert code == 1, (log, exc.value, len(acked))
        assert "Can't recover from AOF write error when the AOF fsync policy is 'always'" in log
        srv = start(str(tmp_path), "--appendonly", "yes")
        r = connect(srv)
        assert all(r.exists(f"k{i}") for i in acked)
    finally:
        srv.cleanup()


# -- INFO persistence ------------------------------------------------------------------------


@pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")
def test_info_persistence_has_redis_fields(tmp_path):
    os.makedirs(tmp_path / "redis")
    os.makedirs(tmp_path / "sl")
    ref = start_redis(["--appendonly", "yes"], dir=str(tmp_path / "redis"))
    srv = start(str(tmp_path / "sl"), "--appendonly", "yes")
    try:
        want = set(redis.Redis(port=ref.port).info("persistence"))
        have = set(connect(srv).info("persistence"))
        assert want <= have, want - have
    finally:
        srv.cleanup()
        ref.cleanup()


def test_a_damaged_aof_stops_the_server_with_a_clear_message(tmp_path):
    srv = start(str(tmp_path), *ALWAYS)
    r = connect(srv)
    r.set("a", "not a number")
    srv.stop(sig_kill=True)
    incr = tmp_path / "appendonlydir" / "appendonly.aof.1.incr.aof"
    size = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(b"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n")
    cmd = [sys.executable, "-m", "streamlite", "server", "--port", str(free_port()),
           "--bind", "127.0.0.1", "--dir", str(tmp_path), *ALWAYS]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    srv.cleanup()
    assert out.returncode == 1
    assert "Fatal error loading the DB" in out.stderr
    assert f"appendonly.aof.1.incr.aof at offset {size}" in out.stderr


# -- arrays in a plain-command rewrite ---------------------------------------------------------


def test_plain_rewrite_round_trips_arrays(tmp_path):
    """``aof-use-rdb-preamble no``: arrays go into the base as ARSET runs and an ARSEEK
    cursor; after a restart from that base (and an empty log) every element, hole,
    cursor and TTL is back."""
    args = (*ALWAYS, "--aof-use-rdb-preamble", "no")
    srv = start(str(tmp_path), *args)
    try:
        r = connect(srv)
        r.execute_command("ARMSET", "sparse", 0, "a", 7, "b", 8, "c", 10**12, "far")
        r.execute_command("ARSET", "dense", 3, *[f"v{i}" for i in range(200)])
        r.execute_command("ARINSERT", "ins", "x", "y", "z")
        r.execute_command("ARDEL", "ins", 1)
        r.execute_command("ARRING", "ring", 4, *"abcdef")  # wrapped: cursor inside
        r.execute_command("ARSET", "seek", 5, "q")
        r.execute_command("ARSEEK", "seek", 2**64 - 1)  # the terminal cursor
        r.execute_command("ARSET", "ttl", 1, "t")
        r.pexpire("ttl", 10**9)
        keys = ["sparse", "dense", "ins", "ring", "seek", "ttl"]

        def state() -> list[Any]:
            return [(r.execute_command("ARSCAN", k, 0, 10**12),
                     r.execute_command("ARINFO", k), r.execute_command("ARNEXT", k),
                     r.pexpiretime(k)) for k in keys]

        before = state()
        r.bgrewriteaof()
        wait_no_child(r)
        assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
        bases = [p for p in (tmp_path / "appendonlydir").iterdir() if ".base." in p.name]
        assert len(bases) == 1
        text = bases[0].read_bytes()
        assert b"ARSET" in text and b"ARSEEK" in text and b"RESTORE" not in text
        srv.stop(sig_kill=True)
        srv = start(str(tmp_path), *args)
        r = connect(srv)
        assert state() == before
    finally:
        srv.cleanup()
