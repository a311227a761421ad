"""Test-only commands for the transaction / pub-sub / scripting tests.

``engine_with_standins`` gives an engine whose command table is the real one plus
``TBLOCK`` (a blocking command: checks ``in_exec`` / ``in_script``) and
``TADVANCE`` (moves the fake clock and answers the command's time snapshot).
(It held stand-ins for data commands while other helpers were writing them;
they are all in main now.) ``Conn`` is one client on an engine.
"""

from __future__ import annotations

from typing import Any

from streamlite.engine import Engine, FakeClock
from streamlite.engine.client import Client
from streamlite.engine.registry import COMMANDS, Command
from streamlite.engine.replies import Blocked


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


TEST_ONLY = [
    _cmd("tblock", _tblock, 2, "blocking", 1, 1, 1),
    _cmd("tadvance", _tadvance, 2, "fast", 0, 0, 0),
]


def command_table() -> dict[bytes, Command]:
    table = dict(COMMANDS)
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
