"""String commands (Redis group "string").

Values are ``bytes``. What ``OBJECT ENCODING`` answers is derived by ``strenc``;
handlers that make a string without Redis's ``tryObjectEncoding`` (APPEND to an
existing key, SETRANGE, INCRBYFLOAT) record the encoding they produce.

Propagation as Redis: SET/SETEX/PSETEX with a relative or seconds expiry become
``SET key value PXAT <ms>``, GETEX becomes ``PEXPIREAT``/``PERSIST``/``DEL``,
GETDEL becomes ``DEL``, GETSET becomes ``SET``, INCRBYFLOAT becomes ``SET key
<result> KEEPTTL``.
"""

from __future__ import annotations

from typing import Any

from .. import longdouble, strenc
from ..args import LLONG_MAX, LLONG_MIN, parse_int
from ..client import Client
from ..database import Database
from ..errors import NOT_INTEGER, OVERFLOW, SYNTAX, WRONGTYPE, CommandError, wrong_args
from ..expiry import set_expire_ms
from ..notify import notify, overwritten, read_miss
from ..registry import command
from ..replies import OK

NOT_FLOAT = "ERR value is not a valid float"
TOO_BIG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def get_string(db: Database, key: bytes) -> bytes | None:
    """The string at ``key`` (None if missing); WRONGTYPE for other types."""
    v = db.lookup(key)
    if v is not None and type(v) is not bytes:
        raise CommandError(WRONGTYPE)
    return v


def _check_length(c: Client, size: int, append: int) -> None:
    if c.is_master:
        return
    limit = int(c.engine.config.get("proto-max-bulk-len", 512 * 1024 * 1024))
    if size + append > limit:
        raise CommandError(TOO_BIG)


# -- SET and its options -------------------------------------------------------

_F_NX, _F_XX, _F_GET, _F_KEEPTTL, _F_PERSIST = 1, 2, 4, 8, 16
_F_EX, _F_PX, _F_EXAT, _F_PXAT = 32, 64, 128, 256
_F_IFEQ, _F_IFNE, _F_IFDEQ, _F_IFDNE = 512, 1024, 2048, 4096
_EXPIRES = _F_EX | _F_PX | _F_EXAT | _F_PXAT
_CONDS = _F_NX | _F_XX | _F_IFEQ | _F_IFNE | _F_IFDEQ | _F_IFDNE
_CMP_FLAGS = {b"IFEQ": _F_IFEQ, b"IFNE": _F_IFNE, b"IFDEQ": _F_IFDEQ, b"IFDNE": _F_IFDNE}


def parse_set_options(argv: list[bytes], start: int, for_set: bool) -> tuple[int, bytes | None,
                                                                             bytes | None]:
    """Redis's ``parseExtendedStringArgumentsOrReply``: (flags, expire arg, compare value)."""
    flags = 0
    expire: bytes | None = None
    cmp: bytes | None = None
    n = len(argv)
    j = start
    while j < n:
        o = argv[j].upper()
        has_next = j + 1 < n
        if o == b"NX" and for_set and not flags & (_CONDS & ~_F_NX):
            flags |= _F_NX
        elif o == b"XX" and for_set and not flags & (_CONDS & ~_F_XX):
            flags |= _F_XX
        elif o in _CMP_FLAGS and for_set and has_next:
            bit = _CMP_FLAGS[o]
            if flags & (_CONDS & ~bit):
                raise CommandError(SYNTAX)
            flags |= bit
            cmp = argv[j + 1]
            j += 1
        elif o == b"GET" and for_set:
            flags |= _F_GET
        elif o == b"KEEPTTL" and for_set and not flags & (_EXPIRES | _F_PERSIST):
            flags |= _F_KEEPTTL
        elif o == b"PERSIST" and not for_set and not flags & (_EXPIRES | _F_KEEPTTL):
            flags |= _F_PERSIST
        elif o in _UNIT_FLAGS and has_next:
            bit = _UNIT_FLAGS[o]
            if flags & ((_EXPIRES & ~bit) | _F_KEEPTTL | _F_PERSIST):
                raise CommandError(SYNTAX)
            flags |= bit
            expire = argv[j + 1]
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    return flags, expire, cmp


_UNIT_FLAGS = {b"EX": _F_EX, b"PX": _F_PX, b"EXAT": _F_EXAT, b"PXAT": _F_PXAT}


