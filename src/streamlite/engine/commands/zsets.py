"""Sorted-set commands (group "sorted-set"): ZADD and friends, the ZRANGE family
(by rank, score and lex, reversed, limited, stored), removals by range, pops
(ZPOPMIN/ZPOPMAX/ZMPOP and the blocking BZPOPMIN/BZPOPMAX/BZMPOP), random
members, the algebra (ZUNION/ZINTER/ZDIFF, STORE forms, ZINTERCARD), ZSCAN.

Scores reply as Redis prints them: RESP2 bulk strings in ``d2string`` form,
RESP3 doubles. Blocking pops that find something propagate as ZPOPMIN/ZPOPMAX.
"""

from __future__ import annotations

import math
import random
from typing import Any

from ..args import LLONG_MAX, parse_int
from ..client import Client
from ..errors import SYNTAX, WRONGTYPE, CommandError
from ..glob import match
from ..notify import notify, overwritten, read_miss
from ..registry import command
from ..replies import NULL_ARRAY, Double
from ..scan import parse_cursor, scan_page
from ..types.scores import fast_strtod, format_score, parse_score
from ..types.set import SetValue
from ..types.zset import LexBound, Limits, ZSetValue
from .bpop import any_ready, block, no_blocking, parse_timeout
from .keys import parse_scan_options

NAN_ERR = "ERR resulting score is not a number (NaN)"
NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"
POSITIVE = "ERR value is out of range, must be positive"
RANGE_MSG = f"ERR value is out of range, value must between {-LLONG_MAX} and {LLONG_MAX}"


def _get(c: Client, key: bytes) -> ZSetValue | None:
    v: ZSetValue | None = c.db.get_typed(key, ZSetValue)
    return v


def _score(c: Client, s: float) -> Any:
    """One score as a reply: RESP3 double, RESP2 bulk string."""
    return Double(s) if c.protocol == 3 else format_score(s)


def _with_scores(c: Client, items: list[tuple[float, bytes]]) -> list[Any]:
    """``member, score`` pairs: flat in RESP2, nested pairs in RESP3."""
    if c.protocol == 3:
        return [[m, Double(s)] for s, m in items]
    out: list[Any] = []
    for s, m in items:
        out.append(m)
        out.append(format_score(s))
    return out


def _after_remove(c: Client, key: bytes, z: ZSetValue, event: bytes) -> None:
    notify(c, "z", event, key)
    if len(z) == 0:
        c.db.remove(key)
        notify(c, "g", b"del", key)
    else:
        c.db.touch(key)


def _positive(arg: bytes, msg: str = POSITIVE) -> int:
    v = parse_int(arg, msg)
    if v < 0:
        raise CommandError(msg)
    return v


# -- ranges ---------------------------------------------------------------------------


class ScoreRange:
    __slots__ = ("lo", "lo_ex", "hi", "hi_ex")

    def __init__(self, lo: float, lo_ex: bool, hi: float, hi_ex: bool) -> None:
        self.lo, self.lo_ex, self.hi, self.hi_ex = lo, lo_ex, hi, hi_ex

    @classmethod
    def parse(cls, lo: bytes, hi: bytes) -> ScoreRange:
        """``zslParseRange``: ``(`` makes an end open; else NOT_FLOAT_RANGE."""
        a = _range_end(lo)
        b = _range_end(hi)
        return cls(a[0], a[1], b[0], b[1])

    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and (self.lo_ex or self.hi_ex))

    def bounds(self, z: ZSetValue) -> tuple[int, int]:
        if self.empty():
            return 0, 0
        return z.score_bounds(self.lo, self.lo_ex, self.hi, self.hi_ex)


def _range_end(b: bytes) -> tuple[float, bool]:
    ex = b[:1] == b"("
    v = fast_strtod(b[1:] if ex else b)
    if v is None or math.isnan(v):
        raise CommandError(NOT_FLOAT_RANGE)
    return v, ex


