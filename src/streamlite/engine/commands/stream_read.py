"""XREAD and XREADGROUP (one implementation, as Redis's ``xreadCommand``).

Blocking: when nothing is served and BLOCK was given, the handler returns
``Blocked``; XREAD's ``$`` is rewritten to the stream's concrete last ID in the
re-run argv. A re-run (``c.blocked`` set) that finds nothing returns ``Blocked``
again (the client keeps its place). Redis re-executes blocked XREADGROUP
commands, so a deleted key or destroyed group answers the usual NOGROUP error and
a key of another type WRONGTYPE; XREAD waiters keep waiting until one of their
keys holds a stream with something new. Inside MULTI or a script nothing blocks.

Propagation follows Redis: XREADGROUP never propagates itself; each delivered
entry becomes ``XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID
LASTID last``, an advanced last-delivered ID ``XGROUP SETID ... ENTRIESREAD n``,
and a consumer created by a NOACK read ``XGROUP CREATECONSUMER``.

MAXCOUNT and MAXSIZE (Redis 8.10) cap the whole reply across its streams (see
``ReplyBudget``); COUNT stays a per-stream cap and MAXCOUNT may not be below it.
With CLAIM, entries released by XNACK are claimed first.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from ..args import LLONG_MAX, parse_int
from ..client import Client
from ..errors import SYNTAX, CommandError
from ..notify import notify, read_miss
from ..record import Record
from ..registry import command
from ..replies import NULL_ARRAY, Blocked, RawResp
from ..stream.groups import (
    INVALID_ENTRIES_READ,
    NACK,
    Consumer,
    ConsumerGroup,
    bump_delivery,
    estimate_entries_read,
)
from ..stream.ids import MAX_ID, format_id, parse_strict
from ..stream.stream import Stream
from .stream_common import get_stream, text

_G = "stream"
_GT = MAX_ID  # stands for the special ">" ID


def _keys_fn(argv: list[bytes]) -> list[int]:
    """Positions of the stream keys (after STREAMS), as Redis's xreadGetKeys."""
    n = len(argv)
    for i in range(1, n):
        if argv[i].upper() == b"STREAMS":
            cnt = (n - i - 1) // 2
            return list(range(i + 1, i + 1 + cnt))
    return []


def nogroup_xreadgroup(key: bytes, group: bytes) -> CommandError:
    return CommandError(
        f"NOGROUP No such key '{text(key)}' or consumer group '{text(group)}' "
        "in XREADGROUP with GROUP option"
    )


def _parse_positive(b: bytes, err: str) -> int:
    v = parse_int(b, err)
    if v <= 0:
        raise CommandError(err)
    return v


def _parse_timeout(b: bytes) -> int:
    try:
        v = parse_int(b, "ERR timeout is not an integer or out of range")
    except CommandError:
        raise
    if v < 0:
        raise CommandError("ERR timeout is negative")
    return v


class ReplyBudget:
    """MAXCOUNT / MAXSIZE (Redis 8.10): caps on the whole XREAD/XREADGROUP reply,
    across all its streams, served in the order the caller named them.

    An entry is emitted only while fewer than MAXCOUNT entries were and, for
    MAXSIZE, while the reply so far is under MAXSIZE bytes; the very first entry
    of the reply is always allowed (a single oversized entry still comes back,
    so a reader always progresses). The size is the RESP encoding of the reply
    in the client's protocol (Redis measures the bytes it added to the client's
    reply buffer, headers included; ours counts the same elements).
    """

    __slots__ = ("maxcount", "maxsize", "entries", "size", "resp3")

    def __init__(self, maxcount: int, maxsize: int, resp3: bool) -> None:
        self.maxcount = maxcount
        self.maxsize = maxsize
        self.entries = 0
        self.size = 4  # the outer array (map) header
        self.resp3 = resp3

    def open(self) -> bool:
        """May one more entry be emitted?"""
        if self.maxcount and self.entries >= self.maxcount:
            return False
        return not (self.maxsize and self.entries and self.size >= self.maxsize)

    def spend(self, item: Any) -> None:
        self.entries += 1
        if self.maxsize:
            self.size += resp_size(item, self.resp3)

    def stream_header(self, key: bytes) -> None:
        if self.maxsize:  # [key, [entries...]] (RESP3: a map pair)
            self.size += 4 + resp_size(key, self.resp3) + 4


