"""Is ``streamlite run`` safe to leave running? The demo at an accelerated rate, with the
retention windows shortened by the same factor, until its data stops growing; then the
restart time.

    .venv/bin/python bench/retention.py                    # x12 for 12 minutes
    .venv/bin/python bench/retention.py --speedup 6 --minutes 20 --port 8151

At ``--speedup K`` the demo places ``2*K`` orders/s and keeps finished demo orders and
acknowledged stream entries ``3600/K`` s (the defaults are 2 orders/s and 1 hour): the
data set holds as many orders and entries as at the default rate and windows, reached K
times sooner. Every ``--every`` seconds it prints the data directory's size (the AOF's
base and increment files) and the orders kept; at the end it stops the application
(Ctrl-C), starts it again on the same directory and reports how long the restart took
until the dashboard answered (and how long loading the data took, from its log).
The directory's AOF is rewritten by the engine as it grows (auto-aof-rewrite-percentage
100, auto-aof-rewrite-min-size 64 MB), so the size saw-tooths between the base and about
twice it (or 64 MB); the steady state is the range of the last samples.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


STREAMS = ["order-received", "inventory-check", "payment-processing", "payment-result",
           "shipping-dispatch", "order-events"]


def du(path: str) -> int:
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return total


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def start(data: str, port: int, args: list[str]) -> tuple[subprocess.Popen[str], str, float]:
    """``streamlite run`` on ``data``; (process, stderr log path, seconds to the banner)."""
    log = os.path.join(os.path.dirname(data), f"run-{time.time_ns()}.log")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"), PYTHONUNBUFFERED="1")
    env.pop("STREAMLITE_URL", None)
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, "-m", "streamlite", "run", "--url",
                          f"streamlite://{data}", "--port", str(port), *args],
                         stdout=subprocess.PIPE, stderr=open(log, "w"),  # noqa: SIM115
                         text=True, env=env)
    assert p.stdout is not None
    for line in p.stdout:
        if line.startswith("Ctrl-C stops"):
            return p, log, time.monotonic() - t0
    raise RuntimeError(f"streamlite run exited: {Path(log).read_text()[-2000:]}")


def stop(p: subprocess.Popen[str]) -> None:
    p.send_signal(signal.SIGINT)
    try:
        p.wait(120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speedup", type=float, default=12.0)
    ap.add_argument("--minutes", type=float, default=12.0, help="how long the demo runs")
    ap.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    ap.add_argument("--port", type=int, default=8151)
    ap.add_argument("--dir", default=None, help="data directory (default: a fresh one)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    k = a.speedup
    work = tempfile.mkdtemp(prefix="streamlite-retention-")
    data = a.dir or os.path.join(work, "data")
    window = f"{max(1, int(3600 / k))}s"
    args = ["--demo", f"{2 * k:g}", "--keep-demo-orders", window, "--keep-stream-entries",
            window, "--retention-interval", f"{max(2.0, 30 / k):g}"]
    print(f"demo {2 * k:g} orders/s, windows {window} (x{k:g}), {a.minutes:g} min, "
          f"data {data}", flush=True)
    p, _, _ = start(data, a.port, args)
    api = f"http://127.0.0.1:{a.port}"
    sys.path.insert(0, os.path.join(ROOT, "src"))
    import streamlite  # attaches to the application's directory through its socket

    r = streamlite.from_url(f"streamlite://{data}")
    samples: list[dict[str, Any]] = []
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < a.minutes * 60:
            time.sleep(a.every)
            s = {"t_s": round(time.monotonic() - t0), "bytes": du(data),
                 "placed": get(f"{api}/api/demo")["placed"],
                 "orders_kept": r.zcard("{orders}:index"),
                 "stream_entries": sum(r.xlen(x) for x in STREAMS)}
            samples.append(s)
            print(f"  {s['t_s']:>5d} s  {s['bytes'] / 1e6:7.1f} MB  placed {s['placed']:>7d}"
                  f"  orders kept {s['orders_kept']:>7d}  stream entries "
                  f"{s['stream_entries']:>7d}", flush=True)
    finally:
        r.close()
        stop(p)
    stopped_size = du(data)
    p, log, restart_s = start(data, a.port, ["--demo", "0"])
    stop(p)
    text = Path(log).read_text()
    m = re.search(r"loaded in ([0-9.]+) s, (\d+) keys", text)
    tail = samples[-max(1, len(samples) // 3):]
    result = {
        "speedup": k, "demo_rate": 2 * k, "window_s": int(3600 / k), "minutes": a.minutes,
        "placed": samples[-1]["placed"] if samples else 0,
        "orders_kept": samples[-1]["orders_kept"] if samples else 0,
        "steady_mb_min": round(min(s["bytes"] for s in tail) / 1e6, 1) if tail else None,
        "steady_mb_max": round(max(s["bytes"] for s in tail) / 1e6, 1) if tail else None,
        "size_after_stop_mb": round(stopped_size / 1e6, 1),
        "restart_s": round(restart_s, 1),
        "load_s": float(m.group(1)) if m else None, "keys": int(m.group(2)) if m else None,
        "samples": samples,
    }
    print(f"steady state (last third of the run): {result['steady_mb_min']}-"
          f"{result['steady_mb_max']} MB; after stop {result['size_after_stop_mb']} MB; "
          f"restart to dashboard {result['restart_s']} s (loading {result['load_s']} s, "
          f"{result['keys']} keys)", flush=True)
    if a.json:
        print(json.dumps(result))
    if a.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
