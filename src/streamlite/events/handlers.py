"""Handler registration: what a handler wants (payload type, context, raw message, provided
values, ``Depends``; see :mod:`.dependencies`)."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .codec import from_plain
from .dependencies import Dependencies, Depends, param_types, solve
from .envelope import Message
from .retry import DeadLetter


class DecodeError(DeadLetter):
    """The payload could not be decoded into the handler's type: it never will be."""


_NO_DEPS = Dependencies()


@dataclass
class HandlerSpec:
    fn: Callable[..., Any]
    event: str
    is_async: bool
    # ("payload", type) | ("ctx", None) | ("message", None) | ("value", v) | ("provided", type)
    # | ("depends", Depends)
    arg_kinds: list[tuple[str, Any]]
    idempotent: bool = False
    params: list[tuple[inspect.Parameter, Any]] = field(default_factory=list)
    dependent: bool = False  # has Depends parameters: arguments come from resolve()

    @classmethod
    def inspect(cls, fn: Callable[..., Any], event: str, idempotent: bool) -> HandlerSpec:
        params = param_types(fn)
        is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None))  # noqa: B004
        spec = cls(fn, event, is_async, [], idempotent, params)
        spec.arg_kinds = spec._kinds(None)
        spec.dependent = any(k == "depends" for k, _ in spec.arg_kinds)
        return spec

    def _kinds(self, deps: Dependencies | None) -> list[tuple[str, Any]]:
        """The arguments, given what ``deps`` provides (None: not known yet, at
        registration: a later parameter annotated with a class is taken as provided,
        and checked when the app starts)."""
        from .context import Context  # noqa: PLC0415 - import cycle

        kinds: list[tuple[str, Any]] = []
        payload_seen = False
        for p, tp in self.params:
            if isinstance(p.default, Depends):
                kinds.append(("depends", p.default))
            elif tp is Context or p.name in ("ctx", "context"):
                kinds.append(("ctx", None))
            elif tp is Message or p.name in ("msg", "message") and tp is Any:
                kinds.append(("message", None))
            elif deps is not None and deps.has(tp):
                kinds.append(("value", deps.get(tp)))
            elif not payload_seen:
                kinds.append(("payload", tp))
                payload_seen = True
            elif p.default is not p.empty:
                kinds.append(("value", p.default))
            elif deps is None and (isinstance(tp, type) and tp is not Any
                                   or isinstance(tp, str)):
                kinds.append(("provided", tp))
            else:
                hint = (f": nothing provides {getattr(tp, '__name__', tp)} (app.provide)"
                        if isinstance(tp, type | str) and tp is not Any else "")
                raise TypeError(f"handler {self.fn.__name__}: cannot supply parameter "
                                f"{p.name!r}{hint}")
        return kinds

    def bind(self, deps: Dependencies) -> HandlerSpec:
        """This handler with the app's provided values settled (when the app starts)."""
        return replace(self, arg_kinds=self._kinds(deps))

    def _payload(self, tp: Any, msg: Message) -> Any:
        try:
            return from_plain(tp, msg.payload())
        except Exception as e:
            raise DecodeError(f"cannot decode payload as {getattr(tp, '__name__', tp)}: "
                              f"{type(e).__name__}: {e}") from e

    def arguments(self, msg: Message, ctx: Any) -> list[Any]:
        out: list[Any] = []
        for kind, v in self.arg_kinds:
            if kind == "payload":
                out.append(self._payload(v, msg))
            elif kind == "ctx":
                out.append(ctx)
            elif kind == "message":
                out.append(msg)
            elif kind == "value":
                out.append(v)
            else:
                raise TypeError(f"handler {self.fn.__name__}: {kind} argument {v!r} "
                                "is not resolved (Depends needs resolve())")
        return out

    async def resolve(self, msg: Message, ctx: Any, deps: Dependencies | None,
                      stack: contextlib.AsyncExitStack) -> list[Any]:
        """The arguments, ``Depends`` included (their teardowns go on ``stack``)."""
        cache: dict[Any, Any] = {}
        out: list[Any] = []
        for kind, v in self.arg_kinds:
            if kind == "depends":
                out.append(await solve(v, ctx, deps or _NO_DEPS, stack, cache))
            elif kind == "payload":
                out.append(self._payload(v, msg))
            elif kind == "ctx":
                out.append(ctx)
            elif kind == "message":
                out.append(msg)
            elif kind == "value":
                out.append(v)
            else:
                raise TypeError(f"handler {self.fn.__name__}: nothing provides {v!r}")
        return out
