"""Helpers for the embedded tests.

``embtest_commands()`` registers a few commands that exist only while a test runs
(``embtest.*``): a counter, a string, a list with a blocking pop, so the
plumbing (threads, blocking, persistence, pipelines) is tested even before the
data-type commands exist in the engine. Tests of real commands call
``needs(...)``, which skips while a command has not landed in the engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from streamlite.engine.args import parse_int
from streamlite.engine.client import Client
from streamlite.engine.database import TYPE_NAMES, register_type
from streamlite.engine.registry import COMMANDS, command
from streamlite.engine.replies import NULL_ARRAY, OK, Blocked


class EmbList(list):  # type: ignore[type-arg]
    pass


def _set(c: Client, argv: list[bytes]) -> Any:
    """EMBTEST.SET key value"""
    c.db.set(argv[1], argv[2])
    return OK


def _get(c: Client, argv: list[bytes]) -> Any:
    """EMBTEST.GET key"""
    return c.db.lookup(argv[1])


def _incr(c: Client, argv: list[bytes]) -> Any:
    """EMBTEST.INCR key"""
    v = c.db.lookup(argv[1])
    n = (int(v) if v is not None else 0) + 1
    c.db.set(argv[1], b"%d" % n, keep_ttl=True)
    return n


def _push(c: Client, argv: list[bytes]) -> Any:
    """EMBTEST.PUSH key value [value ...]"""
    lst = c.db.get_typed(argv[1], EmbList)
    if lst is None:
        lst = EmbList()
        c.db.data[argv[1]] = lst
    lst.extend(argv[2:])
    c.db.touch(argv[1])
    return len(lst)


def _bpop(c: Client, argv: list[bytes]) -> Any:
    """EMBTEST.BPOP key timeout-ms"""
    key = argv[1]
    lst = c.db.get_typed(key, EmbList)
    if lst:
        v = lst.pop(0)
        if not lst:
            c.db.remove(key)
        else:
            c.db.touch(key)
        c.engine.rewrite(c, [b"EMBTEST.POPNOW", key])
        return [key, v]
    if c.in_exec or c.in_script:
        return NULL_ARRAY
    ms = parse_int(argv[2])
    deadline = None if ms == 0 else c.engine.now_ms() + ms
    if c.blocked is not None:
        deadline = c.blocked.deadline_ms
    return Blocked([(c.db_index, key)], argv, deadline, NULL_ARRAY)


def _popnow(c: Client, argv: list[bytes]) -> Any:
    """EMBTEST.POPNOW key"""
    lst = c.db.get_typed(argv[1], EmbList)
    if not lst:
        return None
    v = lst.pop(0)
    if not lst:
        c.db.remove(argv[1])
    else:
        c.db.touch(argv[1])
    return v


_TABLE = [
    ("embtest.set", _set, 3, "write"),
    ("embtest.get", _get, 2, "readonly"),
    ("embtest.incr", _incr, 2, "write"),
    ("embtest.push", _push, -3, "write"),
    ("embtest.bpop", _bpop, 3, "write blocking"),
    ("embtest.popnow", _popnow, 2, "write"),
]


def register() -> None:
    """Register the test commands (for child processes: call at start)."""
    register_type(EmbList, b"embtestlist")
    for name, fn, arity, flags in _TABLE:
        command(name, arity, flags, 1, 1, 1)(fn)


def unregister() -> None:
    for name, *_ in _TABLE:
        COMMANDS.pop(name.encode(), None)
    TYPE_NAMES.pop(EmbList, None)


@contextlib.contextmanager
def embtest_commands() -> Iterator[None]:
    register()
    try:
        yield
    finally:
        unregister()


def has(*names: str) -> bool:
    return all(n.lower().encode() in COMMANDS for n in names)


def needs(*names: str) -> None:
    """Skip the test until every command in ``names`` exists in the engine."""
    missing = [n for n in names if n.lower().encode() not in COMMANDS]
    if missing:
        pytest.skip(f"engine has no {', '.join(missing).upper()} yet")
