"""The seed documents' stream flows as redis-py call sequences, runnable sync or asyncio.

A scenario is a generator: it yields ``Call``s and gets back each call's result
(or the ``ResponseError`` it raised), so later calls can use earlier results.
``run_sync`` / ``run_async`` drive it against any redis-py client and return a
transcript of normalised results, so the same scenario on real Redis and on
embedded streamlite can be compared: generated stream IDs become ordinal tokens
(ID1, ID2, ... in order of first appearance), elapsed-time fields become
``<ms>`` and absolute times ``<time>``; everything else, error texts included, must be equal.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import ResponseError


@dataclass
class Call:
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"{self.method}{self.args!r}{self.kwargs or ''}"


def call(method: str, *args: Any, **kwargs: Any) -> Call:
    return Call(method, args, kwargs)


Scenario = Generator[Call, Any, None]

# -- normalisation -----------------------------------------------------------------

_ID = re.compile(r"^\d{12,}-\d+$")
# XINFO STREAM fields newer than the reference Redis 8.2 (IDMP, Redis 8.6; FULL's
# nacked-count, Redis 8.8): streamlite follows the newest Redis, so they are left out
# of the comparison
_NEWER_THAN_REFERENCE = {"idmp-duration", "idmp-maxsize", "pids-tracked", "iids-tracked",
                         "iids-added", "iids-duplicates", "nacked-count"}
_TIME_KEYS = {"idle", "inactive", "seen-time", "active-time", "time_since_delivered",
              "idle-time", "elapsed"}


class Normaliser:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def _id(self, s: str) -> str:
        tok = self.ids.get(s)
        if tok is None:
            tok = self.ids[s] = f"ID{len(self.ids) + 1}"
        return tok

    def __call__(self, v: Any, key: Any = None) -> Any:
        if isinstance(key, bytes):
            key = key.decode()
        if key in _TIME_KEYS and isinstance(v, int):
            return "<ms>"
        if type(v) is int and v >= 10**12:  # an absolute time (XINFO STREAM FULL deliveries)
            return "<time>"
        if isinstance(v, (bytes, str)):
            s = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            if _ID.match(s):
                tok = self._id(s)
                return tok.encode() if isinstance(v, bytes) else tok
            return v
        if isinstance(v, Exception):
            return ("error", type(v).__name__, str(v))
        if isinstance(v, dict):
            return {self(k): self(x, k) for k, x in v.items()
                    if (k.decode() if isinstance(k, bytes) else k) not in _NEWER_THAN_REFERENCE}
        if isinstance(v, (list, tuple)):
            out = []
            prev: Any = None
            for x in v:  # flat key/value lists (XINFO in RESP2 raw form)
                out.append(self(x, prev if isinstance(prev, (str, bytes)) else None))
                prev = x
            return type(v)(out) if isinstance(v, tuple) else out
        return v


def run_sync(r: Any, scenario: Scenario) -> list[tuple[str, Any]]:
    norm = Normaliser()
    transcript: list[tuple[str, Any]] = []
    value: Any = None
    try:
        while True:
            step = scenario.send(value)
            try:
                value = getattr(r, step.method)(*step.args, **step.kwargs)
            except ResponseError as e:
                value = e
            transcript.append((repr(step), norm(value)))
    except StopIteration:
        return transcript


async def run_async(r: Any, scenario: Scenario) -> list[tuple[str, Any]]:
    norm = Normaliser()
    transcript: list[tuple[str, Any]] = []
    value: Any = None
    try:
        while True:
            step = scenario.send(value)
            try:
                value = await getattr(r, step.method)(*step.args, **step.kwargs)
            except ResponseError as e:
                value = e
            transcript.append((repr(step), norm(value)))
    except StopIteration:
        return transcript


def first_ids(read_reply: Any) -> list[Any]:
    """The entry IDs in an XREAD/XREADGROUP reply, RESP2 (list) or RESP3 (dict) shape."""
    if not read_reply:
        return []
    streams = read_reply.values() if isinstance(read_reply, dict) else [
        s[1] for s in read_reply]
    ids = []
    for entries in streams:
        if isinstance(entries, list) and entries and isinstance(entries[0], list) \
                and len(entries) == 1 and entries[0] and isinstance(entries[0][0], (list, tuple)):
            entries = entries[0]
        for e in entries:
            ids.append(e[0])
    return ids


# -- seed 000: producer/consumer basics, consumer group, conditional publish --------


def seed_000() -> Scenario:
    s = "order-events"
    yield call("xadd", s, {"orderId": 101, "userId": 123})
    yield call("xadd", s, {"orderId": 101, "userId": 123, "amount": 50000})
    yield call("xadd", s, {"orderId": 102, "userId": 456}, id="1692345600123-0")  # too small
    yield call("xadd", s, {"orderId": 103, "userId": 789}, maxlen=1000, approximate=False)
    yield call("xadd", s, {"orderId": 104, "userId": 321}, maxlen=1000, approximate=True)
    yield call("xrange", s, "-", "+")
    yield call("xrange", s, "1692345600000", "1692345700000")
    yield call("xrange", s, "-", "+", count=10)
    yield call("xrevrange", s, "+", "-", count=5)
    yield call("xread", {s: "1692345600123-0"})
    yield call("xlen", s)
    yield call("xgroup_create", s, "processing-group", id="$", mkstream=True)
    yield call("xgroup_create", s, "processing-group", id="$", mkstream=True)  # BUSYGROUP
    yield call("xadd", s, {"orderId": 105, "userId": 1}, id="9999999999999-0")
    yield call("xadd", s, {"orderId": 106, "userId": 2}, id="9999999999999-1")
    read = yield call("xreadgroup", "processing-group", "consumer1", {s: ">"}, count=1)
    ids = first_ids(read)
    yield call("xpending", s, "processing-group")
    yield call("xclaim", s, "processing-group", "consumer2", 3600000, ids)  # not idle enough
    yield call("xclaim", s, "processing-group", "consumer2", 0, ids)
    yield call("xpending_range", s, "processing-group", "-", "+", 10)
    yield call("xack", s, "processing-group", *ids)
    yield call("xack", s, "processing-group", *ids)  # already acknowledged: 0
    yield call("xpending", s, "processing-group")
    yield call("xreadgroup", "processing-group", "consumer1", {s: ">"}, count=10)
    yield call("xreadgroup", "processing-group", "consumer1", {s: ">"}, count=10)  # empty
    yield call("xreadgroup", "processing-group", "consumer1", {s: "0"})  # its own PEL
    yield call("xreadgroup", "nogroup", "c", {s: ">"})  # NOGROUP
    # the document's conditional publish, as a Lua script
    script = (
        "local v = redis.call('GET', KEYS[2]) "
        "if v == 'true' then return redis.call('XADD', KEYS[1], ARGV[4], "
        "'eventType', ARGV[2], 'data', ARGV[1], 'timestamp', ARGV[3]) else return nil end"
    )
    args = ['{"id":1}', "ORDER_COMPLETED", "2024-01-01T00:00:00Z", "9999999999999-5"]
    yield call("eval", script, 2, s, "condition:vip", *args)
    yield call("set", "condition:vip", "true")
    yield call("eval", script, 2, s, "condition:vip", *args)
    yield call("xrevrange", s, "+", "-", count=1)


# -- seed 001: several producers, XINFO, two workers sharing a group -----------------

_ORDERS = [
    {"customer_id": 1001, "product": "iPhone 15", "quantity": 2, "price": 2400000,
     "timestamp": 1684567200},
    {"customer_id": 1002, "product": "Galaxy S24", "quantity": 1, "price": 1200000,
     "timestamp": 1684567260},
    {"customer_id": 1003, "product": "MacBook Pro", "quantity": 1, "price": 3500000,
     "timestamp": 1684567320},
    {"customer_id": 1001, "product": "AirPods Pro", "quantity": 1, "price": 350000,
     "timestamp": 1684567380},
    {"customer_id": 1004, "product": "iPad Air", "quantity": 2, "price": 1600000,
     "timestamp": 1684567440},
]


def seed_001() -> Scenario:
    for i, o in enumerate(_ORDERS):
        yield call("xadd", "orders", o, id=f"168456720{i}000-0")
    yield call("xadd", "orders", {"customer_id": 1005, "product": "Watch Series 9",
                                  "quantity": 1, "price": 600000, "status": "pending"},
               id="1684567500000-0")
    yield call("xrange", "orders", "-", "+")
    yield call("xrange", "orders", "-", "+", count=3)
    yield call("xrange", "orders", "1684567203000", "+")
    yield call("xlen", "orders")
    yield call("xinfo_stream", "orders")
    yield call("xadd", "payments", {"order_id": "ORD001", "customer_id": 1001,
                                    "amount": 2400000, "method": "card", "status": "completed"})
    yield call("xread", {"orders": "1684567204000-0", "payments": "0"})
    yield call("xgroup_create", "orders", "order-processors", id="0", mkstream=True)
    yield call("xgroup_create", "payments", "payment-processors", id="$", mkstream=True)
    yield call("xinfo_groups", "orders")
    yield call("xinfo_groups", "payments")
    yield call("xreadgroup", "order-processors", "worker-1", {"orders": ">"}, count=2)
    yield call("xpending", "orders", "order-processors")
    yield call("xpending_range", "orders", "order-processors", "-", "+", 10, "worker-1")
    yield call("xreadgroup", "order-processors", "worker-2", {"orders": ">"}, count=3)
    yield call("xinfo_consumers", "orders", "order-processors")
    yield call("xinfo_groups", "orders")
    yield call("xack", "orders", "order-processors", "1684567200000-0", "1684567202000-0")
    yield call("xpending", "orders", "order-processors")
    yield call("xinfo_stream", "orders", full=True)
    # the Korean order pipeline: UTF-8 values survive the round trip
    yield call("xadd", "order-received", {"order_id": "ORD-2024-001", "product_name": "삼성 갤럭시 북4",
                                          "shipping_address": "서울시 강남구"}, id="1716460200000-0")
    yield call("xgroup_create", "order-received", "order-intake-team", id="0", mkstream=True)
    yield call("xreadgroup", "order-intake-team", "intake-worker-1",
               {"order-received": ">"}, count=5)
    yield call("xpending", "order-received", "order-intake-team")


# -- seed 002: load balancing inside a group, acknowledgement ------------------------


def seed_002() -> Scenario:
    for i, amount in enumerate(("50000", "75000", "30000")):
        yield call("xadd", "orders", {"order_id": f"00{i + 1}", "user_id": f"user:{i}00",
                                      "amount": amount}, id=f"170531520{i}000-0")
    yield call("xgroup_create", "orders", "payment_group", id="0")
    yield call("xgroup_create", "orders", "notification_group", id="0")
    yield call("xreadgroup", "payment_group", "worker1", {"orders": ">"}, count=2)
    yield call("xreadgroup", "payment_group", "worker2", {"orders": ">"})
    yield call("xreadgroup", "notification_group", "n1", {"orders": ">"})  # fan-out
    yield call("xpending", "orders", "payment_group")
    yield call("xack", "orders", "payment_group", "1705315200000-0")
    yield call("xpending_range", "orders", "payment_group", "-", "+", 10, "worker1")
    yield call("xack", "orders", "payment_group", "1705315201000-0", "1705315202000-0")
    yield call("xpending", "orders", "payment_group")
    yield call("xinfo_groups", "orders")
    yield call("xgroup_destroy", "orders", "notification_group")
    yield call("xgroup_setid", "orders", "payment_group", "0")
    yield call("xreadgroup", "payment_group", "worker3", {"orders": ">"}, count=1)
    yield call("xgroup_delconsumer", "orders", "payment_group", "worker3")
    yield call("xinfo_consumers", "orders", "payment_group")


# -- seed 003: at-least-once, recovery of stuck messages, dead letters, trimming ------


def seed_003() -> Scenario:
    s, g = "orders", "order-workers"
    yield call("xgroup_create", s, g, id="$", mkstream=True)
    for i in range(1, 6):
        yield call("xadd", s, {"order_id": i, "status": "created"}, id=f"1700000000000-{i}",
                   maxlen=100000, approximate=True)
    yield call("xreadgroup", g, "consumer-a", {s: ">"}, count=3, block=10)
    yield call("xreadgroup", g, "consumer-b", {s: ">"}, count=10, block=10)
    yield call("xack", s, g, "1700000000000-4")
    # consumer-a restarts: it first reprocesses its own PEL
    yield call("xreadgroup", g, "consumer-a", {s: "0"}, count=10)
    yield call("xpending_range", s, g, "-", "+", 10)
    yield call("xclaim", s, g, "consumer-b", 0, ["1700000000000-1", "1700000000000-2"])
    yield call("xclaim", s, g, "consumer-b", 0, ["1700000000000-3"], justid=True)
    yield call("xautoclaim", s, g, "consumer-c", 0, start_id="0-0", count=2)
    yield call("xautoclaim", s, g, "consumer-c", 0, start_id="0-0", count=10, justid=True)
    yield call("xautoclaim", s, g, "consumer-c", 60000, start_id="0-0")
    # dead letters: after enough deliveries, move to the DLQ and acknowledge
    pending = yield call("xpending_range", s, g, "-", "+", 10)
    for n, p in enumerate(pending):
        mid = p["message_id"]
        if p["times_delivered"] >= 3:
            yield call("xadd", "orders:dlq", {"original_id": mid, "error": "too many deliveries"},
                       id=f"1700000000001-{n}")
            yield call("xack", s, g, mid)
    yield call("xpending", s, g)
    yield call("xrange", "orders:dlq", "-", "+")
    yield call("xtrim", s, maxlen=2, approximate=False)
    yield call("xadd", s, {"late": 1}, id="1700000000002-0", minid="1700000000000-5")
    yield call("xlen", s)
    yield call("xdel", s, "1700000000000-5")
    yield call("xinfo_stream", s)


# -- seed 004: email stream, groups needing the key, claims, dead-letter stream -------


def seed_004() -> Scenario:
    yield call("xadd", "Email", {"sender": "jaebin", "title": "hello"})
    yield call("xadd", "Email", {"sender": "minji", "title": "hi"}, id="1681219200000-1")
    yield call("xgroup_create", "emailStream", "emailGroup", id="$")  # no key, no MKSTREAM
    yield call("xgroup_create", "emailStream", "emailGroup", id="$", mkstream=True)
    yield call("xadd", "emailStream", {"to": "a@example.com"}, id="1685968917623-0")
    yield call("xreadgroup", "emailGroup", "consumer1", {"emailStream": ">"})
    yield call("xpending", "emailStream", "emailGroup")
    yield call("xclaim", "emailStream", "emailGroup", "otherConsumer", 0, ["1685968917623-0"])
    yield call("xautoclaim", "emailStream", "emailGroup", "myconsumer", 60000, start_id="0",
               count=10)
    yield call("xpending_range", "emailStream", "emailGroup", "-", "+", 10, "otherConsumer")
    yield call("xack", "emailStream", "emailGroup", "1685968917623-0")
    yield call("xadd", "deadLetterStream", {"reason": "consumer failed 3 times"},
               id="1685968917624-0")
    yield call("xinfo_stream", "Email")
    yield call("xinfo_groups", "emailStream")
    yield call("xinfo_consumers", "emailStream", "emailGroup")
    yield call("xreadgroup", "emailGroup", "consumer1", {"emailStream": ">"}, noack=True)
    yield call("xadd", "emailStream", {"to": "b@example.com"}, id="1685968917625-0")
    yield call("xreadgroup", "emailGroup", "consumer1", {"emailStream": ">"}, noack=True)
    yield call("xpending", "emailStream", "emailGroup")  # NOACK: nothing pending


SEEDS = {
    "000": (seed_000, ("XADD", "XRANGE", "XREVRANGE", "XREAD", "XLEN", "XGROUP", "XREADGROUP",
                       "XPENDING", "XCLAIM", "XACK", "EVAL", "SET", "GET")),
    "001": (seed_001, ("XADD", "XRANGE", "XLEN", "XINFO", "XREAD", "XGROUP", "XREADGROUP",
                       "XPENDING", "XACK")),
    "002": (seed_002, ("XADD", "XGROUP", "XREADGROUP", "XPENDING", "XACK", "XINFO")),
    "003": (seed_003, ("XADD", "XGROUP", "XREADGROUP", "XACK", "XPENDING", "XCLAIM",
                       "XAUTOCLAIM", "XRANGE", "XTRIM", "XLEN", "XDEL", "XINFO")),
    "004": (seed_004, ("XADD", "XGROUP", "XREADGROUP", "XPENDING", "XCLAIM", "XAUTOCLAIM",
                       "XACK", "XINFO")),
}
