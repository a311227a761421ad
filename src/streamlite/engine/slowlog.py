"""The slow log (``SLOWLOG``) and the latency monitor's command samples.

Model (Redis's ``slowlog.c`` and ``latency.c``): after each command ``Engine.call``
measures how long the handler ran (microseconds, the monotonic timer that also
feeds INFO commandstats). When that is at least ``slowlog-log-slower-than``
(a negative value turns the log off) an entry goes to the head of a list that
keeps ``slowlog-max-len`` entries: an id that only grows, the time (seconds,
from the engine's injected clock), the duration, the arguments as Redis keeps
them (at most 32: the 32nd says ``... (N more arguments)``; an argument longer
than 128 bytes is cut and ends in ``... (N more bytes)``; passwords replaced by
``(redacted)``), the client's address and name (both empty for the commands a
script runs, as for Redis's Lua client).

Commands flagged ``skip-slowlog`` (EXEC: its commands are logged one by one)
are never logged, nor what is replayed from the AOF. A command that blocks is
logged when it is served, as in Redis.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .record import Record

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine
    from .registry import Command

MAX_ARGC = 32  # SLOWLOG_ENTRY_MAX_ARGC
MAX_STRING = 128  # SLOWLOG_ENTRY_MAX_STRING
REDACTED = b"(redacted)"

# CONFIG SET parameters whose values Redis never shows (its SENSITIVE_CONFIG flag)
SENSITIVE_CONFIGS = frozenset({
    b"requirepass", b"masterauth", b"tls-key-file-pass", b"tls-client-key-file-pass",
})


class Entry(Record):
    __slots__ = _fields = ("id", "time", "duration", "argv", "peer", "name")
    id: int
    time: int  # Unix seconds
    duration: int  # microseconds
    argv: list[bytes]
    peer: bytes
    name: bytes

    def __init__(self, id: int, time: int, duration: int, argv: list[bytes], peer: bytes,
                 name: bytes) -> None:
        self.id = id
        self.time = time
        self.duration = duration
        self.argv = argv
        self.peer = peer
        self.name = name

    def reply(self) -> list[object]:
        return [self.id, self.time, self.duration, list(self.argv), self.peer, self.name]


def redacted(argv: list[bytes]) -> list[bytes]:
    """The arguments with secrets replaced, as Redis's ``redactClientCommandArgument``
    calls do: AUTH's, HELLO's after AUTH, MIGRATE's after AUTH/AUTH2, ACL
    SETUSER's, CONFIG SET's values of sensitive parameters."""
    name = argv[0].lower()
    n = len(argv)
    if name == b"auth":
        return [argv[0]] + [REDACTED] * (n - 1)
    out = argv
    if name == b"hello":
        out = list(argv)
        i = 2
        while i < n:
            opt = argv[i].lower()
            if opt == b"auth" and i + 2 < n:
                out[i + 1] = out[i + 2] = REDACTED
                i += 3
            elif opt == b"setname":
                i += 2
            else:
                i += 1
    elif name == b"migrate":
        out = list(argv)
        for i in range(6, n):
            opt = argv[i].lower()
            if opt == b"auth" and i + 1 < n:
                out[i + 1] = REDACTED
            elif opt == b"auth2" and i + 2 < n:
                out[i + 1] = out[i + 2] = REDACTED
    elif name == b"acl" and n > 2 and argv[1].lower() == b"setuser":
        out = argv[:2] + [REDACTED] * (n - 2)
    elif name == b"config" and n > 3 and argv[1].lower() == b"set":
        out = list(argv)
        for i in range(2, n - 1, 2):
            if argv[i].lower() in SENSITIVE_CONFIGS:
                out[i + 1] = REDACTED
    return out


def trimmed(argv: list[bytes]) -> list[bytes]:
    """At most 32 arguments, each at most 128 bytes, marked as Redis marks them."""
    argc = len(argv)
    keep = min(argc, MAX_ARGC)
    out: list[bytes] = []
    for j in range(keep):
        if keep != argc and j == keep - 1:
            out.append(b"... (%d more arguments)" % (argc - keep + 1))
            break
        a = argv[j]
        if len(a) > MAX_STRING:
            a = a[:MAX_STRING] + b"... (%d more bytes)" % (len(a) - MAX_STRING)
        out.append(a)
    return out


class SlowLog:
    """The entries, newest first, and the next id."""

    __slots__ = ("entries", "next_id")

    def __init__(self) -> None:
        self.entries: deque[Entry] = deque()
        self.next_id = 0

    def push(self, c: Client, argv: list[bytes], usec: int, now_s: int, max_len: int) -> None:
        if max_len <= 0:
            return
        script = c.in_script
        self.entries.appendleft(Entry(
            self.next_id, now_s, usec, trimmed(redacted(argv)),
            b"" if script else c.addr, b"" if script else c.name))
        self.next_id += 1
        self.trim(max_len)

    def trim(self, max_len: int) -> None:
        while len(self.entries) > max_len:
            self.entries.pop()

    def reset(self) -> None:
        self.entries.clear()


def observe(c: Client, cmd: Command, argv: list[bytes], usec: int) -> None:
    """Record a command that took ``usec``: the slow log and the latency monitor
    (``Engine.call`` calls this only when one of the thresholds is passed)."""
    if c.is_master:  # replaying the AOF: Redis keeps no statistics
        return
    eng = c.engine
    cfg = eng.config
    now_s = eng.clock.ms() // 1000
    slower = cfg["slowlog-log-slower-than"]
    if slower >= 0 and usec >= slower and "skip-slowlog" not in cmd.flags:
        eng_slowlog(eng).push(c, argv, usec, now_s, cfg["slowlog-max-len"])
    threshold = cfg["latency-monitor-threshold"]
    ms = usec // 1000
    if threshold and ms >= threshold:
        from .latency import monitor

        monitor(eng).add("fast-command" if "fast" in cmd.flags else "command", ms, now_s)


def eng_slowlog(eng: Engine) -> SlowLog:
    log = eng.slowlog
    if log is None:
        log = eng.slowlog = SlowLog()
    return log
