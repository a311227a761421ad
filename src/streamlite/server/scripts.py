"""Busy scripts in the server: a script past ``busy-reply-threshold`` lets the loop run.

Redis answers other clients while a slow script runs by processing events from
inside the script's count hook (``processEventsWhileBlocked``). asyncio cannot
be re-entered, so the server turns it around: every command that may run Lua
(``Command.runs_scripts``: EVAL*, FCALL*, EXEC) runs in a greenlet
(``ScriptHost.run``, called by ``Engine.execute``); a worker greenlet is reused,
so this costs one switch per such command (about a microsecond).

Before the threshold nothing else happens, exactly as before: the script runs to
its end inside the read that carried it. Past it the engine's hook calls
``process_events``, which switches back to the loop: ``run`` returns
``SUSPENDED``, the connection holds back what its client pipelined behind the
script (as for a blocked command), and the loop goes on serving other clients,
which get ``-BUSY`` unless their command is ``allow-busy`` (SCRIPT KILL,
FUNCTION KILL/STATS, SHUTDOWN NOSAVE, AUTH, HELLO, MULTI, DISCARD, WATCH,
UNWATCH, QUIT, RESET). The loop resumes the script one hook interval at a time
(``call_soon``, so I/O is polled between slices). When the script ends, its
reply is delivered like a blocked command's, and ``end_batch`` persists its
writes before any reply goes out, serves the clients blocked on keys it wrote,
and runs what its client had pipelined.

While a script is suspended the server runs no periodic work and serves no
blocked client (Redis runs no cron then either); persistence may still write the
effects of commands that ran before the script (``Engine.take_effects`` keeps
the script's own until it ends).

Decision record: ``docs/architecture.md`` (busy scripts).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import greenlet

    from ..engine.client import Client
    from ..engine.registry import Command
    from .app import Server


class _Suspended:
    __slots__ = ()

    def __repr__(self) -> str:
        return "SUSPENDED"


SUSPENDED: Any = _Suspended()  # the reply of a script command that went on past the threshold

_DONE, _ERROR, _BUSY = 0, 1, 2


class ScriptHost:
    """``engine.script_host`` of a server: runs script commands so they can yield."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.thread = threading.get_ident()  # the event loop's (created on its thread)
        # that thread's main greenlet, from the first run (greenlet is imported then: a
        # server that runs no script command does not need it)
        self.loop_greenlet: greenlet.greenlet | None = None
        self._idle: greenlet.greenlet | None = None  # a worker waiting for a command
        self._running: tuple[greenlet.greenlet, Client, list[bytes]] | None = None
        self._handle: asyncio.Handle | None = None

    # -- called by the engine -------------------------------------------------------

    def run(self, call: Any, c: Client, cmd: Command, argv: list[bytes]) -> Any:
        """Run ``call(c, cmd, argv)``: its reply, or SUSPENDED if it yielded."""
        import greenlet

        loop_g = self.loop_greenlet
        if loop_g is None:
            if threading.get_ident() != self.thread:  # another thread: no yielding
                return call(c, cmd, argv)
            loop_g = greenlet.getcurrent()
            while loop_g.parent is not None:
                loop_g = loop_g.parent
            self.loop_greenlet = loop_g
        if greenlet.getcurrent() is not loop_g:  # another thread: no yielding
            return call(c, cmd, argv)
        g = self._idle or greenlet.greenlet(self._work, parent=loop_g)
        self._idle = None
        state, value = g.switch((call, c, cmd, argv))
        if state != _BUSY:
            return self._finished(g, state, value)
        self._running = (g, c, argv)
        self._schedule()
        return SUSPENDED

    def process_events(self) -> None:
        """From the hook of a script past the threshold: let the loop run once."""
        import greenlet

        loop_g = self.loop_greenlet
        if loop_g is None or greenlet.getcurrent() is loop_g:
            return  # not started by ``run`` (cannot happen on the loop's thread)
        loop_g.switch((_BUSY, None))

    # -- the worker -----------------------------------------------------------------

    def _work(self, job: tuple[Any, ...]) -> None:
        while True:
            call, c, cmd, argv = job
            try:
                out: tuple[int, Any] = (_DONE, call(c, cmd, argv))
            except Exception as e:  # noqa: BLE001  (raised again on the loop's side)
                out = (_ERROR, e)
            assert self.loop_greenlet is not None  # set by run before this worker started
            job = self.loop_greenlet.switch(out)

    def _finished(self, g: greenlet.greenlet, state: int, value: Any) -> Any:
        self._idle = g
        if state == _ERROR:
            raise value
        return value

    # -- resuming a suspended script ---------------------------------------------------

    def _schedule(self) -> None:
        loop = self.server.loop
        assert loop is not None
        self._handle = loop.call_soon(self._slice)

    def _slice(self) -> None:
        """Run the suspended script up to its next hook, or to its end."""
        self._handle = None
        srv = self.server
        if self._running is None or srv.exit_code is not None:
            return
        g, c, argv = self._running
        conn = srv.conns.get(c.id)
        if conn is not None:
            conn.running = True  # pushes to the caller follow its reply
        try:
            state, value = g.switch()
        finally:
            if conn is not None:
                conn.running = False
        if state == _BUSY:
            self._schedule()
            return
        self._running = None
        self._idle = g
        reply = value if state == _DONE else srv.internal_error(c, argv, value)
        if conn is not None and not conn.closed:
            conn.deliver(reply)
            if conn.deferred:
                conn.out.extend(conn.deferred)
                conn.deferred.clear()
        srv.end_batch()
