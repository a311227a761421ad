"""The consumers of the order pipeline, as ``streamlite.events`` handlers.

::

    API ──ORDER_CREATED──▶ order-received ──[inventory]──▶ inventory-check ──[payment]──▶
    payment-processing ──[payment-gateway]──▶ payment-result ──[shipping]──▶
    shipping-dispatch ──[order-service]──▶ (order COMPLETED)

    payment-result ──[inventory]── PAYMENT_FAILED: release the stock, cancel the order
    inventory-check ──[alerts]──── OUT_OF_STOCK, LOW_STOCK
    order-events ──[ranking] [notification] [analytics] [alerts]   (fan-out)

Each stage handler reads the order (the truth is the order's state, not the message),
and changes it with :func:`.orders.change`: a redelivered message finds the order already
past that stage and changes nothing (but finishes the step's follow-ups, if a crash
interrupted them: :mod:`.followups`). Stock is reserved per order line with a hold in the
product's slot before the order moves to RESERVED; the follow-ups release or sell the
holds. The fan-out consumers use :func:`.store.once`, each in the slot of what it changes.

The handlers are plain functions of the event, its context and what they work on: the
:class:`Store` (the client and the settings they use) and the payment
:class:`~.gateway.Gateway`, both injected by the framework (``app.provide``, see
``streamlite.events.dependencies``). :func:`register` puts them on an App;
:func:`build_worker` makes the App the ``run`` command starts. A test runs them with the
framework's test client: ``TestApp(build_worker(cfg, None, "test"))``
(tests/apps/test_handlers.py).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from streamlite.events import (
    App,
    ConsumerOptions,
    Context,
    DeadLetter,
    Message,
    Retry,
    RetryPolicy,
)

from . import keys
from .catalog import load_products
from .config import AppConfig
from .followups import ensure, held_levels, holds
from .gateway import Gateway, GatewayRejected, GatewayUnavailable
from .model import (
    CANCEL_CUSTOMER,
    CANCEL_OUT_OF_STOCK,
    CANCEL_PAYMENT,
    CANCELLABLE,
    EMAIL_RE,
    LOW_STOCK,
    ORDER_CANCELLED,
    ORDER_COMPLETED,
    ORDER_CREATED,
    ORDER_SHIPPED,
    OUT_OF_STOCK,
    PAID,
    PAYMENT_COMPLETED,
    PAYMENT_FAILED,
    PAYMENT_FAILED_EVENT,
    PAYMENT_PROCESSING,
    PAYMENT_REQUESTED,
    RECEIVED,
    RESERVED,
    SHIPPED,
    STOCK_RESERVED,
)
from .orders import Change, change, creation_from_entry, materialize
from .store import Ops, get_order, once

COURIERS = ["CJ대한통운", "한진택배", "롯데택배", "우체국택배"]
UNDELIVERABLE_TLDS = {"invalid", "localhost"}
ALERTS_MAXLEN = 10_000
OUTBOX_MAXLEN = 1_000_000
_REJECTED = "rejected: "  # payment_error prefix of a request the gateway refuses for good


@dataclass
class OrderRef:
    order_id: str


@dataclass
class Line:
    sku: str
    quantity: int
    name: str = ""


@dataclass
class Completed:
    order_id: str
    total_amount: int
    items: list[Line] = field(default_factory=list)


def deliverable(email: str) -> bool:
    """Syntax checked, and not a domain that cannot receive mail (RFC 2606 ``.invalid``):
    the mail server would bounce these, whatever we retry."""
    if not EMAIL_RE.match(email or ""):
        return False
    return email.rsplit(".", 1)[-1].lower() not in UNDELIVERABLE_TLDS


def _items(order: dict[str, Any]) -> list[dict[str, Any]]:
    return list(order.get("items") or [])


async def cancel_order(r: Any, order_id: str, maxlen: int) -> dict[str, Any] | None:
    """The customer cancels: allowed before the payment is requested (the follow-ups
    release what was reserved). None when the order is not (or no longer) cancellable."""

    async def body(c: Change) -> dict[str, Any]:
        before = c.state
        assert before is not None
        data = {"order_id": order_id, "reason": CANCEL_CUSTOMER,
                "stock_released": before["status"] == RESERVED}
        return c.record(ORDER_CANCELLED, data)

    return await change(r, order_id, CANCELLABLE, body, maxlen=maxlen, must_exist=False)


def tracking_number(order_id: str) -> str:
    return f"{zlib.crc32(order_id.encode()) % 10**12:012d}"


@dataclass(frozen=True)
class Store:
    """What the handlers read and change: the client, and the settings they use."""

    r: Any
    maxlen: int = 1_000_000
    low_stock_threshold: int = 20


async def must_get(store: Store, order_id: str) -> dict[str, Any]:
    order = await get_order(store.r, order_id)
    if order is None:
        raise DeadLetter(f"no order {order_id}")
    return order


# ------------------------------------------------------------ 1. inventory
async def reserve_stock(evt: dict[str, Any], ctx: Context, store: Store) -> None:
    r, maxlen = store.r, store.maxlen
    oid = str(evt.get("order_id", ""))
    if await get_order(r, oid) is None:
        # the API died between this entry and storing the order: create it from here
        data = await creation_from_entry(r, evt, await load_products(r))
        await materialize(r, data, ctx.timestamp_ms, maxlen)

    async def body(c: Change) -> None:
        assert c.state is not None
        items = _items(c.state)
        held = await holds(r, oid, "reserve", items)
        for it, h in zip(items, held, strict=True):
            if h.startswith("short:"):
                have = int(h.split(":")[1])
                c.record(ORDER_CANCELLED, {
                    "order_id": oid, "reason": CANCEL_OUT_OF_STOCK,
                    "detail": f"{it['sku']}: {it['quantity']} asked, {have} in stock",
                    "sku": it["sku"], "name": it.get("name", ""),
                    "requested": it["quantity"], "available": have})
                return  # the follow-ups release what this order holds
        low = []
        for it, h in zip(items, held, strict=True):
            levels = held_levels(h)
            if levels is not None and levels[0] < store.low_stock_threshold <= levels[1]:
                low.append({"order_id": oid, "sku": it["sku"], "name": it.get("name", ""),
                            "stock": levels[0], "threshold": store.low_stock_threshold})
        data: dict[str, Any] = {"order_id": oid, "items": [
            {"sku": i["sku"], "quantity": i["quantity"]} for i in items]}
        if low:
            data["low_stock"] = low
        # (a hold found released means the order was cancelled meanwhile: the
        # version guard then refuses this step)
        c.record(STOCK_RESERVED, data)

    await change(r, oid, {RECEIVED}, body, maxlen=maxlen)


async def not_an_order(msg: Message) -> None:
    # e.g. seed 001's hand-written `XADD order-received * order_id ... customer_email
    # "invalid-email"`: no order behind it, it can never be processed
    raise DeadLetter(f"not an order event (event type {msg.event_type!r}); orders are "
                     "created with POST /api/orders")


async def release_after_failed_payment(evt: OrderRef, store: Store) -> None:
    async def body(c: Change) -> None:
        assert c.state is not None
        c.record(ORDER_CANCELLED, {"order_id": evt.order_id, "reason": CANCEL_PAYMENT,
                                   "detail": c.state.get("payment_error", ""),
                                   "stock_released": True})

    await change(store.r, evt.order_id, {PAYMENT_FAILED}, body, maxlen=store.maxlen)


# ------------------------------------------------------------ 2. payment request
async def request_payment(evt: OrderRef, store: Store) -> None:
    async def body(c: Change) -> None:
        assert c.state is not None
        data = {"order_id": evt.order_id, "amount": c.state["total_amount"],
                "currency": c.state.get("currency", "KRW"),
                "payment_token": c.state.get("payment_token", "tok_visa")}
        c.record(PAYMENT_REQUESTED, data)

    await change(store.r, evt.order_id, {RESERVED}, body, maxlen=store.maxlen)


# ------------------------------------------------------------ 3. payment gateway
async def payment_outcome(store: Store, order_id: str, event_type: str,
                          data: dict[str, Any]) -> None:
    async def body(c: Change) -> None:
        c.record(event_type, data)

    await change(store.r, order_id, {PAYMENT_PROCESSING}, body, maxlen=store.maxlen)


async def charge(evt: OrderRef, ctx: Context, store: Store, gateway: Gateway) -> None:
    order = await must_get(store, evt.order_id)
    if order["status"] != PAYMENT_PROCESSING:
        # charged before (a redelivery): finish what that step started, if a crash
        # interrupted its follow-ups
        await ensure(store.r, evt.order_id, store.maxlen)
        err = order.get("payment_error", "")
        if err.startswith(_REJECTED):
            # a worker died after failing the order and before dead-lettering the
            # request: finish that now (dead-lettering is idempotent)
            raise DeadLetter(f"{evt.order_id}: payment gateway rejected the request: "
                             f"{err[len(_REJECTED):]}")
        return
    amount = int(order["total_amount"])
    try:
        res = await gateway.charge(evt.order_id, amount, order.get("payment_token", ""))
    except GatewayUnavailable as e:
        raise Retry(f"{e} (delivery {ctx.delivery_count})") from e
    except GatewayRejected as e:
        # a poison message: the order fails now, the message goes to the DLQ for a look
        await payment_outcome(store, evt.order_id, PAYMENT_FAILED_EVENT,
                              {"order_id": evt.order_id, "amount": amount,
                               "reason": f"{_REJECTED}{e}"})
        raise DeadLetter(f"{evt.order_id}: payment gateway rejected the request: {e}")
    if res.approved:
        await payment_outcome(store, evt.order_id, PAYMENT_COMPLETED,
                              {"order_id": evt.order_id, "amount": amount,
                               "transaction_id": res.transaction_id})
    else:
        await payment_outcome(store, evt.order_id, PAYMENT_FAILED_EVENT,
                              {"order_id": evt.order_id, "amount": amount,
                               "reason": res.reason})


# ------------------------------------------------------------ 4. shipping
async def dispatch(evt: OrderRef, store: Store) -> None:
    async def body(c: Change) -> None:
        crc = zlib.crc32(evt.order_id.encode())
        eta = date.fromtimestamp(c.ts_ms / 1000) + timedelta(days=2 + crc % 2)
        data = {"order_id": evt.order_id, "courier": COURIERS[crc % len(COURIERS)],
                "tracking_number": tracking_number(evt.order_id),
                "estimated_delivery": eta.isoformat(), "status": "dispatched"}
        c.record(ORDER_SHIPPED, data)

    await change(store.r, evt.order_id, {PAID}, body, maxlen=store.maxlen)


# ------------------------------------------------------------ 5. completion
async def complete(evt: OrderRef, store: Store) -> None:
    async def body(c: Change) -> None:
        assert c.state is not None  # (the follow-ups sell the held stock)
        c.record(ORDER_COMPLETED, {
            "order_id": evt.order_id, "total_amount": c.state["total_amount"],
            "items": [{"sku": i["sku"], "name": i.get("name", ""),
                       "quantity": i["quantity"]} for i in _items(c.state)]})

    await change(store.r, evt.order_id, {SHIPPED}, body, maxlen=store.maxlen)


# ------------------------------------------------------------ ranking (seed 000)
async def rank(evt: Completed, ctx: Context, store: Store) -> None:
    def effect(p: Ops) -> None:
        for it in evt.items:
            p.zincrby(keys.RANKING, it.quantity, it.sku)

    await once(store.r, keys.RANKING, ctx.event_id, effect)


# ------------------------------------------------------------ analytics
async def count(evt: dict[str, Any], ctx: Context, store: Store) -> None:
    t = ctx.event_type
    incr: dict[str, int] = {}
    if t == ORDER_CREATED:
        incr = {"orders": 1}
    elif t == ORDER_COMPLETED:
        incr = {"completed": 1, "revenue": int(evt.get("total_amount", 0))}
    elif t == PAYMENT_FAILED_EVENT:
        incr = {"payment_failures": 1}
    elif t == ORDER_CANCELLED:
        incr = {"cancelled": 1}
        if evt.get("reason") != CANCEL_CUSTOMER:
            incr["failures"] = 1
    if not incr:
        return
    minute = ctx.timestamp_ms // 60_000 * 60
    mkey = keys.analytics_minute_key(minute)

    def effect(p: Ops) -> None:
        for f, n in incr.items():
            p.hincrby(mkey, f, n)
            p.hincrby(keys.ANALYTICS_TOTALS, f, n)
        p.expire(mkey, 7 * 86_400)
        p.zadd(keys.ANALYTICS_MINUTES, {str(minute): minute})

    await once(store.r, keys.ANALYTICS_TOTALS, ctx.event_id, effect)


# ------------------------------------------------------------ notification
SUBJECTS = {ORDER_CREATED: "주문이 접수되었습니다 (order received)",
            ORDER_SHIPPED: "상품이 발송되었습니다 (order shipped)",
            ORDER_CANCELLED: "주문이 취소되었습니다 (order cancelled)"}


async def notify(evt: dict[str, Any], ctx: Context, store: Store) -> None:
    t = ctx.event_type
    if t not in SUBJECTS:
        return
    order_id = str(evt.get("order_id", ""))
    order = await get_order(store.r, order_id) if order_id else None
    # the order's current address: an operator can fix it and redrive the message
    email = str((order or {}).get("customer_email") or evt.get("customer_email") or "")
    if not deliverable(email):
        raise DeadLetter(f"undeliverable e-mail address {email!r} (order {order_id})")
    if t == ORDER_SHIPPED:
        body = (f"{evt.get('courier', '')} tracking number {evt.get('tracking_number', '')},"
                f" estimated delivery {evt.get('estimated_delivery', '')}")
    elif t == ORDER_CANCELLED:
        body = f"reason: {evt.get('reason', '')}"
    else:
        body = f"total {evt.get('total_amount', '')} KRW"
    msg = {"to": email, "subject": f"[{order_id}] {SUBJECTS[t]}", "body": body,
           "order_id": order_id, "kind": t, "event_id": ctx.event_id}

    def effect(p: Ops) -> None:
        p.xadd(keys.OUTBOX, msg, maxlen=OUTBOX_MAXLEN)

    await once(store.r, keys.OUTBOX, ctx.event_id, effect)


# ------------------------------------------------------------ alerts (seed 001 task 1)
async def alert(store: Store, ctx: Context, kind: str, severity: str, message: str,
                order_id: str = "", sku: str = "") -> None:
    a = {"kind": kind, "severity": severity, "message": message, "order_id": order_id,
         "sku": sku, "at": str(ctx.timestamp_ms)}

    def effect(p: Ops) -> None:
        p.xadd(keys.ALERTS, a, maxlen=ALERTS_MAXLEN)
        p.hincrby(keys.ALERT_COUNTS, kind, 1)

    await once(store.r, keys.ALERTS, ctx.event_id, effect)


async def stock_alert(evt: dict[str, Any], ctx: Context, store: Store) -> None:
    sku = str(evt.get("sku", ""))
    if ctx.event_type == LOW_STOCK:
        await alert(store, ctx, LOW_STOCK, "warning",
                    f"low stock: {evt.get('name') or sku} has {evt.get('stock')} left "
                    f"(threshold {evt.get('threshold')})", str(evt.get("order_id", "")), sku)
    elif ctx.event_type == OUT_OF_STOCK:
        await alert(store, ctx, OUT_OF_STOCK, "critical",
                    f"out of stock: {evt.get('name') or sku} ({evt.get('requested')} asked,"
                    f" {evt.get('available')} left); order {evt.get('order_id')} cancelled",
                    str(evt.get("order_id", "")), sku)


async def payment_alert(evt: dict[str, Any], ctx: Context, store: Store) -> None:
    await alert(store, ctx, PAYMENT_FAILED_EVENT, "critical",
                f"payment failed for {evt.get('order_id')}: {evt.get('reason', '')}",
                str(evt.get("order_id", "")))


# ------------------------------------------------------------ the App
def register(app: App, cfg: AppConfig) -> App:
    """The pipeline's handlers on ``app``. Their :class:`Store` and :class:`Gateway` are
    made from the app's own client when it starts (so the test client's engine is the
    one they use under ``TestApp``)."""
    app.provide(Store, factory=lambda: Store(app.redis, cfg.stream_maxlen,
                                             cfg.low_stock_threshold))
    app.provide(Gateway, factory=lambda: Gateway(app.redis))
    payment_retry = RetryPolicy(max_deliveries=cfg.payment_max_deliveries,
                                backoff_ms=cfg.retry_backoff_ms, max_backoff_ms=5_000)
    add = app.add_handler
    add(reserve_stock, keys.ORDER_RECEIVED, group=keys.G_INVENTORY, event=ORDER_CREATED)
    add(not_an_order, keys.ORDER_RECEIVED, group=keys.G_INVENTORY)
    add(release_after_failed_payment, keys.PAYMENT_RESULT, group=keys.G_INVENTORY,
        event=PAYMENT_FAILED_EVENT)
    add(request_payment, keys.INVENTORY_CHECK, group=keys.G_PAYMENT, event=STOCK_RESERVED)
    add(charge, keys.PAYMENT_PROCESSING, group=keys.G_GATEWAY, event=PAYMENT_REQUESTED,
        concurrency=cfg.gateway_concurrency, retry=payment_retry)
    add(dispatch, keys.PAYMENT_RESULT, group=keys.G_SHIPPING, event=PAYMENT_COMPLETED)
    add(complete, keys.SHIPPING_DISPATCH, group=keys.G_ORDERS, event=ORDER_SHIPPED)
    add(rank, keys.ORDER_EVENTS, group=keys.G_RANKING, event=ORDER_COMPLETED)
    add(count, keys.ORDER_EVENTS, group=keys.G_ANALYTICS)
    add(notify, keys.ORDER_EVENTS, group=keys.G_NOTIFICATION)
    add(stock_alert, keys.INVENTORY_CHECK, group=keys.G_ALERTS)
    add(payment_alert, keys.ORDER_EVENTS, group=keys.G_ALERTS, event=PAYMENT_FAILED_EVENT)
    return app


def build_worker(cfg: AppConfig, r: Any, consumer_name: str) -> App:
    """One consumer of every group: the pipeline's handlers on a framework ``App`` using
    the client ``r`` (None: ``cfg.url``)."""
    retry = RetryPolicy(max_deliveries=cfg.max_deliveries, backoff_ms=cfg.retry_backoff_ms,
                        max_backoff_ms=5_000)
    app = App(cfg.url if r is None else None, client=r, consumer_name=consumer_name,
              grace_period_s=cfg.grace_period_s,
              defaults=ConsumerOptions(start_id="0", concurrency=cfg.concurrency,
                                       batch_size=100, block_ms=1_000,
                                       claim_idle_ms=cfg.claim_idle_ms,
                                       claim_interval_ms=cfg.claim_interval_ms,
                                       retry=retry))
    return register(app, cfg)


__all__ = ["Store", "build_worker", "cancel_order", "deliverable", "register"]
