"""The worker application: register handlers with a decorator, run them.

::

    from dataclasses import dataclass
    from streamlite.events import App, Context

    app = App("redis://localhost:6379")

    @dataclass
    class OrderCreated:
        order_id: int
        amount: float

    @app.handler("orders", group="billing", event="ORDER_CREATED")
    async def on_order(evt: OrderCreated, ctx: Context) -> None:
        ...

    if __name__ == "__main__":
        app.run()          # until SIGTERM/SIGINT; then a graceful shutdown
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis

from .clock import REAL_CLOCK, Clock
from .codec import Codec
from .connection import (
    BadUrl,
    check_client,
    check_not_cluster_node,
    connect,
    connect_async,
)
from .consumer import ConsumerOptions, GroupConsumer
from .dependencies import _MISSING, Dependencies
from .failover import DEFAULT, resolve_retry
from .handlers import HandlerSpec
from .idempotency import AsyncIdempotency
from .interruptible import start_unless_stopped
from .limits import limited
from .metrics import configure_logging, metrics, serve_metrics
from .middleware import HandleChain, kind_of
from .periodic import PeriodicJob, Scheduler
from .producer import AsyncProducer, Producer, Retention
from .runtime import Runtime

log = logging.getLogger("streamlite.events.app")

F = TypeVar("F", bound=Callable[..., Any])


class Unreachable(ConnectionError):
    """:meth:`App.serve` could not reach its backend at start-up."""


def unique_consumer_name(prefix: str | None = None) -> str:
    """``<host>-<pid>-<random>``: unique per worker instance (pods, processes, restarts)."""
    host = socket.gethostname().split(".")[0] or "host"
    base = f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    return f"{prefix}-{base}" if prefix else base


class App:
    """A worker process's handlers, consumer groups and settings.

    ``url`` (or ``client``, an asyncio redis-py client with ``decode_responses=False``)
    says where the streams are. ``defaults`` are the :class:`ConsumerOptions` every
    subscription starts from; ``@app.handler(..., batch_size=..., retry=...)`` overrides
    them for one (stream, group). ``consumer_name`` is generated unique per instance
    unless given (give a stable one only if exactly one process ever uses it: a restarted
    worker with the same name finishes its own pending entries first).

    On Redis Cluster (``redis+cluster://...``): ``write_retry`` is how long publishes
    and idempotency markers keep trying through a failover (a
    :class:`~.failover.WriteRetry`; the default retries on a cluster only, ``None``
    never), and ``wait_replicas=N`` makes them wait until ``N`` replicas have the write
    (``WAIT``), so a failover right after loses neither an acknowledged publish nor the
    record that an idempotent handler ran.
    """

    def __init__(self, url: str | None = None, *, client: aioredis.Redis | None = None,
                 consumer_name: str | None = None, defaults: ConsumerOptions | None = None,
                 codec: str | Codec | None = None, producer_id: str | None = None,
                 retention: Retention | dict[str, Retention] | None = None,
                 grace_period_s: float = 30.0, metrics_port: int | None = None,
                 metrics_interval_s: float = 10.0, idempotency_ttl_ms: int = 86_400_000,
                 idempotency_lock_ms: int | None = None, log_json: bool | None = None,
                 log_level: str | None = None, write_retry: Any = DEFAULT,
                 wait_replicas: int = 0, wait_timeout_ms: int = 1_000,
                 delayed_poll_s: float = 1.0, move_delayed: bool = True) -> None:
        if url is None and client is None:
            raise ValueError("App needs a url or a client")
        self.url = url
        self._client = client
        self.consumer_name = consumer_name or unique_consumer_name()
        self.defaults = defaults or ConsumerOptions()
        self.codec = codec
        self.producer_id = producer_id
        self.retention = retention
        self.grace_period_s = grace_period_s
        self.metrics_port = metrics_port
        self.metrics_interval_s = metrics_interval_s
        self.idempotency_ttl_ms = idempotency_ttl_ms
        self.idempotency_lock_ms = idempotency_lock_ms
        self.write_retry = write_retry
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        self._loop: asyncio.AbstractEventLoop | None = None
        self.subscriptions: dict[tuple[str, str], tuple[ConsumerOptions, dict[str, HandlerSpec]]] = {}
        self.partitioned: list[Any] = []
        self.consumers: list[GroupConsumer] = []
        self._redis: aioredis.Redis | None = None
        self._producer: AsyncProducer | None = None
        self._sync_producer: Producer | None = None
        self._idem: AsyncIdempotency | None = None
        self._stop_event: asyncio.Event | None = None
        self._bg: list[asyncio.Task[Any]] = []
        self._after_startup: list[Callable[[], Any]] = []
        self._on_shutdown: list[Callable[[], Any]] = []
        self._xnack: bool | None = None  # the server has XNACK (probed once)
        # what the subscriptions see of this app while it runs (made by start())
        self.runtime: Runtime | None = None
        self.dependencies = Dependencies()  # app.provide(Type, value)
        self.handle_middlewares: list[Callable[..., Any]] = []  # @app.middleware
        self.publish_middlewares: list[Callable[..., Any]] = []  # @app.publish_middleware
        # delayed messages (see .delayed): appended when due by every worker's mover
        self.delayed_poll_s = delayed_poll_s
        self.move_delayed = move_delayed
        self.delayed_mover: Any = None
        self.periodic: list[PeriodicJob] = []  # @app.every / @app.cron (see .periodic)
        self.scheduler: Scheduler | None = None
        self.publishers: list[Any] = []  # app.publishes(...): for the AsyncAPI document
        if log_json is not None or log_level is not None:
            configure_logging(log_level or "INFO", bool(log_json))

    # ---------------------------------------------------------------- registration
    def handler(self, stream: str, *, group: str, event: str | None = None,
                idempotent: bool = False, rate_limit: Any = None,
                time_limit: float | None = None, **options: Any) -> Callable[[F], F]:
        """Register ``fn`` for events of type ``event`` (all types when None) on ``stream``,
        consumed by ``group``. Keyword options are :class:`ConsumerOptions` fields; they
        apply to the whole (stream, group) and must agree between its handlers.
        ``rate_limit`` (``"100/s"``) and ``time_limit`` (seconds) apply to this handler
        (see :mod:`.limits`)."""

        def deco(fn: F) -> F:
            self.add_handler(fn, stream, group=group, event=event, idempotent=idempotent,
                             rate_limit=rate_limit, time_limit=time_limit, **options)
            return fn

        return deco

    def add_handler(self, fn: Callable[..., Any], stream: str, *, group: str,
                    event: str | None = None, idempotent: bool = False,
                    rate_limit: Any = None, time_limit: float | None = None,
                    **options: Any) -> None:
        fn = limited(fn, rate_limit=rate_limit, time_limit=time_limit)
        key = (stream, group)
        opts = self.defaults.with_(**options) if options else self.defaults
        if key in self.subscriptions:
            prev, handlers = self.subscriptions[key]
            if options and opts != prev:
                if prev is not self.defaults:
                    raise ValueError(f"conflicting options for stream {stream!r} group {group!r}")
                self.subscriptions[key] = (opts, handlers)
        else:
            handlers = {}
            self.subscriptions[key] = (opts, handlers)
        ev = event or "*"
        if ev in handlers:
            raise ValueError(f"a handler for {ev!r} on {stream!r}/{group!r} already exists")
        handlers[ev] = HandlerSpec.inspect(fn, ev, idempotent)

    def partitioned_handler(self, stream: str, *, group: str, partitions: int,
                            event: str | None = None, idempotent: bool = False,
                            lease_ms: int = 10_000, rate_limit: Any = None,
                            time_limit: float | None = None,
                            **options: Any) -> Callable[[F], F]:
        """Register a handler on a partitioned stream (see :mod:`.partition`): per-key
        order, each partition processed by one worker at a time."""
        from .partition import PartitionedSubscription

        def deco(fn: F) -> F:
            run = limited(fn, rate_limit=rate_limit, time_limit=time_limit)
            for sub in self.partitioned:
                if sub.stream == stream and sub.group == group:
                    sub.add(run, event, idempotent)
                    return fn
            opts = self.defaults.with_(**options) if options else self.defaults
            sub = PartitionedSubscription(stream, group, partitions, opts, lease_ms=lease_ms)
            sub.add(run, event, idempotent)
            self.partitioned.append(sub)
            return fn

        return deco

    def every(self, interval: Any, *, name: str | None = None) -> Callable[[F], F]:
        """Run ``fn`` every ``interval`` (``"5m"``, ``"1h30m"``, seconds, a timedelta),
        once per period across all the app's workers (see :mod:`.periodic`)."""

        def deco(fn: F) -> F:
            self._add_periodic(PeriodicJob.create(fn, name=name, every=interval))
            return fn

        return deco

    def cron(self, expr: str, *, name: str | None = None, tz: Any = None) -> Callable[[F], F]:
        """Run ``fn`` at the times of a cron expression (``"*/5 * * * *"``, in ``tz``,
        UTC by default), once per firing across all the app's workers."""

        def deco(fn: F) -> F:
            self._add_periodic(PeriodicJob.create(fn, name=name, cron=expr, tz=tz))
            return fn

        return deco

    def _add_periodic(self, job: PeriodicJob) -> None:
        if any(j.name == job.name for j in self.periodic):
            raise ValueError(f"a periodic job named {job.name!r} already exists")
        self.periodic.append(job)

    def publishes(self, stream: str, payload: Any = None, *, event: str | None = None,
                  description: str | None = None) -> Callable[[F], F]:
        """Declare that this app publishes ``payload`` (a type) events to ``stream``, for
        the AsyncAPI document (``streamlite docs``). Usable as a decorator on the
        function that publishes (its docstring describes the operation) or alone."""
        from .asyncapi import PublisherSpec

        spec = PublisherSpec(stream, payload, event, description)
        self.publishers.append(spec)

        def deco(fn: F) -> F:
            spec.name = spec.name or getattr(fn, "__name__", None)
            if spec.description is None:
                spec.description = inspect.getdoc(fn) or None
            return fn

        return deco

    def after_startup(self, fn: F) -> F:
        """Run ``fn()`` (sync or async) once consuming has started."""
        self._after_startup.append(fn)
        return fn

    def on_shutdown(self, fn: F) -> F:
        """Run ``fn()`` (sync or async) after the graceful shutdown, before closing."""
        self._on_shutdown.append(fn)
        return fn

    @staticmethod
    async def _call_hooks(hooks: list[Callable[[], Any]]) -> None:
        for fn in hooks:
            res = fn()
            if asyncio.iscoroutine(res):
                await res

    # ---------------------------------------------------------------- middlewares, DI
    def middleware(self, fn: F) -> F:
        """Run ``fn`` around every handler call (see :mod:`.middleware`): a generator
        function (def or async def) that yields once, or ``async def fn(ctx,
        call_next)``. The first one added is the outermost."""
        kind_of(fn)
        self.handle_middlewares.append(fn)
        return fn

    def publish_middleware(self, fn: F) -> F:
        """Run ``fn(stream, event)`` around every event the app's producers publish
        (``ctx.publish`` included): a generator function that yields once."""
        kind_of(fn, publish=True)
        self.publish_middlewares.append(fn)
        return fn

    def provide(self, tp: Any, value: Any = _MISSING, *,
                factory: Callable[[], Any] | None = None) -> None:
        """Give handler parameters annotated with ``tp`` this ``value`` (or what
        ``factory()`` returns, called once when the app starts; see
        :mod:`.dependencies`)."""
        self.dependencies.provide(tp, value, factory=factory)

    # ---------------------------------------------------------------- clients
    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            if self._client is not None:
                check_client(self._client)
                self._redis = self._client
            else:
                assert self.url is not None
                self._redis = connect_async(self.url)
        return self._redis

    def _write_options(self) -> dict[str, Any]:
        return {"retry": self.write_retry, "wait_replicas": self.wait_replicas,
                "wait_timeout_ms": self.wait_timeout_ms}

    @property
    def producer(self) -> AsyncProducer:
        if self._producer is None:
            self._producer = AsyncProducer(self.redis, codec=self.codec,
                                           producer_id=self.producer_id,
                                           retention=self.retention,
                                           **self._write_options())
            self._producer.middlewares = self.publish_middlewares
        return self._producer

    @property
    def sync_producer(self) -> Producer:
        """A sync producer with a client of its own; needs the App to have been given a
        url. (Sync handlers publish with ``ctx.publish_sync``, which needs no url.)"""
        if self._sync_producer is None:
            if self.url is None:
                raise RuntimeError("a sync producer needs App(url=...); in a sync handler "
                                   "use ctx.publish_sync")
            client = connect(self.url)
            self._sync_producer = Producer(client, codec=self.codec,
                                           producer_id=self.producer_id,
                                           retention=self.retention,
                                           **self._write_options())
            self._sync_producer.middlewares = self.publish_middlewares
        return self._sync_producer

    def run_sync(self, coro: Any) -> Any:
        """Run a coroutine on the app's event loop from a handler thread and wait for it
        (what ``ctx.publish_sync`` does: sync handlers run in a thread pool)."""
        if self.runtime is None:
            coro.close()
            raise RuntimeError("the app is not running")
        return self.runtime.run_sync(coro)

    @property
    def idempotency(self) -> AsyncIdempotency:
        if self._idem is None:
            lock = self.idempotency_lock_ms or max(self.defaults.claim_idle_ms, 10_000)
            self._idem = AsyncIdempotency(self.redis, ttl_ms=self.idempotency_ttl_ms,
                                          lock_ms=lock,
                                          retry=resolve_retry(self.write_retry, self.redis),
                                          wait_replicas=self.wait_replicas,
                                          wait_timeout_ms=self.wait_timeout_ms)
        return self._idem

    async def xnack_supported(self, stream: str, group: str) -> bool:
        """Whether the server has ``XNACK`` (probed once per app, on a group of its own)."""
        if self._xnack is None:
            from .pel import xnack_supported

            self._xnack = await xnack_supported(self.redis, stream, group)
            log.info("XNACK %s", "available" if self._xnack else "not available: "
                     "releasing with XCLAIM ... IDLE and handling read entries on shutdown")
        return self._xnack

    # ---------------------------------------------------------------- running
    def make_runtime(self, clock: Clock = REAL_CLOCK) -> Runtime:
        """What the subscriptions get of this app: :class:`~.runtime.Runtime`."""
        return Runtime(consumer_name=self.consumer_name, redis=self.redis,
                       producer=lambda: self.producer, idempotency=lambda: self.idempotency,
                       xnack_supported=self.xnack_supported, request_stop=self.request_stop,
                       loop=asyncio.get_running_loop(), clock=clock, owner=self,
                       dependencies=self.dependencies,
                       middlewares=HandleChain(self.handle_middlewares))

    async def start(self, runtime: Runtime | None = None) -> None:
        """Create groups and start consuming (returns once everything runs).
        ``runtime``: one made by :meth:`make_runtime` with another clock (the test
        client's); by default the app makes its own."""
        if not self.subscriptions and not self.partitioned and not self.periodic:
            raise RuntimeError("no handlers registered")
        self._stop_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self.runtime = rt = runtime or self.make_runtime()
        if self.metrics_port is not None:
            serve_metrics(self.metrics_port)
        try:
            await check_not_cluster_node(self.redis)
            await self.dependencies.start()
            for (stream, group), (opts, handlers) in self.subscriptions.items():
                c = GroupConsumer(rt, stream, group, opts, handlers)
                self.consumers.append(c)
                await c.start()
            for sub in self.partitioned:
                await sub.start(rt)
        except BaseException:
            await self.stop(grace_s=0)  # undo what did start, then report
            raise
        loop = asyncio.get_running_loop()
        self._start_extras(loop)
        if metrics().available:
            self._bg.append(loop.create_task(self._gauges()))
        log.info("worker started", extra={"consumer": self.consumer_name,
                                          "subscriptions": len(self.consumers)
                                          + len(self.partitioned)})
        await self._call_hooks(self._after_startup)

    def consumed_streams(self) -> list[str]:
        """Every stream this app reads (partitions included)."""
        from .keys import partition_stream

        return list(dict.fromkeys(
            [s for s, _ in self.subscriptions]
            + [partition_stream(p.stream, i) for p in self.partitioned
               for i in range(p.partitions)]))

    def _start_extras(self, loop: asyncio.AbstractEventLoop) -> None:
        """Background tasks of the scheduling features: the delayed-message mover, the
        periodic jobs' scheduler."""
        if self.move_delayed and self.consumed_streams():
            from .delayed import DelayedMover

            self.delayed_mover = DelayedMover(self.redis, self.consumed_streams(),
                                              retention_for=self.producer.retention_for,
                                              poll_s=self.delayed_poll_s)
            self._bg.append(loop.create_task(self.delayed_mover.run()))
        if self.periodic:
            self.scheduler = Scheduler(self.redis, self.periodic, self.consumer_name, self)
            self._bg.append(loop.create_task(self.scheduler.run()))

    async def stop(self, grace_s: float | None = None) -> None:
        """Graceful shutdown: stop reading, finish in-flight work (up to the grace
        period), flush acknowledgements, close."""
        grace = self.grace_period_s if grace_s is None else grace_s
        for t in self._bg:
            t.cancel()
        if self.scheduler is not None:  # periodic runs in progress finish (within grace)
            await self.scheduler.wait_running(grace)
            self.scheduler = None
        await asyncio.gather(*(c.stop(grace) for c in self.consumers),
                             *(s.stop(grace) for s in self.partitioned))
        self.consumers.clear()
        await self._call_hooks(self._on_shutdown)
        if self._stop_event is not None:
            self._stop_event.set()
        if self._producer is not None:
            await self._producer.close_waits()
        if self._idem is not None:
            await self._idem.aclose()
        if self._redis is not None and self._client is None:
            await self._redis.aclose()
            self._redis = None
            self._producer = None
            self._idem = None
            self._xnack = None
        log.info("worker stopped", extra={"consumer": self.consumer_name})

    def request_stop(self) -> None:
        """Ask a running :meth:`serve` to shut down (signal-handler safe)."""
        if self._stop_event is not None:
            self._stop_event.set()

    async def serve(self, install_signal_handlers: bool = True) -> None:
        """Run until :meth:`request_stop` (or SIGTERM/SIGINT), then stop gracefully.

        The signal handlers are installed before the start: a signal while it connects
        and creates the groups cancels the start and returns (left to asyncio's own
        SIGINT handler, a cancel swallowed inside the start let it finish with no
        handler installed to stop it; ``streamlite run`` hung so once in 60 tries)."""
        loop = asyncio.get_running_loop()
        signalled = asyncio.Event()
        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                try:
                    loop.add_signal_handler(sig, self._on_signal, sig, signalled)
                except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
                    signal.signal(sig, lambda s, f: loop.call_soon_threadsafe(
                        self._on_signal, s, signalled))
        if not await self._start_unless_signalled(signalled):
            return
        assert self._stop_event is not None
        if signalled.is_set():  # came as the start ended
            self._stop_event.set()
        await self._stop_event.wait()
        self._stop_event = asyncio.Event()
        failures = [c.failure for c in self.consumers if c.failure is not None]
        await self.stop()
        if failures:
            raise RuntimeError("a consumer failed; the worker stopped") from failures[0]

    async def _start_unless_signalled(self, signalled: asyncio.Event) -> bool:
        """:meth:`start`, unless ``signalled`` is set first: then the start is cancelled
        (what did start is undone; a start that finishes anyway is stopped) and False
        returned."""
        import redis as _redis

        from .connection import ClusterNodeError, EmbeddedUnavailable

        try:
            started, _ = await start_unless_stopped(
                self.start(), signalled, lambda _: self.stop(), (Exception,))
        except (_redis.ConnectionError, _redis.TimeoutError, OSError, ClusterNodeError,
                EmbeddedUnavailable) as e:
            raise Unreachable(f"cannot connect to {self.url or 'the client given'}: {e}") from e
        if not started:  # the start was cancelled, and undone if it finished anyway
            log.info("interrupted while starting")
        return started

    def _on_signal(self, sig: int, signalled: asyncio.Event | None = None) -> None:
        log.info("signal %s: shutting down", signal.Signals(sig).name)
        if signalled is not None:
            signalled.set()
        self.request_stop()

    def run(self) -> None:
        """Blocking entry point: ``serve()`` on a new event loop (uvloop when present).

        A backend it cannot reach at start-up (or a URL it cannot use) ends the process
        with one line on stderr and exit status 1, not a traceback; Ctrl-C while it
        starts returns quietly, as Ctrl-C later does."""
        try:
            try:
                import uvloop
            except ImportError:  # pragma: no cover
                asyncio.run(self.serve())
            else:
                uvloop.run(self.serve())
        except (Unreachable, BadUrl) as e:
            import sys

            print(f"streamlite: error: {e}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        except KeyboardInterrupt:  # Ctrl-C before serving began: what started was undone
            log.info("interrupted while starting")

    async def _gauges(self) -> None:
        from .scaling import group_stats

        m = metrics()
        from .keys import partition_stream

        keys = list(self.subscriptions) + [(partition_stream(s.stream, i), s.group)
                                           for s in self.partitioned
                                           for i in range(s.partitions)]
        while True:
            for stream, group in keys:
                try:
                    st = await group_stats(self.redis, stream, group)
                except Exception:
                    continue
                if st is not None:
                    m.lag.labels(stream, group).set(st.lag if st.lag is not None else -1)
                    m.pending.labels(stream, group).set(st.pending)
            await asyncio.sleep(self.metrics_interval_s)
