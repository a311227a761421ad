"""Seed 000's conditional publish: a Lua script that GETs a flag and XADDs only if it is set.

Needs the real XADD/XLEN/XRANGE (the streams work); skipped until they are merged.
"""

from __future__ import annotations

import re

import pytest
from tests.engine.standins import Conn, engine_with_standins

from streamlite.engine import FakeClock
from streamlite.engine.registry import COMMANDS

pytestmark = pytest.mark.skipif(
    b"xadd" not in COMMANDS, reason="XADD is not merged into this branch yet"
)

# verbatim from /work/shared/seeds/000_*.txt (publishEventIfCondition)
SCRIPT = """
            local stream_name = KEYS[1]
            local condition_key = KEYS[2]
            local event_data = ARGV[1]

            -- 조건 확인
            local condition_value = redis.call('GET', condition_key)
            if condition_value == 'true' then
                return redis.call('XADD', stream_name, '*',
                    'eventType', ARGV[2],
                    'data', event_data,
                    'timestamp', ARGV[3])
            else
                return nil
            end
            """


def publish(c: Conn, condition: str) -> object:
    return c("EVAL", SCRIPT, "2", "order-events", f"condition:{condition}",
             '{"orderId":"o-1"}', "ORDER_COMPLETED", "2024-01-01T00:00:00Z")


def test_publishes_only_when_the_flag_is_set():
    clock = FakeClock(1_700_000_000_000)
    eng = engine_with_standins(clock)
    c = Conn(eng)
    assert publish(c, "enabled") is None  # no flag: nothing, no stream
    assert c("EXISTS", "order-events") == 0
    c("SET", "condition:enabled", "false")
    assert publish(c, "enabled") is None
    c("SET", "condition:enabled", "true")
    eng.effects = []
    entry_id = publish(c, "enabled")
    assert re.fullmatch(rb"1700000000000-\d+", entry_id)
    assert c("XLEN", "order-events") == 1
    assert c("XRANGE", "order-events", "-", "+") == [[entry_id, [
        b"eventType", b"ORDER_COMPLETED", b"data", b'{"orderId":"o-1"}',
        b"timestamp", b"2024-01-01T00:00:00Z"]]]
    # one write: propagated bare, with the ID it got
    assert len(eng.effects) == 1
    db, argv = eng.effects[0]
    assert argv[0].upper() == b"XADD" and entry_id in argv
    # EVALSHA of the same script
    sha = c("SCRIPT", "LOAD", SCRIPT)
    assert c("EVALSHA", sha, "2", "order-events", "condition:enabled", "{}", "X", "t") > entry_id
    assert c("XLEN", "order-events") == 2


def test_flag_of_the_wrong_type_is_an_error():
    c = Conn(engine_with_standins())
    c("LPUSH", "condition:x", "true")
    out = publish(c, "x")
    assert out.startswith(b"WRONGTYPE Operation against a key holding the wrong kind of value")
