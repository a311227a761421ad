"""The compiled XADD / PING / ECHO (``_fastpath.c``): the guard every front uses.

The model: for the commands that dominate (XADD above all) the C functions of
``_fastpath.c`` do what ``Engine.execute``, ``Engine.call`` and the handler do,
without their Python frames: ``fast_run`` from the raw bytes of a read to the reply
bytes (the server, ``server/fastpath.py``), ``fast_xadd`` for one XADD given as an
argv (the embedded connection, ``embedded/host.py``). They may do so only while
nothing but the command's own effects must observe it; ``usable(eng, c)`` is the
engine's and the client's part of that guard, checked before each call (a command
Python runs in between may change any of it). It holds when the client is not in
MULTI, authenticated as a user allowed everything, not subscribed (RESP2 refuses
XADD there), not tracking, not closing or blocked, not the AOF's replay client, with
replies on; when the engine has no MONITOR, HOTKEYS session, client-side caching,
keyspace notifications, maxmemory (XADD is ``denyoom``), LRM, busy script, disk
error, read-only replica state, loading or running command; and while XADD, PING and
ECHO are the registered ones. A front adds its own conditions (the server: the
connection's state, CLIENT PAUSE).

Per command the C code itself hands XADD back to Python (``fast_xadd`` returns
None) when the key is watched, has blocked readers, is missing (creation,
NOMKSTREAM's null), has a TTL, is not a stream, or when the XADD has options other
than NOMKSTREAM and MAXLEN or an explicit ID.

``STREAMLITE_PURE=1`` turns both off (no ``speedups``), and so does
``STREAMLITE_FASTPATH=0`` alone. ``fast_run`` and ``fast_xadd`` are module
attributes looked up at each call: the twin tests turn them off and on.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..accel import speedups
from .clock import SystemClock
from .registry import COMMANDS
from .slowlog import observe
from .stream.stream import Stream, _Node

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine

fast_run: Any = None
fast_xadd: Any = None
if speedups is not None and os.environ.get("STREAMLITE_FASTPATH", "") != "0":
    speedups.setup_fastpath(Stream, _Node)
    fast_run = speedups.fast_run
    fast_xadd = speedups.fast_xadd

PING = COMMANDS[b"ping"]
ECHO = COMMANDS[b"echo"]
XADD = COMMANDS[b"xadd"]
# the spellings of XADD worth the guard (redis-py's and the lower case); any other
# spelling takes Python's path, as correct and a little slower
XADD_NAMES = frozenset((b"XADD", b"xadd"))


def usable(eng: Engine, c: Client) -> bool:
    """The guard: nothing but the command's own effects must observe ``c``'s next command.
    ``engine_usable`` in ``_readpath.c`` is its compiled twin: a condition added here
    goes there too (tests/server/test_readpath.py compares them)."""
    cfg = eng.config
    cmds = eng._commands
    return not (
        c.reply_mode != b"on" or c.multi is not None
        or not c.authenticated or not c.user.unrestricted or c.channels or c.patterns
        or c.shard_channels or c.tracking is not None or c.closing or c.blocked is not None
        or c.is_master or eng.loading or eng.write_error is not None
        or eng.read_only is not None or eng.busy is not None or eng.on_command is not None
        or eng.hotkeys is not None or eng.tracking is not None or eng._depth
        or eng._unit_outer is not None or cfg["maxmemory"] or cfg["notify-keyspace-events"]
        or c.db.lrm is not None or cmds.get(b"xadd") is not XADD
        or cmds.get(b"ping") is not PING or cmds.get(b"echo") is not ECHO
    )


def add_latency(eng: Engine, name: str, st: list[Any], usec: int, calls: int) -> None:
    """``calls`` calls of ``usec`` each in the latency histogram (latency-tracking), as
    ``Engine.call`` counts them: per usec below 1024, in ``latency_big`` above."""
    if usec < 1024:
        h = st[4]
        if h is None:
            h = st[4] = [0] * 1024
        h[usec] += calls
    else:
        big = eng.latency_big.setdefault(name, {})
        big[usec] = big.get(usec, 0) + calls


def count_calls(eng: Engine, stats: list[tuple[str, int, int, dict[int, int]]]) -> None:
    """Add a run's statistics as ``Engine.call`` counts each call: INFO commandstats
    (calls, usec), total commands and, under latency-tracking, calls per usec."""
    for name, calls, usec, hist in stats:
        st = eng.command_stats.get(name)
        if st is None:
            st = eng.command_stats[name] = [0, 0, 0, 0, None]
        st[0] += calls
        st[1] += usec
        eng.stats_commands += calls
        if eng._lat_tracking:
            for u, n in hist.items():
                add_latency(eng, name, st, u, n)


def try_xadd(eng: Engine, c: Client, argv: list[bytes]) -> bytes | None:
    """``xadd`` when the compiled XADD is on and the guard holds, else None (for an
    ``argv`` whose name is in ``XADD_NAMES``: the caller checks that first, cheaply)."""
    if fast_xadd is None or not usable(eng, c):
        return None
    return xadd(eng, c, argv)


def xadd(eng: Engine, c: Client, argv: list[bytes]) -> bytes | None:
    """Run ``argv``, an XADD of ``c``, in C (``fast_xadd``) while ``usable`` holds: its
    reply (the new ID), or None when Python's path must run it (nothing was done).

    Counted as ``Engine.execute`` and ``call`` count it: the client's last command,
    the dirty counter, commandstats, total commands, the latency histogram and the
    slow log; the C code appended the effect for the AOF and replicas."""
    db = c.db
    cfg = eng.config
    clock = eng.clock
    r = fast_xadd(argv, db.data, db.expires, c.db_index, eng.watched, eng.blocked_on,
                  eng.effects, None if type(clock) is SystemClock else clock,
                  int(cfg["stream-node-max-entries"]), int(cfg["stream-node-max-bytes"]),
                  db.ks_dirty, db.ks_cap)
    if r is None:
        return None
    sid, usec = r
    c.last_command = XADD
    eng.dirty += 1
    st = eng.command_stats.get("xadd")
    if st is None:
        st = eng.command_stats["xadd"] = [0, 0, 0, 0, None]
    st[0] += 1
    st[1] += usec
    eng.stats_commands += 1
    if eng._lat_tracking:
        add_latency(eng, "xadd", st, usec, 1)
    if usec >= eng._observe_usec:
        observe(c, XADD, argv, usec)
    return sid  # type: ignore[no-any-return]
