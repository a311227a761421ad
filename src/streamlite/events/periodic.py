"""Periodic jobs: ``@app.every("5m")`` and ``@app.cron("*/5 * * * *")``.

The model: every worker process of an app runs the same schedule, and each *period*
(one firing time of the schedule) is claimed by one of them with
``SET streamlite:periodic:<job>:<firing time in ms> <consumer> NX PX <ttl>``: the worker
whose ``SET`` succeeds runs the job, the others skip that period. The lock is named after
the period, not after the job, so it needs no release and a slow run never blocks the
next period; its TTL (the period, at least a minute, at most a day) only has to outlast
the clock differences between the workers.

Firing times: ``every(interval)`` fires at the multiples of the interval since the
epoch (``every("5m")`` at :00, :05, :10...), so all workers agree on them without
talking to each other; ``cron(expr, tz=...)`` at the times the cron expression matches,
in ``tz`` (UTC by default). Cron syntax: five fields, ``minute hour day-of-month month
day-of-week``, each ``*``, ``n``, ``a-b``, ``*/s``, ``a-b/s``, ``a/s`` or a comma list of
those; month and weekday names (``jan``, ``mon``); weekday 0 or 7 is Sunday; when both
day fields are restricted a day matching either one fires (as in Vixie cron); and the
macros ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily``
(``@midnight``), ``@hourly``.

A period when no worker runs is skipped, not caught up. A job still running in this
process when its next period comes is not started a second time here (another worker
may take that period). A job that fails is logged (``streamlite.events.periodic``) and
runs again at its next period. A job is a function (sync: in a thread; or async) taking
no argument or a :class:`PeriodicRun`.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import inspect
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger("streamlite.events.periodic")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_interval(value: str | float | _dt.timedelta) -> float:
    """Seconds in ``"5m"``, ``"1h30m"``, ``"250ms"``, ``"2d"``, a number of seconds or a
    timedelta."""
    if isinstance(value, _dt.timedelta):
        secs = value.total_seconds()
    elif isinstance(value, int | float):
        secs = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        pos, secs = 0, 0.0
        for m in _PART.finditer(text):
            if m.start() != pos:
                break
            secs += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            raise ValueError(f"not an interval: {value!r} (examples: 30s, 5m, 1h30m, 250ms)")
    if secs <= 0:
        raise ValueError(f"an interval must be positive: {value!r}")
    return secs


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
           "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
           "@hourly": "0 * * * *"}


def _field(text: str, lo: int, hi: int, names: list[str] | None, name_base: int
           ) -> set[int]:
    def num(s: str) -> int:
        if names and s.lower() in names:
            return names.index(s.lower()) + name_base
        if not s.isdigit():
            raise ValueError(f"bad value {s!r}")
        return int(s)

    out: set[int] = set()
    for part in text.split(","):
        rng, _, step_s = part.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) == 0:
                raise ValueError(f"bad step {part!r}")
            step = int(step_s)
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            x, _, y = rng.partition("-")
            a, b = num(x), num(y)
        else:
            a = num(rng)
            b = hi if step_s else a
        if not (lo <= a <= hi and lo <= b <= hi) or a > b:
            raise ValueError(f"{part!r} is out of range {lo}-{hi}")
        out.update(range(a, b + 1, step))
    return out


@dataclass(frozen=True)
class Cron:
    """A parsed five-field cron expression; :meth:`next_after` gives firing times."""

    expr: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_any: bool            # day-of-month field is "*"
    weekdays_any: bool

    @classmethod
    def parse(cls, expr: str) -> Cron:
        text = _MACROS.get(expr.strip().lower(), expr)
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(f"a cron expression has 5 fields (minute hour day month "
                             f"weekday): {expr!r}")
        try:
            mi = _field(parts[0], 0, 59, None, 0)
            hr = _field(parts[1], 0, 23, None, 0)
            dm = _field(parts[2], 1, 31, None, 0)
            mo = _field(parts[3], 1, 12, _MONTHS, 1)
            wd = {d % 7 for d in _field(parts[4], 0, 7, _DAYS, 0)}
        except ValueError as e:
            raise ValueError(f"bad cron expression {expr!r}: {e}") from None
        return cls(expr, frozenset(mi), frozenset(hr), frozenset(dm), frozenset(mo),
                   frozenset(wd), parts[2].startswith("*"), parts[4].startswith("*"))

    def _day_ok(self, d: _dt.datetime) -> bool:
        dom = d.day in self.days
        dow = (d.isoweekday() % 7) in self.weekdays
        if self.days_any or self.weekdays_any:
            return dom and dow
        return dom or dow

    def next_after(self, when: _dt.datetime) -> _dt.datetime:
        """The first firing time strictly after ``when`` (an aware datetime; the answer
        is in ``when``'s time zone, computed on its wall clock)."""
        tz = when.tzinfo
        t = when.replace(tzinfo=None, second=0, microsecond=0) + _dt.timedelta(minutes=1)
        limit = t + _dt.timedelta(days=366 * 8)  # e.g. "0 0 29 2 1" is rare, not never
        while t < limit:
            if t.month not in self.months:
                y, m = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = _dt.datetime(y, m, 1)
                continue
            if not self._day_ok(t):
                t = _dt.datetime(t.year, t.month, t.day) + _dt.timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + _dt.timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += _dt.timedelta(minutes=1)
                continue
            return t.replace(tzinfo=tz)
        raise ValueError(f"cron expression {self.expr!r} never fires")


@dataclass
class PeriodicRun:
    """What a job may take as its argument: which period it runs for."""

    name: str
    scheduled_at: _dt.datetime  # the period's firing time (UTC)
    app: Any


@dataclass
class PeriodicJob:
    """One registered job: its function and schedule (an interval or a :class:`Cron`)."""

    name: str
    fn: Callable[..., Any]
    interval_s: float | None = None
    cron: Cron | None = None
    tz: _dt.tzinfo = _dt.UTC
    takes_run: bool = False
    running: asyncio.Task[Any] | None = field(default=None, repr=False)
    runs: int = 0  # periods this process ran

    @classmethod
    def create(cls, fn: Callable[..., Any], *, name: str | None = None,
               every: Any = None, cron: str | None = None,
               tz: str | _dt.tzinfo | None = None) -> PeriodicJob:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if len(params) > 1:
            raise TypeError(f"periodic job {fn.__name__}: takes no argument or one "
                            "PeriodicRun")
        zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or _dt.UTC)
        return cls(name or f"{fn.__module__}.{fn.__qualname__}", fn,
                   parse_interval(every) if every is not None else None,
                   Cron.parse(cron) if cron is not None else None, zone, bool(params))

    def next_fire(self, after: float) -> float:
        """The first firing time (epoch seconds) strictly after ``after``."""
        if self.interval_s is not None:
            n = int(after // self.interval_s) + 1
            return n * self.interval_s
        assert self.cron is not None
        local = _dt.datetime.fromtimestamp(after, self.tz)
        return self.cron.next_after(local).timestamp()

    def lock_key(self, fire: float) -> str:
        return f"streamlite:periodic:{self.name}:{int(round(fire * 1000))}"

    def lock_ttl_ms(self, fire: float) -> int:
        gap = self.next_fire(fire) - fire
        return int(min(max(gap, 60.0), 86_400.0) * 1000)


class Scheduler:
    """Runs an app's periodic jobs in this process (one task; jobs as their own tasks).

    ``clock`` gives epoch seconds (``time.time``): firing times are wall-clock times."""

    def __init__(self, client: Any, jobs: list[PeriodicJob], owner: str, app: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.jobs = jobs
        self.owner = owner
        self.app = app
        self.clock = clock
        self._stop = asyncio.Event()

    async def claim(self, job: PeriodicJob, fire: float) -> bool:
        """Whether this process won period ``fire`` of ``job`` (SET NX PX)."""
        return bool(await self.client.set(job.lock_key(fire), self.owner, nx=True,
                                          px=job.lock_ttl_ms(fire)))

    async def _run(self, job: PeriodicJob, fire: float) -> None:
        run = PeriodicRun(job.name, _dt.datetime.fromtimestamp(fire, _dt.UTC), self.app)
        args = [run] if job.takes_run else []
        t0 = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(job.fn):
                await job.fn(*args)
            else:
                await asyncio.to_thread(job.fn, *args)
            job.runs += 1
            log.info("periodic job %s ran for %s in %.3fs", job.name,
                     run.scheduled_at.isoformat(), time.perf_counter() - t0)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic job %s failed (period %s)", job.name,
                          run.scheduled_at.isoformat())

    async def run(self) -> None:
        """Until :meth:`stop` (or cancelled)."""
        nxt = {id(j): j.next_fire(self.clock()) for j in self.jobs}
        while not self._stop.is_set():
            now = self.clock()
            for job in self.jobs:
                fire = nxt[id(job)]
                if fire > now:
                    continue
                nxt[id(job)] = job.next_fire(max(now, fire))
                if job.running is not None and not job.running.done():
                    log.warning("periodic job %s still running: period %s skipped here",
                                job.name, fire)
                    continue
                try:
                    won = await self.claim(job, fire)
                except Exception as e:  # backend unreachable: this period is lost here
                    log.warning("periodic job %s: cannot claim period: %s", job.name, e)
                    continue
                if won:
                    job.running = asyncio.get_running_loop().create_task(self._run(job, fire))
            wait = min(nxt.values()) - self.clock()
            try:
                await asyncio.wait_for(self._stop.wait(), max(0.001, min(wait, 60.0)))
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()

    async def wait_running(self, timeout: float) -> None:
        """Let runs in progress finish (up to ``timeout``), then cancel them."""
        tasks = [j.running for j in self.jobs if j.running is not None and not j.running.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for t in pending:
                t.cancel()
