"""Stream commands on entries: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XDELEX, XTRIM,
XSETID, XCFGSET. Reading (XREAD/XREADGROUP) is in ``stream_read``, consumer
groups in ``stream_groups``, introspection in ``stream_info``.
"""

from __future__ import annotations

from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import SYNTAX, CommandError
from ..notify import notify
from ..registry import command
from ..replies import NULL_ARRAY, OK, RawResp
from ..stream.idmp import DEFAULT_DURATION, DEFAULT_MAXSIZE, IdmpState, auto_iid
from ..stream.ids import (
    MAX_ID,
    SEQ_MASK,
    U64_MAX,
    format_id,
    parse_interval,
    parse_strict,
)
from ..stream.stream import ACKED, DELREF, KEEPREF, LISTPACK_MAX_SIZE, Stream
from .stream_common import (
    NO_SUCH_KEY,
    POLICIES,
    delete_with_policy,
    get_stream,
    node_limits,
    parse_add_trim,
    rewrite_trim_args,
    trim_stream,
)

_G = "stream"


def idmp_defaults(c: Client) -> tuple[int, int]:
    cfg = c.engine.config
    return (
        int(cfg.get("stream-idmp-duration", DEFAULT_DURATION)),
        int(cfg.get("stream-idmp-maxsize", DEFAULT_MAXSIZE)),
    )


def _idmp(c: Client, s: Stream) -> IdmpState:
    if s.idmp is None:
        s.idmp = IdmpState(*idmp_defaults(c))
    return s.idmp  # type: ignore[no-any-return]


@command("xadd", -5, "write denyoom fast", 1, 1, 1, group=_G)
def xadd(c: Client, argv: list[bytes]) -> Any:
    """XADD key [NOMKSTREAM] [KEEPREF | DELREF | ACKED] [IDMPAUTO pid | IDMP pid iid] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]"""
    if argv[2] == b"*" and len(argv) & 1:
        # XADD key * field value ...: the common case, without options (the hot path)
        key = argv[1]
        db = c.db
        s = db.data.get(key)
        if type(s) is not Stream or (db.expires and key in db.expires):
            s = get_stream(c, key)
        eng = c.engine
        created = s is None
        if s is None:
            s = Stream()
        last = s.last_id
        if last == MAX_ID:
            raise CommandError(
                "ERR The stream has exhausted the last possible ID, unable to add more items"
            )
        now = eng.now_ms()
        sid = now << 64 if now > last >> 64 else last + 1
        cfg = eng.config
        s.add(sid, argv[3:], cfg["stream-node-max-entries"], cfg["stream-node-max-bytes"])
        if created:
            db.set(key, s)
        else:
            db.touch(key)
        if cfg["notify-keyspace-events"]:  # keyspace notifications on (one dict lookup)
            notify(c, "t", b"xadd", key)
        reply = format_id(sid)
        if eng.effects is not None:  # propagated with the generated ID
            out = argv.copy()
            out[2] = reply
            eng.rewrite(c, out)
        return reply
    arg = argv[2]
    if len(argv) & 1 and arg[:1].isdigit():
        # XADD key <ms>-<seq> field value ...: an explicit ID without options (AOF
        # replay, copies); anything else takes the general path below
        dash = arg.find(b"-")
        if 0 < dash < 20 and len(arg) - dash < 21:
            msb = arg[:dash]
            seqb = arg[dash + 1 :]
            if msb.isdigit() and seqb.isdigit():
                return _xadd_explicit(c, argv, (int(msb) << 64) | int(seqb))
    a = parse_add_trim(c, argv, xadd=True)
    field_pos = a.id_pos + 1
    nfields = len(argv) - field_pos
    if nfields < 2 or nfields % 2:
        raise CommandError("ERR wrong number of arguments for 'xadd' command")
    if a.idmp_pid is not None and a.id_given and not c.is_master:
        raise CommandError("ERR IDMP/IDMPAUTO can be used only with auto-generated IDs")
    if a.id_given and a.seq_given and a.id == 0:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    key = argv[1]
    db = c.db
    s = get_stream(c, key)
    created = False
    if s is None:
        if a.nomkstream:
            return None
        s = Stream()
        created = True
    fields = argv[field_pos:]
    now = c.engine.now_ms()
    iid = None
    if a.idmp_pid is not None:
        iid = auto_iid(fields) if a.idmp_auto else a.idmp_iid
        assert iid is not None
        if not created and s.idmp is not None:
            dup = s.idmp.lookup(a.idmp_pid, iid, now)
            if dup is not None:
                s.idmp.iids_duplicates += 1
                return format_id(dup)
    last = s.last_id
    if last == MAX_ID:
        raise CommandError(
            "ERR The stream has exhausted the last possible ID, unable to add more items"
        )
    if not a.id_given:
        sid = now << 64 if now > last >> 64 else last + 1
    elif not a.seq_given:
        ms = a.id >> 64
        if ms == last >> 64:
            if last & SEQ_MASK == U64_MAX:
                raise CommandError(
                    "ERR The ID specified in XADD is equal or smaller than the target stream top item"
                )
            sid = last + 1
        else:
            sid = a.id
    else:
        sid = a.id
    if sid <= last:
        raise CommandError(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        )
    total = 0
    for x in fields:
        total += len(x)
    if total > LISTPACK_MAX_SIZE:
        raise CommandError("ERR Elements are too large to be stored")
    max_entries, max_bytes = node_limits(c)
    s.add(sid, fields, max_entries, max_bytes)
    if iid is not None and a.idmp_pid is not None:
        _idmp(c, s).record(a.idmp_pid, iid, sid, now)
    trimmed = trim_stream(s, a) if a.strategy else 0
    if created:
        db.set(key, s)
    else:
        db.touch(key)
    notify(c, "t", b"xadd", key)
    if trimmed:
        notify(c, "t", b"xtrim", key)
    reply = format_id(sid)
    # propagate the concrete effect: the generated ID, an exact trim, an explicit iid
    out = argv
    if a.strategy and a.approx:
        out = rewrite_trim_args(out, s, a)
    if not a.id_given or not a.seq_given:
        out = out if out is not argv else list(argv)
        out[a.id_pos] = reply
    if a.idmp_auto and iid is not None:
        out = out if out is not argv else list(argv)
        k = next(i for i in range(2, a.id_pos) if out[i].upper() == b"IDMPAUTO")
        out[k : k + 2] = [b"IDMP", out[k + 1], iid]
    if out is not argv:
        c.engine.rewrite(c, out)
    return reply


