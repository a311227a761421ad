"""Demo traffic: ``streamlite run --demo RATE`` places realistic orders by itself, so a
fresh dashboard shows the pipeline moving.

Orders arrive as a Poisson process of ``rate`` per second (exponential gaps), each
built like a customer's: one to three products of the catalog in stock, quantities 1-3,
a Korean name, an e-mail address and a shipping address, and placed through the
application's own order path (:func:`~.model.validate_order` and
:func:`~.orders.create_order`, what ``POST /api/orders`` runs). A few go wrong, as they
would in a shop: a declined card (cancelled, alert), an order that includes the
sold-out product (cancelled, alert), an address that cannot receive mail (completed; the
e-mails are dead letters). No poison payments: those are for ``streamlite load
--failure-mix gateway=...``.

The generator runs in the process that serves HTTP; the dashboard (``PUT /api/demo``)
pauses and resumes it or changes its rate. A pause returns once the order being placed,
if any, is stored: nothing is placed after it. The settings are kept in the data set
(``demo:settings``), so a restart without ``--demo`` carries on as the dashboard left it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from typing import Any

from . import keys
from .catalog import SOLD_OUT_SKU, load_products
from .load import CITIES
from .model import ValidationError, validate_order
from .orders import create_order
from .retention import note_demo_order

log = logging.getLogger("streamlite.apps.demo")

# share of demo orders of each kind of trouble (the rest complete normally)
MIX = {"declined": 0.03, "sold_out": 0.02, "bad_email": 0.01}
MAX_RATE = 1000.0
SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"]
GIVEN = ["민수", "서연", "지훈", "하은", "도윤", "수아", "예준", "지우", "현우", "서윤"]
DOMAINS = ["example.com", "example.co.kr", "mail.example.net"]
REFRESH_S = 10.0  # how often the product list (what is in stock) is read again


class DemoTraffic:
    """Places orders at ``rate`` per second until stopped; ``paused`` holds it."""

    def __init__(self, r: Any, rate: float, maxlen: int = 1_000_000,
                 seed: int | None = None) -> None:
        self.r = r
        self.rate = max(0.0, min(MAX_RATE, float(rate)))
        self.maxlen = maxlen
        self.paused = False
        self.placed = 0
        self.errors = 0
        self.rng = random.Random(seed)
        self._n = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # held while an order is being placed
        self._task: asyncio.Task[None] | None = None
        self._products: dict[str, dict[str, Any]] = {}
        self._products_at = 0.0

    # ------------------------------------------------------------ control
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None

    async def update(self, *, paused: bool | None = None, rate: float | None = None) -> None:
        """Pause/resume or change the rate; returns once it holds (an order being placed
        when pausing is finished first) and is stored for the next start."""
        async with self._lock:
            if paused is not None:
                self.paused = paused
            if rate is not None:
                self.rate = max(0.0, min(MAX_RATE, float(rate)))
            try:
                await self.r.hset(keys.DEMO_SETTINGS, mapping={
                    "rate": repr(self.rate), "paused": int(self.paused)})
            except Exception as e:  # the backend away for a moment: it holds until restart
                log.warning("demo settings not stored: %s", e)
        self._wake.set()

    async def restore(self) -> bool:
        """Take the rate and pause stored by the last :meth:`update` (True if there were
        any): a restart carries on as the dashboard left the demo."""
        got = await self.r.hgetall(keys.DEMO_SETTINGS)
        d = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes)
                                                            else v) for k, v in got.items()}
        if not d:
            return False
        try:
            self.rate = max(0.0, min(MAX_RATE, float(d.get("rate", self.rate))))
            self.paused = d.get("paused", "0") == "1"
        except ValueError:
            return False
        return True

    @property
    def running(self) -> bool:
        return self.rate > 0 and not self.paused

    def as_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "paused": self.paused, "running": self.running,
                "placed": self.placed, "errors": self.errors}

    # ------------------------------------------------------------ the loop
    async def _sleep(self, seconds: float | None) -> bool:
        """Wait ``seconds`` (None: until woken); True when woken by :meth:`update`."""
        try:
            if seconds is None:
                await self._wake.wait()
            else:
                await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))
        except TimeoutError:
            return False
        self._wake.clear()
        return True

    async def _run(self) -> None:
        due = time.monotonic()
        while True:
            if not self.running:
                await self._sleep(None)
                due = time.monotonic()
                continue
            if await self._sleep(due - time.monotonic()):
                continue  # settings changed: look again
            async with self._lock:
                if not self.running:
                    continue
                try:
                    await self.place_one()
                    self.placed += 1
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # the backend is away for a moment: slow down
                    self.errors += 1
                    log.warning("demo order not placed: %s", e)
                    due = time.monotonic() + 1.0
            # the next arrival; never a burst to catch up after a stall
            due = max(due, time.monotonic() - 1.0) + self.rng.expovariate(self.rate)

    async def _catalog(self) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        if not self._products or now - self._products_at > REFRESH_S:
            self._products = await load_products(self.r)
            self._products_at = now
        return self._products

    def make_order(self, products: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The body of one customer's order (what the API would receive)."""
        rng = self.rng
        self._n += 1
        in_stock = [s for s, p in products.items() if int(p.get("stock", 0)) > 3]
        if not in_stock:
            in_stock = [s for s in products if s != SOLD_OUT_SKU]
        skus = rng.sample(in_stock, k=min(len(in_stock), rng.choice((1, 1, 1, 2, 2, 3))))
        items: list[dict[str, Any]] = [{"sku": s, "quantity": rng.choice((1, 1, 1, 2, 3))}
                                       for s in skus]
        cid = rng.randint(1000, 99999)
        body: dict[str, Any] = {
            "customer_id": f"D{cid}",
            "customer_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "customer_email": f"customer{cid}@{rng.choice(DOMAINS)}",
            "shipping_address": rng.choice(CITIES),
            "items": items,
            "payment_token": "tok_visa",
        }
        u = rng.random()
        if u < MIX["declined"]:
            body["payment_token"] = rng.choice(("tok_declined", "tok_insufficient_funds"))
        elif u < MIX["declined"] + MIX["sold_out"] and SOLD_OUT_SKU in products \
                and SOLD_OUT_SKU not in skus:
            items.append({"sku": SOLD_OUT_SKU, "quantity": 1})
        elif u < sum(MIX.values()):
            body["customer_email"] = f"customer{cid}@mail.invalid"
        return body

    async def place_one(self) -> str:
        products = await self._catalog()
        body = self.make_order(products)
        try:
            new = validate_order(body, products)
        except ValidationError as e:  # cannot happen with the catalog's own SKUs
            raise RuntimeError(f"demo order refused: {e.details}") from e
        order, _ = await create_order(self.r, new, maxlen=self.maxlen)
        await note_demo_order(self.r, str(order["order_id"]),
                              int(order.get("created_ms") or time.time() * 1000))
        return str(order["order_id"])
