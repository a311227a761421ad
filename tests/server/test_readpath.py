"""The compiled per-read path (``ReadPath``, _readpath.c) against the Python it stands in for.

- The decision a read makes before it runs anything (``ReadPath.check``: from what it
  kept of the last check, or a full check) equals the Python guard (``fastpath.usable``
  plus ``data_received``'s own conditions) after any sequence of changes to what the
  guard reads, each made the way Python code makes it (attribute writes, set and dict
  contents, slots); ``read_guard`` (the full check alone) equals ``usable`` as well.
- On a running server: a change made by another connection (CONFIG SET) is seen by the
  next read of a connection whose ReadPath had kept everything; a command that raises
  inside the C code (MemoryError) is answered as the Python path answers it.

The replies, statistics and AOF of whole pipelines through it are compared with the
Python path in test_fastpath.py (its "read" twins).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.server.test_blocking import InProcServer
from tests.server.test_fastpath import b_, read_replies

from streamlite.accel import speedups
from streamlite.engine.core import Engine
from streamlite.protocol.resp import encode_command
from streamlite.server import fastpath
from streamlite.server.app import Server
from streamlite.server.connection import Connection

pytestmark = pytest.mark.skipif(fastpath.ReadPath is None,
                                reason="the C accelerator (its fast path) is not active")


class FakeTransport:
    def __init__(self) -> None:
        self.buffered = 0

    def get_write_buffer_size(self) -> int:
        return self.buffered


def python_decision(conn: Connection) -> bool:
    """What ``data_received`` needs to run a read as the common case, in Python."""
    tr = conn.transport
    return (not conn.closed and not conn.throttled and not conn.sliced and conn.parser is None
            and not conn.fast_tail and not conn.out and tr is not None
            and not tr.get_write_buffer_size() and fastpath.usable(conn))


def make_conn() -> Connection:
    e = Engine()
    e._commands = dict(e._commands)  # (the tests change it: not the shared table)
    srv = Server(e)
    conn = Connection(srv)
    conn.transport = FakeTransport()  # type: ignore[assignment]
    conn.client = e.client()
    return conn


Change = tuple[str, Callable[[Connection], Any], Callable[[Connection, Any], None]]


def attr(path: str, value: Any) -> Change:
    """Set ``path`` (conn.<...>.<name>) to ``value``; undone by setting it back."""
    *objs, name = path.split(".")

    def target(conn: Connection) -> Any:
        o: Any = conn
        for a in objs:
            o = getattr(o, a)
        return o

    def do(conn: Connection) -> Any:
        o = target(conn)
        old = getattr(o, name)
        setattr(o, name, value)
        return old

    def undo(conn: Connection, old: Any) -> None:
        setattr(target(conn), name, old)

    return (path, do, undo)


def item(path: str, key: Any, value: Any) -> Change:
    """Set the item ``key`` of the dict at ``path``; undone by restoring it."""
    def do(conn: Connection) -> Any:
        d = eval(path, {"conn": conn})  # noqa: S307 - a path written in this file
        old = d.get(key, KeyError)
        d[key] = value
        return old

    def undo(conn: Connection, old: Any) -> None:
        d = eval(path, {"conn": conn})  # noqa: S307
        if old is KeyError:
            del d[key]
        else:
            d[key] = old

    return (f"{path}[{key!r}]", do, undo)


def member(path: str, value: Any) -> Change:
    """Add ``value`` to the set (or list) at ``path``; undone by removing it."""
    def do(conn: Connection) -> Any:
        c = eval(path, {"conn": conn})  # noqa: S307
        if isinstance(c, list):
            c.append(value)
        else:
            c.add(value)

    def undo(conn: Connection, _: Any) -> None:
        eval(path, {"conn": conn}).remove(value)  # noqa: S307

    return (f"{path} + {value!r}", do, undo)


def buffered(conn: Connection) -> Any:
    conn.transport.buffered = 7  # type: ignore[union-attr]


CHANGES: list[Change] = [
    # the connection (data_received's own conditions and the guard's)
    attr("waiting", True), attr("closed", True), attr("close_after_reply", True),
    attr("throttled", True), attr("sliced", True), attr("parser", object()),
    attr("fast_tail", b"*1\r\n"), member("conn.out", b"+OK\r\n"),
    ("transport buffer", buffered, lambda conn, _: setattr(conn.transport, "buffered", 0)),
    # the server
    attr("server.paused_until", 1e18), attr("server.loading", True),
    # the client
    attr("client.reply_mode", b"off"), attr("client.reply_mode", b"skip"),
    attr("client.multi", []), attr("client.authenticated", False),
    attr("client.user.unrestricted", False), member("conn.client.channels", b"ch"),
    member("conn.client.patterns", b"p*"), member("conn.client.shard_channels", b"sh"),
    attr("client.tracking", object()), attr("client.closing", True),
    attr("client.blocked", object()), attr("client.is_master", True),
    attr("client.db.lrm", {}),
    # the engine
    attr("engine.loading", True), attr("engine.write_error", "MISCONF"),
    attr("engine.read_only", "READONLY"), attr("engine.busy", object()),
    attr("engine.on_command", print), attr("engine.hotkeys", object()),
    attr("engine.tracking", object()), attr("engine._depth", 1),
    attr("engine._unit_outer", []), item("conn.engine.config", "maxmemory", 1 << 20),
    item("conn.engine.config", "notify-keyspace-events", "KEA"),
    item("conn.engine._commands", b"xadd", object()),
    item("conn.engine._commands", b"ping", object()),
    # changes the guard does not look at (they may only cost a full check)
    attr("net_in", 12345), attr("server.net_in", 99), attr("engine.dirty", 7),
    attr("client.name", b"somebody"), item("conn.engine.config", "hz", 11),
    item("conn.engine._commands", b"nosuch", object()), member("conn.server.resume", None),
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(CHANGES) - 1), st.booleans()), max_size=30))
def test_the_kept_decision_is_the_python_guards(steps):
    """After every change (or undoing of one), in any order: the read decides as the
    Python path would."""
    conn = make_conn()
    rp = conn.data_received
    done: dict[int, Any] = {}
    user = conn.client.user
    try:
        assert rp.check() == (True, False)  # the first read: a full check ...
        assert rp.check() == (True, True)  # ... kept for the next
        for i, undo in steps:
            name, do, undo_fn = CHANGES[i]
            if undo and i in done:
                undo_fn(conn, done.pop(i))
            elif not undo and i not in done:
                done[i] = do(conn)
            expect = python_decision(conn)
            assert rp.check()[0] == expect, (name, undo, sorted(done))
            assert speedups.read_guard(conn) == fastpath.usable(conn), name
            assert rp.check()[0] == expect  # and again, from what it kept
    finally:
        user.unrestricted = True  # (the engine's default user: restored for the next)


def test_a_change_anywhere_costs_one_full_check():
    conn = make_conn()
    rp = conn.data_received
    assert rp.check() == (True, False)
    for path in ("net_in", "server.net_in", "client.name", "engine.dirty"):
        _, do, _ = attr(path, 1)
        do(conn)
        assert rp.check() == (True, False), path
        assert rp.check() == (True, True), path
    conn.engine.config["hz"] = 12
    assert rp.check() == (True, False)
    assert rp.check() == (True, True)


def test_a_subclass_with_its_own_data_received_keeps_it():
    """(embedded/served.py's shared connection takes the host's lock around it)"""
    class Locked(Connection):
        def data_received(self, data: bytes) -> None:
            super().data_received(data)

    srv = Server(Engine())
    assert type(Connection(srv).data_received) is fastpath.ReadPath
    assert type(Locked(srv).data_received) is not fastpath.ReadPath


# -- a running server ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def server() -> Any:
    e = Engine()
    srv = InProcServer(e).start()
    yield srv
    srv.stop()


def connect(srv: InProcServer) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(20)
    return s


def send(sock: socket.socket, cmds: list[list[bytes]]) -> bytes:
    sock.sendall(b"".join(encode_command(c) for c in cmds))
    return read_replies(sock, len(cmds))


def by_readpath() -> int:
    return speedups.fastpath_served()[1]  # type: ignore[no-any-return]


def test_another_connections_config_set_is_seen(server):
    """a's ReadPath kept everything over several XADDs; b turns keyspace notifications
    on: a's next XADD goes the Python way and c hears of it."""
    a, b, c = connect(server), connect(server), connect(server)
    send(a, [b_("XADD", "k", "1-1", "f", "v")])
    before = by_readpath()
    for i in range(5):
        send(a, [b_("XADD", "k", "*", "f", i)])
    assert by_readpath() - before == 5
    send(c, [b_("SUBSCRIBE", "__keyspace@0__:k")])
    send(b, [b_("CONFIG", "SET", "notify-keyspace-events", "KEA")])
    before = by_readpath()
    send(a, [b_("XADD", "k", "*", "f", "x")])
    assert read_replies(c, 1).endswith(b"$4\r\nxadd\r\n")
    assert by_readpath() == before
    send(b, [b_("CONFIG", "SET", "notify-keyspace-events", "")])
    send(a, [b_("XADD", "k", "*", "f", "y")])
    assert by_readpath() == before + 1
    for s in (a, b, c):
        s.close()


