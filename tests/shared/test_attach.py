"""Attaching to a data directory another process owns, with real processes: the same
redis-py API through the owner's socket (commands, blocking reads, pipelines,
transactions, pub/sub, asyncio), waiting for an owner that is still loading, a stale
socket, a socket path too long for ``sun_path``, a forked child, a server as owner."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

import pytest
import redis

import streamlite
from streamlite.embedded import Embedded, is_attached
from streamlite.persistence import datadir
from tests.support.redis_proc import start_streamlite

from .procs import child, kill, wait_line


def _owner(path: str) -> subprocess.Popen[str]:
    import sys

    from .procs import ROOT

    p = subprocess.Popen([sys.executable, "-m", "tests.shared.child", "owner", path],
                         cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_line(p, "ready")
    return p


def _do(owner: subprocess.Popen[str], *args: object) -> object:
    assert owner.stdin is not None and owner.stdout is not None
    owner.stdin.write(json.dumps([str(a) for a in args]) + "\n")
    owner.stdin.flush()
    return json.loads(owner.stdout.readline())


@pytest.fixture
def owned(tmp_path):
    d = str(tmp_path / "data")
    p = _owner(d)
    yield d, p
    kill(p)


def test_connect_attaches_to_the_owner(owned):
    d, owner = owned
    _do(owner, "SET", "from-owner", "1")
    r = streamlite.connect(d)
    assert is_attached(r) and isinstance(r, redis.Redis)
    assert r.get("from-owner") == b"1"
    r.set("from-attached", "2")
    assert _do(owner, "GET", "from-attached") == "2"
    # pipelines and transactions
    pipe = r.pipeline()
    pipe.incr("n").incr("n").get("n")
    assert pipe.execute() == [1, 2, b"2"]
    with r.pipeline() as p:
        p.watch("n")
        p.multi()
        p.incr("n")
        _do(owner, "INCR", "n")  # the owner changes the watched key meanwhile
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("n") == b"3"
    # scripts
    assert r.eval("return redis.call('INCR', KEYS[1])", 1, "n") == 4
    # the same engine: CLIENT LIST of the owner shows the attached connection
    r.client_setname("attached-one")
    assert any(c["name"] == "attached-one" for c in r.client_list())
    r.close()
    assert owner.poll() is None


def test_blocking_reads_and_pubsub_across_processes(owned):
    d, owner = owned
    r = streamlite.connect(d, decode_responses=True)
    r.xgroup_create("jobs", "g", id="$", mkstream=True)
    box: dict = {}

    def read() -> None:
        box["got"] = r.xreadgroup("g", "c1", {"jobs": ">"}, count=1, block=20_000)

    t = threading.Thread(target=read)
    t.start()
    deadline = time.monotonic() + 10
    while not any(c.get("cmd") == "xreadgroup" for c in r.client_list()):
        assert time.monotonic() < deadline, "the attached XREADGROUP never blocked"
        time.sleep(0.01)
    _do(owner, "XADD", "jobs", "1-1", "job", "x")  # the owner's write wakes the attached reader
    t.join(10)
    assert box["got"] == [["jobs", [("1-1", {"job": "x"})]]]
    ps = r.pubsub()
    ps.subscribe("news")
    assert ps.get_message(timeout=5)["type"] == "subscribe"
    assert _do(owner, "PUBLISH", "news", "hello") == 1
    msg = ps.get_message(timeout=5)
    assert msg is not None and msg["data"] == "hello"
    ps.close()
    r.close()


def test_asyncio_client_attaches(owned):
    d, owner = owned

    async def main() -> list:
        r = streamlite.connect_async(d)
        assert is_attached(r)
        await r.set("a", "1")
        waiter = asyncio.ensure_future(r.blpop("q", 20))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(_do, owner, "RPUSH", "q", "woken")
        got = await asyncio.wait_for(waiter, 10)
        ps = r.pubsub()
        await ps.subscribe("ch")
        await ps.get_message(timeout=5)
        await asyncio.to_thread(_do, owner, "PUBLISH", "ch", "m")
        msg = await ps.get_message(timeout=5)
        await ps.aclose()
        await r.aclose()
        return [list(got), msg["data"]]

    assert asyncio.run(main()) == [[b"q", b"woken"], b"m"]
    assert _do(owner, "GET", "a") == "1"


def test_an_owner_still_loading_is_waited_for(tmp_path):
    """The lock is held but nothing listens yet: an attaching client waits for the
    owner (it neither fails nor takes over)."""
    d = str(tmp_path / "data")
    r = streamlite.connect(d)
    r.set("loaded", "yes")
    r.close()
    slow = child("slow-owner", d, "1.5")
    try:
        wait_line(slow, "loading")
        fds = len(os.listdir("/proc/self/fd"))
        r = streamlite.connect(d)
        assert is_attached(r)
        assert r.get("loaded") == b"yes"  # answered once the owner had loaded
        # polling the lock for 1.5 s left nothing open behind (a connection, a watcher)
        assert len(os.listdir("/proc/self/fd")) <= fds + 4
        pid, sock = datadir.read_holder(d)
        assert pid == str(slow.pid) and sock == os.path.join(os.path.realpath(d),
                                                            "streamlite.sock")
        r.close()
    finally:
        kill(slow)


def test_attach_timeout_names_the_holder(tmp_path):
    d = str(tmp_path / "data")
    slow = child("slow-owner", d, "30")
    try:
        wait_line(slow, "loading")
        r = streamlite.connect(d, attach_timeout=0.5)
        with pytest.raises(redis.ConnectionError, match=f"held by process {slow.pid}"):
            r.ping()
        r.close()
    finally:
        kill(slow)


def test_stale_socket_of_a_dead_owner_is_replaced(tmp_path):
    d = str(tmp_path / "data")
    holder = child("hold", d)
    wait_line(holder, "ready")
    sock = os.path.join(os.path.realpath(d), "streamlite.sock")
    kill(holder)  # SIGKILL: the socket file stays behind, and nobody listens there
    assert stat.S_ISSOCK(os.lstat(sock).st_mode)
    with socket.socket(socket.AF_UNIX) as s, pytest.raises(ConnectionRefusedError):
        s.connect(sock)
    other = child("hold", d)  # a new owner: replaces it
    try:
        wait_line(other, "ready")
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock)
        r = streamlite.connect(d)
        assert is_attached(r) and r.get("holder") == str(other.pid).encode()
        r.close()
    finally:
        kill(other)


def test_a_socket_path_too_long_for_sun_path(tmp_path):
    """A directory whose socket path would not fit in ``sun_path`` serves on a private
    short path (0700 directory, 0600 socket), recorded in the lock file; the next owner
    removes a dead owner's private directory."""
    d = str(tmp_path / ("x" * 60) / ("y" * 60))
    assert len(os.path.join(d, "streamlite.sock")) > datadir.SUN_PATH_MAX
    holder = child("hold", d)
    wait_line(holder, "ready")
    pid, sock = datadir.read_holder(d)
    assert pid == str(holder.pid) and sock is not None
    assert len(os.fsencode(sock)) <= datadir.SUN_PATH_MAX
    private = os.path.dirname(sock)
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    r = streamlite.connect(d)
    assert is_attached(r) and r.get("holder") == str(holder.pid).encode()
    kill(holder)
    # the attached client takes over; its own private socket replaces the dead one's
    assert r.get("holder") == str(holder.pid).encode()
    _, mine = datadir.read_holder(d)
    assert mine is not None and mine != sock
    assert not os.path.exists(private)
    r.close()
    assert not os.path.exists(os.path.dirname(mine))  # closing cleans up too


