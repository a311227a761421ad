"""Limits a hostile or careless client runs into, with real processes, side by side with
redis-server 8.2 where Redis has the same limit: output-buffer limits checked while a
pipelined batch runs, back-pressure on a client that never reads (streamlite's own,
for Redis's default unlimited normal clients), maxclients under a low open-file limit.

Latency bounds here are generous on purpose (the machine is shared): before these
limits existed the other client waited 5-10 s, so a bound of 2 s still tells."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from tests.server.conftest import spawn
from tests.support.redis_proc import ServerProc, have_redis, start_redis

pytestmark = pytest.mark.redis

ENTRIES = 2000  # XRANGE - + of the stream: ~2 MB
XRANGE = b"*4\r\n$6\r\nXRANGE\r\n$1\r\ns\r\n$1\r\n-\r\n$1\r\n+\r\n"
PING_BOUND = 2.0


def _fill(port: int) -> int:
    """A stream whose XRANGE - + is ~2 MB; returns the exact size of that reply."""
    r = redis.Redis(port=port, socket_timeout=60)
    p = r.pipeline(transaction=False)
    for i in range(ENTRIES):
        p.xadd("s", {"f": b"%04d" % i + b"x" * 996}, id=f"{i + 1}-0")
    p.execute()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(XRANGE + b"*1\r\n$4\r\nPING\r\n")
    got = b""
    while not got.endswith(b"+PONG\r\n"):
        chunk = s.recv(1 << 20)
        assert chunk
        got += chunk
    s.close()
    r.close()
    return len(got) - len(b"+PONG\r\n")


def _rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


class Watch:
    """Another client PINGs every 50 ms while a hostile one works: the slowest reply,
    and the server's peak resident set size."""

    def __init__(self, srv: ServerProc) -> None:
        self.srv = srv
        self.worst = 0.0
        self.peak = _rss_mb(srv.proc.pid)
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        r = redis.Redis(port=self.srv.port, socket_timeout=30)
        try:
            while not self._stop.is_set():
                t = time.monotonic()
                r.ping()
                self.worst = max(self.worst, time.monotonic() - t)
                self.peak = max(self.peak, _rss_mb(self.srv.proc.pid))
                time.sleep(0.05)
        except BaseException as e:  # noqa: BLE001
            self.errors.append(e)
        finally:
            r.close()

    def __enter__(self) -> Watch:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join(60)


def _read_until_closed(s: socket.socket, timeout: float = 30) -> tuple[int, bool]:
    """(bytes read, closed by the server) within ``timeout``."""
    s.settimeout(timeout)
    n = 0
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                return n, True
            n += len(chunk)
    except (ConnectionResetError, BrokenPipeError):
        return n, True
    except TimeoutError:
        return n, False


def _obuf_stats(port: int) -> int:
    r = redis.Redis(port=port)
    try:
        return int(r.info("stats")["client_output_buffer_limit_disconnections"])
    finally:
        r.close()


@pytest.fixture
def pair() -> Iterator[tuple[ServerProc, ServerProc]]:
    """redis-server and streamlite, both with Redis's default limits."""
    if not have_redis():
        pytest.skip("redis-server is not installed")
    ref = start_redis()
    ours = spawn()
    yield ref, ours
    ref.cleanup()
    ours.cleanup()


def test_pipelined_batch_over_the_hard_limit_is_closed_like_redis(pair):
    """400 pipelined XRANGEs of ~2 MB under `normal 32mb 16mb 10`: the client is closed as
    soon as its buffered replies pass 32 MB, before a byte of them is sent, the rest of
    its commands not run; the other clients never notice."""
    outcome = {}
    for srv in pair:
        r = redis.Redis(port=srv.port)
        r.config_set("client-output-buffer-limit", "normal 32mb 16mb 10")
        _fill(srv.port)
        s = socket.create_connection(("127.0.0.1", srv.port))
        with Watch(srv) as w:
            s.sendall(XRANGE * 400)
            got, closed = _read_until_closed(s)
            time.sleep(0.3)
        s.close()
        assert not w.errors
        assert w.worst < PING_BOUND, (srv.args[0], w.worst)
        assert w.peak < 250, (srv.args[0], w.peak)
        outcome[srv is pair[1]] = (got, closed, _obuf_stats(srv.port))
        r.close()
    assert outcome[True] == outcome[False] == (0, True, 1)


def test_one_reply_over_the_hard_limit_is_closed_like_redis(pair):
    """A single ~2 MB reply to a client allowed 1 MB: closed, nothing sent (the reply is
    never built beyond the limit)."""
    outcome = {}
    for srv in pair:
        assert _fill(srv.port) > 1 << 20
        r = redis.Redis(port=srv.port)
        r.config_set("client-output-buffer-limit", "normal 1mb 0 0")
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(XRANGE + b"*1\r\n$4\r\nPING\r\n")
        outcome[srv is pair[1]] = (*_read_until_closed(s), _obuf_stats(srv.port))
        s.close()
        assert r.ping()
        r.close()
    assert outcome[True] == outcome[False] == (0, True, 1)


