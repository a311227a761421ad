"""Autoscaling signals, read the way KEDA's ``redis-streams`` scaler reads them.

KEDA's scaler has three modes; each is one metric per (stream, group), and the HPA
computes ``desired = ceil(metric / target)`` replicas (bounded by min/max):

* ``pendingEntriesCount``: ``XPENDING <stream> <group>`` summary count (delivered, not
  acked) — the mode seed 003 configures (``pendingEntriesCount: "50"``);
* ``streamLength``: ``XLEN <stream>``;
* ``lagCount``: the group's ``lag`` from ``XINFO GROUPS`` (entries not yet delivered to
  the group; Redis 7+). KEDA treats an unknown lag (nil) as needing a scale-up.

:func:`keda_metric` returns the number KEDA would read; :func:`desired_replicas` turns it
into a replica count as the HPA would; ``streamlite top`` shows the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MODES = ("pendingEntriesCount", "streamLength", "lagCount")


@dataclass
class GroupStats:
    stream: str
    group: str
    length: int
    pending: int
    lag: int | None
    consumers: int
    last_delivered_id: str
    entries_read: int | None

    def metric(self, mode: str = "pendingEntriesCount") -> int:
        if mode == "pendingEntriesCount":
            return self.pending
        if mode == "streamLength":
            return self.length
        if mode == "lagCount":
            # KEDA: an unknown lag means "assume work is waiting"
            return self.lag if self.lag is not None else self.length
        raise ValueError(f"unknown mode {mode!r}; one of {MODES}")


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _group_info(groups: list[dict[str, Any]], group: str) -> dict[str, Any] | None:
    for g in groups:
        d = {_s(k): v for k, v in g.items()}
        if _s(d.get("name", "")) == group:
            return d
    return None


def _stats(stream: str, group: str, length: int, info: dict[str, Any]) -> GroupStats:
    lag = info.get("lag")
    er = info.get("entries-read")
    return GroupStats(stream, group, int(length), int(info.get("pending", 0)),
                      None if lag is None else int(lag), int(info.get("consumers", 0)),
                      _s(info.get("last-delivered-id", "")), None if er is None else int(er))


def group_stats_sync(client: Any, stream: str, group: str) -> GroupStats | None:
    """Stats for one group (None if the stream or group does not exist)."""
    pipe = client.pipeline(transaction=False)
    pipe.xlen(stream)
    pipe.xinfo_groups(stream)
    try:
        length, groups = pipe.execute()
    except Exception as e:
        if "no such key" in str(e).lower():
            return None
        raise
    info = _group_info(groups, group)
    return None if info is None else _stats(stream, group, length, info)


async def group_stats(client: Any, stream: str, group: str) -> GroupStats | None:
    pipe = client.pipeline(transaction=False)
    pipe.xlen(stream)
    pipe.xinfo_groups(stream)
    try:
        length, groups = await pipe.execute()
    except Exception as e:
        if "no such key" in str(e).lower():
            return None
        raise
    info = _group_info(groups, group)
    return None if info is None else _stats(stream, group, length, info)


def keda_metric(client: Any, stream: str, group: str,
                mode: str = "pendingEntriesCount") -> int:
    """The value KEDA's redis-streams scaler would report for (stream, group)."""
    if mode == "streamLength":
        return int(client.xlen(stream))
    st = group_stats_sync(client, stream, group)
    if st is None:
        return 0
    return st.metric(mode)


def desired_replicas(metric: int, target: int, *, min_replicas: int = 1,
                     max_replicas: int = 10, activation: int = 0,
                     min_zero: bool = False) -> int:
    """Replicas the HPA would ask for: ``ceil(metric / target)`` within [min, max]; with
    ``min_zero`` (KEDA's minReplicaCount 0) it is 0 while ``metric <= activation``."""
    if target <= 0:
        raise ValueError("target must be positive")
    if min_zero and metric <= activation:
        return 0
    want = math.ceil(metric / target) if metric > 0 else min_replicas
    return max(min_replicas, min(max_replicas, want))
