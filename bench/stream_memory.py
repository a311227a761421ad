"""Stream memory per entry and XADD/XRANGE speed, streamlite vs redis-server.

    .venv/bin/python bench/stream_memory.py [--entries 1000000] [--ops 200000]

Memory: N entries of three small fields (``XADD s * user u<i%1000> action click
amount <i%100000>``) are added through ``engine.execute``. Two measures:

- *traced*: bytes Python allocated for the data and still holds, from
  ``tracemalloc`` (snapshot before/after, the built stream kept alive);
- *rss*: growth of the process's resident set, measured in a separate run
  without tracemalloc (includes allocator slack, like Redis's RSS).

Redis: growth of ``used_memory`` (INFO memory, jemalloc-reported) for the same
N entries, on a fresh redis-server started here.

Speed: XADD ops/s and XRANGE (COUNT 10 at random offsets) ops/s through
``engine.execute``, with the node layout and with the simple list+dict layout
the stream started with (``--layout baseline`` swaps it in), median of 3 runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import socket
import statistics
import sys
import time
import tracemalloc
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from streamlite.engine import Engine  # noqa: E402
from streamlite.engine.clock import SystemClock  # noqa: E402


def argv_for(i: int) -> list[bytes]:
    return [
        b"XADD", b"s", b"*",
        b"user", b"u%d" % (i % 1000),
        b"action", b"click",
        b"amount", b"%d" % (i % 100000),
    ]  # fmt: skip


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class BaselineStream:
    """The list+dict layout the stream started with (for the before/after figures)."""

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._entries: dict[int, list[bytes]] = {}
        self.length = 0
        self.last_id = 0
        self.max_deleted_id = 0
        self.entries_added = 0
        self.groups: dict[bytes, Any] = {}
        self.idmp = None
        self.cfg = None

    def add(self, sid: int, fields: list[bytes], max_entries: int = 100, max_bytes: int = 4096) -> None:
        self._ids.append(sid)
        self._entries[sid] = fields
        self.length += 1
        self.entries_added += 1
        self.last_id = sid

    def range(self, start: int, end: int, count: int | None = None, rev: bool = False) -> Any:
        ids = self._ids
        lo = bisect_left(ids, start)
        hi = bisect_right(ids, end)
        rng = range(hi - 1, lo - 1, -1) if rev else range(lo, hi)
        n = 0
        for i in rng:
            sid = ids[i]
            yield sid, self._entries[sid]
            n += 1
            if count is not None and n >= count:
                return


def use_baseline() -> None:
    from streamlite.engine.commands import stream_common, streams
    from streamlite.engine.database import register_type

    register_type(BaselineStream, b"stream")
    streams.Stream = BaselineStream  # type: ignore[misc,assignment]
    stream_common.Stream = BaselineStream  # type: ignore[misc,assignment]


def build(n: int) -> Engine:
    eng = Engine(SystemClock())
    c = eng.client()
    ex = eng.execute
    for i in range(n):
        ex(c, argv_for(i))
    return eng


def memory(n: int) -> tuple[float, float]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    eng = build(n)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    traced = (after - before) / n
    del eng
    return traced, rss_in_child(n)


def rss_in_child(n: int, baseline: bool = False) -> float:
    """RSS growth per entry, measured in a fresh interpreter (freed memory is not reused)."""
    import subprocess

    args = [sys.executable, __file__, "--rss-child", str(n)] + (["--layout", "baseline"] if baseline else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def xadd_ops(n: int) -> float:
    argvs = [argv_for(i) for i in range(n)]
    eng = Engine(SystemClock())
    c = eng.client()
    ex = eng.execute
    t0 = time.perf_counter()
    for a in argvs:
        ex(c, a)
    return n / (time.perf_counter() - t0)


def xrange_ops(n: int, size: int = 100_000) -> float:
    eng = build(size)
    c = eng.client()
    ids = [x[0] for x in eng.execute(c, [b"XRANGE", b"s", b"-", b"+"])]
    rnd = random.Random(1)
    argvs = [[b"XRANGE", b"s", rnd.choice(ids), b"+", b"COUNT", b"10"] for _ in range(n)]
    ex = eng.execute
    t0 = time.perf_counter()
    for a in argvs:
        ex(c, a)
    return n / (time.perf_counter() - t0)


# -- redis-server ----------------------------------------------------------------


def redis_used_memory_per_entry(n: int) -> float | None:
    from tests.support.redis_proc import have_redis, start_redis

    if not have_redis():
        return None
    srv = start_redis()
    try:
        sock = socket.create_connection(("127.0.0.1", srv.port))
        import hiredis

        reader = hiredis.Reader()

        def call_many(cmds: list[list[bytes]]) -> list[Any]:
            from streamlite.protocol.resp import encode_command

            sock.sendall(b"".join(encode_command(a) for a in cmds))
            out: list[Any] = []
            while len(out) < len(cmds):
                r = reader.gets()
                if r is False:
                    reader.feed(sock.recv(1 << 20))
                    continue
                out.append(r)
            return out

        def used() -> int:
            info = call_many([[b"INFO", b"memory"]])[0].decode()
            return int(next(x for x in info.split("\r\n") if x.startswith("used_memory:")).split(":")[1])

        u0 = used()
        batch = 10_000
        for start in range(0, n, batch):
            call_many([argv_for(i) for i in range(start, min(n, start + batch))])
        return (used() - u0) / n
    finally:
        srv.cleanup()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--ops", type=int, default=200_000)
    p.add_argument("--layout", choices=["nodes", "baseline", "both"], default="both")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.rss_child:
        if args.layout == "baseline":
            use_baseline()
        gc.collect()
        r0 = rss_bytes()
        eng = build(args.rss_child)
        gc.collect()
        print((rss_bytes() - r0) / args.rss_child)
        del eng
        return

    print(f"python {sys.version.split()[0]}, {args.entries} entries, {args.ops} ops")
    if not args.skip_memory:
        if args.layout in ("nodes", "both"):
            traced, rss = memory(args.entries)
            print(f"streamlite nodes: {traced:.1f} bytes/entry traced (tracemalloc), {rss:.1f} RSS growth")
        red = redis_used_memory_per_entry(args.entries)
        if red is not None:
            print(f"redis-server: {red:.1f} bytes/entry (used_memory growth)")
    layouts = ["nodes", "baseline"] if args.layout == "both" else [args.layout]
    for layout in layouts:
        if layout == "baseline":
            use_baseline()
        xadd = statistics.median(xadd_ops(args.ops) for _ in range(3))
        xr = statistics.median(xrange_ops(max(args.ops // 4, 1000)) for _ in range(3))
        print(f"{layout}: XADD {xadd:,.0f} ops/s, XRANGE COUNT 10 {xr:,.0f} ops/s (engine.execute)")
        if layout == "baseline" and not args.skip_memory:
            traced, _ = memory(args.entries)
            rss = rss_in_child(args.entries, baseline=True)
            print(f"baseline: {traced:.1f} bytes/entry traced, {rss:.1f} RSS growth")


if __name__ == "__main__":
    main()
