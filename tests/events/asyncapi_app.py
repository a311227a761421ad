"""An app for the AsyncAPI tests (``streamlite docs tests.events.asyncapi_app:app``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypedDict

from pydantic import BaseModel

from streamlite.events import App, Context

app = App("redis://cache.internal:6380/0")


class Currency(enum.Enum):
    EUR = "EUR"
    USD = "USD"


@dataclass
class Line:
    sku: str
    qty: int = 1


@dataclass
class OrderCreated:
    """An order was placed."""

    order_id: int
    currency: Currency
    lines: list[Line] = field(default_factory=list)
    note: str | None = None


class Address(BaseModel):
    city: str


class Shipped(BaseModel):
    order_id: int
    to: Address


class Entry(TypedDict):
    account: str
    cents: int


@app.publishes("invoices", Shipped, event="INVOICE_SENT")
@app.handler("orders", group="billing", event="ORDER_CREATED", idempotent=True,
             rate_limit="50/s", time_limit=2.5)
async def bill(evt: OrderCreated, ctx: Context) -> None:
    """Bill the order and send the invoice."""


@app.handler("orders", group="shipping", event="ORDER_SHIPPED")
def ship(evt: Shipped) -> None:
    """Record the shipment."""


@app.handler("orders", group="audit")
async def audit(payload, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    """Every event, whatever its type."""


@app.partitioned_handler("{bank}.ledger", group="ledger", partitions=4)
async def post(entry: Entry) -> None:
    """Post a ledger entry."""


app.publishes("orders", OrderCreated, description="the web API places orders")
