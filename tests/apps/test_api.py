"""The HTTP API: validation errors, idempotent creation, cancel, point-in-time state,
dead-letter redrive, gateway settings. One app process per backend for the module."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from .support import FAST, AppProc, http, order_body, wait_final, wait_until


@pytest.fixture(scope="module", params=["redis", "embedded", "redis-cluster"])
def app(request, redis_proc):
    from .conftest import Backend

    if request.param == "redis-cluster":
        if redis_proc is None:
            pytest.skip("redis-server is not installed")
        cl = request.getfixturevalue("redis_cluster")
        cl.flushall()
        url = cl.url()
    elif request.param == "redis":
        if redis_proc is None:
            pytest.skip("redis-server is not installed")
        url = f"redis://127.0.0.1:{redis_proc.port}/15"
        import redis

        redis.Redis.from_url(url).flushdb()
    else:
        import tempfile

        url = f"streamlite://{tempfile.mkdtemp(prefix='streamlite-api-')}"
    a = AppProc(url, [*FAST, "--payment-failure-rate", "0", "--initial-stock", "1000"]).start()
    a.backend = Backend(request.param, url,  # type: ignore[attr-defined]
                        request.param != "embedded")
    yield a
    assert a.stop() == 0, a.stderr()[-2000:]


def post(app, body, **kw):
    return http("POST", f"{app.api}/api/orders", body, **kw)


def fields(body):
    return {d["field"]: d["message"] for d in body["details"]}


def test_create_read_and_history(app):
    st, o = post(app, order_body("GALAXY-BOOK4", 2, payment_token="tok_visa"))
    assert st == 201, o
    assert o["status"] == "RECEIVED" and o["total_amount"] == 3_600_000
    assert o["items"] == [{"sku": "GALAXY-BOOK4", "name": "삼성 갤럭시 북4", "quantity": 2,
                           "unit_price": 1_800_000, "line_total": 3_600_000}]
    final = wait_final(app.api, [o["order_id"]])[o["order_id"]]
    assert final["status"] == "COMPLETED"
    st, cur = http("GET", f"{app.api}/api/orders/{o['order_id']}")
    assert st == 200 and cur["status"] == "COMPLETED" and cur["tracking_number"]
    st, ev = http("GET", f"{app.api}/api/orders/{o['order_id']}/events")
    assert [e["event_type"] for e in ev["events"]] == [
        "ORDER_CREATED", "STOCK_RESERVED", "PAYMENT_REQUESTED", "PAYMENT_COMPLETED",
        "ORDER_SHIPPED", "ORDER_COMPLETED"]
    st, lst = http("GET", f"{app.api}/api/orders?limit=5")
    assert st == 200 and o["order_id"] in [x["order_id"] for x in lst["orders"]]


def test_point_in_time_matches_history(app):
    from streamlite.apps.model import STATUS_AFTER, HistoryEvent, rebuild

    st, o = post(app, order_body("AIRPODS-PRO", 1))
    oid = o["order_id"]
    wait_final(app.api, [oid])
    st, ev = http("GET", f"{app.api}/api/orders/{oid}/events")
    events = [HistoryEvent(e["id"], e["event_type"], e["event_id"], e["timestamp_ms"], e["data"])
              for e in ev["events"]]
    for n, e in enumerate(events):
        st, then = http("GET", f"{app.api}/api/orders/{oid}?at={e.timestamp_ms}")
        assert st == 200, then
        expected = rebuild(events, e.timestamp_ms)
        assert expected is not None
        # two events in one millisecond: the state at that time has both
        assert then["version"] >= n + 1
        assert then["status"] == STATUS_AFTER[events[then["version"] - 1].event_type]
        assert {k: v for k, v in then.items() if k != "as_of_ms"} == expected
        assert then["as_of_ms"] == e.timestamp_ms
    # ISO-8601 times work too (UTC, with a zone or Z)
    t = events[0].timestamp_ms
    iso = datetime.fromtimestamp(t / 1000, UTC).isoformat(timespec="milliseconds")
    st, then = http("GET", f"{app.api}/api/orders/{oid}?at={iso.replace('+00:00', 'Z')}")
    assert st == 200 and then["status"] == "RECEIVED"
    # before the order existed; a time that is no time
    st, err = http("GET", f"{app.api}/api/orders/{oid}?at={t - 1}")
    assert st == 404 and "did not exist yet" in err["error"]
    st, err = http("GET", f"{app.api}/api/orders/{oid}?at=yesterday")
    assert st == 400 and "ISO-8601" in err["error"]
    st, now = http("GET", f"{app.api}/api/orders/{oid}")
    assert rebuild(events) == now


def test_validation_errors(app):
    st, b = post(app, None, raw=b"{not json")
    assert st == 400 and "not valid JSON" in b["error"]
    st, b = post(app, None, raw=b"customer_id=1", content_type="application/x-www-form-urlencoded")
    assert st == 415
    st, b = post(app, [1, 2])
    assert st == 422 and b["details"][0]["message"] == "the body must be a JSON object"
    st, b = post(app, {})
    assert st == 422
    assert fields(b) == {"customer_id": "is required", "customer_email": "is required",
                         "shipping_address": "is required", "items": "must be a non-empty list"}
    st, b = post(app, order_body(customer_email="not-an-address", shipping_address="  ",
                                 payment_token="visa", colour="red",
                                 items=[{"sku": "NOPE", "quantity": 1},
                                        {"sku": "IPAD-AIR", "quantity": 0},
                                        {"sku": "IPAD-AIR", "quantity": True},
                                        {"sku": "IPHONE-15", "quantity": 1, "unit_price": 1},
                                        {"sku": "MAGIC-MOUSE", "qty": 1}, "x"]))
    assert st == 422
    f = fields(b)
    assert f["colour"] == "unknown field"
    assert f["customer_email"] == "is not an e-mail address"
    assert f["shipping_address"] == "must not be empty"
    assert f["payment_token"].startswith("must look like tok_visa")
    assert f["items[0].sku"] == "unknown product NOPE"
    assert f["items[1].quantity"] == "must be an integer from 1 to 1000"
    assert f["items[2].sku"] == "IPAD-AIR is listed twice"
    assert f["items[3].unit_price"] == "is 1 but IPHONE-15 costs 1200000"
    assert f["items[4].qty"] == "unknown field"
    assert f["items[4].quantity"] == "must be an integer from 1 to 1000"
    assert f["items[5]"] == "must be an object with sku and quantity"
    st, b = post(app, order_body(items=[{"sku": "IPAD-AIR", "quantity": 1}] * 51))
    assert st == 422 and fields(b)["items"] == "at most 50 lines"
    st, b = post(app, None, raw=b"x" * 70_000)
    assert st == 413
    st, b = http("GET", f"{app.api}/api/orders/ORD-99999999")
    assert st == 404 and b["error"] == "no order ORD-99999999"
    st, b = http("GET", f"{app.api}/api/orders?limit=x")
    assert st == 400
    st, b = http("GET", f"{app.api}/api/nothing-here")
    assert st == 404 and "error" in b


def test_idempotency_key(app):
    h = {"Idempotency-Key": "req-42"}
    st1, a = post(app, order_body("MAGIC-MOUSE", 1), headers=h)
    st2, b = post(app, order_body("MAGIC-MOUSE", 1), headers=h)
    assert (st1, st2) == (201, 200) and a["order_id"] == b["order_id"]
    st, e = post(app, order_body(), headers={"Idempotency-Key": "bad key!"})
    assert st == 400


def test_cancel(app):
    # gateway outage: the order waits in payment, where it can no longer be cancelled
    st, _ = http("PUT", f"{app.api}/api/gateway", {"outage": True})
    assert st == 200
    try:
        st, o = post(app, order_body("WATCH-S9", 3))
        oid = o["order_id"]
        st, c = http("POST", f"{app.api}/api/orders/{oid}/cancel")
        if st == 200:  # cancelled before the payment was requested
            assert c["status"] == "CANCELLED" and c["cancel_reason"] == "customer"
        else:
            assert st == 409 and "can no longer be cancelled" in c["error"]
        wait_until(lambda: http("GET", f"{app.api}/api/orders/{oid}")[1]["status"]
                   in ("CANCELLED", "PAYMENT_PROCESSING"), what="order settles")
        st, c = http("POST", f"{app.api}/api/orders/{oid}/cancel")
        assert st == 409
    finally:
        http("PUT", f"{app.api}/api/gateway", {"outage": False})
    st, b = http("POST", f"{app.api}/api/orders/ORD-99999999/cancel")
    assert st == 404


def test_cancel_releases_reserved_stock(app):
    """A cancel races the pipeline (allowed until the payment is requested): whichever
    wins, the stock adds up, and a cancelled order's reservation is given back."""
    st, before = http("GET", f"{app.api}/api/products")
    stock0 = {p["sku"]: p for p in before["products"]}["LG-GRAM-17"]
    cancelled = 0
    for _ in range(10):
        st, o = post(app, order_body("LG-GRAM-17", 5))
        st, c = http("POST", f"{app.api}/api/orders/{o['order_id']}/cancel")
        cancelled += st == 200
        wait_final(app.api, [o["order_id"]])
    st, after = http("GET", f"{app.api}/api/products")
    p = {p["sku"]: p for p in after["products"]}["LG-GRAM-17"]
    assert p["reserved"] == 0
    assert p["stock"] + p["sold"] == stock0["stock"] + stock0["sold"]
    assert p["sold"] - stock0["sold"] == 5 * (10 - cancelled)


