"""A worker process for the failure-injection tests.

Every delivery is recorded (before the ack) with ``RPUSH <record> event_id|consumer|n``,
so a test sees exactly what ran where. Options make handlers slow, flaky or poisonous.
Prints ``READY <consumer>`` once consuming.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from streamlite.events import App, ConsumerOptions, Context, RetryPolicy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--stream", default="jobs")
    ap.add_argument("--group", default="workers")
    ap.add_argument("--record", default="seen")
    ap.add_argument("--consumer", default=None)
    ap.add_argument("--sleep-ms", type=float, default=0)
    ap.add_argument("--sync", action="store_true", help="a sync handler (thread pool)")
    ap.add_argument("--fail-first", type=int, default=0, help="fail deliveries 1..N")
    ap.add_argument("--poison-type", default="POISON")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--claim-idle", type=int, default=1500)
    ap.add_argument("--claim-interval", type=int, default=200)
    ap.add_argument("--max-deliveries", type=int, default=4)
    ap.add_argument("--backoff", type=int, default=100)
    ap.add_argument("--grace", type=float, default=10)
    ap.add_argument("--block", type=int, default=500)
    ap.add_argument("--no-xnack", action="store_true", help="never use XNACK")
    a = ap.parse_args()

    app = App(a.url, consumer_name=a.consumer, grace_period_s=a.grace,
              defaults=ConsumerOptions(start_id="0", batch_size=a.batch,
                                       concurrency=a.concurrency, block_ms=a.block,
                                       claim_idle_ms=a.claim_idle,
                                       claim_interval_ms=a.claim_interval,
                                       use_xnack=not a.no_xnack,
                                       retry=RetryPolicy(max_deliveries=a.max_deliveries,
                                                         backoff_ms=a.backoff, jitter=0)))

    def record(ctx: Context) -> str:
        return f"{ctx.event_id}|{ctx.consumer}|{ctx.delivery_count}"

    if a.sync:
        @app.handler(a.stream, group=a.group)
        def handle_sync(payload: dict, ctx: Context) -> None:
            r = app.sync_producer.redis
            r.rpush(a.record, record(ctx))
            if a.sleep_ms:
                time.sleep(a.sleep_ms / 1000)
            if ctx.event_type == a.poison_type or ctx.delivery_count <= a.fail_first:
                raise RuntimeError(f"injected failure on delivery {ctx.delivery_count}")
    else:
        @app.handler(a.stream, group=a.group)
        async def handle(payload: dict, ctx: Context) -> None:
            await ctx.redis.rpush(a.record, record(ctx))
            if a.sleep_ms:
                await asyncio.sleep(a.sleep_ms / 1000)
            if ctx.event_type == a.poison_type or ctx.delivery_count <= a.fail_first:
                raise RuntimeError(f"injected failure on delivery {ctx.delivery_count}")

    @app.after_startup
    def ready() -> None:
        print("READY", app.consumer_name, flush=True)

    @app.on_shutdown
    def stopped() -> None:
        print("STOPPED", flush=True)

    app.run()
    sys.exit(0)


if __name__ == "__main__":
    main()
