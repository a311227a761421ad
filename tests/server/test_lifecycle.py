"""Process-level behaviour: SHUTDOWN, SIGTERM, maxclients, protected mode, maxmemory,
redis-cli and redis-benchmark against the server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import redis
from tests.server.conftest import send_raw, spawn
from tests.support.diff import RedisConn
from tests.support.redis_proc import free_port, wait_loaded, wait_port


def _wait_exit(srv, timeout: float = 20) -> int:
    return srv.proc.wait(timeout)


def test_shutdown_exits_zero_and_saves(tmp_path):
    srv = spawn(["--save", "3600 1"], dir=str(tmp_path))
    try:
        c = RedisConn(srv.port)
        assert c.call("SHUTDOWN", "ABORT") == ("ERR", "ERR No shutdown in progress.")
        assert c.call("SHUTDOWN", "BOGUS") == ("ERR", "ERR syntax error")
        c.sock.sendall(b"*1\r\n$8\r\nSHUTDOWN\r\n")
        assert c.sock.recv(100) == b""  # closed without a reply, as Redis
        assert _wait_exit(srv) == 0
        assert os.path.exists(tmp_path / "dump.sldb")
    finally:
        srv.cleanup()


def test_shutdown_nosave_does_not_write_a_snapshot(tmp_path):
    srv = spawn(["--save", "3600 1"], dir=str(tmp_path))
    try:
        redis.Redis(port=srv.port).execute_command("SHUTDOWN", "NOSAVE")
    except redis.ConnectionError:
        pass
    assert _wait_exit(srv) == 0
    assert not os.path.exists(tmp_path / "dump.sldb")
    srv.cleanup()


def test_sigterm_and_sigint_exit_zero(tmp_path):
    for sig in (signal.SIGTERM, signal.SIGINT):
        d = tmp_path / sig.name
        d.mkdir()
        srv = spawn(["--appendonly", "yes", "--appendfsync", "no"], dir=str(d))
        c = redis.Redis(port=srv.port)
        assert c.ping()
        srv.proc.send_signal(sig)
        assert _wait_exit(srv) == 0
        assert os.path.isdir(d / "appendonlydir")
        c.close()
        srv.cleanup()


def test_maxclients():
    srv = spawn(["--maxclients", "2"])
    try:
        a, b = RedisConn(srv.port), RedisConn(srv.port)
        # the server listens before it loads, as Redis does: PING answers LOADING until
        # the (empty) load is over, which on a busy machine can be after the connect
        deadline = time.monotonic() + 20
        while a.call("PING") != b"PONG" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert a.call("PING") == b.call("PING") == b"PONG"
        assert send_raw(srv.port, b"PING\r\n", until_closed=True) == \
            b"-ERR max number of clients reached\r\n"
        assert b.call("CONFIG", "SET", "maxclients", "3") == b"OK"
        assert send_raw(srv.port, b"PING\r\n") == b"+PONG\r\n"
        info = a.call("INFO", "stats").decode()
        assert "rejected_connections:1" in info
        a.close()
        b.close()
    finally:
        srv.cleanup()


def _non_loopback_ip() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def test_protected_mode_denies_non_loopback_clients(tmp_path):
    ip = _non_loopback_ip()
    if ip is None:
        pytest.skip("no non-loopback address on this machine")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlite", "server", "--port", str(port),
                             "--bind", "0.0.0.0", "--save", "", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        with socket.create_connection((ip, port), timeout=5) as s:
            data = b""  # the refusal is sent at once, before any request
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        assert data.startswith(b"-DENIED Redis is running in protected mode")
        assert data.endswith(b"accepting connections from the outside.\r\n")
        # loopback is fine (once the server is past LOADING: it listens before it loads)
        deadline = time.monotonic() + 20
        while (got := send_raw(port, b"PING\r\n")) != b"+PONG\r\n" and time.monotonic() < deadline:
            assert got.startswith(b"-LOADING"), got
            time.sleep(0.01)
        assert got == b"+PONG\r\n"
        redis.Redis(port=port).config_set("protected-mode", "no")
        with socket.create_connection((ip, port), timeout=5) as s:
            s.sendall(b"PING\r\n")
            assert s.recv(100) == b"+PONG\r\n"
    finally:
        proc.terminate()
        proc.wait(10)


def test_maxmemory_refuses_denyoom_commands():
    srv = spawn()
    try:
        c = RedisConn(srv.port)
        c.call("CONFIG", "SET", "maxmemory", "1mb")
        assert c.call("INFO", "memory").find(b"maxmemory:1048576") > 0
        from streamlite.engine.registry import COMMANDS

        denyoom = [n for n, cmd in COMMANDS.items() if cmd.is_denyoom and cmd.arity in (-2, 2)]
        for name in denyoom[:3]:
            got = c.call(name, "k")
            assert got == ("ERR", "OOM command not allowed when used memory > 'maxmemory'."), name
        assert c.call("PING") == b"PONG"  # not denyoom
        c.call("CONFIG", "SET", "maxmemory", "0")
        c.close()
    finally:
        srv.cleanup()


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_works(sl):
    def cli(*args: str) -> str:
        out = subprocess.run(["redis-cli", "-p", str(sl.port), *args],
                             capture_output=True, text=True, timeout=30)
        return out.stdout

    assert cli("PING") == "PONG\n"
    assert cli("ECHO", "hello world") == "hello world\n"
    assert cli("CONFIG", "GET", "maxmemory") == "maxmemory\n0\n"
    assert "redis_version:8." in cli("INFO", "server")
    assert cli("NOSUCH") .startswith("ERR unknown command 'NOSUCH'")
    out = subprocess.run(["redis-cli", "-p", str(sl.port)], input="PING\nECHO a\n",
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == "PONG\na\n"
    assert cli("-3", "HELLO", "3").startswith("server redis\nversion 8.")


@pytest.mark.skipif(shutil.which("redis-benchmark") is None, reason="redis-benchmark missing")
def test_redis_benchmark_ping(sl):
    out = subprocess.run(["redis-benchmark", "-p", str(sl.port), "-t", "ping", "-n", "10000",
                          "-q"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "PING_INLINE:" in out.stdout and "PING_MBULK:" in out.stdout
    assert "requests per second" in out.stdout


def test_idle_timeout_closes_clients():
    srv = spawn(["--timeout", "1", "--hz", "50"])
    try:
        c = RedisConn(srv.port)
        assert c.call("PING") == b"PONG"
        c.sock.settimeout(10)
        assert c.sock.recv(10) == b""
        c.close()
    finally:
        srv.cleanup()


def test_config_set_appendonly_at_run_time(tmp_path):
    srv = spawn(dir=str(tmp_path))
    try:
        c = redis.Redis(port=srv.port, decode_responses=True)
        assert c.info("persistence")["aof_enabled"] == 0
        assert c.config_set("appendonly", "yes")
        assert c.config_set("appendfsync", "always")
        assert c.info("persistence")["aof_enabled"] == 1
        assert os.path.isdir(tmp_path / "appendonlydir")
        # as in Redis, the AOF's base is written by a background rewrite
        deadline = time.monotonic() + 10
        while c.info("persistence")["aof_rewrite_in_progress"] and time.monotonic() < deadline:
            time.sleep(0.02)
        manifest = tmp_path / "appendonlydir" / "appendonly.aof.manifest"
        assert manifest.exists()
        assert c.config_set("appendonly", "no")
        assert c.info("persistence")["aof_enabled"] == 0
        c.close()
    finally:
        srv.cleanup()


def _need(*names: str) -> None:
    from streamlite.engine.registry import COMMANDS

    missing = [n for n in names if n.encode() not in COMMANDS]
    if missing:
        pytest.fail(f"waiting for {', '.join(missing).upper()} to land in main")


def test_acknowledged_writes_survive_kill_9(tmp_path):
    """appendfsync always: a reply is sent only after its write is fsynced."""
    _need("set", "get", "incr")
    srv = spawn(["--appendonly", "yes", "--appendfsync", "always"], dir=str(tmp_path))
    c = redis.Redis(port=srv.port)
    for i in range(50):
        c.set(f"k{i}", i)
    last = c.incr("counter")
    srv.stop(sig_kill=True)
    c.close()
    again = spawn(["--appendonly", "yes"], dir=str(tmp_path))
    try:
        c = redis.Redis(port=again.port)
        assert c.get("k49") == b"49"
        assert int(c.get("counter")) == last
        c.close()
    finally:
        again.cleanup()


def test_snapshot_on_shutdown_is_loaded_at_start(tmp_path):
    _need("set", "get")
    srv = spawn(["--save", "3600 1"], dir=str(tmp_path))
    c = redis.Redis(port=srv.port)
    c.set("persisted", "yes")
    try:
        c.shutdown()
    except redis.ConnectionError:
        pass
    assert _wait_exit(srv) == 0
    c.close()
    again = spawn(dir=str(tmp_path))
    try:
        c = redis.Redis(port=again.port)
        assert c.get("persisted") == b"yes"
        c.close()
    finally:
        again.cleanup()


def test_debug_reload_and_loadaof(tmp_path):
    _need("set", "get", "dbsize")
    srv = spawn(["--appendonly", "yes"], dir=str(tmp_path))
    try:
        c = redis.Redis(port=srv.port)
        for i in range(20):
            c.set(f"r{i}", i)
        assert c.execute_command("DEBUG", "RELOAD") == b"OK"
        assert c.dbsize() == 20 and c.get("r7") == b"7"
        c.set("after", "reload")
        assert c.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert c.dbsize() == 21 and c.get("after") == b"reload"
        c.close()
    finally:
        srv.cleanup()


def test_sigterm_with_its_log_pipe_broken_still_exits(tmp_path):
    """The reader of the server's stderr died (a supervisor killed, a test runner gone):
    its log lines fail with EPIPE; they must not stop SIGTERM's shutdown (it was
    ignored, the process ran on)."""
    port = free_port()
    p = subprocess.Popen([sys.executable, "-m", "streamlite", "server", "--port", str(port),
                          "--bind", "127.0.0.1", "--dir", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_port(port, proc=p)
        wait_loaded(port, proc=p)  # past the load: SIGTERM then shuts down as asked
        assert p.stdout is not None and p.stderr is not None
        p.stdout.close()
        p.stderr.close()  # the read ends: every later write of the server gets EPIPE
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
        assert os.path.exists(tmp_path / "dump.sldb")  # its shutdown ran to the end
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def _slow_aof(d, n: int = 300_000) -> dict[str, bytes]:
    """An AOF directory whose replay takes seconds (``n`` XADDs in its base file);
    returns its files' contents."""
    aof = d / "appendonlydir"
    aof.mkdir()
    cmd = b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$%d\r\n%b\r\n$1\r\nf\r\n$1\r\nv\r\n"
    (aof / "appendonly.aof.1.base.aof").write_bytes(b"".join(
        cmd % (len(sid), sid) for sid in (b"%d-1" % i for i in range(1, n + 1))))
    (aof / "appendonly.aof.1.incr.aof").write_bytes(b"")
    (aof / "appendonly.aof.manifest").write_bytes(
        b"file appendonly.aof.1.base.aof seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n")
    return {f.name: f.read_bytes() for f in aof.iterdir()}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_shutdown_signal_during_loading_exits_at_once_without_saving(tmp_path, sig):
    """As Redis (``whileBlockedCron``): a SIGTERM or SIGINT while the data loads exits
    with 0 without saving, and leaves the AOF as it was (the server listens, and takes
    signals, from before the load)."""
    files = _slow_aof(tmp_path)
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as err:
        p = subprocess.Popen([sys.executable, "-m", "streamlite", "server", "--port", str(port),
                              "--bind", "127.0.0.1", "--dir", str(tmp_path),
                              "--appendonly", "yes", "--save", "3600 1"],
                             stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_port(port, proc=p)
        # (it listens before its event loop runs: the first reply may take a while)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.sendall(b"PING\r\n")
            assert s.recv(100).startswith(b"-LOADING")
        p.send_signal(sig)
        assert p.wait(20) == 0
        text = log.read_text()
        assert "Received shutdown signal during loading, scheduling shutdown." in text
        assert "ready to exit" in text
        assert not os.path.exists(tmp_path / "dump.sldb")
        aof = tmp_path / "appendonlydir"
        assert {f.name: f.read_bytes() for f in aof.iterdir()} == files
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_a_port_in_use_is_reported_as_redis_reports_it(tmp_path):
    """The two lines Redis logs when it cannot listen, word for word, then exit 1; the
    data directory is left untouched (the port is bound before anything loads)."""
    from tests.support.redis_proc import redis_server_binary

    exe = redis_server_binary()
    if exe is None:
        pytest.skip("no redis-server")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        outs = []
        for argv in ([exe, "--save", ""], [sys.executable, "-m", "streamlite", "server",
                                          "--dir", str(tmp_path)]):
            p = subprocess.run([*argv, "--port", str(port), "--bind", "127.0.0.1"],
                               capture_output=True, text=True, timeout=60, cwd=tmp_path)
            assert p.returncode == 1
            lines = [ln.split(" ", 6)[-1] for ln in (p.stdout + p.stderr).splitlines()
                     if "listening" in ln.lower()]
            outs.append(lines[-2:])
    assert outs[0] == outs[1] == [
        f"Warning: Could not create server TCP listening socket 127.0.0.1:{port}: "
        "bind: Address already in use",
        f"Failed listening on port {port} (tcp), aborting."]
    assert set(os.listdir(tmp_path)) <= {"streamlite.lock"}  # no data file made


@pytest.mark.parametrize("host", ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1",
                                  "10.0.0.1", "::", "0.0.0.0", "fe80::1%eth0", "128.0.0.1",
                                  "::ffff:10.0.0.1", "not-an-address"])
def test_loopback_check_agrees_with_ipaddress(host):
    """Protected mode's loopback test takes a shortcut for 127.* and ::1 (no ipaddress
    import at a local client's first connect): the same answers as the full check."""
    import ipaddress

    from streamlite.server.app import _is_loopback

    try:
        ip = ipaddress.ip_address(host.split("%")[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        want = ip.is_loopback or bool(mapped is not None and mapped.is_loopback)
    except ValueError:
        want = False
    assert _is_loopback(host) is want
