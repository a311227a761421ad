"""The seed application on one embedded data directory shared by several processes:
``make run``'s app owns it, a second ``streamlite.connect(dir)`` process and the
operations CLI attach and see and change the same data; when the owner is killed, a
worker process takes the directory over and the pipeline goes on."""

from __future__ import annotations

import json
import subprocess
import sys

import streamlite
from streamlite.persistence import datadir
from tests.apps.support import (
    FAST,
    AppProc,
    check_invariants,
    env,
    http,
    order_body,
    wait_drained,
    wait_final,
    wait_until,
)

from .procs import ROOT

SECOND = """
import json, sys
import streamlite
r = streamlite.connect(sys.argv[1], decode_responses=True)
assert streamlite.embedded.is_attached(r)
orders = r.zcard("{orders}:index")  # apps.keys.ORDER_INDEX
# seed 001's hand-written entry: no order behind it, so the owner's workers dead-letter it
xid = r.xadd("order-received", {"order_id": "ORD-2024-004", "customer_email": "invalid-email"})
r.set("second:seen", orders)
print(json.dumps({"orders": orders, "id": xid}))
"""


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamlite", *args, "--url", url],
                          capture_output=True, text=True, env=env(), cwd=ROOT, timeout=60)


def _place(api: str, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        st, body = http("POST", f"{api}/api/orders", order_body())
        assert st in (200, 201, 202), body
        ids.append(body["order_id"])
    return ids


def test_app_second_process_and_cli_share_the_directory(tmp_path):
    d = str(tmp_path / "data")
    url = f"streamlite://{d}"
    app = AppProc(url, FAST).start()
    try:
        assert any("embedded, durable" in ln for ln in app.lines), app.lines
        ids = _place(app.api, 3)
        wait_final(app.api, ids, timeout=60)
        # a second process: streamlite.connect(dir) attaches to the app's process
        out = subprocess.run([sys.executable, "-c", SECOND, d], capture_output=True,
                             text=True, env=env(), cwd=ROOT, timeout=60)
        assert out.returncode == 0, out.stderr
        second = json.loads(out.stdout)
        assert second["orders"] == 3

        def dead() -> list:
            st, body = http("GET", f"{app.api}/api/dlq")
            return [x for x in body["dead_letters"] if x["stream"] == "order-received"
                    and x["entries"]]
        wait_until(dead, timeout=30, what="the second process's entry dead-lettered")
        # the operations CLI: reads ...
        res = cli(url, "tail", "order-events", "--from", "0", "--exit-when-idle",
                  "--block", "200", "--json")
        assert res.returncode == 0, res.stderr
        events = [json.loads(x) for x in res.stdout.splitlines()]
        assert {e["payload"]["order_id"] for e in events} >= set(ids)
        res = cli(url, "top", "--once", "--json")
        assert res.returncode == 0, res.stderr
        assert "order-received" in res.stdout
        res = cli(url, "dlq", "list", "order-received", "--json")
        assert res.returncode == 0, res.stderr
        assert second["id"] in [json.loads(x)["original_id"] for x in res.stdout.splitlines()]
        # ... and changes: the app sees the purge at once
        res = cli(url, "dlq", "purge", "order-received", "--all")
        assert res.returncode == 0, res.stderr
        st, body = http("GET", f"{app.api}/api/dlq")
        assert not [x for x in body["dead_letters"] if x["stream"] == "order-received"
                    and x["entries"]], body
        r = streamlite.connect(d, decode_responses=True)
        assert streamlite.embedded.is_attached(r) and r.get("second:seen") == "3"
        r.close()
        assert datadir.read_holder(d)[0] == str(app.proc.pid)  # nobody took it from the app
    finally:
        assert app.stop() == 0


def test_workers_go_on_when_the_owner_is_killed(tmp_path):
    """``make run``'s process owns the directory, a worker process is attached; kill -9
    the owner: the worker takes the directory over and its consumers go on by
    themselves (and reclaim what the dead ones held); a new API process attaches."""
    d = str(tmp_path / "data")
    url = f"streamlite://{d}"
    owner = AppProc(url, FAST).start()
    worker = AppProc(url, FAST, http=False).start()
    api = None
    try:
        assert any("attached to the process that owns" in ln for ln in worker.lines)
        first = _place(owner.api, 20)
        owner.kill()
        api = AppProc(url, [*FAST, "--no-workers"]).start()
        assert datadir.read_holder(d)[0] == str(worker.proc.pid)  # the worker took over
        later = _place(api.api, 20)
        final = wait_final(api.api, first + later, timeout=120)
        assert len(final) == 40
        wait_drained(api.api)
        assert worker.proc.poll() is None
    finally:
        if api is not None:
            assert api.stop() == 0
        assert worker.stop() == 0
        owner.kill()
    r = streamlite.connect(d, decode_responses=True)
    try:
        facts = check_invariants(r, expect_orders=40)
        assert sum(facts["statuses"].values()) == 40
    finally:
        r.close()
