"""Operations subcommands: ``produce``, ``tail``, ``top``, ``dlq``, ``replay``, ``trim``.

Every subcommand takes ``--url`` (default ``$STREAMLITE_URL``, else
``redis://localhost:6379``): ``redis://host:port/db`` for a server (Redis or streamlite),
``redis+cluster://host:port[,host:port...]`` for a Redis Cluster (``top`` lists the
streams of every primary), ``streamlite:///path`` for the embedded engine: next to
``make run``, ``streamlite:///./data`` attaches to the running application. A server that
turns out to be a Redis Cluster node is refused with a hint (a client for one server
would see only that node's keys). A failed command is never shown as an empty result:
``MOVED``/``ASK``/``CLUSTERDOWN`` and connection errors end with a non-zero code.

Exit codes (documented in docs/framework.md; scripts may rely on them):

    0  success (also: tail/top ended with Ctrl-C)
    1  the server answered an error, or another failure
    2  bad usage (argparse)
    3  cannot connect to the server
    4  not found: the stream, group or dead letter does not exist

Errors go to stderr as one line ``streamlite: error: <text>``; data goes to stdout
(``--json`` prints JSON lines a script can parse).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CONNECT, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
DEFAULT_URL = "redis://localhost:6379"


class NotFound(Exception):
    pass


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


# ------------------------------------------------------------------------ output
class Out:
    """stdout writer: rich when installed and on a terminal, plain text otherwise."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json = json_mode
        self.console: Any = None
        self.err_console: Any = None
        try:
            from rich.console import Console

            self.console = Console(highlight=False, soft_wrap=True)
            self.err_console = Console(stderr=True)
        except ImportError:  # pragma: no cover - rich is an optional extra
            pass

    def line(self, text: str, style: str | None = None) -> None:
        if self.console is not None and style and self.console.is_terminal:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, flush=True)

    def obj(self, d: Any) -> None:
        print(json.dumps(d, ensure_ascii=False, default=str), flush=True)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Callable[[int], None]]:
        def nothing(n: int = 1) -> None:
            return None

        if self.err_console is None or not self.err_console.is_terminal:
            yield nothing
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=self.err_console,
                      transient=False) as p:
            task = p.add_task(description, total=total)

            def advance(n: int = 1) -> None:
                p.advance(task, n)

            yield advance


def fail(text: str, code: int) -> int:
    print(f"streamlite: error: {text}", file=sys.stderr, flush=True)
    return code


def _client(args: argparse.Namespace) -> redis.Redis:
    from .connection import check_not_cluster_node_sync, connect

    c = connect(args.url)
    c.ping()
    check_not_cluster_node_sync(c)
    return c