def _lex_range(lo: bytes, hi: bytes) -> tuple[LexBound, LexBound]:
    a = LexBound.parse(lo)
    b = LexBound.parse(hi)
    if a is None or b is None:
        raise CommandError(NOT_LEX_RANGE)
    return a, b


def _rank_bounds(start: int, end: int, n: int) -> tuple[int, int] | None:
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


# -- ZADD -----------------------------------------------------------------------------

_ZADD_FLAGS = {b"NX", b"XX", b"CH", b"INCR", b"GT", b"LT"}


def _zadd(c: Client, argv: list[bytes], flags: set[bytes], scoreidx: int) -> Any:
    elements = len(argv) - scoreidx
    if elements % 2 or not elements:
        raise CommandError(SYNTAX)
    elements //= 2
    nx, xx, gt, lt = b"NX" in flags, b"XX" in flags, b"GT" in flags, b"LT" in flags
    incr, ch = b"INCR" in flags, b"CH" in flags
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 1:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    pairs = [
        (parse_score(argv[scoreidx + 2 * j]), argv[scoreidx + 2 * j + 1]) for j in range(elements)
    ]
    key = argv[1]
    z = _get(c, key)
    lim = Limits(c.engine)
    dirty = c.engine.dirty
    created = False
    if z is None:
        if xx:
            return None if incr else 0
        # Redis sizes a new or growing zset by the pair count only (member lengths
        # are checked one by one as members go in)
        z = ZSetValue.create(elements, 0, lim)
        created = True
    else:
        z.maybe_convert(elements, 0, lim)
    added = updated = processed = 0
    score = 0.0
    for score, m in pairs:
        cur = z.score(m)
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if math.isnan(score):
                    raise CommandError(NAN_ERR)
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            processed += 1
            if score != cur:
                z.update(m, score)
                updated += 1
        elif not xx:
            z.insert(m, score, lim)
            added += 1
            processed += 1
    if created:
        if len(z):
            c.db.set(key, z)
    elif added or updated:
        c.db.touch(key)
    if added or updated:
        notify(c, "z", b"zincr" if incr else b"zadd", key)
        c.engine.dirty = dirty + added + updated  # Redis counts each member added or updated
    if incr:
        return _score(c, score) if processed else None
    return added + updated if ch else added


@command("zadd", -4, "write denyoom fast", 1, 1, 1, group="sorted-set")
def zadd(c: Client, argv: list[bytes]) -> Any:
    """ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]"""
    flags: set[bytes] = set()
    i = 2
    while i < len(argv):
        w = argv[i].upper()
        if w not in _ZADD_FLAGS:
            break
        flags.add(w)
        i += 1
    return _zadd(c, argv, flags, i)


@command("zincrby", 4, "write denyoom fast", 1, 1, 1, group="sorted-set")
def zincrby(c: Client, argv: list[bytes]) -> Any:
    """ZINCRBY key increment member"""
    return _zadd(c, argv, {b"INCR"}, 2)


# -- reading ----------------------------------------------------------------------------


@command("zcard", 2, "readonly fast", 1, 1, 1, group="sorted-set")
def zcard(c: Client, argv: list[bytes]) -> Any:
    """ZCARD key"""
    z = _get(c, argv[1])
    return 0 if z is None else len(z)


@command("zscore", 3, "readonly fast", 1, 1, 1, group="sorted-set")
def zscore(c: Client, argv: list[bytes]) -> Any:
    """ZSCORE key member"""
    z = _get(c, argv[1])
    s = None if z is None else z.score(argv[2])
    return None if s is None else _score(c, s)


@command("zmscore", -3, "readonly fast", 1, 1, 1, group="sorted-set")
def zmscore(c: Client, argv: list[bytes]) -> Any:
    """ZMSCORE key member [member ...]"""
    z = _get(c, argv[1])
    out: list[Any] = []
    for m in argv[2:]:
        s = None if z is None else z.score(m)
        out.append(None if s is None else _score(c, s))
    return out


