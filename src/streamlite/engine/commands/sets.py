"""Set commands (group "set"): membership, random pops and samples, the
algebra (SINTER/SUNION/SDIFF and their STORE forms, SINTERCARD), SMOVE, SSCAN.

Replies that are sets in Redis are ``RespSet`` (RESP3 ``~``). SPOP propagates
as the SREM (or DEL, when the whole set goes) of what it took.
"""

from __future__ import annotations

import random
from typing import Any

from ..args import LLONG_MAX, parse_int
from ..client import Client
from ..errors import SYNTAX, WRONGTYPE, CommandError
from ..glob import match
from ..notify import notify, overwritten, read_miss
from ..registry import command
from ..replies import RespSet
from ..scan import parse_cursor, scan_page
from ..types.set import HASHTABLE, INTSET, Limits, SetValue
from .keys import parse_scan_options

SPOP_MOVE_STRATEGY_MUL = 5
SREM_BATCH = 1024


def _get(c: Client, key: bytes) -> SetValue | None:
    v: SetValue | None = c.db.get_typed(key, SetValue)
    return v


def _after_remove(c: Client, key: bytes, s: SetValue, event: bytes = b"srem") -> None:
    notify(c, "s", event, key)
    if len(s) == 0:
        c.db.remove(key)
        notify(c, "g", b"del", key)
    else:
        c.db.touch(key)


@command("sadd", -3, "write denyoom fast", 1, 1, 1, group="set")
def sadd(c: Client, argv: list[bytes]) -> Any:
    """SADD key member [member ...]"""
    key = argv[1]
    s = _get(c, key)
    lim = Limits(c.engine)
    created = s is None
    if s is None:
        s = SetValue.create(argv[2], len(argv) - 2, lim)
    else:
        s.maybe_convert(len(argv) - 2, lim)
    added = s.add_many(argv[2:], lim)
    if created:
        c.db.set(key, s)
    elif added:
        c.db.touch(key)
    if added:
        notify(c, "s", b"sadd", key)
    return added


@command("srem", -3, "write fast", 1, 1, 1, group="set")
def srem(c: Client, argv: list[bytes]) -> Any:
    """SREM key member [member ...]"""
    key = argv[1]
    s = _get(c, key)
    if s is None:
        return 0
    removed = 0
    for m in argv[2:]:
        if s.remove(m):
            removed += 1
            if len(s) == 0:
                break
    if removed:
        _after_remove(c, key, s)
    return removed


@command("smembers", 2, "readonly", 1, 1, 1, group="set")
def smembers(c: Client, argv: list[bytes]) -> Any:
    """SMEMBERS key"""
    s = _get(c, argv[1])
    return RespSet() if s is None else RespSet(s.members())


@command("sismember", 3, "readonly fast", 1, 1, 1, group="set")
def sismember(c: Client, argv: list[bytes]) -> Any:
    """SISMEMBER key member"""
    s = _get(c, argv[1])
    return 1 if s is not None and argv[2] in s else 0


@command("smismember", -3, "readonly fast", 1, 1, 1, group="set")
def smismember(c: Client, argv: list[bytes]) -> Any:
    """SMISMEMBER key member [member ...]"""
    s = _get(c, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if m in s else 0 for m in argv[2:]]


@command("scard", 2, "readonly fast", 1, 1, 1, group="set")
def scard(c: Client, argv: list[bytes]) -> Any:
    """SCARD key"""
    s = _get(c, argv[1])
    return 0 if s is None else len(s)


@command("smove", 4, "write fast", 1, 2, 1, group="set")
def smove(c: Client, argv: list[bytes]) -> Any:
    """SMOVE source destination member"""
    src_key, dst_key, m = argv[1], argv[2], argv[3]
    db = c.db
    src = db.lookup(src_key)
    dst = db.lookup(dst_key)
    if src is None:
        return 0
    if type(src) is not SetValue or (dst is not None and type(dst) is not SetValue):
        raise CommandError(WRONGTYPE)
    if src is dst:
        return 1 if m in src else 0
    if not src.remove(m):
        return 0
    _after_remove(c, src_key, src)
    lim = Limits(c.engine)
    if dst is None:
        dst = SetValue.create(m, 1, lim)
        dst.add(m, lim)
        db.set(dst_key, dst)
    elif dst.add(m, lim):
        db.touch(dst_key)
    else:
        return 1
    notify(c, "s", b"sadd", dst_key)
    return 1


