"""What the dashboard shows, read from Redis in two pipelined round trips.

A snapshot holds: every pipeline stream (length, entries added, rate), its consumer
groups (lag, pending, consumers and their idle time), the dead-letter streams with their
newest entries, the product ranking, the order funnel, analytics per minute, stock, the
newest alerts and the gateway's settings. :class:`Broadcaster` computes one snapshot per
interval while somebody watches and hands it to every SSE client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from streamlite.events import DeadLetterEntry

from . import keys
from .catalog import load_products
from .gateway import read_settings
from .model import STATUSES

SHOWN_STREAMS = [*keys.PIPELINE_STREAMS, keys.OUTBOX, keys.ALERTS]


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _d(h: Any) -> dict[str, Any]:
    return {_s(k): v for k, v in (h or {}).items()}


def _int(v: Any, default: int | None = 0) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


class Dashboard:
    def __init__(self, r: Any, demo: Any = None) -> None:
        self.r = r
        self.demo = demo  # a DemoTraffic, shown with its control
        self.monitor: Any = None  # a Monitor: rates as moving averages
        self._last: dict[str, tuple[float, int]] = {}  # stream -> (time, entries added)
        self._rates: dict[str, float] = {}

    def _rate(self, stream: str, added: int, now: float) -> float:
        prev = self._last.get(stream)
        self._last[stream] = (now, added)
        if prev is None or now <= prev[0]:
            return self._rates.get(stream, 0.0)
        inst = max(0.0, (added - prev[1]) / (now - prev[0]))
        # smooth a little so the numbers do not jump on every tick
        rate = inst if stream not in self._rates else 0.5 * inst + 0.5 * self._rates[stream]
        self._rates[stream] = rate
        return rate

    async def snapshot(self) -> dict[str, Any]:
        r = self.r
        now = time.time()
        p = r.pipeline(transaction=False)
        for s in SHOWN_STREAMS:
            p.xinfo_stream(s)
            p.xinfo_groups(s)
        dlqs = list(keys.DLQ_STREAMS.items())
        for _, d in dlqs:
            p.xlen(d)
            p.xrevrange(d, "+", "-", count=5)
        p.zrevrange(keys.RANKING, 0, 9, withscores=True)
        p.hgetall(keys.STATUS_COUNTS)
        p.hgetall(keys.FUNNEL)
        p.hgetall(keys.CANCEL_REASONS)
        p.hgetall(keys.ANALYTICS_TOTALS)
        p.zrevrange(keys.ANALYTICS_MINUTES, 0, 29)
        p.xrevrange(keys.ALERTS, "+", "-", count=20)
        p.hgetall(keys.ALERT_COUNTS)
        p.zcard(keys.ORDER_INDEX)
        res = await p.execute(raise_on_error=False)
        it = iter(res)
        streams: list[dict[str, Any]] = []
        for s in SHOWN_STREAMS:
            info, groups = next(it), next(it)
            if isinstance(info, Exception):
                streams.append({"name": s, "length": 0, "added": 0, "rate": 0.0,
                                "groups": []})
                continue
            info = _d(info)
            added = _int(info.get("entries-added"), None)
            length = _int(info.get("length"), 0) or 0
            total = added if added is not None else length
            gl = []
            for g in groups if not isinstance(groups, Exception) else []:
                g = _d(g)
                gl.append({"name": _s(g.get("name", b"")), "consumers": _int(g.get("consumers")),
                           "pending": _int(g.get("pending")), "lag": _int(g.get("lag"), None),
                           "entries_read": _int(g.get("entries-read"), None),
                           "last_delivered_id": _s(g.get("last-delivered-id", b""))})
            rate = self._rate(s, int(total or 0), now)
            if self.monitor is not None:  # its moving average, when it has one
                rate = self.monitor.rate_of(s, rate)
            streams.append({"name": s, "length": length, "added": total,
                            "rate": round(rate, 2), "groups": gl})
        dlq = []
        for (src, d) in dlqs:
            n, rows = next(it), next(it)
            recent = []
            for eid, f in rows if not isinstance(rows, Exception) else []:
                e = DeadLetterEntry(d, _s(eid), dict(f)).summary()
                recent.append({k: e[k] for k in ("id", "group", "error_type", "error",
                                                  "deliveries", "failed_at", "event_type",
                                                  "original_id")})
            dlq.append({"stream": src, "dlq": d,
                        "length": 0 if isinstance(n, Exception) else int(n), "recent": recent})
        ranking_raw = next(it)
        status_counts, funnel, reasons, totals = (next(it) for _ in range(4))
        minutes_raw, alerts_raw, alert_counts, orders_total = (next(it) for _ in range(4))

        # consumers of every group (second round trip: needs the group names)
        p = r.pipeline(transaction=False)
        pairs: list[tuple[str, str]] = [(st["name"], g["name"]) for st in streams
                                        for g in st["groups"]]
        for sname, gname in pairs:
            p.xinfo_consumers(sname, gname)
        minutes = sorted(int(_s(m)) for m in minutes_raw or [])
        for m in minutes:
            p.hgetall(keys.analytics_minute_key(m))
        res2 = await p.execute(raise_on_error=False) if pairs or minutes else []
        it2 = iter(res2)
        by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for pair in pairs:
            cons = next(it2)
            lst = []
            for c in cons if not isinstance(cons, Exception) else []:
                c = _d(c)
                lst.append({"name": _s(c.get("name", b"")), "pending": _int(c.get("pending")),
                            "idle_ms": _int(c.get("idle")),
                            "inactive_ms": _int(c.get("inactive"), None)})
            by_pair[pair] = lst
        for st in streams:
            for g in st["groups"]:
                cons = by_pair.get((st["name"], g["name"]), [])
                g["consumer_list"] = cons
                idle = [c["idle_ms"] for c in cons if c["idle_ms"] is not None]
                g["min_idle_ms"] = min(idle) if idle else None
        series = []
        for m in minutes:
            h = next(it2)
            h = {} if isinstance(h, Exception) else {_s(k): int(v) for k, v in h.items()}
            series.append({"minute": m, **{f: h.get(f, 0) for f in (
                "orders", "completed", "revenue", "failures", "payment_failures",
                "cancelled")}})

        products = await load_products(r)
        names = {sku: p["name"] for sku, p in products.items()}
        ranking = [{"sku": _s(sku), "name": names.get(_s(sku), _s(sku)), "quantity": int(sc)}
                   for sku, sc in (ranking_raw or [])]
        sc = {_s(k): int(v) for k, v in _d(status_counts).items()}
        fn = {_s(k): int(v) for k, v in _d(funnel).items()}
        alerts = []
        for eid, f in alerts_raw or []:
            a = {_s(k): _s(v) for k, v in f.items()}
            a["id"] = _s(eid)
            alerts.append(a)
        gw = await read_settings(r)
        return {
            "time_ms": int(now * 1000),
            "orders_total": int(orders_total or 0),
            "streams": streams,
            "dlq": dlq,
            "ranking": ranking,
            "status_counts": {s: sc.get(s, 0) for s in STATUSES},
            "funnel": {s: fn.get(s, 0) for s in STATUSES},
            "cancel_reasons": {_s(k): int(v) for k, v in _d(reasons).items()},
            "totals": {_s(k): int(v) for k, v in _d(totals).items()},
            "minutes": series,
            "alerts": alerts,
            "alert_counts": {_s(k): int(v) for k, v in _d(alert_counts).items()},
            "products": list(products.values()),
            "gateway": gw.as_dict(),
            "demo": self.demo.as_dict() if self.demo is not None else None,
        }


class Broadcaster:
    """One snapshot per ``interval_s`` while at least one client listens."""

    def __init__(self, dashboard: Dashboard, interval_s: float = 1.0) -> None:
        self.dashboard = dashboard
        self.interval_s = interval_s
        self.latest: dict[str, Any] | None = None
        self._cond = asyncio.Condition()
        self._listeners = 0
        self._task: asyncio.Task[None] | None = None
        self._seq = 0
        self.closed = False

    async def _run(self) -> None:
        while self._listeners > 0 and not self.closed:
            try:
                snap = await self.dashboard.snapshot()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # keep the page alive through a hiccup
                snap = {"error": f"{type(e).__name__}: {e}", "time_ms": int(time.time() * 1000)}
            async with self._cond:
                self.latest = snap
                self._seq += 1
                self._cond.notify_all()
            await asyncio.sleep(self.interval_s)
        self._task = None

    async def subscribe(self) -> Any:
        """Async iterator of snapshots (the newest; slow clients skip some); ends when
        the broadcaster is closed."""
        self._listeners += 1
        if self._task is None and not self.closed:
            self._task = asyncio.get_running_loop().create_task(self._run())
        # the newest snapshot at once if there is one, else wait for the first
        seen = -1 if self.latest is not None else self._seq
        try:
            while not self.closed:
                async with self._cond:
                    last = seen
                    await self._cond.wait_for(
                        lambda last=last: self._seq != last or self.closed)  # type: ignore[misc]
                    if self.closed:
                        return
                    seen = self._seq
                    snap = self.latest
                yield snap
        finally:
            self._listeners -= 1

    async def close(self) -> None:
        """Stop producing snapshots and end every subscriber's iteration."""
        self.closed = True
        async with self._cond:
            self._cond.notify_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


