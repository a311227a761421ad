"""Run redis-py's own test suite against streamlite and against Redis 8.2, and compare.

    .venv/bin/python -m tests.clientsuite.redispy [--files tests/test_hash.py ...]

The model: redis-py's sdist carries its tests. They run against any server given by
``--redis-url`` and gate each test on the server's version (``skip_if_server_version_lt``).
This script fetches the sdist of the installed redis-py into a cache (``pip download``),
starts the reference redis-server (Redis 8.2, ``tests/support/redis_proc``) and the
streamlite server on free ports, runs the chosen test files against each (one pytest
process per server, JUnit XML out) and compares the outcomes test by test:

- a test that passes on Redis 8.2 must pass on streamlite;
- a test that Redis 8.2 skips for its version (``Redis version required >= 8.x``) runs
  on streamlite, which reports 8.10: it must pass too (the 8.4-8.10 commands);
- a test that fails on Redis 8.2 as well (module commands, cluster-only checks, PSYNC)
  is counted, not judged.

Anything else is an unexpected difference, unless ``KNOWN`` lists the test with its
reason. A test that differs is run once more on its own on streamlite; one that then
passes is reported as flaky (order or timing in the client's test), not as a
difference. The exit status is 1 when an unexpected difference remains.

Nothing of redis-py's is kept in this repository: the sdist is downloaded at run time.
"""

from __future__ import annotations

import argparse
import glob
import importlib.metadata
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.support.redis_proc import ServerProc, start_redis, start_streamlite

# the files that cover issue 15's families and the server as a client uses it
DEFAULT_FILES = [
    "tests/test_commands.py", "tests/test_pipeline.py", "tests/test_pubsub.py",
    "tests/test_scripting.py", "tests/test_function.py", "tests/test_hash.py",
    "tests/test_keyspace_notifications.py", "tests/test_cache.py", "tests/test_monitor.py",
    "tests/test_lock.py", "tests/test_encoding.py", "tests/test_himport_integration.py",
    "tests/test_asyncio/test_commands.py", "tests/test_asyncio/test_pipeline.py",
    "tests/test_asyncio/test_pubsub.py", "tests/test_asyncio/test_scripting.py",
    "tests/test_asyncio/test_lock.py",
]
# tests for modules (search, json, ...), cluster, sentinel, TLS and replicas need servers
# that neither run here: their markers are deselected
DESELECT = ("not onlycluster and not redismod and not ssl and not replica "
            "and not multidb_integration and not cp_integration")
SERVER_ARGS = ["--enable-debug-command", "yes", "--enable-module-command", "yes"]
VERSION_SKIP = "Redis version required >="

# test id -> why streamlite is allowed to differ from Redis 8.2 here (keep it small)
KNOWN: dict[str, str] = {}

CACHE = os.environ.get("STREAMLITE_CLIENTSUITE_CACHE") or os.path.join(
    sys.prefix if sys.prefix != sys.base_prefix else tempfile.gettempdir(),
    "clientsuite-cache")


@dataclass
class Outcome:
    status: str  # passed, failed, skipped
    message: str = ""


@dataclass
class Verdict:
    """The comparison of one file's tests on the two servers."""

    ours: dict[str, int] = field(default_factory=dict)
    ref: dict[str, int] = field(default_factory=dict)
    newer: int = 0  # version-gated on Redis 8.2, passed on streamlite
    both_fail: int = 0
    unexpected: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)


def client_source(cache: str = CACHE) -> str:
    """The untarred sdist of the installed redis-py (downloaded once into ``cache``)."""
    version = importlib.metadata.version("redis")
    root = os.path.join(cache, f"redis-{version}")
    if os.path.exists(os.path.join(root, "tests", "conftest.py")):
        return root
    os.makedirs(cache, exist_ok=True)
    print(f"downloading redis-py {version}'s sdist into {cache}...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "download", f"redis=={version}",
                    "--no-binary", ":all:", "--no-deps", "-q",
                    "-d", cache], check=True)
    tarball = os.path.join(cache, f"redis-{version}.tar.gz")
    with tarfile.open(tarball) as tar:
        tar.extractall(cache, filter="data")
    return root


