"""Delayed and scheduled messages: ``publish(..., delay=...)`` / ``publish(..., at=...)``.

The model: a delayed event is fully built when it is published (same envelope, same
``event_id`` as an immediate publish) but, instead of being appended to the stream, it is
kept in the backend beside the stream until it is due:

* ``{stream}:delayed`` — a sorted set: member = the event's key (its ``event_id``, or its
  ``idempotency_key`` when one is given), score = when it is due (ms since the epoch);
* ``{stream}:delayed:data`` — a hash: the same key -> the entry's fields, encoded as
  netstrings (``<len>:<bytes>`` one after the other: binary safe, parsed by Lua).

Both are named with :func:`~.keys.colocated`, so they live in the stream's hash slot on a
Redis Cluster and one script can touch the three keys.

**Scheduling** (:data:`SCHEDULE_LUA`) stores both in one script; a key already scheduled
is left as it is, so a repeated schedule (a retried publish, the same idempotency key)
adds nothing. With ``delay=`` the due time is computed by the server (``TIME``), so the
clocks of the producers do not matter; ``at=`` is an absolute wall-clock time.

**Moving** (:data:`MOVE_LUA`): every worker of an :class:`~.app.App` runs a
:class:`DelayedMover` for the streams it consumes. One script call takes the due keys
(up to a batch), ``XADD`` s each entry to the stream and removes it from the sorted set
and the hash. Scripts are atomic, so with any number of workers each delayed event is
appended exactly once; the state is in the backend, so it survives restarts of the
workers (and of the server, as far as its persistence goes). The script answers how long
until the next key is due; the mover sleeps that long (at most ``poll_s``).

A delayed event is delivered when it is due *and* a worker of the stream is running,
at the mover's precision (``poll_s``, 1 s by default, sooner when the next due time is
known). ``streamlite top`` shows how many events wait (the ``delayed`` column).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .failover import TRANSIENT
from .keys import colocated

log = logging.getLogger("streamlite.events.delayed")

# KEYS[1] sorted set, KEYS[2] hash; ARGV[1] key, ARGV[2] 'in' | 'at',
# ARGV[3] delay ms ('in') or due time ms since the epoch ('at'), ARGV[4] encoded fields.
# Returns the due time (ms since the epoch), or the one already stored for that key.
SCHEDULE_LUA = """
local prev = redis.call('ZSCORE', KEYS[1], ARGV[1])
if prev and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return tonumber(prev) end
local due
if ARGV[2] == 'in' then
  local t = redis.call('TIME')
  due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])
else
  due = tonumber(ARGV[3])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[1], due, ARGV[1])
return due
"""

# KEYS[1] sorted set, KEYS[2] hash, KEYS[3] stream; ARGV[1] batch size, ARGV[2..] XADD
# options (retention) before the ID. Returns {moved, ms until the next due key or -1}.
MOVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local moved = 0
for _, key in ipairs(due) do
  local blob = redis.call('HGET', KEYS[2], key)
  if blob then
    local args = {KEYS[3]}
    for i = 2, #ARGV do args[#args + 1] = ARGV[i] end
    args[#args + 1] = '*'
    local i = 1
    while i <= #blob do
      local c = string.find(blob, ':', i, true)
      local n = tonumber(string.sub(blob, i, c - 1))
      args[#args + 1] = string.sub(blob, c + 1, c + n)
      i = c + n + 1
    end
    redis.call('XADD', unpack(args))
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[1], key)
  redis.call('HDEL', KEYS[2], key)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = -1
if nxt[2] then
  wait = tonumber(nxt[2]) - now
  if wait < 0 then wait = 0 end
end
return {moved, wait}
"""

# KEYS[1] sorted set, KEYS[2] hash; ARGV[1] key. Returns 1 if it was scheduled.
CANCEL_LUA = """
local n = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return n
"""


def delayed_key(stream: str) -> str:
    """The sorted set of ``stream``'s delayed events (due time by key)."""
    return colocated(stream, ":delayed")


def delayed_data_key(stream: str) -> str:
    """The hash of ``stream``'s delayed events (encoded fields by key)."""
    return colocated(stream, ":delayed:data")


def stream_of_delayed(key: str) -> str | None:
    """The stream a :func:`delayed_key` belongs to (None for other keys)."""
    from .keys import source_of_dlq

    if not key.endswith(":delayed"):
        return None
    return source_of_dlq(key[: -len(":delayed")] + ":dlq")