def _expire_from_flags(c: Client, flags: int, raw: bytes, cmd: str) -> int:
    unit = 1000 if flags & (_F_EX | _F_EXAT) else 1
    relative = bool(flags & (_F_EX | _F_PX))
    return set_expire_ms(raw, unit, relative, c.engine.now_ms(), cmd)


def _set_generic(c: Client, key: bytes, val: bytes, flags: int, expire: bytes | None,
                 cmp: bytes | None, cmd: str, ok: Any = OK, fail: Any = None) -> Any:
    db = c.db
    when = _expire_from_flags(c, flags, expire, cmd) if expire is not None else None
    reply: Any = ok
    if flags & _F_GET:
        reply = get_string(db, key)
        read_miss(c, key, reply)
        cur = reply
    else:
        cur = db.lookup(key)
    found = cur is not None
    if (flags & _CONDS & ~(_F_NX | _F_XX)) and not condition_holds(cur, flags, cmp):
        return reply if flags & _F_GET else fail
    if (flags & _F_NX and found) or (flags & _F_XX and not found):
        return reply if flags & _F_GET else fail
    db.set(key, val, keep_ttl=bool(flags & _F_KEEPTTL))
    events = c.engine.config["notify-keyspace-events"]  # one lookup when they are off
    if events:
        overwritten(c, key, cur, val)
        notify(c, "$", b"set", key)
    if when is not None:
        db.set_expire(key, when)
        if events:
            notify(c, "g", b"expire", key)
        if not flags & _F_PXAT:
            c.engine.rewrite(c, [b"SET", key, val, b"PXAT", b"%d" % when])
    return reply


def digest(v: bytes) -> bytes:
    """Redis 8.4's DIGEST: the XXH3 64-bit hash as 16 lower-case hex digits."""
    import xxhash

    return xxhash.xxh3_64_hexdigest(v).encode()


def condition_holds(cur: Any, flags: int, cmp: bytes | None) -> bool:
    """IFEQ/IFNE/IFDEQ/IFDNE against the current value (None when the key is missing)."""
    if cur is not None and type(cur) is not bytes:
        raise CommandError(WRONGTYPE)
    assert cmp is not None
    if flags & _F_IFEQ:
        return cur is not None and cur == cmp
    if flags & _F_IFNE:
        return cur is None or cur != cmp
    if flags & _F_IFDEQ:
        return cur is not None and digest(cur) == cmp.lower()
    return cur is None or digest(cur) != cmp.lower()


def _set_key_flags(argv: list[bytes], pos: int) -> str:
    """SET's key flags depend on GET (Redis's ``setGetKeys``: read only with GET)."""
    if any(a.lower() == b"get" for a in argv[3:]):
        return "RW access update"
    return "OW update"


@command("set", -3, "write denyoom", 1, 1, 1, group="string", key_flags=_set_key_flags)
def set_(c: Client, argv: list[bytes]) -> Any:
    """SET key value [NX | XX | IFEQ ifeq-value | IFNE ifne-value | IFDEQ ifdeq-digest | IFDNE ifdne-digest] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]"""
    flags, expire, cmp = parse_set_options(argv, 3, True)
    return _set_generic(c, argv[1], argv[2], flags, expire, cmp, "set")


@command("setnx", 3, "write denyoom fast", 1, 1, 1, group="string")
def setnx(c: Client, argv: list[bytes]) -> Any:
    """SETNX key value"""
    return _set_generic(c, argv[1], argv[2], _F_NX, None, None, "setnx", 1, 0)


@command("setex", 4, "write denyoom", 1, 1, 1, group="string")
def setex(c: Client, argv: list[bytes]) -> Any:
    """SETEX key seconds value"""
    return _set_generic(c, argv[1], argv[3], _F_EX, argv[2], None, "setex")


@command("psetex", 4, "write denyoom", 1, 1, 1, group="string")
def psetex(c: Client, argv: list[bytes]) -> Any:
    """PSETEX key milliseconds value"""
    return _set_generic(c, argv[1], argv[3], _F_PX, argv[2], None, "psetex")


@command("get", 2, "readonly fast", 1, 1, 1, group="string")
def get(c: Client, argv: list[bytes]) -> Any:
    """GET key"""
    return get_string(c.db, argv[1])


@command("getset", 3, "write denyoom fast", 1, 1, 1, group="string")
def getset(c: Client, argv: list[bytes]) -> Any:
    """GETSET key value"""
    old = get_string(c.db, argv[1])
    read_miss(c, argv[1], old)
    c.db.set(argv[1], argv[2])
    overwritten(c, argv[1], old, argv[2])
    notify(c, "$", b"set", argv[1])
    c.engine.rewrite(c, [b"SET", argv[1], argv[2]])
    return old