def test_out_of_stock_and_alerts(app):
    st, o = post(app, order_body("MACBOOK-PRO-M3", 1))  # sold out, as in seed 001
    f = wait_final(app.api, [o["order_id"]])[o["order_id"]]
    assert f["status"] == "CANCELLED" and f["cancel_reason"] == "out_of_stock"
    # low stock: bring a product just above the threshold, then buy it down
    st, prods = http("GET", f"{app.api}/api/products")
    p = {x["sku"]: x for x in prods["products"]}["MAGIC-KEYBOARD"]
    assert p["stock"] > 25
    st, o = post(app, order_body("MAGIC-KEYBOARD", p["stock"] - 5))
    wait_final(app.api, [o["order_id"]])

    def kinds():
        st, a = http("GET", f"{app.api}/api/alerts")
        return {x["kind"] for x in a["alerts"]}

    wait_until(lambda: {"OUT_OF_STOCK", "LOW_STOCK"} <= kinds(), what="alerts")
    st, r = http("POST", f"{app.api}/api/products/MAGIC-KEYBOARD/restock", {"quantity": 100})
    assert st == 200 and r["stock"] == 105
    st, r = http("POST", f"{app.api}/api/products/MAGIC-KEYBOARD/restock", {"quantity": -1})
    assert st == 422
    st, r = http("POST", f"{app.api}/api/products/NOPE/restock", {"quantity": 1})
    assert st == 404


