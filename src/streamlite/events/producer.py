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

Failover (see :mod:`.failover`): with a ``retry`` policy (:class:`~.failover.WriteRetry`,
the default on a Redis Cluster client, off elsewhere unless given) a publish that fails
with a transient error (connection lost, ``CLUSTERDOWN``, ``TRYAGAIN``, ``MOVED``...) is
tried again until it succeeds or the policy's ``timeout_s`` is over. A failed attempt may
have been applied (its reply lost), so while retrying is on, every publish is idempotent:
one without an ``idempotency_key`` uses its ``event_id`` as one (its marker lives
``retry_dedup_ttl_ms``), so a retry returns the entry the first attempt added instead of
adding a second. ``wait_replicas=N`` makes a publish return only once ``N`` replicas
have the entry (``WAIT`` on the same connection): a failover right after cannot lose it.
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
from .delayed import CANCEL_LUA, SCHEDULE_LUA, cancel_call, due_spec, schedule_call
from .envelope import F_ID, build_fields, new_event_id
from .failover import (
    DEFAULT,
    AsyncReplicaWait,
    ReplicaWait,
    WriteRetry,
    resolve_retry,
    retry_async,
    retry_sync,
)
from .keys import colocated
from .scripts import execute, execute_sync

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


@dataclass
class _Prepared:
    """An event ready to send: its fields are built once, so every attempt of a retried
    publish sends the same entry (same ``event_id``, same dedup key)."""

    fields: dict[bytes, bytes]
    key: str | None        # the dedup key, if any
    key_ttl_ms: int        # how long the script path remembers the key


