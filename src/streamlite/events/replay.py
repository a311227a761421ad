"""Replay a time range of a stream into another stream or into a handler.

Stream IDs start with their millisecond timestamp, so ``XRANGE key <from_ms> <to_ms>``
selects by time (``<to_ms>`` includes the whole last millisecond). Pages of ``page``
entries are read and, into a stream, written with one pipeline per page. Replayed entries
keep their fields (event id included, so idempotent consumers recognise them) plus
``replay_of = <source stream>/<original id>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .envelope import Message
from .producer import Retention

REPLAY_OF = b"replay_of"


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def iter_range(client: Any, stream: str, start: str | int = "-",
               end: str | int = "+", page: int = 500,
               limit: int | None = None) -> Iterator[tuple[str, dict[bytes, bytes]]]:
    cursor = str(start)
    done = 0
    while True:
        n = page if limit is None else min(page, limit - done)
        if n <= 0:
            return
        batch = client.xrange(stream, cursor, str(end), count=n)
        for eid, fields in batch:
            yield _s(eid), dict(fields)
        done += len(batch)
        if len(batch) < n:
            return
        cursor = "(" + _s(batch[-1][0])


def replay_to_stream(client: Any, stream: str, target: str, start: str | int = "-",
                     end: str | int = "+", *, page: int = 500, limit: int | None = None,
                     retention: Retention | None = None,
                     progress: Callable[[int], Any] | None = None) -> int:
    """Copy entries of ``stream`` in [start, end] to ``target``; how many were copied."""
    if target == stream:
        raise ValueError("replaying a stream into itself would never end")
    count = 0
    buf: list[tuple[str, dict[bytes, bytes]]] = []

    def flush() -> None:
        nonlocal count
        if not buf:
            return
        pipe = client.pipeline(transaction=False)
        for eid, fields in buf:
            flat: list[Any] = []
            for k, v in fields.items():
                if k != REPLAY_OF:
                    flat += [k, v]
            flat += [REPLAY_OF, f"{stream}/{eid}"]
            pipe.execute_command("XADD", target, *(retention.args() if retention else []),
                                 "*", *flat)
        pipe.execute()
        count += len(buf)
        if progress is not None:
            progress(len(buf))
        buf.clear()

    for item in iter_range(client, stream, start, end, page, limit):
        buf.append(item)
        if len(buf) >= page:
            flush()
    flush()
    return count


def replay_to_handler(client: Any, stream: str, handler: Callable[[Message], Any],
                      start: str | int = "-", end: str | int = "+", *, page: int = 500,
                      limit: int | None = None) -> int:
    """Call ``handler(Message)`` for each entry in [start, end], in order."""
    n = 0
    for eid, fields in iter_range(client, stream, start, end, page, limit):
        handler(Message.from_entry(stream, eid, fields))
        n += 1
    return n
