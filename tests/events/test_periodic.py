"""Periodic jobs: interval and cron parsing, firing times, one run per period across
workers (SET NX PX per period), jobs in apps on every backend."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest

from streamlite.events import App
from streamlite.events.periodic import Cron, PeriodicJob, PeriodicRun, Scheduler, parse_interval

from .helpers import run_until

UTC = dt.UTC


def at(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=UTC)  # type: ignore[misc]


def test_parse_interval() -> None:
    assert parse_interval("5m") == 300
    assert parse_interval("1h30m") == 5400
    assert parse_interval("250ms") == 0.25
    assert parse_interval(dt.timedelta(days=1)) == 86400
    assert parse_interval(2) == 2.0
    for bad in ("", "5", "5x", "m5", "0s", -1):
        with pytest.raises(ValueError):
            parse_interval(bad)


@pytest.mark.parametrize(("expr", "after", "expected"), [
    ("*/5 * * * *", at(2026, 12, 7, 10, 2, 30), at(2026, 12, 7, 10, 5)),
    ("*/5 * * * *", at(2026, 12, 7, 10, 5), at(2026, 12, 7, 10, 10)),  # strictly after
    ("0 0 1 1 *", at(2026, 12, 7), at(2027, 1, 1)),
    ("0 9 * * mon-fri", at(2026, 12, 11, 10), at(2026, 12, 14, 9)),  # Fri -> Mon
    ("0 0 13 * fri", at(2026, 12, 7), at(2026, 12, 11)),  # both day fields: either
    ("0 0 29 2 *", at(2026, 3, 1), at(2028, 2, 29)),
    ("30 2-4/2 * jan,JUL sun", at(2026, 12, 7), at(2027, 1, 3, 2, 30)),
    ("0 0 * * 7", at(2026, 12, 7), at(2026, 12, 13)),  # 7 is Sunday too
    ("@hourly", at(2026, 12, 7, 10, 0, 1), at(2026, 12, 7, 11)),
    ("@weekly", at(2026, 12, 7), at(2026, 12, 13)),
    ("5/20 * * * *", at(2026, 12, 7, 10, 26), at(2026, 12, 7, 10, 45)),
])
def test_cron_next(expr: str, after: dt.datetime, expected: dt.datetime) -> None:
    assert Cron.parse(expr).next_after(after) == expected


def test_cron_time_zone() -> None:
    job = PeriodicJob.create(lambda: None, name="j", cron="0 9 * * *", tz="Europe/Paris")
    fire = job.next_fire(at(2026, 12, 7, 7).timestamp())
    assert dt.datetime.fromtimestamp(fire, UTC) == at(2026, 12, 7, 8)  # 09:00 CET


@pytest.mark.parametrize("bad", ["61 * * * *", "* * *", "*/0 * * * *", "* * 0 * *",
                                 "* * * 13 *", "5-1 * * * *", "x * * * *", "0 0 31 2 *"])
def test_cron_errors(bad: str) -> None:
    with pytest.raises(ValueError):
        Cron.parse(bad).next_after(at(2026, 1, 1))


def test_interval_firing_times_are_aligned() -> None:
    job = PeriodicJob.create(lambda: None, name="j", every="5m")
    assert job.next_fire(at(2026, 12, 7, 10, 2).timestamp()) == at(2026, 12, 7, 10, 5).timestamp()
    assert job.lock_key(at(2026, 12, 7, 10, 5).timestamp()).startswith("streamlite:periodic:j:")
    assert job.lock_ttl_ms(0) == 300_000
    with pytest.raises(TypeError):
        PeriodicJob.create(lambda a, b: None, every=1)


def test_every_runs_once_per_period_across_workers(backend, rc):
    runs: list[tuple[str, dt.datetime]] = []
    apps = [App(backend.url) for _ in range(3)]
    for i, app in enumerate(apps):
        @app.every("200ms", name="tick")
        async def tick(run: PeriodicRun, i: int = i) -> None:
            runs.append((str(i), run.scheduled_at))

        @app.every(0.3, name="sync-tick")
        def sync_tick() -> None:  # no argument; runs in a thread
            rc.incr("sync-ticks")

    asyncio.run(run_until(apps, lambda: len(runs) >= 5 and int(rc.get("sync-ticks") or 0) >= 3))
    periods = [p for _, p in runs]
    assert len(periods) == len(set(periods))  # never twice for one period
    keys = list(rc.scan_iter(match="streamlite:periodic:tick:*")) if backend.name != \
        "redis-cluster" else []
    if keys:
        assert rc.pttl(keys[0]) > 0


def test_cron_job_with_a_clock(backend, rc):
    """Two schedulers (two workers) on a clock that is 0.3 s before a minute: the
    "* * * * *" job fires once, by one of them."""
    from streamlite.events import connect_async

    start = (int(time.time() // 60) + 1) * 60 - 0.5
    m0: list[float] = []

    def clock() -> float:  # starts at its first use (however slow the setup was)
        if not m0:
            m0.append(time.monotonic())
        return start + (time.monotonic() - m0[0])

    ran: list[Any] = []

    async def job(run: PeriodicRun) -> None:
        ran.append(run.scheduled_at)

    async def main() -> None:
        clients = [connect_async(backend.url) for _ in range(2)]
        scheds = [Scheduler(c, [PeriodicJob.create(job, name="minutely", cron="* * * * *")],
                            f"w{i}", clock=clock) for i, c in enumerate(clients)]
        tasks = [asyncio.create_task(s.run()) for s in scheds]
        deadline = time.monotonic() + 10
        while not ran and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the other worker had its chance too
        for s in scheds:
            s.stop()
        await asyncio.gather(*tasks)
        for s in scheds:
            await s.wait_running(5)
        for c in clients:
            await c.aclose()

    asyncio.run(main())
    assert ran == [dt.datetime.fromtimestamp(start + 0.5, UTC)]


def test_app_with_only_periodic_jobs_starts(backend):
    app = App(backend.url)
    done = []

    @app.every("100ms")
    def job() -> None:
        done.append(1)

    asyncio.run(run_until(app, lambda: len(done) >= 2))
