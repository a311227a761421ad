"""BACKUP START | STATUS | LIST | SEAL | ABORT | CLEANUP (Redis 8.10): online backups.

The engine does no I/O: each subcommand calls the persistence layer's ``Backup``
(``persistence/backup.py``, which explains the state machine and the file set).
Replies follow the command pages and redis-py's tests: OK for the transitions,
STATUS a map of ``state``, ``error``, ``start_time`` and ``end_time``, LIST the
absolute paths of the files pinned so far. No Redis 8.2 to compare with; error
texts the pages leave open are streamlite's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..client import Client
from ..persistence_api import Backups
from ..registry import Handler, command
from ..replies import OK
from ..subcommands import dispatch, help_lines
from .persist import _persistence


@command("backup", -2, "", group="server")
def backup(c: Client, argv: list[bytes]) -> Any:
    """BACKUP subcommand"""
    return dispatch(c, argv, "backup")


def _sub(name: str, flags: str = "admin noscript") -> Callable[[Handler], Handler]:
    return command(name, 2, flags, group="server", parent="backup")


def _backup(c: Client) -> Backups:
    """The persistence layer's ``Backup``; its refusals are CommandErrors."""
    return _persistence(c).backup


@_sub("help", "loading stale")
def backup_help(c: Client, argv: list[bytes]) -> Any:
    """BACKUP HELP"""
    return help_lines("backup", [
        "START",
        "    Start a backup into the directory named by 'backupdirname' (must be empty).",
        "STATUS",
        "    Show the backup state, its error, start and end (seal) times.",
        "LIST",
        "    List the files pinned so far (the base; after SEAL also the INCR and manifest).",
        "SEAL",
        "    Freeze the backup: the base, the writes since START and a manifest.",
        "ABORT",
        "    Cancel a backup that is not sealed yet.",
        "CLEANUP",
        "    Remove the files of a sealed or failed backup and go back to idle.",
    ])


@_sub("start")
def backup_start(c: Client, argv: list[bytes]) -> Any:
    """BACKUP START"""
    _backup(c).start()
    return OK


@_sub("status")
def backup_status(c: Client, argv: list[bytes]) -> Any:
    """BACKUP STATUS"""
    return _backup(c).status()


@_sub("list")
def backup_list(c: Client, argv: list[bytes]) -> Any:
    """BACKUP LIST"""
    return _backup(c).paths()


@_sub("seal")
def backup_seal(c: Client, argv: list[bytes]) -> Any:
    """BACKUP SEAL"""
    _backup(c).seal()
    return OK


@_sub("abort")
def backup_abort(c: Client, argv: list[bytes]) -> Any:
    """BACKUP ABORT"""
    _backup(c).abort()
    return OK


@_sub("cleanup")
def backup_cleanup(c: Client, argv: list[bytes]) -> Any:
    """BACKUP CLEANUP"""
    _backup(c).cleanup()
    return OK
