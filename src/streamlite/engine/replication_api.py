"""What the engine asks of the replication behind it (``engine.replication``).

The engine holds no replication state: SYNC, PSYNC, REPLCONF, REPLICAOF, ROLE, WAIT,
INFO replication and HELLO's ``role`` hand their work to the object the server
installs as ``engine.replication`` (``streamlite.server.replication.Replication``).
Without one (the embedded mode) the engine is a master with no replicas.

A method that answers later (a parked WAIT, REPLCONF ACK) returns None; one that
refuses returns ``("err", text)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .client import Client


class Replication(Protocol):
    @property
    def is_replica(self) -> bool:
        """True while this server follows a master."""

    def sync(self, c: Client, replid: bytes | None, offset: int) -> None:
        """SYNC (``replid`` None) or PSYNC: ``c`` becomes a replica."""

    def replconf(self, c: Client, argv: list[bytes]) -> Any:
        """REPLCONF option value ...: a reply, None (no reply) or ``("err", text)``."""

    def replicaof(self, host: str, port: int) -> str:
        """REPLICAOF host port: the status text of the reply."""

    def no_one(self) -> None:
        """REPLICAOF NO ONE."""

    def role(self) -> list[Any]:
        """ROLE's reply."""

    def wait(self, c: Client, needed: int, timeout_ms: int) -> Any:
        """WAIT: the count, None (parked: the reply comes later) or ``("err", text)``."""

    def info(self) -> dict[str, Any]:
        """INFO replication's fields."""
