"""Helpers shared by the stream commands: lookups, trimming options, reference policies.

Not a command group of its own: ``streams``, ``stream_read``, ``stream_groups`` and
``stream_info`` use these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import SYNTAX, CommandError
from ..record import Record
from ..stream.groups import ConsumerGroup
from ..stream.ids import INVALID_ID, MAX_ID, format_id, parse_strict, parse_xadd_id
from ..stream.stream import ACKED, DELREF, KEEPREF, TRIM_MAXLEN, TRIM_MINID, Stream

NO_SUCH_KEY = "ERR no such key"

POLICIES = {b"KEEPREF": KEEPREF, b"DELREF": DELREF, b"ACKED": ACKED}


def text(b: bytes) -> str:
    """An argument as text for an error message, as Redis's ``%s`` prints it: up to
    its first NUL (a C string), other bytes as they are."""
    nul = b.find(0)
    if nul >= 0:
        b = b[:nul]
    return b.decode("utf-8", "surrogateescape")


def get_stream(c: Client, key: bytes) -> Stream | None:
    """The stream at ``key`` or None; WRONGTYPE for another type."""
    return c.db.get_typed(key, Stream)  # type: ignore[no-any-return]


def node_limits(c: Client) -> tuple[int, int]:
    cfg = c.engine.config
    return (
        int(cfg.get("stream-node-max-entries", 100)),
        int(cfg.get("stream-node-max-bytes", 4096)),
    )


def entry_reply(sid: int, fields: list[bytes]) -> list[Any]:
    return [format_id(sid), fields]


# -- XADD / XTRIM options -------------------------------------------------------


class TrimArgs(Record):
    """Parsed XADD/XTRIM options (Redis's ``streamAddTrimArgs``)."""

    __slots__ = _fields = ("strategy", "strategy_arg", "approx", "limit", "maxlen", "minid",
                           "policy", "id_pos", "id", "id_given", "seq_given", "nomkstream",
                           "idmp_pid", "idmp_iid", "idmp_auto")
    strategy: int  # 0, TRIM_MAXLEN or TRIM_MINID
    strategy_arg: int  # argv index of the count/ID, for rewriting
    approx: bool
    limit: int
    maxlen: int
    minid: int
    policy: int
    # XADD only
    id_pos: int
    id: int
    id_given: bool
    seq_given: bool
    nomkstream: bool
    idmp_pid: bytes | None
    idmp_iid: bytes | None
    idmp_auto: bool

    def __init__(self, strategy: int = 0, strategy_arg: int = 0, approx: bool = False,
                 limit: int = 0, maxlen: int = 0, minid: int = 0, policy: int = KEEPREF,
                 id_pos: int = 0, id: int = 0, id_given: bool = False, seq_given: bool = True,
                 nomkstream: bool = False, idmp_pid: bytes | None = None,
                 idmp_iid: bytes | None = None, idmp_auto: bool = False) -> None:
        self.strategy = strategy
        self.strategy_arg = strategy_arg
        self.approx = approx
        self.limit = limit
        self.maxlen = maxlen
        self.minid = minid
        self.policy = policy
        self.id_pos = id_pos
        self.id = id
        self.id_given = id_given
        self.seq_given = seq_given
        self.nomkstream = nomkstream
        self.idmp_pid = idmp_pid
        self.idmp_iid = idmp_iid
        self.idmp_auto = idmp_auto


def parse_add_trim(c: Client, argv: list[bytes], xadd: bool) -> TrimArgs:
    """Parse the options of XADD (up to the ID) or XTRIM, as Redis does, checks in order."""
    a = TrimArgs()
    argc = len(argv)
    i = 2
    limit_given = False
    policy_given = False
    idmp_given = False
    while i < argc:
        more = argc - 1 - i
        opt = argv[i]
        up = opt.upper()
        if xadd and opt == b"*":
            break
        if up == b"MAXLEN" and more:
            if a.strategy:
                raise CommandError(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
                )
            a.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            a.maxlen = parse_int(argv[i + 1])
            if a.maxlen < 0:
                raise CommandError("ERR The MAXLEN argument must be >= 0.")
            i += 1
            a.strategy = TRIM_MAXLEN
            a.strategy_arg = i
        elif up == b"MINID" and more:
            if a.strategy:
                raise CommandError(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
                )
            a.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            a.minid = parse_strict(argv[i + 1])
            i += 1
            a.strategy = TRIM_MINID
            a.strategy_arg = i
        elif up == b"LIMIT" and more:
            a.limit = parse_int(argv[i + 1])
            if a.limit < 0:
                raise CommandError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and up == b"NOMKSTREAM":
            a.nomkstream = True
        elif not policy_given and up in POLICIES:
            a.policy = POLICIES[up]
            policy_given = True
        elif xadd and up == b"IDMP" and more >= 2:
            if idmp_given:
                raise CommandError("ERR IDMP/IDMPAUTO specified multiple times")
            pid, iid = argv[i + 1], argv[i + 2]
            if not pid:
                raise CommandError("ERR IDMP requires a non-empty producer ID")
            if not iid:
                raise CommandError("ERR IDMP requires a non-empty idempotent ID")
            a.idmp_pid, a.idmp_iid = pid, iid
            idmp_given = True
            i += 2
        elif xadd and up == b"IDMPAUTO" and more:
            if idmp_given:
                raise CommandError("ERR IDMP/IDMPAUTO specified multiple times")
            pid = argv[i + 1]
            if not pid:
                raise CommandError("ERR IDMPAUTO requires a non-empty producer ID")
            a.idmp_pid = pid
            a.idmp_auto = True
            idmp_given = True
            i += 1
        elif xadd:
            a.id, a.seq_given = parse_xadd_id(opt)
            a.id_given = True
            break
        else:
            raise CommandError(SYNTAX)
        i += 1
    a.id_pos = i
    if a.limit and not a.strategy:
        raise CommandError(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
        )
    if not xadd and not a.strategy:
        raise CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if c.is_master:
        a.limit = 0  # replayed commands trim exactly what they say
    elif limit_given:
        if not a.approx:
            raise CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif a.approx:
        nmax = node_limits(c)[0]
        a.limit = 100 * nmax
        if a.limit <= 0:
            a.limit = 10000
        if a.limit > 1000000:
            a.limit = 1000000
    else:
        a.limit = 0
    return a


# -- group references (KEEPREF / DELREF / ACKED) ---------------------------------


def acked_by_all(s: Stream) -> Callable[[int], bool]:
    """Predicate: every group has been delivered ``sid`` and acknowledged it."""
    groups = list(s.groups.values())

    def ok(sid: int) -> bool:
        return not any(g.references(sid) for g in groups)

    return ok


def drop_refs(s: Stream) -> Callable[[int], None]:
    """Callback: remove ``sid`` from every group's PEL (DELREF)."""
    groups = list(s.groups.values())

    def drop(sid: int) -> None:
        for g in groups:
            g.remove_nack(sid)

    return drop


def trim_stream(s: Stream, a: TrimArgs) -> int:
    return s.trim(
        a.strategy,
        maxlen=a.maxlen,
        minid=a.minid,
        approx=a.approx,
        limit=a.limit,
        policy=a.policy,
        acked=acked_by_all(s) if a.policy == ACKED and s.groups else None,
        on_delete=drop_refs(s) if a.policy == DELREF and s.groups else None,
    )


def rewrite_trim_args(argv: list[bytes], s: Stream, a: TrimArgs) -> list[bytes]:
    """``MAXLEN ~ n`` -> ``MAXLEN = <length>`` / ``MINID ~ x`` -> ``MINID = <first id>``.

    What Redis propagates after an approximate (or LIMITed) trim, so a replay
    trims to exactly the same point.
    """
    out = list(argv)
    out[a.strategy_arg - 1] = b"="
    if a.strategy == TRIM_MAXLEN:
        out[a.strategy_arg] = b"%d" % s.length
    else:
        first = s.first_id_any()
        out[a.strategy_arg] = format_id(first if first is not None else MAX_ID)
    return out


def _referenced(s: Stream, sid: int) -> bool:
    return any(g.references(sid) for g in s.groups.values())


def _delete(s: Stream, sid: int) -> bool:
    if not s.delete(sid):
        return False
    if sid > s.max_deleted_id:
        s.max_deleted_id = sid
    return True


def delete_with_policy(s: Stream, sid: int, policy: int) -> int:
    """XDELEX for one ID: 1 deleted, -1 no such entry, 2 kept (ACKED: still referenced)."""
    if policy == ACKED and _referenced(s, sid):
        return 2
    if sid not in s:
        return -1
    if policy == DELREF:
        for g in s.groups.values():
            g.remove_nack(sid)
    _delete(s, sid)
    return 1


def ack_and_delete(s: Stream, g: ConsumerGroup | None, sid: int, policy: int) -> int:
    """XACKDEL for one ID: -1 not pending in the group, else 1 (deleted) or 2 (ACKED, kept)."""
    if g is None or g.remove_nack(sid) is None:
        return -1
    if policy == ACKED:
        if _referenced(s, sid):
            return 2
    elif policy == DELREF:
        for other in s.groups.values():
            other.remove_nack(sid)
    _delete(s, sid)
    return 1


def parse_ids_block(argv: list[bytes], i: int) -> list[int]:
    """``IDS numids id [id ...]`` starting at argv[i] == IDS; all the rest must be IDs."""
    if i >= len(argv) or argv[i].upper() != b"IDS" or i + 1 >= len(argv):
        raise CommandError(SYNTAX)
    try:
        n = parse_int(argv[i + 1])
    except CommandError:
        raise CommandError("ERR Number of IDs must be a positive integer")
    if n <= 0:
        raise CommandError("ERR Number of IDs must be a positive integer")
    rest = argv[i + 2 :]
    if n > len(rest):
        raise CommandError("ERR The `numids` parameter must match the number of arguments")
    if n < len(rest):
        raise CommandError(SYNTAX)
    return [parse_strict(x) for x in rest]


def lookup_group(s: Stream | None, name: bytes) -> ConsumerGroup | None:
    if s is None:
        return None
    return s.groups.get(name)


__all__ = [
    "INVALID_ID",
    "NO_SUCH_KEY",
    "TrimArgs",
    "acked_by_all",
    "ack_and_delete",
    "delete_with_policy",
    "drop_refs",
    "entry_reply",
    "get_stream",
    "lookup_group",
    "node_limits",
    "parse_add_trim",
    "parse_ids_block",
    "rewrite_trim_args",
    "trim_stream",
]
