"""The compiled dispatch of pipelined PING / ECHO / XADD (``_speedups.fast_run``).

The model: a read full of small commands costs the server about 4 us per command in
Python (the batch loop, ``Engine.execute`` and ``call``, the handler, ``Stream.add``,
the reply), against Redis's 0.8 us. For the commands that dominate pipelines the
C function ``fast_run`` (``src/streamlite/_fastpath.c``) goes from the raw bytes of
the read to the reply bytes in one call, without Python objects per command.

It may do so only while nothing else has to observe the command: ``usable`` is that
guard, in Python, checked before each call (a command Python runs in between may
change any of it): the connection is not blocked, paused or closing, the server
is not paused or loading, and ``engine.fastpath.usable`` holds (the engine's and the
client's part, shared with the embedded connection's ``fast_xadd``: no MULTI,
MONITOR, keyspace notifications, maxmemory ...; see there).
Per command, ``fast_run`` itself hands XADD back (status ARGV, parsed) when the key
is watched, has blocked readers, is missing (creation, NOMKSTREAM's null), has a
TTL, is not a stream, or when the XADD has options other than NOMKSTREAM or an
explicit ID: Python's path runs it through ``Engine.execute``, as it runs any other
command, and the loop goes on.

What the fast path still does, it does as ``Engine.call`` and the handlers do: the
entry appended to the tail node as ``Stream.add`` (or ``Stream.add`` itself when a
node is full), the stream's length, last ID and entries-added, the effect for the
AOF and replicas with the generated ID (``eng.effects``), the dirty counter and the
key noted for INFO keysizes (as ``Database.touch``; Python's XADD runs when that would
settle the histograms), INFO
commandstats calls/usec and the latency histogram, total commands, the slow log
(a command past the threshold is handed to ``observe``), the client's last command
and command count, and the output limits (it stops when the client's ``room`` is
used up). ``STREAMLITE_PURE=1`` turns it off (no ``speedups``), and so does
``STREAMLITE_FASTPATH=0`` alone (the other compiled twins stay: for measuring it, or
to rule it out); the twin tests in ``tests/server/test_fastpath.py`` run the same
pipelines both ways.

A read of one command costs the Python around ``fast_run`` (``data_received``, this
guard, ``run``, ``Server.end_batch``, ``flush``) about what Redis's whole command costs:
``ReadPath`` (``_readpath.c``, bound by ``reader`` as each connection's
``data_received``) does all of it in C for the common case, keeping what the guard found
between reads while the dicts it read are unchanged (see there and
docs/architecture.md); it runs only while ``fast_run`` here is the compiled one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..accel import speedups
from ..engine import fastpath as engine_fastpath
from ..engine.clock import SystemClock
from ..engine.fastpath import ECHO, PING, XADD, count_calls
from ..engine.slowlog import observe
from ..protocol.resp import encode

if TYPE_CHECKING:
    from .connection import Connection

fast_run: Any = engine_fastpath.fast_run  # looked up at each call: tests turn it off and on
# The compiled per-read path (``ReadPath`` of ``_readpath.c``): each connection's
# ``data_received`` while the accelerator is active (``reader``; it runs only while
# ``fast_run`` here is the compiled one, else it hands the read to the Python
# ``Connection.data_received``); None on the Python path.
ReadPath: Any = speedups.ReadPath if speedups is not None and fast_run is not None else None

# statuses of fast_run (see _fastpath.h)
END, HANDOVER, ARGV, ROOM, SLOW, PARTIAL, ERROR = range(7)
# A read that ends inside a command shorter than this keeps the start of the command in
# ``Connection.fast_tail`` for the next read (longer ones go to RequestParser, which
# checks the length limits as the command arrives; their minimums are 1 MB)
TAIL_MAX = 1 << 16

_BY_KIND = (None, PING, ECHO, XADD)  # fast_run's last_kind
_BY_NAME = {"ping": PING, "echo": ECHO, "xadd": XADD}


def setup_received(conn_type: type[Connection], reply_buf: int) -> None:
    """What ``ReadPath`` needs: the Python path it falls back to
    (``Connection.data_received``) and goes on with (``_fast_resume``), this module's
    globals (it runs only while ``fast_run`` here is the compiled one), the commands
    of fast_run's kinds and ``REPLY_BUF``."""
    if ReadPath is not None and speedups is not None:
        speedups.setup_readpath(conn_type.data_received, conn_type._fast_resume, globals(),
                                engine_fastpath.fast_run, SystemClock, _BY_KIND, reply_buf)


