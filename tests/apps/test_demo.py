"""``streamlite run --demo RATE``: the application places realistic orders by itself
(through its own order path), the dashboard's control pauses and resumes them, and
every demo order ends consistently (the pipeline's invariants hold)."""

from __future__ import annotations

import time

from streamlite.apps.demo import DemoTraffic

from .support import FAST, AppProc, check_invariants, http, wait_drained, wait_until


def orders_total(api: str) -> int:
    st, snap = http("GET", f"{api}/api/dashboard")
    assert st == 200, snap
    return int(snap["orders_total"])


def test_demo_traffic_pause_resume(backend):
    app = AppProc(backend.url, [*FAST, "--demo", "20"]).start()
    try:
        assert any("demo:" in ln and "20 orders/s" in ln for ln in app.lines), app.lines
        # orders arrive with nobody posting any
        wait_until(lambda: orders_total(app.api) >= 10, what="demo orders")
        st, snap = http("GET", f"{app.api}/api/dashboard")
        assert snap["demo"]["running"] and snap["demo"]["rate"] == 20
        # pause: once the PUT answered, nothing more is placed
        st, d = http("PUT", f"{app.api}/api/demo", {"paused": True})
        assert st == 200 and d["paused"] and not d["running"]
        n = orders_total(app.api)
        assert n == d["placed"]  # every order of this app was the demo's
        time.sleep(1.0)
        assert orders_total(app.api) == n
        st, d2 = http("GET", f"{app.api}/api/demo")
        assert d2["placed"] == n and d2["paused"]
        # bad settings change nothing
        for body in ({"paused": "yes"}, {"rate": -1}, {"rate": 5000}, {"speed": 3}, [1]):
            st, err = http("PUT", f"{app.api}/api/demo", body)
            assert st == 422, (body, err)
        # resume (and a new rate)
        st, d = http("PUT", f"{app.api}/api/demo", {"paused": False, "rate": 30})
        assert st == 200 and d["running"] and d["rate"] == 30
        wait_until(lambda: orders_total(app.api) >= n + 10, what="demo orders again")
        st, d = http("PUT", f"{app.api}/api/demo", {"paused": True})
        assert st == 200
        total = d["placed"]
        wait_drained(app.api)
    finally:
        rc = app.stop()
    assert rc == 0, app.stderr()[-3000:]
    r = backend.client()
    try:
        facts = check_invariants(r, expect_orders=total)
    finally:
        r.close()
    assert facts["statuses"]["COMPLETED"] > 0


def test_demo_off_and_in_worker_processes(backend):
    """``--demo 0``: no demo orders and the control says so; a ``--no-http`` process
    (a worker) never places demo orders, whatever --demo says."""
    app = AppProc(backend.url, FAST).start()
    try:
        assert any("demo:       off" in ln for ln in app.lines), app.lines
        st, d = http("GET", f"{app.api}/api/demo")
        assert st == 200 and d == {"rate": 0.0, "paused": False, "running": False,
                                   "placed": 0, "errors": 0}
        if backend.multiprocess:
            worker = AppProc(backend.url, [*FAST, "--demo", "50"], http=False).start()
            time.sleep(1.0)
            assert worker.stop() == 0
        assert orders_total(app.api) == 0
    finally:
        assert app.stop() == 0


def test_demo_orders_are_valid_and_varied():
    """The order bodies: catalog products, valid for the API, a few with trouble."""
    from streamlite.apps.catalog import PRODUCTS, SOLD_OUT_SKU
    from streamlite.apps.model import validate_order

    products = {p.sku: {"sku": p.sku, "name": p.name, "price": p.price,
                        "stock": 0 if p.sku == SOLD_OUT_SKU else 1000} for p in PRODUCTS}
    d = DemoTraffic(None, 2.0, seed=3)
    bodies = [d.make_order(products) for _ in range(2000)]
    for b in bodies:
        validate_order(b, products)  # raises if the API would refuse it
    tokens = {b["payment_token"] for b in bodies}
    assert {"tok_visa", "tok_declined"} <= tokens and "tok_invalid" not in tokens
    sold_out = sum(any(i["sku"] == SOLD_OUT_SKU for i in b["items"]) for b in bodies)
    bad_mail = sum(b["customer_email"].endswith(".invalid") for b in bodies)
    assert 0 < sold_out < 200 and 0 < bad_mail < 100
    assert len({i["sku"] for b in bodies for i in b["items"]}) == len(products)
