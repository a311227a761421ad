"""Scaling curves: time per operation as a stream grows, on the engine directly.

    python -m bench.curves [--quick] [--max 10000000] [--pel-max 1000000] [--no-plot]

One stream grows from 1k to ``--max`` entries (three small fields each). At each
size the engine runs, through ``Engine.execute`` (dispatch included, no network):

- ``XADD s * ...`` (appending at the end);
- ``XRANGE s <id in the middle> + COUNT 10``;
- ``XREADGROUP GROUP rg c COUNT 10 STREAMS s >`` for a group positioned in the middle;
- ``XACK s pel <id>`` of a random pending entry, and
- ``XAUTOCLAIM s pel c2 0 <random start> COUNT 10``,
  both on group ``pel`` whose PEL holds every entry up to ``--pel-max``.

Each point is the median of 5 batches of 400 operations, with the objects built
so far frozen out of the garbage collector's way. A flat curve means the
operation does not depend on the stream's (or the PEL's) size. The plot goes to
``docs/scaling.png``; a markdown table is printed (and returned for
``bench.run``).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from streamlite.engine.core import Engine
from streamlite.engine.stream.ids import format_id
from streamlite.engine.stream.stream import Stream

ROOT = Path(__file__).resolve().parent.parent
PNG = ROOT / "docs" / "scaling.png"
OPS = ("XADD", "XRANGE mid COUNT 10", "XREADGROUP COUNT 10", "XACK (large PEL)",
       "XAUTOCLAIM COUNT 10 (large PEL)")
BATCH = 400
BATCHES = 5


def _sizes(max_n: int) -> list[int]:
    out = []
    n = 1000
    while n <= max_n:
        out.append(n)
        if n * 3 <= max_n and n < 1_000_000:
            out.append(n * 3)
        n *= 10
    return sorted(set(out))


def _time(fn: Callable[[], None], batch: int = BATCH) -> float:
    """Microseconds per operation: median of BATCHES batches of ``batch`` calls.

    The heap built so far is frozen first (``gc.freeze``): otherwise a full
    collection, whose cost grows with every object alive (a million pending
    entries are millions of objects), lands in some batches and not others."""
    gc.collect()
    gc.freeze()
    per = []
    for _ in range(BATCHES):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        per.append((time.perf_counter() - t0) / batch * 1e6)
    return statistics.median(per)


def run(max_n: int, pel_max: int) -> tuple[list[int], dict[str, list[float]], list[int]]:
    eng = Engine()
    c = eng.client()
    ex = eng.execute
    rnd = random.Random(7)
    ex(c, [b"XADD", b"s", b"*", b"user", b"u0", b"action", b"click", b"amount", b"0"])
    s = c.db.data[b"s"]
    assert isinstance(s, Stream)
    ex(c, [b"XGROUP", b"CREATE", b"s", b"pel", b"0"])
    sizes = _sizes(max_n)
    res: dict[str, list[float]] = {op: [] for op in OPS}
    pel_sizes: list[int] = []
    lengths: list[int] = []
    fields = [b"user", b"u1", b"action", b"click", b"amount", b"12345"]

    def grow(to: int) -> None:
        # a direct append: the same storage code as XADD without the command around it
        add = s.add
        last = s.last_id
        while s.length < to:
            last += 1
            add(last, fields)
        s.last_id = last

    for n in sizes:
        grow(n - BATCH * BATCHES)  # the XADD batches bring it to n
        t = _time(lambda: ex(c, [b"XADD", b"s", b"*", *fields]))
        res["XADD"].append(t)
        grow(n)
        n = s.length
        lengths.append(n)
        ids = list(s.range_ids(0, s.last_id))
        mid = ids[len(ids) // 2]
        mid_b = format_id(mid)
        res["XRANGE mid COUNT 10"].append(
            _time(lambda mid_b=mid_b: ex(c, [b"XRANGE", b"s", mid_b, b"+", b"COUNT", b"10"])))
        # group rg starts in the middle (or at 0 when the stream is too short for
        # every call to get 10 new entries)
        ex(c, [b"XGROUP", b"DESTROY", b"s", b"rg"])
        from_mid = len(ids) - len(ids) // 2 >= 10 * BATCH * BATCHES
        ex(c, [b"XGROUP", b"CREATE", b"s", b"rg", mid_b if from_mid else b"0"])
        avail = len(ids) - len(ids) // 2 if from_mid else len(ids)
        res["XREADGROUP COUNT 10"].append(
            _time(lambda: ex(c, [b"XREADGROUP", b"GROUP", b"rg", b"c", b"COUNT", b"10",
                                 b"STREAMS", b"s", b">"]),
                  max(1, min(BATCH, avail // (10 * BATCHES)))))
        # the big PEL: group "pel" has read every entry, up to pel_max
        g = s.groups[b"pel"]
        want = min(n, pel_max) - len(g.pel)
        while want > 0:
            k = min(want, 10_000)
            ex(c, [b"XREADGROUP", b"GROUP", b"pel", b"c", b"COUNT", b"%d" % k,
                   b"STREAMS", b"s", b">"])
            want -= k
        pel_ids = list(g.pel.keys())
        pel_sizes.append(len(pel_ids))
        k = min(len(pel_ids) // 2, BATCH * BATCHES)
        picks = iter([format_id(x) for x in rnd.sample(pel_ids, k)])
        res["XACK (large PEL)"].append(
            _time(lambda picks=picks: ex(c, [b"XACK", b"s", b"pel", next(picks)]), k // BATCHES))
        it = iter([format_id(x) for x in rnd.sample(pel_ids, k)])
        res["XAUTOCLAIM COUNT 10 (large PEL)"].append(
            _time(lambda it=it: ex(c, [b"XAUTOCLAIM", b"s", b"pel", b"c2", b"0", next(it),
                                 b"COUNT", b"10"]), k // BATCHES))
        line = "  ".join(f"{op.split()[0]} {res[op][-1]:6.2f}" for op in OPS)
        print(f"  {n:>10,} entries (PEL {len(pel_ids):>9,}): {line}  us/op", flush=True)
    return lengths, res, pel_sizes


def plot(sizes: list[int], res: dict[str, list[float]], pel_sizes: list[int]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return False
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for op in OPS[:3]:
        a1.plot(sizes, res[op], marker="o", label=op)
    a1.set_xscale("log")
    a1.set_xlabel("entries in the stream")
    a1.set_ylabel("microseconds per operation")
    a1.set_ylim(bottom=0)
    a1.set_title("stream operations")
    a1.legend(fontsize=8)
    a1.grid(True, alpha=0.3)
    for op in OPS[3:]:
        a2.plot(pel_sizes, res[op], marker="o", label=op)
    a2.set_xscale("log")
    a2.set_xlabel("entries in the group's PEL")
    a2.set_ylim(bottom=0)
    a2.set_title("pending entries list")
    a2.legend(fontsize=8)
    a2.grid(True, alpha=0.3)
    fig.suptitle("streamlite engine: time per operation as the stream grows "
                 "(Engine.execute, no network)", fontsize=10)
    fig.tight_layout()
    fig.savefig(PNG, dpi=110)
    plt.close(fig)
    return True


def markdown(sizes: list[int], res: dict[str, list[float]], pel_sizes: list[int],
             plotted: bool) -> str:
    lines = ["### Scaling curves (`python -m bench.curves`)", ""]
    if plotted:
        lines += [f"![time per operation as the stream grows]({PNG.name})", ""]
    lines += [
        "Microseconds per operation through `Engine.execute` (no network), median of "
        f"{BATCHES} batches of {BATCH}:",
        "",
        "| entries | PEL | " + " | ".join(OPS) + " |",
        "|---:|---:|" + "---:|" * len(OPS),
    ]
    for i, n in enumerate(sizes):
        lines.append(f"| {n:,} | {pel_sizes[i]:,} | "
                     + " | ".join(f"{res[op][i]:.2f}" for op in OPS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="up to 100k entries")
    ap.add_argument("--max", type=int, default=10_000_000)
    ap.add_argument("--pel-max", type=int, default=1_000_000)
    ap.add_argument("--no-plot", action="store_true")
    a = ap.parse_args(argv)
    max_n = 100_000 if a.quick else a.max
    t0 = time.monotonic()
    print(f"scaling curves up to {max_n:,} entries:", flush=True)
    sizes, res, pel_sizes = run(max_n, a.pel_max)
    plotted = False if (a.no_plot or a.quick) else plot(sizes, res, pel_sizes)
    md = markdown(sizes, res, pel_sizes, plotted)
    print(f"(curves took {time.monotonic() - t0:.0f} s)")
    return md


if __name__ == "__main__":
    print(main())
