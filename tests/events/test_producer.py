"""Producers: envelope, codecs, models, headers, batches, retention, idempotent publish."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

from streamlite.events import AsyncProducer, Event, Message, Producer, Retention
from streamlite.events.keys import colocated, key_slot


@dataclass
class OrderCreated:
    order_id: int
    amount: float


class Shipped(BaseModel):
    __event_type__ = "ORDER_SHIPPED"
    order_id: int
    carrier: str


def entries(rc: Any, stream: str) -> list[Message]:
    return [Message.from_entry(stream, i, f) for i, f in rc.xrange(stream)]


def test_envelope_dict_dataclass_pydantic(backend, rc):
    p = Producer(backend.url)
    i1 = p.publish("orders", {"order_id": 1}, event_type="ORDER_CREATED",
                   headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    i2 = p.publish("orders", OrderCreated(2, 9.5))
    i3 = p.publish("orders", Shipped(order_id=3, carrier="ups"))
    ms = entries(rc, "orders")
    assert [m.id for m in ms] == [i1, i2, i3]
    assert [m.event_type for m in ms] == ["ORDER_CREATED", "OrderCreated", "ORDER_SHIPPED"]
    assert ms[0].headers == {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    assert ms[1].headers == {}
    assert ms[1].payload() == {"order_id": 2, "amount": 9.5}
    assert ms[2].payload() == {"order_id": 3, "carrier": "ups"}
    assert len({m.event_id for m in ms}) == 3
    assert all(m.content_type == "application/json" for m in ms)
    assert all(abs(m.timestamp_ms - int(m.id.split("-")[0])) < 5000 for m in ms)
    raw = rc.xrange("orders")[0][1]
    assert json.loads(raw[b"data"]) == {"order_id": 1}
    p.close()


def test_msgpack_codec_roundtrip(backend, rc):
    p = Producer(backend.url, codec="msgpack")
    p.publish("s", {"a": [1, 2, {"b": b"\x00\xff"}]}, event_type="T")
    (m,) = entries(rc, "s")
    assert m.content_type == "application/msgpack"
    assert m.payload() == {"a": [1, 2, {"b": b"\x00\xff"}]}


def test_foreign_entries_are_readable(backend, rc):
    rc.xadd("orders", {"eventType": "ORDER_COMPLETED", "orderId": "101", "userId": "123"})
    (m,) = entries(rc, "orders")
    assert m.event_type == "ORDER_COMPLETED"
    assert m.payload() == {"eventType": "ORDER_COMPLETED", "orderId": "101", "userId": "123"}
    assert m.event_id == m.id


def test_publish_many_pipelined(backend, rc):
    p = Producer(backend.url)
    ids = p.publish_many("bulk", [{"n": i} for i in range(2500)], chunk=1000)
    assert len(ids) == 2500 and len(set(ids)) == 2500
    assert rc.xlen("bulk") == 2500
    ids2 = p.publish_many("bulk", [Event({"n": 1}, event_type="X", headers={"h": "v"})])
    (m,) = [Message.from_entry("bulk", i, f) for i, f in rc.xrange("bulk", ids2[0], ids2[0])]
    assert m.event_type == "X" and m.headers == {"h": "v"}


def test_retention_maxlen_and_minid(backend, rc):
    p = Producer(backend.url, retention={"capped": Retention(maxlen=10, approximate=False),
                                         "aged": Retention(max_age_ms=60_000,
                                                           approximate=False)})
    for i in range(25):
        p.publish("capped", {"i": i})
    assert rc.xlen("capped") == 10
    rc.xadd("aged", {"old": "1"}, id="1000-0")
    p.publish("aged", {"new": 1})
    assert rc.xlen("aged") == 1  # the entry from 1970 is older than 60 s
    approx = Producer(backend.url, retention=Retention(maxlen=10))
    for i in range(300):
        approx.publish("approx", {"i": i})
    assert 10 <= rc.xlen("approx") < 300


@pytest.mark.parametrize("native", [None, False])
def test_idempotent_publish_dedups(backend, rc, native):
    p = Producer(backend.url, producer_id="billing-1", native_idempotency=native)
    a = p.publish("pay", {"amount": 100}, idempotency_key="payment-abc")
    b = p.publish("pay", {"amount": 200}, idempotency_key="payment-abc")
    c = p.publish("pay", {"amount": 300}, idempotency_key="payment-def")
    assert a == b != c
    assert rc.xlen("pay") == 2
    assert entries(rc, "pay")[0].payload() == {"amount": 100}
    # another producer id is another namespace
    q = Producer(backend.url, producer_id="billing-2", native_idempotency=p.native_idempotency)
    assert q.publish("pay", {"amount": 1}, idempotency_key="payment-abc") != a
    # batches dedup too, against earlier publishes and inside the batch
    ids = p.publish_many("pay", [Event({"n": 1}, idempotency_key="payment-abc"),
                                 Event({"n": 2}, idempotency_key="payment-xyz"),
                                 Event({"n": 3}, idempotency_key="payment-xyz")])
    assert ids[0] == a and ids[1] == ids[2]
    assert rc.xlen("pay") == 4
    if p.native_idempotency is False:
        # the fallback's marker lives in the stream's slot, with a TTL
        marker = colocated("pay", ":idmp:billing-1:payment-abc")
        assert key_slot(marker) == key_slot("pay")
        assert 0 < rc.pttl(marker) <= 3_600_000


def test_async_producer(backend, rc):
    async def go() -> list[str]:
        p = AsyncProducer(backend.url, producer_id="p", native_idempotency=False)
        one = await p.publish("a", OrderCreated(1, 1.0), headers={"traceparent": "t"})
        many = await p.publish_many("a", [{"i": i} for i in range(50)])
        dup = await p.publish("a", {"x": 1}, idempotency_key="k")
        dup2 = await p.publish("a", {"x": 2}, idempotency_key="k")
        assert dup == dup2
        await p.aclose()
        return [one, *many]

    ids = asyncio.run(go())
    assert rc.xlen("a") == 52
    assert entries(rc, "a")[0].headers == {"traceparent": "t"}
    assert len(ids) == 51


def test_partitioned_publish_routes_by_key(backend, rc):
    from streamlite.events import partition_for

    p = Producer(backend.url)
    for k in ["a", "b", "c", "a"]:
        p.publish_partitioned("acct", k, {"k": k}, partitions=4)
    ia = partition_for("a", 4)
    ms = entries(rc, f"acct:p{ia}")
    assert [m.payload()["k"] for m in ms if m.payload()["k"] == "a"] == ["a", "a"]
    assert all(m.headers["partition-key"] in "abc" for m in ms)
