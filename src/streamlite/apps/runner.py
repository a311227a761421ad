"""``streamlite run``: the API, the dashboard and every consumer in one process.

Startup: connect (embedded by default), put the catalog and the gateway settings in
place if this data set has none yet, start ``consumers`` framework workers (each one
consumer of every group), then the HTTP server. Shutdown (Ctrl-C / SIGTERM): stop taking
requests, let the workers finish what they hold and acknowledge it, close. Whatever was
not acknowledged stays pending and is processed after a restart (by the same consumer
names on the embedded engine, which resume their own pending entries first; by
``XAUTOCLAIM`` after ``claim_idle_ms`` otherwise), and every effect is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamlite.cluster_url import is_cluster_url
from streamlite.events import App, connect, connect_async, unique_consumer_name
from streamlite.events.connection import check_not_cluster_node
from streamlite.events.interruptible import start_unless_stopped

from . import keys
from .catalog import ensure_catalog
from .config import AppConfig
from .gateway import init_settings
from .retention import run_retention
from .services import build_worker

log = logging.getLogger("streamlite.apps")


class StartupError(RuntimeError):
    """The application cannot start (no backend, port taken...): the message says why."""


def is_embedded(url: str) -> bool:
    return url.startswith("streamlite:")


def is_attached(r: Any) -> bool:
    """True when ``r`` reaches an embedded directory another process owns (through its
    socket): this process is one of several on that data."""
    try:
        from streamlite.embedded import is_attached as attached
    except ImportError:
        return False
    return attached(r)


POOL_SIZE = 512  # connections to a server at most; tasks wait for one beyond that


def open_clients(url: str) -> tuple[Any, Any]:
    """(asyncio client, sync client) for ``url``; a clear error if it cannot be had.

    On a server, the asyncio client's pool blocks (rather than failing) when every
    connection is busy: each consumer holds one for its blocking read, and handlers take
    one per transaction."""
    try:
        if is_embedded(url):
            return connect_async(url), connect(url)
        if is_cluster_url(url):  # a pool per node (at most POOL_SIZE connections each)
            return connect_async(url, max_connections=POOL_SIZE), connect(url)
        import redis.asyncio as aioredis

        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE,
                                                        timeout=30)
        return aioredis.Redis(connection_pool=pool), connect(url)
    except Exception as e:
        if is_embedded(url) and not _has_embedded():
            raise StartupError(
                f"the embedded engine is not available in this build ({e}).\n"
                "Run against a server instead, e.g. `streamlite run --url "
                "redis://127.0.0.1:6379/0` (a Redis or `streamlite server`).") from e
        raise StartupError(f"cannot open {url}: {e}") from e


def _has_embedded() -> bool:
    import streamlite

    try:
        return callable(getattr(streamlite, "from_url"))  # noqa: B009 - lazy attribute
    except AttributeError:
        return False


@dataclass
class Running:
    cfg: AppConfig
    r: Any
    sync: Any
    workers: list[App] = field(default_factory=list)
    web_runner: Any = None
    api: Any = None
    url: str | None = None  # the dashboard's URL

    janitor: asyncio.Task[None] | None = None
    retention: asyncio.Task[None] | None = None

    def failure(self) -> BaseException | None:
        for app in self.workers:
            for c in app.consumers:
                if c.failure is not None:
                    return c.failure
        return None


async def start(cfg: AppConfig) -> Running:
    r, sync = open_clients(cfg.url)
    try:
        try:
            await r.ping()
        except Exception as e:
            raise StartupError(f"cannot reach {cfg.url}: {e}") from e
        try:
            await check_not_cluster_node(r)
        except Exception as e:
            raise StartupError(f"cannot use {cfg.url}: {e}") from e
    except StartupError:
        await r.aclose()
        sync.close()
        raise
    run = Running(cfg, r, sync)
    try:
        await ensure_catalog(r, cfg.initial_stock)
        await init_settings(r, cfg.gateway)
        if cfg.workers:
            prefix = cfg.consumer_prefix
            if prefix is None and is_embedded(cfg.url) and not is_attached(r):
                # the process that owns an embedded data directory: stable names, so a
                # restart resumes its own pending entries; attached processes (and
                # processes on a server) get unique ones
                prefix = "app"
            for i in range(cfg.consumers):
                name = f"{prefix}-{i}" if prefix else unique_consumer_name(f"c{i}")
                app = build_worker(cfg, r, name)
                await app.start()
                run.workers.append(app)
            if cfg.forget_consumers_after_s > 0:
                run.janitor = asyncio.get_running_loop().create_task(
                    forget_dead_consumers(r, cfg.forget_consumers_after_s,
                                          {a.consumer_name for a in run.workers}))
        if cfg.retention.enabled:
            run.retention = asyncio.get_running_loop().create_task(
                run_retention(r, cfg.retention))
        if cfg.http:
            try:
                from aiohttp import web
            except ImportError as e:
                raise StartupError("the HTTP API needs aiohttp: pip install "
                                   "'streamlite[app]'") from e
            from .demo import DemoTraffic
            from .web import Api, make_web_app

            demo = DemoTraffic(r, cfg.demo_rate, cfg.stream_maxlen)
            if cfg.demo_restore:
                await demo.restore()
            api = Api(r, sync, cfg.stream_maxlen, cfg.dashboard_interval_s, demo=demo)
            wa = make_web_app(api)
            run.api = api
            runner = web.AppRunner(wa, handle_signals=False, access_log=None,
                                   shutdown_timeout=5)
            await runner.setup()
            site = web.TCPSite(runner, cfg.host, cfg.port)
            try:
                await site.start()
            except OSError as e:
                await runner.cleanup()
                raise StartupError(f"cannot listen on {cfg.host}:{cfg.port}: {e}") from e
            run.web_runner = runner
            api.demo.start()
            api.monitor.start()
            port = runner.addresses[0][1] if runner.addresses else cfg.port
            host = cfg.host if cfg.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
            run.url = f"http://{host}:{port}/"
    except BaseException:
        await stop(run, grace_s=0)
        raise
    return run


def raise_if_cancelled() -> None:
    """Raise the cancellation a client library swallowed: redis-py can answer a cancel in
    the middle of a command with its reply, or with a connection error, and a loop that
    carries on would never stop (nor would the shutdown that waits for it)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def forget_dead_consumers(r: Any, after_s: float,
                                own: frozenset[str] | set[str] = frozenset()) -> None:
    """Delete consumers that have not read for ``after_s`` and hold nothing (processes
    that died or were stopped: their pending entries were claimed by live ones). A live
    consumer reads every ``block_ms``, so its idle time stays small; this process's own
    consumers are never touched."""
    every_s = max(0.5, min(30.0, after_s / 2))
    while True:
        for stream, group in keys.SUBSCRIPTIONS:
            try:
                for c in await r.xinfo_consumers(stream, group):
                    d = {(k.decode() if isinstance(k, bytes) else k): v for k, v in c.items()}
                    name = d["name"].decode() if isinstance(d["name"], bytes) else d["name"]
                    if name in own:
                        continue
                    if int(d.get("pending", 0)) == 0 and int(d.get("idle", 0)) > after_s * 1000:
                        await r.xgroup_delconsumer(stream, group, name)
                        log.info("forgot consumer %s of %s/%s", name, stream, group)
            except asyncio.CancelledError:
                raise
            except Exception:  # a missing group (flushed), a hiccup: next round
                raise_if_cancelled()
                continue
        raise_if_cancelled()
        await asyncio.sleep(every_s)


