"""Replication with Redis's protocol: a real redis-server 8.2 follows a streamlite master
(full sync, the command stream, WAIT, promotion), streamlite follows a Redis master and
another streamlite (read-only, partial resync after a lost link), the stream carries what
Redis's carries, and kill -9 in the middle of a full sync leaves both sides loadable."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import hiredis
import pytest
import redis
from tests.persistence.rdb_support import dataset_commands, differences, run_all, state
from tests.support.redis_proc import ServerProc, have_redis, start_redis, start_streamlite

pytestmark = pytest.mark.skipif(not have_redis(), reason="needs redis-server")


def until(cond: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def link_up(r: redis.Redis) -> bool:
    return r.info("replication").get("master_link_status") == "up"


def in_sync(master: redis.Redis, replica: redis.Redis) -> bool:
    off = master.info("replication")["master_repl_offset"]
    return replica.info("replication").get("slave_repl_offset") == off


@pytest.fixture
def procs():
    started: list[ServerProc] = []
    yield started
    for p in started:
        p.cleanup()


def test_redis_replica_follows_a_streamlite_master_and_keeps_every_acked_write(procs):
    sl = start_streamlite()
    procs.append(sl)
    m = redis.Redis(port=sl.port)
    run_all(m, dataset_commands())  # the full sync carries every type and stream state
    red = start_redis(["--replicaof", "127.0.0.1", str(sl.port)])
    procs.append(red)
    r = redis.Redis(port=red.port)
    until(lambda: link_up(r), what="the replica's link")
    acked: list[int] = []
    stop = threading.Event()

    def load() -> None:  # a second writer the whole time
        w = redis.Redis(port=sl.port)
        i = 0
        while not stop.is_set():
            w.xadd("load", {"i": str(i)})
            i += 1

    t = threading.Thread(target=load)
    t.start()
    try:
        for batch in range(20):
            p = m.pipeline(transaction=False)
            for j in range(25):
                n = batch * 25 + j
                p.xadd("acked", {"n": str(n)}, id=f"{n + 1}-0")
                p.hset("h", str(n), str(n))
            p.execute()
            if m.wait(1, 10000) == 1:
                acked.extend(range(batch * 25, batch * 25 + 25))
    finally:
        stop.set()
        t.join()
    assert len(acked) == 500
    m.xgroup_create("acked", "g", "0")
    m.xreadgroup("g", "c", {"acked": ">"}, count=7)
    assert m.wait(1, 10000) == 1
    assert r.execute_command("ROLE")[0] == b"slave"
    with pytest.raises(redis.ReadOnlyError):
        r.set("x", "1")
    until(lambda: in_sync(m, r), what="the replica to catch up")
    want = state(m, times=False)
    r.replicaof("NO", "ONE")  # promotion: every acknowledged write is there
    assert r.execute_command("ROLE")[0] == b"master"
    got = state(r, times=False)
    ids = {x[0] for x in r.xrange("acked")}
    assert all(f"{n + 1}-0".encode() in ids for n in acked)
    assert differences(want, got) == []
    info = m.info("replication")
    assert info["connected_slaves"] == 0 or info["role"] == "master"


def test_streamlite_replica_of_redis_is_read_only_and_promotes(procs):
    red = start_redis()
    procs.append(red)
    r = redis.Redis(port=red.port)
    run_all(r, dataset_commands())
    sl = start_streamlite(["--replicaof", "127.0.0.1", str(red.port)])
    procs.append(sl)
    s = redis.Redis(port=sl.port)
    until(lambda: link_up(s), what="the link")
    for i in range(200):
        r.xadd("after", {"i": str(i)})
    r.expire("after", 1000)
    assert r.wait(1, 10000) == 1
    until(lambda: in_sync(r, s), what="the replica to catch up")
    assert differences(state(r, times=False), state(s, times=False)) == []
    info = s.info("replication")
    assert info["role"] == "slave" and info["master_port"] == red.port
    assert info["master_sync_in_progress"] == 0 and info["slave_read_only"] == 1
    with pytest.raises(redis.ReadOnlyError, match="You can't write against a read only replica"):
        s.xadd("after", {"x": "y"})
    assert r.info("replication")["connected_slaves"] == 1
    assert s.execute_command("ROLE")[:3] == [b"slave", b"127.0.0.1", red.port]
    assert s.execute_command("HELLO", "3")[b"role"] == b"replica"
    old = info["master_replid"]
    assert s.replicaof("NO", "ONE")
    info = s.info("replication")
    assert info["role"] == "master" and info["master_replid2"] == old
    s.xadd("after", {"x": "y"})
    assert s.xlen("after") == 201


def test_streamlite_chain_resyncs_partially_after_a_lost_link(procs):
    a = start_streamlite()
    procs.append(a)
    ma = redis.Redis(port=a.port)
    ma.xadd("s", {"f": "v"}, id="1-1")
    b = start_streamlite(["--replicaof", "127.0.0.1", str(a.port)])
    procs.append(b)
    mb = redis.Redis(port=b.port)
    until(lambda: link_up(mb), what="the link")
    for i in range(50):
        ma.xadd("s", {"i": str(i)})
    assert ma.wait(1, 10000) == 1
    full_before = ma.info("stats")["sync_full"]
    # cut the link from the master's side: the replica comes back with PSYNC replid offset
    for cl in ma.client_list():
        if "S" in cl["flags"] or cl["cmd"] in ("psync", "replconf"):
            ma.client_kill_filter(_id=cl["id"])
    for i in range(50, 80):
        ma.xadd("s", {"i": str(i)})
    until(lambda: ma.info("stats")["sync_partial_ok"] >= 1, what="a partial resync")
    assert ma.info("stats")["sync_full"] == full_before
    assert ma.wait(1, 10000) == 1
    until(lambda: mb.xlen("s") == 81, what="the replica to catch up")
    assert mb.xrange("s") == ma.xrange("s")


# -- what goes into the stream ---------------------------------------------------------------


def attach(port: int) -> tuple[socket.socket, bytes]:
    """Redis's test suite's attach_to_replication_stream: SYNC, skip the RDB, read on."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"SYNC\r\n")
    buf = b""
    while b"\n" not in buf.lstrip(b"\n"):
        buf += s.recv(4096)
    buf = buf.lstrip(b"\n")
    line, _, rest = buf.partition(b"\r\n")
    assert line.startswith(b"$"), line
    need = int(line[1:]) - len(rest)
    while need > 0:
        rest += s.recv(min(need, 1 << 16))
        need = int(line[1:]) - len(rest)
    return s, rest[int(line[1:]):]