def resp_size(v: Any, resp3: bool) -> int:
    """Bytes of ``v`` encoded as RESP (bulk strings, integers, arrays, nulls)."""
    if isinstance(v, bytes):
        n = len(v)
        return n + len(str(n)) + 5
    if isinstance(v, int):
        return len(str(v)) + 3
    if isinstance(v, list):
        return len(str(len(v))) + 3 + sum(resp_size(x, resp3) for x in v)
    return 3 if resp3 else 5  # a null (XREADGROUP history of a deleted entry)


def xclaim_argv(
    key: bytes, group: ConsumerGroup, sid: int, nack: Any, claimer: Consumer | None = None
) -> list[bytes]:
    """Redis's ``streamPropagateXCLAIM``. An entry released by XNACK has no owner:
    it is written with ``claimer`` (the consumer the command runs as)."""
    owner = nack.consumer if nack.consumer is not None else claimer
    assert owner is not None
    return [
        b"XCLAIM", key, group.name, owner.name, b"0", format_id(sid),
        b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
        b"FORCE", b"JUSTID", b"LASTID", format_id(group.last_id),
    ]  # fmt: skip


def setid_argv(key: bytes, group: ConsumerGroup) -> list[bytes]:
    """Redis's ``streamPropagateGroupID``."""
    return [
        b"XGROUP", b"SETID", key, group.name, format_id(group.last_id),
        b"ENTRIESREAD", b"%d" % group.entries_read,
    ]  # fmt: skip


def serve_new(
    c: Client,
    key: bytes,
    s: Stream,
    g: ConsumerGroup,
    consumer: Consumer,
    start: int,
    count: int,
    noack: bool,
    props: list[list[bytes]],
    claim_format: bool = False,
    budget: ReplyBudget | None = None,
) -> list[Any]:
    """Deliver entries >= start to ``consumer`` (streamReplyWithRange with a group)."""
    eng = c.engine
    now = eng.now_ms()
    advanced = False
    first = s.first_id
    sids: list[int] = []
    out = s.entries(start, MAX_ID, count or -1, False, sids)
    # the propagated XCLAIMs only matter when someone persists them; otherwise a
    # placeholder keeps ``props`` counting the changes
    build = eng.effects is not None
    pel = g.pel
    fresh: list[int] = []  # new pending IDs (ascending) and their NACKs: added at once
    fresh_nacks: list[NACK] = []
    maxdel = s.max_deleted_id if s.length else 0
    by_time = g.time_index()
    for k, sid in enumerate(sids):
        if budget is not None and not budget.open():
            del out[k:]
            break
        if sid > g.last_id:
            if (
                g.entries_read != INVALID_ENTRIES_READ
                and g.last_id >= first
                and not (maxdel and g.last_id <= maxdel)  # range_has_tombstones(s, last, None)
            ):
                g.entries_read += 1
            elif s.entries_added:
                g.entries_read = estimate_entries_read(s, sid, first)
            g.last_id = sid
            advanced = True
        if claim_format:
            out[k] += (0, 0)
        if budget is not None:
            budget.spend(out[k])
        if not noack:
            nack = pel.get(sid)
            if nack is None:
                if by_time is None:  # g.add_nack(sid, consumer, now), after the loop
                    nack = NACK(consumer, now)
                    fresh.append(sid)
                    fresh_nacks.append(nack)
                else:
                    nack = g.add_nack(sid, consumer, now)
            else:
                g.set_owner(sid, nack, consumer)
                g.set_time(sid, nack, now)
                nack.delivery_count = 1
            consumer.active_time = now
            props.append(xclaim_argv(key, g, sid, nack) if build else _UNPROPAGATED)
    if fresh:
        g.add_new_nacks(fresh, fresh_nacks, consumer)
    if advanced:
        props.append(setid_argv(key, g))
    return out


# stands for a propagated command nobody will read (effects are off)
_UNPROPAGATED: list[bytes] = []


