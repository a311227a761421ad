"""Producers: publish events (sync :class:`Producer`, asyncio :class:`AsyncProducer`).

Each publish is one ``XADD`` (or, for idempotent publishes on servers without ``XADD
IDMP``, one script call); ``publish_many`` sends a whole batch in one pipeline.

Retention per stream: ``Retention(maxlen=100_000)`` adds ``MAXLEN ~ 100000`` to each XADD,
``Retention(max_age_ms=86_400_000)`` adds ``MINID ~ <now - 1 day>``.

Idempotent publish: ``publish(..., idempotency_key="payment-abc")`` with the producer's
``producer_id``. On a server that has ``XADD ... IDMP producer iid`` (Redis 8.6+) that is
used (a repeated key returns the first entry's ID and adds nothing); elsewhere a script
does the same: it returns the ID stored under a marker key ``{stream}:idmp:<pid>:<iid>``
if one is there, else it XADDs and stores the new ID under the marker with a TTL, all in
one atomic script on the stream's hash slot. Support is detected once per producer (by
the error an older server answers).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from .codec import Codec, event_type_of, get_codec, to_plain
from .connection import check_client, connect, connect_async
from .envelope import build_fields
from .keys import colocated

# KEYS[1] stream, KEYS[2] dedup marker; ARGV[1] marker TTL (ms); ARGV[2..] XADD arguments
# after the key. Returns the entry ID (the first one for a repeated idempotency key).
DEDUP_XADD_LUA = """
local prev = redis.call('GET', KEYS[2])
if prev then return prev end
local id = redis.call('XADD', KEYS[1], unpack(ARGV, 2))
if id then redis.call('SET', KEYS[2], id, 'PX', ARGV[1]) end
return id
"""


@dataclass(frozen=True)
class Retention:
    """How long a stream keeps entries: by count (``MAXLEN``) or by age (``MINID``)."""

    maxlen: int | None = None
    max_age_ms: int | None = None
    approximate: bool = True
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.maxlen is not None and self.max_age_ms is not None:
            raise ValueError("Retention takes maxlen or max_age_ms, not both")

    def args(self, now_ms: int | None = None) -> list[Any]:
        out: list[Any] = []
        if self.maxlen is not None:
            out = ["MAXLEN", "~" if self.approximate else "=", self.maxlen]
        elif self.max_age_ms is not None:
            now = now_ms if now_ms is not None else time.time_ns() // 1_000_000
            out = ["MINID", "~" if self.approximate else "=", f"{max(0, now - self.max_age_ms)}-0"]
        if out and self.limit is not None and self.approximate:
            out += ["LIMIT", self.limit]
        return out


@dataclass
class Event:
    """One event to publish with :meth:`Producer.publish_many`."""

    payload: Any
    event_type: str | None = None
    headers: Mapping[str, str] | None = None
    event_id: str | None = None
    idempotency_key: str | None = None


def _unsupported_idmp(err: ResponseError) -> bool:
    text = str(err).lower()
    return ("invalid stream id" in text or "syntax error" in text
            or "unknown" in text or "wrong number" in text)


class _Base:
    def __init__(self, codec: str | Codec | None, producer_id: str | None,
                 retention: Retention | Mapping[str, Retention] | None,
                 dedup_ttl_ms: int, default_headers: Mapping[str, str] | None,
                 native_idempotency: bool | None) -> None:
        self.codec = get_codec(codec)
        self.producer_id = producer_id
        self.retention = retention
        self.dedup_ttl_ms = dedup_ttl_ms
        self.default_headers = dict(default_headers or {})
        # None: not known yet (detected on the first idempotent publish)
        self.native_idempotency = native_idempotency

    def retention_for(self, stream: str) -> Retention | None:
        r = self.retention
        if r is None or isinstance(r, Retention):
            return r
        return r.get(stream) or r.get("*")

    def _fields(self, payload: Any, event_type: str | None, headers: Mapping[str, str] | None,
                event_id: str | None) -> dict[bytes, bytes]:
        etype = event_type or (event_type_of(payload) if not isinstance(payload, dict)
                               else "event")
        h = dict(self.default_headers)
        if headers:
            h.update(headers)
        data = self.codec.encode(to_plain(payload))
        return build_fields(etype, data, self.codec, event_id=event_id, headers=h)

    def _command(self, stream: str, ev: Event, native: bool | None) -> tuple[str, list[Any]]:
        """("xadd", argv) or ("script", [keys, args])."""
        fields = self._fields(ev.payload, ev.event_type, ev.headers, ev.event_id)
        ret = self.retention_for(stream)
        opts = ret.args() if ret else []
        flat: list[Any] = []
        for k, v in fields.items():
            flat += [k, v]
        if ev.idempotency_key is None:
            return "xadd", ["XADD", stream, *opts, "*", *flat]
        pid = self.producer_id or "default"
        if native is not False:
            return "xadd", ["XADD", stream, "IDMP", pid, ev.idempotency_key, *opts, "*", *flat]
        marker = colocated(stream, f":idmp:{pid}:{ev.idempotency_key}")
        return "script", [[stream, marker], [self.dedup_ttl_ms, *opts, "*", *flat]]

    @staticmethod
    def _event(payload: Any, event_type: str | None, headers: Mapping[str, str] | None,
               event_id: str | None, idempotency_key: str | None) -> Event:
        return Event(payload, event_type, headers, event_id, idempotency_key)

    @staticmethod
    def _as_events(items: Iterable[Any]) -> list[Event]:
        return [x if isinstance(x, Event) else Event(x) for x in items]


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class Producer(_Base):
    """Publish events from synchronous code.

    >>> p = Producer("redis://localhost:6379")
    >>> p.publish("orders", {"order_id": 1}, event_type="ORDER_CREATED")
    '1718000000123-0'
    """

    def __init__(self, client: redis.Redis | str, *, codec: str | Codec | None = None,
                 producer_id: str | None = None,
                 retention: Retention | Mapping[str, Retention] | None = None,
                 dedup_ttl_ms: int = 3_600_000, default_headers: Mapping[str, str] | None = None,
                 native_idempotency: bool | None = None) -> None:
        super().__init__(codec, producer_id, retention, dedup_ttl_ms, default_headers,
                         native_idempotency)
        self.redis = connect(client) if isinstance(client, str) else client
        check_client(self.redis)
        self._script = self.redis.register_script(DEDUP_XADD_LUA)

    def publish(self, stream: str, payload: Any, *, event_type: str | None = None,
                headers: Mapping[str, str] | None = None, event_id: str | None = None,
                idempotency_key: str | None = None) -> str:
        """Append one event; returns its entry ID."""
        ev = self._event(payload, event_type, headers, event_id, idempotency_key)
        kind, cmd = self._command(stream, ev, self.native_idempotency)
        if kind == "script":
            return _s(self._script(keys=cmd[0], args=cmd[1]))
        try:
            rid = self.redis.execute_command(*cmd)
        except ResponseError as e:
            if ev.idempotency_key is None or self.native_idempotency is not None \
                    or not _unsupported_idmp(e):
                raise
            self.native_idempotency = False
            return self.publish(stream, payload, event_type=event_type, headers=headers,
                                event_id=event_id, idempotency_key=idempotency_key)
        if ev.idempotency_key is not None:
            self.native_idempotency = True
        return _s(rid)

    def publish_many(self, stream: str, events: Iterable[Any], *,
                     chunk: int = 1000) -> list[str]:
        """Append many events with pipelining (``chunk`` commands per round trip).

        Items are payloads or :class:`Event` objects (for per-event type, headers, keys)."""
        evs = self._as_events(events)
        if any(e.idempotency_key for e in evs) and self.native_idempotency is None:
            first = evs[0]
            ids = [self.publish(stream, first.payload, event_type=first.event_type,
                                headers=first.headers, event_id=first.event_id,
                                idempotency_key=first.idempotency_key)]
            evs = evs[1:]
        else:
            ids = []
        for i in range(0, len(evs), chunk):
            pipe = self.redis.pipeline(transaction=False)
            for ev in evs[i : i + chunk]:
                kind, cmd = self._command(stream, ev, self.native_idempotency)
                if kind == "script":
                    self._script(keys=cmd[0], args=cmd[1], client=pipe)
                else:
                    pipe.execute_command(*cmd)
            ids.extend(_s(r) for r in pipe.execute())
        return ids

    def publish_partitioned(self, stream: str, key: str, payload: Any, *, partitions: int,
                            **kw: Any) -> str:
        """Publish to the partition of ``key`` (``<stream>:p<i>``): one key's events stay
        in order (see :mod:`.partition`). The key travels in the ``partition-key`` header."""
        from .partition import partition_for, partition_stream

        headers = dict(kw.pop("headers", None) or {})
        headers["partition-key"] = key
        return self.publish(partition_stream(stream, partition_for(key, partitions)), payload,
                            headers=headers, **kw)

    def close(self) -> None:
        self.redis.close()


class AsyncProducer(_Base):
    """Publish events from asyncio code (same options as :class:`Producer`)."""

    def __init__(self, client: aioredis.Redis | str, *, codec: str | Codec | None = None,
                 producer_id: str | None = None,
                 retention: Retention | Mapping[str, Retention] | None = None,
                 dedup_ttl_ms: int = 3_600_000, default_headers: Mapping[str, str] | None = None,
                 native_idempotency: bool | None = None) -> None:
        super().__init__(codec, producer_id, retention, dedup_ttl_ms, default_headers,
                         native_idempotency)
        self.redis = connect_async(client) if isinstance(client, str) else client
        check_client(self.redis)
        self._script = self.redis.register_script(DEDUP_XADD_LUA)

    async def publish(self, stream: str, payload: Any, *, event_type: str | None = None,
                      headers: Mapping[str, str] | None = None, event_id: str | None = None,
                      idempotency_key: str | None = None) -> str:
        ev = self._event(payload, event_type, headers, event_id, idempotency_key)
        kind, cmd = self._command(stream, ev, self.native_idempotency)
        if kind == "script":
            return _s(await self._script(keys=cmd[0], args=cmd[1]))
        try:
            rid = await self.redis.execute_command(*cmd)
        except ResponseError as e:
            if ev.idempotency_key is None or self.native_idempotency is not None \
                    or not _unsupported_idmp(e):
                raise
            self.native_idempotency = False
            return await self.publish(stream, payload, event_type=event_type,
                                      headers=headers, event_id=event_id,
                                      idempotency_key=idempotency_key)
        if ev.idempotency_key is not None:
            self.native_idempotency = True
        return _s(rid)

    async def publish_many(self, stream: str, events: Iterable[Any], *,
                           chunk: int = 1000) -> list[str]:
        evs = self._as_events(events)
        ids: list[str] = []
        if any(e.idempotency_key for e in evs) and self.native_idempotency is None:
            first = evs[0]
            ids.append(await self.publish(stream, first.payload, event_type=first.event_type,
                                          headers=first.headers, event_id=first.event_id,
                                          idempotency_key=first.idempotency_key))
            evs = evs[1:]
        for i in range(0, len(evs), chunk):
            pipe = self.redis.pipeline(transaction=False)
            for ev in evs[i : i + chunk]:
                kind, cmd = self._command(stream, ev, self.native_idempotency)
                if kind == "script":
                    await self._script(keys=cmd[0], args=cmd[1], client=pipe)
                else:
                    pipe.execute_command(*cmd)
            ids.extend(_s(r) for r in await pipe.execute())
        return ids

    async def publish_partitioned(self, stream: str, key: str, payload: Any, *,
                                  partitions: int, **kw: Any) -> str:
        from .partition import partition_for, partition_stream

        headers = dict(kw.pop("headers", None) or {})
        headers["partition-key"] = key
        return await self.publish(partition_stream(stream, partition_for(key, partitions)),
                                  payload, headers=headers, **kw)

    async def aclose(self) -> None:
        await self.redis.aclose()


def publish_raw(client: redis.Redis, stream: str, fields: Mapping[Any, Any],
                retention: Retention | None = None) -> str:
    """XADD fields as they are (used by redrive and replay to keep the original envelope)."""
    flat: list[Any] = []
    for k, v in fields.items():
        flat += [k, v]
    return _s(client.execute_command("XADD", stream, *(retention.args() if retention else []),
                                     "*", *flat))


__all__: Sequence[str] = ["Producer", "AsyncProducer", "Retention", "Event", "publish_raw"]
