"""Transactions (Redis's ``multi.c``): WATCH bookkeeping, EXEC's execution, and the
execution units EXEC and scripts share; the commands are in ``commands/transactions.py``.

How the pieces fit:

- **Queueing** happens in ``Engine.execute``: while ``c.multi`` is a list, every
  command except EXEC/DISCARD/MULTI/WATCH/QUIT/RESET is checked (unknown command,
  arity, ``no-multi``, subscribed mode) and queued as its argv, answering
  ``QUEUED``. A command refused at that point sets ``c.multi_error``: EXEC then
  answers ``EXECABORT Transaction discarded because of previous errors.``
- **WATCH** records ``(db, key)`` in ``c.watched`` and ``engine.watched``;
  ``Database.touch`` (Redis's ``signalModifiedKey``) and ``Database.clear``
  (FLUSHDB/FLUSHALL) set ``c.dirty_cas`` on every watcher. A watched key that
  expires before EXEC also aborts it (Redis 7). A key already expired when WATCH
  runs is deleted first, which is what Redis's per-watch ``expired`` flag amounts
  to (that key is logically absent, and only a later change should count).
  SWAPDB signals the keys of both databases the same way (``Database``).
- **EXEC** runs the queued commands through ``Engine.call`` (so they share the
  EXEC's time snapshot), with ``c.in_exec`` set: blocking commands answer as if
  timed out, and a ``Blocked`` that slips through becomes its timeout reply.
  Runtime errors of single commands are just their replies; the others run.
- **Propagation** follows Redis 7's execution units: what the EXEC (or a script)
  propagated is wrapped in ``MULTI`` ... ``EXEC`` when it is more than one
  command, propagated bare when it is one, and nothing when nothing was written
  (see ``unit_start`` / ``unit_end``, shared with scripting).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .replies import Blocked, ErrorReply
from .subcommands import resolve

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine


# -- WATCH bookkeeping ----------------------------------------------------------


def watch_key(c: Client, key: bytes) -> None:
    """Watch ``key`` in the client's current database (Redis's ``watchForKey``)."""
    k = (c.db_index, key)
    if k in c.watched:
        return
    db = c.db
    if key in db.expires:
        db.lookup(key)  # already expired: lazy expiry deletes it now, before we watch
    c.watched.add(k)
    c.engine.watched.setdefault(k, set()).add(c)


def unwatch_all(c: Client) -> None:
    """Forget every key ``c`` watches (Redis's ``unwatchAllKeys``)."""
    if not c.watched:
        return
    watched = c.engine.watched
    for k in c.watched:
        clients = watched.get(k)
        if clients is not None:
            clients.discard(c)
            if not clients:
                del watched[k]
    c.watched = set()


def watched_key_expired(c: Client) -> bool:
    """True if a key ``c`` watches has expired since (Redis's ``isWatchedKeyExpired``)."""
    eng = c.engine
    if eng.loading:
        return False
    now = eng.now_ms()
    dbs = eng.dbs
    for dbi, key in c.watched:
        exp = dbs[dbi].expires.get(key)
        if exp is not None and now > exp:  # Redis's keyIsExpired
            return True
    return False


def discard_transaction(c: Client) -> None:
    """Leave MULTI, clear the abort flags and all WATCHes (``discardTransaction``)."""
    c.multi = None
    c.multi_error = False
    c.dirty_cas = False
    unwatch_all(c)


def queued_flags(c: Client) -> frozenset[str]:
    """The union of the queued commands' flags (for a front's checks at EXEC time,
    like Redis refusing EXEC of a transaction with ``denyoom`` commands when OOM)."""
    flags: set[str] = set()
    for argv in c.multi or ():
        cmd = c.engine.lookup_command(argv[0])
        if cmd is not None:
            flags |= cmd.flags
            sub = resolve(cmd, argv)
            if sub is not None and sub is not cmd:
                flags |= sub.flags
    return frozenset(flags)


# -- propagation of an execution unit ---------------------------------------------


def unit_start(engine: Engine) -> int | None:
    """Start collecting an execution unit's effects (EXEC, EVAL at top level).

    The unit's effects gather in a list of their own; the effects from before it
    wait in ``engine._unit_outer``, where persistence can still take them while a
    busy script runs (``Engine.take_effects``), without a part of the unit.
    Returns None when nothing needs wrapping: nobody listens for effects, or
    the unit runs inside another one (EVAL inside EXEC), which wraps it all.
    """
    if engine.effects is None or engine._depth != 1:
        return None
    engine._unit_outer = engine.effects
    engine.effects = []
    return 0


def unit_end(engine: Engine, start: int | None) -> None:
    """Append the unit's effects after the others, in MULTI/EXEC when more than one."""
    if start is None:
        return
    eff = engine.effects
    outer = engine._unit_outer
    engine._unit_outer = None
    if eff is None or outer is None:  # persistence stopped listening meanwhile
        return
    if len(eff) >= 2:
        eff.insert(0, (eff[0][0], [b"MULTI"]))
        eff.append((eff[-1][0], [b"EXEC"]))
    if eff:
        outer.extend(eff)
    engine.effects = outer


# -- EXEC ----------------------------------------------------------------------------


_ACL_CHANGED = {
    1: "no permission to execute the command or subcommand",
    2: "no permission to touch the specified keys",
    4: "no permission to access one of the channels used as arguments",
}


def _acl_recheck(c: Client, cmd: Any, argv: list[bytes]) -> ErrorReply | None:
    """ACLs are checked again at EXEC: the rules may have changed since queueing."""
    real = resolve(cmd, argv) or cmd
    denied = c.engine.acl.check_command(c, real, cmd, argv, "multi")
    if denied is None:
        return None
    reason = _ACL_CHANGED.get(denied[0], "no permission")
    return c.engine.count_error(ErrorReply(
        b"NOPERM ACLs rules changed between the moment the transaction was accumulated and "
        b"the EXEC call. This command is no longer allowed for the following reason: "
        + reason.encode()))


def run_transaction(c: Client) -> list[object]:
    """EXEC of a transaction that may run: its queued commands through ``Engine.call``
    (one time snapshot, ``c.in_exec`` set), as one execution unit; their replies.
    ACLs are checked again for each command, as Redis does."""
    queued = c.multi
    assert queued is not None
    unwatch_all(c)  # as Redis: our own writes below must not matter
    c.multi = None
    eng = c.engine
    start = unit_start(eng)
    was_in_exec = c.in_exec
    c.in_exec = True
    replies: list[object] = []
    try:
        for qargv in queued:
            cmd = eng.lookup_command(qargv[0])
            if cmd is None:  # renamed away meanwhile; cannot happen today
                replies.append(ErrorReply(b"ERR unknown command"))
                continue
            if not c.user.unrestricted:
                c.multi = queued  # still in the transaction for ACL LOG's client info
                try:
                    denied = _acl_recheck(c, cmd, qargv)
                finally:
                    c.multi = None
                if denied is not None:
                    replies.append(denied)
                    continue
            reply = eng.call(c, cmd, qargv)
            if type(reply) is Blocked:
                reply = reply.timeout_reply
            replies.append(reply)
    finally:
        c.in_exec = was_in_exec
        discard_transaction(c)
        unit_end(eng, start)
    return replies