def test_socket_is_owner_only(owned):
    d, _ = owned
    sock = os.path.join(os.path.realpath(d), "streamlite.sock")
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600


def test_a_forked_child_attaches_and_never_keeps_the_lock(tmp_path):
    d = str(tmp_path / "data")
    p = child("forker", d)
    grandchild = 0
    try:
        lines = {p.stdout.readline().strip() for _ in range(2)}  # type: ignore[union-attr]
        assert "child attached" in lines, lines
        grandchild = int(next(x for x in lines if x.startswith("forked")).split()[1])
        kill(p)  # the owner dies; its forked child lives on with copies of its descriptors
        # the lock and the socket died with the owner: this process takes over at once
        r = streamlite.connect(d, attach_timeout=20)
        assert not is_attached(r)
        assert r.get("k") == b"parent" and r.get("from-child") == b"1"
        r.close()
    finally:
        kill(p)
        if grandchild:
            try:
                os.kill(grandchild, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_an_owner_killed_during_a_background_save(tmp_path):
    """The owner's BGSAVE child lets go of the directory at fork and ends with its parent:
    the directory is taken over at once, and no orphan renames a stale snapshot over
    the new owner's files later."""
    d = str(tmp_path / "data")
    pidfile = str(tmp_path / "bgsave.pid")
    p = child("bgsave-owner", d, pidfile)
    try:
        wait_line(p, "saving")
        with open(pidfile) as f:
            saver = int(f.read())
        kill(p)
        r = streamlite.connect(d, attach_timeout=20)  # not waiting for the 60 s save
        assert not is_attached(r) and r.get("k") == b"v"
        deadline = time.monotonic() + 30
        while True:
            try:
                os.kill(saver, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "the orphaned BGSAVE child lives on"
            time.sleep(0.05)
        assert not os.path.exists(os.path.join(d, "dump.sldb"))
        r.close()
    finally:
        kill(p)


def test_an_in_process_handle_is_refused_with_the_socket(owned):
    d, owner = owned
    with pytest.raises(streamlite.embedded.DirectoryLocked) as e:
        Embedded(d)
    assert e.value.pid == str(owner.pid)
    assert e.value.socket == os.path.join(os.path.realpath(d), "streamlite.sock")


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="no redis-cli")
def test_connect_attaches_to_a_streamlite_server(tmp_path):
    d = str(tmp_path / "data")
    srv = start_streamlite(["--appendonly", "yes", "--save", ""], dir=d)
    try:
        cli = ["redis-cli", "-p", str(srv.port)]
        subprocess.run([*cli, "SET", "from-cli", "1"], check=True, capture_output=True)
        subprocess.run([*cli, "XADD", "s", "1-1", "f", "v"], check=True, capture_output=True)
        r = streamlite.connect(d)
        assert is_attached(r)
        assert r.get("from-cli") == b"1" and r.xrange("s") == [(b"1-1", {b"f": b"v"})]
        r.set("from-embedded", "2")
        out = subprocess.run([*cli, "GET", "from-embedded"], capture_output=True, text=True)
        assert out.stdout.strip() == "2"
        sock = os.path.join(os.path.realpath(d), "streamlite.sock")
        out = subprocess.run(["redis-cli", "-s", sock, "GET", "from-cli"], capture_output=True,
                             text=True)
        assert out.stdout.strip() == "1"
        r.close()
    finally:
        srv.stop()


def test_hostile_bytes_on_the_socket_and_a_forged_record(owned, tmp_path):
    d, owner = owned
    sock = os.path.join(os.path.realpath(d), "streamlite.sock")
    rnd = __import__("random").Random(7)
    for _ in range(20):  # garbage, half commands, huge counts: the owner answers or hangs up
        # (no NUL bytes: an inline command with one hangs the server's parser, the TCP
        # front's too; issue 12, fixed on its own branch)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(sock)
            s.sendall(bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(1, 400)))
                      + rnd.choice([b"", b"*3000000000\r\n", b"$-7\r\n", b"\r\n"]))
            try:
                s.recv(4096)
            except OSError:
                pass
    assert _do(owner, "PING") is True  # redis-py's PING reply
    # a forged record (the lock file is the owner's, but writable by its user): attaching
    # clients find no owner there and give up, naming what they found; nothing is touched
    victim = tmp_path / "not-a-socket"
    victim.write_text("keep me")
    lock = os.path.join(d, "streamlite.lock")
    with open(lock, "rb") as f:
        record = f.read()
    with open(lock, "wb") as f:
        f.write(b"\xff\xfe junk\n" + str(victim).encode() + b"\n")
    try:
        r = streamlite.connect(d, attach_timeout=0.5)
        with pytest.raises(redis.ConnectionError, match="held by process"):
            r.ping()
        r.close()
        assert victim.read_text() == "keep me"
    finally:
        with open(lock, "wb") as f:
            f.write(record)
    r = streamlite.connect(d)
    assert r.ping()
    r.close()


