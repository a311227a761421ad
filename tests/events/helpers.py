"""Helpers: run an App in this process until a condition holds; wait for processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from streamlite.events import App

from .conftest import subprocess_env


async def run_until(apps: App | list[App], cond: Callable[[], bool | Awaitable[bool]],
                    timeout: float = 20.0, grace: float = 5.0) -> None:
    """Start the apps, wait until ``cond()`` is true (or fail), stop them gracefully."""
    apps = apps if isinstance(apps, list) else [apps]
    for a in apps:
        await a.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            res = cond()
            if asyncio.iscoroutine(res):
                res = await res
            if res:
                break
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.05)
    finally:
        await asyncio.gather(*(a.stop(grace) for a in apps))


def wait_for(cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout}s")
        time.sleep(0.05)


def start_worker(url: str, *args: str) -> subprocess.Popen[str]:
    """tests/events/workerproc.py in a new process; returns once it printed READY."""
    p = subprocess.Popen([sys.executable, "-m", "tests.events.workerproc", "--url", url, *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=subprocess_env())
    assert p.stdout is not None
    line = p.stdout.readline()
    if not line.startswith("READY"):
        p.kill()
        raise AssertionError(f"worker did not start: {line!r} {p.stderr.read() if p.stderr else ''}")
    return p


def seen(rc: Any, key: str = "seen") -> list[tuple[str, str, int]]:
    out = []
    for raw in rc.lrange(key, 0, -1):
        eid, consumer, n = raw.decode().split("|")
        out.append((eid, consumer, int(n)))
    return out
