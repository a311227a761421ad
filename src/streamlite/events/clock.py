"""The framework's own time: what retry backoffs, reclaim ticks, keepalives and leases wait on.

Every wait of a running subscription goes through a :class:`Clock` (``monotonic()``,
``sleep()``, ``wait(event, timeout)``) held by its :class:`~.runtime.Runtime`. Workers use
:class:`RealClock` (``time.monotonic`` and asyncio's timers). The test client
(:mod:`.testing`) swaps in a virtual clock it moves by hand, together with the embedded
engine's clock (:class:`streamlite.engine.clock.FakeClock`), so a test goes through a
60-second backoff without waiting for it, and the backend's idle times and lease expiries
move with the framework's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds, monotonic (only differences mean anything)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        """Wait until ``event`` is set (True) or ``timeout`` seconds pass (False)."""
        ...


class RealClock:
    """Wall time: ``time.monotonic`` and asyncio's own timers."""

    __slots__ = ()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        if event.is_set():
            return True
        try:
            await asyncio.wait_for(event.wait(), max(0.0, timeout))
        except TimeoutError:
            return False
        return True


REAL_CLOCK = RealClock()
