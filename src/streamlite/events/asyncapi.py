"""AsyncAPI 3.0 documents from an :class:`~.app.App`: ``streamlite docs module:app``.

::

    streamlite docs shop.workers:app --out asyncapi.json            # the document
    streamlite docs shop.workers:app --out asyncapi.json --html asyncapi.html
    streamlite docs shop.workers:app --serve 8000                   # browse it

How an app maps onto `AsyncAPI 3.0 <https://www.asyncapi.com/docs/reference/specification/v3.0.0>`_:

* a **channel** per stream (``address`` = the stream name; a partitioned stream is one
  channel whose address is ``<stream>:p{partition}``, the ``partition`` parameter being
  ``0..N-1``; a stream with a hash tag gets the partition inside the tag, as
  :func:`~.keys.partition_stream` names it);
* a **message** per event type on the channel (``name`` = the event type, ``*`` =
  any type), its ``payload`` the JSON Schema of the handler's payload annotation
  (pydantic models, dataclasses, TypedDicts, ``list[...]``, ``Optional``, enums...;
  an unannotated payload is ``{}``), its ``headers`` the envelope's headers object;
* a ``receive`` **operation** per handler (id ``<group>.<function>``; its docstring is
  the description; ``x-streamlite`` carries the group, idempotency, retry policy,
  rate and time limits), a ``send`` operation per publisher declared with
  :meth:`App.publishes <.app.App.publishes>`;
* a **server** from the app's URL (protocol ``redis``; the embedded engine is
  described as such, it has no host of its own).

Schemas come from pydantic's ``TypeAdapter`` when pydantic is installed (the richest
output), else from a small converter for the standard types (:func:`json_schema`).
The HTML rendering (:func:`render_html`) is one self-contained page (no scripts from
a CDN), so it can be published as a build artefact.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import enum
import html
import inspect
import json
import re
import sys
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

ASYNCAPI_VERSION = "3.0.0"
_ID = re.compile(r"[^A-Za-z0-9_.\-]")


def _id(text: str) -> str:
    """A component/channel/operation key (``^[\\w\\d.\\-_]+$``) for any name."""
    return _ID.sub("_", text) or "_"


@dataclass
class PublisherSpec:
    """A documented publisher: ``app.publishes(stream, payload_type, event=...)``."""

    stream: str
    payload: Any = None
    event: str | None = None
    description: str | None = None
    name: str | None = None


# ------------------------------------------------------------------------ schemas
class SchemaBuilder:
    """JSON Schemas (draft 7 / AsyncAPI schema objects) of Python types; named types
    (models, dataclasses, enums, TypedDicts) go to ``components/schemas``."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        try:
            import pydantic
        except ImportError:  # pragma: no cover - pydantic is a test dependency
            pydantic = None  # type: ignore[assignment]
        self._pydantic = pydantic

    def ref(self, name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{_id(name)}"}

    def schema(self, tp: Any) -> dict[str, Any]:
        if tp is None or tp is Any or tp is object or tp is inspect.Parameter.empty:
            return {}
        if self._pydantic is not None:
            try:
                return self._with_pydantic(tp)
            except Exception:  # a type pydantic cannot describe: the plain converter
                pass
        return json_schema(tp, self)

    def _with_pydantic(self, tp: Any) -> dict[str, Any]:
        assert self._pydantic is not None
        adapter = self._pydantic.TypeAdapter(tp)
        sch = adapter.json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in sch.pop("$defs", {}).items():
            self.components.setdefault(_id(name), sub)
        title = sch.get("title")
        if isinstance(tp, type) and sch.get("type") == "object" and isinstance(title, str):
            self.components.setdefault(_id(title), sch)
            return self.ref(title)
        return dict(sch)


_PRIMITIVES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"},
    bool: {"type": "boolean"}, bytes: {"type": "string", "contentEncoding": "base64"},
    type(None): {"type": "null"}, dict: {"type": "object"}, list: {"type": "array"},
    _dt.datetime: {"type": "string", "format": "date-time"},
    _dt.date: {"type": "string", "format": "date"},
    uuid.UUID: {"type": "string", "format": "uuid"},
}


