"""The pipeline's handler logic on the framework's test client: the seed app's real
handlers (services.register) in this process, on an in-memory engine, with virtual time
for the retries. No server, no HTTP, no worker processes (those are in test_api,
test_pipeline, test_crash)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from streamlite.apps import keys
from streamlite.apps.catalog import SOLD_OUT_SKU, ensure_catalog, load_products
from streamlite.apps.config import AppConfig
from streamlite.apps.gateway import (
    ChargeResult,
    Gateway,
    GatewaySettings,
    GatewayUnavailable,
    init_settings,
)
from streamlite.apps.model import validate_order
from streamlite.apps.orders import create_order
from streamlite.apps.services import build_worker
from streamlite.apps.store import get_order
from streamlite.events import App
from streamlite.events.testing import TestApp

from .support import order_body

CFG = AppConfig(url="redis://127.0.0.1:1/0", retry_backoff_ms=1_000, payment_max_deliveries=4)


def worker() -> App:
    return build_worker(CFG, None, "test")


def scenario(body: Callable[[TestApp], Awaitable[None]], app: App | None = None) -> None:
    async def main() -> None:
        async with TestApp(app or worker()) as test:
            await ensure_catalog(test.redis, 100)
            await init_settings(test.redis, GatewaySettings(latency_ms=0,
                                                            transient_failure_rate=0))
            await body(test)

    asyncio.run(asyncio.wait_for(main(), 90))


async def place(test: TestApp, sku: str = "IPAD-AIR", quantity: int = 1, **over: Any) -> str:
    new = validate_order(order_body(sku, quantity, **over), await load_products(test.redis))
    order, _ = await create_order(test.redis, new)
    return str(order["order_id"])


async def outbox(test: TestApp) -> list[dict[bytes, bytes]]:
    return [f for _, f in await test.redis.xrange(keys.OUTBOX)]


def test_an_order_goes_through_every_stage() -> None:
    async def body(test: TestApp) -> None:
        oid = await place(test, "IPAD-AIR", 2)
        await test.drain()
        order = await get_order(test.redis, oid)
        assert order is not None and order["status"] == "COMPLETED"
        assert order["tracking_number"] and order["transaction_id"]
        assert [f[b"kind"] for f in await outbox(test)] == [b"ORDER_CREATED",
                                                            b"ORDER_SHIPPED"]
        assert await test.redis.zscore(keys.RANKING, "IPAD-AIR") == 2
        assert not test.failures()

    scenario(body)


def test_sold_out_order_is_cancelled_with_an_alert_and_an_email() -> None:
    async def body(test: TestApp) -> None:
        oid = await place(test, SOLD_OUT_SKU, 1)
        await test.drain()
        order = await get_order(test.redis, oid)
        assert order is not None and order["status"] == "CANCELLED"
        assert order["cancel_reason"] == "out_of_stock"
        alerts = [f[b"kind"] for _, f in await test.redis.xrange(keys.ALERTS)]
        assert alerts == [b"OUT_OF_STOCK"]
        assert [f[b"kind"] for f in await outbox(test)] == [b"ORDER_CREATED",
                                                            b"ORDER_CANCELLED"]

    scenario(body)


def test_undeliverable_email_is_dead_lettered_and_the_order_completes() -> None:
    async def body(test: TestApp) -> None:
        oid = await place(test, "IPHONE-15", 1, customer_email="kim@mail.invalid")
        await test.drain()
        assert (await get_order(test.redis, oid) or {})["status"] == "COMPLETED"
        dead = test.dead_letters(keys.ORDER_EVENTS)
        assert {d.summary()["group"] for d in dead} == {"notification"}
        assert all("undeliverable" in d.summary()["error"] for d in dead)
        assert len(dead) == 2  # ORDER_CREATED's and ORDER_SHIPPED's e-mails

    scenario(body)


def test_seed_style_entry_is_a_dead_letter() -> None:
    async def body(test: TestApp) -> None:
        await test.redis.xadd(keys.ORDER_RECEIVED, {
            "order_id": "ORD-2024-004", "customer_id": "2004", "product_name": "문제상품",
            "quantity": "1", "customer_email": "invalid-email"})
        await test.drain()
        [dead] = test.dead_letters(keys.ORDER_RECEIVED)
        assert dead.summary()["group"] == "inventory"
        assert "not an order event" in dead.summary()["error"]

    scenario(body)


class FlakyGateway(Gateway):
    """Unavailable ``failures`` times, then approves (a stand-in injected with
    app.provide: the handler takes whatever Gateway the app provides)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def charge(self, order_id: str, amount: int, token: str) -> ChargeResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise GatewayUnavailable("payment gateway timed out")
        return ChargeResult(True, transaction_id=f"TXN-{self.calls}")


def test_gateway_timeouts_are_retried_with_backoff() -> None:
    app = worker()
    gw = FlakyGateway(failures=2)
    app.provide(Gateway, gw)

    async def body(test: TestApp) -> None:
        oid = await place(test)
        t0 = test.clock.now
        await test.drain()
        assert (await get_order(test.redis, oid) or {})["status"] == "COMPLETED"
        assert gw.calls == 3
        assert [r.delivery_count for r in test.retries(keys.PAYMENT_PROCESSING)] == [1, 2]
        # backoffs of about 1 s and 2 s passed on the test's clock
        assert test.clock.now - t0 >= 2.5

    scenario(body, app)


def test_a_gateway_outage_dead_letters_the_payment() -> None:
    app = worker()
    gw = FlakyGateway(failures=1_000)
    app.provide(Gateway, gw)

    async def body(test: TestApp) -> None:
        oid = await place(test)
        await test.drain()
        assert (await get_order(test.redis, oid) or {})["status"] == "PAYMENT_PROCESSING"
        assert gw.calls == CFG.payment_max_deliveries
        [dead] = test.dead_letters(keys.PAYMENT_PROCESSING)
        assert dead.summary()["group"] == keys.G_GATEWAY
        assert dead.summary()["deliveries"] == CFG.payment_max_deliveries

    scenario(body, app)
