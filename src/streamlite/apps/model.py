"""The order: its states, its events, the validation of a new order, and the reducer that
rebuilds an order's state from its history (event sourcing, seed 001 task 2).

An order changes state only by an event appended to its history; the current state kept
in the order's hash is the same reducer applied to the previous state, in the same
MULTI/EXEC that appends the event. So ``rebuild(events)`` equals the stored state, and
``rebuild(events up to T)`` is the order as it was at time T.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------- states
RECEIVED = "RECEIVED"
RESERVED = "RESERVED"
PAYMENT_PROCESSING = "PAYMENT_PROCESSING"
PAID = "PAID"
PAYMENT_FAILED = "PAYMENT_FAILED"
SHIPPED = "SHIPPED"
COMPLETED = "COMPLETED"
CANCELLED = "CANCELLED"

STATUSES = [RECEIVED, RESERVED, PAYMENT_PROCESSING, PAID, PAYMENT_FAILED, SHIPPED, COMPLETED,
            CANCELLED]
FINAL = frozenset({COMPLETED, CANCELLED})
CANCELLABLE = frozenset({RECEIVED, RESERVED})  # before the payment is requested

# ---------------------------------------------------------------- events
ORDER_CREATED = "ORDER_CREATED"
STOCK_RESERVED = "STOCK_RESERVED"
OUT_OF_STOCK = "OUT_OF_STOCK"        # stage event on inventory-check (order cancelled)
LOW_STOCK = "LOW_STOCK"              # stage event on inventory-check (an alert)
PAYMENT_REQUESTED = "PAYMENT_REQUESTED"
PAYMENT_COMPLETED = "PAYMENT_COMPLETED"
PAYMENT_FAILED_EVENT = "PAYMENT_FAILED"
ORDER_SHIPPED = "ORDER_SHIPPED"
ORDER_COMPLETED = "ORDER_COMPLETED"
ORDER_CANCELLED = "ORDER_CANCELLED"

# the status an order is in after each event of its history
STATUS_AFTER = {
    ORDER_CREATED: RECEIVED,
    STOCK_RESERVED: RESERVED,
    PAYMENT_REQUESTED: PAYMENT_PROCESSING,
    PAYMENT_COMPLETED: PAID,
    PAYMENT_FAILED_EVENT: PAYMENT_FAILED,
    ORDER_SHIPPED: SHIPPED,
    ORDER_COMPLETED: COMPLETED,
    ORDER_CANCELLED: CANCELLED,
}

# cancellation reasons
CANCEL_CUSTOMER = "customer"
CANCEL_OUT_OF_STOCK = "out_of_stock"
CANCEL_PAYMENT = "payment_failed"


# ---------------------------------------------------------------- the reducer
def apply_event(state: dict[str, Any] | None, event_type: str, data: Mapping[str, Any],
                ts_ms: int) -> dict[str, Any]:
    """The order after ``event_type`` (a pure function: no I/O, no clock)."""
    if event_type == ORDER_CREATED:
        s: dict[str, Any] = {
            "order_id": data["order_id"],
            "customer_id": data["customer_id"],
            "customer_name": data.get("customer_name", ""),
            "customer_email": data["customer_email"],
            "shipping_address": data["shipping_address"],
            "items": [dict(i) for i in data["items"]],
            "total_amount": int(data["total_amount"]),
            "currency": data.get("currency", "KRW"),
            "payment_token": data.get("payment_token", "tok_visa"),
            "created_ms": ts_ms,
        }
    else:
        if state is None:
            raise ValueError(f"{event_type} before ORDER_CREATED")
        s = dict(state)
        if event_type == PAYMENT_COMPLETED:
            s["transaction_id"] = data.get("transaction_id", "")
            s["paid_ms"] = ts_ms
        elif event_type == PAYMENT_FAILED_EVENT:
            s["payment_error"] = data.get("reason", "")
        elif event_type == ORDER_SHIPPED:
            s["courier"] = data.get("courier", "")
            s["tracking_number"] = data.get("tracking_number", "")
            s["estimated_delivery"] = data.get("estimated_delivery", "")
            s["shipped_ms"] = ts_ms
        elif event_type == ORDER_COMPLETED:
            s["completed_ms"] = ts_ms
        elif event_type == ORDER_CANCELLED:
            s["cancel_reason"] = data.get("reason", "")
            s["cancelled_ms"] = ts_ms
        elif event_type not in STATUS_AFTER:
            raise ValueError(f"unknown order event {event_type!r}")
    s["status"] = STATUS_AFTER[event_type]
    s["updated_ms"] = ts_ms
    s["version"] = int(s.get("version", 0)) + 1
    return s


@dataclass
class HistoryEvent:
    """One entry of an order's history."""

    id: str                    # the stream entry ID
    event_type: str
    event_id: str
    timestamp_ms: int
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "event_type": self.event_type, "event_id": self.event_id,
                "timestamp_ms": self.timestamp_ms, "data": self.data}


def rebuild(events: Iterable[HistoryEvent], at_ms: int | None = None) -> dict[str, Any] | None:
    """The order's state from its history (None: it did not exist yet at ``at_ms``)."""
    state: dict[str, Any] | None = None
    for e in events:
        if at_ms is not None and e.timestamp_ms > at_ms:
            break
        state = apply_event(state, e.event_type, e.data, e.timestamp_ms)
    return state


# ---------------------------------------------------------------- hash <-> state
_JSON_FIELDS = ("items",)
_INT_FIELDS = ("total_amount", "created_ms", "updated_ms", "version", "paid_ms", "shipped_ms",
               "completed_ms", "cancelled_ms")


