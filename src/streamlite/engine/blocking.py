"""Clients blocked on keys (BLPOP, XREAD BLOCK, ...), served as Redis serves them.

I/O-free: the server and the embedded front both use it. A blocking command that
has nothing to serve returns ``Blocked``; the front calls ``block(client, b)``.
After every command (or batch) the front calls ``serve_ready()``, which re-runs
the blocked command of each client waiting on a key that was touched, first come
first served, and returns the ``(client, reply)`` pairs to deliver. Clients that
still find nothing stay blocked in their place. ``expire(now)`` returns the
clients whose timeout passed, with their timeout replies.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

from .client import Client
from .core import Engine
from .replies import Blocked


class BlockingManager:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.by_key: dict[tuple[int, bytes], dict[Client, None]] = {}
        self._deadlines: list[tuple[int, int, Client, Blocked]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        """Number of blocked clients."""
        return len({c for waiters in self.by_key.values() for c in waiters})

    def block(self, c: Client, b: Blocked) -> None:
        c.blocked = b
        for k in b.keys:
            self.by_key.setdefault(k, {})[c] = None
        self.engine.block_on(b.keys)
        self._schedule(c, b)

    def _schedule(self, c: Client, b: Blocked) -> None:
        when = b.deadline_ms
        retry = b.retry_at_ms
        if retry is not None and (when is None or retry < when):
            when = retry
        if when is not None:
            heapq.heappush(self._deadlines, (when, next(self._seq), c, b))

    def unblock(self, c: Client) -> Blocked | None:
        """Forget ``c``'s blocked command (served, timed out, disconnected, CLIENT UNBLOCK)."""
        b: Blocked | None = c.blocked
        if b is None:
            return None
        c.blocked = None
        for k in b.keys:
            waiters = self.by_key.get(k)
            if waiters is not None:
                waiters.pop(c, None)
                if not waiters:
                    del self.by_key[k]
        self.engine.unblock_on(b.keys)
        return b

    def serve_ready(self) -> list[tuple[Client, Any]]:
        """Re-run blocked commands whose keys were touched; return what was served."""
        eng = self.engine
        out: list[tuple[Client, Any]] = []
        while eng.ready_keys:
            for k in eng.take_ready_keys():
                waiters = self.by_key.get(k)
                if not waiters:
                    continue
                for c in list(waiters):
                    b = c.blocked
                    if b is None:
                        continue
                    reply = eng.execute(c, b.argv)
                    if type(reply) is Blocked:
                        # still nothing for it: keeps its place
                        if reply.retry_at_ms != b.retry_at_ms:
                            b.retry_at_ms = reply.retry_at_ms
                            self._schedule(c, b)
                        continue
                    self.unblock(c)
                    out.append((c, reply))
        return out

    def expire(self, now_ms: int) -> list[tuple[Client, Any]]:
        """Clients whose deadline passed, unblocked, with their timeout replies.

        A client whose ``retry_at_ms`` came first is re-run instead: served if its
        command now answers, else it keeps waiting (rescheduled).
        """
        out: list[tuple[Client, Any]] = []
        dl = self._deadlines
        while dl and dl[0][0] <= now_ms:
            _, _, c, b = heapq.heappop(dl)
            if c.blocked is not b:
                continue
            if b.deadline_ms is not None and b.deadline_ms <= now_ms:
                self.unblock(c)
                out.append((c, b.timeout_reply))
            elif b.retry_at_ms is not None and b.retry_at_ms <= now_ms:
                reply = self.engine.execute(c, b.argv)
                if type(reply) is Blocked:
                    b.retry_at_ms = reply.retry_at_ms
                    if b.retry_at_ms is not None and b.retry_at_ms <= now_ms:
                        b.retry_at_ms = None  # nothing claimable after all
                    self._schedule(c, b)
                else:
                    self.unblock(c)
                    out.append((c, reply))
        return out

    def next_deadline(self) -> int | None:
        """The earliest pending deadline (ms), or None."""
        dl = self._deadlines
        while dl and dl[0][2].blocked is not dl[0][3]:
            heapq.heappop(dl)
        return dl[0][0] if dl else None