def run_command(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Map failures to the documented exit codes."""

    def wrapper(args: argparse.Namespace) -> int:
        from redis.exceptions import AskError, RedisClusterException

        from ..urls import APP_DATA_URL, ENV_URL, resolve_url
        from .connection import CLUSTER_HINT, ClusterNodeError, EmbeddedUnavailable

        args.url, defaulted = resolve_url(args.url, DEFAULT_URL)
        try:
            return fn(args)
        except KeyboardInterrupt:
            return EXIT_OK
        except NotFound as e:
            return fail(str(e), EXIT_NOT_FOUND)
        except (EmbeddedUnavailable, ClusterNodeError) as e:
            return fail(str(e), EXIT_CONNECT)
        except (redis.ConnectionError, redis.TimeoutError, ConnectionError,
                RedisClusterException) as e:
            hint = (f" (no --url given and ${ENV_URL} is not set; next to `make run` the "
                    f"data is at --url {APP_DATA_URL})" if defaulted else "")
            return fail(f"cannot connect to {args.url}: {e}{hint}", EXIT_CONNECT)
        except AskError as e:  # MOVED/ASK reach us only through a one-server client
            hint = CLUSTER_HINT.format(what=args.url)
            return fail(f"server error: {e} ({hint})", EXIT_ERROR)
        except redis.RedisError as e:
            return fail(f"server error: {e}", EXIT_ERROR)
        except (ValueError, OSError) as e:
            return fail(str(e), EXIT_ERROR)

    return wrapper


# ------------------------------------------------------------------------ time parsing
_REL = re.compile(r"^-?(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    m = _REL.match(text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r} (e.g. 500ms, 30s, 15m, 2h, 7d)")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def parse_time_bound(text: str, now_ms: int | None = None) -> str:
    """A stream ID bound from: ``-``/``+``, an ID (``1718000000000-0``), ms since the
    epoch, an ISO-8601 time (UTC when no zone is given), or a duration ago (``1h``)."""
    t = text.strip()
    if t in ("-", "+") or re.fullmatch(r"\d+-\d+", t) or re.fullmatch(r"\d+", t):
        return t
    if _REL.match(t):
        now = now_ms if now_ms is not None else time.time_ns() // 1_000_000
        return str(max(0, now - parse_duration_ms(t)))
    try:
        dt = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (ID, ms, ISO-8601 or a duration like 1h)")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.UTC)
    return str(int(dt.timestamp() * 1000))


def _parse_at(text: str) -> float:
    """``produce --at``: ms since the epoch, or an ISO-8601 time (UTC without a zone);
    seconds since the epoch."""
    t = text.strip()
    if re.fullmatch(r"\d+", t):
        return int(t) / 1000
    bound = parse_time_bound(t)
    if _REL.match(t):
        raise ValueError(f"--at takes a time, not a duration: {text!r} (use --delay)")
    return int(bound) / 1000


def _kv(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in items or []:
        if "=" not in it:
            raise ValueError(f"expected key=value, got {it!r}")
        k, v = it.split("=", 1)
        out[k] = v
    return out


def _fmt_ms(ms: int) -> str:
    if ms <= 0:
        return "-"
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime(
        "%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _fmt_idle(ms: int | None) -> str:
    if ms is None:
        return "-"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{s / 60:.1f}m"
    return f"{s / 3600:.1f}h"


# ------------------------------------------------------------------------ produce
@run_command
def cmd_produce(args: argparse.Namespace) -> int:
    from .producer import Event, Producer, Retention

    c = _client(args)
    retention = Retention(maxlen=args.maxlen) if args.maxlen is not None else None
    p = Producer(c, codec=args.codec, producer_id=args.producer_id, retention=retention)
    headers = _kv(args.header)
    payloads: list[Any] = []
    if args.file:
        if args.file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(args.file, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        payloads = [json.loads(line) for line in lines if line.strip()]
    elif args.data is not None:
        payloads.append(json.loads(args.data))
    else:
        payloads.append(_kv(args.field))
    if args.count > 1:
        payloads = payloads * args.count
    out = Out(args.json)
    delay = parse_duration_ms(args.delay) / 1000 if args.delay else None
    at = _parse_at(args.at) if args.at else None
    if len(payloads) == 1 or delay is not None or at is not None:
        # (delayed: one schedule call each; the printed IDs are event IDs)
        ids = [p.publish(args.stream, x, event_type=args.type, headers=headers,
                         idempotency_key=args.idempotency_key, delay=delay,
                         at=at)
               for x in payloads]
    else:
        if args.idempotency_key:
            raise ValueError("--idempotency-key applies to a single event")
        events = [Event(x, event_type=args.type, headers=headers) for x in payloads]
        ids = []
        with out.progress(f"produce {args.stream}", len(events)) as advance:
            for k in range(0, len(events), 1000):
                ids += p.publish_many(args.stream, events[k:k + 1000])
                advance(len(events[k:k + 1000]))
    for entry_id in ids:
        out.obj({"id": entry_id}) if args.json else out.line(entry_id)
    return EXIT_OK


# ------------------------------------------------------------------------ tail
def _print_entry(out: Out, stream: str, eid: Any, fields: dict[Any, Any], raw: bool) -> None:
    from .envelope import Message

    m = Message.from_entry(stream, eid, fields or {})
    if out.json:
        try:
            payload = m.payload()
        except Exception:
            payload = {_s(k): _s(v) for k, v in m.fields.items()}
        out.obj({"stream": stream, "id": m.id, "event_type": m.event_type,
                 "event_id": m.event_id, "timestamp": m.timestamp_ms, "headers": m.headers,
                 "payload": payload if not isinstance(payload, bytes) else _s(payload)})
        return
    if raw or m.data is None:
        body = " ".join(f"{_s(k)}={_s(v)}" for k, v in m.fields.items())
    else:
        try:
            body = json.dumps(m.payload(), ensure_ascii=False, default=str)
        except Exception:
            body = repr(m.data)
    head = f"{m.id}  {m.event_type or '-'}"
    if m.headers:
        head += "  " + " ".join(f"{k}={v}" for k, v in m.headers.items())
    if out.console is not None and out.console.is_terminal:
        out.console.print(f"[cyan]{head}[/cyan]  {body}", markup=True, highlight=False)
    else:
        out.line(f"{head}  {body}")


@run_command
def cmd_tail(args: argparse.Namespace) -> int:
    from .consumer import entries_of

    c = _client(args)
    out = Out(args.json)
    shown = 0
    if args.group:
        consumer = args.consumer or f"tail-{os.getpid()}"
        try:
            c.xgroup_create(args.stream, args.group, id=args.start or "$", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        while args.count is None or shown < args.count:
            n = 100 if args.count is None else min(100, args.count - shown)
            resp = c.xreadgroup(args.group, consumer, {args.stream: ">"}, count=n,
                                block=args.block, noack=not args.ack)
            rows = entries_of(resp)
            for eid, fields in rows:
                _print_entry(out, args.stream, eid, fields, args.raw)
            if rows and args.ack:
                c.xack(args.stream, args.group, *[_s(r[0]) for r in rows])
            shown += len(rows)
            if not rows and args.exit_when_idle:
                break
        return EXIT_OK
    last = args.start or "$"
    if last == "$":
        info = c.xinfo_stream(args.stream) if c.exists(args.stream) else None
        last = _s(info["last-generated-id"]) if info else "0-0"
    while args.count is None or shown < args.count:
        n = 100 if args.count is None else min(100, args.count - shown)
        resp2: Any = c.xread({args.stream: last}, count=n, block=args.block)
        rows = entries_of(resp2)
        for eid, fields in rows:
            _print_entry(out, args.stream, eid, fields, args.raw)
            last = _s(eid)
        shown += len(rows)
        if not rows and args.exit_when_idle:
            break
    return EXIT_OK


# ------------------------------------------------------------------------ top
def collect_top(c: redis.Redis, streams: list[str] | None) -> list[dict[str, Any]]:
    """One row per (stream, group), plus consumers: what ``top`` shows. Without
    ``streams``, every stream (of every primary of a cluster). An error is raised, not
    shown as an empty table; a stream asked for by name that does not exist is
    :class:`NotFound`."""
    from .connection import scan_keys
    from .delayed import count_delayed, stream_of_delayed

    named = bool(streams)
    if not streams:
        found = {_s(k) for k in scan_keys(c, _type="STREAM")}
        # streams that do not exist yet but have delayed events waiting
        found |= {x for x in (stream_of_delayed(_s(k))
                              for k in scan_keys(c, match="*:delayed", _type="ZSET"))
                  if x is not None}
        streams = sorted(found)

    rows: list[dict[str, Any]] = []
    for s in streams:
        delayed = count_delayed(c, s)  # publish(delay=...) not yet due (see .delayed)
        try:
            length = c.xlen(s)
            groups = c.xinfo_groups(s)
        except redis.ResponseError as e:
            if "no such key" not in str(e).lower():
                raise
            if delayed:
                rows.append({"stream": s, "length": 0, "delayed": delayed, "group": None})
                continue
            if named:
                raise NotFound(f"no stream {s}") from None
            continue  # deleted since the scan
        if not groups:
            rows.append({"stream": s, "length": length, "delayed": delayed, "group": None})
        for g in groups:
            name = _s(g["name"])
            consumers = c.xinfo_consumers(s, name)
            rows.append({
                "stream": s, "length": length, "delayed": delayed, "group": name,
                "lag": g.get("lag"), "pending": g.get("pending", 0),
                "last_delivered": _s(g.get("last-delivered-id", "")),
                "consumers": [{"name": _s(x["name"]), "pending": x.get("pending", 0),
                               "idle_ms": x.get("idle"), "inactive_ms": x.get("inactive")}
                              for x in consumers],
            })
    return rows


def _top_table(rows: list[dict[str, Any]], url: str) -> Any:
    from rich.table import Table

    t = Table(title=f"streamlite top — {url} — {time.strftime('%H:%M:%S')}",
              title_justify="left", expand=False)
    for col, just in (("stream", "left"), ("length", "right"), ("delayed", "right"),
                      ("group", "left"),
                      ("lag", "right"), ("pending", "right"), ("consumer", "left"),
                      ("c.pending", "right"), ("idle", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        if r["group"] is None:
            t.add_row(r["stream"], str(r["length"]), str(r["delayed"]), "-", "-", "-", "", "",
                      "")
            continue
        lag = "?" if r["lag"] is None else str(r["lag"])
        style = "bold red" if (r["lag"] or 0) > 1000 or r["pending"] > 1000 else None
        cons = r["consumers"] or [None]
        for i, cn in enumerate(cons):
            first = i == 0
            t.add_row(r["stream"] if first else "", str(r["length"]) if first else "",
                      str(r["delayed"]) if first else "", r["group"] if first else "", lag if first else "",
                      str(r["pending"]) if first else "",
                      cn["name"] if cn else "-", str(cn["pending"]) if cn else "",
                      _fmt_idle(cn["idle_ms"]) if cn else "", style=style if first else None)
    return t


def _top_plain(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'STREAM':<24} {'LENGTH':>8} {'DELAYED':>7} {'GROUP':<18} {'LAG':>7} "
             f"{'PENDING':>8} "
             f"{'CONSUMER':<28} {'C.PEND':>7} {'IDLE':>7}"]
    for r in rows:
        if r["group"] is None:
            lines.append(f"{r['stream']:<24} {r['length']:>8} {r['delayed']:>7} {'-':<18}")
            continue
        cons = r["consumers"] or [None]
        for cn in cons:
            lines.append(
                f"{r['stream']:<24} {r['length']:>8} {r['delayed']:>7} {r['group']:<18} "
                f"{'?' if r['lag'] is None else r['lag']:>7} {r['pending']:>8} "
                f"{(cn['name'] if cn else '-'):<28} {(cn['pending'] if cn else ''):>7} "
                f"{_fmt_idle(cn['idle_ms']) if cn else '':>7}")
    return "\n".join(lines)


@run_command
def cmd_top(args: argparse.Namespace) -> int:
    c = _client(args)
    out = Out(args.json)
    if args.json or args.once:
        rows = collect_top(c, args.stream)
        if args.json:
            for r in rows:
                out.obj(r)
        elif out.console is not None:
            out.console.print(_top_table(rows, args.url))
        else:
            print(_top_plain(rows))
        return EXIT_OK
    if out.console is None or not out.console.is_terminal:
        while True:
            print(_top_plain(collect_top(c, args.stream)), flush=True)
            print(flush=True)
            time.sleep(args.interval)
    from rich.live import Live

    with Live(_top_table(collect_top(c, args.stream), args.url), console=out.console,
              refresh_per_second=4, screen=False) as live:
        while True:
            time.sleep(args.interval)
            live.update(_top_table(collect_top(c, args.stream), args.url))


# ------------------------------------------------------------------------ dlq
def _dlq(args: argparse.Namespace, c: redis.Redis) -> Any:
    from .dlq import DeadLetters

    return DeadLetters(c, args.stream, dlq=args.dlq)


@run_command
def cmd_dlq_list(args: argparse.Namespace) -> int:
    c = _client(args)
    d = _dlq(args, c)
    out = Out(args.json)
    entries = d.list(count=args.count)
    if args.json:
        for e in entries:
            out.obj(e.summary())
        return EXIT_OK
    if not entries:
        out.line(f"{d.dlq}: empty")
        return EXIT_OK
    if out.console is not None and out.console.is_terminal:
        from rich.table import Table

        t = Table(title=f"{d.dlq} ({d.count()} dead letters)", title_justify="left")
        for col in ("id", "source", "original id", "group", "deliveries", "failed at",
                    "error"):
            t.add_column(col)
        for e in entries:
            s = e.summary()
            t.add_row(s["id"], s["source_stream"], s["original_id"], s["group"],
                      str(s["deliveries"]), _fmt_ms(s["failed_at"]),
                      f"{s['error_type']}: {s['error']}"[:80])
        out.console.print(t)
    else:
        for e in entries:
            s = e.summary()
            out.line(f"{s['id']}\t{s['source_stream']}\t{s['original_id']}\t{s['group']}\t"
                     f"{s['deliveries']}\t{s['error_type']}: {s['error']}")
    return EXIT_OK


@run_command
def cmd_dlq_show(args: argparse.Namespace) -> int:
    c = _client(args)
    d = _dlq(args, c)
    e = d.get(args.id)
    if e is None:
        raise NotFound(f"no dead letter {args.id} in {d.dlq}")
    out = Out(args.json)
    info = e.as_dict()
    if args.json:
        out.obj(info)
        return EXIT_OK
    for k in ("id", "source_stream", "original_id", "group", "consumer", "deliveries",
              "event_type", "error_type", "error"):
        out.line(f"{k:>14}: {info[k]}")
    out.line(f"{'failed_at':>14}: {_fmt_ms(info['failed_at'])}")
    out.line(f"{'fields':>14}:")
    for k, v in info["fields"].items():
        out.line(f"{'':>16}{k} = {v}")
    out.line(f"{'traceback':>14}:")
    for line in info["traceback"].rstrip().splitlines():
        out.line(f"{'':>16}{line}")
    return EXIT_OK


@run_command
def cmd_dlq_redrive(args: argparse.Namespace) -> int:
    c = _client(args)
    d = _dlq(args, c)
    if not args.ids and not args.all:
        raise ValueError("give dead letter IDs, or --all")
    out = Out(args.json)
    if args.ids:
        missing = [i for i in args.ids if d.get(i) is None]
        if missing:
            raise NotFound(f"no dead letter {', '.join(missing)} in {d.dlq}")
    total = len(args.ids) if args.ids else d.count()
    with out.progress(f"redrive {d.dlq}", total) as advance:
        ids = d.redrive(args.ids or None, to_stream=args.to, progress=advance)
    if args.json:
        out.obj({"redriven": len(ids), "ids": ids})
    else:
        out.line(f"redriven {len(ids)}")
    return EXIT_OK


@run_command
def cmd_dlq_purge(args: argparse.Namespace) -> int:
    c = _client(args)
    d = _dlq(args, c)
    if not args.ids and not args.all:
        raise ValueError("give dead letter IDs, or --all")
    n = d.purge(args.ids or None)
    out = Out(args.json)
    out.obj({"purged": n}) if args.json else out.line(f"purged {n}")
    return EXIT_OK


# ------------------------------------------------------------------------ replay, trim
@run_command
def cmd_replay(args: argparse.Namespace) -> int:
    from .replay import iter_range, replay_to_stream

    c = _client(args)
    if not c.exists(args.stream):
        raise NotFound(f"no stream {args.stream}")
    start = parse_time_bound(args.start)
    end = parse_time_bound(args.end)
    out = Out(args.json)
    if args.into is None:  # print the range
        for eid, fields in iter_range(c, args.stream, start, end, limit=args.limit):
            _print_entry(out, args.stream, eid, fields, args.raw)
        return EXIT_OK
    with out.progress(f"replay {args.stream} -> {args.into}", None) as advance:
        n = replay_to_stream(c, args.stream, args.into, start, end, limit=args.limit,
                             progress=advance)
    out.obj({"replayed": n, "into": args.into}) if args.json else \
        out.line(f"replayed {n} into {args.into}")
    return EXIT_OK


@run_command
def cmd_trim(args: argparse.Namespace) -> int:
    c = _client(args)
    if not c.exists(args.stream):
        raise NotFound(f"no stream {args.stream}")
    how = "=" if args.exact else "~"
    if args.maxlen is not None:
        n = c.execute_command("XTRIM", args.stream, "MAXLEN", how, args.maxlen)
    elif args.max_age is not None:
        minid = f"{time.time_ns() // 1_000_000 - parse_duration_ms(args.max_age)}-0"
        n = c.execute_command("XTRIM", args.stream, "MINID", how, minid)
    else:
        n = c.execute_command("XTRIM", args.stream, "MINID", how, parse_time_bound(args.minid))
    out = Out(args.json)
    out.obj({"trimmed": int(n), "length": c.xlen(args.stream)}) if args.json else \
        out.line(f"trimmed {int(n)}, length now {c.xlen(args.stream)}")
    return EXIT_OK


# ------------------------------------------------------------------------ registration
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", default=None,
                   help="redis://host:port/db, redis+cluster://host:port[,host:port...] "
                        "or streamlite:///path (next to `make run`: streamlite:///./data) "
                        f"(default: $STREAMLITE_URL or {DEFAULT_URL})")
    p.add_argument("--json", action="store_true", help="machine-readable JSON lines")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("produce", help="publish events to a stream")
    _common(p)
    p.add_argument("stream")
    p.add_argument("--type", default="event", help="event type (default: event)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data", help="the payload as JSON")
    g.add_argument("--field", "-f", action="append", metavar="K=V",
                   help="payload field (repeatable)")
    g.add_argument("--file", help="JSON lines file, one payload per line ('-': stdin)")
    p.add_argument("--header", "-H", action="append", metavar="K=V",
                   help="header (e.g. traceparent=...)")
    p.add_argument("--count", type=int, default=1, help="publish the payload(s) N times")
    p.add_argument("--codec", default="json", choices=["json", "msgpack"])
    p.add_argument("--maxlen", type=int, default=None, help="trim with MAXLEN ~ N")
    p.add_argument("--producer-id", default=None)
    p.add_argument("--idempotency-key", default=None,
                   help="publish at most once per (producer id, key)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--delay", default=None, metavar="DURATION",
                   help="append it when this is over (30s, 5m, 2h; prints event IDs)")
    g.add_argument("--at", default=None, metavar="TIME",
                   help="append it at this time (ISO-8601, UTC without a zone; or ms "
                        "since the epoch)")
    p.set_defaults(func=cmd_produce)

    p = subparsers.add_parser("tail", help="follow a stream")
    _common(p)
    p.add_argument("stream")
    p.add_argument("--group", help="read as this consumer group (created if missing)")
    p.add_argument("--consumer", help="consumer name (default tail-<pid>)")
    p.add_argument("--ack", action="store_true",
                   help="with --group: acknowledge what is shown (default: NOACK)")
    p.add_argument("--from", dest="start", default=None,
                   help="start after this ID (default $: only new entries; 0: all)")
    p.add_argument("--count", type=int, default=None, help="exit after N entries")
    p.add_argument("--block", type=int, default=1000, help="read timeout per poll (ms)")
    p.add_argument("--exit-when-idle", action="store_true",
                   help="exit when a poll returns nothing")
    p.add_argument("--raw", action="store_true", help="show fields, not the decoded payload")
    p.set_defaults(func=cmd_tail)

    p = subparsers.add_parser("top", help="streams, groups, lag, pending, consumers")
    _common(p)
    p.add_argument("--stream", action="append", help="only these streams (repeatable)")
    p.add_argument("--interval", type=float, default=2.0, help="refresh every N seconds")
    p.add_argument("--once", action="store_true", help="print once and exit")
    p.set_defaults(func=cmd_top)

    p = subparsers.add_parser("dlq", help="dead letters: list, show, redrive, purge")
    dsub = p.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)

    def dlq_parser(name: str, help: str) -> argparse.ArgumentParser:
        q = dsub.add_parser(name, help=help)
        _common(q)
        q.add_argument("stream", nargs="?", help="the source stream (its DLQ is {stream}:dlq)")
        q.add_argument("--dlq", help="the dead-letter stream's name, if not the default")
        return q

    q = dlq_parser("list", "list dead letters")
    q.add_argument("--count", type=int, default=100)
    q.set_defaults(func=cmd_dlq_list)
    q = dlq_parser("show", "show one dead letter in full")
    q.add_argument("id")
    q.set_defaults(func=cmd_dlq_show)
    q = dlq_parser("redrive", "put dead letters back on their source stream")
    q.add_argument("ids", nargs="*")
    q.add_argument("--all", action="store_true")
    q.add_argument("--to", help="redrive into this stream instead of the source")
    q.set_defaults(func=cmd_dlq_redrive)
    q = dlq_parser("purge", "delete dead letters")
    q.add_argument("ids", nargs="*")
    q.add_argument("--all", action="store_true")
    q.set_defaults(func=cmd_dlq_purge)

    p = subparsers.add_parser("replay", help="reprocess a time range of a stream")
    _common(p)
    p.add_argument("stream")
    p.add_argument("--from", dest="start", default="-",
                   help="ID, ms, ISO-8601 time or duration ago (1h); default: -")
    p.add_argument("--to", dest="end", default="+", help="same forms; default: +")
    p.add_argument("--into", help="copy into this stream (else print the entries)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--raw", action="store_true")
    p.set_defaults(func=cmd_replay)

    p = subparsers.add_parser("trim", help="trim a stream by length or age")
    _common(p)
    p.add_argument("stream")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--maxlen", type=int)
    g.add_argument("--max-age", help="drop entries older than this (e.g. 7d)")
    g.add_argument("--minid", help="drop entries before this ID/time")
    p.add_argument("--exact", action="store_true", help="exact trimming (default: ~)")
    p.set_defaults(func=cmd_trim)

