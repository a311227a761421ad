"""Per-handler ``rate_limit`` and ``time_limit`` (``@app.handler(..., rate_limit="100/s",
time_limit=5)``).

Both wrap the handler function when it is registered (:func:`limited`), so they work on
every delivery path (group consumers, partitions) without the path knowing about them.

**time_limit** (seconds): an async handler runs under :func:`asyncio.timeout` and is
cancelled when it is over; a sync handler runs in a thread of its own, and when it is
over the delivery fails while the thread is left to finish (Python cannot stop a thread:
make sync handlers that may hang time out on their own I/O too). Either way the handler
raises :class:`HandlerTimeout`, an ordinary failure: it is retried with the
subscription's :class:`~.retry.RetryPolicy` and dead-lettered after ``max_deliveries``
(put ``HandlerTimeout`` in ``non_retryable`` to dead-letter at once).

**rate_limit** (``"100/s"``, ``"5/m"``, ``"1000/h"``, ``"10/2s"``, or a
:class:`RateLimit`): at most that many handler starts per period *in this worker
process*, spaced evenly (``burst`` starts may go at once after a quiet spell). It is a
reservation limiter (GCRA, a token bucket's exact equivalent): each start reserves the
next free slot and waits for it, so concurrent deliveries share the rate fairly. With N
worker processes the total is N times the rate. The time spent waiting does not count
towards ``time_limit``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class HandlerTimeout(TimeoutError):
    """A handler ran longer than its ``time_limit``."""


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h|d)?\s*$")
_PER = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class RateLimit:
    """``count`` starts per ``per_s`` seconds; ``burst`` of them may go back to back."""

    count: float
    per_s: float = 1.0
    burst: int = 1

    def __post_init__(self) -> None:
        if self.count <= 0 or self.per_s <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs count > 0, per_s > 0, burst >= 1")

    @property
    def interval_s(self) -> float:
        return self.per_s / self.count

    @classmethod
    def parse(cls, value: str | RateLimit | float) -> RateLimit:
        """``"100/s"``, ``"5/m"``, ``"10/2s"``; a number is per second."""
        if isinstance(value, RateLimit):
            return value
        if isinstance(value, int | float):
            return cls(float(value))
        m = _RATE.match(value)
        if not m or (m.group(2) is None and m.group(3) is None):
            raise ValueError(f"not a rate: {value!r} (examples: 100/s, 5/m, 10/2s)")
        n = float(m.group(2) or 1) * _PER[m.group(3) or "s"]
        return cls(float(m.group(1)), n)


class Limiter:
    """Even spacing with a burst allowance; usable from async code and from threads."""

    def __init__(self, rate: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self._next = 0.0  # the earliest time the next start may go without burst credit
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve a slot; how long to wait for it (seconds)."""
        step = self.rate.interval_s
        with self._lock:
            now = self.clock()
            t = max(self._next, now - (self.rate.burst - 1) * step)
            self._next = t + step
            return max(0.0, t - now)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    def acquire_sync(self) -> None:
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)


def limited(fn: Callable[..., Any], *, rate_limit: Any = None,
            time_limit: float | None = None) -> Callable[..., Any]:
    """``fn`` wrapped with the limits (``fn`` itself when there are none). The wrapper
    keeps ``fn``'s signature and type hints (the framework reads them)."""
    if rate_limit is None and time_limit is None:
        return fn
    if time_limit is not None and time_limit <= 0:
        raise ValueError("time_limit must be positive (seconds)")
    limiter = Limiter(RateLimit.parse(rate_limit)) if rate_limit is not None else None
    name = getattr(fn, "__qualname__", repr(fn))
    info: dict[str, Any] = {}  # what the AsyncAPI document shows (x-streamlite)
    if limiter is not None:
        info["rate_limit"] = {"count": limiter.rate.count, "per_s": limiter.rate.per_s,
                              "burst": limiter.rate.burst}
    if time_limit is not None:
        info["time_limit_s"] = time_limit

    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)):  # noqa: B004

        @functools.wraps(fn)
        async def awrapper(*args: Any, **kw: Any) -> Any:
            if limiter is not None:
                await limiter.acquire()
            if time_limit is None:
                return await fn(*args, **kw)
            cm = asyncio.timeout(time_limit)
            try:
                async with cm:
                    return await fn(*args, **kw)
            except TimeoutError:
                if cm.expired():  # ours, not one the handler raised itself
                    raise HandlerTimeout(f"{name} ran longer than its time_limit of "
                                         f"{time_limit:g}s (cancelled)") from None
                raise

        awrapper.__streamlite_limits__ = info  # type: ignore[attr-defined]
        return awrapper

    @functools.wraps(fn)
    def swrapper(*args: Any, **kw: Any) -> Any:
        if limiter is not None:
            limiter.acquire_sync()
        if time_limit is None:
            return fn(*args, **kw)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = fn(*args, **kw)
            except BaseException as e:  # handed over to the waiting thread
                box["error"] = e

        t = threading.Thread(target=target, name=f"time-limited-{name}", daemon=True)
        t.start()
        t.join(time_limit)
        if t.is_alive():
            raise HandlerTimeout(f"{name} ran longer than its time_limit of {time_limit:g}s "
                                 "(a sync handler: its thread is left to finish)")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    swrapper.__streamlite_limits__ = info  # type: ignore[attr-defined]
    return swrapper