def json_schema(tp: Any, builder: SchemaBuilder | None = None) -> dict[str, Any]:
    """The JSON Schema of a type, without pydantic (dataclasses, TypedDict, enums,
    unions, containers, literals, primitives)."""
    b = builder or SchemaBuilder()
    if tp is None or tp is Any or tp is object:
        return {}
    if tp in _PRIMITIVES:
        return dict(_PRIMITIVES[tp])
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is Union or origin is types.UnionType:
        return {"anyOf": [json_schema(a, b) for a in args]}
    if origin in (list, set, frozenset, tuple) or origin is typing.Sequence:
        out: dict[str, Any] = {"type": "array"}
        if args and not (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
            if origin is tuple:  # draft 7 (AsyncAPI 3.0's schema dialect): items list
                out["items"] = [json_schema(a, b) for a in args]
                out["additionalItems"] = False
            else:
                out["items"] = json_schema(args[0], b)
        elif args:
            out["items"] = json_schema(args[0], b)
        if origin in (set, frozenset):
            out["uniqueItems"] = True
        return out
    if origin is dict or origin is typing.Mapping:
        return {"type": "object",
                "additionalProperties": json_schema(args[1], b) if len(args) == 2 else {}}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        name = _id(tp.__name__)
        b.components.setdefault(name, {"title": tp.__name__,
                                       "enum": [m.value for m in tp]})
        return b.ref(name)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type) or typing.is_typeddict(tp):
        name = _id(tp.__name__)
        if name not in b.components:
            b.components[name] = {}  # placeholder: recursive types
            hints = typing.get_type_hints(tp)
            if dataclasses.is_dataclass(tp):
                fields = dataclasses.fields(tp)
                props = {f.name: json_schema(hints.get(f.name, Any), b) for f in fields}
                required = [f.name for f in fields
                            if f.default is dataclasses.MISSING
                            and f.default_factory is dataclasses.MISSING]
            else:
                props = {k: json_schema(v, b) for k, v in hints.items()}
                required = sorted(getattr(tp, "__required_keys__", hints))
            sch: dict[str, Any] = {"title": tp.__name__, "type": "object",
                                   "properties": props}
            if required:
                sch["required"] = required
            doc = inspect.getdoc(tp)
            if doc and not doc.startswith(f"{tp.__name__}("):
                sch["description"] = doc
            b.components[name] = sch
        return b.ref(name)
    return {}


# ------------------------------------------------------------------------ the document
def _server(url: str | None) -> dict[str, Any]:
    if not url:
        return {"host": "localhost:6379", "protocol": "redis",
                "description": "the app was given a client, not a URL"}
    if url.startswith("streamlite:"):
        path = url.split("://", 1)[-1] or "(in memory)"
        return {"host": "localhost", "protocol": "redis", "pathname": path,
                "description": f"embedded streamlite engine ({url}); other processes "
                               "attach through the directory's Unix socket"}
    from urllib.parse import urlsplit

    scheme, _, rest = url.partition("://")
    cluster = scheme.endswith("+cluster")
    if cluster:
        host = rest.split("/")[0].split("?")[0].split("@")[-1]
        return {"host": host, "protocol": "rediss" if scheme.startswith("rediss") else "redis",
                "description": "Redis Cluster (seed nodes)"}
    u = urlsplit(url)
    out = {"host": u.hostname + (f":{u.port}" if u.port else "") if u.hostname
           else "localhost", "protocol": "rediss" if u.scheme == "rediss" else "redis"}
    if u.scheme == "unix" or u.path and u.path != "/":
        out["pathname"] = u.path
    return out


HEADERS_SCHEMA = {
    "type": "object",
    "description": "The envelope's headers field (a JSON object of strings): W3C trace "
                   "context (traceparent, tracestate, baggage), correlation-id, "
                   "partition-key, and the application's own.",
    "additionalProperties": {"type": "string"},
}


def _doc(fn: Callable[..., Any]) -> str | None:
    return inspect.getdoc(fn) or None


