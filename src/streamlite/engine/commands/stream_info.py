"""XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP.

Fields come in Redis's order; maps are dicts (RESP3 maps, RESP2 flat arrays).
``radix-tree-keys`` is the number of storage nodes, which close where Redis
closes its listpacks; ``radix-tree-nodes`` is the node count of the radix tree
Redis would hold over those nodes' keys (see ``Stream.rax_nodes``). The Redis 8.6
IDMP fields follow ``recorded-first-entry-id``; FULL's groups end with the Redis
8.8 ``nacked-count`` (entries released by XNACK).
"""

from __future__ import annotations

from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import CommandError
from ..registry import command
from ..stream.groups import INVALID_ENTRIES_READ, ConsumerGroup
from ..stream.ids import MAX_ID, format_id
from ..stream.stream import Stream
from ..subcommands import dispatch
from .stream_common import NO_SUCH_KEY, entry_reply, get_stream, text
from .stream_groups import help_reply
from .streams import idmp_defaults

_G = "stream"


@command("xinfo", -2, "", 0, 0, 0, group=_G)
def xinfo(c: Client, argv: list[bytes]) -> Any:
    """XINFO <subcommand> [arg ...]"""
    return dispatch(c, argv, "xinfo")


@command("help", 2, "loading stale", 0, 0, 0, group=_G, parent="xinfo")
def xinfo_help(c: Client, argv: list[bytes]) -> Any:
    """XINFO HELP"""
    return help_reply(
        "XINFO",
        [
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    )


def _stream_or_error(c: Client, key: bytes) -> Stream:
    s = get_stream(c, key)
    if s is None:
        raise CommandError(NO_SUCH_KEY)
    return s


def _syntax(sub: bytes) -> CommandError:
    return CommandError(
        f"ERR unknown subcommand or wrong number of arguments for '{text(sub)}'. Try XINFO HELP."
    )


def _entries_read(g: ConsumerGroup) -> int | None:
    return None if g.entries_read == INVALID_ENTRIES_READ else g.entries_read


def _sorted_groups(s: Stream) -> list[ConsumerGroup]:
    return [s.groups[k] for k in sorted(s.groups)]


@command("stream", -3, "readonly", 2, 2, 1, group=_G, parent="xinfo")
def xinfo_stream(c: Client, argv: list[bytes]) -> Any:
    """XINFO STREAM key [FULL [COUNT count]]"""
    s = _stream_or_error(c, argv[2])
    opts = argv[3:]
    full = False
    count = 10
    if opts:
        if len(opts) not in (1, 3) or opts[0].upper() != b"FULL":
            raise _syntax(argv[1])
        full = True
        if len(opts) == 3:
            if opts[1].upper() != b"COUNT":
                raise _syntax(argv[1])
            count = parse_int(opts[2])
            if count < 0:
                count = 10
    now = c.engine.now_ms()
    out: dict[bytes, Any] = {
        b"length": s.length,
        b"radix-tree-keys": s.node_count,
        b"radix-tree-nodes": s.rax_nodes(),
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted_id),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
    }
    st = s.idmp
    if st is None:
        duration, maxsize = idmp_defaults(c)
        out[b"idmp-duration"] = duration
        out[b"idmp-maxsize"] = maxsize
        out[b"pids-tracked"] = 0
        out[b"iids-tracked"] = 0
        out[b"iids-added"] = 0
        out[b"iids-duplicates"] = 0
    else:
        out[b"idmp-duration"] = st.duration
        out[b"idmp-maxsize"] = st.maxsize
        out[b"pids-tracked"] = st.pids_tracked(now)
        out[b"iids-tracked"] = st.iids_tracked(now)
        out[b"iids-added"] = st.iids_added
        out[b"iids-duplicates"] = st.iids_duplicates
    if not full:
        out[b"groups"] = len(s.groups)
        first = s.first_entry()
        last = s.last_entry()
        out[b"first-entry"] = entry_reply(*first) if first else None
        out[b"last-entry"] = entry_reply(*last) if last else None
        return out
    out[b"entries"] = [entry_reply(sid, f) for sid, f in s.range(0, MAX_ID, count or None)]
    groups = []
    for g in _sorted_groups(s):
        pending: list[Any] = []
        for sid, nack in g.pel.items():
            if count and len(pending) >= count:
                break
            owner = nack.consumer.name if nack.consumer is not None else b""  # XNACK-released
            pending.append([format_id(sid), owner, nack.delivery_time, nack.delivery_count])
        consumers = []
        for cons in g.consumers.values():
            cpend: list[Any] = []
            for sid in cons.pel:
                if count and len(cpend) >= count:
                    break
                nack = g.pel[sid]
                cpend.append([format_id(sid), nack.delivery_time, nack.delivery_count])
            consumers.append(
                {
                    b"name": cons.name,
                    b"seen-time": cons.seen_time,
                    b"active-time": cons.active_time,
                    b"pel-count": len(cons.pel),
                    b"pending": cpend,
                }
            )
        groups.append(
            {
                b"name": g.name,
                b"last-delivered-id": format_id(g.last_id),
                b"entries-read": _entries_read(g),
                b"lag": g.lag(s),
                b"pel-count": len(g.pel),
                b"pending": pending,
                b"consumers": consumers,
                b"nacked-count": len(g.nacked),  # Redis 8.8
            }
        )
    out[b"groups"] = groups
    return out


@command("groups", 3, "readonly", 2, 2, 1, group=_G, parent="xinfo")
def xinfo_groups(c: Client, argv: list[bytes]) -> Any:
    """XINFO GROUPS key"""
    s = _stream_or_error(c, argv[2])
    return [
        {
            b"name": g.name,
            b"consumers": len(g.consumers),
            b"pending": len(g.pel),
            b"last-delivered-id": format_id(g.last_id),
            b"entries-read": _entries_read(g),
            b"lag": g.lag(s),
        }
        for g in _sorted_groups(s)
    ]


@command("consumers", 4, "readonly", 2, 2, 1, group=_G, parent="xinfo")
def xinfo_consumers(c: Client, argv: list[bytes]) -> Any:
    """XINFO CONSUMERS key group"""
    s = _stream_or_error(c, argv[2])
    g = s.groups.get(argv[3])
    if g is None:
        raise CommandError(
            f"NOGROUP No such consumer group '{text(argv[3])}' for key name '{text(argv[2])}'"
        )
    now = c.engine.now_ms()
    out = []
    for cons in g.consumers.values():
        inactive = now - cons.active_time if cons.active_time != -1 else -1
        out.append(
            {
                b"name": cons.name,
                b"pending": len(cons.pel),
                b"idle": max(0, now - cons.seen_time),
                b"inactive": inactive,
            }
        )
    return out
