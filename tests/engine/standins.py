"""Minimal stand-ins for data commands other helpers implement (GET, SET, INCR, LPUSH ...),
so the transaction / pub-sub / scripting tests can run before those land in main.

``engine_with_standins`` gives an engine whose command table is the real one plus
these stand-ins for the names that are *missing* from it: once the real commands
are merged, they are used and the stand-ins are ignored. The stand-ins only
follow Redis for what these tests exercise. ``TBLOCK`` and ``TADVANCE`` are test
commands (a blocking command, and one that moves the fake clock).
"""

from __future__ import annotations

from typing import Any

from streamlite.engine import Engine, FakeClock
from streamlite.engine.args import parse_int
from streamlite.engine.client import Client
from streamlite.engine.database import register_type
from streamlite.engine.errors import CommandError, wrongtype
from streamlite.engine.registry import COMMANDS, Command
from streamlite.engine.replies import OK, Blocked


class TList(list):  # type: ignore[type-arg]
    pass


class THash(dict):  # type: ignore[type-arg]
    pass


register_type(TList, b"list")
register_type(THash, b"hash")


def _get(c: Client, argv: list[bytes]) -> Any:
    v = c.db.lookup(argv[1])
    if v is not None and type(v) is not bytes:
        raise wrongtype()
    return v


def _set(c: Client, argv: list[bytes]) -> Any:
    key, val = argv[1], argv[2]
    nx = False
    px: int | None = None
    pxat: int | None = None
    i = 3
    while i < len(argv):
        opt = argv[i].upper()
        if opt == b"NX":
            nx = True
        elif opt in (b"PX", b"EX") and i + 1 < len(argv):
            n = parse_int(argv[i + 1])
            px = n if opt == b"PX" else n * 1000
            i += 1
        elif opt == b"PXAT" and i + 1 < len(argv):
            pxat = parse_int(argv[i + 1])
            i += 1
        else:
            raise CommandError("ERR syntax error")
        i += 1
    if nx and c.db.lookup(key) is not None:
        return None
    c.db.set(key, val)
    if pxat is not None:
        c.db.set_expire(key, pxat)
    if px is not None:
        when = c.engine.now_ms() + px
        c.db.set_expire(key, when)
        c.engine.rewrite(c, [b"SET", key, val, b"PXAT", b"%d" % when])
    return OK


def _incr(c: Client, argv: list[bytes]) -> Any:
    v = c.db.lookup(argv[1])
    if v is not None and type(v) is not bytes:
        raise wrongtype()
    n = parse_int(v if v is not None else b"0") + 1
    c.db.set(argv[1], b"%d" % n, keep_ttl=True)
    return n


def _del(c: Client, argv: list[bytes]) -> Any:
    return sum(1 for k in argv[1:] if c.db.delete(k))


def _exists(c: Client, argv: list[bytes]) -> Any:
    return sum(1 for k in argv[1:] if c.db.lookup(k) is not None)


def _pexpire(c: Client, argv: list[bytes]) -> Any:
    if c.db.lookup(argv[1]) is None:
        return 0
    when = c.engine.now_ms() + parse_int(argv[2])
    c.db.set_expire(argv[1], when)
    c.engine.rewrite(c, [b"PEXPIREAT", argv[1], b"%d" % when])
    return 1


def _lpush(c: Client, argv: list[bytes]) -> Any:
    v = c.db.lookup(argv[1])
    if v is None:
        v = TList()
        c.db.set(argv[1], v)
    elif type(v) is not TList:
        raise wrongtype()
    for x in argv[2:]:
        v.insert(0, x)
    c.db.touch(argv[1])
    return len(v)


def _hset(c: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2:
        raise CommandError("ERR wrong number of arguments for 'hset' command")
    v = c.db.lookup(argv[1])
    if v is None:
        v = THash()
        c.db.set(argv[1], v)
    elif type(v) is not THash:
        raise wrongtype()
    added = 0
    for i in range(2, len(argv), 2):
        added += argv[i] not in v
        v[argv[i]] = argv[i + 1]
    c.db.touch(argv[1])
    return added


def _hgetall(c: Client, argv: list[bytes]) -> Any:
    v = c.db.lookup(argv[1])
    if v is not None and type(v) is not THash:
        raise wrongtype()
    return dict(v or {})


def _flushall(c: Client, argv: list[bytes]) -> Any:
    for db in c.engine.dbs:
        db.clear()
    return OK


def _flushdb(c: Client, argv: list[bytes]) -> Any:
    c.db.clear()
    return OK


def _tblock(c: Client, argv: list[bytes]) -> Any:
    """TBLOCK key: blocks until key exists; a test of in_exec / in_script."""
    v = c.db.lookup(argv[1])
    if v is not None:
        return v
    if c.in_exec or c.in_script:
        return None
    return Blocked([(c.db_index, argv[1])], argv, None, None)


def _tadvance(c: Client, argv: list[bytes]) -> Any:
    """TADVANCE ms: move the fake clock, answer the command's time snapshot."""
    c.engine.clock.advance(int(argv[1]))  # type: ignore[attr-defined]
    return c.engine.now_ms()


def _cmd(name: str, fn: Any, arity: int, flags: str, first: int = 0, last: int = 0,
         step: int = 0) -> Command:
    fl = frozenset(flags.split())
    return Command(name=name, handler=fn, arity=arity, flags=fl, first_key=first,
                   last_key=last, step=step, is_write="write" in fl,
                   is_blocking="blocking" in fl)


STANDINS = [
    _cmd("get", _get, 2, "readonly fast", 1, 1, 1),
    _cmd("set", _set, -3, "write denyoom", 1, 1, 1),
    _cmd("incr", _incr, 2, "write denyoom fast", 1, 1, 1),
    _cmd("del", _del, -2, "write", 1, -1, 1),
    _cmd("exists", _exists, -2, "readonly fast", 1, -1, 1),
    _cmd("pexpire", _pexpire, -3, "write fast", 1, 1, 1),
    _cmd("lpush", _lpush, -3, "write denyoom fast", 1, 1, 1),
    _cmd("hset", _hset, -4, "write denyoom fast", 1, 1, 1),
    _cmd("hgetall", _hgetall, 2, "readonly", 1, 1, 1),
    _cmd("flushall", _flushall, -1, "write", 0, 0, 0),
    _cmd("flushdb", _flushdb, -1, "write", 0, 0, 0),
]
TEST_ONLY = [
    _cmd("tblock", _tblock, 2, "blocking", 1, 1, 1),
    _cmd("tadvance", _tadvance, 2, "fast", 0, 0, 0),
]


def command_table() -> dict[bytes, Command]:
    table = dict(COMMANDS)
    for cmd in STANDINS:
        table.setdefault(cmd.name.encode(), cmd)
    for cmd in TEST_ONLY:
        table[cmd.name.encode()] = cmd
    return table


def engine_with_standins(clock: FakeClock | None = None) -> Engine:
    eng = Engine(clock or FakeClock())
    eng.commands = command_table()
    return eng


class Conn:
    """One client on an engine: ``a("SET", "k", 1)`` runs a command and returns the reply."""

    def __init__(self, engine: Engine, protocol: int = 2) -> None:
        self.engine = engine
        self.client = engine.client()
        self.client.protocol = protocol

    def __call__(self, *argv: Any) -> Any:
        args = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        return self.engine.execute(self.client, args)

    def pushes(self) -> list[Any]:
        """The messages pushed to this client since the last call (and forget them)."""
        out = list(self.client.pushed)
        self.client.pushed.clear()
        return out