class NoMemory:
    """A node's offsets that cannot grow: the next append to the node fails."""

    def append(self, _: Any) -> None:
        raise MemoryError


@pytest.mark.parametrize("fast", [True, False])
def test_a_command_failing_inside_is_answered_as_python_does(server, fast):
    """The failing XADD gets Python's internal-error reply; the read's other commands
    theirs, before and after it."""
    a = connect(server)
    send(a, [b_("DEL", "m"), b_("XADD", "m", "1-1", "f", "v")])
    node = server.engine.dbs[0].data[b"m"]._nodes[-1]
    real = node.offs
    node.offs = NoMemory()
    real_run = fastpath.fast_run
    if not fast:
        fastpath.fast_run = None
    try:
        got = send(a, [b_("PING"), b_("XADD", "m", "*", "f", "v"), b_("ECHO", "e")])
    finally:
        fastpath.fast_run = real_run
        node.offs = real
    assert got == b"+PONG\r\n-ERR internal error in 'XADD': MemoryError\r\n$1\r\ne\r\n"
    assert send(a, [b_("XLEN", "m")]) == b":1\r\n"
    a.close()


def test_maxlen_approx_runs_compiled(server):
    """XADD ... MAXLEN ~ n (a '~' in the read) goes through the compiled path."""
    a = connect(server)
    send(a, [b_("DEL", "t"), b_("XADD", "t", "1-1", "f", "v")])
    before = by_readpath()
    for _ in range(3):
        assert send(a, [b_("XADD", "t", "MAXLEN", "~", "1000", "*", "f", "v")]).startswith(b"$")
    assert by_readpath() - before == 3
    a.close()
