"""A simulated payment gateway, with the failures a real one has.

Its settings live in the hash ``gateway:config`` so every worker process sees the same
(the dashboard and ``PUT /api/gateway`` change them while the pipeline runs):

    latency_ms              how long a charge takes (plus up to 50% jitter)
    transient_failure_rate  share of calls that fail with a timeout/503 (retried)
    outage                  1: every call fails transiently (retries run out: dead letters)

What a charge answers depends on the payment token, like a card processor's test cards:

    tok_declined, tok_insufficient_funds   declined: a normal outcome (PAYMENT_FAILED)
    tok_invalid                            the gateway rejects the request: permanent
                                           (the message is dead-lettered)
    anything else                          approved

Charges are idempotent, as with a real gateway's idempotency key: the first approved
charge for an order is recorded in ``gateway:charges`` (``HSETNX``) and every later call
for that order answers the same transaction, so a retried payment never charges twice.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from . import keys

DECLINE_TOKENS = {"tok_declined": "card declined", "tok_insufficient_funds": "insufficient funds"}
REJECT_TOKENS = {"tok_invalid": "invalid payment method (gateway error 400)"}


class GatewayUnavailable(Exception):
    """Timeout or 503: try again later."""


class GatewayRejected(Exception):
    """The gateway refuses the request itself: retrying cannot help."""


@dataclass
class GatewaySettings:
    latency_ms: int = 20
    transient_failure_rate: float = 0.02
    outage: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms,
                "transient_failure_rate": self.transient_failure_rate,
                "outage": self.outage}


@dataclass
class ChargeResult:
    approved: bool
    transaction_id: str = ""
    reason: str = ""


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


async def read_settings(r: Any) -> GatewaySettings:
    h = {_s(k): _s(v) for k, v in (await r.hgetall(keys.GATEWAY_CONFIG)).items()}
    d = GatewaySettings()
    return GatewaySettings(
        latency_ms=int(h.get("latency_ms", d.latency_ms)),
        transient_failure_rate=float(h.get("transient_failure_rate", d.transient_failure_rate)),
        outage=h.get("outage", "0") in ("1", "true", "True"))


async def write_settings(r: Any, s: GatewaySettings) -> None:
    await r.hset(keys.GATEWAY_CONFIG, mapping={
        "latency_ms": s.latency_ms, "transient_failure_rate": s.transient_failure_rate,
        "outage": int(s.outage)})


async def init_settings(r: Any, s: GatewaySettings) -> None:
    """The run's settings, unless the gateway was configured already (kept on restart)."""
    for k, v in s.as_dict().items():
        await r.hsetnx(keys.GATEWAY_CONFIG, k, int(v) if isinstance(v, bool) else v)


class Gateway:
    def __init__(self, r: Any, refresh_s: float = 0.5) -> None:
        self.r = r
        self.refresh_s = refresh_s
        self._settings: GatewaySettings | None = None
        self._read_at = 0.0

    async def settings(self) -> GatewaySettings:
        now = time.monotonic()
        if self._settings is None or now - self._read_at > self.refresh_s:
            self._settings = await read_settings(self.r)
            self._read_at = now
        return self._settings

    async def charge(self, order_id: str, amount: int, token: str) -> ChargeResult:
        s = await self.settings()
        if s.latency_ms > 0:
            await asyncio.sleep(s.latency_ms * (1 + random.random() * 0.5) / 1000)
        if s.outage:
            raise GatewayUnavailable("payment gateway unavailable (outage)")
        if random.random() < s.transient_failure_rate:
            raise GatewayUnavailable("payment gateway timed out")
        if token in REJECT_TOKENS:
            raise GatewayRejected(REJECT_TOKENS[token])
        if token in DECLINE_TOKENS:
            return ChargeResult(False, reason=DECLINE_TOKENS[token])
        txn = f"TXN-{order_id[4:]}-{random.randrange(16**6):06x}"
        record = json.dumps({"transaction_id": txn, "amount": amount, "token": token})
        # the first charge wins: a repeated call answers the recorded transaction
        pipe = self.r.pipeline(transaction=True)
        pipe.hsetnx(keys.GATEWAY_CHARGES, order_id, record)
        pipe.hget(keys.GATEWAY_CHARGES, order_id)
        _, raw = await pipe.execute()
        stored = json.loads(_s(raw))
        return ChargeResult(True, transaction_id=stored["transaction_id"])