def test_an_owner_that_cannot_serve_says_so(tmp_path):
    """Something else sits at the socket's path (not a socket: never removed). The owner
    works alone and records why; attaching fails at once with that reason, and the
    server's refusal says it too."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "streamlite.sock").write_text("not a socket")
    holder = child("hold", str(d))
    try:
        wait_line(holder, "ready")
        t0 = time.monotonic()
        r = streamlite.connect(str(d))  # the default attach_timeout is 60 s: not waited
        with pytest.raises(redis.ConnectionError, match="cannot serve it to other processes"):
            r.ping()
        assert time.monotonic() - t0 < 30
        r.close()
        from tests.support.redis_proc import free_port

        from .procs import run, streamlite_cmd

        res = run(streamlite_cmd("server", "--port", str(free_port()), "--dir", str(d)))
        assert res.returncode == 1 and "cannot serve that data to other processes" in res.stderr
        assert (d / "streamlite.sock").read_text() == "not a socket"
    finally:
        kill(holder)


def test_an_owner_alive_but_stopped_is_waited_for(owned):
    """SIGSTOP: the owner holds its lock and answers nothing. Nobody takes over: an
    attached client's command waits, and gets its reply once the owner runs again."""
    d, owner = owned
    r = streamlite.connect(d)
    assert r.incr("n") == 1
    box: dict = {}
    os.kill(owner.pid, signal.SIGSTOP)
    try:
        t = threading.Thread(target=lambda: box.setdefault("n", r.incr("n")), daemon=True)
        t.start()
        t.join(1.5)
        assert t.is_alive() and not box  # waiting, not failing, not taking over
        assert datadir.read_holder(d)[0] == str(owner.pid)
    finally:
        os.kill(owner.pid, signal.SIGCONT)
    t.join(30)
    assert box == {"n": 2}
    assert datadir.read_holder(d)[0] == str(owner.pid)
    r.close()
