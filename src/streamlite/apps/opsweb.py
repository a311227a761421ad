"""The operations dashboard: every stream and group of any deployment, over time.

``streamlite dashboard --url URL`` serves it on its own (embedded directory, server,
Redis, Redis Cluster); ``streamlite run`` mounts it at ``/ops/`` next to the order views.
The data comes from a :class:`~.monitor.Monitor` (XINFO polling, bounded cost); the page
(``static/ops.html``) draws it with uPlot. Routes, under the mount point::

    GET  /                       the page
    GET  /api/info               target URL (without password), read-only, interval
    GET  /api/overview           streams, groups, consumers, DLQs: the latest sample
    GET  /api/history?seconds=N  every series over the last N seconds (columns)
    GET  /api/pending?stream=&group=&consumer=[&count=]   a consumer's pending entries
    GET  /api/dlq?stream=[&count=]                        a stream's dead letters
    POST /api/dlq/redrive  {"stream", "ids"?, "group"?}   (all of the group's if no ids)
    POST /api/dlq/purge    {"stream", "ids"?}             (all if no ids)

Access: loopback only unless bound elsewhere, and then every request needs the token
(``?token=`` on the page's URL, which the page sends back as ``X-Streamlite-Token``).
``--read-only`` refuses the two POSTs (403).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import re
import secrets
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from streamlite.events import DeadLetters

from .monitor import Monitor

TOKEN_HEADER = "X-Streamlite-Token"
_ENTRY_ID = re.compile(r"^\d+(-\d+)?$")
MAX_COUNT = 1000


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _error(status: int, message: str, details: list[dict[str, str]] | None = None
           ) -> web.Response:
    return _json({"error": message, "details": details or []}, status)


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def redact(url: str) -> str:
    """``url`` without its password (shown on the page)."""
    try:
        u = urlsplit(url)
    except ValueError:
        return url
    if u.password is None:
        return url
    host = u.hostname or ""
    netloc = f"{u.username or ''}:***@{host}" + (f":{u.port}" if u.port else "")
    return urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def static_file(name: str) -> bytes:
    return (resources.files("streamlite.apps") / "static" / name).read_bytes()


_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
          ".html": "text/html", ".txt": "text/plain"}


async def serve_static(request: web.Request) -> web.Response:
    """``static/<name>`` and ``static/vendor/<name>`` from the package (no directory
    listing, no ``..``)."""
    name = request.match_info["name"]
    if not re.fullmatch(r"(vendor/)?[A-Za-z0-9_.-]+", name) or ".." in name:
        raise web.HTTPNotFound()
    try:
        body = static_file(name)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise web.HTTPNotFound() from None
    ext = name[name.rfind("."):]
    return web.Response(body=body, content_type=_TYPES.get(ext, "application/octet-stream"),
                        headers={"Cache-Control": "max-age=300"})


async def favicon(request: web.Request) -> web.Response:
    return web.Response(body=static_file("favicon.svg"), content_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})


class OpsApi:
    def __init__(self, monitor: Monitor, sync: Any, *, target: str = "",
                 read_only: bool = False) -> None:
        self.monitor = monitor
        self.sync = sync  # a sync client (DeadLetters)
        self.target = redact(target)
        self.read_only = read_only

    async def page(self, request: web.Request) -> web.Response:
        if not request.path.endswith("/"):  # relative URLs of the page need the slash
            raise web.HTTPFound(request.path + "/" + (f"?{request.query_string}"
                                                      if request.query_string else ""))
        return web.Response(body=static_file("ops.html"), content_type="text/html",
                            charset="utf-8")

    async def info(self, request: web.Request) -> web.Response:
        return _json({"target": self.target, "read_only": self.read_only,
                      "interval_s": self.monitor.interval_s})

    async def overview(self, request: web.Request) -> web.Response:
        if not self.monitor.latest:
            await self.monitor.sample()
        return _json(self.monitor.latest)

    async def history(self, request: web.Request) -> web.Response:
        try:
            seconds = float(request.query.get("seconds", "900"))
        except ValueError:
            return _error(422, "invalid query", [{"field": "seconds",
                                                  "message": "a number of seconds"}])
        seconds = max(10.0, min(seconds, self.monitor.coarse_s))
        return _json(self.monitor.history(seconds))

    def _known_stream(self, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise web.HTTPUnprocessableEntity(
                text=json.dumps({"error": "invalid request", "details": [
                    {"field": "stream", "message": "a stream name"}]}),
                content_type="application/json")
        return name

    def _count(self, request: web.Request) -> int:
        try:
            return max(1, min(MAX_COUNT, int(request.query.get("count", "100"))))
        except ValueError:
            return 100

    async def pending(self, request: web.Request) -> web.Response:
        q = request.query
        stream = self._known_stream(q.get("stream"))
        group, consumer = q.get("group", ""), q.get("consumer", "")
        if not group or not consumer:
            return _error(422, "invalid request", [
                {"field": f, "message": "required"} for f in ("group", "consumer")
                if not q.get(f)])
        rows = await self.monitor.r.xpending_range(stream, group, min="-", max="+",
                                                   count=self._count(request),
                                                   consumername=consumer)
        return _json({"stream": stream, "group": group, "consumer": consumer,
                      "entries": [{"id": _s(x["message_id"]),
                                   "idle_ms": int(x["time_since_delivered"]),
                                   "deliveries": int(x["times_delivered"])} for x in rows]})

    async def dlq(self, request: web.Request) -> web.Response:
        stream = self._known_stream(request.query.get("stream"))
        dl = DeadLetters(self.sync, stream)
        count = self._count(request)
        entries = await asyncio.to_thread(dl.list, count)
        return _json({"stream": stream, "dlq": dl.dlq,
                      "length": await asyncio.to_thread(dl.count),
                      "entries": [e.summary() for e in entries]})

    async def _body(self, request: web.Request) -> tuple[DeadLetters, list[str] | None,
                                                         dict[str, Any]]:
        if self.read_only:
            raise web.HTTPForbidden(text=json.dumps({"error": "this dashboard is read-only"}),
                                    content_type="application/json")
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise web.HTTPUnprocessableEntity(
                text=json.dumps({"error": "send a JSON object"}), content_type="application/json")
        stream = self._known_stream(body.get("stream"))
        ids = body.get("ids")
        errs = []
        if ids is not None and (not isinstance(ids, list)
                                or not all(isinstance(i, str) and _ENTRY_ID.match(i)
                                           for i in ids)):
            errs.append({"field": "ids", "message": "a list of entry IDs (1718000000000-0)"})
        group = body.get("group")
        if group is not None and (not isinstance(group, str) or not group):
            errs.append({"field": "group", "message": "a consumer group name"})
        if errs:
            raise web.HTTPUnprocessableEntity(
                text=json.dumps({"error": "invalid request", "details": errs}),
                content_type="application/json")
        return DeadLetters(self.sync, stream), ids, body

    async def dlq_redrive(self, request: web.Request) -> web.Response:
        dl, ids, body = await self._body(request)
        group = body.get("group")
        new_ids = await asyncio.to_thread(dl.redrive, ids, None, None, group)
        return _json({"stream": dl.stream, "redriven": len(new_ids), "new_ids": new_ids,
                      "group": group, "left": await asyncio.to_thread(dl.count)})

    async def dlq_purge(self, request: web.Request) -> web.Response:
        dl, ids, _ = await self._body(request)
        n = await asyncio.to_thread(dl.purge, ids)
        return _json({"stream": dl.stream, "purged": n})


def add_routes(app: web.Application, api: OpsApi, prefix: str = "") -> None:
    """The page and its API under ``prefix`` (``""`` or ``/ops``)."""
    app.router.add_get(f"{prefix}/", api.page)
    if prefix:
        app.router.add_get(prefix, api.page)
    app.router.add_get(f"{prefix}/api/info", api.info)
    app.router.add_get(f"{prefix}/api/overview", api.overview)
    app.router.add_get(f"{prefix}/api/history", api.history)
    app.router.add_get(f"{prefix}/api/pending", api.pending)
    app.router.add_get(f"{prefix}/api/dlq", api.dlq)
    app.router.add_post(f"{prefix}/api/dlq/redrive", api.dlq_redrive)
    app.router.add_post(f"{prefix}/api/dlq/purge", api.dlq_purge)
    app.router.add_get(f"{prefix}/static/{{name:.+}}", serve_static)


def token_middleware(token: str) -> Any:
    """Every request carries ``token`` (header or ``?token=``), except the page's own
    scripts, styles and icon (files of the package, no data: the page loads them by
    plain ``<script src>``)."""

    @web.middleware
    async def check(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/favicon.ico" or request.path.startswith("/static/"):
            return await handler(request)  # type: ignore[no-any-return]
        given = request.headers.get(TOKEN_HEADER) or request.query.get("token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _error(401, "a token is needed: open the URL `streamlite dashboard` "
                               "printed (with ?token=...)")
        return await handler(request)  # type: ignore[no-any-return]

    return check


def make_app(api: OpsApi, token: str | None = None) -> web.Application:
    app = web.Application(middlewares=[token_middleware(token)] if token else [])
    add_routes(app, api)
    app.router.add_get("/favicon.ico", favicon)
    return app


def new_token() -> str:
    return secrets.token_urlsafe(18)
