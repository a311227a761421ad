"""Lua scripts in pipelines, on one server and on Redis Cluster.

redis-py runs a registered script with ``EVALSHA`` and, on ``NOSCRIPT``, loads it and
tries again; in a one-server pipeline it loads the pipeline's scripts before sending it.
A cluster pipeline does neither: its ``EVALSHA`` fails with ``NOSCRIPT`` on a node that
never saw the script, or on a replica just promoted to master (scripts loaded with
``SCRIPT LOAD`` are not replicated). :func:`execute` and :func:`execute_sync` build a
pipeline, and on ``NOSCRIPT`` load the scripts on every primary and run it once more.
Every pipeline sent this way must be safe to repeat (each of its writes idempotent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.exceptions import NoScriptError


def _build_sync(client: Any, build: Callable[[Any], Any]) -> Any:
    pipe = client.pipeline(transaction=False)
    build(pipe)
    return pipe


def execute_sync(client: Any, build: Callable[[Any], Any],
                 scripts: Sequence[str] = ()) -> list[Any]:
    """``build(pipe)`` queues commands on a fresh pipeline; their replies."""
    try:
        return list(_build_sync(client, build).execute())
    except NoScriptError:
        for source in scripts:
            client.script_load(source)  # on a cluster client: every primary
        return list(_build_sync(client, build).execute())


async def _build(client: Any, build: Callable[[Any], Awaitable[None] | None]) -> Any:
    pipe = client.pipeline(transaction=False)
    res = build(pipe)
    if asyncio.iscoroutine(res):
        await res
    return pipe


async def execute(client: Any, build: Callable[[Any], Awaitable[None] | None],
                  scripts: Sequence[str] = ()) -> list[Any]:
    """:func:`execute_sync` for asyncio clients (``build`` may be a coroutine)."""
    try:
        return list(await (await _build(client, build)).execute())
    except NoScriptError:
        for source in scripts:
            await client.script_load(source)
        return list(await (await _build(client, build)).execute())
