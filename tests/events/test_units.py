"""Pure helpers: hash-tag key naming, payload conversion, retry delays, CLI time parsing."""

from __future__ import annotations

import dataclasses
from typing import Optional

import pytest

from streamlite.events import RetryPolicy, colocated, dlq_stream, key_slot
from streamlite.events.cli import parse_duration_ms, parse_time_bound
from streamlite.events.codec import from_plain, to_plain
from streamlite.events.keys import hash_tag, source_of_dlq


def test_hash_tags_and_slots():
    # Redis Cluster's reference values (CLUSTER KEYSLOT)
    assert key_slot("foo") == 12182
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers")
    assert hash_tag("{}x") is None and hash_tag("a{b}c") == "b" and hash_tag("a{") is None
    assert colocated("x{}y", ":dlq") == "x{}y:dlq"  # cannot share a slot: plain suffix
    for s in ("orders", "{shop}.orders", "a:b", "x{y"):
        assert key_slot(colocated(s, ":dlq")) == key_slot(s)
        assert key_slot(dlq_stream(s)) == key_slot(s)
        assert source_of_dlq(dlq_stream(s)) == s
    assert dlq_stream("orders") == "{orders}:dlq"
    assert dlq_stream("{shop}.orders") == "{shop}.orders:dlq"


@dataclasses.dataclass
class Line:
    sku: str
    qty: int


@dataclasses.dataclass
class Order:
    id: int
    lines: list[Line]
    note: Optional[str] = None  # noqa: UP045 - the Optional spelling must work too
    tags: dict[str, int] = dataclasses.field(default_factory=dict)


def test_nested_dataclass_roundtrip():
    o = Order(1, [Line("a", 2), Line("b", 1)], None, {"x": 1})
    plain = to_plain(o)
    assert plain == {"id": 1, "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}],
                     "note": None, "tags": {"x": 1}}
    assert from_plain(Order, plain) == o
    assert from_plain(Order, {"id": 2, "lines": [], "extra": "ignored"}) == Order(2, [])


def test_retry_delays():
    p = RetryPolicy(backoff_ms=100, multiplier=2, max_backoff_ms=500, jitter=0)
    assert [p.delay_ms(n) for n in (1, 2, 3, 4, 5)] == [100, 200, 400, 500, 500]
    j = RetryPolicy(backoff_ms=1000, jitter=0.1)
    assert all(900 <= j.delay_ms(1) <= 1100 for _ in range(50))
    assert not RetryPolicy(non_retryable=(KeyError,)).retryable(KeyError("x"))


def test_cli_time_bounds():
    assert parse_time_bound("-") == "-" and parse_time_bound("1718000000000-3") == "1718000000000-3"
    assert parse_time_bound("1718000000000") == "1718000000000"
    assert parse_time_bound("1970-01-01T00:00:01Z") == "1000"
    assert parse_time_bound("1970-01-01T00:00:01") == "1000"
    assert parse_time_bound("1h", now_ms=10_000_000) == str(10_000_000 - 3_600_000)
    assert parse_duration_ms("500ms") == 500 and parse_duration_ms("7d") == 604_800_000
    with pytest.raises(ValueError):
        parse_time_bound("soon")
