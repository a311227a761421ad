"""Metrics over time for any deployment: every stream and consumer group, sampled.

The model: a :class:`Monitor` polls the backend every ``interval_s`` with ``XINFO
STREAM`` and ``XINFO GROUPS`` for each stream (pipelined: two commands per stream, one
round trip per node), ``XINFO CONSUMERS`` for each group, and ``MEMORY USAGE`` of each
stream every ``memory_every_s``. Which streams: a fixed list, or every key of type
stream found by ``SCAN ... TYPE stream`` (every node of a cluster) every
``discover_every_s``, at most ``max_streams`` of them. So the cost is bounded: about
``3 * streams + groups`` commands per interval, whatever the traffic. (Keyspace
notifications would tell of new streams sooner, but need ``notify-keyspace-events`` set
on the server and a connection per node: polling works everywhere, read-only.)

Each sample is a point of every series, by name:

==========================  ==================================================
``rate:<stream>``           entries added per second, moving average over
                            ``rate_window_s`` (from ``entries-added``)
``len:<stream>``            length
``mem:<stream>``            bytes (``MEMORY USAGE``; the last value between reads)
``lag:<stream>/<group>``    entries not yet delivered to the group
``pending:<stream>/<group>``  delivered, not acknowledged
``dlq:<stream>``            length of the stream's dead-letter stream
extra names                 whatever ``extra()`` returns (the seed app: latency)
==========================  ==================================================

History: every sample for the last ``fine_s`` (15 min), then one sample per
``coarse_step_s`` (30 s) for ``coarse_s`` (24 h), in memory: a page reload gets it all
back with ``history()``; a restart of the process starts afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from streamlite.events.keys import source_of_dlq

log = logging.getLogger("streamlite.apps.monitor")


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _d(h: Any) -> dict[str, Any]:
    return {_s(k): v for k, v in (h or {}).items()} if isinstance(h, dict) else {}


def _int(v: Any, default: int | None = 0) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


@dataclass
class Sample:
    t_ms: int
    values: dict[str, float | None]


@dataclass
class Monitor:
    r: Any                                   # an asyncio redis-py client
    streams: list[str] | None = None         # None: discover (SCAN TYPE stream)
    interval_s: float = 2.0
    rate_window_s: float = 30.0
    fine_s: float = 15 * 60.0
    coarse_step_s: float = 30.0
    coarse_s: float = 24 * 3600.0
    memory_every_s: float = 30.0
    discover_every_s: float = 30.0
    max_streams: int = 200
    extra: Callable[[], Awaitable[dict[str, float | None]]] | None = None
    fine: deque[Sample] = field(default_factory=deque)
    coarse: deque[Sample] = field(default_factory=deque)
    latest: dict[str, Any] = field(default_factory=dict)   # the tables: streams, groups
    _added: deque[tuple[float, dict[str, int]]] = field(default_factory=deque)
    _memory: dict[str, int] = field(default_factory=dict)
    _memory_at: float = 0.0
    _known: list[str] = field(default_factory=list)
    _known_at: float = 0.0
    _task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ running
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.sample()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the backend away for a moment: a gap in the charts
                self.latest = {**self.latest, "error": f"{type(e).__name__}: {e}"}
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # redis-py may swallow a cancel
                raise asyncio.CancelledError
            await asyncio.sleep(self.interval_s)

    # ------------------------------------------------------------ sampling
    async def stream_names(self) -> list[str]:
        if self.streams is not None:
            return list(self.streams)
        now = time.monotonic()
        if not self._known or now - self._known_at >= self.discover_every_s:
            found: set[str] = set()
            async for k in self.r.scan_iter(_type="stream", count=1000):
                found.add(_s(k))
                if len(found) >= self.max_streams:
                    break
            self._known = sorted(found)
            self._known_at = now
        return list(self._known)

    async def sample(self, now: float | None = None) -> Sample:
        """Read everything once; append the sample to the history and return it."""
        now = time.time() if now is None else now
        names = await self.stream_names()
        p = self.r.pipeline(transaction=False)
        for s in names:
            p.xinfo_stream(s)
            p.xinfo_groups(s)
        res = await p.execute(raise_on_error=False) if names else []
        streams: list[dict[str, Any]] = []
        added: dict[str, int] = {}
        for i, s in enumerate(names):
            info, groups = res[2 * i], res[2 * i + 1]
            if isinstance(info, Exception):
                continue  # deleted since it was found
            info = _d(info)
            length = _int(info.get("length")) or 0
            total = _int(info.get("entries-added"), None)
            added[s] = total if total is not None else length
            gl = []
            for g in groups if isinstance(groups, list) else []:
                g = _d(g)
                gl.append({"name": _s(g.get("name", b"")), "consumers": _int(g.get("consumers")),
                           "pending": _int(g.get("pending")), "lag": _int(g.get("lag"), None),
                           "last_delivered_id": _s(g.get("last-delivered-id", b""))})
            streams.append({"name": s, "length": length, "added": added[s], "groups": gl,
                            "dlq_of": source_of_dlq(s),
                            "last_id": _s(info.get("last-generated-id", b""))})
        # consumers of every group (their idle times), memory now and then
        p = self.r.pipeline(transaction=False)
        pairs = [(st["name"], g["name"]) for st in streams for g in st["groups"]]
        for sname, gname in pairs:
            p.xinfo_consumers(sname, gname)
        read_memory = now - self._memory_at >= self.memory_every_s
        if read_memory:
            for st in streams:
                p.memory_usage(st["name"])
        res2 = await p.execute(raise_on_error=False) if pairs or read_memory and streams else []
        it = iter(res2)
        by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for pair in pairs:
            cons = next(it)
            by_pair[pair] = [{"name": _s(c.get("name", b"")), "pending": _int(c.get("pending")),
                              "idle_ms": _int(c.get("idle")),
                              "inactive_ms": _int(c.get("inactive"), None)}
                             for c in (_d(x) for x in (cons if isinstance(cons, list) else []))]
        if read_memory:
            self._memory_at = now
            for st in streams:
                m = next(it)
                if not isinstance(m, Exception) and m is not None:
                    self._memory[st["name"]] = int(m)
        rates = self._rates(now, added)
        values: dict[str, float | None] = {}
        dlq_len = {st["dlq_of"]: st["length"] for st in streams if st["dlq_of"]}
        for st in streams:
            n = st["name"]
            st["rate"] = rates.get(n, 0.0)
            st["memory"] = self._memory.get(n)
            values[f"rate:{n}"] = st["rate"]
            values[f"len:{n}"] = st["length"]
            values[f"mem:{n}"] = st["memory"]
            if st["dlq_of"] is None:
                st["dlq_length"] = dlq_len.get(n, 0)
                values[f"dlq:{n}"] = dlq_len.get(n, 0)
            for g in st["groups"]:
                cons = by_pair.get((n, g["name"]), [])
                g["consumer_list"] = cons
                idle = [c["idle_ms"] for c in cons if c["idle_ms"] is not None]
                g["min_idle_ms"] = min(idle) if idle else None
                values[f"lag:{n}/{g['name']}"] = g["lag"]
                values[f"pending:{n}/{g['name']}"] = g["pending"]
        if self.extra is not None:
            try:
                values.update(await self.extra())
            except Exception as e:  # the app's own series are a bonus
                log.debug("extra metrics failed: %s", e)
        self.latest = {"time_ms": int(now * 1000), "streams": streams,
                       "interval_s": self.interval_s, "rate_window_s": self.rate_window_s}
        sample = Sample(int(now * 1000), values)
        self._keep(sample)
        return sample

    def _rates(self, now: float, added: dict[str, int]) -> dict[str, float]:
        """Entries per second over the last ``rate_window_s`` (a moving average: a
        steady 2/s reads 2.0, not the 0.7..2.6 of one-second samples)."""
        self._added.append((now, added))
        while len(self._added) > 2 and now - self._added[1][0] >= self.rate_window_s:
            self._added.popleft()
        t0, old = self._added[0]
        dt = now - t0
        if dt <= 0:
            return {s: 0.0 for s in added}
        return {s: round(max(0, n - old.get(s, n)) / dt, 2) for s, n in added.items()}

    def _keep(self, s: Sample) -> None:
        self.fine.append(s)
        while self.fine and s.t_ms - self.fine[0].t_ms > self.fine_s * 1000:
            self.fine.popleft()
        if not self.coarse or s.t_ms - self.coarse[-1].t_ms >= self.coarse_step_s * 1000:
            self.coarse.append(s)
            while self.coarse and s.t_ms - self.coarse[0].t_ms > self.coarse_s * 1000:
                self.coarse.popleft()

    # ------------------------------------------------------------ reading
    def rate_of(self, stream: str, default: float = 0.0) -> float:
        """The moving-average rate of ``stream`` in the latest sample."""
        for st in self.latest.get("streams", []):
            if st["name"] == stream:
                return float(st.get("rate", default))
        return default

    def history(self, seconds: float = 900.0, prefix: str | None = None) -> dict[str, Any]:
        """The samples of the last ``seconds`` as columns (uPlot's layout): ``t`` (epoch
        seconds) and one list per series (None where a series had no value)."""
        src = self.fine if seconds <= self.fine_s else self.coarse
        if not src:
            return {"t": [], "series": {}}
        cutoff = src[-1].t_ms - seconds * 1000
        rows = [x for x in src if x.t_ms >= cutoff]
        if seconds > self.fine_s and self.fine:  # the coarse history, then the newest
            last = rows[-1].t_ms if rows else 0
            rows += [x for x in self.fine if x.t_ms > last + self.coarse_step_s * 1000]
        names: list[str] = []
        seen: set[str] = set()
        for x in rows:
            for k in x.values:
                if k not in seen and (prefix is None or k.startswith(prefix)):
                    seen.add(k)
                    names.append(k)
        return {"t": [x.t_ms / 1000 for x in rows],
                "series": {k: [x.values.get(k) for x in rows] for k in names}}


def percentiles(values: list[float], ps: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    if not values:
        return {}
    v = sorted(values)
    out = {}
    for p in ps:
        k = (len(v) - 1) * p / 100
        lo = int(k)
        hi = min(lo + 1, len(v) - 1)
        out[f"p{p}"] = v[lo] + (v[hi] - v[lo]) * (k - lo)
    return out
