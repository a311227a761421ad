"""Prometheus metrics over HTTP; JSON logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import urllib.request

from streamlite.events import App, ConsumerOptions, Producer, RetryPolicy, configure_logging
from tests.support.redis_proc import free_port

from .helpers import run_until


def test_metrics_endpoint_and_json_logs(backend, rc):
    # Prometheus metrics are process-global: a stream name per backend keeps each
    # run's labelled series its own.
    m = f"m-{backend.name}"
    p = Producer(backend.url)
    p.publish_many(m, [{"i": i} for i in range(5)])
    p.publish(m, {"bad": 1}, event_type="BAD")
    port = free_port()
    buf = io.StringIO()
    configure_logging("INFO", json_logs=True, stream=buf)
    app = App(backend.url, metrics_port=port, metrics_interval_s=0.1,
              defaults=ConsumerOptions(start_id="0", block_ms=200,
                                       retry=RetryPolicy(max_deliveries=1)))

    @app.handler(m, group="g")
    async def h(payload: dict) -> None:
        if "bad" in payload:
            raise ValueError("nope")

    body = ""

    async def scraped() -> bool:
        nonlocal body
        body = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
            .read().decode())
        return (f'streamlite_events_dead_lettered_total{{event_type="BAD",group="g",stream="{m}"}} 1.0'
                in body and f'streamlite_events_pending{{group="g",stream="{m}"}} 0.0' in body)

    try:
        asyncio.run(run_until(app, scraped))
    finally:
        logging.getLogger("streamlite.events").handlers.clear()
    assert f'streamlite_events_processed_total{{event_type="event",group="g",stream="{m}"}}' in body
    assert "streamlite_events_handler_seconds_bucket" in body
    assert f'streamlite_events_lag{{group="g",stream="{m}"}} 0.0' in body
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    dl = [x for x in lines if x["msg"].startswith("dead-lettered")]
    assert dl and dl[0]["level"] == "error" and dl[0]["stream"] == m and dl[0]["group"] == "g"