def reader(conn: Connection) -> Any:
    """``conn``'s compiled data_received, sharing its server's ``ReadCache``."""
    srv = conn.server
    if srv.read_cache is None:
        assert speedups is not None
        srv.read_cache = speedups.ReadCache()
    return ReadPath(conn, srv.read_cache)


def usable(conn: Connection) -> bool:
    """The guard: the connection's part here, the engine's and the client's in
    ``engine.fastpath.usable``. ``_readpath.c`` (``rp_usable``) has its compiled twin:
    a condition added here goes there too (tests/server/test_readpath.py compares
    them)."""
    srv = conn.server
    return not (
        conn.waiting or conn.closed or conn.close_after_reply or srv.paused_until
        or srv.loading
    ) and engine_fastpath.usable(conn.engine, conn.client)


def run(conn: Connection, data: bytes, pos: int = 0) -> int:
    """Run the commands of ``data`` from ``pos`` (a command boundary) while the
    guard holds: the offset from which the rest goes to the connection's hiredis
    loop (``len(data)`` when all ran, or when the rest is the start of a command kept
    in ``conn.fast_tail``), or -1 when the connection must stop reading.
    ``conn.room`` is the reply room left, as in ``Connection.run``."""
    c = conn.client
    eng = conn.engine
    n = len(data)
    while pos < n and usable(conn):
        db = c.db
        cfg = eng.config
        clock = eng.clock
        pos, status, replies, ncmds, dirty, stats, extra, last = fast_run(
            data, pos, conn.room, db.data, db.expires, c.db_index, eng.watched,
            eng.blocked_on, eng.effects, None if type(clock) is SystemClock else clock,
            int(cfg["stream-node-max-entries"]), int(cfg["stream-node-max-bytes"]),
            eng._observe_usec, db.ks_dirty, db.ks_cap)
        if ncmds:
            conn.cmds += ncmds
            eng.dirty += dirty
            c.last_command = _BY_KIND[last]
            count_calls(eng, stats)
        if replies is not None:
            conn.room -= len(replies)
            conn.out.append(replies)
        stop = settle(conn, data, pos, status, extra)
        if stop is not None:
            return stop
    return pos


def settle(conn: Connection, data: bytes, pos: int, status: int, extra: Any) -> int | None:
    """What ``fast_run`` handed back when it stopped at ``pos`` with ``status``, done
    (the command for Python's path, the slow log, the output limits): None to go on
    running from ``pos``, else the offset ``run`` returns."""
    if status == ARGV:  # a command for Python's path
        return -1 if not conn.run(extra) else None  # conn.run checked the room
    c = conn.client
    if status == SLOW:
        argv, usec = extra
        observe(c, _BY_NAME[argv[0].lower().decode()], argv, usec)
    elif status == ERROR:  # the command raised (MemoryError): answered as Connection.run does
        name, exc = extra
        reply = encode(conn.server.internal_error(c, [name], exc), c.protocol)
        conn.room -= len(reply)
        conn.out.append(reply)
    if conn.room < 0:
        if conn._output_check():
            if conn.closed:
                return -1
            return pos  # throttled: the rest waits in ``pending``
        conn.room = conn._room()
    if status == PARTIAL and len(data) - pos < TAIL_MAX:
        conn.fast_tail = data[pos:]
        return len(data)
    if status in (HANDOVER, END, PARTIAL):
        return pos
    return None
