"""A start that a signal may interrupt.

A worker installs its SIGINT/SIGTERM handlers before it starts (connecting, creating
the groups), so that a signal during the start is its own to handle: left to asyncio's
default SIGINT handler, the start's task was cancelled, and a cancel swallowed on the
way (as a client library may) let the start finish with no handler left to stop it.
``start_unless_stopped`` races the start against the handlers' event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def start_unless_stopped(
        start: Awaitable[T], stop_ev: asyncio.Event, undo: Callable[[T], Awaitable[Any]],
        moot: tuple[type[BaseException], ...] = ()) -> tuple[bool, T] | tuple[bool, None]:
    """``(True, result)`` when ``start`` finishes before ``stop_ev`` is set (its error
    raised as it is). Else the start is cancelled and ``(False, None)`` returned: a
    start that finishes anyway is undone with ``undo`` (it must not run on unnoticed);
    an error of ``moot`` that the cancelled start raises is dropped."""
    starting = asyncio.ensure_future(start)
    waiting = asyncio.ensure_future(stop_ev.wait())
    try:
        await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if starting.done():
        return True, starting.result()
    starting.cancel()
    dropped: tuple[type[BaseException], ...] = (asyncio.CancelledError, *moot)
    try:
        value = await starting
    except dropped:
        return False, None
    await undo(value)
    return False, None
