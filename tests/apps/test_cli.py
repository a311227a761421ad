"""``streamlite run`` and ``streamlite load`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from streamlite.cli import build_parser
from tests.support.redis_proc import free_port

from .support import FAST, ROOT, AppProc, env


def streamlite(*args: str, cwd: str = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamlite", *args], capture_output=True,
                          text=True, env=env(), cwd=cwd, timeout=timeout)


def test_run_and_load_are_registered():
    p = build_parser()
    sub = next(a for a in p._actions if a.dest == "command")
    assert {"run", "load"} <= set(sub.choices)
    assert "seed application" in (sub.choices["run"].description or "")


def test_load_cli_reports_latency_and_throughput(backend):
    app = AppProc(backend.url, FAST).start()
    try:
        p = streamlite("load", "--api", app.api, "--orders", "60", "--rate", "100",
                       "--failure-mix", "payment=0.1,invalid=0.05", "--seed", "5")
        j = streamlite("load", "--api", app.api, "--orders", "20", "--rate", "100",
                       "--failure-mix", "", "--json")
    finally:
        assert app.stop() == 0
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "sent:        60 orders" in out
    assert "latency:     created -> shipped" in out and "p99" in out
    assert "throughput:" in out and "unfinished: 0" in out
    r = json.loads(j.stdout)
    assert j.returncode == 0 and r["final"] == 20 and r["statuses"] == {"COMPLETED": 20}
    assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p99"] <= r["latency_ms"]["max"]


def test_load_cli_errors():
    p = streamlite("load", "--failure-mix", "cpu=0.5")
    assert p.returncode == 2 and "--failure-mix" in p.stderr and "KIND=SHARE" in p.stderr
    p = streamlite("load", "--api", f"http://127.0.0.1:{free_port()}", "--orders", "1")
    assert p.returncode == 3 and "no streamlite app at" in p.stderr


def test_run_usage_errors():
    p = streamlite("run", "--no-http", "--no-workers")
    assert p.returncode == 2 and "nothing to run" in p.stderr
    p = streamlite("run", "--url", f"redis://127.0.0.1:{free_port()}/0", "--port", "0")
    assert p.returncode == 3 and "cannot reach" in p.stderr


def test_run_default_is_embedded_in_data_dir():
    """`streamlite run` with no options: the embedded engine in ./data."""
    cwd = tempfile.mkdtemp(prefix="streamlite-run-")
    app = AppProc("streamlite:///./data", FAST, cwd=cwd).start()
    try:
        assert any("streamlite:///./data (embedded, durable)" in ln for ln in app.lines)
    finally:
        assert app.stop() == 0
    assert os.path.isdir(os.path.join(cwd, "data"))


@pytest.mark.parametrize("n", [40])
def test_load_self_hosted(backend, n):
    p = streamlite("load", "--self-hosted", "--url", backend.url, "--orders", str(n),
                   "--rate", "200", "--failure-mix", "stock=0.1", "--json", timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout)
    assert r["final"] == n and r["unfinished"] == 0
