"""What the engine asks of the front it runs behind (``engine.ext["front"]``).

Connection and server commands (CLIENT LIST/KILL/UNBLOCK/PAUSE, INFO clients,
SHUTDOWN, MONITOR, ...) need the outside world: the set of connections, the
listening socket, the process. The engine does no I/O, so a front (the TCP
server, the embedded connection) provides these by subclassing ``Front``. The
defaults here describe a front with no other clients and no process control,
which is what an engine used alone (unit tests) gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine


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

    def info_stats(self) -> dict[str, Any]:
        return {}

    def reset_stats(self) -> None:
        pass

    def config_file(self) -> str | None:
        return None

    def client_info(self, c: Client) -> dict[str, Any]:
        """Front-side fields for CLIENT LIST/INFO (qbuf, omem, fd ...)."""
        return {}


_DEFAULT = Front()


def front_of(engine: Engine) -> Front:
    """The engine's front, or a do-nothing one when it runs alone."""
    f = engine.ext.get("front")
    return f if f is not None else _DEFAULT
