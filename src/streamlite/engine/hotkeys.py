"""HOTKEYS (Redis 8.6): which keys take the CPU time and the network bytes.

Follows the command docs (no released Redis here to compare with). A session
starts with ``HOTKEYS START METRICS n CPU|NET ... [COUNT k] [DURATION s]
[SAMPLE ratio]`` and runs until ``HOTKEYS STOP`` or its duration; meanwhile
``Engine.call`` hands every top-level command to ``record``: with probability
``1/ratio`` the command's handler time (microseconds, the timer of INFO
commandstats) and its bytes (the arguments, and the reply when it is a string or
a list of them) are added to each of its keys. ``HOTKEYS GET`` reports the
session (the CPU time and the ``total-net-bytes`` of the sampled commands only
for the metrics asked for, as the page's examples show) and the top ``k`` keys by
each metric; ``RESET`` (only while stopped)
forgets it. ``SLOTS`` is refused, as on a server without cluster mode, and
``selected-slots`` is every slot (``[[0, 16383]]``).
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Client
    from .registry import Command

_rng = random.Random()


def _reply_bytes(reply: Any) -> int:
    if isinstance(reply, bytes):
        return len(reply)
    if isinstance(reply, list):
        return sum(len(x) for x in reply if isinstance(x, bytes))
    return 0


class HotKeys:
    """One tracking session (current or the last one)."""

    def __init__(self, now_ms: int, cpu: bool, net: bool, k: int, duration_s: int,
                 ratio: int) -> None:
        self.active = True
        self.cpu, self.net = cpu, net
        self.k, self.ratio = k, ratio
        self.start_ms = now_ms
        self.stop_ms: int | None = None
        self.until_ms = now_ms + duration_s * 1000 if duration_s else None
        self.by_cpu: dict[bytes, int] = {}
        self.by_net: dict[bytes, int] = {}
        self.all_us = 0
        self.all_net = 0
        self.sampled_net = 0  # the bytes of the sampled commands that named keys
        t = os.times()
        self.cpu0 = (t.user, t.system)
        self.cpu1: tuple[float, float] | None = None

    def stop(self, now_ms: int) -> None:
        if self.active:
            self.active = False
            self.stop_ms = self.until_ms if self.until_ms and self.until_ms < now_ms else now_ms
            t = os.times()
            self.cpu1 = (t.user, t.system)

    def expire(self, now_ms: int) -> None:
        if self.active and self.until_ms is not None and now_ms >= self.until_ms:
            self.stop(now_ms)

    def record(self, cmd: Command, argv: list[bytes], usec: int, reply: Any,
               now_ms: int) -> None:
        self.expire(now_ms)
        if not self.active:
            return
        size = sum(len(a) for a in argv) + _reply_bytes(reply)
        self.all_us += usec
        self.all_net += size
        keys = cmd.key_positions(argv)
        if not keys or (self.ratio > 1 and _rng.randrange(self.ratio)):
            return
        self.sampled_net += size
        for i in keys:
            if i < len(argv):
                k = argv[i]
                if self.cpu:
                    self.by_cpu[k] = self.by_cpu.get(k, 0) + usec
                if self.net:
                    self.by_net[k] = self.by_net.get(k, 0) + size

    def report(self, now_ms: int) -> dict[bytes, Any]:
        self.expire(now_ms)
        end = now_ms if self.active else (self.stop_ms or now_ms)
        t = os.times()
        c1 = self.cpu1 or (t.user, t.system)
        out: dict[bytes, Any] = {
            b"tracking-active": 1 if self.active else 0,
            b"sample-ratio": self.ratio,
            # without SLOTS: the node's own slot ranges, all of them without cluster mode
            b"selected-slots": [[0, 16383]],
            b"all-commands-all-slots-us": self.all_us,
            b"net-bytes-all-commands-all-slots": self.all_net,
            b"collection-start-time-unix-ms": self.start_ms,
            b"collection-duration-ms": max(end - self.start_ms, 0),
        }
        if self.cpu:
            out[b"total-cpu-time-user-ms"] = int((c1[0] - self.cpu0[0]) * 1000)
            out[b"total-cpu-time-sys-ms"] = int((c1[1] - self.cpu0[1]) * 1000)
        if self.net:
            out[b"total-net-bytes"] = self.sampled_net
        if self.cpu:
            out[b"by-cpu-time-us"] = _top(self.by_cpu, self.k)
        if self.net:
            out[b"by-net-bytes"] = _top(self.by_net, self.k)
        return out


def _top(counts: dict[bytes, int], k: int) -> list[Any]:
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    flat: list[Any] = []
    for key, v in best:
        flat += [key, v]
    return flat


def record(c: Client, cmd: Command, argv: list[bytes], usec: int, reply: Any) -> None:
    hk = c.engine.hotkeys
    if hk is not None and hk.active and not c.is_master:
        hk.record(cmd, argv, usec, reply, c.engine.clock.ms())
