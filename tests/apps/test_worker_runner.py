"""The seed application split in two: ``streamlite run --no-workers`` (the HTTP API)
and its consumers under ``streamlite worker streamlite.apps.worker:app --workers 2``.
Orders complete; a worker killed with -9 is replaced and nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from .support import (
    FAST,
    ROOT,
    AppProc,
    check_invariants,
    env,
    http,
    order_body,
    wait_drained,
    wait_final,
)


@pytest.mark.slow  # four backends, two processes each: ~40 s
@pytest.mark.cluster_too
def test_seed_app_consumers_under_streamlite_worker(backend) -> None:
    web = AppProc(backend.url, [*FAST, "--no-workers", "--payment-failure-rate", "0"]).start()
    sup = subprocess.Popen([sys.executable, "-m", "streamlite", "worker",
                            "streamlite.apps.worker:app", "--workers", "2", "--url",
                            backend.url, "--grace", "5"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env=env(), cwd=ROOT)
    try:
        ids = []
        for i in range(6):
            st, o = http("POST", f"{web.api}/api/orders", order_body(payment_token="tok_visa"))
            assert st == 201, o
            ids.append(o["order_id"])
            if i == 2:  # one worker dies mid-run: the supervisor starts another
                wait_final(web.api, ids[:1], timeout=120)  # (the workers are up)
                _kill_one_worker(sup.pid)
        final = wait_final(web.api, ids, timeout=180)
        assert {s["status"] for s in final.values()} == {"COMPLETED"}
        wait_drained(web.api)  # the follow-ups (analytics, e-mail) too
        r = backend.client()
        check_invariants(r, expect_orders=6)
        r.close()
    finally:
        if sup.poll() is None:
            sup.send_signal(signal.SIGTERM)
        _, err = sup.communicate(timeout=60)
        assert web.stop() == 0, web.stderr()[-2000:]
    assert sup.returncode == 0, err[-3000:]
    assert "exited with code" in err  # the killed one was noticed (and replaced)


def _kill_one_worker(supervisor_pid: int) -> None:
    """kill -9 one child of the supervisor (from /proc: no psutil needed)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == supervisor_pid:
            os.kill(int(d), signal.SIGKILL)
            return
    raise AssertionError("no worker process found")
