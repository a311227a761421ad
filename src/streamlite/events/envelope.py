"""The envelope: how an event is laid out in a stream entry.

An entry written by :class:`~streamlite.events.Producer` has these fields::

    event_type    ORDER_CREATED
    event_id      0192b6c8e0a47f3e9c1d2a4b5c6d7e8f   (unique per event; kept on redrive)
    timestamp     1718000000123                       (ms since the epoch, at publish)
    content_type  application/json                    (the codec of ``data``)
    headers       {"traceparent": "00-..."}           (JSON object; only when not empty)
    data          {"order_id": 1, ...}                (the payload, encoded)

Entries written by other producers (``XADD orders * orderId 101 eventType X``) are read
too: without a ``data`` field the payload is the entry's fields as a ``str -> str`` dict
and the event type comes from ``event_type``, ``eventType`` or ``type``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .codec import Codec, codec_for

F_TYPE = b"event_type"
F_ID = b"event_id"
F_TS = b"timestamp"
F_CT = b"content_type"
F_HEADERS = b"headers"
F_DATA = b"data"
# set by ``dlq redrive --group G``: the entry is for group G only; the framework's
# consumers of every other group acknowledge it without running a handler
F_REDRIVE_GROUP = b"redrive_group"
_TYPE_ALIASES = (F_TYPE, b"eventType", b"type")


def new_event_id() -> str:
    """A time-ordered unique id (UUIDv7 layout: 48-bit ms timestamp, then random bits)."""
    ms = time.time_ns() // 1_000_000
    rnd = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | (rnd & ((1 << 76) - 1))
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value).hex


def build_fields(event_type: str, data: bytes, codec: Codec, *, event_id: str | None = None,
                 timestamp_ms: int | None = None,
                 headers: dict[str, str] | None = None) -> dict[bytes, bytes]:
    fields = {
        F_TYPE: event_type.encode(),
        F_ID: (event_id or new_event_id()).encode(),
        F_TS: str(timestamp_ms if timestamp_ms is not None else time.time_ns() // 1_000_000)
        .encode(),
        F_CT: codec.content_type.encode(),
    }
    if headers:
        fields[F_HEADERS] = json.dumps(headers, separators=(",", ":")).encode()
    fields[F_DATA] = data
    return fields


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _bfields(fields: dict[Any, Any]) -> dict[bytes, bytes]:
    return {(k if isinstance(k, bytes) else str(k).encode()):
            (v if isinstance(v, bytes) else str(v).encode()) for k, v in fields.items()}


@dataclass
class Message:
    """One stream entry as the framework sees it."""

    stream: str
    id: str
    fields: dict[bytes, bytes]
    event_type: str = ""
    event_id: str = ""
    timestamp_ms: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    data: bytes | None = None

    @classmethod
    def from_entry(cls, stream: str, entry_id: Any, fields: dict[Any, Any]) -> Message:
        f = fields if all(isinstance(k, bytes) for k in fields) else _bfields(fields)
        etype = b""
        for name in _TYPE_ALIASES:
            if name in f:
                etype = f[name]
                break
        headers: dict[str, str] = {}
        h = f.get(F_HEADERS)
        if h:
            try:
                headers = {str(k): str(v) for k, v in json.loads(h).items()}
            except (ValueError, AttributeError):
                headers = {}
        ts = f.get(F_TS, b"")
        try:
            ts_ms = int(ts)
        except ValueError:
            ts_ms = 0
        mid = _s(entry_id)
        if not ts_ms:
            try:
                ts_ms = int(mid.split("-", 1)[0])
            except ValueError:
                ts_ms = 0
        return cls(stream=stream, id=mid, fields=f, event_type=_s(etype),
                   event_id=_s(f.get(F_ID, b"")) or mid, timestamp_ms=ts_ms,
                   headers=headers, content_type=_s(f.get(F_CT, b"")), data=f.get(F_DATA))

    def payload(self) -> Any:
        """The decoded payload (plain data): ``data`` through its codec, else the fields."""
        if self.data is None:
            return {_s(k): _s(v) for k, v in self.fields.items() if k != F_REDRIVE_GROUP}
        return codec_for(self.content_type or None).decode(self.data)
