"""Pure parts of the application: the reducer, validation, parsing helpers."""

from __future__ import annotations

import pytest

from streamlite.apps.catalog import PRODUCTS
from streamlite.apps.load import make_plans, parse_mix, percentile
from streamlite.apps.model import (
    HistoryEvent,
    ValidationError,
    apply_event,
    from_hash,
    rebuild,
    to_hash,
    validate_order,
)
from streamlite.apps.services import deliverable, tracking_number
from streamlite.apps.web import parse_at

CATALOG = {p.sku: {"name": p.name, "price": p.price} for p in PRODUCTS}
CREATED = {"order_id": "ORD-1", "customer_id": "c", "customer_email": "a@b.co",
           "shipping_address": "x", "items": [{"sku": "IPAD-AIR", "quantity": 2}],
           "total_amount": 1_600_000}


def history() -> list[HistoryEvent]:
    return [HistoryEvent("1-0", "ORDER_CREATED", "e1", 100, CREATED),
            HistoryEvent("2-0", "STOCK_RESERVED", "e2", 200, {}),
            HistoryEvent("3-0", "PAYMENT_REQUESTED", "e3", 300, {}),
            HistoryEvent("4-0", "PAYMENT_COMPLETED", "e4", 400, {"transaction_id": "T"}),
            HistoryEvent("5-0", "ORDER_SHIPPED", "e5", 500,
                         {"courier": "CJ", "tracking_number": "1"}),
            HistoryEvent("6-0", "ORDER_COMPLETED", "e6", 600, {})]


def test_rebuild_at_each_moment():
    h = history()
    assert rebuild(h, 99) is None
    assert rebuild(h, 100)["status"] == "RECEIVED"
    assert rebuild(h, 399)["status"] == "PAYMENT_PROCESSING"
    s = rebuild(h, 450)
    assert s["status"] == "PAID" and s["transaction_id"] == "T" and s["version"] == 4
    full = rebuild(h)
    assert full["status"] == "COMPLETED" and full["shipped_ms"] == 500
    assert full["completed_ms"] == 600 and full["updated_ms"] == 600
    assert from_hash(to_hash(full)) == full


def test_reducer_rejects_nonsense():
    with pytest.raises(ValueError):
        apply_event(None, "STOCK_RESERVED", {}, 1)
    with pytest.raises(ValueError):
        apply_event(rebuild(history()), "ORDER_EXPLODED", {}, 1)


def test_validation_totals_and_prices():
    o = validate_order({"customer_id": 7, "customer_email": "kim@example.com",
                        "shipping_address": " 서울 ", "items": [
                            {"sku": "IPAD-AIR", "quantity": 2, "unit_price": 800000},
                            {"sku": "MAGIC-MOUSE", "quantity": 1}]}, CATALOG)
    assert o.customer_id == "7" and o.shipping_address == "서울"
    assert o.total_amount == 1_720_000 and o.payment_token == "tok_visa"
    with pytest.raises(ValidationError) as e:
        validate_order({"customer_id": "", "customer_email": "a@b",
                        "shipping_address": "x" * 501, "items": [
                            {"sku": "IPAD-AIR", "quantity": 1, "unit_price": 800000.5}]},
                       CATALOG)
    f = {d["field"]: d["message"] for d in e.value.details}
    assert f == {"customer_id": "must not be empty",
                 "customer_email": "is not an e-mail address",
                 "shipping_address": "must be at most 500 characters",
                 "items[0].unit_price": "is 800000.5 but IPAD-AIR costs 800000"}


def test_deliverable():
    assert deliverable("kim@example.com")
    assert not deliverable("kim@mail.invalid")
    assert not deliverable("invalid-email")  # seed 001's poison order
    assert tracking_number("ORD-1") == tracking_number("ORD-1")


def test_parse_at():
    assert parse_at("1716460200000") == 1716460200000
    assert parse_at("2024-05-23T10:30:00Z") == 1716460200000
    assert parse_at("2024-05-23T19:30:00+09:00") == 1716460200000
    assert parse_at("2024-05-23T10:30:00") == 1716460200000
    with pytest.raises(ValueError):
        parse_at("soon")


def test_failure_mix_and_plans():
    assert parse_mix("payment=0.05, email=0.01,stock=0.02") == {
        "payment": 0.05, "email": 0.01, "stock": 0.02}
    assert parse_mix("") == {}
    for bad in ("payment", "cpu=0.1", "payment=x", "payment=2", "payment=0.6,email=0.6"):
        with pytest.raises(ValueError):
            parse_mix(bad)
    products = [{"sku": p.sku, "stock": 0 if p.stock == 0 else 10} for p in PRODUCTS]
    plans = make_plans(2000, {"payment": 0.1, "stock": 0.1, "invalid": 0.05}, products, 1)
    kinds = {k: sum(p.kind == k for p in plans) for k in ("ok", "payment", "stock", "invalid")}
    assert 150 < kinds["payment"] < 250 and 150 < kinds["stock"] < 250
    assert all(any(i["sku"] == "MACBOOK-PRO-M3" for i in p.body["items"])
               for p in plans if p.kind == "stock")
    assert all(p.body["payment_token"] == "tok_declined" for p in plans if p.kind == "payment")
    assert make_plans(50, {}, products, 9)[7].body == make_plans(50, {}, products, 9)[7].body


def test_percentile():
    v = sorted(float(x) for x in range(1, 101))
    assert percentile(v, 50) == pytest.approx(50.5)
    assert percentile(v, 99) == pytest.approx(99.01)
    assert percentile([5.0], 90) == 5.0
