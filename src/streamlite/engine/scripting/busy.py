"""Busy scripts: the time limit, SCRIPT KILL / FUNCTION KILL, and what others see meanwhile.

As in Redis (``script.c``): a Lua count hook (every 100,000 instructions, set up
by ``sandbox``) calls ``interrupt``. Until the script has run for
``busy-reply-threshold`` ms (alias ``lua-time-limit``; 0 = no limit) nothing
else happens: no other client runs. Past it the script is *timed out*:
``engine.busy`` holds its ``RunContext``, a warning is logged, and at every
later hook the engine asks its front to process events
(``engine.script_host.process_events()``; Redis's ``processEventsWhileBlocked``).
Meanwhile ``Engine.execute`` refuses every command without the ``allow-busy``
flag with ``-BUSY`` (``BUSY_EVAL`` or ``BUSY_FUNCTION``), and the front keeps
its periodic work and blocked clients for later (Redis runs no cron then).

``SCRIPT KILL`` / ``FUNCTION KILL`` (``kill``) mark the script killed unless it
has written (``-UNKILLABLE``); the next hook raises ``KILLED`` in Lua, and from
then on every new line of the script raises it again, so ``pcall`` cannot keep
a killed script going (it can only catch it on the line where it was killed,
as in Redis). ``FUNCTION LOAD`` gets 500 ms (``LOAD_TIMEOUT_MS``) to run a
library's top-level code, checked by the same hook.

How the front processes events is its business: the server runs script commands
in a greenlet and switches back to its event loop (``server/scripts.py``); the
engine itself stays free of I/O and threads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import CommandError

if TYPE_CHECKING:
    from ..client import Client
    from ..registry import Command
    from .runtime import RunContext, Scripting


class ScriptHost(Protocol):
    """What a front installs as ``engine.script_host`` so that a busy script can let
    it serve others: ``Engine.execute`` hands it every command that may run Lua
    (``Command.runs_scripts``) to run as ``call(c, cmd, argv)``, and the hook calls
    ``process_events`` while the script is past its time limit."""

    def run(self, call: Callable[[Client, Command, list[bytes]], Any], c: Client,
            cmd: Command, argv: list[bytes]) -> Any:
        """Run ``call(c, cmd, argv)``; its reply (the server: or NO_REPLY until later)."""

    def process_events(self) -> None:
        """Serve others for a moment (Redis's ``processEventsWhileBlocked``)."""

log = logging.getLogger("streamlite.script")

BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = (
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)
NOTBUSY = "NOTBUSY No scripts in execution right now."
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
    "can either wait the script termination or kill the server in a hard way using the "
    "SHUTDOWN NOSAVE command."
)
KILLED = b"ERR Script killed by user with SCRIPT KILL..."
LOAD_TIMEOUT = b"ERR FUNCTION LOAD timeout"
LOAD_TIMEOUT_MS = 500
HOOK_EVERY = 100_000  # Lua instructions between two checks, as Redis's count hook

monotonic = time.monotonic


def busy_error(ctx: RunContext) -> str:
    """The -BUSY text while ``ctx`` runs (Redis's slowevalerr / slowscripterr)."""
    return BUSY_EVAL if ctx.is_eval else BUSY_FUNCTION


def interrupt(s: Scripting) -> Any:
    """The count hook's check: None to go on, or the error value that stops the script."""
    ctx = s.ctx
    if ctx is None:
        if s.load_deadline is not None and monotonic() > s.load_deadline:
            return s.conv.error_table(LOAD_TIMEOUT)
        return None
    if not ctx.timed_out:
        threshold = s.engine.config.get("busy-reply-threshold", 5000)
        elapsed_ms = (monotonic() - ctx.started) * 1000
        if not threshold or elapsed_ms < threshold:
            return None
        if ctx.client.is_master:  # replaying the AOF: nobody to answer
            return None
        ctx.timed_out = True
        s.engine.busy = ctx
        how = "SCRIPT KILL" if ctx.is_eval else "FUNCTION KILL"
        log.warning(
            "Slow script detected: still in execution after %d milliseconds. You can try "
            "killing the script using the %s command. Script name is: %s.",
            int(elapsed_ms), how, ctx.sha,
        )
    host = s.engine.script_host
    if host is not None:
        host.process_events()
    if ctx.killed:
        return s.conv.error_table(KILLED)
    return None


def kill(s: Scripting, is_eval: bool) -> None:
    """SCRIPT KILL (``is_eval``) / FUNCTION KILL: Redis's ``scriptKill``."""
    ctx = s.engine.busy
    if ctx is None:
        raise CommandError(NOTBUSY)
    if ctx.write_dirty:
        raise CommandError(UNKILLABLE)
    if is_eval and not ctx.is_eval:
        raise CommandError(BUSY_FUNCTION)
    if not is_eval and ctx.is_eval:
        raise CommandError(BUSY_EVAL)
    ctx.killed = True
    log.info("Lua script killed by user with SCRIPT KILL.")


def running_script(s: Scripting) -> dict[bytes, Any] | None:
    """FUNCTION STATS' ``running_script``: the running function, or None."""
    ctx = s.engine.busy
    if ctx is None:
        return None
    if ctx.is_eval:
        raise CommandError(BUSY_EVAL)
    return {
        b"name": ctx.sha.encode(),
        b"command": list(ctx.argv),
        b"duration_ms": int((monotonic() - ctx.started) * 1000),
    }