class ShippedLatency:
    """Created-to-shipped latency of the orders shipped in the last ``window_s``: the
    ``lat:p50`` / ``lat:p95`` / ``lat:p99`` series (ms) of the dashboard's monitor.

    Each call reads the ``shipping-dispatch`` entries added since the last one (at most
    ``max_read``; the entry's timestamp is when the order shipped) and looks up when each
    order was created (its score in the order index): a few commands per call, however
    busy the pipeline is."""

    def __init__(self, r: Any, window_s: float = 60.0, max_read: int = 2000) -> None:
        self.r = r
        self.window_s = window_s
        self.max_read = max_read
        self.last_id: str | None = None
        self.seen: list[tuple[int, float]] = []  # (shipped ms, latency ms)

    async def __call__(self) -> dict[str, float | None]:
        from streamlite.events import Message

        from .monitor import percentiles

        now_ms = int(time.time() * 1000)
        start = f"({self.last_id}" if self.last_id else f"{now_ms - int(self.window_s * 1000)}-0"
        rows = await self.r.xrange(keys.SHIPPING_DISPATCH, start, "+", count=self.max_read)
        shipped: list[tuple[int, str]] = []
        for eid, fields in rows:
            self.last_id = _s(eid)
            msg = Message.from_entry(keys.SHIPPING_DISPATCH, eid, fields)
            try:
                oid = str(msg.payload().get("order_id", ""))
            except Exception:
                continue
            if oid:
                shipped.append((msg.timestamp_ms, oid))
        if shipped:
            p = self.r.pipeline(transaction=False)
            for _, oid in shipped:
                p.zscore(keys.ORDER_INDEX, oid)
            for (ts, _), created in zip(shipped, await p.execute(raise_on_error=False),
                                        strict=True):
                if isinstance(created, int | float):
                    self.seen.append((ts, max(0.0, ts - float(created))))
        cutoff = now_ms - int(self.window_s * 1000)
        self.seen = [x for x in self.seen if x[0] >= cutoff]
        pc = percentiles([lat for _, lat in self.seen])
        return {f"lat:{k}": round(pc[k], 1) if k in pc else None for k in ("p50", "p95", "p99")}