def read_stream(s: socket.socket, leftover: bytes) -> list[list[bytes]]:
    """Commands of the stream up to ``SET end 1`` (PINGs left out)."""
    rd = hiredis.Reader()
    rd.feed(leftover)
    out: list[list[bytes]] = []
    while True:
        while (cmd := rd.gets()) is not False:
            if cmd[0].lower() != b"ping":
                out.append(cmd)
            if cmd[1:] == [b"end", b"1"]:
                return out
        rd.feed(s.recv(1 << 16))


STREAM_SCRIPT = [
    ["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "MAXLEN", "1", "2-1", "f", "v"],
    ["XGROUP", "CREATE", "s", "g", "0"], ["SELECT", "3"], ["XADD", "t", "5-5", "a", "b"],
    ["XGROUP", "CREATE", "t", "g", "0"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "t", ">"], ["SELECT", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"], ["XACK", "s", "g", "2-1"],
    ["XTRIM", "s", "MAXLEN", "0"], ["XDEL", "s", "9-9"], ["SET", "k", "v", "EX", "100"],
    ["XADD", "s", "NOMKSTREAM", "MAXLEN", "~", "5", "3-0", "f", "v"], ["XSETID", "s", "99999999999999-0"],
    ["SET", "end", "1"],
]


def test_the_stream_carries_what_redis_carries(procs):
    """The same commands on Redis 8.2 and on streamlite, a SYNC client on each: the
    same commands come out (times normalized: XCLAIM TIME, SET PXAT)."""
    streams = []
    for start in (start_redis, start_streamlite):
        p = start()
        procs.append(p)
        r = redis.Redis(port=p.port)
        r.config_set("repl-ping-replica-period", 3600)
        s, leftover = attach(p.port)
        c = r.connection_pool.get_connection()
        for argv in STREAM_SCRIPT:
            c.send_command(*argv)
            c.read_response()
        got = read_stream(s, leftover)
        s.close()
        streams.append([_norm(x) for x in got])
    assert streams[1] == streams[0]


def _norm(argv: list[bytes]) -> list[bytes]:
    out = [a.lower() if i == 0 else a for i, a in enumerate(argv)]
    for i, a in enumerate(out[:-1]):
        if a.upper() in (b"TIME", b"PXAT"):
            out[i + 1] = b"<t>"
    return out


# -- kill -9 in the middle of a full sync -------------------------------------------------------


def _answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port).ping())
    except (redis.BusyLoadingError, redis.ConnectionError):
        return False