@command("zcount", 4, "readonly fast", 1, 1, 1, group="sorted-set")
def zcount(c: Client, argv: list[bytes]) -> Any:
    """ZCOUNT key min max"""
    r = ScoreRange.parse(argv[2], argv[3])
    z = _get(c, argv[1])
    if z is None:
        return 0
    i, j = r.bounds(z)
    return j - i


@command("zlexcount", 4, "readonly fast", 1, 1, 1, group="sorted-set")
def zlexcount(c: Client, argv: list[bytes]) -> Any:
    """ZLEXCOUNT key min max"""
    lo, hi = _lex_range(argv[2], argv[3])
    z = _get(c, argv[1])
    if z is None:
        return 0
    i, j = z.lex_bounds(lo, hi)
    return j - i


def _rank(c: Client, argv: list[bytes], rev: bool) -> Any:
    if len(argv) > 4:
        raise CommandError(f"ERR wrong number of arguments for '{argv[0].decode().lower()}' command")
    withscore = False
    if len(argv) == 4:
        if argv[3].lower() != b"withscore":
            raise CommandError(SYNTAX)
        withscore = True
    z = _get(c, argv[1])
    r = None if z is None else z.rank(argv[2])
    if r is None or z is None:
        return NULL_ARRAY if withscore else None
    if rev:
        r = len(z) - 1 - r
    if withscore:
        return [r, _score(c, z.scores[argv[2]])]
    return r


@command("zrank", -3, "readonly fast", 1, 1, 1, group="sorted-set")
def zrank(c: Client, argv: list[bytes]) -> Any:
    """ZRANK key member [WITHSCORE]"""
    return _rank(c, argv, False)


@command("zrevrank", -3, "readonly fast", 1, 1, 1, group="sorted-set")
def zrevrank(c: Client, argv: list[bytes]) -> Any:
    """ZREVRANK key member [WITHSCORE]"""
    return _rank(c, argv, True)


# -- the ZRANGE family -------------------------------------------------------------------

RANK, SCORE, LEX = 0, 1, 2
_ZREMRANGE_EVENTS = {RANK: b"zremrangebyrank", SCORE: b"zremrangebyscore", LEX: b"zremrangebylex"}


