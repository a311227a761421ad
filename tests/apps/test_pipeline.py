"""End to end: orders with injected failures through the whole pipeline, on real Redis
and on the embedded engine; then every invariant of a consistent run (see
support.check_invariants): final states, stock, money, e-mails, dead letters, alerts."""

from __future__ import annotations

import asyncio

import pytest

from streamlite.apps.load import run_load

from .support import FAST, AppProc, check_invariants, wait_drained

MIX = {"payment": 0.05, "email": 0.02, "stock": 0.03, "gateway": 0.02, "invalid": 0.01}


@pytest.mark.cluster_too
def test_thousand_orders_with_failures(backend):
    app = AppProc(backend.url, [*FAST, "--consumers", "2"]).start()
    try:
        result = asyncio.run(run_load(app.api, orders=1000, rate=400, mix=MIX, seed=7,
                                      concurrency=32, timeout_s=150, quiet=True))
        wait_drained(app.api)
    finally:
        rc = app.stop()
    assert rc == 0, app.stderr()[-3000:]
    assert result["unfinished"] == 0 and not result["errors"], result
    assert result["rejected"] == {422: result["expected_rejections"]}
    assert result["expected_rejections"] > 0
    accepted = result["accepted"]

    r = backend.client()  # the app has stopped: the embedded directory is free again
    try:
        facts = check_invariants(r, expect_orders=accepted)
    finally:
        r.close()
    # every kind of failure happened and ended where it should
    assert facts["reasons"]["out_of_stock"] > 0
    assert facts["reasons"]["payment_failed"] > 0
    assert facts["dlq_events"] > 0 and facts["dlq_payments"] > 0
    assert facts["statuses"]["COMPLETED"] > 0.8 * accepted


@pytest.mark.parametrize("n", [30])
def test_restart_resumes_after_graceful_stop(backend, n):
    """Ctrl-C in the middle, start again: everything finishes, nothing twice."""
    from .support import http, order_body, wait_final

    app = AppProc(backend.url, FAST).start()
    ids = []
    for i in range(n):
        st, o = http("POST", f"{app.api}/api/orders", order_body(quantity=1 + i % 3))
        assert st == 201, o
        ids.append(o["order_id"])
    assert app.stop() == 0
    app2 = AppProc(backend.url, FAST).start()
    try:
        final = wait_final(app2.api, ids, timeout=60)
        assert {s["status"] for s in final.values()} == {"COMPLETED"}
        wait_drained(app2.api)
    finally:
        assert app2.stop() == 0
    r = backend.client()
    try:
        check_invariants(r, expect_orders=n)
    finally:
        r.close()
