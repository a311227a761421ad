"""Retry policy and the exceptions a handler raises to steer redelivery.

How a retry is delayed: a failed message is NOT acknowledged; it stays in the group's
pending entries list (PEL). The worker resets the entry's idle time with
``XCLAIM <stream> <group> <me> 0 <id> IDLE <claim_idle_ms - delay_ms> JUSTID`` (JUSTID
leaves the delivery counter alone), so the entry becomes old enough for the periodic
``XAUTOCLAIM ... <claim_idle_ms>`` that every worker of the group runs after ``delay_ms``.
The worker that claims it (the delivery counter goes up by one) runs the handler again.
The same XAUTOCLAIM recovers entries of dead consumers, after ``claim_idle_ms``. A delay
is therefore at most ``claim_idle_ms``, and precise to about ``claim_interval_ms``.
After ``max_deliveries`` failed deliveries the message goes to the dead-letter stream.

On a server with ``XNACK`` (Redis 8.8+, streamlite) the worker instead keeps the entry
for the delay and then gives it back with ``XNACK ... FAIL`` (see :mod:`.consumer`), so
the delay is not capped by ``claim_idle_ms``; Redis 8.2 uses ``IDLE`` as above.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


class Retry(Exception):
    """Raise from a handler to ask for a retry, optionally after ``delay_ms``."""

    def __init__(self, reason: str = "retry requested", delay_ms: int | None = None) -> None:
        super().__init__(reason)
        self.delay_ms = delay_ms


class DeadLetter(Exception):
    """Raise from a handler to dead-letter the message now (it will never succeed)."""


@dataclass
class RetryPolicy:
    """``max_deliveries`` deliveries in all (1 = no retry), exponential backoff between."""

    max_deliveries: int = 5
    backoff_ms: int = 1_000
    multiplier: float = 2.0
    max_backoff_ms: int = 60_000
    jitter: float = 0.1
    non_retryable: tuple[type[BaseException], ...] = field(default_factory=tuple)

    def delay_ms(self, deliveries: int) -> int:
        """Delay before delivery number ``deliveries + 1``."""
        d = self.backoff_ms * (self.multiplier ** max(0, deliveries - 1))
        d = min(d, self.max_backoff_ms)
        if self.jitter:
            d *= 1 + random.uniform(-self.jitter, self.jitter)
        return max(0, int(d))

    def retryable(self, exc: BaseException) -> bool:
        return not isinstance(exc, DeadLetter) and not (
            self.non_retryable and isinstance(exc, self.non_retryable))
