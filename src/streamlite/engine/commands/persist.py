"""Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE.

The engine does no I/O itself: these call the persistence layer a front attached
as ``engine.persistence`` (``persistence_api.Persistence``). Replies and
errors are Redis's (``rdb.c`` saveCommand/bgsaveCommand, ``aof.c``
bgrewriteaofCommand).
"""

from __future__ import annotations

import time
from typing import Any

from ..client import Client
from ..errors import SYNTAX, CommandError
from ..persistence_api import Persistence
from ..registry import command
from ..replies import OK, SimpleString


def _persistence(c: Client) -> Persistence:
    p = c.engine.persistence
    if p is None:
        raise CommandError("ERR persistence is not configured for this engine (no data directory)")
    return p


@command("save", 1, "admin noscript no-async-loading no-multi", group="server")
def save(c: Client, argv: list[bytes]) -> Any:
    """SAVE"""
    p = _persistence(c)
    if p.child_kind == "save":
        raise CommandError("ERR Background save already in progress")
    try:
        p.save()
    except OSError as e:
        p.log(f"Failed saving the DB: {e}")
        raise CommandError("ERR")
    return OK


@command("bgsave", -1, "admin noscript no-async-loading", group="server")
def bgsave(c: Client, argv: list[bytes]) -> Any:
    """BGSAVE [SCHEDULE]"""
    schedule = False
    if len(argv) == 2 and argv[1].lower() == b"schedule":
        schedule = True
    elif len(argv) > 1:
        raise CommandError(SYNTAX)
    p = _persistence(c)
    try:
        return SimpleString(p.bgsave(schedule=schedule).encode())
    except RuntimeError as e:
        raise CommandError(str(e))
    except OSError as e:
        raise CommandError(f"ERR Background save failed: {e}")


@command("bgrewriteaof", 1, "admin noscript no-async-loading", group="server")
def bgrewriteaof(c: Client, argv: list[bytes]) -> Any:
    """BGREWRITEAOF"""
    p = _persistence(c)
    try:
        return SimpleString(p.bgrewriteaof().encode())
    except RuntimeError as e:
        raise CommandError(str(e))
    except OSError:
        raise CommandError("ERR Can't execute an AOF background rewriting. Please check the "
                           "server logs for more information.")


@command("lastsave", 1, "fast loading stale", group="server")
def lastsave(c: Client, argv: list[bytes]) -> Any:
    """LASTSAVE"""
    p = c.engine.persistence
    return int(p.lastsave) if p is not None else int(time.time())
