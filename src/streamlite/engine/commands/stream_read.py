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
    cpel_add = consumer.pel.add
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
                if by_time is None:  # g.add_nack(sid, consumer, now), one frame less
                    nack = NACK(consumer, now)
                    pel[sid] = nack
                    cpel_add(sid)
                else:
                    nack = g.add_nack(sid, consumer, now)
            else:
                g.set_owner(sid, nack, consumer)
                g.set_time(sid, nack, now)
                nack.delivery_count = 1
            consumer.active_time = now
            props.append(xclaim_argv(key, g, sid, nack) if build else _UNPROPAGATED)
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
    first = g.by_time()[0] >> 128
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


def _xread(c: Client, argv: list[bytes], xreadgroup: bool) -> Any:
    argc = len(argv)
    timeout = -1
    count = 0
    maxcount = 0
    maxsize = 0
    streams_arg = 0
    nstreams = 0
    noack = False
    claim = -1
    groupname: bytes | None = None
    consumername = b""
    name = "xreadgroup" if xreadgroup else "xread"
    i = 1
    while i < argc:
        more = argc - i - 1
        up = argv[i].upper()
        if up == b"BLOCK" and more:
            i += 1
            timeout = _parse_timeout(argv[i])
        elif up == b"COUNT" and more:
            i += 1
            count = parse_int(argv[i])
            if count < 0:
                count = 0
        elif up == b"MAXCOUNT" and more:
            i += 1
            maxcount = _parse_positive(argv[i], "ERR MAXCOUNT must be a positive integer")
        elif up == b"MAXSIZE" and more:
            i += 1
            maxsize = _parse_positive(argv[i], "ERR MAXSIZE must be a positive integer")
        elif up == b"CLAIM" and more and xreadgroup:
            i += 1
            try:
                claim = parse_int(argv[i])
            except CommandError:
                raise CommandError("ERR min-idle-time is not an integer")
            if claim < 0:
                raise CommandError("ERR min-idle-time must be a positive integer")
        elif up == b"STREAMS" and more:
            streams_arg = i + 1
            nstreams = argc - streams_arg
            if nstreams % 2:
                what = "an ID or '>'" if xreadgroup else "an ID, '+', or '$'"
                raise CommandError(
                    f"ERR Unbalanced '{name}' list of streams: for each stream key {what} "
                    "must be specified."
                )
            nstreams //= 2
            break
        elif up == b"GROUP" and more >= 2:
            if not xreadgroup:
                raise CommandError(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
                )
            groupname = argv[i + 1]
            consumername = argv[i + 2]
            i += 2
        elif up == b"NOACK":
            if not xreadgroup:
                raise CommandError(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
                )
            noack = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if not streams_arg:
        raise CommandError(SYNTAX)
    if xreadgroup and groupname is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    if maxcount and count and maxcount < count:
        # MAXCOUNT caps the whole reply, COUNT each stream
        raise CommandError("ERR MAXCOUNT must be greater than or equal to COUNT")
    budget = ReplyBudget(maxcount, maxsize, c.protocol == 3) if maxcount or maxsize else None

    db = c.db
    rerun = c.blocked is not None
    keys = argv[streams_arg : streams_arg + nstreams]
    # XREAD waiters only wake for a stream that has something past their ID
    if rerun and not xreadgroup and not _xread_ready(c, argv, streams_arg, nstreams):
        return Blocked([], argv, None)
    ids: list[int] = []
    groups: list[ConsumerGroup] = []
    for k in range(nstreams):
        key = keys[k]
        s = get_stream(c, key)
        if groupname is not None:
            read_miss(c, key, s)
            g = s.groups.get(groupname) if s is not None else None
            if g is None:
                raise nogroup_xreadgroup(key, groupname)
            groups.append(g)
        arg = argv[streams_arg + nstreams + k]
        if arg == b"$":
            if xreadgroup:
                raise CommandError(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read "
                    "the history of this consumer by specifying a proper ID, or use the > ID to "
                    "get new messages. The $ ID would just return an empty result set."
                )
            ids.append(s.last_id if s is not None else 0)
        elif arg == b"+":
            if xreadgroup:
                raise CommandError(
                    "ERR The + ID is meaningless in the context of XREADGROUP: you want to read "
                    "the history of this consumer by specifying a proper ID, or use the > ID to "
                    "get new messages. The + ID would just return an empty result set."
                )
            if s is not None and s.length:
                last = s.last_valid_id()
                ids.append(last - 1 if last else 0)
            else:
                ids.append(0)
        elif arg == b">":
            if not xreadgroup:
                raise CommandError(
                    "ERR The > ID can be specified only when calling XREADGROUP using the "
                    "GROUP <group> <consumer> option."
                )
            ids.append(_GT)
        else:
            ids.append(parse_strict(arg))

    now = c.engine.now_ms()
    out: list[Any] = []
    props: list[list[bytes]] = []
    dirty = 0
    wake_at: int | None = None
    for k in range(nstreams):
        if budget is not None and not budget.open():
            break  # MAXCOUNT/MAXSIZE reached: the remaining streams are skipped
        key = keys[k]
        s = db.lookup(key)
        if groupname is not None:
            read_miss(c, key, s)  # Redis looks each stream up twice (keyspace_hits)
        if s is None:
            continue
        gt = ids[k]
        if groupname is not None:
            g = groups[k]
            history = gt != _GT
            consumer = g.consumer(consumername)
            if consumer is None:
                consumer = g.create_consumer(consumername, now)
                assert consumer is not None
                dirty += 1
                notify(c, "t", b"xgroup-createconsumer", key)
                if noack:
                    props.append([b"XGROUP", b"CREATECONSUMER", key, g.name, consumername])
            consumer.seen_time = now
            if history:
                start = gt + 1 if gt < MAX_ID else 0
                entries = serve_history(c, s, g, consumer, start, count, budget)
                out.append([key, entries])
                if budget is not None:
                    budget.stream_header(key)
                continue
            before = len(props)
            entries = []
            if claim >= 0:
                entries = serve_claim(c, key, s, g, consumer, claim, count, props, budget)
            room = count - len(entries) if count else 0
            if (not count or room > 0) and s.length and s.last_valid_id() > g.last_id:
                entries += serve_new(
                    c, key, s, g, consumer, g.last_id + 1, room, noack, props,
                    claim_format=claim >= 0, budget=budget,
                )  # fmt: skip
            if len(props) > before:
                dirty += 1  # one change per stream served, as Redis counts it
            if entries:
                out.append([key, entries])
                if budget is not None:
                    budget.stream_header(key)
            elif claim >= 0:
                t = next_claim_time(g, claim)
                if t is not None and (wake_at is None or t < wake_at):
                    wake_at = t
        else:
            if s.length and s.last_valid_id() > gt:
                start = gt + 1 if gt < MAX_ID else 0
                raw = None
                items: Any
                if budget is None and c.raw_replies and c.engine._depth == 1:
                    raw = s.entries_resp(start, MAX_ID, count or -1)  # C: nodes to RESP
                if raw is not None:
                    items = RawResp(raw)
                elif budget is None:
                    items = s.entries(start, MAX_ID, count or -1)
                else:
                    items = []
                    for sid, f in s.range(start, MAX_ID, count or None):
                        if not budget.open():
                            break
                        item = [format_id(sid), f]
                        items.append(item)
                        budget.spend(item)
                    budget.stream_header(key)
                out.append([key, items])

    if xreadgroup:
        c.engine.dirty += dirty
        c.engine.rewrite(c, *props)
    if out:
        if c.protocol == 3:
            if len({k for k, _ in out}) == len(out):
                return dict(out)
            return {_MapKey(k): v for k, v in out}
        return out
    if timeout < 0 or c.in_exec or c.in_script:
        return NULL_ARRAY
    # block: '$' becomes the concrete ID so a re-run does not wait forever
    new_argv = argv
    for k in range(nstreams):
        pos = streams_arg + nstreams + k
        if argv[pos] == b"$":
            if new_argv is argv:
                new_argv = list(argv)
            new_argv[pos] = format_id(ids[k])
    if rerun:
        return Blocked([], new_argv, None, NULL_ARRAY, wake_at)
    deadline = now + timeout if timeout > 0 else None
    # with CLAIM, also re-run when the oldest pending entry becomes idle enough
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
