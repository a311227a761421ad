"""CLUSTER and friends against a real Redis 8.2 started without cluster support: every
subcommand is known (arity errors, unknown subcommands as usual) and every call is
refused with ``ERR This instance has cluster support disabled``; COMMAND INFO agrees."""

from __future__ import annotations

import pytest
from tests.support.diff import compare

from streamlite.engine.commands.cluster import NEWER_THAN_82, SUBCOMMANDS

pytestmark = pytest.mark.redis


def _well_formed(name: str, arity: int) -> tuple[str, ...]:
    n = arity if arity > 0 else -arity
    return ("CLUSTER", name.upper(), *["1"] * (n - 2))


def test_every_cluster_subcommand_is_refused(redis_conn, engine_conn):
    script: list[tuple[str, ...]] = []
    for name, arity, _, _ in SUBCOMMANDS:
        if name in NEWER_THAN_82:
            continue
        script.append(_well_formed(name, arity))
        script.append((*_well_formed(name, arity), "extra", "args") if arity < 0
                      else ("CLUSTER", name))  # too many is fine for -n; too few errs
    script += [("CLUSTER",), ("CLUSTER", "NOSUCH"), ("CLUSTER", "keyslot"),
               ("CLUSTER", "KEYSLOT", "a", "b"), ("ASKING",), ("ASKING", "x"),
               ("READONLY",), ("READWRITE",), ("READONLY", "x")]
    compare(redis_conn, engine_conn, script)


def test_command_info_knows_the_cluster_table(redis_conn, engine_conn):
    compare(redis_conn, engine_conn, [("COMMAND", "INFO", "asking")])
    a = redis_conn.call("COMMAND", "INFO", "cluster")[0]
    b = engine_conn.call("COMMAND", "INFO", "cluster")[0]
    assert a[:6] == b[:6]
    newer = {f"cluster|{n}".encode() for n in NEWER_THAN_82}
    subs = {x[0]: x[1:3] for x in a[9]}
    assert subs == {x[0]: x[1:3] for x in b[9] if x[0] not in newer}
    assert {x[0] for x in a[9]} == {f"cluster|{n}".encode() for n, *_ in SUBCOMMANDS} - newer


def test_cluster_migration_is_refused_too(engine_conn):
    """Redis 8.4's CLUSTER MIGRATION, answered as the other subcommands without cluster
    support (from its command page)."""
    assert engine_conn.call("CLUSTER", "MIGRATION", "STATUS", "ALL") == (
        "ERR", "ERR This instance has cluster support disabled")
