"""The HTTP API and the dashboard (aiohttp: JSON endpoints, SSE and the page itself).

Routes (all JSON unless said)::

    GET  /                                the dashboard (HTML)
    GET  /healthz
    POST /api/orders                      create (Idempotency-Key header honoured)
    GET  /api/orders?limit=&offset=       newest first
    GET  /api/orders/{id}[?at=<ISO|ms>]   now, or as it was at that moment
    GET  /api/orders/{id}/events          its history
    POST /api/orders/{id}/cancel
    POST /api/order-status                {"ids": [...]}: status and times of many orders
    GET  /api/products                    catalog with stock
    POST /api/products/{sku}/restock      {"quantity": n}
    GET  /api/ranking?n=10                top products by quantity sold
    GET  /api/analytics?minutes=30        per minute: orders, revenue, failures
    GET  /api/alerts?count=50
    GET  /api/dlq                         every dead-letter stream with its entries
    POST /api/dlq/{stream}/redrive        {"ids": [...]} or all; "group": for one group only
    POST /api/dlq/{stream}/purge          {"ids": [...]} or all
    GET  /api/gateway  PUT /api/gateway   the simulated gateway's settings
    GET  /api/dashboard                   one snapshot
    GET  /api/dashboard/events            snapshots as Server-Sent Events
    GET  /api/history?seconds=900         the charts' series over time (see monitor.py)
    GET  /ops/...                         the operations dashboard (see opsweb.py)
    GET  /static/..., /favicon.ico        the pages' scripts (uPlot), styles and icon
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from streamlite.events import DeadLetters

from . import keys
from .catalog import load_products
from .dashboard import SHOWN_STREAMS, Broadcaster, Dashboard, ShippedLatency
from .demo import MAX_RATE, DemoTraffic
from .gateway import GatewaySettings, read_settings, write_settings
from .model import FINAL, ValidationError, validate_order
from .monitor import Monitor
from .opsweb import OpsApi, favicon, serve_static
from .opsweb import add_routes as add_ops_routes
from .orders import create_order
from .services import cancel_order
from .store import get_order, get_orders, history, recent_orders, state_at

MAX_BODY = 64 * 1024
log = logging.getLogger("streamlite.apps.web")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def error(status: int, message: str, details: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = details
    return _json(body, status)


def parse_at(value: str) -> int:
    """Milliseconds since the epoch from ``?at=``: digits, or an ISO-8601 time (UTC
    when it has no zone)."""
    v = value.strip()
    if re.fullmatch(r"\d{1,15}", v):
        return int(v)
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


async def read_json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "send JSON (Content-Type: application/json)"}),
            content_type="application/json")
    try:
        return await request.json()
    except ValueError as e:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"the body is not valid JSON: {e}"}),
                                 content_type="application/json") from None


class Api:
    def __init__(self, r: Any, sync_client: Any, maxlen: int,
                 interval_s: float = 1.0, demo: DemoTraffic | None = None) -> None:
        self.r = r
        self.sync = sync_client
        self.maxlen = maxlen
        self.demo = demo if demo is not None else DemoTraffic(r, 0.0, maxlen)
        self.dashboard = Dashboard(r, self.demo)
        self.broadcaster = Broadcaster(self.dashboard, interval_s)
        self._catalog: dict[str, dict[str, Any]] | None = None
        # metrics over time (the charts, and the operations view at /ops/)
        self.monitor = Monitor(r, streams=[*SHOWN_STREAMS, *keys.DLQ_STREAMS.values()],
                               interval_s=max(1.0, interval_s), extra=ShippedLatency(r))
        self.ops = OpsApi(self.monitor, sync_client, target="this application's data")
        self.dashboard.monitor = self.monitor

    async def catalog(self) -> dict[str, dict[str, Any]]:
        if self._catalog is None:
            self._catalog = await load_products(self.r)
        return self._catalog

    # ------------------------------------------------------------ orders
    async def create(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        try:
            new = validate_order(body, await self.catalog())
        except ValidationError as e:
            return error(422, "invalid order", e.details)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not re.fullmatch(r"[\w.:-]{1,100}", key):
            return error(400, "Idempotency-Key: 1 to 100 letters, digits, '.', ':', '-', '_'")
        order, created = await create_order(self.r, new, request_id=key, maxlen=self.maxlen)
        return _json(order, 201 if created else 200)

    async def list_orders(self, request: web.Request) -> web.Response:
        try:
            limit = min(500, max(1, int(request.query.get("limit", "50"))))
            offset = max(0, int(request.query.get("offset", "0")))
        except ValueError:
            return error(400, "limit and offset must be integers")
        return _json({"orders": await recent_orders(self.r, limit, offset)})

    async def get(self, request: web.Request) -> web.Response:
        oid = request.match_info["id"]
        at = request.query.get("at")
        if at is None:
            order = await get_order(self.r, oid)
            if order is None:
                return error(404, f"no order {oid}")
            return _json(order)
        try:
            at_ms = parse_at(at)
        except ValueError:
            return error(400, "at: give an ISO-8601 time (2024-05-23T10:30:00Z) or "
                              "milliseconds since the epoch")
        state, exists = await state_at(self.r, oid, at_ms)
        if not exists:
            return error(404, f"no order {oid}")
        if state is None:
            return error(404, f"order {oid} did not exist yet at {at}")
        return _json({**state, "as_of_ms": at_ms})

    async def events(self, request: web.Request) -> web.Response:
        oid = request.match_info["id"]
        h = await history(self.r, oid)
        if not h:
            return error(404, f"no order {oid}")
        return _json({"order_id": oid, "events": [e.as_dict() for e in h]})

    async def cancel(self, request: web.Request) -> web.Response:
        oid = request.match_info["id"]
        order = await cancel_order(self.r, oid, self.maxlen)
        if order is not None:
            return _json(order)
        cur = await get_order(self.r, oid)
        if cur is None:
            return error(404, f"no order {oid}")
        return error(409, f"order {oid} can no longer be cancelled (status {cur['status']})")

    async def status(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) \
                or len(ids) > 2000:
            return error(422, "give {\"ids\": [up to 2000 order ids]}")
        out: dict[str, dict[str, Any] | None] = {}
        for oid, o in zip(ids, await get_orders(self.r, ids), strict=True):
            if o is None:
                out[oid] = None
                continue
            info = {k: o.get(k) for k in ("status", "created_ms", "paid_ms", "shipped_ms",
                                          "completed_ms", "cancelled_ms", "cancel_reason")}
            info["final"] = o["status"] in FINAL
            out[oid] = info
        return _json({"orders": out})

    # ------------------------------------------------------------ products, ranking, ...
    async def products(self, request: web.Request) -> web.Response:
        return _json({"products": list((await load_products(self.r)).values())})

    async def restock(self, request: web.Request) -> web.Response:
        sku = request.match_info["sku"]
        body = await read_json(request)
        q = body.get("quantity") if isinstance(body, dict) else None
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= 10_000_000:
            return error(422, "invalid restock",
                         [{"field": "quantity", "message": "must be an integer from 1"}])
        if sku not in await self.catalog():
            return error(404, f"no product {sku}")
        pipe = self.r.pipeline(transaction=True)
        pipe.hincrby(keys.product_key(sku), "stock", q)
        pipe.hincrby(keys.product_key(sku), "received", q)
        await pipe.execute()
        return _json((await load_products(self.r))[sku])

    async def ranking(self, request: web.Request) -> web.Response:
        try:
            n = min(100, max(1, int(request.query.get("n", "10"))))
        except ValueError:
            return error(400, "n must be an integer")
        names = {s: p["name"] for s, p in (await self.catalog()).items()}
        rows = await self.r.zrevrange(keys.RANKING, 0, n - 1, withscores=True)
        return _json({"ranking": [
            {"rank": i + 1, "sku": sku.decode(), "name": names.get(sku.decode(), ""),
             "quantity": int(score)} for i, (sku, score) in enumerate(rows)]})

    async def analytics(self, request: web.Request) -> web.Response:
        snap = await self.dashboard.snapshot()
        return _json({"totals": snap["totals"], "minutes": snap["minutes"]})

    async def alerts(self, request: web.Request) -> web.Response:
        try:
            n = min(1000, max(1, int(request.query.get("count", "50"))))
        except ValueError:
            return error(400, "count must be an integer")
        rows = await self.r.xrevrange(keys.ALERTS, "+", "-", count=n)
        return _json({"alerts": [{"id": eid.decode(),
                                  **{k.decode(): v.decode() for k, v in f.items()}}
                                 for eid, f in rows]})

    # ------------------------------------------------------------ dead letters
    def _dlq(self, request: web.Request) -> DeadLetters:
        s = request.match_info["stream"]
        if s not in keys.DLQ_STREAMS:
            raise web.HTTPNotFound(text=json.dumps({"error": f"no pipeline stream {s}"}),
                                   content_type="application/json")
        return DeadLetters(self.sync, s)

    async def dlq_list(self, request: web.Request) -> web.Response:
        out = []
        for s in keys.DLQ_STREAMS:
            dl = DeadLetters(self.sync, s)
            entries = await asyncio.to_thread(dl.list, 100)
            out.append({"stream": s, "dlq": dl.dlq, "length": await asyncio.to_thread(dl.count),
                        "entries": [e.summary() for e in entries]})
        return _json({"dead_letters": out})

    async def _ids(self, request: web.Request) -> list[str] | None:
        if not request.can_read_body:
            return None
        return self._ids_of(await read_json(request))

    @staticmethod
    def _ids_of(body: Any) -> list[str] | None:
        ids = body.get("ids") if isinstance(body, dict) else None
        if ids is None:
            return None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise web.HTTPUnprocessableEntity(
                text=json.dumps({"error": "ids must be a list of entry IDs"}),
                content_type="application/json")
        return ids

    async def dlq_redrive(self, request: web.Request) -> web.Response:
        dl = self._dlq(request)
        body = await read_json(request) if request.can_read_body else None
        group = body.get("group") if isinstance(body, dict) else None
        if group is not None and (not isinstance(group, str)
                                  or (dl.stream, group) not in keys.SUBSCRIPTIONS):
            return error(422, "invalid redrive", [{"field": "group", "message":
                         f"a consumer group of {dl.stream}: " + ", ".join(
                             g for s, g in keys.SUBSCRIPTIONS if s == dl.stream)}])
        ids = self._ids_of(body)
        new_ids = await asyncio.to_thread(dl.redrive, ids, None, None, group)
        return _json({"stream": dl.stream, "redriven": len(new_ids), "new_ids": new_ids,
                      "group": group, "left": await asyncio.to_thread(dl.count)})

    async def dlq_purge(self, request: web.Request) -> web.Response:
        dl = self._dlq(request)
        ids = await self._ids(request)
        n = await asyncio.to_thread(dl.purge, ids)
        return _json({"stream": dl.stream, "purged": n})

    # ------------------------------------------------------------ gateway
    async def gateway_get(self, request: web.Request) -> web.Response:
        return _json((await read_settings(self.r)).as_dict())

    async def gateway_put(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return error(422, "send an object")
        s = await read_settings(self.r)
        errs = []
        for k in body:
            if k not in ("latency_ms", "transient_failure_rate", "outage"):
                errs.append({"field": k, "message": "unknown field"})
        lat = body.get("latency_ms", s.latency_ms)
        rate = body.get("transient_failure_rate", s.transient_failure_rate)
        outage = body.get("outage", s.outage)
        if isinstance(lat, bool) or not isinstance(lat, int) or not 0 <= lat <= 60_000:
            errs.append({"field": "latency_ms", "message": "an integer from 0 to 60000"})
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            errs.append({"field": "transient_failure_rate", "message": "a number from 0 to 1"})
        if not isinstance(outage, bool):
            errs.append({"field": "outage", "message": "true or false"})
        if errs:
            return error(422, "invalid gateway settings", errs)
        new = GatewaySettings(int(lat), float(rate), bool(outage))
        await write_settings(self.r, new)
        return _json(new.as_dict())

    # ------------------------------------------------------------ demo traffic
    async def demo_get(self, request: web.Request) -> web.Response:
        return _json(self.demo.as_dict())

    async def demo_put(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return error(422, "send an object")
        errs = [{"field": k, "message": "unknown field"} for k in body
                if k not in ("paused", "rate")]
        paused = body.get("paused")
        rate = body.get("rate")
        if paused is not None and not isinstance(paused, bool):
            errs.append({"field": "paused", "message": "true or false"})
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)
                                 or not 0 <= rate <= MAX_RATE):
            errs.append({"field": "rate", "message": f"a number from 0 to {MAX_RATE:g}"})
        if errs:
            return error(422, "invalid demo settings", errs)
        await self.demo.update(paused=paused, rate=rate)
        return _json(self.demo.as_dict())

    # ------------------------------------------------------------ dashboard
    async def page(self, request: web.Request) -> web.Response:
        html = resources.files("streamlite.apps").joinpath("static/dashboard.html").read_text(
            encoding="utf-8")
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def snapshot(self, request: web.Request) -> web.Response:
        return _json(await self.dashboard.snapshot())

    async def sse(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        agen = self.broadcaster.subscribe()
        try:
            async for snap in agen:
                data = json.dumps(snap, ensure_ascii=False, separators=(",", ":"))
                await resp.write(f"event: snapshot\ndata: {data}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                await agen.aclose()
        return resp

    async def healthz(self, request: web.Request) -> web.Response:
        await self.r.ping()
        return _json({"ok": True})


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.content_type == "application/json" or not request.path.startswith("/api/"):
            raise
        return error(e.status, e.reason)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as e:  # e.g. the backend went away: say so, as JSON
        log.exception("%s %s failed", request.method, request.path)
        return error(503 if isinstance(e, RedisError) else 500,
                     f"{type(e).__name__}: {e}")


def make_web_app(api: Api) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[json_errors])
    a = api
    app.router.add_get("/", a.page)
    app.router.add_get("/healthz", a.healthz)
    app.router.add_post("/api/orders", a.create)
    app.router.add_get("/api/orders", a.list_orders)
    app.router.add_get("/api/orders/{id}", a.get)
    app.router.add_get("/api/orders/{id}/events", a.events)
    app.router.add_post("/api/orders/{id}/cancel", a.cancel)
    app.router.add_post("/api/order-status", a.status)
    app.router.add_get("/api/products", a.products)
    app.router.add_post("/api/products/{sku}/restock", a.restock)
    app.router.add_get("/api/ranking", a.ranking)
    app.router.add_get("/api/analytics", a.analytics)
    app.router.add_get("/api/alerts", a.alerts)
    app.router.add_get("/api/dlq", a.dlq_list)
    app.router.add_post("/api/dlq/{stream}/redrive", a.dlq_redrive)
    app.router.add_post("/api/dlq/{stream}/purge", a.dlq_purge)
    app.router.add_get("/api/gateway", a.gateway_get)
    app.router.add_put("/api/gateway", a.gateway_put)
    app.router.add_get("/api/demo", a.demo_get)
    app.router.add_put("/api/demo", a.demo_put)
    app.router.add_get("/api/dashboard", a.snapshot)
    app.router.add_get("/api/dashboard/events", a.sse)
    app.router.add_get("/api/history", a.ops.history)
    app.router.add_get("/static/{name:.+}", serve_static)
    app.router.add_get("/favicon.ico", favicon)
    add_ops_routes(app, a.ops, "/ops")
    return app