# -- random -----------------------------------------------------------------------


def _propagate_srem(c: Client, key: bytes, members: list[bytes]) -> None:
    argvs = [
        [b"SREM", key, *members[i : i + SREM_BATCH]] for i in range(0, len(members), SREM_BATCH)
    ]
    c.engine.rewrite(c, *argvs)


@command("spop", -2, "write fast", 1, 1, 1, group="set")
def spop(c: Client, argv: list[bytes]) -> Any:
    """SPOP key [count]"""
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    key = argv[1]
    if len(argv) == 2:
        s = _get(c, key)
        if s is None:
            return None
        m = s.pop_random()
        _after_remove(c, key, s, b"spop")
        c.engine.rewrite(c, [b"SREM", key, m])
        return m
    msg = "ERR value is out of range, must be positive"
    count = parse_int(argv[2], msg)
    if count < 0:
        raise CommandError(msg)
    s = _get(c, key)
    if s is None or count == 0:
        return RespSet()
    size = len(s)
    if count >= size:
        out = s.members()
        c.db.remove(key)
        notify(c, "s", b"spop", key)
        notify(c, "g", b"del", key)
        lazy = c.engine.config.get("lazyfree-lazy-server-del", "no") in ("yes", b"yes", True, 1)
        c.engine.rewrite(c, [b"UNLINK" if lazy else b"DEL", key])
        return RespSet(out)
    remaining = size - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count:
        popped = [s.pop_random() for _ in range(count)]
    else:
        keep = set(s.random_distinct(remaining))
        popped = [m for m in s.members() if m not in keep]
        if s.enc == HASHTABLE:
            lim = Limits(c.engine)
            fresh = SetValue.create(None, remaining, lim)
            fresh.add_many([m for m in s.members() if m in keep], lim)
            s.replace_with(fresh)
        else:
            for m in popped:
                s.remove(m)
        random.shuffle(popped)
    c.db.touch(key)
    notify(c, "s", b"spop", key)
    _propagate_srem(c, key, popped)
    return RespSet(popped)


@command("srandmember", -2, "readonly", 1, 1, 1, group="set")
def srandmember(c: Client, argv: list[bytes]) -> Any:
    """SRANDMEMBER key [count]"""
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    if len(argv) == 2:
        s = _get(c, argv[1])
        return None if s is None else s.random_member()
    n = parse_int(argv[2])
    if n < -LLONG_MAX:
        raise CommandError(
            f"ERR value is out of range, value must between {-LLONG_MAX} and {LLONG_MAX}"
        )
    s = _get(c, argv[1])
    if s is None or n == 0:
        return []
    if n < 0:
        members = s.members()
        return [random.choice(members) for _ in range(-n)]
    if n >= len(s):
        return s.members()
    return s.random_distinct(n)


# -- algebra ------------------------------------------------------------------------


def _load_sets(c: Client, keys: list[bytes]) -> list[SetValue | None]:
    """Every key's set (None when missing), WRONGTYPE on the first non-set."""
    out = []
    for k in keys:
        s = _get(c, k)
        read_miss(c, k, s)
        out.append(s)
    return out


def _store(c: Client, dst_key: bytes, result: SetValue, event: bytes) -> int:
    if len(result):
        old = c.db.peek(dst_key)
        c.db.set(dst_key, result)
        overwritten(c, dst_key, old, result)
        notify(c, "s", event, dst_key)
        return len(result)
    if c.db.delete(dst_key):
        notify(c, "g", b"del", dst_key)
    return 0


def _inter(sets: list[SetValue | None], limit: int = 0) -> list[bytes] | None:
    """Members of the intersection in the smallest set's order (None: an input is empty)."""
    if any(s is None for s in sets):
        return None
    present: list[SetValue] = sorted(sets, key=len)  # type: ignore[arg-type]
    first, rest = present[0], present[1:]
    out: list[bytes] = []
    for m in first:
        for other in rest:
            if other is not first and m not in other:
                break
        else:
            out.append(m)
            if limit and len(out) >= limit:
                break
    return out


def _sinter(c: Client, keys: list[bytes], dst: bytes | None) -> Any:
    members = _inter(_load_sets(c, keys))
    if dst is None:
        return RespSet(members or [])
    lim = Limits(c.engine)
    result = SetValue(INTSET)
    result.add_many(members or [], lim)
    return _store(c, dst, result, b"sinterstore")