def encode_fields(fields: Mapping[bytes, bytes]) -> bytes:
    """Entry fields as netstrings, ``<len>:<bytes>`` each, name then value."""
    out = bytearray()
    for k, v in fields.items():
        for part in (k, v):
            out += b"%d:" % len(part)
            out += part
    return bytes(out)


def decode_fields(blob: bytes) -> dict[bytes, bytes]:
    """The inverse of :func:`encode_fields`."""
    parts: list[bytes] = []
    i = 0
    while i < len(blob):
        c = blob.index(b":", i)
        n = int(blob[i:c])
        parts.append(blob[c + 1 : c + 1 + n])
        i = c + 1 + n
    return dict(zip(parts[::2], parts[1::2], strict=True))


def due_spec(delay: float | _dt.timedelta | None,
             at: _dt.datetime | float | None) -> tuple[str, int]:
    """``("in", delay_ms)`` or ``("at", epoch_ms)`` for a publish's ``delay``/``at``.

    ``delay``: seconds (int/float) or a timedelta. ``at``: a datetime (a naive one is
    local time, as :meth:`datetime.timestamp` reads it) or seconds since the epoch."""
    if delay is not None and at is not None:
        raise ValueError("publish takes delay= or at=, not both")
    if delay is not None:
        secs = delay.total_seconds() if isinstance(delay, _dt.timedelta) else float(delay)
        return "in", max(0, int(round(secs * 1000)))
    assert at is not None
    ts = at.timestamp() if isinstance(at, _dt.datetime) else float(at)
    return "at", max(0, int(round(ts * 1000)))


def schedule_call(stream: str, key: str, fields: Mapping[bytes, bytes],
                  spec: tuple[str, int]) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of :data:`SCHEDULE_LUA`."""
    return ([delayed_key(stream), delayed_data_key(stream)],
            [key, spec[0], spec[1], encode_fields(fields)])


def move_call(stream: str, batch: int, xadd_options: Iterable[Any] = ()
              ) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of :data:`MOVE_LUA`."""
    return ([delayed_key(stream), delayed_data_key(stream), stream],
            [batch, *xadd_options])


def cancel_call(stream: str, key: str) -> tuple[list[str], list[Any]]:
    return [delayed_key(stream), delayed_data_key(stream)], [key]


def count_delayed(client: Any, stream: str) -> int:
    """How many events wait to be appended to ``stream`` (sync client)."""
    return int(client.zcard(delayed_key(stream)))


class DelayedMover:
    """Appends due delayed events to their streams (one task per worker process).

    ``retention_for(stream)`` gives the :class:`~.producer.Retention` the entries are
    appended with (the app's producer's). Safe to run in any number of processes."""

    def __init__(self, client: Any, streams: Iterable[str], *,
                 retention_for: Callable[[str], Any] | None = None,
                 poll_s: float = 1.0, batch: int = 100) -> None:
        self.client = client
        self.streams = list(dict.fromkeys(streams))
        self.retention_for = retention_for
        self.poll_s = poll_s
        self.batch = batch
        self._script = client.register_script(MOVE_LUA)
        self.moved = 0
        self._stop = asyncio.Event()

    async def move_once(self, stream: str) -> tuple[int, int]:
        """One script call: (entries appended, ms until the next is due or -1)."""
        ret = self.retention_for(stream) if self.retention_for else None
        keys, args = move_call(stream, self.batch, ret.args() if ret else ())
        moved, wait = await self._script(keys=keys, args=args)
        moved = int(moved)
        self.moved += moved
        if moved:
            log.debug("moved %d delayed events to %s", moved, stream)
        return moved, int(wait)

    async def run(self) -> None:
        """Until :meth:`stop` (or cancelled)."""
        delay = 0.2
        while not self._stop.is_set():
            sleep_s = self.poll_s
            try:
                for stream in self.streams:
                    while True:
                        moved, wait = await self.move_once(stream)
                        if moved < self.batch:
                            break
                    if wait >= 0:
                        sleep_s = min(sleep_s, wait / 1000)
                delay = 0.2
            except TRANSIENT as e:
                log.warning("moving delayed events failed: %s (retrying in %.1fs)", e, delay)
                sleep_s, delay = delay, min(delay * 2, 5.0)
            except Exception as e:  # a script error (e.g. WRONGTYPE): keep going, say so
                log.error("moving delayed events failed: %s", e)
                sleep_s = max(sleep_s, 1.0)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.005, sleep_s))

    def stop(self) -> None:
        self._stop.set()
