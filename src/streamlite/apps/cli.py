"""``streamlite run`` (the order pipeline with its dashboard) and ``streamlite load``."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from typing import Any

from .config import DEFAULT_URL, AppConfig
from .gateway import GatewaySettings
from .retention import RetentionPolicy


def _default_url() -> str:
    from streamlite.urls import resolve_url

    return resolve_url(None, DEFAULT_URL)[0]


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(coro)


def _logging(level: str, json_logs: bool) -> None:
    """The framework's and the application's logs on stderr (framework format)."""
    import logging

    from streamlite.events import configure_logging

    configure_logging(level.upper(), json_logs)
    events = logging.getLogger("streamlite.events")
    apps = logging.getLogger("streamlite.apps")
    apps.handlers[:] = list(events.handlers)
    apps.setLevel(level.upper())
    apps.propagate = False
    # the embedded engine's few lines about its data directory (loading and its progress,
    # owning or attached, a takeover) are shown at any --log-level up to info
    embedded = logging.getLogger("streamlite.embedded")
    embedded.handlers[:] = list(events.handlers)
    embedded.setLevel(min(logging.INFO, logging.getLevelName(level.upper())))
    embedded.propagate = False


DEFAULT_DEMO_RATE = 2.0


def _rate(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= v <= 1000:
        raise argparse.ArgumentTypeError("from 0 to 1000 orders per second")
    return v


def _port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535; anything else is refused (a bigger number
    would otherwise wrap around to another port)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"{v} is not a port: from 0 (any free one) to 65535")
    return v


def _age(text: str) -> float:
    """A duration (``30s``, ``15m``, ``1h``, ``7d``; ``0``: keep forever) in seconds."""
    from streamlite.events.cli import parse_duration_ms

    if text.strip() in ("0", "off", "never"):
        return 0.0
    try:
        return parse_duration_ms(text) / 1000
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import StartupError, serve

    if args.no_http and args.no_workers:
        print("streamlite: error: --no-http and --no-workers leave nothing to run",
              file=sys.stderr)
        return 2
    _logging(args.log_level, args.log_json)
    cfg = AppConfig(
        url=args.url, host=args.host, port=args.port, http=not args.no_http,
        workers=not args.no_workers, consumers=args.consumers, concurrency=args.concurrency,
        consumer_prefix=args.consumer_prefix, initial_stock=args.initial_stock,
        low_stock_threshold=args.low_stock, claim_idle_ms=args.claim_idle_ms,
        claim_interval_ms=args.claim_interval_ms, max_deliveries=args.max_deliveries,
        payment_max_deliveries=args.payment_max_deliveries,
        retry_backoff_ms=args.retry_backoff_ms, dashboard_interval_s=args.dashboard_interval,
        forget_consumers_after_s=args.forget_consumers_after,
        demo_rate=DEFAULT_DEMO_RATE if args.demo is None else args.demo,
        demo_restore=args.demo is None,
        gateway=GatewaySettings(latency_ms=args.payment_latency_ms,
                                transient_failure_rate=args.payment_failure_rate),
        retention=RetentionPolicy(streams_s=args.keep_stream_entries,
                                  orders_s=args.keep_orders,
                                  demo_orders_s=args.keep_demo_orders,
                                  interval_s=args.retention_interval))
    try:
        return int(_run_loop(serve(cfg)))
    except StartupError as e:
        print(f"streamlite: error: {e}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``streamlite dashboard``: the operations view of any deployment."""
    from .opsweb import is_loopback, new_token

    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("streamlite: error: the dashboard needs aiohttp: pip install "
              "'streamlite[app]'", file=sys.stderr)
        return 3
    from streamlite.urls import resolve_url

    url, _ = resolve_url(args.url, DEFAULT_URL)
    token = args.token
    if token is None and not is_loopback(args.bind):
        token = new_token()  # reachable from other machines: never without a token
    _logging(args.log_level, False)
    try:
        return int(_run_loop(_dashboard(url, args, token)))
    except KeyboardInterrupt:
        return 0
    except DashboardError as e:
        print(f"streamlite: error: {e}", file=sys.stderr)
        return 3


class DashboardError(RuntimeError):
    pass


