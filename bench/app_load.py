"""End-to-end numbers of the seed application: start a backend and one `streamlite run`
process, drive it with `streamlite load` from another process, print the load
generator's report (latency created -> shipped, throughput).

    .venv/bin/python bench/app_load.py                                  # redis, 10000 at 150/s
    .venv/bin/python bench/app_load.py --backend embedded --orders 3000 --rate 150
    .venv/bin/python bench/app_load.py --backend streamlite-server --rate 100

Backends: ``redis`` (redis-server from the test extra), ``embedded`` (a fresh
``streamlite:///`` directory), ``streamlite-server`` (``python -m streamlite server``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.support.redis_proc import free_port, start_redis, start_streamlite, wait_port  # noqa: E402

MIX = "payment=0.05,email=0.01,stock=0.02,gateway=0.01,invalid=0.01"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="redis",
                    choices=["redis", "embedded", "streamlite-server"])
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=150)
    ap.add_argument("--failure-mix", default=MIX)
    ap.add_argument("--consumers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    srv = None
    tmp = None
    if a.backend == "redis":
        srv = start_redis()
        url = f"redis://127.0.0.1:{srv.port}/0"
    elif a.backend == "streamlite-server":
        srv = start_streamlite()
        url = f"redis://127.0.0.1:{srv.port}/0"
    else:
        tmp = tempfile.mkdtemp(prefix="bench-app-")
        url = f"streamlite://{tmp}"
    port = free_port()
    py = sys.executable
    err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the app
    app = subprocess.Popen([py, "-m", "streamlite", "run", "--url", url, "--port", str(port),
                            "--consumers", str(a.consumers), "--demo", "0"], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=err)
    try:
        try:
            wait_port(port, timeout=60, proc=app)
        except (RuntimeError, TimeoutError):
            err.seek(0)
            print(f"streamlite run did not start:\n{err.read()}", file=sys.stderr)
            return 1
        time.sleep(0.5)
        cmd = [py, "-m", "streamlite", "load", "--api", f"http://127.0.0.1:{port}",
               "--orders", str(a.orders), "--rate", str(a.rate), "--failure-mix",
               a.failure_mix, "--seed", str(a.seed)]
        if a.json:
            cmd.append("--json")
        print(f"# backend {a.backend}; {' '.join(cmd[2:])}", flush=True)
        return subprocess.run(cmd, cwd=ROOT).returncode
    finally:
        app.terminate()
        app.wait(60)
        if srv is not None:
            srv.cleanup()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
