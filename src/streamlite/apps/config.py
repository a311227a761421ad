"""Settings of one ``streamlite run`` process."""

from __future__ import annotations

from dataclasses import dataclass, field

from .gateway import GatewaySettings
from .retention import RetentionPolicy

DEFAULT_URL = "streamlite:///./data"


@dataclass
class AppConfig:
    url: str = DEFAULT_URL
    host: str = "127.0.0.1"
    port: int = 8080
    http: bool = True                 # serve the API and the dashboard
    workers: bool = True              # run the pipeline's consumers
    consumers: int = 2                # consumers per group in this process
    concurrency: int = 8              # handlers at once per consumer and subscription
    gateway_concurrency: int = 64     # the same for the payment gateway (latency-bound)
    consumer_prefix: str | None = None  # stable consumer names; None: unique per process
    initial_stock: int = 100_000
    low_stock_threshold: int = 20
    stream_maxlen: int = 1_000_000    # XADD MAXLEN ~ of the pipeline streams
    claim_idle_ms: int = 15_000       # reclaim entries of dead consumers after this
    claim_interval_ms: int = 500
    max_deliveries: int = 5
    payment_max_deliveries: int = 6
    retry_backoff_ms: int = 200
    grace_period_s: float = 10.0
    dashboard_interval_s: float = 1.0
    forget_consumers_after_s: float = 600.0  # delete idle consumers holding nothing
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    demo_rate: float = 0.0            # demo orders per second placed by this process (HTTP)
    # take the demo's rate and pause from the data set (what the dashboard last set) when
    # it has them: `streamlite run` without --demo
    demo_restore: bool = False
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
