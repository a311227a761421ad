"""Dead-letter streams: what a dead letter holds, and list / show / redrive / purge.

A dead letter is the original entry's fields, unchanged, plus these (all prefixed
``dlq_``, removed again on redrive)::

    dlq_source_stream  orders             dlq_original_id  1718000000123-0
    dlq_group          billing            dlq_consumer     host-4242-1a2b3c
    dlq_deliveries     5                  dlq_failed_at    1718000009999 (ms)
    dlq_error_type     ValueError         dlq_error        bad amount
    dlq_traceback      the last frames of the traceback (summary)

The dead-letter stream of ``orders`` is ``{orders}:dlq`` (see :mod:`.keys`): the same
hash slot as ``orders``, so the worker adds the dead letter and acknowledges the original
in one script (:mod:`.pel`), and redrive adds the entry back and deletes the dead letter
in one MULTI/EXEC.
"""

from __future__ import annotations

import builtins
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .envelope import F_REDRIVE_GROUP
from .keys import dlq_stream, key_slot, source_of_dlq

PREFIX = b"dlq_"
SOURCE = b"dlq_source_stream"
ORIGINAL_ID = b"dlq_original_id"
GROUP = b"dlq_group"
CONSUMER = b"dlq_consumer"
DELIVERIES = b"dlq_deliveries"
FAILED_AT = b"dlq_failed_at"
ERROR_TYPE = b"dlq_error_type"
ERROR = b"dlq_error"
TRACEBACK = b"dlq_traceback"


def traceback_summary(exc: BaseException | None, limit: int = 6, max_chars: int = 2000) -> str:
    if exc is None:
        return ""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-limit)
    text = "".join(lines)
    return text[-max_chars:]


def dead_letter_fields(fields: Mapping[bytes, bytes], *, stream: str, entry_id: str,
                       group: str, consumer: str, deliveries: int,
                       exc: BaseException | None, reason: str | None = None) -> list[Any]:
    flat: list[Any] = []
    for k, v in fields.items():
        flat += [k, v]
    err_type = type(exc).__name__ if exc is not None else "MaxDeliveriesExceeded"
    err = reason if reason is not None else (str(exc) if exc is not None else "")
    flat += [SOURCE, stream, ORIGINAL_ID, entry_id, GROUP, group, CONSUMER, consumer,
             DELIVERIES, deliveries, FAILED_AT, time.time_ns() // 1_000_000,
             ERROR_TYPE, err_type, ERROR, err[:4000], TRACEBACK, traceback_summary(exc)]
    return flat


def same_slot(a: str, b: str) -> bool:
    return key_slot(a) == key_slot(b)


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


@dataclass
class DeadLetterEntry:
    dlq: str
    id: str
    fields: dict[bytes, bytes]

    def meta(self, name: bytes) -> str:
        return _s(self.fields.get(name, b""))

    @property
    def source_stream(self) -> str:
        return self.meta(SOURCE) or source_of_dlq(self.dlq) or ""

    @property
    def original_fields(self) -> dict[bytes, bytes]:
        return {k: v for k, v in self.fields.items() if not k.startswith(PREFIX)}

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "source_stream": self.source_stream,
            "original_id": self.meta(ORIGINAL_ID), "group": self.meta(GROUP),
            "consumer": self.meta(CONSUMER), "deliveries": int(self.meta(DELIVERIES) or 0),
            "failed_at": int(self.meta(FAILED_AT) or 0), "error_type": self.meta(ERROR_TYPE),
            "error": self.meta(ERROR),
            "event_type": _s(self.fields.get(b"event_type", b"")),
        }

    def as_dict(self) -> dict[str, Any]:
        d = self.summary()
        d["traceback"] = self.meta(TRACEBACK)
        d["fields"] = {_s(k): _s(v) for k, v in self.original_fields.items()}
        return d


class DeadLetters:
    """Operations on the dead-letter stream of ``stream`` (or a DLQ named explicitly)."""

    def __init__(self, client: Any, stream: str | None = None, *,
                 dlq: str | None = None) -> None:
        if dlq is None:
            if stream is None:
                raise ValueError("give the source stream or the dlq name")
            dlq = dlq_stream(stream)
        self.redis = client
        self.dlq = dlq
        self.stream = stream

    def count(self) -> int:
        return int(self.redis.xlen(self.dlq))

    def iter(self, start: str = "-", end: str = "+", page: int = 500) -> Iterator[DeadLetterEntry]:
        cursor = start
        while True:
            batch = self.redis.xrange(self.dlq, cursor, end, count=page)
            for eid, fields in batch:
                yield DeadLetterEntry(self.dlq, _s(eid), dict(fields))
            if len(batch) < page:
                return
            cursor = "(" + _s(batch[-1][0])

    def list(self, count: int = 100, start: str = "-") -> builtins.list[DeadLetterEntry]:
        return [DeadLetterEntry(self.dlq, _s(eid), dict(f))
                for eid, f in self.redis.xrange(self.dlq, start, "+", count=count)]

    def get(self, entry_id: str) -> DeadLetterEntry | None:
        rows = self.redis.xrange(self.dlq, entry_id, entry_id, count=1)
        if not rows:
            return None
        return DeadLetterEntry(self.dlq, _s(rows[0][0]), dict(rows[0][1]))

    def redrive_entry(self, entry: DeadLetterEntry, to_stream: str | None = None,
                      group: str | None = None) -> str:
        """Put the original fields back on their source stream (or ``to_stream``) and delete
        the dead letter; atomic (MULTI/EXEC) when both keys share a slot.

        With ``group``, the entry carries ``redrive_group``: the framework's consumers of
        every other group of the stream acknowledge it without running their handler, so
        only ``group`` processes it again (consumers outside the framework see the
        field and must skip it themselves)."""
        target = to_stream or entry.source_stream
        if not target:
            raise ValueError(f"dead letter {entry.id} does not say its source stream")
        flat: list[Any] = []
        for k, v in entry.original_fields.items():
            if k != F_REDRIVE_GROUP:
                flat += [k, v]
        if group is not None:
            flat += [F_REDRIVE_GROUP, group.encode()]
        pipe = self.redis.pipeline(transaction=same_slot(target, self.dlq))
        pipe.execute_command("XADD", target, "*", *flat)
        pipe.xdel(self.dlq, entry.id)
        new_id, _ = pipe.execute()
        return _s(new_id)

    def redrive(self, ids: Sequence[str] | None = None, to_stream: str | None = None,
                progress: Any = None, group: str | None = None) -> builtins.list[str]:
        """Redrive the given dead letters (all when ``ids`` is None); new entry IDs.

        ``group``: only the dead letters that group gave up on (when ``ids`` is None), each
        put back for that group alone (see :meth:`redrive_entry`)."""
        out: builtins.list[str] = []
        entries: Any = self.iter() if ids is None else (self.get(i) for i in ids)
        for e in entries:
            if e is None:
                continue
            if group is not None and ids is None and e.meta(GROUP) != group:
                continue
            out.append(self.redrive_entry(e, to_stream, group))
            if progress is not None:
                progress()
        return out

    def purge(self, ids: Sequence[str] | None = None) -> int:
        """Delete the given dead letters, or the whole DLQ; how many were removed."""
        if ids is None:
            n = self.count()
            self.redis.delete(self.dlq)
            return n
        return int(self.redis.xdel(self.dlq, *ids)) if ids else 0
