"""streamlite.events: an event-streaming framework on Redis Streams.

Written only against the redis-py API, so the same code runs on the embedded engine
(``streamlite:///path``), on the streamlite server, on Redis and on Redis Cluster
(``redis+cluster://host:port,...``). Guide:
``docs/framework.md``.
"""

from .app import App, unique_consumer_name
from .codec import Codec, JsonCodec, MsgpackCodec, RawCodec, register_codec
from .connection import connect, connect_async
from .consumer import ConsumerOptions
from .context import Context
from .dlq import DeadLetterEntry, DeadLetters
from .envelope import Message
from .failover import NotReplicated, WriteRetry
from .idempotency import (
    SKIPPED,
    AsyncIdempotency,
    Idempotency,
    InFlightElsewhere,
)
from .keys import colocated, dlq_stream, key_slot
from .limits import HandlerTimeout, RateLimit
from .metrics import configure_logging, serve_metrics
from .partition import partition_for, partition_streams
from .periodic import PeriodicRun
from .producer import AsyncProducer, Event, Producer, Retention
from .replay import replay_to_handler, replay_to_stream
from .retry import DeadLetter, Retry, RetryPolicy
from .scaling import GroupStats, desired_replicas, group_stats, group_stats_sync, keda_metric

__all__ = [
    "App", "AsyncIdempotency", "AsyncProducer", "Codec", "ConsumerOptions", "Context",
    "DeadLetter", "DeadLetterEntry", "DeadLetters", "Event", "GroupStats", "Idempotency",
    "InFlightElsewhere", "JsonCodec", "Message", "MsgpackCodec", "NotReplicated", "Producer",
    "RawCodec",
    "Retention", "Retry", "RetryPolicy", "SKIPPED", "colocated", "configure_logging",
    "connect", "connect_async", "desired_replicas", "dlq_stream", "group_stats",
    "group_stats_sync", "keda_metric", "key_slot", "partition_for", "partition_streams",
    "register_codec", "replay_to_handler", "replay_to_stream", "serve_metrics",
    "unique_consumer_name", "WriteRetry",
    # scheduling (docs/framework.md §18-20)
    "HandlerTimeout", "PeriodicRun", "RateLimit",
]
