"""appendfsync everysec: what a power cut can lose, measured.

A process crash loses nothing acknowledged under everysec (``test_server``): each batch
is in the page cache before its replies. A power cut loses what was not fsynced yet.
This test writes steadily with the real clock, ticking as the fronts do (every 100 ms;
the fsync runs on a helper thread once a second), and at a random moment keeps only
the bytes the last completed fdatasync covered, exactly what the disk is guaranteed
to hold, then loads that. The writes lost must be the newest ones, acknowledged at
most about a second before the cut (asserted: two seconds).
"""

from __future__ import annotations

import os
import random
import shutil
import time

from .helpers import Durable, incr_files


def test_power_cut_under_everysec_loses_at_most_about_a_second(tmp_path):
    rng = random.Random(11)
    windows = []
    for rnd in range(2):
        src = tmp_path / f"src{rnd}"
        d = Durable(str(src), appendfsync="everysec")
        acked: list[float] = []
        t0 = time.monotonic()
        next_tick = t0 + 0.1
        cut_at = t0 + rng.uniform(2.2, 3.2)
        i = 0
        while True:
            now = time.monotonic()
            if now >= cut_at:
                break
            d("SET", f"k{i}", "v" * 20)
            acked.append(time.monotonic())
            i += 1
            if now >= next_tick:
                d.p.tick()
                next_tick += 0.1
            if i % 50 == 0:
                time.sleep(0.001)
        cut = time.monotonic()
        w = d.p.writer
        assert w is not None
        synced = w.synced_size
        # the "disk" after the power cut: everything fsynced, nothing after it
        dst = tmp_path / f"cut{rnd}"
        shutil.copytree(src, dst)
        name = os.path.basename(w.path)
        os.truncate(dst / "appendonlydir" / name, synced)
        w.wait_bg()
        d.p.writer = None
        w.close()
        after = Durable(str(dst), appendfsync="everysec")
        present = [after("EXISTS", f"k{j}") == 1 for j in range(i)]
        after.close()
        kept = sum(present)
        assert present == [True] * kept + [False] * (i - kept), "a lost write is not the newest"
        window = cut - acked[kept] if kept < i else 0.0
        windows.append((window, i - kept, i))
        assert window <= 2.0, windows
        assert incr_files(str(dst))
    print(f"\neverysec power-cut loss (seconds, writes lost, writes): {windows}")