def test_soft_limit_closes_a_client_after_its_seconds_like_redis(pair):
    """A client that keeps asking for ~2 MB replies and never reads, under `normal 0 1mb
    1`: over the soft limit for more than a second, it is closed and counted, on both."""
    outcome = {}
    for srv in pair:
        _fill(srv.port)
        r = redis.Redis(port=srv.port)
        r.config_set("client-output-buffer-limit", "normal 0 1mb 1")
        s = socket.create_connection(("127.0.0.1", srv.port))
        closed = False
        for _ in range(40):
            try:
                s.sendall(XRANGE)
            except OSError:
                closed = True
                break
            time.sleep(0.25)
            if _obuf_stats(srv.port):
                break
        got, closed_now = _read_until_closed(s, timeout=10)
        outcome[srv is pair[1]] = (closed or closed_now, _obuf_stats(srv.port))
        s.close()
        r.close()
    assert outcome[True] == outcome[False] == (True, 1)


def test_a_client_that_never_reads_cannot_grow_the_server():
    """Redis's default normal limit is 0 0 0 (none): a client that pipelines big replies
    and never reads would make Redis buffer them all. streamlite stops running its
    commands (and reading its socket) past 8 MB of unsent output, so memory stays
    bounded and other clients are served; once the client reads, every reply comes,
    whole and in order."""
    srv = spawn()
    try:
        size = _fill(srv.port)
        n = 120  # ~240 MB of replies
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        base = _rss_mb(srv.proc.pid)
        with Watch(srv) as w:
            s.sendall(XRANGE * n + b"*1\r\n$4\r\nPING\r\n")
            time.sleep(3)
        assert not w.errors
        assert w.worst < PING_BOUND
        assert w.peak - base < 120, (base, w.peak)
        # now read everything: n whole replies then the PONG, nothing lost
        s.settimeout(60)
        want = n * size + len(b"+PONG\r\n")
        got = 0
        tail = b""
        while got < want:
            chunk = s.recv(1 << 20)
            assert chunk, f"closed after {got} of {want} bytes"
            got += len(chunk)
            tail = (tail + chunk)[-16:]
        assert got == want and tail.endswith(b"+PONG\r\n")
        s.close()
        assert _obuf_stats(srv.port) == 0
    finally:
        srv.cleanup()


# -- maxclients under a low open-file limit ------------------------------------------------


def _ulimit_256() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))  # `ulimit -n 256`


def _flood(port: int, n: int) -> tuple[list[socket.socket], int, int]:
    """Open ``n`` connections, PING on each: (the sockets, PONGs, max-clients errors);
    every connection must get one or the other."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        socks.append(s)
    for s in socks:
        s.sendall(b"PING\r\n")
    pong = refused = 0
    for s in socks:
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = s.recv(256)
            assert chunk, f"closed with no reply after {got!r}"
            got += chunk
        if got == b"+PONG\r\n":
            pong += 1
        else:
            assert got == b"-ERR max number of clients reached\r\n"
            refused += 1
    return socks, pong, refused


def test_maxclients_fits_the_open_file_limit_like_redis():
    """Under `ulimit -n 256` the server lowers maxclients to 256 - 32 (logging why), so
    400 connections each get a reply or Redis's max-clients error, and SAVE and an AOF
    rewrite still find descriptors; CONFIG SET maxclients above what fits is refused
    with Redis's text."""
    if not have_redis():
        pytest.skip("redis-server is not installed")
    ref = start_redis(["--appendonly", "yes"], preexec_fn=_ulimit_256)
    ours = spawn(["--appendonly", "yes", "--dbfilename", "dump.rdb"], preexec_fn=_ulimit_256)
    seen = {}
    try:
        for srv in (ref, ours):
            r = redis.Redis(port=srv.port, socket_timeout=60)
            maxclients = r.config_get("maxclients")["maxclients"]
            try:
                r.config_set("maxclients", "300")
                err = ""
            except redis.ResponseError as e:
                err = str(e)
            socks, pong, refused = _flood(srv.port, 400)
            assert pong + refused == 400
            assert r.save()
            r.bgrewriteaof()
            deadline = time.monotonic() + 60
            while r.info("persistence")["aof_rewrite_in_progress"] or \
                    r.info("persistence")["aof_rewrite_scheduled"]:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            persistence = r.info("persistence")
            assert persistence["aof_last_bgrewrite_status"] == "ok"
            for s in socks:
                s.close()
            seen[srv is ours] = (maxclients, err, pong, refused)
            r.close()
    finally:
        ref.cleanup()
        ours.stop()
        log = ours.proc.stderr.read().decode() if ours.proc.stderr else ""
        ours.cleanup()
    assert seen[True] == seen[False]
    if os.geteuid() != 0:  # root may raise its hard limit: then nothing is reduced
        assert seen[True][0] == "224"
        assert "maxclients has been reduced to 224 to compensate for low ulimit" in log
