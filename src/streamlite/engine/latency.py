"""The latency monitor (``LATENCY``): Redis's ``latency.c`` and its ASCII sparklines.

Model: each event class ("command", "fast-command", "expire-cycle" ...) keeps a
ring of 160 samples ``(unix second, milliseconds)`` and its all-time maximum.
A sample is added only when ``latency-monitor-threshold`` is set and the
latency reaches it; a second sample within the same second only raises that
second's value. ``LATENCY LATEST`` shows each class's newest sample and max,
``HISTORY`` the ring, ``GRAPH`` a sparkline of the ring, ``DOCTOR`` Redis's
report with its advice texts. Classes are kept in the order they first
appeared (Redis iterates a hash table; with one or two classes the order
matches).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .record import Record

if TYPE_CHECKING:
    from .core import Engine

TS_LEN = 160  # LATENCY_TS_LEN
GRAPH_COLS = 80


class Series(Record):
    __slots__ = _fields = ("samples", "idx", "max")
    samples: list[tuple[int, int]]
    idx: int
    max: int

    def __init__(self, samples: list[tuple[int, int]] | None = None, idx: int = 0,
                 max: int = 0) -> None:
        self.samples = [(0, 0)] * TS_LEN if samples is None else samples
        self.idx = idx
        self.max = max

    def add(self, ms: int, now_s: int) -> None:
        if ms > self.max:
            self.max = ms
        prev = (self.idx + TS_LEN - 1) % TS_LEN
        t, v = self.samples[prev]
        if t == now_s:
            if ms > v:
                self.samples[prev] = (t, ms)
            return
        self.samples[self.idx] = (now_s, ms)
        self.idx = (self.idx + 1) % TS_LEN

    def ordered(self) -> list[tuple[int, int]]:
        """The samples oldest first."""
        out = []
        for j in range(TS_LEN):
            s = self.samples[(self.idx + j) % TS_LEN]
            if s[0]:
                out.append(s)
        return out

    def latest(self) -> tuple[int, int]:
        return self.samples[(self.idx + TS_LEN - 1) % TS_LEN]


class LatencyMonitor:
    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: dict[str, Series] = {}

    def add(self, event: str, ms: int, now_s: int) -> None:
        ts = self.events.get(event)
        if ts is None:
            ts = self.events[event] = Series()
        ts.add(ms, now_s)

    def reset(self, event: str | None) -> int:
        if event is None:
            n = len(self.events)
            self.events.clear()
            return n
        hits = [e for e in self.events if e.lower() == event.lower()]
        for e in hits:
            del self.events[e]
        return len(hits)

    def latest(self) -> list[list[Any]]:
        out: list[list[Any]] = []
        for name, ts in self.events.items():
            t, v = ts.latest()
            out.append([name.encode(), t, v, ts.max])
        return out

    def history(self, event: str) -> list[list[int]]:
        ts = self.events.get(event)
        return [] if ts is None else [[t, v] for t, v in ts.ordered()]

    # -- GRAPH -----------------------------------------------------------------------

    def graph(self, event: str, now_s: int) -> str | None:
        ts = self.events.get(event)
        if ts is None:
            return None
        values: list[float] = []
        labels: list[str] = []
        for t, v in ts.ordered():
            values.append(float(v))
            elapsed = now_s - t
            if elapsed < 60:
                labels.append(f"{elapsed}s")
            elif elapsed < 3600:
                labels.append(f"{elapsed // 60}m")
            elif elapsed < 86400:
                labels.append(f"{elapsed // 3600}h")
            else:
                labels.append(f"{elapsed // 86400}d")
        lo = int(min(values)) if values else 0
        hi = int(max(values)) if values else 0
        out = f"{event} - high {hi} ms, low {lo} ms (all time high {ts.max} ms)\n"
        out += "-" * GRAPH_COLS + "\n"
        return out + sparkline(values, labels, GRAPH_COLS, 4)

    # -- DOCTOR ----------------------------------------------------------------------

    def doctor(self, cfg: dict[str, Any], now_s: int) -> str:
        threshold = int(cfg.get("latency-monitor-threshold", 0))
        if not self.events and threshold == 0:
            return ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this "
                    "Redis instance. You may use \"CONFIG SET latency-monitor-threshold "
                    "<milliseconds>.\" in order to enable it. If we weren't in a deep space "
                    "mission I'd suggest to take a look at "
                    "https://redis.io/docs/latest/operate/oss_and_stack/management/optimization/"
                    "latency-monitor.\n")
        adv: set[str] = set()
        advices = 0
        report = ""
        for num, (event, ts) in enumerate(self.events.items(), 1):
            if num == 1:
                report += ("Dave, I have observed latency spikes in this Redis instance. "
                           "You don't mind talking about it, do you Dave?\n\n")
            samples = ts.ordered()
            n = len(samples)
            avg = sum(v for _, v in samples) // n if n else 0
            period = 0
            if n:
                period = now_s - min(t for t, _ in samples) or 1
            mad = sum(abs(avg - v) for _, v in samples) // n if n else 0
            per = period / n if n else math.nan
            report += (f"{num}. {event}: {n} latency spikes (average {avg}ms, mean deviation "
                       f"{mad}ms, period {per:.2f} sec). Worst all time event {ts.max}ms.")
            ev = event.lower()
            if ev == "command":
                slower = int(cfg.get("slowlog-log-slower-than", 10000))
                if slower < 0:
                    adv.add("slowlog_enabled")
                    advices += 1
                elif slower // 1000 > threshold:
                    adv.add("slowlog_tuning")
                    advices += 1
                adv.update(("slowlog_inspect", "large_objects"))
                advices += 2
            elif ev == "fast-command":
                adv.add("scheduler")
                advices += 1
            elif ev == "expire-cycle":
                adv.update(("hz", "large_objects"))
                advices += 2
            elif ev == "eviction-del":
                adv.add("large_objects")
                advices += 1
            elif ev == "eviction-cycle":
                adv.add("mass_eviction")
                advices += 1
            elif ev == "aof-fsync-always":
                adv.add("relax_fsync")
                advices += 1
            report += "\n"
        if not self.events and advices == 0:
            return report + ("Dave, no latency spike was observed during the lifetime of this "
                             "Redis instance, not in the slightest bit. I honestly think you "
                             "ought to sit down calmly, take a stress pill, and think things "
                             "over.\n")
        if advices == 0:
            return report + ("\nWhile there are latency events logged, I'm not able to suggest "
                             "any easy fix. Please use the Redis community to get some help, "
                             "providing this report in your help request.\n")
        report += "\nI have a few advices for you:\n\n"
        t1000 = threshold * 1000
        if "slowlog_enabled" in adv:
            report += ("- There are latency issues with potentially slow commands you are "
                       "using. Try to enable the Slow Log Redis feature using the command "
                       f"'CONFIG SET slowlog-log-slower-than {t1000}'. If the Slow log is "
                       "disabled Redis is not able to log slow commands execution for you.\n")
        if "slowlog_tuning" in adv:
            report += ("- Your current Slow Log configuration only logs events that are "
                       "slower than your configured latency monitor threshold. Please use "
                       f"'CONFIG SET slowlog-log-slower-than {t1000}'.\n")
        if "slowlog_inspect" in adv:
            report += ("- Check your Slow Log to understand what are the commands you are "
                       "running which are too slow to execute. Please check "
                       "https://redis.io/commands/slowlog for more information.\n")
        if "scheduler" in adv:
            report += (
                "- The system is slow to execute Redis code paths not containing system "
                "calls. This usually means the system does not provide Redis CPU time to run "
                "for long periods. You should try to:\n"
                "  1) Lower the system load.\n"
                "  2) Use a computer / VM just for Redis if you are running other software in "
                "the same system.\n"
                "  3) Check if you have a \"noisy neighbour\" problem.\n"
                "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic "
                "latency in your system.\n"
                "  5) Check if the problem is allocator-related by recompiling Redis with "
                "MALLOC=libc, if you are using Jemalloc. However this may create "
                "fragmentation problems.\n")
        if "relax_fsync" in adv and cfg.get("appendfsync") == "always":
            report += ("- Your fsync policy is set to 'always'. It is very hard to get good "
                       "performances with such a setup, if possible try to relax the fsync "
                       "policy to 'onesec'.\n")
        if "hz" in adv and int(cfg.get("hz", 10)) < 100:
            report += ("- In order to make the Redis keys expiring process more incremental, "
                       "try to set the 'hz' configuration parameter to 100 using "
                       "'CONFIG SET hz 100'.\n")
        if "large_objects" in adv:
            report += ("- Deleting, expiring or evicting (because of maxmemory policy) large "
                       "objects is a blocking operation. If you have very large objects that "
                       "are often deleted, expired, or evicted, try to fragment those objects "
                       "into multiple smaller objects.\n")
        if "mass_eviction" in adv:
            report += ("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or "
                       "allocation of large objects via sets or sorted sets intersections, "
                       "STORE option of SORT, Redis Cluster large keys migrations (RESTORE "
                       "command), may create sudden memory pressure forcing the server to "
                       "block trying to evict keys. \n")
        return report


def sparkline(values: list[float], labels: list[str], columns: int, rows: int) -> str:
    """Redis's ``sparklineRender`` with ``SPARKLINE_FILL``: ``rows`` rows of ``_o#``
    (and ``|`` below the top) per block of ``columns`` samples, then the labels
    written downwards, one row apart from the graph."""
    out = ""
    if not values:
        return out
    lo, hi = min(values), max(values)
    for start in range(0, len(values), columns):
        if start:
            out += "\n"
        out += _render_range(values[start:start + columns], labels[start:start + columns],
                             lo, hi, rows)
    return out


def _render_range(values: list[float], labels: list[str], lo: float, hi: float,
                  rows: int) -> str:
    charset = "_o#"
    clen = len(charset)
    relmax = hi - lo or 1.0
    steps = clen * rows
    has_labels = any(labels)
    out = ""
    row = 0
    while True:
        loop = False
        chars = [" "] * len(values)
        for j, v in enumerate(values):
            step = int(int((v - lo) * steps) / relmax)  # C: (int)(relval*steps)/relmax
            step = max(0, min(step, steps - 1))
            if row < rows:
                loop = True
                idx = step - (rows - row - 1) * clen
                if 0 <= idx < clen:
                    chars[j] = charset[idx]
                elif idx >= clen:
                    chars[j] = "|"
            else:
                if has_labels and row - rows < 1:
                    loop = True
                    break
                label = labels[j]
                pos = row - rows - 1
                if label and len(label) > pos:
                    loop = True
                    chars[j] = label[pos]
        if not loop:
            return out
        row += 1
        out += "".join(chars) + "\n"


# -- per-command latency histograms (latency-tracking) ------------------------------------
#
# Redis keeps an HDR histogram per command (values in ns, 1 ns .. 1 s, 2 significant
# digits: 256 sub-buckets per power of two) and records ``duration_usec * 1000``. The
# engine keeps the exact microsecond counts (``Engine.latency_hist()``); these functions
# give what Redis's histogram answers from them.

HDR_MIN, HDR_MAX = 1, 1_000_000_000


def _hdr_bucket(v: int) -> tuple[int, int]:
    """(lowest equivalent value, size of the equivalent range) of ``v`` ns."""
    b = max((v | 255).bit_length() - 8, 0)
    return (v >> b) << b, 1 << b


def _hdr_values(counts: dict[int, int]) -> list[tuple[int, int]]:
    """(lowest equivalent ns, count) in value order, as Redis's histogram holds them."""
    merged: dict[int, int] = {}
    for usec, n in counts.items():
        v = min(max(usec * 1000, HDR_MIN), HDR_MAX)
        low, _ = _hdr_bucket(v)
        merged[low] = merged.get(low, 0) + n
    return sorted(merged.items())