def build_document(app: Any, *, title: str | None = None, version: str = "1.0.0",
                   description: str | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``app`` (a dict, ready for ``json.dumps``)."""
    from .codec import get_codec
    from .keys import dlq_stream, hash_tag

    b = SchemaBuilder()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    content_type = get_codec(app.codec).content_type

    def channel(stream: str, partitions: int | None = None) -> str:
        cid = _id(stream)
        if cid not in channels:
            ch: dict[str, Any] = {"address": stream, "messages": {}}
            if partitions is not None:
                if hash_tag(stream) is None:
                    ch["address"] = f"{stream}:p{{partition}}"
                else:
                    end = stream.index("}", stream.index("{") + 2)
                    ch["address"] = f"{stream[:end]}:p{{partition}}{stream[end:]}"
                ch["parameters"] = {"partition": {
                    "enum": [str(i) for i in range(partitions)],
                    "description": f"one of the {partitions} partitions (a key's events "
                                   "all go to one, in order)"}}
                ch["description"] = (f"partitioned stream {stream!r}: {partitions} "
                                     "partitions, per-key order")
            channels[cid] = ch
        return cid

    def message(cid: str, event: str, payload_tp: Any, summary: str | None = None) -> str:
        mid = _id(event if event != "*" else "any")
        ch = channels[cid]
        if mid not in ch["messages"]:
            comp = _id(f"{cid}.{mid}")
            msg: dict[str, Any] = {
                "name": event, "title": event if event != "*" else "any event type",
                "contentType": content_type, "payload": b.schema(payload_tp),
                "headers": HEADERS_SCHEMA,
            }
            if summary:
                msg["summary"] = summary
            messages[comp] = msg
            ch["messages"][mid] = {"$ref": f"#/components/messages/{comp}"}
        return f"#/channels/{cid}/messages/{mid}"

    def payload_type(spec: Any) -> Any:
        for kind, tp in spec.arg_kinds:
            if kind == "payload":
                return tp
        return None

    def receive(stream: str, group: str, opts: Any, handlers: dict[str, Any],
                partitions: int | None) -> None:
        cid = channel(stream, partitions)
        for event, spec in handlers.items():
            fn = spec.fn
            fname = getattr(fn, "__name__", "handler")
            op_id = _id(f"{group}.{fname}")
            while op_id in operations:
                op_id += "_"
            op: dict[str, Any] = {
                "action": "receive", "channel": {"$ref": f"#/channels/{cid}"},
                "messages": [{"$ref": message(cid, event, payload_type(spec))}],
                "summary": f"{fname}: {event if event != '*' else 'every event'} on "
                           f"{stream}, group {group}",
            }
            doc = _doc(getattr(fn, "__wrapped__", fn))
            if doc:
                op["description"] = doc
            r = opts.retry
            ext: dict[str, Any] = {
                "group": group, "idempotent": bool(spec.idempotent),
                "retry": {"max_deliveries": r.max_deliveries, "backoff_ms": r.backoff_ms,
                          "multiplier": r.multiplier, "max_backoff_ms": r.max_backoff_ms},
                "dead_letter_stream": opts.dead_letter_stream or dlq_stream(stream),
                "concurrency": opts.concurrency,
            }
            limits = getattr(fn, "__streamlite_limits__", None)
            if limits:
                ext.update(limits)
            if partitions is not None:
                ext["partitions"] = partitions
            op["x-streamlite"] = ext
            operations[op_id] = op

    for (stream, group), (opts, handlers) in app.subscriptions.items():
        receive(stream, group, opts, handlers, None)
    for sub in app.partitioned:
        receive(sub.stream, sub.group, sub.opts, sub.handlers, sub.partitions)
    from .codec import event_type_of

    for pub in getattr(app, "publishers", []):
        cid = channel(pub.stream)
        event = pub.event or (event_type_of(pub.payload) if isinstance(pub.payload, type)
                              and pub.payload not in (dict, Any) else "*")
        name = pub.name or f"publish.{event if event != '*' else 'any'}"
        op_id = _id(f"{name}.{pub.stream}")
        while op_id in operations:
            op_id += "_"
        op = {"action": "send", "channel": {"$ref": f"#/channels/{cid}"},
              "messages": [{"$ref": message(cid, event, pub.payload)}],
              "summary": f"publishes {event if event != '*' else 'events'} to {pub.stream}"}
        if pub.description:
            op["description"] = pub.description
        operations[op_id] = op

    info: dict[str, Any] = {"title": title or "streamlite.events app", "version": version}
    if description:
        info["description"] = description
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": content_type,
        "servers": {"default": _server(app.url)},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": b.components},
    }
    return doc


# ------------------------------------------------------------------------ HTML
_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}code,pre{font:13px ui-monospace,monospace}
pre{background:#f5f5f7;padding:.6rem;overflow:auto;border-radius:4px}
.op{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.tag{display:inline-block;border-radius:3px;padding:0 .4rem;color:#fff;font-size:12px;
font-weight:600;text-transform:uppercase}.receive{background:#2a7}.send{background:#27c}
.muted{color:#777}
"""


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def render_html(doc: dict[str, Any]) -> str:
    """One self-contained HTML page describing the document."""
    e = html.escape
    info = doc["info"]
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(info['title'])}"
           f"</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(info['title'])}</h1><p class='muted'>version {e(info['version'])} · "
           f"AsyncAPI {e(doc['asyncapi'])} · content type "
           f"<code>{e(doc.get('defaultContentType', ''))}</code></p>"]
    if info.get("description"):
        out.append(f"<p>{e(info['description'])}</p>")
    out.append("<h2>Servers</h2><ul>")
    for name, s in doc.get("servers", {}).items():
        out.append(f"<li><b>{e(name)}</b>: <code>{e(s['protocol'])}://{e(s['host'])}"
                   f"{e(s.get('pathname', ''))}</code> {e(s.get('description', ''))}</li>")
    out.append("</ul><h2>Operations</h2>")
    for op_id, op in doc.get("operations", {}).items():
        ch = _resolve(doc, op["channel"]["$ref"])
        out.append(f"<div class='op' id='{e(op_id)}'><span class='tag {e(op['action'])}'>"
                   f"{e(op['action'])}</span> <b><code>{e(ch['address'])}</code></b> "
                   f"<span class='muted'>{e(op_id)}</span><p>{e(op.get('summary', ''))}</p>")
        if op.get("description"):
            out.append(f"<p>{e(op['description'])}</p>")
        for mref in op.get("messages", []):
            m = _resolve(doc, mref["$ref"])
            if "$ref" in m:
                m = _resolve(doc, m["$ref"])
            out.append(f"<p>message <b>{e(m['name'])}</b> "
                       f"(<code>{e(m.get('contentType', ''))}</code>), payload:</p>"
                       f"<pre>{e(json.dumps(m.get('payload', {}), indent=2))}</pre>")
        if op.get("x-streamlite"):
            out.append(f"<details><summary>delivery settings</summary><pre>"
                       f"{e(json.dumps(op['x-streamlite'], indent=2))}</pre></details>")
        out.append("</div>")
    schemas = doc.get("components", {}).get("schemas", {})
    if schemas:
        out.append("<h2>Schemas</h2>")
        for name, sch in schemas.items():
            out.append(f"<h3 id='schema-{e(name)}'>{e(name)}</h3>"
                       f"<pre>{e(json.dumps(sch, indent=2))}</pre>")
    out.append("<h2>Document</h2><details><summary>asyncapi.json</summary><pre>"
               f"{e(json.dumps(doc, indent=2))}</pre></details></body></html>")
    return "\n".join(out)


