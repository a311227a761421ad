"""Time sources. The engine reads time only through a Clock, so tests can move it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...

    def us(self) -> int:
        """Microseconds since the Unix epoch."""
        ...


class SystemClock:
    """Wall-clock time."""

    __slots__ = ()

    def ms(self) -> int:
        return time.time_ns() // 1_000_000

    def us(self) -> int:
        return time.time_ns() // 1_000


class FakeClock:
    """A clock tests move by hand."""

    __slots__ = ("now_us",)

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.now_us = start_ms * 1000

    def ms(self) -> int:
        return self.now_us // 1000

    def us(self) -> int:
        return self.now_us

    def advance(self, ms: int) -> None:
        self.now_us += ms * 1000

    def set(self, ms: int) -> None:
        self.now_us = ms * 1000