def serve_history(
    c: Client,
    s: Stream,
    g: ConsumerGroup,
    consumer: Consumer,
    start: int,
    count: int,
    budget: ReplyBudget | None = None,
) -> list[Any]:
    """Re-deliver this consumer's own pending entries with ID >= start."""
    now = c.engine.now_ms()
    out: list[Any] = []
    it = consumer.pel.irange(minimum=start)
    for sid in list(islice(it, count)) if count else list(it):
        if budget is not None and not budget.open():
            break
        fields = s.get(sid)
        if fields is None:
            item = [format_id(sid), NULL_ARRAY]
        else:
            item = [format_id(sid), fields]
            nack = g.pel[sid]
            g.set_time(sid, nack, now)
            bump_delivery(nack)
        out.append(item)
        if budget is not None:
            budget.spend(item)
    return out


def serve_claim(
    c: Client,
    key: bytes,
    s: Stream,
    g: ConsumerGroup,
    consumer: Consumer,
    min_idle: int,
    count: int,
    props: list[list[bytes]],
    budget: ReplyBudget | None = None,
) -> list[Any]:
    """XREADGROUP ... CLAIM: take over pending entries idle >= min_idle, oldest first.

    Entries released by XNACK come first, in the order they were released (they
    are claimable whatever ``min_idle``), then the others by delivery time.
    """
    now = c.engine.now_ms()
    out: list[Any] = []
    claimed: set[int] = set()
    for sid in _claimable(g, now - min_idle):
        if count and len(out) >= count:
            break
        if budget is not None and not budget.open():
            break
        if sid in claimed:
            continue
        claimed.add(sid)
        nack = g.pel[sid]
        fields = s.get(sid)
        if fields is None:  # deleted meanwhile: drop it, as XCLAIM does
            props.append(xclaim_argv(key, g, sid, nack, consumer))
            g.remove_nack(sid)
            continue
        idle = now - nack.delivery_time
        item = [format_id(sid), fields, idle, nack.delivery_count]
        out.append(item)
        if budget is not None:
            budget.spend(item)
        g.set_owner(sid, nack, consumer)
        g.set_time(sid, nack, now)
        bump_delivery(nack)
        consumer.active_time = now
        props.append(xclaim_argv(key, g, sid, nack))
    return out


_ID_MASK = (1 << 128) - 1


def _claimable(g: ConsumerGroup, limit: int) -> Iterator[int]:
    """IDs XREADGROUP ... CLAIM may take, best first: the NACK zone (FIFO), then the
    pending entries delivered at or before ``limit`` by delivery time.

    Time keys are ``delivery_time << 128 | id``. A claimed entry moves to time
    ``now`` and may be met again further up (the caller skips it); the index is
    walked in batches from a moving lower bound because claiming changes it.
    """
    yield from list(g.nacked)
    if limit < 0:
        return
    index = g.by_time()
    top = (limit << 128) | _ID_MASK
    lo = 0
    while True:
        batch = list(islice(index.irange(minimum=lo, maximum=top), 256))
        if not batch:
            return
        lo = batch[-1] + 1
        for k in batch:
            yield k & _ID_MASK


def next_claim_time(g: ConsumerGroup, min_idle: int) -> int | None:
    """When the oldest pending entry of ``g`` becomes claimable (ms), or None."""
    if not g.pel:
        return None
    if g.nacked:
        return 0
    first: int = g.by_time()[0] >> 128
    return first + min_idle


@command("xread", -4, "readonly blocking movablekeys", 0, 0, 0, group=_G, keys_fn=_keys_fn)
def xread(c: Client, argv: list[bytes]) -> Any:
    """XREAD [COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"""
    return _xread(c, argv, False)


@command(
    "xreadgroup", -7, "write blocking movablekeys", 0, 0, 0, group=_G, keys_fn=_keys_fn
)
def xreadgroup(c: Client, argv: list[bytes]) -> Any:
    """XREADGROUP GROUP group consumer [COUNT count] [MAXCOUNT maxcount] [MAXSIZE maxsize] [BLOCK milliseconds] [CLAIM min-idle-time] [NOACK] STREAMS key [key ...] id [id ...]"""
    return _xread(c, argv, True)


