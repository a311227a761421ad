"""Dependency injection for handlers: provided values by type, and ``Depends``.

A handler's parameters are, in order of precedence::

    async def charge(evt: PaymentRequested,          # the payload (the first other one)
                     ctx: Context,                   # the context (by type, or named ctx)
                     gw: Gateway,                    # provided: app.provide(Gateway, gw)
                     db: Db = Depends(get_db),       # computed per delivery
                     ) -> None: ...

* **Provided values**: ``app.provide(Gateway, gateway)`` (or ``app.provide(Gateway,
  factory=make_gateway)``: called once when the app starts, awaited if it is a coroutine
  function). A parameter annotated with a provided type (or a supertype of one) gets the
  value (a factory runs again at every start). Which parameters are provided is settled when the app starts: a handler asking
  for a type nobody provides fails the start, not the first message.
* **Depends(fn)**: ``fn`` runs for each delivery; its own parameters are resolved the same
  way (the context, the :class:`~.envelope.Message`, provided values, other ``Depends``).
  ``fn`` may be sync or async, or a generator (sync or async) that yields the value once:
  what follows the ``yield`` runs after the handler (the handler's exception is raised at
  the ``yield``), like a :func:`contextlib.contextmanager`. One ``Depends(fn)`` used twice
  in a delivery runs once (``cache=False``: every time).
* The payload is the first parameter that is none of those.

Sync dependency functions run on the event loop: keep them quick (or make them async).
"""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import Callable
from typing import Any

_MISSING: Any = object()


class Depends:
    """Default value marking a parameter as computed per delivery by ``fn``."""

    __slots__ = ("fn", "cache")

    def __init__(self, fn: Callable[..., Any], *, cache: bool = True) -> None:
        self.fn = fn
        self.cache = cache

    def __repr__(self) -> str:
        return f"Depends({getattr(self.fn, '__name__', self.fn)})"


class Dependencies:
    """Values handlers receive by type (``app.provide``)."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        self._factories: dict[Any, Callable[[], Any]] = {}
        self._made: dict[Any, Any] = {}  # what the factories made at the last start

    def provide(self, tp: Any, value: Any = _MISSING, *,
                factory: Callable[[], Any] | None = None) -> None:
        if (value is _MISSING) == (factory is None):
            raise TypeError("provide(tp, value) or provide(tp, factory=...)")
        if factory is not None:
            self._factories[tp] = factory
            self._values.pop(tp, None)
        else:
            self._values[tp] = value
            self._factories.pop(tp, None)

    def _key(self, tp: Any) -> Any:
        if isinstance(tp, str):  # an annotation that could not be resolved (a local class
            # under `from __future__ import annotations`): matched by the class's name
            for k in (*self._values, *self._factories):
                if getattr(k, "__name__", None) == tp.rsplit(".", 1)[-1]:
                    return k
            return _MISSING
        if tp in self._values or tp in self._factories:
            return tp
        if isinstance(tp, type):
            for k in (*self._values, *self._factories):
                if isinstance(k, type) and issubclass(k, tp):
                    return k
        return _MISSING

    def has(self, tp: Any) -> bool:
        return tp is not Any and self._key(tp) is not _MISSING

    def get(self, tp: Any) -> Any:
        k = self._key(tp)
        if k is _MISSING:
            raise LookupError(f"nothing provides {tp!r}")
        if k in self._values:
            return self._values[k]
        if k not in self._made:
            raise RuntimeError(f"{tp!r} is provided by a factory: the app has not started")
        return self._made[k]

    async def start(self) -> None:
        """Call the factories (at every start of the app: a restarted app, or one under
        the test client, gets values made from what it runs with now)."""
        self._made = {}
        for tp, factory in list(self._factories.items()):
            v = factory()
            if inspect.isawaitable(v):
                v = await v
            self._made[tp] = v


def param_types(fn: Callable[..., Any]) -> list[tuple[inspect.Parameter, Any]]:
    """``fn``'s parameters with their resolved annotations (Any where there is none)."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # one annotation names something out of reach: each on its own
        hints = {}
    glb = getattr(inspect.unwrap(fn), "__globals__", {})
    out = []
    for name, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        tp = hints.get(name, p.annotation if p.annotation is not p.empty else Any)
        if isinstance(tp, str):
            try:
                tp = eval(tp, dict(glb))  # noqa: S307 - the function's own annotation
            except Exception:
                pass  # kept as a string: provided values still match it by class name
        out.append((p, tp))
    return out


async def solve(dep: Depends, ctx: Any, deps: Dependencies, stack: contextlib.AsyncExitStack,
                cache: dict[Any, Any]) -> Any:
    """The value of ``dep`` for the delivery of ``ctx`` (teardowns pushed on ``stack``)."""
    from .context import Context
    from .envelope import Message

    if dep.cache and dep.fn in cache:
        return cache[dep.fn]
    kwargs: dict[str, Any] = {}
    for p, tp in param_types(dep.fn):
        if isinstance(p.default, Depends):
            kwargs[p.name] = await solve(p.default, ctx, deps, stack, cache)
        elif tp is Context or p.name in ("ctx", "context"):
            kwargs[p.name] = ctx
        elif tp is Message or (p.name in ("msg", "message") and tp is Any):
            kwargs[p.name] = ctx.message
        elif deps.has(tp):
            kwargs[p.name] = deps.get(tp)
        elif p.default is p.empty:
            raise TypeError(f"dependency {getattr(dep.fn, '__name__', dep.fn)}: cannot supply "
                            f"parameter {p.name!r}")
    fn = dep.fn
    if inspect.isasyncgenfunction(fn):
        value = await stack.enter_async_context(contextlib.asynccontextmanager(fn)(**kwargs))
    elif inspect.isgeneratorfunction(fn):
        value = stack.enter_context(contextlib.contextmanager(fn)(**kwargs))
    else:
        value = fn(**kwargs)
        if inspect.isawaitable(value):
            value = await value
    if dep.cache:
        cache[dep.fn] = value
    return value