async def _dashboard(url: str, args: argparse.Namespace, token: str | None) -> int:
    import contextlib
    import signal

    from aiohttp import web

    from .monitor import Monitor
    from .opsweb import OpsApi, make_app
    from .runner import StartupError, open_clients

    try:
        r, sync = open_clients(url)
        await r.ping()
    except StartupError as e:
        raise DashboardError(str(e)) from None
    except Exception as e:
        raise DashboardError(f"cannot reach {url}: {e}") from None
    monitor = Monitor(r, streams=args.stream or None, interval_s=args.interval)
    api = OpsApi(monitor, sync, target=url, read_only=args.read_only)
    runner = web.AppRunner(make_app(api, token), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.bind, args.port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise DashboardError(f"cannot listen on {args.bind}:{args.port}: {e}") from None
    monitor.start()
    port = runner.addresses[0][1] if runner.addresses else args.port
    host = args.bind if args.bind not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    link = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    from .opsweb import redact

    print("\n".join([
        "streamlite dashboard",
        f"  data:       {redact(url)}",
        f"  dashboard:  {link}",
        "  access:     " + ("token required (in the link above)" if token else
                            "this machine only (--bind ADDR to open it; a token then)"),
        "  mode:       " + ("read-only" if args.read_only else
                            "redrive and purge allowed (--read-only to turn them off)"),
        "Ctrl-C stops."]), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await monitor.stop()
        await runner.cleanup()
        with contextlib.suppress(Exception):
            await r.aclose()
        with contextlib.suppress(Exception):
            sync.close()
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("streamlite: error: the load generator needs aiohttp: "
              "pip install 'streamlite[app]'", file=sys.stderr)
        return 3
    from .load import main_json, parse_mix, report, run_load, self_hosted
    from .runner import StartupError

    try:
        mix = parse_mix(args.failure_mix)
    except ValueError as e:
        print(f"streamlite: error: --failure-mix: {e}", file=sys.stderr)
        return 2
    if args.orders < 1 or args.rate <= 0:
        print("streamlite: error: --orders must be at least 1 and --rate positive",
              file=sys.stderr)
        return 2
    kw: dict[str, Any] = {"orders": args.orders, "rate": args.rate, "mix": mix,
                          "concurrency": args.concurrency, "seed": args.seed,
                          "timeout_s": args.timeout, "quiet": args.quiet or args.json}
    try:
        if args.self_hosted:
            tmp = None if args.url else tempfile.mkdtemp(prefix="streamlite-load-")
            try:
                result = _run_loop(self_hosted(args.url or f"streamlite://{tmp}", **kw))
            finally:
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
        else:
            result = _run_loop(run_load(args.api, **kw))
    except (ConnectionError, StartupError) as e:
        print(f"streamlite: error: {e}", file=sys.stderr)
        return 3
    except ValueError as e:
        print(f"streamlite: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if args.json:
        main_json(result)
    else:
        report(result)
    return 0 if result["unfinished"] == 0 and not result["errors"] else 1


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run", help="the order pipeline: HTTP API, live dashboard and every consumer",
        description="Start the seed application: order API, dashboard and the pipeline's "
                    "consumers, on the embedded engine in ./data by default. Ctrl-C stops "
                    "gracefully; a restart resumes where it stopped.")
    p.add_argument("--url", default=_default_url(),
                   help="where the streams live: streamlite:///DIR (embedded), "
                        "redis://HOST:PORT/DB (Redis or `streamlite server`) or "
                        "redis+cluster://HOST:PORT[,HOST:PORT...] (Redis Cluster) "
                        "(default: $STREAMLITE_URL or %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="HTTP address (default %(default)s)")
    p.add_argument("--port", type=_port, default=8080, help="HTTP port, 0: any free one "
                                                         "(default %(default)s)")
    p.add_argument("--no-http", action="store_true", help="consumers only (a worker process)")
    p.add_argument("--no-workers", action="store_true",
                   help="API and dashboard only (consumers run elsewhere)")
    p.add_argument("--consumers", type=int, default=2,
                   help="consumers per group in this process (default %(default)s)")
    p.add_argument("--concurrency", type=int, default=8,
                   help="handlers running at once per consumer and stream (default %(default)s)")
    p.add_argument("--consumer-prefix", default=None,
                   help="stable consumer names PREFIX-0.. (default: 'app' on the embedded "
                        "engine, unique names on a server)")
    p.add_argument("--initial-stock", type=int, default=100_000,
                   help="stock of each product when the catalog is first created "
                        "(default %(default)s)")
    p.add_argument("--low-stock", type=int, default=20,
                   help="alert when a product's stock falls below this (default %(default)s)")
    p.add_argument("--payment-latency-ms", type=int, default=20,
                   help="simulated gateway latency (default %(default)s)")
    p.add_argument("--payment-failure-rate", type=float, default=0.02,
                   help="share of gateway calls that fail transiently and are retried "
                        "(default %(default)s)")
    p.add_argument("--max-deliveries", type=int, default=5,
                   help="deliveries before a message is dead-lettered (default %(default)s)")
    p.add_argument("--payment-max-deliveries", type=int, default=6,
                   help="the same for payments (default %(default)s)")
    p.add_argument("--retry-backoff-ms", type=int, default=200,
                   help="first retry delay, doubling (default %(default)s)")
    p.add_argument("--claim-idle-ms", type=int, default=15_000,
                   help="take over messages of dead consumers after this (default %(default)s)")
    p.add_argument("--claim-interval-ms", type=int, default=500,
                   help="how often to look for them (default %(default)s)")
    p.add_argument("--dashboard-interval", type=float, default=1.0,
                   help="seconds between dashboard updates (default %(default)s)")
    p.add_argument("--log-level", default="warning",
                   choices=["debug", "info", "warning", "error"],
                   help="log level on stderr (default %(default)s: retries and dead letters)")
    p.add_argument("--log-json", action="store_true", help="logs as JSON lines")
    p.add_argument("--demo", type=_rate, default=None, metavar="RATE",
                   help="demo orders per second placed by this process (with the HTTP "
                        "server), pausable from the dashboard; 0: none (default: as the "
                        f"dashboard last left it, else {DEFAULT_DEMO_RATE:g})")
    p.add_argument("--keep-orders", type=_age, default=_age("7d"), metavar="AGE",
                   help="delete finished orders (state and history) this long after they "
                        "were created; 0: keep forever (default 7d)")
    p.add_argument("--keep-demo-orders", type=_age, default=_age("1h"), metavar="AGE",
                   help="the same for the demo's orders (default 1h)")
    p.add_argument("--keep-stream-entries", type=_age, default=_age("1h"), metavar="AGE",
                   help="trim pipeline stream entries older than this once every group has "
                        "acknowledged them (XTRIM ... ACKED); 0: never (default 1h)")
    p.add_argument("--retention-interval", type=float, default=30.0, metavar="SECONDS",
                   help="seconds between retention sweeps (default %(default)s)")
    p.add_argument("--forget-consumers-after", type=float, default=600.0,
                   help="delete consumers idle this many seconds with nothing pending "
                        "(stopped or dead processes); 0: never (default %(default)s)")
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser(
        "dashboard", help="operations dashboard for any deployment: streams, groups, DLQs "
                          "over time",
        description="Serve a live dashboard of every stream (length, rate, memory), every "
                    "consumer group (lag, pending, consumers, idle) over time, the pending "
                    "entries of a consumer, and the dead-letter streams with inspect, "
                    "redrive (per group) and purge; for an embedded directory, a server, "
                    "Redis or Redis Cluster. Loopback only by default; bound elsewhere, "
                    "every request needs a token.")
    p.add_argument("--url", default=None,
                   help="streamlite:///DIR, redis://HOST:PORT/DB or redis+cluster://HOST:PORT"
                        f"[,...] (default: $STREAMLITE_URL or {DEFAULT_URL})")
    p.add_argument("--port", type=_port, default=8090, help="HTTP port, 0: any free one "
                                                         "(default %(default)s)")
    p.add_argument("--bind", default="127.0.0.1",
                   help="HTTP address (default %(default)s: this machine only; any other "
                        "address requires a token)")
    p.add_argument("--token", default=None,
                   help="the token for requests (default: a random one when --bind is not "
                        "a loopback address, none otherwise)")
    p.add_argument("--read-only", action="store_true", help="no redrive, no purge")
    p.add_argument("--stream", action="append", default=None,
                   help="only these streams (repeatable; default: every stream, found with "
                        "SCAN ... TYPE stream, at most 200)")
    p.add_argument("--interval", type=float, default=2.0,
                   help="seconds between samples (default %(default)s)")
    p.add_argument("--log-level", default="warning",
                   choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_dashboard)

    p = subparsers.add_parser(
        "load", help="load generator: orders at a rate with a failure mix; latency report",
        description="Send orders to a running `streamlite run` at a fixed rate, wait until "
                    "each is final, and print end-to-end latency (created -> shipped) "
                    "percentiles and throughput.")
    p.add_argument("--api", default="http://127.0.0.1:8080",
                   help="the application's URL (default %(default)s)")
    p.add_argument("--orders", type=int, default=1000, help="how many (default %(default)s)")
    p.add_argument("--rate", type=float, default=100.0,
                   help="orders per second (default %(default)s)")
    p.add_argument("--failure-mix", default="payment=0.05,email=0.01,stock=0.02",
                   help="share of orders per failure kind: payment (declined card), email "
                        "(undeliverable), stock (sold-out item), gateway (rejected payment, "
                        "dead-lettered), invalid (refused by the API) "
                        "(default %(default)s)")
    p.add_argument("--concurrency", type=int, default=64,
                   help="requests in flight at most (default %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="random seed (repeatable runs)")
    p.add_argument("--timeout", type=float, default=600,
                   help="give up waiting for final states after this many seconds")
    p.add_argument("--self-hosted", action="store_true",
                   help="start the application in this process instead (on --url, default "
                        "a fresh embedded directory)")
    p.add_argument("--url", default=None, help="with --self-hosted: where the streams live")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_load)