class ReadArgs(Record):
    """Parsed XREAD/XREADGROUP options (the argument loop of Redis's ``xreadCommand``).

    The keys are ``argv[streams_arg : streams_arg + nstreams]``, their IDs the
    ``nstreams`` arguments after them.
    """

    __slots__ = _fields = ("group", "timeout", "count", "maxcount", "maxsize", "claim", "noack",
                           "groupname", "consumer", "streams_arg", "nstreams")
    group: bool  # XREADGROUP
    timeout: int  # BLOCK milliseconds; -1 does not block
    count: int  # per stream; 0 is no limit
    maxcount: int  # for the whole reply (ReplyBudget)
    maxsize: int
    claim: int  # CLAIM min-idle-time; -1 without CLAIM
    noack: bool
    groupname: bytes | None
    consumer: bytes
    streams_arg: int
    nstreams: int

    def __init__(self, group: bool, timeout: int = -1, count: int = 0, maxcount: int = 0,
                 maxsize: int = 0, claim: int = -1, noack: bool = False,
                 groupname: bytes | None = None, consumer: bytes = b"", streams_arg: int = 0,
                 nstreams: int = 0) -> None:
        self.group = group
        self.timeout = timeout
        self.count = count
        self.maxcount = maxcount
        self.maxsize = maxsize
        self.claim = claim
        self.noack = noack
        self.groupname = groupname
        self.consumer = consumer
        self.streams_arg = streams_arg
        self.nstreams = nstreams


def parse_read(argv: list[bytes], xreadgroup: bool) -> ReadArgs:
    """The options of XREAD (``xreadgroup`` False) or XREADGROUP, with Redis's errors
    in Redis's order: each option as it comes, then the checks after the loop."""
    a = ReadArgs(xreadgroup)
    argc = len(argv)
    i = 1
    while i < argc:
        more = argc - i - 1
        up = argv[i].upper()
        if up == b"BLOCK" and more:
            i += 1
            a.timeout = _parse_timeout(argv[i])
        elif up == b"COUNT" and more:
            i += 1
            a.count = max(parse_int(argv[i]), 0)
        elif up == b"MAXCOUNT" and more:
            i += 1
            a.maxcount = _parse_positive(argv[i], "ERR MAXCOUNT must be a positive integer")
        elif up == b"MAXSIZE" and more:
            i += 1
            a.maxsize = _parse_positive(argv[i], "ERR MAXSIZE must be a positive integer")
        elif up == b"CLAIM" and more and xreadgroup:
            i += 1
            a.claim = _parse_claim(argv[i])
        elif up == b"STREAMS" and more:
            a.streams_arg = i + 1
            a.nstreams = _stream_count(argc - a.streams_arg, xreadgroup)
            break
        elif up == b"GROUP" and more >= 2:
            _group_only(xreadgroup, "GROUP")
            a.groupname = argv[i + 1]
            a.consumer = argv[i + 2]
            i += 2
        elif up == b"NOACK":
            _group_only(xreadgroup, "NOACK")
            a.noack = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if not a.streams_arg:
        raise CommandError(SYNTAX)
    if xreadgroup and a.groupname is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    if a.maxcount and a.count and a.maxcount < a.count:
        # MAXCOUNT caps the whole reply, COUNT each stream
        raise CommandError("ERR MAXCOUNT must be greater than or equal to COUNT")
    return a


def _parse_claim(b: bytes) -> int:
    try:
        v = parse_int(b)
    except CommandError:
        raise CommandError("ERR min-idle-time is not an integer")
    if v < 0:
        raise CommandError("ERR min-idle-time must be a positive integer")
    return v


def _stream_count(n: int, xreadgroup: bool) -> int:
    """How many streams the ``n`` arguments after STREAMS name (keys, then IDs)."""
    if n % 2:
        name = "xreadgroup" if xreadgroup else "xread"
        what = "an ID or '>'" if xreadgroup else "an ID, '+', or '$'"
        raise CommandError(
            f"ERR Unbalanced '{name}' list of streams: for each stream key {what} "
            "must be specified."
        )
    return n // 2


def _group_only(xreadgroup: bool, option: str) -> None:
    if not xreadgroup:
        raise CommandError(
            f"ERR The {option} option is only supported by XREADGROUP. You called XREAD instead."
        )


