"""List commands (group "list"): pushes and pops at both ends, ranges, LPOS,
LMOVE, LMPOP and the blocking BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP.

Blocking pops that find something propagate as their non-blocking forms
(``BLPOP`` -> ``LPOP key``, ``BLMOVE`` -> ``LMOVE``, ``BLMPOP`` -> ``LPOP key n``), as
Redis does; keys emptied by a pop are deleted.
"""

from __future__ import annotations

from typing import Any

from ..args import LLONG_MAX, parse_int
from ..client import Client
from ..database import Database
from ..errors import SYNTAX, CommandError
from ..registry import command
from ..replies import NULL_ARRAY, OK
from ..types.config import conf_int
from ..types.list import ListValue
from .bpop import any_ready, block, no_blocking, parse_timeout

LEFT, RIGHT = True, False


def _fill(c: Client) -> int:
    return conf_int(c.engine, "list-max-listpack-size", -2)


def _get(c: Client, key: bytes) -> ListValue | None:
    v: ListValue | None = c.db.get_typed(key, ListValue)
    return v


def _where(arg: bytes) -> bool:
    """LEFT/RIGHT (``getListPositionFromObjectOrReply``)."""
    a = arg.upper()
    if a == b"LEFT":
        return LEFT
    if a == b"RIGHT":
        return RIGHT
    raise CommandError(SYNTAX)


def _positive_count(arg: bytes, msg: str = "ERR value is out of range, must be positive") -> int:
    """``getPositiveLongFromObjectOrReply``: 0..LONG_MAX, one message for every failure."""
    v = parse_int(arg, msg)
    if v < 0:
        raise CommandError(msg)
    return v


def _range_count(arg: bytes, lo: int, msg: str) -> int:
    """``getRangeLongFromObjectOrReply(lo, LONG_MAX)`` with a custom message."""
    v = parse_int(arg, msg)
    if v < lo:
        raise CommandError(msg)
    return v


def _removed(c: Client, key: bytes, lst: ListValue) -> None:
    """After elements left ``lst`` (``listElementsRemoved``): delete it when empty,
    else maybe convert back to a listpack; signal the key either way."""
    if not lst.items:
        c.db.remove(key)
    else:
        lst.shrink_check(_fill(c))
        c.db.touch(key)


def _push_into(c: Client, key: bytes, lst: ListValue | None, values: list[bytes], left: bool) -> ListValue:
    """Push ``values`` one by one (each to the head for LPUSH), creating the list."""
    fill = _fill(c)
    created = lst is None
    if lst is None:
        lst = ListValue()
    lst.grow_check(fill, values)
    for v in values:
        lst.push(v, left)
    if created:
        c.db.set(key, lst)
    else:
        c.db.touch(key)
    return lst


# -- pushes ----------------------------------------------------------------------


def _push(c: Client, argv: list[bytes], left: bool) -> int:
    key = argv[1]
    lst = _get(c, key)
    return len(_push_into(c, key, lst, argv[2:], left))


@command("lpush", -3, "write denyoom fast", 1, 1, 1, group="list")
def lpush(c: Client, argv: list[bytes]) -> Any:
    """LPUSH key element [element ...]"""
    return _push(c, argv, LEFT)


@command("rpush", -3, "write denyoom fast", 1, 1, 1, group="list")
def rpush(c: Client, argv: list[bytes]) -> Any:
    """RPUSH key element [element ...]"""
    return _push(c, argv, RIGHT)


def _pushx(c: Client, argv: list[bytes], left: bool) -> int:
    key = argv[1]
    lst = _get(c, key)
    if lst is None:
        return 0
    return len(_push_into(c, key, lst, argv[2:], left))


@command("lpushx", -3, "write denyoom fast", 1, 1, 1, group="list")
def lpushx(c: Client, argv: list[bytes]) -> Any:
    """LPUSHX key element [element ...]"""
    return _pushx(c, argv, LEFT)


@command("rpushx", -3, "write denyoom fast", 1, 1, 1, group="list")
def rpushx(c: Client, argv: list[bytes]) -> Any:
    """RPUSHX key element [element ...]"""
    return _pushx(c, argv, RIGHT)