class _Base:
    redis: Any
    _script: Any

    def __init__(self, codec: str | Codec | None, producer_id: str | None,
                 retention: Retention | Mapping[str, Retention] | None,
                 dedup_ttl_ms: int, default_headers: Mapping[str, str] | None,
                 native_idempotency: bool | None, client: Any, retry: Any,
                 retry_dedup_ttl_ms: int | None) -> None:
        self.codec = get_codec(codec)
        self.producer_id = producer_id
        self.retention = retention
        self.dedup_ttl_ms = dedup_ttl_ms
        self.default_headers = dict(default_headers or {})
        # None: not known yet (detected on the first idempotent publish)
        self.native_idempotency = native_idempotency
        self.retry: WriteRetry | None = resolve_retry(retry, client)
        self.retry_dedup_ttl_ms = retry_dedup_ttl_ms or max(
            60_000, int(2_000 * (self.retry.timeout_s if self.retry else 30)))

    def retention_for(self, stream: str) -> Retention | None:
        r = self.retention
        if r is None or isinstance(r, Retention):
            return r
        return r.get(stream) or r.get("*")

    def _prepare(self, ev: Event) -> _Prepared:
        etype = ev.event_type or (event_type_of(ev.payload)
                                  if not isinstance(ev.payload, dict) else "event")
        h = dict(self.default_headers)
        if ev.headers:
            h.update(ev.headers)
        event_id = ev.event_id or new_event_id()
        data = self.codec.encode(to_plain(ev.payload))
        fields = build_fields(etype, data, self.codec, event_id=event_id, headers=h)
        if ev.idempotency_key is not None:
            return _Prepared(fields, ev.idempotency_key, self.dedup_ttl_ms)
        if self.retry is not None:  # a retried attempt must not add a second entry
            return _Prepared(fields, event_id, self.retry_dedup_ttl_ms)
        return _Prepared(fields, None, 0)

    def _command(self, stream: str, ev: _Prepared, native: bool | None) -> tuple[str, list[Any]]:
        """("xadd", argv) or ("script", [keys, args])."""
        ret = self.retention_for(stream)
        opts = ret.args() if ret else []
        flat: list[Any] = []
        for k, v in ev.fields.items():
            flat += [k, v]
        if ev.key is None:
            return "xadd", ["XADD", stream, *opts, "*", *flat]
        pid = self.producer_id or "default"
        if native is not False:
            return "xadd", ["XADD", stream, "IDMP", pid, ev.key, *opts, "*", *flat]
        marker = colocated(stream, f":idmp:{pid}:{ev.key}")
        return "script", [[stream, marker], [ev.key_ttl_ms, *opts, "*", *flat]]

    def _queue(self, pipe: Any, stream: str, ev: _Prepared) -> Any:
        kind, cmd = self._command(stream, ev, self.native_idempotency)
        if kind == "script":
            return self._script(keys=cmd[0], args=cmd[1], client=pipe)
        pipe.execute_command(*cmd)
        return None

    def _idmp_unknown(self, evs: Sequence[_Prepared], err: ResponseError) -> bool:
        """An ``XADD ... IDMP`` refused by a server without it: use the script from now.
        (Only a single event is sent while this is not known, see :meth:`_probe_first`.)"""
        if len(evs) != 1 or evs[0].key is None or self.native_idempotency is True \
                or not _unsupported_idmp(err):
            return False
        self.native_idempotency = False  # (concurrent first publishes may all get here)
        return True

    def _known(self, evs: Sequence[_Prepared]) -> None:
        if self.native_idempotency is None and any(ev.key is not None for ev in evs):
            self.native_idempotency = True

    def _probe_first(self, evs: list[_Prepared]) -> int:
        """How many events to send one by one before batching: up to the first one with a
        dedup key while the server's IDMP support is unknown (a batch cannot be resent
        after a refusal: its other entries were added)."""
        if self.native_idempotency is not None:
            return 0
        return next((i + 1 for i, ev in enumerate(evs) if ev.key is not None), 0)

    def _single(self, stream: str, evs: Sequence[_Prepared]) -> Any:
        """One event without a pipeline: the XADD or the script call (its reply, or an
        awaitable of it on an asyncio client); None for a batch."""
        if len(evs) != 1:
            return None
        kind, cmd = self._command(stream, evs[0], self.native_idempotency)
        if kind == "script":
            return self._script(keys=cmd[0], args=cmd[1])
        return self.redis.execute_command(*cmd)

    def _delayed(self, stream: str, ev: _Prepared, idempotency_key: str | None,
                 delay: Any, at: Any) -> tuple[str, list[str], list[Any]]:
        """A delayed publish (see :mod:`.delayed`): (event_id, KEYS, ARGV) of the
        schedule script. Its key is the idempotency key if any, else the event ID; the
        script adds nothing for a key already scheduled, so retrying it is safe."""
        event_id = ev.fields[F_ID].decode()
        keys, args = schedule_call(stream, idempotency_key or event_id, ev.fields,
                                   due_spec(delay, at))
        return event_id, keys, args

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

    ``retry``: a :class:`~.failover.WriteRetry` (default: one on a Redis Cluster client,
    none elsewhere; ``None``: never retry). ``wait_replicas``: return only once that many
    replicas acknowledged the entry (``WAIT``, up to ``wait_timeout_ms`` per attempt).
    """

    def __init__(self, client: redis.Redis | str, *, codec: str | Codec | None = None,
                 producer_id: str | None = None,
                 retention: Retention | Mapping[str, Retention] | None = None,
                 dedup_ttl_ms: int = 3_600_000, default_headers: Mapping[str, str] | None = None,
                 native_idempotency: bool | None = None, retry: Any = DEFAULT,
                 retry_dedup_ttl_ms: int | None = None, wait_replicas: int = 0,
                 wait_timeout_ms: int = 1_000) -> None:
        self.redis = connect(client) if isinstance(client, str) else client
        check_client(self.redis)
        super().__init__(codec, producer_id, retention, dedup_ttl_ms, default_headers,
                         native_idempotency, self.redis, retry, retry_dedup_ttl_ms)
        self._script = self.redis.register_script(DEDUP_XADD_LUA)
        self._schedule = self.redis.register_script(SCHEDULE_LUA)
        self._wait = ReplicaWait(self.redis, wait_replicas, wait_timeout_ms) \
            if wait_replicas > 0 else None

    def publish(self, stream: str, payload: Any, *, event_type: str | None = None,
                headers: Mapping[str, str] | None = None, event_id: str | None = None,
                idempotency_key: str | None = None, delay: Any = None,
                at: Any = None) -> str:
        """Append one event; returns its entry ID.

        ``delay`` (seconds or a timedelta) or ``at`` (a datetime or epoch seconds): keep
        it in the backend and append it when it is due (see :mod:`.delayed`); returns
        its event ID then (the entry does not exist yet)."""
        ev = self._prepare(self._event(payload, event_type, headers, event_id, idempotency_key))
        if delay is not None or at is not None:
            eid, keys, args = self._delayed(stream, ev, idempotency_key, delay, at)
            retry_sync(self.retry, lambda: self._schedule(keys=keys, args=args),
                       f"schedule on {stream}")
            return eid
        return retry_sync(self.retry, lambda: self._send(stream, [ev])[0],
                          f"publish to {stream}")

    def _send(self, stream: str, evs: Sequence[_Prepared]) -> list[str]:
        """One attempt: every event in one pipeline (and WAIT), their entry IDs."""
        def build(pipe: Any) -> None:
            for ev in evs:
                self._queue(pipe, stream, ev)

        try:
            if self._wait is not None:
                replies = self._wait.run(stream, build)
            elif len(evs) == 1:
                replies = [self._single(stream, evs)]
            else:
                replies = execute_sync(self.redis, build, [DEDUP_XADD_LUA])
        except ResponseError as e:
            if not self._idmp_unknown(evs, e):
                raise
            return self._send(stream, evs)
        self._known(evs)
        return [_s(r) for r in replies]

    def publish_many(self, stream: str, events: Iterable[Any], *,
                     chunk: int = 1000) -> list[str]:
        """Append many events with pipelining (``chunk`` commands per round trip).

        Items are payloads or :class:`Event` objects (for per-event type, headers, keys)."""
        evs = [self._prepare(e) for e in self._as_events(events)]
        ids: list[str] = []
        for _ in range(self._probe_first(evs)):
            ev = evs.pop(0)
            ids += retry_sync(self.retry, lambda ev=ev: self._send(stream, [ev]),  # type: ignore[misc]
                              f"publish to {stream}")
        for i in range(0, len(evs), chunk):
            part = evs[i : i + chunk]
            ids += retry_sync(self.retry, lambda part=part: self._send(stream, part),  # type: ignore[misc]
                              f"publish to {stream}")
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

    def cancel_delayed(self, stream: str, key: str) -> bool:
        """Drop a delayed event not yet due (``key``: its event ID, or the idempotency
        key it was published with); whether it was still waiting."""
        keys, args = cancel_call(stream, key)
        return bool(self.redis.eval(CANCEL_LUA, len(keys), *keys, *args))

    def close(self) -> None:
        self.redis.close()


class AsyncProducer(_Base):
    """Publish events from asyncio code (same options as :class:`Producer`)."""

    def __init__(self, client: aioredis.Redis | str, *, codec: str | Codec | None = None,
                 producer_id: str | None = None,
                 retention: Retention | Mapping[str, Retention] | None = None,
                 dedup_ttl_ms: int = 3_600_000, default_headers: Mapping[str, str] | None = None,
                 native_idempotency: bool | None = None, retry: Any = DEFAULT,
                 retry_dedup_ttl_ms: int | None = None, wait_replicas: int = 0,
                 wait_timeout_ms: int = 1_000) -> None:
        self.redis = connect_async(client) if isinstance(client, str) else client
        check_client(self.redis)
        super().__init__(codec, producer_id, retention, dedup_ttl_ms, default_headers,
                         native_idempotency, self.redis, retry, retry_dedup_ttl_ms)
        self._script = self.redis.register_script(DEDUP_XADD_LUA)
        self._schedule = self.redis.register_script(SCHEDULE_LUA)
        self._wait = AsyncReplicaWait(self.redis, wait_replicas, wait_timeout_ms) \
            if wait_replicas > 0 else None

    async def publish(self, stream: str, payload: Any, *, event_type: str | None = None,
                      headers: Mapping[str, str] | None = None, event_id: str | None = None,
                      idempotency_key: str | None = None, delay: Any = None,
                      at: Any = None) -> str:
        """:meth:`Producer.publish` (``delay``/``at`` included) for asyncio code."""
        ev = self._prepare(self._event(payload, event_type, headers, event_id, idempotency_key))
        if delay is not None or at is not None:
            eid, keys, args = self._delayed(stream, ev, idempotency_key, delay, at)
            await retry_async(self.retry, lambda: self._schedule(keys=keys, args=args),
                              f"schedule on {stream}")
            return eid
        ids = await retry_async(self.retry, lambda: self._send(stream, [ev]),
                                f"publish to {stream}")
        return ids[0]

    async def _send(self, stream: str, evs: Sequence[_Prepared]) -> list[str]:
        async def build(pipe: Any) -> None:
            for ev in evs:
                res = self._queue(pipe, stream, ev)
                if res is not None:
                    await res

        try:
            if self._wait is not None:
                replies = await self._wait.run(stream, build)
            elif len(evs) == 1:
                replies = [await self._single(stream, evs)]
            else:
                replies = await execute(self.redis, build, [DEDUP_XADD_LUA])
        except ResponseError as e:
            if not self._idmp_unknown(evs, e):
                raise
            return await self._send(stream, evs)
        self._known(evs)
        return [_s(r) for r in replies]

    async def publish_many(self, stream: str, events: Iterable[Any], *,
                           chunk: int = 1000) -> list[str]:
        evs = [self._prepare(e) for e in self._as_events(events)]
        ids: list[str] = []
        for _ in range(self._probe_first(evs)):
            ev = evs.pop(0)
            ids += await retry_async(self.retry,
                                     lambda ev=ev: self._send(stream, [ev]),  # type: ignore[misc]
                                     f"publish to {stream}")
        for i in range(0, len(evs), chunk):
            part = evs[i : i + chunk]
            ids += await retry_async(self.retry, lambda part=part: self._send(stream, part),  # type: ignore[misc]
                                     f"publish to {stream}")
        return ids

    async def publish_partitioned(self, stream: str, key: str, payload: Any, *,
                                  partitions: int, **kw: Any) -> str:
        from .partition import partition_for, partition_stream

        headers = dict(kw.pop("headers", None) or {})
        headers["partition-key"] = key
        return await self.publish(partition_stream(stream, partition_for(key, partitions)),
                                  payload, headers=headers, **kw)

    async def cancel_delayed(self, stream: str, key: str) -> bool:
        """:meth:`Producer.cancel_delayed` for asyncio code."""
        keys, args = cancel_call(stream, key)
        return bool(await self.redis.eval(CANCEL_LUA, len(keys), *keys, *args))

    async def close_waits(self) -> None:
        """Close the connections opened for ``WAIT`` (not the client)."""
        if self._wait is not None:
            await self._wait.aclose()

    async def aclose(self) -> None:
        await self.close_waits()
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