def _xread(c: Client, argv: list[bytes], xreadgroup: bool) -> Any:
    """Parse, resolve the IDs, serve; block (or answer nil) when nothing was served."""
    a = parse_read(argv, xreadgroup)
    rerun = c.blocked is not None
    # XREAD waiters only wake for a stream that has something past their ID
    if rerun and not xreadgroup and not _xread_ready(c, argv, a.streams_arg, a.nstreams):
        return Blocked([], argv, None)
    ids, groups = _resolve_ids(c, argv, a)
    now = c.engine.now_ms()
    out, wake_at = _serve(c, argv, a, ids, groups, now)
    if out:
        return _reply(c, out)
    if a.timeout < 0 or c.in_exec or c.in_script:
        return NULL_ARRAY
    return _block(c, argv, a, ids, now, wake_at)


_XREADGROUP_MEANINGLESS = (
    "ERR The {0} ID is meaningless in the context of XREADGROUP: you want to read "
    "the history of this consumer by specifying a proper ID, or use the > ID to "
    "get new messages. The {0} ID would just return an empty result set."
)


def _resolve_ids(
    c: Client, argv: list[bytes], a: ReadArgs
) -> tuple[list[int], list[ConsumerGroup]]:
    """Each stream's ID argument as the ID to read after (``_GT`` for ``>``), and
    for XREADGROUP each stream's group; errors stream by stream, as Redis."""
    ids: list[int] = []
    groups: list[ConsumerGroup] = []
    first_id = a.streams_arg + a.nstreams
    for k in range(a.nstreams):
        key = argv[a.streams_arg + k]
        s = get_stream(c, key)
        if a.groupname is not None:
            read_miss(c, key, s)
            g = s.groups.get(a.groupname) if s is not None else None
            if g is None:
                raise nogroup_xreadgroup(key, a.groupname)
            groups.append(g)
        arg = argv[first_id + k]
        if arg == b"$":
            if a.group:
                raise CommandError(_XREADGROUP_MEANINGLESS.format("$"))
            ids.append(s.last_id if s is not None else 0)
        elif arg == b"+":
            if a.group:
                raise CommandError(_XREADGROUP_MEANINGLESS.format("+"))
            if s is not None and s.length:
                last = s.last_valid_id()
                ids.append(last - 1 if last else 0)
            else:
                ids.append(0)
        elif arg == b">":
            if not a.group:
                raise CommandError(
                    "ERR The > ID can be specified only when calling XREADGROUP using the "
                    "GROUP <group> <consumer> option."
                )
            ids.append(_GT)
        else:
            ids.append(parse_strict(arg))
    return ids, groups


def _serve(
    c: Client,
    argv: list[bytes],
    a: ReadArgs,
    ids: list[int],
    groups: list[ConsumerGroup],
    now: int,
) -> tuple[list[Any], int | None]:
    """Serve every stream in order: the ``[key, entries]`` pairs to reply and, for
    XREADGROUP ... CLAIM with nothing to claim yet, when to try again."""
    budget = (ReplyBudget(a.maxcount, a.maxsize, c.protocol == 3)
              if a.maxcount or a.maxsize else None)
    db = c.db
    out: list[Any] = []
    props: list[list[bytes]] = []
    dirty = 0
    wake_at: int | None = None
    for k in range(a.nstreams):
        if budget is not None and not budget.open():
            break  # MAXCOUNT/MAXSIZE reached: the remaining streams are skipped
        key = argv[a.streams_arg + k]
        s = db.lookup(key)
        if a.groupname is not None:
            read_miss(c, key, s)  # Redis looks each stream up twice (keyspace_hits)
        if s is None:
            continue
        if a.groupname is None:
            items = _serve_plain(c, s, ids[k], a.count, budget)
            if items is not None:
                if budget is not None:
                    budget.stream_header(key)
                out.append([key, items])
            continue
        entries, changed = _serve_group(c, key, s, groups[k], ids[k], a, now, props, budget)
        dirty += changed
        if entries or ids[k] != _GT:  # history replies name the stream even when empty
            out.append([key, entries])
            if budget is not None:
                budget.stream_header(key)
        elif a.claim >= 0:
            t = next_claim_time(groups[k], a.claim)
            if t is not None and (wake_at is None or t < wake_at):
                wake_at = t
    if a.group:
        c.engine.dirty += dirty
        c.engine.rewrite(c, *props)
    return out, wake_at


