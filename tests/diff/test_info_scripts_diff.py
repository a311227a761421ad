"""INFO's script counters against a real Redis 8.2: number_of_cached_scripts (the EVAL
cache: EVAL and SCRIPT LOAD add, SCRIPT FLUSH empties), number_of_functions and
number_of_libraries (FUNCTION LOAD/DELETE/FLUSH), evicted_scripts; and the script
fields of INFO memory appear in Redis's order."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.redis

LIB = "#!lua name=lib{}\nredis.register_function('f{}', function() return 1 end)"
SCRIPT: list[tuple[Any, ...]] = [
    ("EVAL", "return 1", 0), ("EVAL", "return 1", 0), ("EVAL", "return 2", 0),
    ("SCRIPT", "LOAD", "return 3"), ("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", 0),
    ("FUNCTION", "LOAD", LIB.format(1, 1)), ("FUNCTION", "LOAD", LIB.format(2, 2)),
    ("FUNCTION", "DELETE", "lib1"), ("SCRIPT", "FLUSH"), ("EVAL", "return 4", 0),
    ("FUNCTION", "FLUSH"), ("EVAL_RO", "return 5", 0),
]
FIELDS = ("number_of_cached_scripts", "number_of_functions", "number_of_libraries",
          "evicted_scripts")


def _info(conn: Any) -> dict[str, str]:
    raw = conn.call("INFO", "memory", "stats")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def test_script_counters_move_as_in_redis(redis_conn, engine_conn):
    redis_conn.call("SCRIPT", "FLUSH")
    redis_conn.call("FUNCTION", "FLUSH")
    for cmd in SCRIPT:
        a, b = redis_conn.call(*cmd), engine_conn.call(*cmd)
        assert a == b, f"{cmd!r}: redis {a!r}, streamlite {b!r}"
        want, got = _info(redis_conn), _info(engine_conn)
        assert [want[f] for f in FIELDS] == [got[f] for f in FIELDS], cmd


def test_script_memory_fields_in_redis_order(redis_conn, engine_conn):
    ours = [k for k in _info(engine_conn) if "script" in k or "_lua" in k or "_vm_" in k
            or "function" in k or "librar" in k]
    theirs = [k for k in _info(redis_conn) if k in ours or "script" in k or "_lua" in k
              or "_vm_" in k or "function" in k or "librar" in k]
    assert ours == theirs
