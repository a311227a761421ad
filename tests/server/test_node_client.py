"""A non-Python client: ioredis (Node.js) runs seed 002's consumer-group scenario
against redis-server and against streamlite; the outputs must be identical."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support.redis_proc import have_redis, start_redis, start_streamlite

NODE_DIR = Path(__file__).parent / "node"


def _run(port: int) -> list:
    out = subprocess.run(
        ["node", str(NODE_DIR / "consumer_group.js"), str(port)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")
def test_ioredis_consumer_group_scenario_matches_redis():
    if not (NODE_DIR / "node_modules" / "ioredis").exists():
        pytest.skip("ioredis not installed: npm install --prefix tests/server/node (CI does)")
    redis = start_redis()
    ours = start_streamlite()
    try:
        expected = _run(redis.port)
        got = _run(ours.port)
    finally:
        redis.cleanup()
        ours.cleanup()
    for (name, a), (name2, b) in zip(expected, got, strict=True):
        assert name == name2
        assert a == b, f"{name}: redis {a!r} != streamlite {b!r}"
