"""The embedded mode keeps the same promise: kill -9 of a process running
``streamlite.connect(dir)`` under ``appendfsync always``, with concurrent XADD,
blocking XREADGROUP and XACK threads, at random moments; after each kill the
directory opens with every acknowledged write and a consistent stream."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import streamlite

from .support import sid

ROOT = Path(__file__).resolve().parents[2]


def _collect(p: subprocess.Popen, seen: dict[str, set], stop: threading.Event) -> None:
    assert p.stdout is not None
    for line in p.stdout:
        tag, _, x = line.strip().partition(" ")
        if tag in seen:
            seen[tag].add(sid(x))
        elif tag == "ready":
            stop.set()


def test_embedded_kill_9_under_load_loses_nothing_acknowledged(tmp_path):
    rng = random.Random(7)
    path = str(tmp_path / "data")
    seen: dict[str, set] = {"A": set(), "D": set(), "S": set(), "K": set()}
    for rnd in range(6):
        p = subprocess.Popen([sys.executable, "-m", "tests.persistence.embedded_child", path],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        ready = threading.Event()
        reader = threading.Thread(target=_collect, args=(p, seen, ready))
        reader.start()
        assert ready.wait(60), p.stderr.read() if p.stderr else ""
        time.sleep(rng.uniform(0.3, 1.0))
        os.kill(p.pid, signal.SIGKILL)
        p.wait(30)
        reader.join(30)
        r = streamlite.connect(path)
        try:
            present = {sid(e[0]) for e in r.xrange("orders")}
            assert seen["A"] <= present, f"round {rnd}: {len(seen['A'] - present)} XADDs lost"
            g = r.xinfo_groups("orders")[0]
            last = sid(g["last-delivered-id"])
            assert all(x <= last for x in seen["D"]), f"round {rnd}: a delivery was lost"
            pending = {sid(x["message_id"]) for x in
                       r.xpending_range("orders", "g", min="-", max="+", count=10**9)}
            assert g["pending"] == len(pending)
            assert not (pending & seen["K"]), f"round {rnd}: an acknowledged XACK was lost"
            assert not (seen["D"] - pending - seen["S"]), f"round {rnd}: lost deliveries"
            counts = {c["name"]: c["pending"] for c in r.xinfo_consumers("orders", "g")}
            assert sum(counts.values()) == len(pending)
        finally:
            r.close()
    assert len(seen["A"]) > 300 and len(seen["K"]) > 50