@command("linsert", 5, "write denyoom", 1, 1, 1, group="list")
def linsert(c: Client, argv: list[bytes]) -> Any:
    """LINSERT key <BEFORE | AFTER> pivot element"""
    w = argv[2].upper()
    if w == b"AFTER":
        after = True
    elif w == b"BEFORE":
        after = False
    else:
        raise CommandError(SYNTAX)
    key = argv[1]
    lst = _get(c, key)
    if lst is None:
        return 0
    lst.grow_check(_fill(c), (argv[4],))
    pivot = argv[3]
    for i, x in enumerate(lst.items):
        if x == pivot:
            lst.insert(i + 1 if after else i, argv[4])
            c.db.touch(key)
            return len(lst)
    return -1


# -- reading -----------------------------------------------------------------------


@command("llen", 2, "readonly fast", 1, 1, 1, group="list")
def llen(c: Client, argv: list[bytes]) -> Any:
    """LLEN key"""
    lst = _get(c, argv[1])
    return 0 if lst is None else len(lst)


@command("lindex", 3, "readonly", 1, 1, 1, group="list")
def lindex(c: Client, argv: list[bytes]) -> Any:
    """LINDEX key index"""
    lst = _get(c, argv[1])
    if lst is None:
        return None
    return lst.index(parse_int(argv[2]))