async def stop(run: Running, grace_s: float | None = None) -> None:
    for task in (run.janitor, run.retention):
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if run.api is not None:
        await run.api.monitor.stop()
        await run.api.demo.stop()
        await run.api.broadcaster.close()  # ends the dashboards' event streams
    if run.web_runner is not None:
        await run.web_runner.cleanup()
        run.web_runner = None
    await asyncio.gather(*(a.stop(grace_s) for a in run.workers), return_exceptions=True)
    run.workers.clear()
    with contextlib.suppress(Exception):
        await run.r.aclose()
    with contextlib.suppress(Exception):
        run.sync.close()


def banner(run: Running, out: Any = sys.stdout) -> None:
    cfg = run.cfg
    kind = "Redis Cluster" if is_cluster_url(cfg.url) else "server"
    if is_embedded(cfg.url):
        kind = ("embedded, attached to the process that owns the directory"
                if is_attached(run.r) else "embedded, durable")
    lines = ["streamlite order pipeline",
             f"  data:       {cfg.url} ({kind})"]
    if run.url:
        lines += [f"  dashboard:  {run.url}",
                  f"  operations: {run.url}ops/ (every stream and group over time)",
                  f"  API:        {run.url}api/orders"]
    if run.api is not None:
        d = run.api.demo
        if d.rate > 0 and d.paused:
            lines.append(f"  demo:       paused at {d.rate:g} orders/s (as the dashboard left "
                         "it; resume it there, or --demo RATE)")
        elif d.rate > 0:
            lines.append(f"  demo:       {d.rate:g} orders/s (pause on the dashboard; --demo "
                         "0: none)")
        else:
            lines.append("  demo:       off (--demo RATE places orders)")
    if run.workers:
        lines.append(f"  consumers:  {len(keys.SUBSCRIPTIONS)} subscriptions x "
                     f"{len(run.workers)} consumers ({', '.join(a.consumer_name for a in run.workers)})")
    else:
        lines.append("  consumers:  none in this process (--no-workers)")
    lines.append("Ctrl-C stops.")
    print("\n".join(lines), file=out, flush=True)


def _remove_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)


async def serve(cfg: AppConfig, on_ready: Callable[[Running], None] | None = None) -> int:
    """Run until SIGINT/SIGTERM (or a worker fails); 0 on a clean stop.

    The signal handlers are installed before the start: a Ctrl-C while it connects
    and creates the groups cancels it (before, asyncio's own handler cancelled this
    task, and a cancel swallowed inside the start left the process running with no
    handler to stop it)."""
    stop_ev = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_ev.set)
    try:
        started, run = await start_unless_stopped(start(cfg), stop_ev, stop, (StartupError,))
    except BaseException:
        _remove_handlers(loop)
        raise
    if not started:
        _remove_handlers(loop)
        return 0
    assert run is not None
    (on_ready or banner)(run)
    rc = 0
    try:
        while not stop_ev.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop_ev.wait(), 1.0)
            err = run.failure()
            if err is not None:
                print(f"streamlite: error: a consumer failed: {err!r}; stopping",
                      file=sys.stderr, flush=True)
                rc = 1
                break
    finally:
        _remove_handlers(loop)
        print("stopping: finishing in-flight work...", file=sys.stderr, flush=True)
        await stop(run)
        print("stopped.", file=sys.stderr, flush=True)
    return rc
