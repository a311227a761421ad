"""Changes to a consumer's own pending entries, each guarded by ownership.

A pending entry belongs to the consumer that read or claimed it last. Another consumer
may take it over (``XAUTOCLAIM`` after ``claim_idle_ms``); from then on the first
consumer must not touch it: not reset its idle time, not schedule its retry, not
dead-letter it, not release it. Each operation here is one script that first checks,
per entry, ``XPENDING <stream> <group> <id> <id> 1 <me>`` (is it still pending, and
mine?) and then acts only on the entries that are:

* :meth:`PendingOps.touch`: ``XCLAIM <stream> <group> <me> 0 <ids> IDLE <ms> JUSTID``.
  With ``IDLE 0`` this is the worker's keepalive for entries it still holds (their idle
  time restarts, so nobody reclaims them while their owner is alive); with ``IDLE
  claim_idle_ms - delay`` it schedules a retry (the entry becomes reclaimable after
  ``delay``). ``JUSTID`` leaves the delivery counter alone.
* :meth:`PendingOps.dead_letter`: ``XADD <dlq> ...`` + ``XACK``, at most once per entry:
  a second attempt (a stale owner, a repeated call) finds the entry no longer pending
  for this consumer and writes nothing.
* :meth:`PendingOps.nack`: ``XNACK <stream> <group> SILENT|FAIL IDS n <ids>`` (Redis 8.8):
  release entries so that any consumer can claim them at once. Whether the server has
  XNACK is detected once per client with :func:`xnack_supported`.

The scripts touch one stream (and its dead-letter stream, which :func:`~.keys.dlq_stream`
puts in the same Redis Cluster slot). A dead-letter stream configured in another slot on
a Redis Cluster client falls back to a check, ``XADD <dlq> IDMP dlq:<group>
<stream>/<id> ...`` (where the server has IDMP, so a repeat after a crash between the
XADD and the XACK adds nothing) and ``XACK``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError, ResponseError

from .connection import is_cluster
from .dlq import same_slot
from .producer import _unsupported_idmp

log = logging.getLogger("streamlite.events.pel")

# ARGV[1] group, ARGV[2] consumer; then the entry IDs. Defines `owned`: the IDs still
# pending for that consumer.
_OWNED = """
local owned = {}
for i = FIRST, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p > 0 then owned[#owned + 1] = ARGV[i] end
end
"""

# KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] idle ms, ARGV[4..] IDs.
# Returns the IDs touched (those still pending for the consumer).
TOUCH_LUA = _OWNED.replace("FIRST", "4") + """
if #owned > 0 then
  local cmd = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
  for _, id in ipairs(owned) do cmd[#cmd + 1] = id end
  cmd[#cmd + 1] = 'IDLE'
  cmd[#cmd + 1] = ARGV[3]
  cmd[#cmd + 1] = 'JUSTID'
  redis.call(unpack(cmd))
end
return owned
"""

# KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] mode, ARGV[4..] IDs.
# Returns the IDs released.
NACK_LUA = _OWNED.replace("FIRST", "4") + """
if #owned > 0 then
  local cmd = {'XNACK', KEYS[1], ARGV[1], ARGV[3], 'IDS', tostring(#owned)}
  for _, id in ipairs(owned) do cmd[#cmd + 1] = id end
  redis.call(unpack(cmd))
end
return owned
"""

# KEYS[1] stream, KEYS[2] dead-letter stream; ARGV[1] group, ARGV[2] consumer, ARGV[3]
# entry ID, ARGV[4] MAXLEN ~ of the DLQ ('' for none), ARGV[5..] the dead letter's fields.
# Returns the dead letter's ID, or nil when the entry is not pending for the consumer.
DEAD_LETTER_LUA = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #p == 0 then return false end
local cmd = {'XADD', KEYS[2]}
if ARGV[4] ~= '' then
  cmd[#cmd + 1] = 'MAXLEN'; cmd[#cmd + 1] = '~'; cmd[#cmd + 1] = ARGV[4]
end
cmd[#cmd + 1] = '*'
for i = 5, #ARGV do cmd[#cmd + 1] = ARGV[i] end
local id = redis.call(unpack(cmd))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
return id
"""

CHUNK = 500  # IDs per script call (Lua's unpack has a limit on arguments)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _unknown_command(err: ResponseError) -> bool:
    text = str(err).lower()
    return "unknown command" in text or "unknown redis command" in text


async def xnack_supported(client: Any, stream: str, group: str) -> bool:
    """Whether the server has ``XNACK`` (Redis 8.8+, streamlite): probed with a release
    of ID ``0-1``, which can never be pending, so nothing changes. A server without it
    answers ``ERR unknown command 'XNACK'``; redis-py's sync cluster client does not even
    send a command missing from the cluster's ``COMMAND`` table (it raises a plain
    ``RedisError``), which means the same. Any other error is logged and taken as no."""
    try:
        await client.execute_command("XNACK", stream, group, "SILENT", "IDS", 1, "0-1")
    except ResponseError as e:
        if _unknown_command(e):
            return False
        log.warning("XNACK probe on %s/%s: %s; not using XNACK", stream, group, e)
        return False
    except RedisError as e:
        if "doesn't exist in redis commands" not in str(e).lower():
            log.warning("XNACK probe on %s/%s: %s; not using XNACK", stream, group, e)
        return False
    return True


class PendingOps:
    """Ownership-checked changes to the pending entries of ``consumer`` in ``group``."""

    def __init__(self, client: Any, stream: str, group: str, consumer: str) -> None:
        self.redis = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self._touch = client.register_script(TOUCH_LUA)
        self._nack = client.register_script(NACK_LUA)
        self._dead = client.register_script(DEAD_LETTER_LUA)
        self._idmp: bool | None = None  # False: XADD IDMP is unknown to the server

    async def touch(self, ids: Sequence[str], idle_ms: int = 0) -> set[str]:
        """Set the idle time of those of ``ids`` still pending for this consumer to
        ``idle_ms``; returns them."""
        out: set[str] = set()
        for i in range(0, len(ids), CHUNK):
            res = await self._touch(keys=[self.stream],
                                    args=[self.group, self.consumer, max(0, int(idle_ms)),
                                          *ids[i:i + CHUNK]])
            out.update(_s(x) for x in res or ())
        return out

    async def nack(self, mode: str, ids: Sequence[str]) -> set[str]:
        """``XNACK ... <mode>`` those of ``ids`` still pending for this consumer (the
        caller knows the server has XNACK); returns them."""
        out: set[str] = set()
        for i in range(0, len(ids), CHUNK):
            res = await self._nack(keys=[self.stream],
                                   args=[self.group, self.consumer, mode, *ids[i:i + CHUNK]])
            out.update(_s(x) for x in res or ())
        return out

    async def dead_letter(self, dlq: str, entry_id: str, fields: Sequence[Any],
                          maxlen: int | None) -> str | None:
        """Add the dead letter and acknowledge the entry, atomically, if the entry is
        still pending for this consumer; the dead letter's ID, or None if not."""
        if same_slot(dlq, self.stream) or not is_cluster(self.redis):
            res = await self._dead(keys=[self.stream, dlq],
                                   args=[self.group, self.consumer, entry_id,
                                         maxlen or "", *fields])
            return None if res is None else _s(res)
        # a DLQ in another cluster slot: check, then write (not atomic)
        mine = await self.redis.xpending_range(self.stream, self.group, min=entry_id,
                                               max=entry_id, count=1,
                                               consumername=self.consumer)
        if not mine:
            return None
        trim = ["MAXLEN", "~", maxlen] if maxlen else []
        # a crash between the XADD and the XACK leaves the entry pending, and a later
        # attempt adds it again: with IDMP (Redis 8.6+, streamlite) the server answers
        # the first dead letter's ID instead of adding a second one
        idmp = [] if self._idmp is False else \
            ["IDMP", f"dlq:{self.group}", f"{self.stream}/{entry_id}"]
        try:
            new_id = await self.redis.execute_command("XADD", dlq, *idmp, *trim, "*",
                                                      *fields)
        except ResponseError as e:
            if not idmp or not _unsupported_idmp(e):
                raise
            self._idmp = False
            new_id = await self.redis.execute_command("XADD", dlq, *trim, "*", *fields)
        await self.redis.xack(self.stream, self.group, entry_id)
        return _s(new_id)