@command("getdel", 2, "write fast", 1, 1, 1, group="string")
def getdel(c: Client, argv: list[bytes]) -> Any:
    """GETDEL key"""
    v = get_string(c.db, argv[1])
    read_miss(c, argv[1], v)
    if v is not None:
        c.db.remove(argv[1])
        notify(c, "g", b"del", argv[1])
        c.engine.rewrite(c, [b"DEL", argv[1]])
    return v


@command("getex", -2, "write fast", 1, 1, 1, group="string")
def getex(c: Client, argv: list[bytes]) -> Any:
    """GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]"""
    flags, expire, _ = parse_set_options(argv, 2, False)
    db = c.db
    key = argv[1]
    v = get_string(db, key)
    read_miss(c, key, v)
    if v is None:
        return None
    eng = c.engine
    if expire is not None:
        when = _expire_from_flags(c, flags, expire, "getex")
        if flags & (_F_EXAT | _F_PXAT) and when <= eng.now_ms() and not eng.loading \
                and not c.is_master:
            db.remove(key)
            eng.rewrite(c, [b"DEL", key])
            notify(c, "g", b"del", key)
        else:
            db.set_expire(key, when)
            eng.rewrite(c, [b"PEXPIREAT", key, b"%d" % when])
            notify(c, "g", b"expire", key)
    elif flags & _F_PERSIST and db.persist(key):
        eng.rewrite(c, [b"PERSIST", key])
        notify(c, "g", b"persist", key)
    return v


@command("digest", 2, "readonly fast", 1, 1, 1, group="string")
def digest_(c: Client, argv: list[bytes]) -> Any:
    """DIGEST key"""
    v = get_string(c.db, argv[1])
    return None if v is None else digest(v)


@command("delex", -2, "write fast", 1, 1, 1, group="string")
def delex(c: Client, argv: list[bytes]) -> int:
    """DELEX key [IFEQ ifeq-value | IFNE ifne-value | IFDEQ ifdeq-digest | IFDNE ifdne-digest]"""
    flags = 0
    cmp: bytes | None = None
    if len(argv) == 4 and argv[2].upper() in _CMP_FLAGS:
        flags = _CMP_FLAGS[argv[2].upper()]
        cmp = argv[3]
    elif len(argv) != 2:
        raise CommandError(SYNTAX)
    db = c.db
    key = argv[1]
    cur = db.lookup(key)
    if cur is None:
        return 0
    if flags and not condition_holds(cur, flags, cmp):
        return 0
    db.remove(key)
    c.engine.rewrite(c, [b"DEL", key])
    notify(c, "g", b"del", key)
    return 1


@command("mget", -2, "readonly fast", 1, -1, 1, group="string")
def mget(c: Client, argv: list[bytes]) -> list[Any]:
    """MGET key [key ...]"""
    db = c.db
    out: list[Any] = []
    for k in argv[1:]:
        v = db.lookup(k)
        out.append(v if type(v) is bytes else None)
    return out


