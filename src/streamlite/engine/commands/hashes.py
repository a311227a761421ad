"""Hash commands (Redis group "hash"); the value class is ``types.hash.Hash``.

Propagation as Redis 8: HINCRBYFLOAT becomes ``HSETEX key KEEPTTL FIELDS 1 field
<result>``; the rest are deterministic and go as they are.
"""

from __future__ import annotations

import random
from typing import Any

from .. import longdouble
from ..args import LLONG_MAX, LLONG_MIN, parse_int
from ..client import Client
from ..database import Database
from ..errors import OVERFLOW, SYNTAX, WRONGTYPE, CommandError, wrong_args
from ..glob import match
from ..notify import notify, notify_fields
from ..registry import command
from ..replies import OK
from ..scan import parse_cursor, scan_page
from ..types.hash import Hash, expire_fields
from .keys import parse_scan_options

_rng = random.Random()


def get_hash(db: Database, key: bytes) -> Hash | None:
    v = db.lookup(key)
    if v is not None and type(v) is not Hash:
        raise CommandError(WRONGTYPE)
    return v


def live_hash(c: Client, key: bytes, fields: list[bytes]) -> Hash | None:
    """The hash at ``key`` after lazily deleting the expired ones among ``fields``."""
    h = get_hash(c.db, key)
    if h is not None and h.ttls:
        expire_fields(c.db, key, h, c.engine.now_ms(), fields)
        if len(h) == 0:
            return None
    return h


def hash_for_write(c: Client, key: bytes) -> Hash:
    """The hash at ``key``, created (not yet stored) if missing."""
    h = get_hash(c.db, key)
    if h is None:
        h = Hash()
        c.db.set(key, h)
    return h


def after_delete(c: Client, key: bytes, h: Hash) -> None:
    """Drop the key once its last field is gone; signal the change otherwise."""
    if len(h) == 0:
        c.db.remove(key)
        notify(c, "g", b"del", key)
    else:
        c.db.touch(key)


@command("hset", -4, "write denyoom fast", 1, 1, 1, group="hash")
def hset(c: Client, argv: list[bytes]) -> int:
    """HSET key field value [field value ...]"""
    if len(argv) % 2 == 1:
        raise CommandError(wrong_args("hset"))
    return _hset(c, argv)


@command("hmset", -4, "write denyoom fast", 1, 1, 1, group="hash")
def hmset(c: Client, argv: list[bytes]) -> Any:
    """HMSET key field value [field value ...]"""
    if len(argv) % 2 == 1:
        raise CommandError(wrong_args("hmset"))
    _hset(c, argv)
    return OK