def _zrange(
    c: Client,
    argv: list[bytes],
    argc_start: int,
    store: bytes | None,
    rangetype: int | None,
    rev: bool | None,
) -> Any:
    """``zrangeGenericCommand``: argv[argc_start] is the source key, then min and max."""
    key = argv[argc_start]
    minidx, maxidx = argc_start + 1, argc_start + 2
    withscores = False
    offset, limit = 0, -1
    j = argc_start + 3
    n = len(argv)
    while j < n:
        w = argv[j].lower()
        left = n - j - 1
        if store is None and w == b"withscores":
            withscores = True
        elif w == b"limit" and left >= 2:
            offset = parse_int(argv[j + 1])
            limit = parse_int(argv[j + 2])
            j += 2
        elif rev is None and w == b"rev":
            rev = True
        elif rangetype is None and w == b"bylex":
            rangetype = LEX
        elif rangetype is None and w == b"byscore":
            rangetype = SCORE
        else:
            raise CommandError(SYNTAX)
        j += 1
    rev = bool(rev)
    if rangetype is None:
        rangetype = RANK
    if limit != -1 and rangetype == RANK:
        raise CommandError(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    if withscores and rangetype == LEX:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    if rev and rangetype != RANK:
        minidx, maxidx = maxidx, minidx
    if rangetype == RANK:
        start = parse_int(argv[minidx])
        end = parse_int(argv[maxidx])
    elif rangetype == SCORE:
        srange = ScoreRange.parse(argv[minidx], argv[maxidx])
    else:
        lo, hi = _lex_range(argv[minidx], argv[maxidx])
    z = _get(c, key)
    read_miss(c, key, z)
    items: list[tuple[float, bytes]] = []
    if z is not None:
        if rangetype == RANK:
            b = _rank_bounds(start, end, len(z))
            if b is not None:
                items = z.by_rank(b[0], b[1], rev)
        else:
            if rangetype == SCORE:
                i, k = srange.bounds(z)
            else:
                i, k = z.lex_bounds(lo, hi, rev)
            if offset < 0 or (offset > 0 and offset >= len(z)):
                i = k
            items = _slice(z, i, k, rev, offset, limit)
    if store is not None:
        if not items:
            if c.db.delete(store):
                notify(c, "g", b"del", store)
            return 0
        lim = Limits(c.engine)
        old = c.db.peek(store)
        new = ZSetValue.build(((m, s) for s, m in items), lim)
        c.db.set(store, new)
        overwritten(c, store, old, new)
        notify(c, "z", b"zrangestore", store)
        return len(items)
    if withscores:
        return _with_scores(c, items)
    return [m for _, m in items]


def _slice(
    z: ZSetValue, i: int, k: int, rev: bool, offset: int, limit: int
) -> list[tuple[float, bytes]]:
    """Items [i, k) in order (or reversed), skipping ``offset``, at most ``limit`` (<0: all)."""
    if k <= i:
        return []
    if rev:
        hi = k - offset
        lo = i if limit < 0 else max(i, hi - limit)
        if hi <= lo:
            return []
        return list(z.sl.islice(lo, hi, reverse=True))
    lo = i + offset
    hi = k if limit < 0 else min(k, lo + limit)
    if hi <= lo:
        return []
    return list(z.sl.islice(lo, hi))


@command("zrange", -4, "readonly", 1, 1, 1, group="sorted-set")
def zrange(c: Client, argv: list[bytes]) -> Any:
    """ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"""
    return _zrange(c, argv, 1, None, None, None)


@command("zrangestore", -5, "write denyoom", 1, 2, 1, group="sorted-set")
def zrangestore(c: Client, argv: list[bytes]) -> Any:
    """ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]"""
    return _zrange(c, argv, 2, argv[1], None, None)


@command("zrevrange", -4, "readonly", 1, 1, 1, group="sorted-set")
def zrevrange(c: Client, argv: list[bytes]) -> Any:
    """ZREVRANGE key start stop [WITHSCORES]"""
    return _zrange(c, argv, 1, None, RANK, True)


@command("zrangebyscore", -4, "readonly", 1, 1, 1, group="sorted-set")
def zrangebyscore(c: Client, argv: list[bytes]) -> Any:
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]"""
    return _zrange(c, argv, 1, None, SCORE, False)


@command("zrevrangebyscore", -4, "readonly", 1, 1, 1, group="sorted-set")
def zrevrangebyscore(c: Client, argv: list[bytes]) -> Any:
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]"""
    return _zrange(c, argv, 1, None, SCORE, True)


@command("zrangebylex", -4, "readonly", 1, 1, 1, group="sorted-set")
def zrangebylex(c: Client, argv: list[bytes]) -> Any:
    """ZRANGEBYLEX key min max [LIMIT offset count]"""
    return _zrange(c, argv, 1, None, LEX, False)


@command("zrevrangebylex", -4, "readonly", 1, 1, 1, group="sorted-set")
def zrevrangebylex(c: Client, argv: list[bytes]) -> Any:
    """ZREVRANGEBYLEX key max min [LIMIT offset count]"""
    return _zrange(c, argv, 1, None, LEX, True)


# -- removal ------------------------------------------------------------------------------


@command("zrem", -3, "write fast", 1, 1, 1, group="sorted-set")
def zrem(c: Client, argv: list[bytes]) -> Any:
    """ZREM key member [member ...]"""
    key = argv[1]
    z = _get(c, key)
    if z is None:
        return 0
    deleted = 0
    for m in argv[2:]:
        if z.remove(m):
            deleted += 1
            if len(z) == 0:
                break
    if deleted:
        _after_remove(c, key, z, b"zrem")
    return deleted