# ------------------------------------------------------------------------ command line
def cmd_docs(args: argparse.Namespace) -> int:
    from .runner import load_app

    try:
        app = load_app(args.app)
    except (ValueError, ImportError) as exc:
        print(f"streamlite docs: {exc}", file=sys.stderr)
        return 2
    doc = build_document(app, title=args.title, version=args.version,
                         description=args.description)
    text = json.dumps(doc, indent=2)
    if args.out in (None, "-") and not args.html and args.serve is None:
        print(text)
    elif args.out not in (None, "-"):
        with open(args.out, "w") as f:
            f.write(text + "\n")
    if args.html:
        with open(args.html, "w") as f:
            f.write(render_html(doc))
    if args.serve is not None:
        serve(doc, args.serve, args.host)
    return 0


def serve(doc: dict[str, Any], port: int, host: str = "127.0.0.1") -> None:
    """Serve the HTML page at ``/`` and the document at ``/asyncapi.json`` (Ctrl-C)."""
    srv = make_server(doc, port, host)
    print(f"AsyncAPI docs on http://{host}:{srv.server_address[1]}/ "
          "(/asyncapi.json); Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


def make_server(doc: dict[str, Any], port: int, host: str = "127.0.0.1") -> Any:
    """The HTTP server of :func:`serve` (not started: ``serve_forever()``)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    page = render_html(doc).encode()
    body = json.dumps(doc, indent=2).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path in ("/", "/index.html"):
                data, ctype = page, "text/html; charset=utf-8"
            elif self.path == "/asyncapi.json":
                data, ctype = body, "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("docs", help="AsyncAPI 3.0 document of an App's handlers",
                              description="Write the AsyncAPI 3.0 document of module:app "
                                          "(channels, messages, payload schemas, operations).")
    p.add_argument("app", help="module:attribute of the App (attribute default: app)")
    p.add_argument("--out", "-o", default=None, help="write the JSON here (default: stdout)")
    p.add_argument("--html", default=None, metavar="FILE",
                   help="also write a self-contained HTML page")
    p.add_argument("--serve", type=int, default=None, metavar="PORT",
                   help="serve the HTML page and /asyncapi.json on PORT")
    p.add_argument("--host", default="127.0.0.1", help="address for --serve")
    p.add_argument("--title", default=None)
    p.add_argument("--version", default="1.0.0", help="the API's version (info.version)")
    p.add_argument("--description", default=None)
    p.set_defaults(func=cmd_docs)