def _xadd_explicit(c: Client, argv: list[bytes], sid: int) -> Any:
    """XADD key <ms>-<seq> field value ...: the checks of the general path, in its order."""
    if sid == 0:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    key = argv[1]
    db = c.db
    s = get_stream(c, key)
    created = s is None
    if s is None:
        s = Stream()
    last = s.last_id
    if last == MAX_ID:
        raise CommandError(
            "ERR The stream has exhausted the last possible ID, unable to add more items"
        )
    if sid <= last:
        raise CommandError(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        )
    fields = argv[3:]
    if sum(map(len, fields)) > LISTPACK_MAX_SIZE:
        raise CommandError("ERR Elements are too large to be stored")
    cfg = c.engine.config
    s.add(sid, fields, cfg["stream-node-max-entries"], cfg["stream-node-max-bytes"])
    if created:
        db.set(key, s)
    else:
        db.touch(key)
    notify(c, "t", b"xadd", key)
    return format_id(sid)


@command("xlen", 2, "readonly fast", 1, 1, 1, group=_G)
def xlen(c: Client, argv: list[bytes]) -> Any:
    """XLEN key"""
    s = get_stream(c, argv[1])
    return s.length if s is not None else 0


def _xrange(c: Client, argv: list[bytes], rev: bool) -> Any:
    start_arg, end_arg = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start = parse_interval(start_arg, True)
    end = parse_interval(end_arg, False)
    count = -1
    j = 4
    n = len(argv)
    while j < n:
        if argv[j].upper() == b"COUNT" and j + 1 < n:
            count = parse_int(argv[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise CommandError(SYNTAX)
    s = get_stream(c, argv[1])
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    if not rev and c.raw_replies and c.engine._depth == 1:  # a top-level reply to a wire client
        raw = s.entries_resp(start, end, count)
        if raw is not None:
            return RawResp(raw)
    return s.entries(start, end, count, rev)


@command("xrange", -4, "readonly", 1, 1, 1, group=_G)
def xrange(c: Client, argv: list[bytes]) -> Any:
    """XRANGE key start end [COUNT count]"""
    return _xrange(c, argv, False)


@command("xrevrange", -4, "readonly", 1, 1, 1, group=_G)
def xrevrange(c: Client, argv: list[bytes]) -> Any:
    """XREVRANGE key end start [COUNT count]"""
    return _xrange(c, argv, True)


@command("xdel", -3, "write fast", 1, 1, 1, group=_G)
def xdel(c: Client, argv: list[bytes]) -> Any:
    """XDEL key id [id ...]"""
    s = get_stream(c, argv[1])
    if s is None:
        return 0
    ids = [parse_strict(x) for x in argv[2:]]
    deleted = 0
    for sid in ids:
        if s.delete(sid):
            if sid > s.max_deleted_id:
                s.max_deleted_id = sid
            deleted += 1
    if deleted:
        c.db.touch(argv[1])
        notify(c, "t", b"xdel", argv[1])
    return deleted


def _parse_policy_ids(argv: list[bytes], start: int) -> tuple[int, int, int]:
    """Options of XDELEX/XACKDEL: returns (policy, index of the IDs, how many)."""
    policy = KEEPREF
    policy_given = False
    ids_at = -1
    numids = 0
    i = start
    n = len(argv)
    while i < n:
        up = argv[i].upper()
        if up == b"IDS" and i + 1 < n:
            try:
                numids = parse_int(argv[i + 1])
            except CommandError:
                raise CommandError("ERR Number of IDs must be a positive integer")
            if numids <= 0:
                raise CommandError("ERR Number of IDs must be a positive integer")
            if numids > n - i - 2:
                raise CommandError("ERR The `numids` parameter must match the number of arguments")
            ids_at = i + 2
            i += 2 + numids
        elif up in POLICIES and not policy_given:
            policy = POLICIES[up]
            policy_given = True
            i += 1
        else:
            raise CommandError(SYNTAX)
    if ids_at < 0:
        raise CommandError(SYNTAX)
    return policy, ids_at, numids


@command("xdelex", -5, "write fast", 1, 1, 1, group=_G)
def xdelex(c: Client, argv: list[bytes]) -> Any:
    """XDELEX key [KEEPREF | DELREF | ACKED] IDS numids id [id ...]"""
    s = get_stream(c, argv[1])  # WRONGTYPE before any argument error, as Redis
    policy, at, n = _parse_policy_ids(argv, 2)
    if s is None:
        return [-1] * n
    ids = [parse_strict(x) for x in argv[at : at + n]]
    out = [delete_with_policy(s, sid, policy) for sid in ids]
    if 1 in out:
        c.db.touch(argv[1])
        notify(c, "t", b"xdel", argv[1])
    return out


@command("xtrim", -4, "write", 1, 1, 1, group=_G)
def xtrim(c: Client, argv: list[bytes]) -> Any:
    """XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count] [KEEPREF | DELREF | ACKED]"""
    a = parse_add_trim(c, argv, xadd=False)
    s = get_stream(c, argv[1])
    if s is None:
        return 0
    deleted = trim_stream(s, a)
    if deleted:
        if a.approx:
            c.engine.rewrite(c, rewrite_trim_args(argv, s, a))
        c.db.touch(argv[1])
        notify(c, "t", b"xtrim", argv[1])
    return deleted


@command("xsetid", -3, "write denyoom fast", 1, 1, 1, group=_G)
def xsetid(c: Client, argv: list[bytes]) -> Any:
    """XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"""
    sid = parse_strict(argv[2])
    entries_added = -1
    max_del = 0
    i = 3
    n = len(argv)
    while i < n:
        more = n - 1 - i
        up = argv[i].upper()
        if up == b"ENTRIESADDED" and more:
            entries_added = parse_int(argv[i + 1])
            if entries_added < 0:
                raise CommandError("ERR entries_added must be positive")
            i += 2
        elif up == b"MAXDELETEDID" and more:
            max_del = parse_strict(argv[i + 1])
            if sid < max_del:
                raise CommandError(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
                )
            i += 2
        else:
            raise CommandError(SYNTAX)
    s = get_stream(c, argv[1])
    if s is None:
        raise CommandError(NO_SUCH_KEY)
    if sid < s.max_deleted_id:
        raise CommandError(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
        )
    if s.length > 0:
        if sid < s.last_valid_id():
            raise CommandError(
                "ERR The ID specified in XSETID is smaller than the target stream top item"
            )
        if entries_added != -1 and s.length > entries_added:
            raise CommandError(
                "ERR The entries_added specified in XSETID is smaller than the target stream length"
            )
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_del:
        s.max_deleted_id = max_del
    c.engine.dirty += 1  # Redis does not signal the key as modified here
    notify(c, "t", b"xsetid", argv[1])
    return OK


_CFG_RANGES = {
    b"IDMP-DURATION": (1, 86400, "ERR IDMP-DURATION must be between 1 and 86400"),
    b"IDMP-MAXSIZE": (1, 10000, "ERR IDMP-MAXSIZE must be between 1 and 10000"),
}


@command("xcfgset", -2, "write fast", 1, 1, 1, group=_G)
def xcfgset(c: Client, argv: list[bytes]) -> Any:
    """XCFGSET key [IDMP-DURATION idmp-duration] [IDMP-MAXSIZE idmp-maxsize]"""
    if len(argv) == 2:
        raise CommandError("ERR At least one parameter must be specified")
    vals: dict[bytes, int] = {}
    i = 2
    n = len(argv)
    while i < n:
        up = argv[i].upper()
        rng = _CFG_RANGES.get(up)
        if rng is None or i + 1 >= n:
            raise CommandError(SYNTAX)
        v = parse_int(argv[i + 1])
        if not rng[0] <= v <= rng[1]:
            raise CommandError(rng[2])
        vals[up] = v
        i += 2
    s = get_stream(c, argv[1])
    if s is None:
        raise CommandError(NO_SUCH_KEY)
    st = _idmp(c, s)
    st.configure(
        vals.get(b"IDMP-DURATION", st.duration), vals.get(b"IDMP-MAXSIZE", st.maxsize)
    )
    c.engine.dirty += 1
    return OK


__all__ = ["ACKED", "DELREF", "idmp_defaults"]
