"""Middlewares: code around every handler call and around every publish.

Around handling (``@app.middleware``), a middleware is one of:

* a generator function ``def mw(ctx)`` or ``async def mw(ctx)`` that yields once: what
  comes before the ``yield`` runs before the handler, what comes after runs after it; the
  handler's exception is raised at the ``yield`` (exactly :func:`contextlib.contextmanager`
  semantics: catching it and not raising again means the delivery succeeded);
* a coroutine function ``async def mw(ctx, call_next)`` that runs the rest of the chain
  with ``await call_next()`` (and returns its result): full control, e.g. a timeout or a
  retry of its own.

Middlewares run in the order they were added, the first one outermost, on the event loop
(sync handlers run in the thread pool inside them). They wrap the whole call: decoding
the payload, resolving dependencies (:mod:`.dependencies`), the idempotency check and the
handler, so an exception from any of those reaches them. Context variables they set are
seen by the handler, also a sync one in its thread.

Around publishing (``@app.publish_middleware``, or ``producer.middlewares.append(mw)``):
a generator function ``def mw(stream, event)`` (or ``async def`` for an
:class:`~.producer.AsyncProducer`) that yields once, per event. ``event`` is the
:class:`~.producer.Event` about to be published: change its ``headers``, ``event_type``
or ``payload`` before the ``yield``; a failed publish raises at the ``yield``. A
``publish_many`` enters every event's middlewares, sends the batch, then leaves them.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

GEN = "gen"
AGEN = "agen"
CALL_NEXT = "call_next"


def kind_of(mw: Callable[..., Any], *, publish: bool = False) -> str:
    """How ``mw`` is called (raises TypeError for a shape that is not a middleware)."""
    if inspect.isasyncgenfunction(mw):
        return AGEN
    if inspect.isgeneratorfunction(mw):
        return GEN
    if not publish and inspect.iscoroutinefunction(mw):
        return CALL_NEXT
    what = ("a generator function (def or async def) that yields once" if publish else
            "a generator function (def or async def) that yields once, or "
            "`async def mw(ctx, call_next)`")
    raise TypeError(f"{getattr(mw, '__name__', mw)!r} is not a middleware: use {what}")


class HandleChain:
    """The handling middlewares of an app, compiled once."""

    def __init__(self, middlewares: Sequence[Callable[..., Any]]) -> None:
        self.items = [(mw, kind_of(mw)) for mw in middlewares]

    def __bool__(self) -> bool:
        return bool(self.items)

    async def run(self, ctx: Any, invoke: Callable[[], Awaitable[Any]]) -> Any:
        return await self._at(0, ctx, invoke)

    async def _at(self, i: int, ctx: Any, invoke: Callable[[], Awaitable[Any]]) -> Any:
        if i == len(self.items):
            return await invoke()
        mw, kind = self.items[i]
        if kind == CALL_NEXT:
            return await mw(ctx, lambda: self._at(i + 1, ctx, invoke))
        result = None
        if kind == AGEN:
            async with contextlib.asynccontextmanager(mw)(ctx):
                result = await self._at(i + 1, ctx, invoke)
        else:
            with contextlib.contextmanager(mw)(ctx):
                result = await self._at(i + 1, ctx, invoke)
        return result


def enter_publish_sync(stack: contextlib.ExitStack, middlewares: Sequence[Callable[..., Any]],
                       stream: str, events: Sequence[Any]) -> None:
    """Enter every event's publish middlewares (sync producer)."""
    for ev in events:
        for mw in middlewares:
            if kind_of(mw, publish=True) != GEN:
                raise TypeError(f"{mw.__name__!r} is an async publish middleware: a sync "
                                "Producer takes `def` ones only")
            stack.enter_context(contextlib.contextmanager(mw)(stream, ev))


async def enter_publish_async(stack: contextlib.AsyncExitStack,
                              middlewares: Sequence[Callable[..., Any]], stream: str,
                              events: Sequence[Any]) -> None:
    """Enter every event's publish middlewares (async producer: def or async def)."""
    for ev in events:
        for mw in middlewares:
            if kind_of(mw, publish=True) == AGEN:
                await stack.enter_async_context(contextlib.asynccontextmanager(mw)(stream, ev))
            else:
                stack.enter_context(contextlib.contextmanager(mw)(stream, ev))