@command("mset", -3, "write denyoom", 1, -1, 2, group="string")
def mset(c: Client, argv: list[bytes]) -> Any:
    """MSET key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise CommandError(wrong_args("mset"))
    db = c.db
    for i in range(1, len(argv), 2):
        old = db.peek(argv[i])
        db.set(argv[i], argv[i + 1])
        overwritten(c, argv[i], old, argv[i + 1])
        notify(c, "$", b"set", argv[i])
    return OK


@command("msetnx", -3, "write denyoom", 1, -1, 2, group="string")
def msetnx(c: Client, argv: list[bytes]) -> Any:
    """MSETNX key value [key value ...]"""
    if len(argv) % 2 == 0:
        raise CommandError(wrong_args("msetnx"))
    db = c.db
    for i in range(1, len(argv), 2):
        if db.lookup(argv[i]) is not None:
            return 0
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
        notify(c, "$", b"set", argv[i])
    return 1


def _msetex_keys(argv: list[bytes]) -> list[int]:
    try:
        n = int(argv[1])
    except ValueError:
        return []
    return list(range(2, min(2 + 2 * max(n, 0), len(argv)), 2))


@command("msetex", -4, "write denyoom movablekeys", group="string", keys_fn=_msetex_keys)
def msetex(c: Client, argv: list[bytes]) -> Any:
    """MSETEX numkeys key value [key value ...] [NX | XX] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]"""
    n = parse_int(argv[1])
    if n < 1 or 2 + 2 * n > len(argv):
        raise CommandError(wrong_args("msetex") if n >= 1 else "ERR invalid numkeys value")
    end = 2 + 2 * n
    flags, expire, _ = parse_set_options(argv, end, True)
    if flags & (_F_GET | _F_IFEQ | _F_IFNE | _F_IFDEQ | _F_IFDNE):
        raise CommandError(SYNTAX)
    when = _expire_from_flags(c, flags, expire, "msetex") if expire is not None else None
    db = c.db
    keys = argv[2:end:2]
    present = [db.lookup(k) is not None for k in keys]
    if (flags & _F_NX and any(present)) or (flags & _F_XX and not all(present)):
        return 0
    for i in range(2, end, 2):
        old = db.peek(argv[i])
        db.set(argv[i], argv[i + 1], keep_ttl=bool(flags & _F_KEEPTTL))
        overwritten(c, argv[i], old, argv[i + 1])
        notify(c, "$", b"set", argv[i])
        if when is not None:
            db.set_expire(argv[i], when)
            notify(c, "g", b"expire", argv[i])
    if when is not None and not flags & _F_PXAT:
        c.engine.rewrite(c, [b"MSETEX", argv[1], *argv[2:end], b"PXAT", b"%d" % when])
    return 1


# -- counters --------------------------------------------------------------------


def _incr(c: Client, key: bytes, incr: int) -> int:
    db = c.db
    v = get_string(db, key)
    old = 0 if v is None else parse_int(v, NOT_INTEGER)
    if (incr < 0 and old < 0 and incr < LLONG_MIN - old) or \
            (incr > 0 and old > 0 and incr > LLONG_MAX - old):
        raise CommandError(OVERFLOW)
    new = old + incr
    db.set(key, b"%d" % new, keep_ttl=True)
    notify(c, "$", b"incrby", key)
    return new


@command("incr", 2, "write denyoom fast", 1, 1, 1, group="string")
def incr(c: Client, argv: list[bytes]) -> int:
    """INCR key"""
    return _incr(c, argv[1], 1)


@command("decr", 2, "write denyoom fast", 1, 1, 1, group="string")
def decr(c: Client, argv: list[bytes]) -> int:
    """DECR key"""
    return _incr(c, argv[1], -1)


@command("incrby", 3, "write denyoom fast", 1, 1, 1, group="string")
def incrby(c: Client, argv: list[bytes]) -> int:
    """INCRBY key increment"""
    return _incr(c, argv[1], parse_int(argv[2]))


@command("decrby", 3, "write denyoom fast", 1, 1, 1, group="string")
def decrby(c: Client, argv: list[bytes]) -> int:
    """DECRBY key decrement"""
    n = parse_int(argv[2])
    if n == LLONG_MIN:
        raise CommandError("ERR decrement would overflow")
    return _incr(c, argv[1], -n)


@command("incrbyfloat", 3, "write denyoom fast", 1, 1, 1, group="string")
def incrbyfloat(c: Client, argv: list[bytes]) -> bytes:
    """INCRBYFLOAT key increment"""
    db = c.db
    key = argv[1]
    v = get_string(db, key)
    cur = longdouble.from_int(0) if v is None else longdouble.parse(v)
    inc = longdouble.parse(argv[2])
    if cur is None or inc is None:
        raise CommandError(NOT_FLOAT)
    try:
        new = longdouble.add(cur, inc)
    except longdouble.LongDoubleRangeError:
        raise CommandError("ERR increment would produce NaN or Infinity")
    out = longdouble.format_human(new)
    db.set(key, out, keep_ttl=True)
    strenc.set_explicit(db, key, out, strenc.non_int(key, out, key in db.expires))
    notify(c, "$", b"incrbyfloat", key)
    c.engine.rewrite(c, [b"SET", key, out, b"KEEPTTL"])
    return out


# -- substrings --------------------------------------------------------------------


@command("append", 3, "write denyoom fast", 1, 1, 1, group="string")
def append(c: Client, argv: list[bytes]) -> int:
    """APPEND key value"""
    db = c.db
    key = argv[1]
    v = get_string(db, key)
    if v is None:
        db.set(key, argv[2])
        notify(c, "$", b"append", key)
        return len(argv[2])
    _check_length(c, len(v), len(argv[2]))
    new = v + argv[2]
    db.set(key, new, keep_ttl=True)
    strenc.set_explicit(db, key, new, strenc.RAW)
    notify(c, "$", b"append", key)
    return len(new)


@command("strlen", 2, "readonly fast", 1, 1, 1, group="string")
def strlen(c: Client, argv: list[bytes]) -> int:
    """STRLEN key"""
    v = get_string(c.db, argv[1])
    return 0 if v is None else len(v)


def _getrange(c: Client, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = get_string(c.db, argv[1])
    if v is None:
        return b""
    n = len(v)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start += n
    if end < 0:
        end += n
    start = max(start, 0)
    end = max(end, 0)
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return b""
    return v[start : end + 1]


@command("getrange", 4, "readonly", 1, 1, 1, group="string")
def getrange(c: Client, argv: list[bytes]) -> bytes:
    """GETRANGE key start end"""
    return _getrange(c, argv)


@command("substr", 4, "readonly", 1, 1, 1, group="string")
def substr(c: Client, argv: list[bytes]) -> bytes:
    """SUBSTR key start end"""
    return _getrange(c, argv)


@command("setrange", 4, "write denyoom", 1, 1, 1, group="string")
def setrange(c: Client, argv: list[bytes]) -> int:
    """SETRANGE key offset value"""
    offset = parse_int(argv[2])
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    val = argv[3]
    db = c.db
    key = argv[1]
    v = get_string(db, key)
    if v is None:
        if not val:
            return 0
        _check_length(c, offset, len(val))
        v = b""
    else:
        if not val:
            return len(v)
        _check_length(c, offset, len(val))
    if len(v) < offset:
        v = v + b"\0" * (offset - len(v))
    new = v[:offset] + val + v[offset + len(val):]
    db.set(key, new, keep_ttl=True)
    strenc.set_explicit(db, key, new, strenc.RAW)
    notify(c, "$", b"setrange", key)
    return len(new)


# -- LCS -----------------------------------------------------------------------------


def _lcs_table(a: bytes, b: bytes) -> list[list[int]]:
    """dp[i][j] = length of the LCS of a[:i] and b[:j]."""
    prev = [0] * (len(b) + 1)
    table = [prev]
    for i in range(1, len(a) + 1):
        ai = a[i - 1]
        row = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if ai == b[j - 1]:
                row[j] = prev[j - 1] + 1
            else:
                up, left = prev[j], row[j - 1]
                row[j] = up if up > left else left
        table.append(row)
        prev = row
    return table


@command("lcs", -3, "readonly", 1, 2, 1, group="string")
def lcs(c: Client, argv: list[bytes]) -> Any:
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]"""
    db = c.db
    va, vb = db.lookup(argv[1]), db.lookup(argv[2])
    if (va is not None and type(va) is not bytes) or (vb is not None and type(vb) is not bytes):
        raise CommandError("ERR The specified keys must contain string values")
    a, b = va or b"", vb or b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    j = 3
    while j < len(argv):
        o = argv[j].lower()
        if o == b"idx":
            getidx = True
        elif o == b"len":
            getlen = True
        elif o == b"withmatchlen":
            withmatchlen = True
        elif o == b"minmatchlen" and j + 1 < len(argv):
            minmatchlen = max(0, parse_int(argv[j + 1]))
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    if getlen and getidx:
        raise CommandError("ERR If you want both the length and indexes, please just use IDX.")
    limit = int(c.engine.config.get("proto-max-bulk-len", 512 * 1024 * 1024))
    if (len(a) + 1) * (len(b) + 1) * 4 > limit:
        raise CommandError(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    dp = _lcs_table(a, b)
    total = dp[len(a)][len(b)]
    if getlen:
        return total
    out = bytearray()
    matches: list[Any] = []
    i, k = len(a), len(b)
    start = end = bstart = bend = -1
    while i > 0 and k > 0:
        emit = False
        if a[i - 1] == b[k - 1]:
            out.append(a[i - 1])
            if start < 0:
                start = end = i - 1
                bstart = bend = k - 1
            else:
                start -= 1
                bstart -= 1
            if start == 0 or bstart == 0:
                emit = True
            i -= 1
            k -= 1
        else:
            if dp[i - 1][k] > dp[i][k - 1]:
                i -= 1
            else:
                k -= 1
            if start >= 0:
                emit = True
        if emit:
            mlen = end - start + 1
            if getidx and (minmatchlen == 0 or mlen >= minmatchlen):
                m: list[Any] = [[start, end], [bstart, bend]]
                if withmatchlen:
                    m.append(mlen)
                matches.append(m)
            start = -1
    if getidx:
        return {b"matches": matches, b"len": total}
    return bytes(reversed(out))