def _hset(c: Client, argv: list[bytes]) -> int:
    h = hash_for_write(c, argv[1])
    h.convert_if_needed(c.engine, *argv[2:], pairs=(len(argv) - 2) // 2)
    n = 0
    for i in range(2, len(argv), 2):
        if h.set(argv[i], argv[i + 1]):
            n += 1
    h.convert_if_needed(c.engine)
    c.db.touch(argv[1])
    notify(c, "h", b"hset", argv[1])
    notify_fields(c, b"hset", argv[1], argv[2::2])
    return n


@command("hsetnx", 4, "write denyoom fast", 1, 1, 1, group="hash")
def hsetnx(c: Client, argv: list[bytes]) -> int:
    """HSETNX key field value"""
    h = live_hash(c, argv[1], [argv[2]])
    if h is not None and argv[2] in h:
        return 0
    h = hash_for_write(c, argv[1])
    h.convert_if_needed(c.engine, argv[2], argv[3])
    h.set(argv[2], argv[3])
    h.convert_if_needed(c.engine)
    c.db.touch(argv[1])
    notify(c, "h", b"hset", argv[1])
    notify_fields(c, b"hset", argv[1], [argv[2]])
    return 1


@command("hget", 3, "readonly fast", 1, 1, 1, group="hash")
def hget(c: Client, argv: list[bytes]) -> Any:
    """HGET key field"""
    h = live_hash(c, argv[1], [argv[2]])
    return None if h is None else h.get(argv[2])


@command("hmget", -3, "readonly fast", 1, 1, 1, group="hash")
def hmget(c: Client, argv: list[bytes]) -> list[Any]:
    """HMGET key field [field ...]"""
    h = live_hash(c, argv[1], argv[2:])
    if h is None:
        return [None] * (len(argv) - 2)
    return [h.get(f) for f in argv[2:]]


@command("hgetall", 2, "readonly", 1, 1, 1, group="hash")
def hgetall(c: Client, argv: list[bytes]) -> Any:
    """HGETALL key"""
    h = get_hash(c.db, argv[1])
    return {} if h is None else dict(h.live_items(c.engine.now_ms()))


@command("hkeys", 2, "readonly", 1, 1, 1, group="hash")
def hkeys(c: Client, argv: list[bytes]) -> list[bytes]:
    """HKEYS key"""
    h = get_hash(c.db, argv[1])
    return [] if h is None else [f for f, _ in h.live_items(c.engine.now_ms())]


@command("hvals", 2, "readonly", 1, 1, 1, group="hash")
def hvals(c: Client, argv: list[bytes]) -> list[bytes]:
    """HVALS key"""
    h = get_hash(c.db, argv[1])
    return [] if h is None else [v for _, v in h.live_items(c.engine.now_ms())]


@command("hdel", -3, "write fast", 1, 1, 1, group="hash")
def hdel(c: Client, argv: list[bytes]) -> int:
    """HDEL key field [field ...]"""
    h = get_hash(c.db, argv[1])
    if h is None:
        return 0
    gone: list[bytes] = []
    for f in argv[2:]:
        if h.delete(f):
            gone.append(f)
            if len(h) == 0:
                break
    n = len(gone)
    if n:
        notify(c, "h", b"hdel", argv[1])
        notify_fields(c, b"hdel", argv[1], gone)
        after_delete(c, argv[1], h)
    return n


@command("hlen", 2, "readonly fast", 1, 1, 1, group="hash")
def hlen(c: Client, argv: list[bytes]) -> int:
    """HLEN key"""
    h = get_hash(c.db, argv[1])
    return 0 if h is None else len(h)


@command("hstrlen", 3, "readonly fast", 1, 1, 1, group="hash")
def hstrlen(c: Client, argv: list[bytes]) -> int:
    """HSTRLEN key field"""
    h = live_hash(c, argv[1], [argv[2]])
    v = None if h is None else h.get(argv[2])
    return 0 if v is None else len(v)


@command("hexists", 3, "readonly fast", 1, 1, 1, group="hash")
def hexists(c: Client, argv: list[bytes]) -> int:
    """HEXISTS key field"""
    h = live_hash(c, argv[1], [argv[2]])
    return int(h is not None and argv[2] in h)


@command("hincrby", 4, "write denyoom fast", 1, 1, 1, group="hash")
def hincrby(c: Client, argv: list[bytes]) -> int:
    """HINCRBY key field increment"""
    inc = parse_int(argv[3])
    h = live_hash(c, argv[1], [argv[2]])
    cur = None if h is None else h.get(argv[2])
    old = 0 if cur is None else parse_int(cur, "ERR hash value is not an integer")
    if (inc < 0 and old < 0 and inc < LLONG_MIN - old) or \
            (inc > 0 and old > 0 and inc > LLONG_MAX - old):
        raise CommandError(OVERFLOW)
    new = old + inc
    h = hash_for_write(c, argv[1])
    val = b"%d" % new
    h.convert_if_needed(c.engine, argv[2], val)
    h.set(argv[2], val, keep_ttl=True)
    h.convert_if_needed(c.engine)
    c.db.touch(argv[1])
    notify(c, "h", b"hincrby", argv[1])
    notify_fields(c, b"hincrby", argv[1], [argv[2]])
    return new


@command("hincrbyfloat", 4, "write denyoom fast", 1, 1, 1, group="hash")
def hincrbyfloat(c: Client, argv: list[bytes]) -> bytes:
    """HINCRBYFLOAT key field increment"""
    inc = longdouble.parse(argv[3])
    if inc is None:
        raise CommandError("ERR value is not a valid float")
    if isinstance(inc, float):
        raise CommandError("ERR value is NaN or Infinity")
    h = live_hash(c, argv[1], [argv[2]])
    cur_raw = None if h is None else h.get(argv[2])
    cur = longdouble.from_int(0) if cur_raw is None else longdouble.parse(cur_raw)
    if cur is None:
        raise CommandError("ERR hash value is not a float")
    try:
        new = longdouble.add(cur, inc)
    except longdouble.LongDoubleRangeError:
        raise CommandError("ERR increment would produce NaN or Infinity")
    out = longdouble.format_human(new)
    h = hash_for_write(c, argv[1])
    h.convert_if_needed(c.engine, argv[2], out)
    h.set(argv[2], out, keep_ttl=True)
    h.convert_if_needed(c.engine)
    c.db.touch(argv[1])
    notify(c, "h", b"hincrbyfloat", argv[1])
    notify_fields(c, b"hincrbyfloat", argv[1], [argv[2]])
    c.engine.rewrite(c, [b"HSETEX", argv[1], b"KEEPTTL", b"FIELDS", b"1", argv[2], out])
    return out


# -- random fields and scanning -----------------------------------------------------

_RANGE_ERR = ("ERR value is out of range, value must between -9223372036854775807 and "
              "9223372036854775807")


def _hrand_hash(c: Client, key: bytes) -> Hash | None:
    h = get_hash(c.db, key)
    if h is not None and h.ttls:
        expire_fields(c.db, key, h, c.engine.now_ms())
        if len(h) == 0:
            return None
    return h


@command("hrandfield", -2, "readonly", 1, 1, 1, group="hash")
def hrandfield(c: Client, argv: list[bytes]) -> Any:
    """HRANDFIELD key [count [WITHVALUES]]"""
    if len(argv) > 4:
        raise CommandError(SYNTAX)
    if len(argv) == 2:
        h = _hrand_hash(c, argv[1])
        if h is None or len(h) == 0:
            return None
        i = _rng.randrange(len(h))
        for j, f in enumerate(h.keys()):
            if j == i:
                return f
        return None
    withvalues = False
    if len(argv) == 4:
        if argv[3].lower() != b"withvalues":
            raise CommandError(SYNTAX)
        withvalues = True
    count = parse_int(argv[2])
    if count < -LLONG_MAX:
        raise CommandError(_RANGE_ERR)
    if withvalues and count < -(LLONG_MAX // 2):
        raise CommandError("ERR value is out of range")
    h = _hrand_hash(c, argv[1])
    if h is None or count == 0:
        return []
    fields = list(h.keys())
    if count < 0:
        picks = [fields[_rng.randrange(len(fields))] for _ in range(-count)]
    elif count >= len(fields):
        picks = fields
    else:
        picks = _rng.sample(fields, count)
    if not withvalues:
        return picks
    if c.protocol == 3:
        return [[f, h.get(f)] for f in picks]
    out: list[Any] = []
    for f in picks:
        out.append(f)
        out.append(h.get(f))
    return out


@command("hscan", -3, "readonly", 1, 1, 1, group="hash")
def hscan(c: Client, argv: list[bytes]) -> list[Any]:
    """HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]"""
    cursor = parse_cursor(argv[2])
    h = get_hash(c.db, argv[1])
    if h is None:
        return [b"0", []]
    count, pat, _, novalues = parse_scan_options(argv, 3, "hscan")
    if not h.big:
        fields = list(h.keys())
        nxt = 0
    else:
        nxt, fields = scan_page(h, "scan_index", h.d, cursor, count)
    out: list[bytes] = []
    now = c.engine.now_ms()
    for f in fields:
        if pat is not None and not match(pat, f):
            continue
        v = h.get(f)
        if v is None or not h.is_live(f, now):
            continue
        out.append(f)
        if not novalues:
            out.append(v)
    return [b"%d" % nxt, out]