@command("sinter", -2, "readonly", 1, -1, 1, group="set")
def sinter(c: Client, argv: list[bytes]) -> Any:
    """SINTER key [key ...]"""
    return _sinter(c, argv[1:], None)


@command("sinterstore", -3, "write denyoom", 1, -1, 1, group="set")
def sinterstore(c: Client, argv: list[bytes]) -> Any:
    """SINTERSTORE destination key [key ...]"""
    return _sinter(c, argv[2:], argv[1])


def _numkeys_keys(argv: list[bytes], idx: int) -> list[int]:
    try:
        n = int(argv[idx])
    except (ValueError, IndexError):
        return []
    if n <= 0:
        return []
    return list(range(idx + 1, min(idx + 1 + n, len(argv))))


@command("sintercard", -3, "readonly movablekeys", 0, 0, 0, group="set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def sintercard(c: Client, argv: list[bytes]) -> Any:
    """SINTERCARD numkeys key [key ...] [LIMIT limit]"""
    msg = "ERR numkeys should be greater than 0"
    numkeys = parse_int(argv[1], msg)
    if numkeys < 1:
        raise CommandError(msg)
    if numkeys > len(argv) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    j = 2 + numkeys
    while j < len(argv):
        if argv[j].upper() == b"LIMIT" and j + 1 < len(argv):
            j += 1
            lmsg = "ERR LIMIT can't be negative"
            limit = parse_int(argv[j], lmsg)
            if limit < 0:
                raise CommandError(lmsg)
        else:
            raise CommandError(SYNTAX)
        j += 1
    members = _inter(_load_sets(c, argv[2 : 2 + numkeys]), limit)
    return len(members or [])


def _union_diff(c: Client, keys: list[bytes], dst: bytes | None, diff: bool) -> Any:
    sets = _load_sets(c, keys)
    lim = Limits(c.engine)
    result = SetValue(INTSET)
    if not diff:
        for s in sets:
            if s is not None:
                result.add_many(s, lim)
    elif sets[0] is not None and not any(s is sets[0] for s in sets[1:]):
        first = sets[0]
        others = [s for s in sets[1:] if s is not None]
        algo_one = sum(len(first) for s in sets if s is not None) // 2
        algo_two = sum(len(s) for s in sets if s is not None)
        if algo_one <= algo_two:
            others.sort(key=len, reverse=True)
            for m in first:
                if not any(m in o for o in others):
                    result.add(m, lim)
        else:
            result.add_many(first, lim)
            for o in others:
                for m in o:
                    result.remove(m)
                if not len(result):
                    break
    if dst is None:
        return RespSet(result.members())
    return _store(c, dst, result, b"sdiffstore" if diff else b"sunionstore")


@command("sunion", -2, "readonly", 1, -1, 1, group="set")
def sunion(c: Client, argv: list[bytes]) -> Any:
    """SUNION key [key ...]"""
    return _union_diff(c, argv[1:], None, False)


@command("sunionstore", -3, "write denyoom", 1, -1, 1, group="set")
def sunionstore(c: Client, argv: list[bytes]) -> Any:
    """SUNIONSTORE destination key [key ...]"""
    return _union_diff(c, argv[2:], argv[1], False)


@command("sdiff", -2, "readonly", 1, -1, 1, group="set")
def sdiff(c: Client, argv: list[bytes]) -> Any:
    """SDIFF key [key ...]"""
    return _union_diff(c, argv[1:], None, True)


@command("sdiffstore", -3, "write denyoom", 1, -1, 1, group="set")
def sdiffstore(c: Client, argv: list[bytes]) -> Any:
    """SDIFFSTORE destination key [key ...]"""
    return _union_diff(c, argv[2:], argv[1], True)


# -- scan -----------------------------------------------------------------------------


@command("sscan", -3, "readonly", 1, 1, 1, group="set")
def sscan(c: Client, argv: list[bytes]) -> Any:
    """SSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_cursor(argv[2])
    s = _get(c, argv[1])
    if s is None:
        return [b"0", []]
    count, pat, _, _ = parse_scan_options(argv, 3, "sscan")
    if s.enc != HASHTABLE:  # compact encodings answer everything at once, as Redis
        found = s.members()
        nxt = 0
    else:
        nxt, found = scan_page(s, "scan_index", s.d, cursor, count)
    if pat is not None:
        found = [m for m in found if match(pat, m)]
    return [str(nxt).encode(), found]
