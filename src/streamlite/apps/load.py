"""``streamlite load``: orders at a fixed rate with a chosen mix of failures, through the
HTTP API of a running ``streamlite run`` (or one started in this process with
``--self-hosted``); waits until every order is final and reports end-to-end latency
(order created -> shipped, from the orders' own timestamps) and throughput.

Failure mix (share of orders, ``--failure-mix payment=0.05,email=0.01,stock=0.02``):

=========  ==============================================================  ===============
key        what the order has                                              outcome
=========  ==============================================================  ===============
payment    a card the gateway declines (``tok_declined``)                  cancelled
email      an undeliverable address (``...@mail.invalid``)                 completed; the
                                                                           e-mail is a dead
                                                                           letter
stock      the sold-out product (맥북 프로 M3)                              cancelled
gateway    a payment the gateway rejects as malformed (``tok_invalid``)    cancelled; the
                                                                           payment message
                                                                           is a dead letter
invalid    a request the API must refuse (quantity 0)                      422, no order
=========  ==============================================================  ===============
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

FAILURE_KINDS = ("payment", "email", "stock", "gateway", "invalid")
CITIES = ["서울시 강남구 테헤란로 152", "부산시 해운대구 센텀중앙로 79", "대구시 중구 동성로 12",
          "인천시 연수구 송도과학로 32", "광주시 서구 상무중앙로 7", "대전시 유성구 대학로 99"]


def parse_mix(text: str) -> dict[str, float]:
    """``payment=0.05,email=0.01`` -> shares; raises ValueError with the reason."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        k, sep, v = part.partition("=")
        k = k.strip()
        if not sep or k not in FAILURE_KINDS:
            raise ValueError(f"{part!r}: expected KIND=SHARE with KIND one of "
                             f"{', '.join(FAILURE_KINDS)}")
        try:
            share = float(v)
        except ValueError:
            raise ValueError(f"{part!r}: the share must be a number from 0 to 1") from None
        if not 0 <= share <= 1:
            raise ValueError(f"{part!r}: the share must be from 0 to 1")
        mix[k] = share
    if sum(mix.values()) > 1:
        raise ValueError("the shares add up to more than 1")
    return mix


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


@dataclass
class Plan:
    n: int
    kind: str            # "ok" or a failure kind
    body: dict[str, Any]


def make_plans(n: int, mix: dict[str, float], products: list[dict[str, Any]],
               seed: int | None) -> list[Plan]:
    rng = random.Random(seed)
    in_stock = [p["sku"] for p in products if p["stock"] > 0]
    sold_out = [p["sku"] for p in products if p["stock"] == 0]
    if not in_stock:
        raise ValueError("no product is in stock: restock first")
    if mix.get("stock") and not sold_out:
        raise ValueError("stock failures need a sold-out product, and every product is in stock")
    plans = []
    for i in range(n):
        u = rng.random()
        kind = "ok"
        acc = 0.0
        for k in FAILURE_KINDS:
            acc += mix.get(k, 0.0)
            if u < acc:
                kind = k
                break
        skus = rng.sample(in_stock, k=min(len(in_stock), rng.choice((1, 1, 2, 3))))
        items: list[dict[str, Any]] = [{"sku": s, "quantity": rng.randint(1, 3)} for s in skus]
        body: dict[str, Any] = {
            "customer_id": f"C{rng.randint(1000, 99999)}",
            "customer_name": f"고객{i}",
            "customer_email": f"customer{i}@example.com",
            "shipping_address": rng.choice(CITIES),
            "items": items,
            "payment_token": "tok_visa",
        }
        if kind == "payment":
            body["payment_token"] = "tok_declined"
        elif kind == "email":
            body["customer_email"] = f"customer{i}@mail.invalid"
        elif kind == "stock":
            items.append({"sku": rng.choice(sold_out), "quantity": 1})
        elif kind == "gateway":
            body["payment_token"] = "tok_invalid"
        elif kind == "invalid":
            items[0]["quantity"] = 0
        plans.append(Plan(i, kind, body))
    return plans


