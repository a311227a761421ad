"""Prometheus metrics (``prometheus_client``, optional) and structured logging.

Metrics (labels ``stream``, ``group``; ``event_type`` where it applies)::

    streamlite_events_processed_total      handler succeeded, message acked
    streamlite_events_failed_total         handler raised (each failed delivery)
    streamlite_events_retried_total        failed delivery scheduled for redelivery
    streamlite_events_dead_lettered_total  moved to the dead-letter stream
    streamlite_events_reclaimed_total      claimed from an idle consumer (XAUTOCLAIM)
    streamlite_events_handler_seconds      handler latency (histogram)
    streamlite_events_lag                  entries not yet delivered to the group (gauge)
    streamlite_events_pending              delivered, not yet acknowledged (gauge)

Without ``prometheus_client`` installed every metric is a no-op; asking for an HTTP port
then raises a clear error.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any


class _Noop:
    def labels(self, *a: Any, **k: Any) -> _Noop:
        return self

    def inc(self, *a: Any) -> None:
        pass

    def observe(self, *a: Any) -> None:
        pass

    def set(self, *a: Any) -> None:
        pass


class Metrics:
    processed: Any
    failed: Any
    retried: Any
    dead_lettered: Any
    reclaimed: Any
    latency: Any
    lag: Any
    pending: Any

    def __init__(self) -> None:
        try:
            import prometheus_client as pc
        except ImportError:
            self.available = False
            n = _Noop()
            self.processed = self.failed = self.retried = self.dead_lettered = n
            self.reclaimed = self.latency = self.lag = self.pending = n
            return
        self.available = True
        lab = ["stream", "group", "event_type"]
        sg = ["stream", "group"]
        self.processed = pc.Counter("streamlite_events_processed",
                                    "Messages handled successfully and acked", lab)
        self.failed = pc.Counter("streamlite_events_failed", "Failed deliveries", lab)
        self.retried = pc.Counter("streamlite_events_retried",
                                  "Failed deliveries scheduled for redelivery", lab)
        self.dead_lettered = pc.Counter("streamlite_events_dead_lettered",
                                        "Messages moved to the dead-letter stream", lab)
        self.reclaimed = pc.Counter("streamlite_events_reclaimed",
                                    "Messages claimed from idle consumers", sg)
        self.latency = pc.Histogram(
            "streamlite_events_handler_seconds", "Handler latency", lab,
            buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.lag = pc.Gauge("streamlite_events_lag", "Entries not yet delivered to the group", sg)
        self.pending = pc.Gauge("streamlite_events_pending", "Delivered, not acked entries", sg)


_METRICS: Metrics | None = None


def metrics() -> Metrics:
    global _METRICS
    if _METRICS is None:
        _METRICS = Metrics()
    return _METRICS


_SERVED: set[int] = set()


def serve_metrics(port: int, addr: str = "0.0.0.0") -> None:
    """Expose ``/metrics`` on ``port`` (once per process and port)."""
    if port in _SERVED:
        return
    try:
        import prometheus_client as pc
    except ImportError:
        raise RuntimeError("metrics need prometheus_client: pip install 'streamlite[events]'")
    metrics()
    pc.start_http_server(port, addr=addr)
    _SERVED.add(port)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in self._skip and not k.startswith("_"):
                out[k] = v if isinstance(v, str | int | float | bool | type(None)) else str(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str | int = "INFO", json_logs: bool = False,
                      stream: Any = None) -> None:
    """Log to stderr, as text or as JSON lines, for the ``streamlite.events`` loggers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("streamlite.events")
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False
