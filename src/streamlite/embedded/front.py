"""The embedded host as the engine's front (``engine.front``).

Connection and server commands ask the front about the world outside the engine:
CLIENT LIST / INFO / KILL / UNBLOCK see the process's embedded connections,
INFO clients counts them. Commands that belong to a server process (SHUTDOWN,
MONITOR, CLIENT PAUSE) are refused or ignored: an embedded engine does not own
the process it runs in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.front import Front
from ..engine.replies import ErrorReply

if TYPE_CHECKING:
    from ..engine.client import Client
    from .host import Host

UNBLOCKED = b"UNBLOCKED client unblocked via CLIENT UNBLOCK"


class EmbeddedFront(Front):
    name = "embedded"

    def __init__(self, host: Host) -> None:
        self.host = host

    def clients(self) -> list[Client]:
        return [s.client for _, s in sorted(self.host.sessions.items())]

    def kill(self, c: Client) -> None:
        s = self.host.sessions.get(c.id)
        if s is None or s.running:  # the caller: closed after its reply
            c.closing = True
            return
        self.host.close_session(s)

    def unblock(self, c: Client, error: bool) -> bool:
        b = c.blocked
        if b is None:
            return False
        return self.host.unblock(c, ErrorReply(UNBLOCKED) if error else b.timeout_reply)

    def blocked_count(self) -> int:
        return len(self.host.blocking)

    def monitor(self, c: Client) -> None:
        from ..engine.errors import CommandError

        raise CommandError("ERR MONITOR is not supported by the embedded engine")

    def shutdown(self, c: Client, save: bool | None, now: bool, force: bool,
                 abort: bool) -> Any:
        return ErrorReply(b"ERR SHUTDOWN is not supported by the embedded engine: "
                          b"close its clients instead")
