"""kill -9 in the middle of a run: after a restart nothing is lost and nothing is applied
twice (the invariants would show a second stock move, charge, ranking point, e-mail...)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from streamlite.apps.keys import SUBSCRIPTIONS
from streamlite.apps.load import run_load

from .support import (
    FAST,
    AppProc,
    check_invariants,
    http,
    order_body,
    wait_drained,
    wait_final,
    wait_until,
)

SLOW_GATEWAY = ["--payment-latency-ms", "40"]


def _consumer_names(app: AppProc) -> set[str]:
    line = next(ln for ln in app.lines if "consumers:" in ln)
    return set(line.rsplit("(", 1)[1].rstrip(")\n").split(", "))


def _in_flight(api: str) -> int:
    st, snap = http("GET", f"{api}/api/dashboard")
    assert st == 200, snap
    return sum(v for k, v in snap["status_counts"].items() if k not in ("COMPLETED", "CANCELLED"))


@pytest.mark.cluster_too
def test_worker_process_killed_and_replaced(backend):
    """Real Redis: the API in one process, the consumers in another; the consumer
    process dies by SIGKILL mid-run; a new one takes over its pending messages."""
    if not backend.multiprocess:
        pytest.skip("embedded: one process owns the engine (see the whole-app kill test)")
    api = AppProc(backend.url, [*FAST, "--no-workers"]).start()
    worker = AppProc(backend.url, [*FAST, *SLOW_GATEWAY], http=False).start()
    result: dict = {}

    def load() -> None:
        result.update(asyncio.run(run_load(
            api.api, orders=400, rate=250, seed=3, concurrency=16, timeout_s=120, quiet=True,
            mix={"payment": 0.05, "email": 0.02, "stock": 0.02, "gateway": 0.02})))

    t = threading.Thread(target=load)
    t.start()
    replacement = None
    try:
        time.sleep(1.2)
        in_flight = _in_flight(api.api)
        worker.kill()
        assert in_flight > 0  # killed mid-run, with orders half way
        time.sleep(0.5)
        replacement = AppProc(backend.url, [*FAST, *SLOW_GATEWAY, "--forget-consumers-after",
                                            "3"], http=False).start()
        t.join(150)
        assert not t.is_alive()
        wait_drained(api.api)
        # the dead process's consumers, once their entries were claimed, are forgotten
        dead = _consumer_names(worker)
        r = backend.client()
        try:
            wait_until(lambda: not dead & {c["name"] for s, g in SUBSCRIPTIONS
                                           for c in r.xinfo_consumers(s, g)},
                       timeout=30, what="dead consumers forgotten")
            alive = {c["name"] for c in r.xinfo_consumers(*SUBSCRIPTIONS[0])}
            assert _consumer_names(replacement) <= alive
        finally:
            r.close()
    finally:
        t.join(1)
        if replacement is not None:
            assert replacement.stop() == 0
        assert api.stop() == 0
    assert result["unfinished"] == 0 and not result["errors"], result
    r = backend.client()
    try:
        facts = check_invariants(r, expect_orders=result["accepted"])
    finally:
        r.close()
    assert facts["statuses"]["COMPLETED"] > 0


def test_whole_app_killed_and_restarted(backend):
    """The one-process `streamlite run` dies by SIGKILL while orders are in flight and is
    started again on the same data: every accepted order is there and finishes once."""
    app = AppProc(backend.url, [*FAST, "--payment-latency-ms", "80"]).start()
    ids = []
    try:
        for i in range(150):
            body = order_body(quantity=1 + i % 2)
            if i % 10 == 3:
                body["payment_token"] = "tok_declined"
            if i % 25 == 7:
                body["customer_email"] = f"c{i}@mail.invalid"
            st, o = http("POST", f"{app.api}/api/orders", body)
            assert st == 201, o
            ids.append(o["order_id"])
        assert _in_flight(app.api) > 0
    finally:
        app.kill()
    app2 = AppProc(backend.url, FAST).start()
    try:
        final = wait_final(app2.api, ids, timeout=90)
        assert len(final) == len(ids)
        wait_drained(app2.api)
    finally:
        assert app2.stop() == 0
    r = backend.client()
    try:
        facts = check_invariants(r, expect_orders=len(ids))
    finally:
        r.close()
    assert facts["reasons"]["payment_failed"] == 15