def percentile_usec(counts: dict[int, int], p: float) -> float:
    """``hdr_value_at_percentile(h, p) / 1000.0``: the highest value equivalent to the
    first recorded one at which the cumulative count reaches ``p`` percent."""
    values = _hdr_values(counts)
    total = sum(n for _, n in values)
    target = max(int(min(p, 100.0) / 100 * total + 0.5), 1)
    seen = 0
    for low, n in values:
        seen += n
        if seen >= target:
            if p == 0.0:
                return low / 1000.0
            return (low + _hdr_bucket(low)[1] - 1) / 1000.0
    return 0.0


def cdf(counts: dict[int, int]) -> dict[int, int]:
    """LATENCY HISTOGRAM's ``histogram_usec``: Redis's logarithmic HDR iteration (first
    level 1024 ns, base 2): at each level, the highest equivalent value in us and how
    many samples were at or below it, listed when that count grew."""
    values = _hdr_values(counts)
    total = sum(n for _, n in values)
    out: dict[int, int] = {}
    level = 1024
    i = 0
    cumulative = prev = 0
    while cumulative < total:
        low_level = _hdr_bucket(level)[0]
        while i < len(values) and values[i][0] <= low_level:
            cumulative += values[i][1]
            i += 1
        if cumulative > prev:
            out[(low_level + _hdr_bucket(low_level)[1] - 1) // 1000] = cumulative
        prev = cumulative
        level *= 2
    return out


def monitor(eng: Engine) -> LatencyMonitor:
    mon = eng.latency
    if mon is None:
        mon = eng.latency = LatencyMonitor()
    return mon