def run_suite(src: str, port: int, files: Iterable[str], xml: str, timeout: float,
              log: str) -> None:
    """redis-py's pytest against 127.0.0.1:``port``, JUnit XML into ``xml``."""
    cmd = [sys.executable, "-m", "pytest", *files, f"--redis-url=redis://127.0.0.1:{port}/0",
           "-m", DESELECT, "-p", "no:cacheprovider", "-p", "no:streamlite_events",
           "-p", "no:xdist", "-o", "addopts=", "--timeout", "30", "-q", "-rN",
           f"--junitxml={xml}"]
    with open(log, "w") as out:
        p = subprocess.Popen(cmd, cwd=src, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # pytest and whatever its tests started
            p.wait()
            raise RuntimeError(f"redis-py's tests took more than {timeout:.0f} s: see {log}")


def read_junit(path: str) -> dict[str, Outcome]:
    """Test id (``file::Class::name``) -> outcome; an error counts as a failure."""
    out: dict[str, Outcome] = {}
    if not os.path.exists(path):
        return out
    for case in ET.parse(path).iter("testcase"):
        tid = f"{case.get('classname')}::{case.get('name')}"
        status, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                status, message = "failed", child.get("message", "")
                break
            if child.tag == "skipped":
                status, message = "skipped", child.get("message", "")
        out[tid] = Outcome(status, message)
    return out


def node_id(src: str, tid: str) -> str:
    """``tests.test_asyncio.test_lock.TestLock::test_x`` -> ``tests/test_asyncio/test_lock.py::TestLock::test_x``."""
    dotted, _, name = tid.partition("::")
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        path = "/".join(parts[:n]) + ".py"
        if os.path.exists(os.path.join(src, path)):
            return "::".join([path, *parts[n:], name])
    return tid


def file_of(src: str, tid: str) -> str:
    return node_id(src, tid).split("::")[0]


def judge(tid: str, ref: Outcome | None, ours: Outcome | None) -> str:
    """``ok``, ``newer`` (ran on streamlite only, passed), ``both`` (fails on both) or
    ``unexpected``."""
    if ours is None:
        return "unexpected" if ref is not None and ref.status == "passed" else "ok"
    gated_up = ref is not None and ref.status == "skipped" and ref.message.startswith(
        VERSION_SKIP)
    if ours.status == "passed":
        return "newer" if gated_up else "ok"
    if ref is not None and ref.status == "failed":
        return "both"
    if ours.status == "skipped":
        if ours.message.startswith("Redis version required"):
            return "ok"  # gated on the version on streamlite as well
        return "unexpected" if ref is not None and ref.status == "passed" else "ok"
    return "unexpected"  # failed on streamlite only


def compare(src: str, ref: dict[str, Outcome], ours: dict[str, Outcome]) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = {}
    for tid in sorted(set(ref) | set(ours)):
        v = verdicts.setdefault(file_of(src, tid), Verdict())
        for counts, got in ((v.ref, ref.get(tid)), (v.ours, ours.get(tid))):
            if got is not None:
                counts[got.status] = counts.get(got.status, 0) + 1
        verdict = judge(tid, ref.get(tid), ours.get(tid))
        if verdict == "newer":
            v.newer += 1
        elif verdict == "both":
            v.both_fail += 1
        elif verdict == "unexpected":
            (v.known if tid in KNOWN else v.unexpected).append(tid)
    return verdicts


def retry_unexpected(src: str, port: int, verdicts: dict[str, Verdict], work: str,
                     timeout: float) -> None:
    """Run the differing tests once more, alone, on streamlite: a pass is flakiness."""
    tids = [t for v in verdicts.values() for t in v.unexpected]
    if not tids:
        return
    xml = os.path.join(work, "streamlite-retry.xml")
    run_suite(src, port, [node_id(src, t) for t in tids], xml, timeout,
              os.path.join(work, "streamlite-retry.log"))
    again = read_junit(xml)
    for v in verdicts.values():
        v.flaky = [t for t in v.unexpected if t in again and again[t].status == "passed"]
        v.unexpected = [t for t in v.unexpected if t not in v.flaky]


def _counts(c: dict[str, int]) -> str:
    return f"{c.get('passed', 0)} / {c.get('failed', 0)} / {c.get('skipped', 0)}"


def report(verdicts: dict[str, Verdict], ours: dict[str, Outcome], seconds: float) -> bool:
    """Print the summary table and the differences; True when none is unexpected."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(stderr=False, width=160)
    table = Table(title=f"redis-py {importlib.metadata.version('redis')}'s tests: "
                        f"Redis 8.2 vs streamlite ({seconds:.0f} s)")
    for col in ("file", "redis 8.2 pass/fail/skip", "streamlite pass/fail/skip",
                "8.4+ only, pass", "fail on both", "known", "flaky", "unexpected"):
        table.add_column(col, justify="left" if col == "file" else "right")
    total = Verdict()
    for name, v in sorted(verdicts.items()):
        table.add_row(name, _counts(v.ref), _counts(v.ours), str(v.newer), str(v.both_fail),
                      str(len(v.known)), str(len(v.flaky)),
                      f"[red]{len(v.unexpected)}[/red]" if v.unexpected else "0")
        for side, counts in ((total.ref, v.ref), (total.ours, v.ours)):
            for k, n in counts.items():
                side[k] = side.get(k, 0) + n
        total.newer += v.newer
        total.both_fail += v.both_fail
        total.known += v.known
        total.flaky += v.flaky
        total.unexpected += v.unexpected
    table.add_row("total", _counts(total.ref), _counts(total.ours), str(total.newer),
                  str(total.both_fail), str(len(total.known)), str(len(total.flaky)),
                  str(len(total.unexpected)), style="bold")
    console.print(table)
    for tid in total.known:
        console.print(escape(f"known: {tid}: {KNOWN[tid]}"))
    for tid in total.flaky:
        console.print(escape(f"flaky (passed when run again alone): {tid}"))
    stale = sorted(set(KNOWN) - set(total.known))
    for tid in stale:
        console.print(f"[yellow]KNOWN lists {escape(tid)}, which no longer differs[/yellow]")
    for tid in total.unexpected:
        got = ours.get(tid)
        why = f"{got.status}: {got.message.splitlines()[0][:160] if got.message else ''}" if got else "missing from the run"
        console.print(f"[red]UNEXPECTED[/red] {escape(f'{tid} ({why})')}")
    return not total.unexpected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", nargs="+", default=DEFAULT_FILES,
                    help="redis-py test files (paths inside its sdist)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per server run")
    ap.add_argument("--work", help="keep the logs and JUnit files here (default: a tmp dir)")
    args = ap.parse_args(argv)
    src = client_source()
    work = args.work or tempfile.mkdtemp(prefix="streamlite-clientsuite-")
    os.makedirs(work, exist_ok=True)
    t0 = time.monotonic()
    results: dict[str, dict[str, Outcome]] = {}
    servers: dict[str, ServerProc] = {}
    try:
        servers["redis"] = start_redis(SERVER_ARGS)
        servers["streamlite"] = start_streamlite(["--save", "", *SERVER_ARGS])
        for name, srv in servers.items():
            t1 = time.monotonic()
            xml = os.path.join(work, f"{name}.xml")
            run_suite(src, srv.port, args.files, xml, args.timeout,
                      os.path.join(work, f"{name}.log"))
            results[name] = read_junit(xml)
            print(f"{name}: {len(results[name])} tests in {time.monotonic() - t1:.0f} s "
                  f"(log: {work}/{name}.log)", file=sys.stderr)
            if name == "redis":
                srv.cleanup()  # free the CPU for streamlite's run
        verdicts = compare(src, results["redis"], results["streamlite"])
        retry_unexpected(src, servers["streamlite"].port, verdicts, work, args.timeout)
    finally:
        for srv in servers.values():
            srv.cleanup()
        for leftover in glob.glob(os.path.join(src, "*.rdb")):
            os.remove(leftover)
    ok = report(verdicts, results["streamlite"], time.monotonic() - t0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
