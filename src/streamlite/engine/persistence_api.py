"""What the engine asks of the persistence behind it (``engine.persistence``).

The engine does no I/O: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, WAITAOF, FLUSHALL's
immediate save, DEBUG RELOAD/LOADAOF, CONFIG SET of the persistence settings and INFO
persistence hand their work to the object a front installs as ``engine.persistence``
(``streamlite.persistence.manager.Persistence``, for the server and for an embedded
engine with a data directory). Without one (``None``: an engine in memory) those
commands answer as Redis without a data directory would, or refuse.

This is the whole interface: every method or attribute the engine uses is declared
here, so mypy checks the manager against it where a front assigns it.

Errors: ``save``/``bgsave``/``bgrewriteaof`` raise ``RuntimeError`` with Redis's error
text when the request is refused (a child already runs) and ``OSError`` when the disk
fails; the commands turn them into Redis's replies.
"""

from __future__ import annotations

from typing import Any, Protocol


class Backups(Protocol):
    """BACKUP's state machine (``persistence/backup.py``); refusals raise CommandError."""

    def start(self) -> None: ...
    def status(self) -> dict[bytes, Any]: ...
    def paths(self) -> list[bytes]: ...
    def seal(self) -> None: ...
    def abort(self) -> None: ...
    def cleanup(self) -> None: ...


class Persistence(Protocol):
    lastsave: int  # unix time of the last successful save (LASTSAVE)

    @property
    def backup(self) -> Backups:
        """BACKUP START ... CLEANUP."""

    @property
    def child_kind(self) -> str | None:
        """The running background job (``"save"``, ``"rewrite"``) or None."""

    def log(self, msg: str) -> None:
        """A line for the server log."""

    def save(self) -> None:
        """SAVE: write the snapshot now."""

    def bgsave(self, schedule: bool = False) -> str:
        """BGSAVE [SCHEDULE]: the status text of the reply."""

    def bgrewriteaof(self) -> str:
        """BGREWRITEAOF: the status text of the reply."""

    def aof_enabled(self) -> bool:
        """Whether commands are being appended to an AOF (WAITAOF's local count)."""

    def fsync_aof(self) -> None:
        """WAITAOF: write what is pending to the AOF and fsync it."""

    def after_flushall(self) -> None:
        """FLUSHALL ran: stop a BGSAVE of the old data; with save points, save now."""

    def debug_reload(self, save: bool = True) -> None:
        """DEBUG RELOAD: replace the dataset with the snapshot's."""

    def debug_loadaof(self) -> None:
        """DEBUG LOADAOF: replace the dataset with the AOF's."""

    def set_appendonly(self, on: bool) -> None:
        """CONFIG SET appendonly (raises ``OSError`` when the AOF cannot be opened)."""

    def set_appendfsync(self, policy: str) -> None:
        """CONFIG SET appendfsync."""

    def set_config(self, name: str, value: Any) -> None:
        """CONFIG SET of another persistence setting (``save``, ``dir``, ``dbfilename``,
        ``stop_writes_on_bgsave_error``, ``snapshot_format``), by its attribute name."""

    def info(self) -> dict[str, Any]:
        """INFO persistence's fields."""