def test_kill_9_of_the_master_during_a_full_sync_leaves_both_sides_loadable(tmp_path, procs):
    mdir, rdir = tmp_path / "m", tmp_path / "r"
    mdir.mkdir()
    rdir.mkdir()
    m = start_streamlite(["--appendonly", "yes"], dir=str(mdir))
    procs.append(m)
    mc = redis.Redis(port=m.port)
    blob = os.urandom(1 << 20)
    p = mc.pipeline(transaction=False)
    for i in range(120):
        p.set(f"big{i}", blob)
    p.execute()
    # a streamlite replica that already holds data of its own, saved in its directory
    r = start_streamlite(["--appendonly", "yes"], dir=str(rdir))
    procs.append(r)
    rc = redis.Redis(port=r.port)
    rc.set("mine", "kept")
    # and a redis-server replica with a dump.rdb of its own
    red_dir = tmp_path / "red"
    red_dir.mkdir()
    red = start_redis(["--save", "3600 1", "--dbfilename", "dump.rdb"], dir=str(red_dir))
    procs.append(red)
    rr = redis.Redis(port=red.port)
    rr.set("redis-own", "kept")
    rr.save()
    rr.replicaof("127.0.0.1", m.port)
    rc.replicaof("127.0.0.1", m.port)
    until(lambda: rc.info("replication")["master_sync_in_progress"] == 1
          or rc.exists("big0"), what="the sync to start")
    m.proc.send_signal(signal.SIGKILL)
    m.proc.wait(10)
    time.sleep(0.5)
    assert rc.ping()  # the replica still serves: whole dataset or the old one, never half
    n = rc.dbsize()
    assert (n == 1 and rc.get("mine") == b"kept") or n == 120
    r.stop()
    red.stop(sig_kill=True)  # Redis's dump.rdb: its own save, or a whole synced copy
    red2 = start_redis(["--dbfilename", "dump.rdb"], dir=str(red_dir))
    procs.append(red2)
    until(lambda: _answers(red2.port), what="redis-server to load its dump.rdb")
    r2 = redis.Redis(port=red2.port)
    assert r2.get("redis-own") == b"kept" or r2.dbsize() == 120
    # both directories load again
    m2 = start_streamlite(["--appendonly", "yes"], dir=str(mdir))
    procs.append(m2)
    assert redis.Redis(port=m2.port).dbsize() == 120
    r2 = start_streamlite(["--appendonly", "yes"], dir=str(rdir))
    procs.append(r2)
    assert redis.Redis(port=r2.port).dbsize() in (1, 120)


def test_a_replica_passes_the_stream_on_and_its_replicas_follow_a_promotion(procs):
    """a <- b <- c: c has a's offsets (b proxies a's bytes), and when b is promoted c stays
    with it, no new full sync (as with Redis's PSYNC2)."""
    a = start_streamlite()
    procs.append(a)
    ma = redis.Redis(port=a.port)
    ma.execute_command("SELECT", 3)
    b = start_streamlite(["--replicaof", "127.0.0.1", str(a.port)])
    procs.append(b)
    mb = redis.Redis(port=b.port)
    until(lambda: link_up(mb), what="b's link")
    r3 = redis.Redis(port=a.port, db=3)
    r3.xadd("s", {"f": "v"}, id="1-1")  # the stream is in db 3 when c syncs from b
    assert ma.wait(1, 10000) == 1
    c = start_streamlite(["--replicaof", "127.0.0.1", str(b.port)])
    procs.append(c)
    mc = redis.Redis(port=c.port)
    until(lambda: link_up(mc), what="c's link")
    for i in range(20):
        r3.xadd("s", {"i": str(i)})
    until(lambda: redis.Redis(port=c.port, db=3).xlen("s") == 21, what="c to catch up")
    off = ma.info("replication")["master_repl_offset"]
    until(lambda: mc.info("replication")["slave_repl_offset"] == off, what="equal offsets")
    mb.replicaof("NO", "ONE")
    redis.Redis(port=b.port, db=3).xadd("s", {"after": "promotion"})
    until(lambda: redis.Redis(port=c.port, db=3).xlen("s") == 22, what="c to follow b")
    assert mb.info("stats")["sync_full"] == 1


def test_wait_without_replicas_blocks_until_its_timeout_as_redis(procs):
    for start in (start_redis, start_streamlite):
        p = start()
        procs.append(p)
        r = redis.Redis(port=p.port)
        r.set("k", "v")
        assert r.wait(0, 0) == 0
        assert r.wait(1, 150) == 0  # blocks for its timeout, then answers how many acked
        tx = r.pipeline(transaction=True)
        tx.wait(1, 0)  # never blocks inside a transaction
        assert tx.execute() == [0]
        with pytest.raises(redis.ResponseError, match="timeout is negative"):
            r.wait(1, -1)
