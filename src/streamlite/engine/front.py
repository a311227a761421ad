"""What the engine asks of the front it runs behind (``engine.front``).

Connection and server commands (CLIENT LIST/KILL/UNBLOCK/PAUSE, INFO clients,
SHUTDOWN, MONITOR, DEBUG SLEEP/LOG, CONFIG SET of a port ...) need the outside
world: the set of connections, the listening socket, the process, its log. The
engine does no I/O, so a front (the TCP server, the embedded host) provides these
by subclassing ``Front`` and setting ``engine.front``. Every method the engine
calls is declared here; the defaults describe a front with no other clients, no
log and no process control, which is what an engine used alone (unit tests) gets:
``NO_FRONT``, the value of ``engine.front`` until a front sets itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Client


class Front:
    """Base front: no connections besides the caller, nothing to shut down."""

    name = "embedded"

    def clients(self) -> list[Client]:
        """Every connected client, in connection order."""
        return []

    def kill(self, c: Client) -> None:
        """Close ``c``'s connection (after the current reply, if it is the caller)."""
        c.closing = True

    def unblock(self, c: Client, error: bool) -> bool:
        """CLIENT UNBLOCK: end ``c``'s blocking command (timeout reply or error)."""
        return False

    def blocked_count(self) -> int:
        return 0

    def monitor(self, c: Client) -> None:
        """MONITOR: from now on feed ``c`` every command executed."""
        raise NotImplementedError

    def unmonitor(self, c: Client) -> None:
        """RESET of a MONITOR client: stop feeding it."""

    def log(self, msg: str, level: str = "notice") -> None:
        """A line for the server log (DEBUG LOG, DEBUG LOADAOF/RELOAD outcomes)."""

    def debug_sleep(self, secs: float) -> None:
        """DEBUG SLEEP: block the process (a front with no process to block ignores it)."""

    def shutdown(self, c: Client, save: bool | None, now: bool, force: bool, abort: bool) -> Any:
        """SHUTDOWN: returns an error reply, or None once the process is exiting."""
        from .replies import ErrorReply

        return ErrorReply(b"ERR SHUTDOWN is not supported by this front")

    def pause(self, timeout_ms: int, write_only: bool) -> None:
        pass

    def unpause(self) -> None:
        pass

    def config_changed(self, name: str, value: Any) -> str | None:
        """A config the front acts on changed (port, bind ...); an error text or None."""
        return None

    def has_pending_replies(self, c: Client) -> bool:
        """True when ``c`` has replies not yet handed to its socket (Redis's
        ``clientHasPendingReplies``)."""
        return False

    def info_server(self) -> dict[str, Any]:
        return {}

    def info_clients(self) -> dict[str, Any]:
        return {}

    def info_threads(self) -> dict[str, Any]:
        """INFO's ``# Threads``: the I/O threads and their clients (none here)."""
        return {}

    def info_stats(self) -> dict[str, Any]:
        return {}

    def reset_stats(self) -> None:
        pass

    def config_file(self) -> str | None:
        return None

    def client_info(self, c: Client) -> dict[str, Any]:
        """Front-side fields for CLIENT LIST/INFO (qbuf, omem, fd ...)."""
        return {}


# an engine's front until one sets itself (an engine used alone)
NO_FRONT = Front()
