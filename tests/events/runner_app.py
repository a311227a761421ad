"""The app the ``streamlite worker`` tests run (``tests.events.runner_app:app``).

Each delivery is recorded with ``RPUSH handled <n>|<pid>``; each worker adds its pid to
the set ``worker-pids`` once consuming and its consumer name to ``worker-names``.
The URL comes from ``--url``; ``RUNNER_APP_SLEEP_MS`` slows the handler down.
"""

from __future__ import annotations

import asyncio
import os

from streamlite.events import App, ConsumerOptions, Context

app = App("redis://127.0.0.1:1/0", grace_period_s=10,
          defaults=ConsumerOptions(start_id="0", block_ms=200, claim_idle_ms=2000,
                                   claim_interval_ms=200))
SLEEP_S = float(os.environ.get("RUNNER_APP_SLEEP_MS", "0")) / 1000


@app.handler("jobs", group="workers")
async def handle(evt: dict, ctx: Context) -> None:
    if SLEEP_S:
        await asyncio.sleep(SLEEP_S)
    await ctx.redis.rpush("handled", f"{evt['n']}|{os.getpid()}")


@app.after_startup
async def announce() -> None:
    await app.redis.sadd("worker-pids", os.getpid())
    await app.redis.sadd("worker-names", app.consumer_name)