def _zremrange(c: Client, argv: list[bytes], rangetype: int) -> Any:
    if rangetype == RANK:
        start = parse_int(argv[2])
        end = parse_int(argv[3])
    elif rangetype == SCORE:
        srange = ScoreRange.parse(argv[2], argv[3])
    else:
        lo, hi = _lex_range(argv[2], argv[3])
    key = argv[1]
    z = _get(c, key)
    if z is None:
        return 0
    if rangetype == RANK:
        b = _rank_bounds(start, end, len(z))
        if b is None:
            return 0
        i, k = b[0], b[1] + 1
    elif rangetype == SCORE:
        i, k = srange.bounds(z)
    else:
        i, k = z.lex_bounds(lo, hi)
    deleted = z.delete_index_range(i, k)
    if deleted:
        _after_remove(c, key, z, _ZREMRANGE_EVENTS[rangetype])
    return deleted


@command("zremrangebyrank", 4, "write", 1, 1, 1, group="sorted-set")
def zremrangebyrank(c: Client, argv: list[bytes]) -> Any:
    """ZREMRANGEBYRANK key start stop"""
    return _zremrange(c, argv, RANK)


@command("zremrangebyscore", 4, "write", 1, 1, 1, group="sorted-set")
def zremrangebyscore(c: Client, argv: list[bytes]) -> Any:
    """ZREMRANGEBYSCORE key min max"""
    return _zremrange(c, argv, SCORE)


@command("zremrangebylex", 4, "write", 1, 1, 1, group="sorted-set")
def zremrangebylex(c: Client, argv: list[bytes]) -> Any:
    """ZREMRANGEBYLEX key min max"""
    return _zremrange(c, argv, LEX)


# -- pops -----------------------------------------------------------------------------------


def _pop_items(c: Client, key: bytes, z: ZSetValue, count: int, last: bool) -> list[tuple[float, bytes]]:
    n = min(count, len(z))
    items = [z.pop(last) for _ in range(n)]
    _after_remove(c, key, z, b"zpopmax" if last else b"zpopmin")
    return items


def _zpop(c: Client, argv: list[bytes], last: bool) -> Any:
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    count = _positive(argv[2]) if len(argv) == 3 else -1
    key = argv[1]
    z = _get(c, key)
    if z is None or count == 0:
        return []
    items = _pop_items(c, key, z, 1 if count == -1 else count, last)
    if c.protocol == 3 and count != -1:
        return [[m, Double(s)] for s, m in items]
    out: list[Any] = []
    for s, m in items:
        out.append(m)
        out.append(_score(c, s))
    return out


@command("zpopmin", -2, "write fast", 1, 1, 1, group="sorted-set")
def zpopmin(c: Client, argv: list[bytes]) -> Any:
    """ZPOPMIN key [count]"""
    return _zpop(c, argv, False)


@command("zpopmax", -2, "write fast", 1, 1, 1, group="sorted-set")
def zpopmax(c: Client, argv: list[bytes]) -> Any:
    """ZPOPMAX key [count]"""
    return _zpop(c, argv, True)


def _numkeys_keys(argv: list[bytes], idx: int) -> list[int]:
    try:
        n = int(argv[idx])
    except (ValueError, IndexError):
        return []
    if n <= 0:
        return []
    return list(range(idx + 1, min(idx + 1 + n, len(argv))))


_MINMAX = {b"MIN": False, b"MAX": True}


def _serve_mpop(c: Client, keys: list[bytes], last: bool, count: int, blocking: bool) -> Any:
    """Pop from the first non-empty zset: ``[key, [[member, score], ...]]`` or None."""
    for key in keys:
        z = _get(c, key)
        if z is None:
            continue
        if blocking and not len(z):
            continue
        llen = len(z)
        items = _pop_items(c, key, z, count, last)
        n = min(count, llen)
        c.engine.rewrite(c, [b"ZPOPMAX" if last else b"ZPOPMIN", key, str(n).encode()])
        return [key, [[m, _score(c, s)] for s, m in items]]
    return None