def to_hash(state: Mapping[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
            if k in _JSON_FIELDS else str(v) for k, v in state.items()}


def from_hash(h: Mapping[Any, Any]) -> dict[str, Any] | None:
    if not h:
        return None
    out: dict[str, Any] = {}
    for k, v in h.items():
        key = k.decode() if isinstance(k, bytes) else str(k)
        if key.startswith("_"):  # bookkeeping kept with the order, not its state
            continue
        val = v.decode() if isinstance(v, bytes) else str(v)
        if key in _JSON_FIELDS:
            out[key] = json.loads(val)
        elif key in _INT_FIELDS:
            out[key] = int(val)
        else:
            out[key] = val
    return out


# ---------------------------------------------------------------- validation
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
TOKEN_RE = re.compile(r"^tok_[a-z0-9_]{1,40}$")
SKU_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
MAX_ITEMS = 50
MAX_QUANTITY = 1000
ALLOWED_FIELDS = {"customer_id", "customer_name", "customer_email", "shipping_address",
                  "items", "payment_token"}
ALLOWED_ITEM_FIELDS = {"sku", "quantity", "unit_price", "name"}


class ValidationError(Exception):
    """A create request that is not a valid order: every problem, by field."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{d['field']}: {d['message']}" for d in details))
        self.details = details


@dataclass
class NewOrder:
    customer_id: str
    customer_name: str
    customer_email: str
    shipping_address: str
    items: list[dict[str, Any]]   # sku, name, quantity, unit_price, line_total
    payment_token: str

    @property
    def total_amount(self) -> int:
        return sum(int(i["line_total"]) for i in self.items)


def _text(body: Mapping[str, Any], name: str, errors: list[dict[str, str]], *,
          required: bool, max_len: int) -> str:
    v = body.get(name)
    if v is None:
        if required:
            errors.append({"field": name, "message": "is required"})
        return ""
    if isinstance(v, bool) or not isinstance(v, str | int):
        errors.append({"field": name, "message": "must be a string"})
        return ""
    s = str(v).strip()
    if required and not s:
        errors.append({"field": name, "message": "must not be empty"})
    elif len(s) > max_len:
        errors.append({"field": name, "message": f"must be at most {max_len} characters"})
    return s


def validate_order(body: Any, catalog: Mapping[str, Mapping[str, Any]]) -> NewOrder:
    """Check a create request against the catalog (sku -> name, price); raise
    :class:`ValidationError` listing every problem."""
    if not isinstance(body, dict):
        raise ValidationError([{"field": "", "message": "the body must be a JSON object"}])
    errors: list[dict[str, str]] = []
    for k in sorted(set(body) - ALLOWED_FIELDS):
        errors.append({"field": k, "message": "unknown field"})
    customer_id = _text(body, "customer_id", errors, required=True, max_len=64)
    customer_name = _text(body, "customer_name", errors, required=False, max_len=100)
    email = _text(body, "customer_email", errors, required=True, max_len=254)
    if email and not EMAIL_RE.match(email):
        errors.append({"field": "customer_email", "message": "is not an e-mail address"})
    address = _text(body, "shipping_address", errors, required=True, max_len=500)
    token = body.get("payment_token", "tok_visa")
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        errors.append({"field": "payment_token",
                       "message": "must look like tok_visa (tok_ and lower-case letters)"})
        token = "tok_visa"
    items_in = body.get("items")
    items: list[dict[str, Any]] = []
    if not isinstance(items_in, list) or not items_in:
        errors.append({"field": "items", "message": "must be a non-empty list"})
        items_in = []
    elif len(items_in) > MAX_ITEMS:
        errors.append({"field": "items", "message": f"at most {MAX_ITEMS} lines"})
        items_in = []
    seen: set[str] = set()
    for n, it in enumerate(items_in):
        f = f"items[{n}]"
        if not isinstance(it, dict):
            errors.append({"field": f, "message": "must be an object with sku and quantity"})
            continue
        for k in sorted(set(it) - ALLOWED_ITEM_FIELDS):
            errors.append({"field": f"{f}.{k}", "message": "unknown field"})
        sku = it.get("sku")
        q = it.get("quantity")
        product = None
        if not isinstance(sku, str) or not sku:
            errors.append({"field": f"{f}.sku", "message": "is required"})
        elif sku in seen:
            errors.append({"field": f"{f}.sku", "message": f"{sku} is listed twice"})
        elif sku not in catalog:
            errors.append({"field": f"{f}.sku", "message": f"unknown product {sku}"})
        else:
            seen.add(sku)
            product = catalog[sku]
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= MAX_QUANTITY:
            errors.append({"field": f"{f}.quantity",
                           "message": f"must be an integer from 1 to {MAX_QUANTITY}"})
            q = None
        price = it.get("unit_price")
        if price is not None and product is not None:
            if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
                errors.append({"field": f"{f}.unit_price",
                               "message": "must be a non-negative number"})
            elif int(price) != int(product["price"]) or price != int(price):
                errors.append({"field": f"{f}.unit_price",
                               "message": f"is {price} but {sku} costs {product['price']}"})
        if product is not None and q is not None:
            p = int(product["price"])
            items.append({"sku": sku, "name": product["name"], "quantity": q,
                          "unit_price": p, "line_total": p * q})
    if errors:
        raise ValidationError(errors)
    return NewOrder(customer_id, customer_name, email, address, items, token)
