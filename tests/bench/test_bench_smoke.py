"""The benchmark harness runs (no timing is asserted: numbers depend on the machine)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.redis_proc import have_redis

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("redis-benchmark") is None or not have_redis(),
                    reason="needs redis-benchmark and redis-server")
def test_bench_run_quick_ping() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--repeats", "1", "--only", "ping",
         "--no-write"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr
    assert "| PING, 50 clients | ops/s |" in out.stdout
    assert "streamlite / redis-server" in out.stdout


def test_bench_curves_small() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.curves", "--max", "3000", "--no-plot"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr
    assert "| entries | PEL | XADD |" in out.stdout


@pytest.mark.skipif(not have_redis(), reason="needs redis-server")
def test_faststream_compare_small() -> None:
    pytest.importorskip("faststream", reason="the bench extra (faststream[redis])")
    out = subprocess.run(
        [sys.executable, "bench/faststream_compare.py", "--n", "300", "--rounds", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr
    assert "| streamlite.events (`streamlite worker --workers 4`) | 4 |" in out.stdout
    assert "| FastStream RedisBroker, StreamSub | 1 |" in out.stdout