def _clamp(start: int, end: int, n: int) -> tuple[int, int] | None:
    """Redis's index sanitising for LRANGE/LTRIM/ZRANGE: None when the range is empty."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return None
    if end >= n:
        end = n - 1
    return start, end


@command("lrange", 4, "readonly", 1, 1, 1, group="list")
def lrange(c: Client, argv: list[bytes]) -> Any:
    """LRANGE key start stop"""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    lst = _get(c, argv[1])
    if lst is None:
        return []
    r = _clamp(start, end, len(lst))
    if r is None:
        return []
    return lst.range(*r)


@command("lpos", -3, "readonly", 1, 1, 1, group="list")
def lpos(c: Client, argv: list[bytes]) -> Any:
    """LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]"""
    ele = argv[2]
    rank, count, maxlen = 1, -1, 0
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].upper()
        more = j + 1 < n
        if opt == b"RANK" and more:
            j += 1
            rank = parse_int(argv[j])
            if rank < -LLONG_MAX:
                raise CommandError(
                    f"ERR value is out of range, value must between {-LLONG_MAX} and {LLONG_MAX}"
                )
            if rank == 0:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list"
                )
        elif opt == b"COUNT" and more:
            j += 1
            count = _positive_count(argv[j], "ERR COUNT can't be negative")
        elif opt == b"MAXLEN" and more:
            j += 1
            maxlen = _positive_count(argv[j], "ERR MAXLEN can't be negative")
        else:
            raise CommandError(SYNTAX)
        j += 1
    forward = rank > 0
    rank = abs(rank)
    lst = _get(c, argv[1])
    if lst is None:
        return [] if count != -1 else None
    items = lst.items
    llen = len(items)
    seq = iter(items) if forward else reversed(items)
    matches = 0
    found: list[int] = []
    for index, x in enumerate(seq):
        if maxlen and index >= maxlen:
            break
        if x == ele:
            matches += 1
            if matches >= rank:
                pos = index if forward else llen - index - 1
                if count == -1:
                    return pos
                found.append(pos)
                if count and matches - rank + 1 >= count:
                    break
    return found if count != -1 else None


# -- changes -------------------------------------------------------------------------


@command("lset", 4, "write denyoom", 1, 1, 1, group="list")
def lset(c: Client, argv: list[bytes]) -> Any:
    """LSET key index element"""
    key = argv[1]
    lst = _get(c, key)
    if lst is None:
        raise CommandError("ERR no such key")
    index = parse_int(argv[2])
    # Redis converts before it looks at the index (lsetCommand calls
    # listTypeTryConversionAppend first): a big element turns the list into a
    # quicklist even when the index is out of range and nothing is set.
    fill = _fill(c)
    lst.grow_check(fill, (argv[3],))
    n = len(lst)
    i = index + n if index < 0 else index
    if i < 0 or i >= n:
        raise CommandError("ERR index out of range")
    lst.set(i, argv[3])
    lst.shrink_check(fill)
    c.db.touch(key)
    return OK


@command("lrem", 4, "write", 1, 1, 1, group="list")
def lrem(c: Client, argv: list[bytes]) -> Any:
    """LREM key count element"""
    toremove = parse_int(argv[2])
    key = argv[1]
    lst = _get(c, key)
    if lst is None:
        return 0
    ele = argv[3]
    items = lst.items
    removed = 0
    if toremove == 0:
        keep = [x for x in items if x != ele]
        removed = len(items) - len(keep)
        if removed:
            lst.replace_all(keep)
    else:
        limit = abs(toremove)
        seq = list(items) if toremove > 0 else list(reversed(items))
        out: list[bytes] = []
        for x in seq:
            if removed < limit and x == ele:
                removed += 1
            else:
                out.append(x)
        if removed:
            if toremove < 0:
                out.reverse()
            lst.replace_all(out)
    if removed:
        _removed(c, key, lst)
    return removed


@command("ltrim", 4, "write", 1, 1, 1, group="list")
def ltrim(c: Client, argv: list[bytes]) -> Any:
    """LTRIM key start stop"""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    key = argv[1]
    lst = _get(c, key)
    if lst is None:
        return OK
    n = len(lst)
    r = _clamp(start, end, n)
    if r is None:
        ltrim_n, rtrim_n = n, 0
    else:
        ltrim_n, rtrim_n = r[0], n - r[1] - 1
    lst.trim(ltrim_n, rtrim_n)
    _removed(c, key, lst)
    if ltrim_n + rtrim_n == 0:
        c.engine.rewrite(c)  # signalled (WATCH) but not a change: Redis propagates nothing
    return OK


# -- pops ------------------------------------------------------------------------------


def _pop(c: Client, argv: list[bytes], left: bool) -> Any:
    if len(argv) > 3:
        raise CommandError(f"ERR wrong number of arguments for '{argv[0].decode().lower()}' command")
    key = argv[1]
    has_count = len(argv) == 3
    count = _positive_count(argv[2]) if has_count else 1
    lst = _get(c, key)
    if lst is None:
        return NULL_ARRAY if has_count else None
    if has_count and count == 0:
        return []
    n = min(count, len(lst))
    out = [lst.pop(left) for _ in range(n)]
    _removed(c, key, lst)
    return out if has_count else out[0]


@command("lpop", -2, "write fast", 1, 1, 1, group="list")
def lpop(c: Client, argv: list[bytes]) -> Any:
    """LPOP key [count]"""
    return _pop(c, argv, LEFT)


@command("rpop", -2, "write fast", 1, 1, 1, group="list")
def rpop(c: Client, argv: list[bytes]) -> Any:
    """RPOP key [count]"""
    return _pop(c, argv, RIGHT)


def _move(c: Client, src: bytes, dst: bytes, wherefrom: bool, whereto: bool) -> Any:
    """``lmoveGenericCommand``: None when the source is missing."""
    slst = _get(c, src)
    if slst is None or not slst.items:
        return None
    dlst = _get(c, dst)
    v = slst.pop(wherefrom)
    if dlst is None and src == dst:
        dlst = slst
    _push_into(c, dst, dlst, [v], whereto)
    _removed(c, src, slst)
    return v


@command("lmove", 5, "write denyoom", 1, 2, 1, group="list")
def lmove(c: Client, argv: list[bytes]) -> Any:
    """LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT>"""
    wherefrom = _where(argv[3])
    whereto = _where(argv[4])
    return _move(c, argv[1], argv[2], wherefrom, whereto)


@command("rpoplpush", 3, "write denyoom", 1, 2, 1, group="list")
def rpoplpush(c: Client, argv: list[bytes]) -> Any:
    """RPOPLPUSH source destination"""
    return _move(c, argv[1], argv[2], RIGHT, LEFT)


def _mpop_keys(argv: list[bytes], numkeys_idx: int) -> list[int]:
    try:
        n = int(argv[numkeys_idx])
    except (ValueError, IndexError):
        return []
    if n <= 0:
        return []
    first = numkeys_idx + 1
    return list(range(first, min(first + n, len(argv))))


def _parse_mpop(
    argv: list[bytes], numkeys_idx: int, words: dict[bytes, bool]
) -> tuple[list[bytes], bool, int]:
    """``numkeys key.. <where> [COUNT n]`` of LMPOP/BLMPOP/ZMPOP/BZMPOP."""
    numkeys = _range_count(argv[numkeys_idx], 1, "ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= len(argv):
        raise CommandError(SYNTAX)
    where = words.get(argv[where_idx].upper())
    if where is None:
        raise CommandError(SYNTAX)
    count = -1
    j = where_idx + 1
    while j < len(argv):
        if count == -1 and argv[j].upper() == b"COUNT" and j + 1 < len(argv):
            j += 1
            count = _range_count(argv[j], 1, "ERR count should be greater than 0")
        else:
            raise CommandError(SYNTAX)
        j += 1
    return argv[numkeys_idx + 1 : where_idx], where, (1 if count == -1 else count)


_LR = {b"LEFT": LEFT, b"RIGHT": RIGHT}


def _serve_mpop(c: Client, keys: list[bytes], left: bool, count: int) -> Any:
    """Pop up to ``count`` from the first non-empty list: ``[key, [elements]]`` or None."""
    for key in keys:
        lst = _get(c, key)
        if lst is None or not lst.items:
            continue
        n = min(count, len(lst))
        out = [lst.pop(left) for _ in range(n)]
        _removed(c, key, lst)
        c.engine.rewrite(c, [b"LPOP" if left else b"RPOP", key, str(n).encode()])
        return [key, out]
    return None


@command("lmpop", -4, "write movablekeys", 0, 0, 0, group="list",
         keys_fn=lambda argv: _mpop_keys(argv, 1))
def lmpop(c: Client, argv: list[bytes]) -> Any:
    """LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"""
    keys, left, count = _parse_mpop(argv, 1, _LR)
    r = _serve_mpop(c, keys, left, count)
    return NULL_ARRAY if r is None else r


# -- blocking --------------------------------------------------------------------------


def _is_nonempty_list(v: Any) -> bool:
    return type(v) is ListValue and len(v) > 0


def _bpop(c: Client, argv: list[bytes], left: bool) -> Any:
    deadline = parse_timeout(c, argv[-1])
    keys = argv[1:-1]
    if c.blocked is not None and not any_ready(c, keys, _is_nonempty_list):
        return block(c, keys, argv, deadline)
    for key in keys:
        lst = _get(c, key)
        if lst is None or not lst.items:
            continue
        v = lst.pop(left)
        _removed(c, key, lst)
        c.engine.rewrite(c, [b"LPOP" if left else b"RPOP", key])
        return [key, v]
    if no_blocking(c):
        return NULL_ARRAY
    return block(c, keys, argv, deadline)


@command("blpop", -3, "write blocking", 1, -2, 1, group="list")
def blpop(c: Client, argv: list[bytes]) -> Any:
    """BLPOP key [key ...] timeout"""
    return _bpop(c, argv, LEFT)


@command("brpop", -3, "write blocking", 1, -2, 1, group="list")
def brpop(c: Client, argv: list[bytes]) -> Any:
    """BRPOP key [key ...] timeout"""
    return _bpop(c, argv, RIGHT)


def _bmove(c: Client, argv: list[bytes], wherefrom: bool, whereto: bool, tidx: int) -> Any:
    deadline = parse_timeout(c, argv[tidx])
    src, dst = argv[1], argv[2]
    if c.blocked is not None and not any_ready(c, (src,), _is_nonempty_list):
        return block(c, (src,), argv, deadline)
    slst = _get(c, src)
    if slst is None:
        if no_blocking(c):
            return None
        return block(c, (src,), argv, deadline)
    v = _move(c, src, dst, wherefrom, whereto)
    if tidx == 5:
        c.engine.rewrite(c, [b"LMOVE", src, dst, argv[3], argv[4]])
    else:
        c.engine.rewrite(c, [b"RPOPLPUSH", src, dst])
    return v


@command("blmove", 6, "write denyoom blocking", 1, 2, 1, group="list")
def blmove(c: Client, argv: list[bytes]) -> Any:
    """BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout"""
    wherefrom = _where(argv[3])
    whereto = _where(argv[4])
    return _bmove(c, argv, wherefrom, whereto, 5)


@command("brpoplpush", 4, "write denyoom blocking", 1, 2, 1, group="list")
def brpoplpush(c: Client, argv: list[bytes]) -> Any:
    """BRPOPLPUSH source destination timeout"""
    return _bmove(c, argv, RIGHT, LEFT, 3)


@command("blmpop", -5, "write blocking movablekeys", 0, 0, 0, group="list",
         keys_fn=lambda argv: _mpop_keys(argv, 2))
def blmpop(c: Client, argv: list[bytes]) -> Any:
    """BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]"""
    keys, left, count = _parse_mpop(argv, 2, _LR)
    deadline = parse_timeout(c, argv[1])
    if c.blocked is not None and not any_ready(c, keys, _is_nonempty_list):
        return block(c, keys, argv, deadline)
    r = _serve_mpop(c, keys, left, count)
    if r is not None:
        return r
    if no_blocking(c):
        return NULL_ARRAY
    return block(c, keys, argv, deadline)


def db_list(db: Database, key: bytes) -> ListValue | None:
    """The list at ``key`` (for other modules), WRONGTYPE if it is not one."""
    v: ListValue | None = db.get_typed(key, ListValue)
    return v
