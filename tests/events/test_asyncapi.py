"""AsyncAPI 3.0 documents: channels, messages, payload schemas, operations, servers;
the JSON Schema converter without pydantic; ``streamlite docs`` (JSON and HTML)."""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from typing import Any, Literal, TypedDict

import pytest

from streamlite.events import App
from streamlite.events.asyncapi import (
    SchemaBuilder,
    _server,
    build_document,
    json_schema,
    render_html,
)

from .asyncapi_app import app

KEY = re.compile(r"^[\w\d.\-_]+$")


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return out + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert part in node, f"{ref}: no {part!r}"
        node = node[part]
    return node


def test_document_shape_and_references() -> None:
    doc = build_document(app, title="Shop", version="2.1.0")
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"] == {"title": "Shop", "version": "2.1.0"}
    assert doc["servers"]["default"] == {"host": "cache.internal:6380", "protocol": "redis",
                                         "pathname": "/0"}
    assert doc["defaultContentType"] == "application/json"
    for r in refs(doc):  # every reference resolves inside the document
        resolve(doc, r)
    for section in ("channels", "operations"):
        assert all(KEY.match(k) for k in doc[section])
    for section in doc["components"].values():
        assert all(KEY.match(k) for k in section)
    for op in doc["operations"].values():
        assert op["action"] in ("send", "receive")
        ch = op["channel"]["$ref"]
        for m in op["messages"]:  # 3.0: an operation's messages are its channel's
            assert m["$ref"].startswith(ch + "/messages/")


def test_channels_messages_and_schemas() -> None:
    doc = build_document(app)
    ch = doc["channels"]["orders"]
    assert ch["address"] == "orders"
    # handlers' event types, and the publisher's (an OrderCreated published without an
    # event type is typed by its class name)
    assert set(ch["messages"]) == {"ORDER_CREATED", "ORDER_SHIPPED", "any", "OrderCreated"}
    msg = resolve(doc, ch["messages"]["ORDER_CREATED"]["$ref"])
    assert msg["name"] == "ORDER_CREATED" and msg["contentType"] == "application/json"
    order = resolve(doc, msg["payload"]["$ref"])
    assert order["required"] == ["order_id", "currency"]
    assert set(order["properties"]) == {"order_id", "currency", "lines", "note"}
    assert order["description"] == "An order was placed."
    schemas = doc["components"]["schemas"]
    assert "Line" in schemas and "Currency" in schemas
    shipped = resolve(doc, resolve(doc, ch["messages"]["ORDER_SHIPPED"]["$ref"])["payload"]
                      ["$ref"])
    assert resolve(doc, shipped["properties"]["to"]["$ref"])["properties"]["city"]
    assert resolve(doc, ch["messages"]["any"]["$ref"])["payload"] == {}
    ledger = doc["channels"]["_bank_.ledger"]
    assert ledger["address"] == "{bank:p{partition}}.ledger"
    assert ledger["parameters"]["partition"]["enum"] == ["0", "1", "2", "3"]


def test_operations() -> None:
    ops = build_document(app)["operations"]
    bill = ops["billing.bill"]
    assert bill["action"] == "receive" and bill["description"] == \
        "Bill the order and send the invoice."
    x = bill["x-streamlite"]
    assert x["group"] == "billing" and x["idempotent"] is True
    assert x["rate_limit"] == {"count": 50.0, "per_s": 1.0, "burst": 1}
    assert x["time_limit_s"] == 2.5 and x["retry"]["max_deliveries"] == 5
    assert ops["ledger.post"]["x-streamlite"]["partitions"] == 4
    sends = {k: v for k, v in ops.items() if v["action"] == "send"}
    assert {v["channel"]["$ref"] for v in sends.values()} == {"#/channels/invoices",
                                                             "#/channels/orders"}
    inv = next(v for v in sends.values() if v["channel"]["$ref"] == "#/channels/invoices")
    assert inv["description"] == "Bill the order and send the invoice."


class Color(enum.Enum):
    RED = 1


class TD(TypedDict):
    a: int
    b: list[str]


@dataclasses.dataclass
class Node:
    name: str
    children: list[Node] = dataclasses.field(default_factory=list)
    color: Color | None = None
    tag: Literal["x", "y"] = "x"
    extra: dict[str, float] = dataclasses.field(default_factory=dict)
    td: TD | None = None


def test_json_schema_without_pydantic() -> None:
    b = SchemaBuilder()
    assert json_schema(Node, b) == {"$ref": "#/components/schemas/Node"}
    node = b.components["Node"]
    assert node["required"] == ["name"]
    p = node["properties"]
    assert p["children"] == {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
    assert p["color"] == {"anyOf": [{"$ref": "#/components/schemas/Color"}, {"type": "null"}]}
    assert p["tag"] == {"enum": ["x", "y"]}
    assert p["extra"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert b.components["TD"]["required"] == ["a", "b"]
    assert b.components["Color"]["enum"] == [1]
    assert json_schema(Any) == {} and json_schema(int) == {"type": "integer"}
    assert json_schema(tuple[int, str]) == {"type": "array", "additionalItems": False,
                                            "items": [{"type": "integer"},
                                                      {"type": "string"}]}
    assert json_schema(tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://h:1/2", {"host": "h:1", "protocol": "redis", "pathname": "/2"}),
    ("rediss://h", {"host": "h", "protocol": "rediss"}),
    ("redis+cluster://a:7000,b:7001", {"host": "a:7000,b:7001", "protocol": "redis",
                                       "description": "Redis Cluster (seed nodes)"}),
])
def test_servers(url: str, expected: dict[str, Any]) -> None:
    assert _server(url) == expected
    assert _server("streamlite:///var/data")["pathname"] == "/var/data"


def test_cli_json_and_html(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from streamlite.cli import main

    out, page = tmp_path / "asyncapi.json", tmp_path / "asyncapi.html"
    assert main(["docs", "tests.events.asyncapi_app:app", "--out", str(out), "--html",
                 str(page), "--title", "Shop"]) == 0
    doc = json.loads(out.read_text())
    assert doc["info"]["title"] == "Shop" and "billing.bill" in doc["operations"]
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "billing.bill" in text
    assert "<script" not in text  # self-contained
    assert main(["docs", "tests.events.asyncapi_app:app"]) == 0
    assert json.loads(capsys.readouterr().out)["asyncapi"] == "3.0.0"
    assert main(["docs", "tests.events.nope:app"]) == 2


def test_empty_app_and_html_escaping() -> None:
    a = App("streamlite://")
    a.publishes("<x>", dict, event="E&")
    doc = build_document(a, description="<b>")
    assert "<x>" not in render_html(doc).replace("&lt;x&gt;", "")


def test_served_page_and_document() -> None:
    import threading
    import urllib.error
    import urllib.request

    from streamlite.events.asyncapi import make_server

    doc = build_document(app)
    srv = make_server(doc, 0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/asyncapi.json", timeout=10) as r:
            assert json.loads(r.read()) == doc
        with urllib.request.urlopen(f"{base}/", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/html")
            assert b"billing.bill" in r.read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/nope", timeout=10)
    finally:
        srv.shutdown()
        srv.server_close()