def _serve_plain(
    c: Client, s: Stream, gt: int, count: int, budget: ReplyBudget | None
) -> Any:
    """XREAD of one stream: its entries after ``gt``, or None when it has none."""
    if not s.length or s.last_valid_id() <= gt:
        return None
    start = gt + 1 if gt < MAX_ID else 0
    if budget is None:
        if c.raw_replies and c.engine._depth == 1:
            raw = s.entries_resp(start, MAX_ID, count or -1)  # C: nodes to RESP
            if raw is not None:
                return RawResp(raw)
        return s.entries(start, MAX_ID, count or -1)
    items: list[Any] = []
    for sid, f in s.range(start, MAX_ID, count or None):
        if not budget.open():
            break
        item = [format_id(sid), f]
        items.append(item)
        budget.spend(item)
    return items


def _serve_group(
    c: Client,
    key: bytes,
    s: Stream,
    g: ConsumerGroup,
    gt: int,
    a: ReadArgs,
    now: int,
    props: list[list[bytes]],
    budget: ReplyBudget | None,
) -> tuple[list[Any], int]:
    """XREADGROUP of one stream: the consumer's history after ``gt``, or (``>``)
    claimed and new entries; with the changes counted: one for a consumer created,
    one for a stream that served (as Redis counts them)."""
    changed = 0
    consumer = g.consumer(a.consumer)
    if consumer is None:
        consumer = g.create_consumer(a.consumer, now)
        assert consumer is not None
        changed = 1
        notify(c, "t", b"xgroup-createconsumer", key)
        if a.noack:
            props.append([b"XGROUP", b"CREATECONSUMER", key, g.name, a.consumer])
    consumer.seen_time = now
    if gt != _GT:
        start = gt + 1 if gt < MAX_ID else 0
        return serve_history(c, s, g, consumer, start, a.count, budget), changed
    before = len(props)
    entries: list[Any] = []
    if a.claim >= 0:
        entries = serve_claim(c, key, s, g, consumer, a.claim, a.count, props, budget)
    room = a.count - len(entries) if a.count else 0
    if (not a.count or room > 0) and s.length and s.last_valid_id() > g.last_id:
        entries += serve_new(
            c, key, s, g, consumer, g.last_id + 1, room, a.noack, props,
            claim_format=a.claim >= 0, budget=budget,
        )  # fmt: skip
    return entries, changed + (len(props) > before)


def _reply(c: Client, out: list[Any]) -> Any:
    """The ``[key, entries]`` pairs as an array, or a RESP3 map."""
    if c.protocol != 3:
        return out
    if len({k for k, _ in out}) == len(out):
        return dict(out)
    return {_MapKey(k): v for k, v in out}


def _block(
    c: Client, argv: list[bytes], a: ReadArgs, ids: list[int], now: int, wake_at: int | None
) -> Blocked:
    """Nothing served and BLOCK given: wait on the keys (a re-run keeps its place).

    ``$`` becomes the concrete ID it stood for, so a re-run does not wait forever;
    with CLAIM, ``wake_at`` also re-runs when the oldest pending entry becomes
    idle enough."""
    new_argv = argv
    first_id = a.streams_arg + a.nstreams
    for k in range(a.nstreams):
        if argv[first_id + k] == b"$":
            if new_argv is argv:
                new_argv = list(argv)
            new_argv[first_id + k] = format_id(ids[k])
    if c.blocked is not None:
        return Blocked([], new_argv, None, NULL_ARRAY, wake_at)
    keys = argv[a.streams_arg : first_id]
    deadline = now + a.timeout if a.timeout > 0 else None
    return Blocked([(c.db_index, key) for key in keys], new_argv, deadline, NULL_ARRAY, wake_at)


class _MapKey(bytes):
    """A map key compared by identity: XREAD may name one stream twice, and Redis
    then answers a RESP3 map with a repeated key."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other


def _xread_ready(c: Client, argv: list[bytes], streams_arg: int, nstreams: int) -> bool:
    """True if some key holds a stream with an entry past the waiter's ID."""
    db = c.db
    for k in range(nstreams):
        s = db.lookup(argv[streams_arg + k])
        if type(s) is not Stream or not s.length:
            continue
        arg = argv[streams_arg + nstreams + k]
        if arg in (b"$", b"+"):
            return True
        try:
            gt = parse_strict(arg)
        except CommandError:
            return True
        if s.last_valid_id() > gt:
            return True
    return False


__all__ = ["LLONG_MAX", "nogroup_xreadgroup", "serve_new", "setid_argv", "xclaim_argv"]