@dataclass
class Result:
    sent: int = 0
    accepted: dict[str, str] = field(default_factory=dict)   # order id -> kind
    rejected: Counter[int] = field(default_factory=Counter)  # status -> count
    errors: Counter[str] = field(default_factory=Counter)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_sent: float = 0.0
    last_sent: float = 0.0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class Progress:
    """A progress bar on a terminal (rich), a line every few seconds otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.quiet = quiet
        self.rich: Any = None
        self._last_line = 0.0
        if not quiet and sys.stderr.isatty():
            try:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )

                self.rich = Progress(TextColumn("{task.description:>9}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     transient=False)
                self.rich.start()
                self.t_sent = self.rich.add_task("sent", total=total)
                self.t_done = self.rich.add_task("finished", total=total)
            except ImportError:
                self.rich = None

    def update(self, sent: int, done: int) -> None:
        if self.rich is not None:
            self.rich.update(self.t_sent, completed=sent)
            self.rich.update(self.t_done, completed=done)
        elif not self.quiet:
            now = time.monotonic()
            if now - self._last_line >= 5 or (sent == self.total and done == self.total):
                self._last_line = now
                print(f"  sent {sent}/{self.total}, finished {done}/{self.total}",
                      file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.rich is not None:
            self.rich.stop()


async def run_load(api: str, *, orders: int, rate: float, mix: dict[str, float],
                   concurrency: int = 64, seed: int | None = None, timeout_s: float = 600,
                   quiet: bool = False) -> dict[str, Any]:
    import aiohttp

    api = api.rstrip("/")
    res = Result()
    run_id = uuid.uuid4().hex[:8]
    tmo = aiohttp.ClientTimeout(total=30)
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=tmo, connector=conn) as http:
        try:
            async with http.get(f"{api}/api/products") as resp:
                products = (await resp.json())["products"]
        except aiohttp.ClientConnectionError as e:
            raise ConnectionError(f"no streamlite app at {api} ({e}); start one with "
                                  "`streamlite run`, or pass --self-hosted") from e
        plans = make_plans(orders, mix, products, seed)
        expect_reject = sum(1 for p in plans if p.kind == "invalid")
        progress = Progress(orders, quiet)
        queue: asyncio.Queue[Plan | None] = asyncio.Queue()
        for p in plans:
            queue.put_nowait(p)
        start = time.monotonic()
        res.first_sent = time.time()
        interval = 1.0 / rate if rate > 0 else 0.0

        async def sender() -> None:
            while True:
                p = queue.get_nowait() if not queue.empty() else None
                if p is None:
                    return
                due = start + p.n * interval
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                headers = {"Idempotency-Key": f"load-{run_id}-{p.n}"}
                for attempt in range(4):
                    try:
                        async with http.post(f"{api}/api/orders", json=p.body,
                                             headers=headers) as resp:
                            try:
                                body = await resp.json(content_type=None)
                            except ValueError:  # not JSON: a proxy's or a crash's page
                                body = {}
                            if resp.status in (200, 201) and "order_id" in body:
                                res.accepted[body["order_id"]] = p.kind
                            elif resp.status >= 500 and attempt < 3:
                                await asyncio.sleep(0.2 * (attempt + 1))
                                continue
                            else:
                                res.rejected[resp.status] += 1
                        break
                    except (TimeoutError, aiohttp.ClientError) as e:
                        if attempt == 3:
                            res.errors[type(e).__name__] += 1
                        else:
                            await asyncio.sleep(0.2 * (attempt + 1))
                res.sent += 1
                res.last_sent = time.time()

        senders = [asyncio.create_task(sender()) for _ in range(concurrency)]

        async def tracker() -> None:
            deadline: float | None = None  # timeout_s counts from the last order sent
            while deadline is None or time.monotonic() < deadline:
                if deadline is None and all(t.done() for t in senders):
                    deadline = time.monotonic() + timeout_s
                pending = [o for o in res.accepted if o not in res.final]
                for i in range(0, len(pending), 1000):
                    chunk = pending[i:i + 1000]
                    try:
                        async with http.post(f"{api}/api/order-status",
                                             json={"ids": chunk}) as resp:
                            st = (await resp.json())["orders"]
                    except (TimeoutError, aiohttp.ClientError):
                        continue
                    for oid, s in st.items():
                        if s is not None and s.get("final"):
                            res.final[oid] = s
                done = len(res.final) + res.rejected_total + sum(res.errors.values())
                progress.update(res.sent, done)
                if all(t.done() for t in senders) and len(res.final) == len(res.accepted):
                    return
                await asyncio.sleep(0.5)

        # the tracker runs while the senders send, so the progress bar moves from the start
        track = asyncio.create_task(tracker())
        try:
            await asyncio.gather(*senders)
            send_s = max(1e-9, time.monotonic() - start)
            progress.update(res.sent, len(res.final) + res.rejected_total
                            + sum(res.errors.values()))
            await track
        finally:
            for t in senders:
                t.cancel()
            track.cancel()
            progress.close()

    statuses = Counter(s["status"] for s in res.final.values())
    reasons = Counter(s.get("cancel_reason") or "" for s in res.final.values()
                      if s["status"] == "CANCELLED")
    shipped = [s for s in res.final.values() if s.get("shipped_ms")]
    lat = sorted(float(s["shipped_ms"] - s["created_ms"]) for s in shipped)
    lat_c = sorted(float(s["completed_ms"] - s["created_ms"]) for s in res.final.values()
                   if s.get("completed_ms"))
    span_s = 0.0
    if shipped:
        first = min(int(s["created_ms"]) for s in res.final.values())
        span_s = max(1e-9, (max(int(s["shipped_ms"]) for s in shipped) - first) / 1000)
    return {
        "orders": orders, "rate": rate, "mix": mix,
        "sent": res.sent, "send_seconds": round(send_s, 3),
        "send_rate": round(res.sent / send_s, 1),
        "accepted": len(res.accepted), "rejected": dict(res.rejected),
        "expected_rejections": expect_reject, "errors": dict(res.errors),
        "final": len(res.final), "unfinished": len(res.accepted) - len(res.final),
        "statuses": dict(statuses), "cancel_reasons": dict(reasons),
        "shipped": len(shipped),
        "latency_ms": {f"p{p}": round(percentile(lat, p), 1) for p in (50, 90, 99)}
        | {"max": round(lat[-1], 1) if lat else None},
        "latency_completed_ms": {f"p{p}": round(percentile(lat_c, p), 1)
                                 for p in (50, 90, 99)},
        "throughput_shipped_per_s": round(len(shipped) / span_s, 1) if shipped else 0.0,
        "span_seconds": round(span_s, 3),
    }


def report(r: dict[str, Any], out: Any = sys.stdout) -> None:
    rej = ", ".join(f"{n} x HTTP {s}" for s, n in sorted(r["rejected"].items())) or "none"
    err = ", ".join(f"{n} x {e}" for e, n in r["errors"].items()) or "none"
    st = ", ".join(f"{n} {s.lower()}" for s, n in sorted(r["statuses"].items()))
    why = ", ".join(f"{k} {n}" for k, n in sorted(r["cancel_reasons"].items()))
    lat = r["latency_ms"]
    lines = [
        f"sent:        {r['sent']} orders in {r['send_seconds']:.1f} s "
        f"({r['send_rate']:.1f}/s, asked {r['rate']:g}/s)",
        f"accepted:    {r['accepted']}; rejected: {rej} "
        f"(expected {r['expected_rejections']}); errors: {err}",
        f"final:       {r['final']} ({st}){f'; cancelled: {why}' if why else ''}; "
        f"unfinished: {r['unfinished']}",
        f"latency:     created -> shipped, {r['shipped']} orders: p50 {lat['p50']:.1f} ms, "
        f"p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']} ms",
        f"throughput:  {r['throughput_shipped_per_s']:.1f} orders shipped/s "
        f"(first created to last shipped: {r['span_seconds']:.1f} s)",
    ]
    print("\n".join(lines), file=out, flush=True)


async def self_hosted(url: str, **kw: Any) -> dict[str, Any]:
    """Start the application in this process on a free port, load it, stop it."""
    from .config import AppConfig
    from .runner import start, stop

    cfg = AppConfig(url=url, port=0)
    run = await start(cfg)
    try:
        assert run.url is not None
        return await run_load(run.url, **kw)
    finally:
        await stop(run)


def main_json(r: dict[str, Any]) -> None:
    print(json.dumps(r), flush=True)


__all__ = ["parse_mix", "run_load", "report", "self_hosted", "main_json"]
