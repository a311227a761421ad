"""Handler registration: what a handler wants (payload type, context, raw message)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .codec import from_plain
from .envelope import Message
from .retry import DeadLetter


class DecodeError(DeadLetter):
    """The payload could not be decoded into the handler's type: it never will be."""


@dataclass
class HandlerSpec:
    fn: Callable[..., Any]
    event: str
    is_async: bool
    arg_kinds: list[tuple[str, Any]]  # ("payload", type) | ("ctx", None) | ("message", None)
    idempotent: bool = False

    @classmethod
    def inspect(cls, fn: Callable[..., Any], event: str, idempotent: bool) -> HandlerSpec:
        from .context import Context  # noqa: PLC0415 - import cycle

        try:
            hints = typing.get_type_hints(fn)
        except Exception:
            hints = {}
        kinds: list[tuple[str, Any]] = []
        payload_seen = False
        for name, p in inspect.signature(fn).parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            tp = hints.get(name, p.annotation if p.annotation is not p.empty else Any)
            if tp is Context or name in ("ctx", "context"):
                kinds.append(("ctx", None))
            elif tp is Message or name in ("msg", "message") and tp is Any:
                kinds.append(("message", None))
            elif not payload_seen:
                kinds.append(("payload", tp))
                payload_seen = True
            elif p.default is p.empty:
                raise TypeError(f"handler {fn.__name__}: cannot supply parameter {name!r}")
        is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None))  # noqa: B004
        return cls(fn, event, is_async, kinds, idempotent)

    def arguments(self, msg: Message, ctx: Any) -> list[Any]:
        out: list[Any] = []
        for kind, tp in self.arg_kinds:
            if kind == "payload":
                try:
                    out.append(from_plain(tp, msg.payload()))
                except Exception as e:
                    raise DecodeError(f"cannot decode payload as {getattr(tp, '__name__', tp)}: "
                                      f"{type(e).__name__}: {e}") from e
            elif kind == "ctx":
                out.append(ctx)
            else:
                out.append(msg)
        return out
