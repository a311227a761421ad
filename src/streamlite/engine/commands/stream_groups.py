"""Consumer group commands: XGROUP (CREATE, CREATECONSUMER, DELCONSUMER, DESTROY,
SETID, HELP), XACK, XACKDEL, XNACK, XPENDING, XCLAIM, XAUTOCLAIM.

Like Redis, these change group state without signalling the key as modified
(no WATCH invalidation), except XGROUP CREATE ... MKSTREAM (creates the key) and
XGROUP DESTROY (wakes XREADGROUP waiters so they answer NOGROUP). They still
count as changes (``engine.dirty``) so their effects are propagated.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import SYNTAX, CommandError
from ..notify import notify, read_miss
from ..registry import command
from ..replies import NULL_ARRAY, OK, SimpleString
from ..stream.groups import INVALID_ENTRIES_READ, LLONG_MAX, ConsumerGroup, bump_delivery
from ..stream.ids import (
    format_id,
    parse_id,
    parse_ids,
    parse_interval,
    parse_strict,
)
from ..stream.stream import Stream
from ..subcommands import dispatch
from .stream_common import ack_and_delete, entry_reply, get_stream, text
from .stream_read import setid_argv, xclaim_argv

_G = "stream"


def help_reply(container: str, lines: list[str]) -> list[SimpleString]:
    out = [SimpleString(f"{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".encode())]
    out += [SimpleString(x.encode()) for x in lines]
    out += [SimpleString(b"HELP"), SimpleString(b"    Print this help.")]
    return out


def nogroup(key: bytes, group: bytes) -> CommandError:
    return CommandError(f"NOGROUP No such key '{text(key)}' or consumer group '{text(group)}'")


def _mark(c: Client, n: int = 1) -> None:
    """Count a change that Redis does not signal on the key (server.dirty++)."""
    c.engine.dirty += n


# -- XGROUP --------------------------------------------------------------------


@command("xgroup", -2, "", 0, 0, 0, group=_G)
def xgroup(c: Client, argv: list[bytes]) -> Any:
    """XGROUP <subcommand> [arg ...]"""
    # the container is not a write itself: a subcommand that changes something
    # propagates as given (one that changes nothing propagates nothing)
    c.engine.rewrite(c, argv)
    return dispatch(c, argv, "xgroup")


_XGROUP_HELP = [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
]


@command("help", 2, "loading stale", 0, 0, 0, group=_G, parent="xgroup")
def xgroup_help(c: Client, argv: list[bytes]) -> Any:
    """XGROUP HELP"""
    return help_reply("XGROUP", _XGROUP_HELP)


def _subcommand_syntax(argv: list[bytes]) -> CommandError:
    sub = argv[1].decode("utf-8", "replace")
    return CommandError(
        f"ERR unknown subcommand or wrong number of arguments for '{sub}'. Try XGROUP HELP."
    )


def _xgroup_prepare(
    c: Client, argv: list[bytes]
) -> tuple[Stream | None, ConsumerGroup | None, bool, int]:
    """The shared head of Redis's xgroupCommand: options, key and group checks."""
    sub = argv[1].upper()
    create = sub == b"CREATE"
    setid = sub == b"SETID"
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    n = len(argv)
    while i < n:
        up = argv[i].upper()
        if create and up == b"MKSTREAM":
            mkstream = True
            i += 1
        elif (create or setid) and up == b"ENTRIESREAD" and i + 1 < n:
            entries_read = parse_int(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
            i += 2
        else:
            raise _subcommand_syntax(argv)
    s = get_stream(c, argv[2])
    g = None
    if not mkstream:
        if s is None:
            raise CommandError(
                "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
                "may want to use the MKSTREAM option to create an empty stream automatically."
            )
        g = s.groups.get(argv[3])
        if g is None and sub in (b"SETID", b"CREATECONSUMER", b"DELCONSUMER"):
            raise CommandError(
                f"NOGROUP No such consumer group '{text(argv[3])}' for key name '{text(argv[2])}'"
            )
    elif s is not None:
        g = s.groups.get(argv[3])
    return s, g, mkstream, entries_read


def _cap_entries_read(s: Stream, entries_read: int) -> int:
    if entries_read != INVALID_ENTRIES_READ and entries_read > s.entries_added:
        return s.entries_added
    return entries_read


@command("create", -5, "write denyoom", 2, 2, 1, group=_G, parent="xgroup")
def xgroup_create(c: Client, argv: list[bytes]) -> Any:
    """XGROUP CREATE key group <id | $> [MKSTREAM] [ENTRIESREAD entries-read]"""
    s, g, mkstream, entries_read = _xgroup_prepare(c, argv)
    if len(argv) > 8:
        raise _subcommand_syntax(argv)
    sid = (s.last_id if s is not None else 0) if argv[4] == b"$" else parse_strict(argv[4])
    if s is None:
        s = Stream()
        c.db.set(argv[2], s)
    if argv[3] in s.groups:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    s.groups[argv[3]] = ConsumerGroup(argv[3], sid, _cap_entries_read(s, entries_read))
    _mark(c)
    notify(c, "t", b"xgroup-create", argv[2])
    return OK


@command("setid", -5, "write", 2, 2, 1, group=_G, parent="xgroup")
def xgroup_setid(c: Client, argv: list[bytes]) -> Any:
    """XGROUP SETID key group <id | $> [ENTRIESREAD entries-read]"""
    s, g, _, entries_read = _xgroup_prepare(c, argv)
    if len(argv) not in (5, 7):
        raise _subcommand_syntax(argv)
    assert s is not None and g is not None
    sid = s.last_id if argv[4] == b"$" else parse_id(argv[4])
    g.last_id = sid
    g.entries_read = _cap_entries_read(s, entries_read)
    _mark(c)
    notify(c, "t", b"xgroup-setid", argv[2])
    return OK


@command("destroy", 4, "write", 2, 2, 1, group=_G, parent="xgroup")
def xgroup_destroy(c: Client, argv: list[bytes]) -> Any:
    """XGROUP DESTROY key group"""
    s, g, _, _ = _xgroup_prepare(c, argv)
    if s is None or g is None:
        return 0
    del s.groups[argv[3]]
    c.db.touch(argv[2])  # wakes XREADGROUP waiters: they answer NOGROUP
    notify(c, "t", b"xgroup-destroy", argv[2])
    return 1


@command("createconsumer", 5, "write denyoom", 2, 2, 1, group=_G, parent="xgroup")
def xgroup_createconsumer(c: Client, argv: list[bytes]) -> Any:
    """XGROUP CREATECONSUMER key group consumer"""
    _, g, _, _ = _xgroup_prepare(c, argv)
    assert g is not None
    created = g.create_consumer(argv[4], c.engine.now_ms())
    if created is None:
        return 0
    _mark(c)
    notify(c, "t", b"xgroup-createconsumer", argv[2])
    return 1


@command("delconsumer", 5, "write", 2, 2, 1, group=_G, parent="xgroup")
def xgroup_delconsumer(c: Client, argv: list[bytes]) -> Any:
    """XGROUP DELCONSUMER key group consumer"""
    _, g, _, _ = _xgroup_prepare(c, argv)
    assert g is not None
    consumer = g.consumer(argv[4])
    if consumer is None:
        return 0
    pending = g.delete_consumer(consumer)
    _mark(c)
    notify(c, "t", b"xgroup-delconsumer", argv[2])
    return pending


# -- XACK / XACKDEL ------------------------------------------------------------


@command("xack", -4, "write fast", 1, 1, 1, group=_G)
def xack(c: Client, argv: list[bytes]) -> Any:
    """XACK key group id [id ...]"""
    s = get_stream(c, argv[1])
    read_miss(c, argv[1], s)
    g = s.groups.get(argv[2]) if s is not None else None
    if g is None:
        return 0
    ids = parse_ids(argv[3:])
    acked = 0
    if g.time_index() is None:  # the common case: runs of IDs in one step
        acked = g.remove_nacks(ids)
    else:
        for sid in ids:
            if g.remove_nack(sid) is not None:
                acked += 1
    if acked:
        _mark(c, acked)
    return acked


@command("xackdel", -6, "write fast", 1, 1, 1, group=_G)
def xackdel(c: Client, argv: list[bytes]) -> Any:
    """XACKDEL key group [KEEPREF | DELREF | ACKED] IDS numids id [id ...]"""
    from .streams import _parse_policy_ids

    s = get_stream(c, argv[1])  # WRONGTYPE before any argument error, as Redis
    policy, at, n = _parse_policy_ids(argv, 3)
    read_miss(c, argv[1], s)
    g = s.groups.get(argv[2]) if s is not None else None
    if s is None or g is None:
        return [-1] * n
    ids = [parse_strict(x) for x in argv[at : at + n]]
    out = [ack_and_delete(s, g, sid, policy) for sid in ids]
    if any(r != -1 for r in out):
        if 1 in out:
            c.db.touch(argv[1])
            notify(c, "t", b"xdel", argv[1])
        else:
            _mark(c)
    return out


# -- XNACK (Redis 8.8) -----------------------------------------------------------

_NACK_MODES = {b"SILENT": 0, b"FAIL": 1, b"FATAL": 2}


def _parse_xnack(argv: list[bytes]) -> tuple[int, list[bytes], int, bool]:
    """(mode, ID arguments, RETRYCOUNT or -1, FORCE) of an XNACK command line."""
    mode = _NACK_MODES.get(argv[3].upper())
    if mode is None:
        raise CommandError("ERR mode must be SILENT, FAIL, or FATAL")
    ids: list[bytes] | None = None
    retrycount = -1
    force = False
    argc = len(argv)
    i = 4
    while i < argc:
        more = argc - 1 - i
        up = argv[i].upper()
        if up == b"IDS" and more:
            try:
                numids = parse_int(argv[i + 1])
            except CommandError:
                raise CommandError("ERR Number of IDs must be a positive integer")
            if numids <= 0:
                raise CommandError("ERR Number of IDs must be a positive integer")
            if numids > more - 1:
                raise CommandError("ERR The `numids` parameter must match the number of arguments")
            ids = argv[i + 2 : i + 2 + numids]
            i += 2 + numids
            continue
        if up == b"RETRYCOUNT" and more:
            bad = "ERR Invalid RETRYCOUNT option argument for XNACK"
            retrycount = parse_int(argv[i + 1], bad)
            if retrycount < 0:
                raise CommandError(bad)
            i += 2
            continue
        if up == b"FORCE":
            force = True
            i += 1
            continue
        raise CommandError(SYNTAX)
    if ids is None:
        raise CommandError(SYNTAX)
    return mode, ids, retrycount, force


@command("xnack", -7, "write fast", 1, 1, 1, group=_G)
def xnack(c: Client, argv: list[bytes]) -> Any:
    """XNACK key group <SILENT | FAIL | FATAL> IDS numids id [id ...] [RETRYCOUNT count] [FORCE]"""
    mode, raw_ids, retrycount, force = _parse_xnack(argv)
    ids = [parse_strict(x) for x in raw_ids]
    key = argv[1]
    s = get_stream(c, key)
    g = s.groups.get(argv[2]) if s is not None else None
    if s is None or g is None:
        c.engine.rewrite(c)
        return 0
    released = 0
    props: list[list[bytes]] = []
    for sid in ids:
        nack = g.pel.get(sid)
        if nack is None:
            if not force or sid not in s:
                continue
            count = retrycount if retrycount >= 0 else (LLONG_MAX if mode == 2 else 0)
            g.add_released(sid, count)
        else:
            if retrycount >= 0:
                count = retrycount
            elif mode == 0:  # SILENT: the delivery did not count
                count = max(0, nack.delivery_count - 1)
            elif mode == 1:  # FAIL: unchanged
                count = nack.delivery_count
            else:  # FATAL: never again
                count = LLONG_MAX
            g.release(sid, nack, count)
        released += 1
        # as Redis writes a released entry (AOF rewrite, replication): explicit count
        props.append([
            b"XNACK", key, g.name, b"FAIL", b"IDS", b"1", format_id(sid),
            b"RETRYCOUNT", b"%d" % count, b"FORCE",
        ])  # fmt: skip
    c.engine.rewrite(c, *props)
    if released:
        _mark(c, released)
        _signal_ready(c, key)
    return released


def _signal_ready(c: Client, key: bytes) -> None:
    """Wake clients blocked on ``key`` (XREADGROUP ... CLAIM can now claim the
    released entries) without signalling the key as modified (no WATCH
    invalidation), like Redis's ``signalKeyAsReady``."""
    eng = c.engine
    k = (c.db.index, key)
    if k in eng.blocked_on:
        eng.ready_keys[k] = None


# -- XPENDING ------------------------------------------------------------------


@command("xpending", -3, "readonly", 1, 1, 1, group=_G)
def xpending(c: Client, argv: list[bytes]) -> Any:
    """XPENDING key group [[IDLE min-idle-time] start end count [consumer]]"""
    argc = len(argv)
    if argc != 3 and (argc < 6 or argc > 9):
        raise CommandError(SYNTAX)
    minidle = 0
    consumer_name = None
    start = end = count = 0
    if argc >= 6:
        si = 3
        if argv[3].upper() == b"IDLE":
            minidle = parse_int(argv[4])
            if argc < 8:
                raise CommandError(SYNTAX)
            si += 2
        count = parse_int(argv[si + 2])
        if count < 0:
            count = 0
        start = parse_interval(argv[si], True)
        end = parse_interval(argv[si + 1], False)
        if si + 3 < argc:
            consumer_name = argv[si + 3]
    s = get_stream(c, argv[1])
    g = s.groups.get(argv[2]) if s is not None else None
    if g is None:
        raise nogroup(argv[1], argv[2])
    if argc == 3:
        if not g.pel:
            return [0, None, None, NULL_ARRAY]
        consumers = [
            [name, b"%d" % len(cons.pel)] for name, cons in g.consumers.items() if cons.pel
        ]
        return [len(g.pel), format_id(g.pel.peekitem(0)[0]), format_id(g.pel.peekitem(-1)[0]), consumers]
    if consumer_name is not None:
        cons = g.consumer(consumer_name)
        if cons is None:
            return []
        ids = cons.pel.irange(start, end)
    else:
        ids = g.pel.irange(start, end)
    now = c.engine.now_ms()
    out = []
    pel = g.pel
    for sid in ids:
        if not count:
            break
        nack = pel[sid]
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        count -= 1
        if nack.consumer is None:  # released by XNACK: no owner, idle reported as -1
            out.append([format_id(sid), b"", -1, nack.delivery_count])
        else:
            out.append([
                format_id(sid), nack.consumer.name, max(0, now - nack.delivery_time),
                nack.delivery_count,
            ])  # fmt: skip
    return out


# -- XCLAIM / XAUTOCLAIM -------------------------------------------------------


@command("xclaim", -6, "write fast", 1, 1, 1, group=_G)
def xclaim(c: Client, argv: list[bytes]) -> Any:
    """XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]"""
    key = argv[1]
    s = get_stream(c, key)
    read_miss(c, key, s)
    g = s.groups.get(argv[2]) if s is not None else None
    if s is None or g is None:
        raise nogroup(key, argv[2])
    minidle = parse_int(argv[4], "ERR Invalid min-idle-time argument for XCLAIM")
    if minidle < 0:
        minidle = 0
    ids: list[int] = []
    j = 5
    argc = len(argv)
    while j < argc:
        try:
            ids.append(parse_strict(argv[j]))
        except CommandError:
            break
        j += 1
    id_args = argv[5 : 5 + len(ids)]
    now = c.engine.now_ms()
    force = justid = False
    retrycount = -1
    deliverytime = -1
    last_id = 0
    while j < argc:
        more = argc - 1 - j
        opt = argv[j]
        up = opt.upper()
        if up == b"FORCE":
            force = True
        elif up == b"JUSTID":
            justid = True
        elif up == b"IDLE" and more:
            j += 1
            deliverytime = now - parse_int(argv[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif up == b"TIME" and more:
            j += 1
            deliverytime = parse_int(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif up == b"RETRYCOUNT" and more:
            j += 1
            retrycount = parse_int(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif up == b"LASTID" and more:
            j += 1
            last_id = parse_strict(argv[j])
        else:
            raise CommandError(f"ERR Unrecognized XCLAIM option '{text(opt)}'")
        j += 1
    props: list[list[bytes]] = []
    propagate_last = False
    if last_id > g.last_id:
        g.last_id = last_id
        propagate_last = True
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    consumer = g.consumer(argv[3])
    dirty = 0
    if consumer is None:
        consumer = g.create_consumer(argv[3], now)
        dirty += 1
        notify(c, "t", b"xgroup-createconsumer", key)
    assert consumer is not None
    consumer.seen_time = now
    out: list[Any] = []
    for sid, raw in zip(ids, id_args, strict=True):
        nack = g.pel.get(sid)
        if sid not in s:
            if nack is not None:
                props.append(_xclaim_prop(key, g, raw, nack, consumer))
                propagate_last = False
                dirty += 1
                g.remove_nack(sid)
            continue
        if force and nack is None:
            nack = g.add_nack_orphan(sid, now)
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        g.set_time(sid, nack, deliverytime)
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            bump_delivery(nack)
        g.set_owner(sid, nack, consumer)
        if justid:
            out.append(format_id(sid))
        else:
            fields = s.get(sid)
            out.append(entry_reply(sid, fields or []))
        consumer.active_time = now
        props.append(_xclaim_prop(key, g, raw, nack, consumer))
        propagate_last = False
        dirty += 1
    if propagate_last:
        props.append(setid_argv(key, g))
        dirty += 1
    if dirty:
        _mark(c, dirty)
    c.engine.rewrite(c, *props)
    return out


def _xclaim_prop(
    key: bytes, g: ConsumerGroup, raw: bytes, nack: Any, claimer: Any
) -> list[bytes]:
    """XCLAIM propagation, keeping the ID argument as the client wrote it (Redis does)."""
    argv = xclaim_argv(key, g, 0, nack, claimer)
    argv[5] = raw
    return argv


_AUTOCLAIM_MAX_COUNT = ((1 << 63) - 1) // 16


@command("xautoclaim", -6, "write fast", 1, 1, 1, group=_G)
def xautoclaim(c: Client, argv: list[bytes]) -> Any:
    """XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]"""
    key = argv[1]
    minidle = parse_int(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")
    if minidle < 0:
        minidle = 0
    start = parse_interval(argv[5], True)
    count = 100
    justid = False
    j = 6
    argc = len(argv)
    while j < argc:
        more = argc - 1 - j
        up = argv[j].upper()
        if up == b"COUNT" and more:
            count = parse_int(argv[j + 1], "ERR COUNT must be > 0")
            if not 1 <= count <= _AUTOCLAIM_MAX_COUNT:
                raise CommandError("ERR COUNT must be > 0")
            j += 1
        elif up == b"JUSTID":
            justid = True
        else:
            raise CommandError(SYNTAX)
        j += 1
    s = get_stream(c, key)
    read_miss(c, key, s)
    g = s.groups.get(argv[2]) if s is not None else None
    if s is None or g is None:
        raise nogroup(key, argv[2])
    now = c.engine.now_ms()
    consumer = g.consumer(argv[3])
    dirty = 0
    if consumer is None:
        consumer = g.create_consumer(argv[3], now)
        dirty += 1
        notify(c, "t", b"xgroup-createconsumer", key)
    assert consumer is not None
    consumer.seen_time = now
    attempts = count * 10
    claimed: list[Any] = []
    deleted: list[bytes] = []
    props: list[list[bytes]] = []
    build = c.engine.effects is not None  # propagated XCLAIMs only matter then
    # the PEL is read in small batches from ``start`` (a claimed entry is not removed,
    # a deleted one is): one more ID than can be examined, the next one is the cursor
    cursor = 0
    lo = start
    while True:
        want = min(attempts, count) + 1
        batch = list(islice(g.pel.irange(minimum=lo), want))
        stop = False
        for sid in batch:
            if not attempts or not count:
                cursor = sid
                stop = True
                break
            attempts -= 1
            nack = g.pel[sid]
            if sid not in s:
                if build:
                    props.append(xclaim_argv(key, g, sid, nack, consumer))
                dirty += 1
                g.remove_nack(sid)
                deleted.append(format_id(sid))
                count -= 1
                continue
            if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
                continue
            g.set_time(sid, nack, now)
            if not justid:
                bump_delivery(nack)
            g.set_owner(sid, nack, consumer)
            if justid:
                claimed.append(format_id(sid))
            else:
                claimed.append(entry_reply(sid, s.get(sid) or []))
            count -= 1
            consumer.active_time = now
            if build:
                props.append(xclaim_argv(key, g, sid, nack))
            dirty += 1
        if stop or len(batch) < want:
            break  # the cursor is set, or the PEL ends: cursor 0
        lo = batch[-1] + 1
    if dirty:
        _mark(c, dirty)
    c.engine.rewrite(c, *props)
    return [format_id(cursor), claimed, deleted]


__all__ = ["Callable", "help_reply", "nogroup"]
