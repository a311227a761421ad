"""The shop's products (the seed documents' products and prices, in KRW) and their stock.

Stock lives in one hash per product (``product:<sku>``)::

    name, price    what the shop sells, for how much
    stock          units available to new orders
    reserved       units held for orders that are not shipped yet
    sold           units of completed orders
    received       every unit ever put into stock (initial stock + restocks)

so ``stock + reserved + sold == received`` always holds, whatever crashed when.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamlite.events.scripts import execute

from . import keys
from .store import APPLY_LUA, Ops, queue_apply


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: int
    stock: int | None = None  # None: the configured initial stock


# From seeds 001 (4-1: the MacBook is the out-of-stock product) and 001 (1-2).
PRODUCTS = [
    Product("GALAXY-BOOK4", "삼성 갤럭시 북4", 1_800_000),
    Product("LG-GRAM-17", "LG 그램 17인치", 2_200_000),
    Product("MACBOOK-PRO-M3", "맥북 프로 M3", 3_500_000, stock=0),
    Product("IPHONE-15", "iPhone 15", 1_200_000),
    Product("GALAXY-S24", "Galaxy S24", 1_200_000),
    Product("AIRPODS-PRO", "AirPods Pro", 350_000),
    Product("IPAD-AIR", "iPad Air", 800_000),
    Product("WATCH-S9", "Watch Series 9", 600_000),
    Product("MAGIC-MOUSE", "Magic Mouse", 120_000),
    Product("MAGIC-KEYBOARD", "Magic Keyboard", 180_000),
]
SOLD_OUT_SKU = "MACBOOK-PRO-M3"


def in_stock_skus() -> list[str]:
    return [p.sku for p in PRODUCTS if p.stock is None or p.stock > 0]


async def ensure_catalog(r: Any, initial_stock: int) -> bool:
    """Put the products in place once (a restart keeps the stock as it is). True when
    this call finished the catalog.

    Each product is created by a step of its own, only if it does not exist (the
    products live in different hash slots on a cluster); the ``catalog:ready`` flag is
    set last. So a process that dies half way, or two that start at once, leave every
    product created exactly once, with its initial stock."""
    if await r.exists(keys.CATALOG_READY):
        return False
    async def build(pipe: Any) -> None:
        for p in PRODUCTS:
            n = initial_stock if p.stock is None else p.stock
            ops = Ops(keys.product_key(p.sku))
            ops.require_absent(keys.product_key(p.sku))
            ops.hset(keys.product_key(p.sku), {
                "sku": p.sku, "name": p.name, "price": p.price, "stock": n, "reserved": 0,
                "sold": 0, "received": n})
            await queue_apply(r, pipe, ops)
        pipe.sadd(keys.CATALOG, *(p.sku for p in PRODUCTS))

    await execute(r, build, [APPLY_LUA])
    return bool(await r.set(keys.CATALOG_READY, "1", nx=True))


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


async def load_products(r: Any) -> dict[str, dict[str, Any]]:
    """Every product with its stock counters (sku -> fields)."""
    skus = sorted(_s(x) for x in await r.smembers(keys.CATALOG))
    pipe = r.pipeline(transaction=False)
    for sku in skus:
        pipe.hgetall(keys.product_key(sku))
    out: dict[str, dict[str, Any]] = {}
    for sku, h in zip(skus, await pipe.execute(), strict=True):
        d = {_s(k): _s(v) for k, v in h.items()}
        out[sku] = {"sku": sku, "name": d.get("name", sku), "price": int(d.get("price", 0)),
                    "stock": int(d.get("stock", 0)), "reserved": int(d.get("reserved", 0)),
                    "sold": int(d.get("sold", 0)), "received": int(d.get("received", 0))}
    return out