def test_dead_letters_and_redrive(app):
    # an undeliverable e-mail: the order completes, its e-mails are dead letters
    st, o = post(app, order_body("IPHONE-15", 1, customer_email="kim@mail.invalid"))
    wait_final(app.api, [o["order_id"]])

    def dlq(stream):
        st, d = http("GET", f"{app.api}/api/dlq")
        return {x["stream"]: x for x in d["dead_letters"]}[stream]

    wait_until(lambda: dlq("order-events")["length"] >= 2, what="dead letters")
    e = dlq("order-events")["entries"][0]
    assert e["group"] == "notification" and "undeliverable" in e["error"]
    # a redrive of a poison message: it fails again and is back in the DLQ
    st, res = http("POST", f"{app.api}/api/dlq/order-events/redrive", {"ids": [e["id"]]})
    assert st == 200 and res["redriven"] == 1
    # payments dead-lettered during an outage go through when redriven after it
    http("PUT", f"{app.api}/api/gateway", {"outage": True})
    try:
        st, o2 = post(app, order_body("IPAD-AIR", 1))
        wait_until(lambda: dlq("payment-processing")["length"] >= 1, timeout=60,
                   what="payment dead letter")
    finally:
        http("PUT", f"{app.api}/api/gateway", {"outage": False})
    assert http("GET", f"{app.api}/api/orders/{o2['order_id']}")[1]["status"] \
        == "PAYMENT_PROCESSING"
    st, res = http("POST", f"{app.api}/api/dlq/payment-processing/redrive")
    assert st == 200 and res["redriven"] >= 1 and res["left"] == 0
    assert wait_final(app.api, [o2["order_id"]])[o2["order_id"]]["status"] == "COMPLETED"
    st, res = http("POST", f"{app.api}/api/dlq/no-such/redrive")
    assert st == 404
    st, res = http("POST", f"{app.api}/api/dlq/order-events/redrive", {"ids": "x"})
    assert st == 422