@command("zmpop", -4, "write movablekeys", 0, 0, 0, group="sorted-set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def zmpop(c: Client, argv: list[bytes]) -> Any:
    """ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]"""
    from .lists import _parse_mpop

    keys, last, count = _parse_mpop(argv, 1, _MINMAX)
    r = _serve_mpop(c, keys, last, count, False)
    return NULL_ARRAY if r is None else r


def _is_nonempty_zset(v: Any) -> bool:
    return type(v) is ZSetValue and len(v) > 0


def _bzpop(c: Client, argv: list[bytes], last: bool) -> Any:
    deadline = parse_timeout(c, argv[-1])
    keys = argv[1:-1]
    if c.blocked is not None and not any_ready(c, keys, _is_nonempty_zset):
        return block(c, keys, argv, deadline)
    for key in keys:
        z = _get(c, key)
        if z is None or not len(z):
            continue
        s, m = _pop_items(c, key, z, 1, last)[0]
        c.engine.rewrite(c, [b"ZPOPMAX" if last else b"ZPOPMIN", key])
        return [key, m, _score(c, s)]
    if no_blocking(c):
        return NULL_ARRAY
    return block(c, keys, argv, deadline)


@command("bzpopmin", -3, "write blocking fast", 1, -2, 1, group="sorted-set")
def bzpopmin(c: Client, argv: list[bytes]) -> Any:
    """BZPOPMIN key [key ...] timeout"""
    return _bzpop(c, argv, False)


@command("bzpopmax", -3, "write blocking fast", 1, -2, 1, group="sorted-set")
def bzpopmax(c: Client, argv: list[bytes]) -> Any:
    """BZPOPMAX key [key ...] timeout"""
    return _bzpop(c, argv, True)


@command("bzmpop", -5, "write blocking movablekeys", 0, 0, 0, group="sorted-set",
         keys_fn=lambda argv: _numkeys_keys(argv, 2))
def bzmpop(c: Client, argv: list[bytes]) -> Any:
    """BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count]"""
    from .lists import _parse_mpop

    keys, last, count = _parse_mpop(argv, 2, _MINMAX)
    deadline = parse_timeout(c, argv[1])
    if c.blocked is not None and not any_ready(c, keys, _is_nonempty_zset):
        return block(c, keys, argv, deadline)
    r = _serve_mpop(c, keys, last, count, True)
    if r is not None:
        return r
    if no_blocking(c):
        return NULL_ARRAY
    return block(c, keys, argv, deadline)


# -- random ---------------------------------------------------------------------------------


@command("zrandmember", -2, "readonly", 1, 1, 1, group="sorted-set")
def zrandmember(c: Client, argv: list[bytes]) -> Any:
    """ZRANDMEMBER key [count [WITHSCORES]]"""
    if len(argv) == 2:
        z = _get(c, argv[1])
        return None if z is None else z.random_item()[1]
    n = parse_int(argv[2])
    if n < -LLONG_MAX:
        raise CommandError(RANGE_MSG)
    withscores = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
        raise CommandError(SYNTAX)
    if len(argv) == 4:
        withscores = True
        if n < -(LLONG_MAX // 2) or n > LLONG_MAX // 2:
            raise CommandError("ERR value is out of range")
    z = _get(c, argv[1])
    if z is None or n == 0:
        return []
    if n < 0:
        items = [z.random_item() for _ in range(-n)]
    elif n >= len(z):
        items = list(z.sl)
    else:
        items = [z.sl[i] for i in random.sample(range(len(z)), n)]
    if withscores:
        return _with_scores(c, items)
    return [m for _, m in items]


# -- algebra ---------------------------------------------------------------------------------

SUM, MIN, MAX, COUNT = 0, 1, 2, 3
# COUNT (Redis 8.8, from the command docs): scores are ignored, each input holding the
# member adds its weight (1 without WEIGHTS): how many of the inputs hold it
_AGG = {b"SUM": SUM, b"MIN": MIN, b"MAX": MAX, b"COUNT": COUNT}


def _src_len(v: Any) -> int:
    return 0 if v is None else len(v)


def _src_items(v: Any) -> list[tuple[bytes, float]]:
    """(member, score) of a zset (score order) or a set (score 1, set order)."""
    if v is None:
        return []
    if type(v) is SetValue:
        return [(m, 1.0) for m in v]
    return [(m, s) for s, m in v.sl]


def _src_score(v: Any, m: bytes) -> float | None:
    if type(v) is SetValue:
        return 1.0 if m in v else None
    s: float | None = v.scores.get(m)
    return s


def _aggregate(target: float, val: float, agg: int) -> float:
    if agg == SUM:
        r = target + val
        return 0.0 if math.isnan(r) else r
    if agg == MIN:
        return val if val < target else target
    return val if val > target else target


INTER, UNION, DIFF = 0, 1, 2
_STORE_EVENTS = {INTER: b"zinterstore", UNION: b"zunionstore", DIFF: b"zdiffstore"}


def _setop(c: Client, argv: list[bytes], numkeys_idx: int, op: int, dst: bytes | None,
           cardinality_only: bool = False) -> Any:
    """``zunionInterDiffGenericCommand``."""
    setnum = parse_int(argv[numkeys_idx])
    name = argv[0].decode().lower()
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    if setnum > len(argv) - (numkeys_idx + 1):
        raise CommandError(SYNTAX)
    db = c.db
    srcs: list[Any] = []
    for key in argv[numkeys_idx + 1 : numkeys_idx + 1 + setnum]:
        v = db.lookup(key)
        read_miss(c, key, v)
        if v is not None and type(v) is not ZSetValue and type(v) is not SetValue:
            raise CommandError(WRONGTYPE)
        srcs.append(v)
    weights = [1.0] * setnum
    agg = SUM
    withscores = False
    limit = 0
    j = numkeys_idx + 1 + setnum
    n = len(argv)
    while j < n:
        remaining = n - j
        w = argv[j].lower()
        if op != DIFF and not cardinality_only and remaining >= setnum + 1 and w == b"weights":
            j += 1
            for i in range(setnum):
                weights[i] = parse_score(argv[j], "ERR weight value is not a float")
                j += 1
        elif op != DIFF and not cardinality_only and remaining >= 2 and w == b"aggregate":
            a = _AGG.get(argv[j + 1].upper())
            if a is None:
                raise CommandError(SYNTAX)
            agg = a
            j += 2
        elif dst is None and not cardinality_only and w == b"withscores":
            withscores = True
            j += 1
        elif cardinality_only and remaining >= 2 and w == b"limit":
            limit = _positive(argv[j + 1], "ERR LIMIT can't be negative")
            j += 2
        else:
            raise CommandError(SYNTAX)
    count = agg == COUNT
    if count:
        agg = SUM
    result: dict[bytes, float] = {}
    if op == DIFF:
        first = srcs[0]
        if _src_len(first):
            others = [s for s in srcs[1:] if s is not None]
            for m, s in _src_items(first):
                if not any(_src_score(o, m) is not None for o in others):
                    result[m] = s
    else:
        order = sorted(range(setnum), key=lambda i: _src_len(srcs[i]))
        srcs = [srcs[i] for i in order]
        weights = [weights[i] for i in order]
        if op == INTER:
            cardinality = 0
            if _src_len(srcs[0]):
                for m, s0 in _src_items(srcs[0]):
                    if count:
                        s0 = 1.0
                    score = weights[0] * s0
                    if math.isnan(score):
                        score = 0.0
                    for k in range(1, setnum):
                        if srcs[k] is srcs[0]:
                            val = s0 * weights[k]
                        else:
                            sk = _src_score(srcs[k], m)
                            if sk is None:
                                break
                            val = (1.0 if count else sk) * weights[k]
                        score = _aggregate(score, val, agg)
                    else:
                        if cardinality_only:
                            cardinality += 1
                            if limit and cardinality >= limit:
                                break
                        else:
                            result[m] = score
            if cardinality_only:
                return cardinality
        else:
            for k in range(setnum):
                for m, s in _src_items(srcs[k]):
                    score = weights[k] * (1.0 if count else s)
                    if math.isnan(score):
                        score = 0.0
                    cur = result.get(m)
                    result[m] = score if cur is None else _aggregate(cur, score, agg)
    if dst is not None:
        if not result:
            if db.delete(dst):
                notify(c, "g", b"del", dst)
            return 0
        old = db.peek(dst)
        new = ZSetValue.build(result.items(), Limits(c.engine))
        db.set(dst, new)
        overwritten(c, dst, old, new)
        notify(c, "z", _STORE_EVENTS[op], dst)
        return len(result)
    items = sorted((s, m) for m, s in result.items())
    if withscores:
        return _with_scores(c, items)
    return [m for _, m in items]


def _store_keys(argv: list[bytes]) -> list[int]:
    return [1, *_numkeys_keys(argv, 2)]


@command("zunion", -3, "readonly movablekeys", 0, 0, 0, group="sorted-set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def zunion(c: Client, argv: list[bytes]) -> Any:
    """ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX | COUNT>] [WITHSCORES]"""
    return _setop(c, argv, 1, UNION, None)


@command("zinter", -3, "readonly movablekeys", 0, 0, 0, group="sorted-set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def zinter(c: Client, argv: list[bytes]) -> Any:
    """ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX | COUNT>] [WITHSCORES]"""
    return _setop(c, argv, 1, INTER, None)


@command("zdiff", -3, "readonly movablekeys", 0, 0, 0, group="sorted-set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def zdiff(c: Client, argv: list[bytes]) -> Any:
    """ZDIFF numkeys key [key ...] [WITHSCORES]"""
    return _setop(c, argv, 1, DIFF, None)


@command("zunionstore", -4, "write denyoom movablekeys", 1, 1, 1, group="sorted-set",
         keys_fn=_store_keys)
def zunionstore(c: Client, argv: list[bytes]) -> Any:
    """ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX | COUNT>]"""
    return _setop(c, argv, 2, UNION, argv[1])


@command("zinterstore", -4, "write denyoom movablekeys", 1, 1, 1, group="sorted-set",
         keys_fn=_store_keys)
def zinterstore(c: Client, argv: list[bytes]) -> Any:
    """ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX | COUNT>]"""
    return _setop(c, argv, 2, INTER, argv[1])


@command("zdiffstore", -4, "write denyoom movablekeys", 1, 1, 1, group="sorted-set",
         keys_fn=_store_keys)
def zdiffstore(c: Client, argv: list[bytes]) -> Any:
    """ZDIFFSTORE destination numkeys key [key ...]"""
    return _setop(c, argv, 2, DIFF, argv[1])


@command("zintercard", -3, "readonly movablekeys", 0, 0, 0, group="sorted-set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def zintercard(c: Client, argv: list[bytes]) -> Any:
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]"""
    return _setop(c, argv, 1, INTER, None, cardinality_only=True)


# -- scan -------------------------------------------------------------------------------------


def _scan_score(s: float) -> bytes:
    """A skiplist score in ZSCAN: ``ld2string`` with ``%.17g`` (``inf``, ``-0`` alike)."""
    return b"%.17g" % s


@command("zscan", -3, "readonly", 1, 1, 1, group="sorted-set")
def zscan(c: Client, argv: list[bytes]) -> Any:
    """ZSCAN key cursor [MATCH pattern] [COUNT count]"""
    cursor = parse_cursor(argv[2])
    z = _get(c, argv[1])
    if z is None:
        return [b"0", []]
    count, pat, _, _ = parse_scan_options(argv, 3, "zscan")
    out: list[bytes] = []
    if z.listpack:
        nxt = 0
        for s, m in z.sl:
            if pat is None or match(pat, m):
                out.append(m)
                out.append(format_score(s))
    else:
        nxt, found = scan_page(z, "scan_index", z.scores, cursor, count)
        for m in found:
            if pat is None or match(pat, m):
                out.append(m)
                out.append(_scan_score(z.scores[m]))
    return [str(nxt).encode(), out]
