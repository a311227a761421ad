"""Transaction commands: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

How queueing, WATCH, EXEC and the propagation of a transaction work is told in the
engine's ``multi.py``, which holds all but the handlers.
"""

from __future__ import annotations

from ..client import Client
from ..errors import CommandError
from ..multi import (
    discard_transaction,
    run_transaction,
    unwatch_all,
    watch_key,
    watched_key_expired,
)
from ..registry import command
from ..replies import NULL_ARRAY, OK, ErrorReply

EXECABORT = b"EXECABORT Transaction discarded because of previous errors."


# -- commands -------------------------------------------------------------------------


@command("multi", 1, "noscript loading stale fast allow-busy", group="transactions")
def multi(c: Client, argv: list[bytes]) -> object:
    """MULTI"""
    if c.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    c.multi = []
    c.multi_error = False
    return OK


@command("discard", 1, "noscript loading stale fast allow-busy", group="transactions")
def discard(c: Client, argv: list[bytes]) -> object:
    """DISCARD"""
    if c.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    discard_transaction(c)
    return OK


@command(
    "watch", -2, "noscript loading stale fast allow-busy", 1, -1, 1, group="transactions"
)
def watch(c: Client, argv: list[bytes]) -> object:
    """WATCH key [key ...]"""
    if c.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    if c.dirty_cas:  # no point in watching more: EXEC will fail anyway
        return OK
    for key in argv[1:]:
        watch_key(c, key)
    return OK


@command("unwatch", 1, "noscript loading stale fast allow-busy", group="transactions")
def unwatch(c: Client, argv: list[bytes]) -> object:
    """UNWATCH"""
    unwatch_all(c)
    c.dirty_cas = False
    return OK


@command("exec", 1, "noscript loading stale skip-slowlog", group="transactions")
def exec_(c: Client, argv: list[bytes]) -> object:
    """EXEC"""
    if c.multi is None:
        raise CommandError("ERR EXEC without MULTI")
    if not c.dirty_cas and c.watched and watched_key_expired(c):
        c.dirty_cas = True
    if c.multi_error:
        discard_transaction(c)
        return ErrorReply(EXECABORT)
    if c.dirty_cas:
        discard_transaction(c)
        return NULL_ARRAY
    return run_transaction(c)