def test_gateway_settings_and_ranking(app):
    st, g = http("PUT", f"{app.api}/api/gateway", {"latency_ms": -1, "outage": "yes",
                                                    "speed": 1})
    assert st == 422 and {d["field"] for d in g["details"]} == {"latency_ms", "outage", "speed"}
    st, g = http("GET", f"{app.api}/api/gateway")
    assert st == 200 and g["outage"] is False
    st, rk = http("GET", f"{app.api}/api/ranking?n=3")
    assert st == 200 and 1 <= len(rk["ranking"]) <= 3
    assert rk["ranking"][0]["rank"] == 1 and rk["ranking"][0]["quantity"] >= 1
    st, an = http("GET", f"{app.api}/api/analytics")
    assert st == 200 and an["totals"]["orders"] >= 1 and an["minutes"]
    st, snap = http("GET", f"{app.api}/api/dashboard")
    assert st == 200
    assert {s["name"] for s in snap["streams"]} >= {"order-received", "order-events"}
    groups = {(s["name"], g["name"]) for s in snap["streams"] for g in s["groups"]}
    from streamlite.apps.keys import SUBSCRIPTIONS

    assert set(SUBSCRIPTIONS) <= groups


def test_seed_style_entry_is_a_dead_letter(app):
    """Seed 001 (5-1) adds a broken order by hand; it has no order behind it and goes to
    the dead-letter stream, where the dashboard shows it and it can be purged."""
    if not app.backend.multiprocess:
        pytest.skip("embedded: the app's process holds the engine; no second client")
    r = app.backend.client()
    try:
        r.xadd("order-received", {
            "order_id": "ORD-2024-004", "customer_id": "2004", "product_name": "문제상품",
            "quantity": "1", "unit_price": "1000000", "total_amount": "1000000",
            "customer_email": "invalid-email", "shipping_address": "",
            "order_time": "2024-05-23T11:00:00Z"})
    finally:
        r.close()

    def dead():
        st, d = http("GET", f"{app.api}/api/dlq")
        return {x["stream"]: x for x in d["dead_letters"]}["order-received"]["entries"]

    entries = wait_until(dead, what="the seed's broken order in the DLQ")
    assert entries[0]["group"] == "inventory" and "not an order event" in entries[0]["error"]
    st, res = http("POST", f"{app.api}/api/dlq/order-received/purge", {})
    assert st == 200 and res["purged"] == 1
    assert dead() == []


def test_dashboard_page_and_event_stream(app):
    """The page is served, and the event stream sends snapshots (what the page renders),
    also without a browser."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{app.api}/", timeout=10) as resp:
        html = resp.read().decode()
        assert resp.headers["Content-Type"].startswith("text/html")
    assert "EventSource" in html and "/api/dashboard/events" in html
    with urllib.request.urlopen(f"{app.api}/api/dashboard/events", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        seen = []
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if len(seen) == 2:
                    break
    assert seen[1]["time_ms"] > seen[0]["time_ms"]
    snap = seen[-1]
    for k in ("streams", "dlq", "ranking", "funnel", "status_counts", "alerts", "minutes",
              "products", "gateway", "totals"):
        assert k in snap
    g = snap["streams"][0]["groups"][0]
    assert {"lag", "pending", "consumers", "min_idle_ms", "consumer_list"} <= set(g)
