"""Keyspace commands (Redis group "generic", plus the database commands of "server").

DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RENAME, RENAMENX, COPY, MOVE, TOUCH,
RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB and OBJECT live here; the expire
commands in ``keys_expire``. Lookups Redis does with ``LOOKUP_NOTOUCH`` (TYPE,
EXISTS, OBJECT, TTL) use ``db.peek`` so they do not count as an access.
"""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any

from .. import lfu, strenc
from ..args import parse_int
from ..client import Client
from ..database import Database, type_name
from ..errors import DB_INDEX, NO_SUCH_KEY, NOT_INTEGER, SYNTAX, CommandError
from ..glob import match
from ..notify import notify, notify_db, overwritten, read_miss
from ..registry import command
from ..replies import OK, SimpleString
from ..scan import parse_cursor, scan_page
from ..subcommands import dispatch

SAME_OBJECT = "ERR source and destination objects are the same"
_rng = random.Random()


def _db_index(c: Client, raw: bytes, msg: str = NOT_INTEGER) -> Database:
    """The database ``raw`` names (Redis: getIntFromObject + selectDb)."""
    idx = parse_int(raw, msg)
    if idx < -(1 << 31) or idx >= (1 << 31):
        raise CommandError(msg)
    if idx < 0 or idx >= len(c.engine.dbs):
        raise CommandError(DB_INDEX)
    return c.engine.dbs[idx]


def dup_value(v: Any) -> Any:
    """A deep copy of a value for COPY (bytes are immutable: shared)."""
    if type(v) is bytes:
        return v
    dup = getattr(v, "dup", None)
    if dup is not None:
        return dup()
    return copy.deepcopy(v)


def place(src: Database, key: bytes, dst: Database, dkey: bytes, v: Any,
          when: int | None) -> None:
    """Store ``v`` (taken from ``src[key]``) as ``dst[dkey]`` with TTL ``when``.

    Carries what Redis carries when it rebuilds the object under another key: a
    string's encoding (see ``strenc``), a hash's field TTLs.
    """
    enc = strenc.encoding_of(src, key, v) if type(v) is bytes else None
    dst.set(dkey, v)
    if when is not None:
        dst.set_expire(dkey, when)
    if enc is not None:
        strenc.set_explicit(dst, dkey, v, strenc.carried(key, dkey, v, enc, when is not None))
    hook = getattr(v, "on_placed", None)
    if hook is not None:
        hook(dst, dkey)


# -- deleting and testing ----------------------------------------------------


@command("del", -2, "write", 1, -1, 1, group="generic")
def del_(c: Client, argv: list[bytes]) -> int:
    """DEL key [key ...]"""
    return _del(c, argv)


@command("unlink", -2, "write fast", 1, -1, 1, group="generic")
def unlink(c: Client, argv: list[bytes]) -> int:
    """UNLINK key [key ...]"""
    return _del(c, argv)


def _del(c: Client, argv: list[bytes]) -> int:
    db = c.db
    n = 0
    for k in argv[1:]:
        if db.delete(k):
            notify(c, "g", b"del", k)
            n += 1
    return n


@command("exists", -2, "readonly fast", 1, -1, 1, group="generic")
def exists(c: Client, argv: list[bytes]) -> int:
    """EXISTS key [key ...]"""
    db = c.db
    return sum(1 for k in argv[1:] if db.peek(k) is not None)


@command("touch", -2, "readonly fast", 1, -1, 1, group="generic")
def touch(c: Client, argv: list[bytes]) -> int:
    """TOUCH key [key ...]"""
    db = c.db
    return sum(1 for k in argv[1:] if db.lookup(k) is not None)


@command("type", 2, "readonly fast", 1, 1, 1, group="generic")
def type_(c: Client, argv: list[bytes]) -> SimpleString:
    """TYPE key"""
    v = c.db.peek(argv[1])
    return SimpleString(b"none" if v is None else type_name(v))


# -- listing -------------------------------------------------------------------


@command("keys", 2, "readonly", group="generic")
def keys(c: Client, argv: list[bytes]) -> list[bytes]:
    """KEYS pattern"""
    db = c.db
    pat = argv[1]
    now = c.engine.now_ms()
    exp = db.expires
    out = []
    for k in db.data:
        if match(pat, k) and not (exp and k in exp and exp[k] < now):
            out.append(k)
    return out


def parse_scan_options(argv: list[bytes], start: int, kind: str) -> tuple[int, bytes | None,
                                                                          bytes | None, bool]:
    """COUNT/MATCH/TYPE/NOVALUES of SCAN, HSCAN, SSCAN, ZSCAN (``kind`` is the command)."""
    count = 10
    pat: bytes | None = None
    typ: bytes | None = None
    novalues = False
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        left = n - i - 1
        if opt == b"count" and left >= 1:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
            i += 2
        elif opt == b"match" and left >= 1:
            pat = argv[i + 1]
            if pat == b"*":
                pat = None
            i += 2
        elif opt == b"type" and left >= 1 and kind == "scan":
            typ = argv[i + 1].lower()
            i += 2
        elif opt == b"novalues":
            if kind != "hscan":
                raise CommandError("ERR NOVALUES option can only be used in HSCAN")
            novalues = True
            i += 1
        else:
            raise CommandError(SYNTAX)
    return count, pat, typ, novalues


@command("scan", -2, "readonly", group="generic")
def scan(c: Client, argv: list[bytes]) -> list[Any]:
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]"""
    cursor = parse_cursor(argv[1])
    count, pat, typ, _ = parse_scan_options(argv, 2, "scan")
    db = c.db

    def keep(k: bytes) -> bool:
        if pat is not None and not match(pat, k):
            return False
        v = db.peek(k)  # lazily expires, as Redis's scan callback does
        if v is None:
            return False
        return typ is None or type_name(v) == typ

    nxt, page = scan_page(db, "scan_index", db.data, cursor, count, keep)
    return [b"%d" % nxt, page]


@command("dbsize", 1, "readonly fast", group="server")
def dbsize(c: Client, argv: list[bytes]) -> int:
    """DBSIZE"""
    return len(c.db.data)


@command("randomkey", 1, "readonly", group="generic")
def randomkey(c: Client, argv: list[bytes]) -> bytes | None:
    """RANDOMKEY"""
    db = c.db
    while db.data:
        i = _rng.randrange(len(db.data))
        k = next(itertools.islice(iter(db.data), i, None))
        if db.peek(k) is not None:
            return k
    return None


# -- renaming, copying, moving -------------------------------------------------


def _rename(c: Client, argv: list[bytes], nx: bool) -> Any:
    db = c.db
    src, dst = argv[1], argv[2]
    v = db.lookup(src)
    if v is None:
        raise CommandError(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    when = db.expires.get(src)
    old = db.peek(dst)
    if old is not None:
        if nx:
            return 0
        db.remove(dst)
    place(db, src, db, dst, v, when)
    db.remove(src)
    notify(c, "g", b"rename_from", src)
    notify(c, "g", b"rename_to", dst)
    overwritten(c, dst, old, v)
    return 1 if nx else OK


@command("rename", 3, "write", 1, 2, 1, group="generic")
def rename(c: Client, argv: list[bytes]) -> Any:
    """RENAME key newkey"""
    return _rename(c, argv, False)


@command("renamenx", 3, "write fast", 1, 2, 1, group="generic")
def renamenx(c: Client, argv: list[bytes]) -> Any:
    """RENAMENX key newkey"""
    return _rename(c, argv, True)


@command("copy", -3, "write denyoom", 1, 2, 1, group="generic")
def copy_(c: Client, argv: list[bytes]) -> int:
    """COPY source destination [DB destination-db] [REPLACE]"""
    src_db = c.db
    dst_db = src_db
    replace = False
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"replace":
            replace = True
            i += 1
        elif opt == b"db" and i + 1 < len(argv):
            dst_db = _db_index(c, argv[i + 1])
            i += 2
        else:
            raise CommandError(SYNTAX)
    key, newkey = argv[1], argv[2]
    if src_db is dst_db and key == newkey:
        raise CommandError(SAME_OBJECT)
    v = src_db.lookup(key)
    read_miss(c, key, v)
    if v is None:
        return 0
    when = src_db.expires.get(key)
    old = dst_db.peek(newkey)
    if old is not None:
        if not replace:
            return 0
        dst_db.remove(newkey)
    place(src_db, key, dst_db, newkey, dup_value(v), when)
    notify_db(c.engine, dst_db.index, "g", b"copy_to", newkey)
    overwritten(c, newkey, old, v, dst_db.index)
    return 1


@command("move", 3, "write fast", 1, 1, 1, group="generic")
def move(c: Client, argv: list[bytes]) -> int:
    """MOVE key db"""
    src = c.db
    dst = _db_index(c, argv[2])
    if dst is src:
        raise CommandError(SAME_OBJECT)
    key = argv[1]
    v = src.lookup(key)
    if v is None:
        return 0
    when = src.expires.get(key)
    if dst.peek(key) is not None:
        return 0
    place(src, key, dst, key, v, when)
    src.remove(key)
    notify(c, "g", b"move_from", key)
    notify_db(c.engine, dst.index, "g", b"move_to", key)
    return 1


# -- whole databases -----------------------------------------------------------


def _flush_flags(argv: list[bytes]) -> None:
    if len(argv) == 2 and argv[1].lower() in (b"sync", b"async"):
        return
    if len(argv) != 1:
        raise CommandError(SYNTAX)


@command("flushdb", -1, "write", group="server")
def flushdb(c: Client, argv: list[bytes]) -> Any:
    """FLUSHDB [ASYNC | SYNC]"""
    _flush_flags(argv)
    c.db.clear()
    if c.engine.tracking is not None:
        c.engine.tracking.flushed()
    return OK


@command("flushall", -1, "write", group="server")
def flushall(c: Client, argv: list[bytes]) -> Any:
    """FLUSHALL [ASYNC | SYNC]"""
    _flush_flags(argv)
    for db in c.engine.dbs:
        db.clear()
    if c.engine.tracking is not None:
        c.engine.tracking.flushed()
    # Redis's flushAllDataAndResetRDB: with save points set the snapshot is rewritten at
    # once (empty), so that a restart cannot bring the flushed data back
    if c.engine.persistence is not None:
        c.engine.persistence.after_flushall()
    return OK


@command("swapdb", 3, "write fast", group="server")
def swapdb(c: Client, argv: list[bytes]) -> Any:
    """SWAPDB index1 index2"""
    a = parse_int(argv[1], "ERR invalid first DB index")
    b = parse_int(argv[2], "ERR invalid second DB index")
    dbs = c.engine.dbs
    if not (0 <= a < len(dbs) and 0 <= b < len(dbs)):
        raise CommandError(DB_INDEX)
    if a != b:
        dbs[a].swap_contents(dbs[b])
    else:
        c.engine.dirty += 1
    return OK


# -- OBJECT ----------------------------------------------------------------------

_OBJECT_HELP = [
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Print this help.",
]

_POLICY_NOTE = (
    " Please note that when switching between policies at runtime LRU and LFU data"
    " will take some time to adjust."
)


@command("object", -2, "", group="generic")
def object_(c: Client, argv: list[bytes]) -> Any:
    """OBJECT <subcommand> [<arg> [value] [opt] ...]"""
    return dispatch(c, argv, "object")


@command("help", 2, "loading stale", parent="object", group="generic")
def object_help(c: Client, argv: list[bytes]) -> Any:
    """OBJECT HELP"""
    return list(_OBJECT_HELP)


@command("encoding", 3, "readonly", 2, 2, 1, parent="object", group="generic")
def object_encoding(c: Client, argv: list[bytes]) -> Any:
    """OBJECT ENCODING key"""
    db = c.db
    v = db.peek(argv[2])
    if v is None:
        return None
    if type(v) is bytes:
        return strenc.encoding_of(db, argv[2], v)
    return v.encoding()


@command("refcount", 3, "readonly", 2, 2, 1, parent="object", group="generic")
def object_refcount(c: Client, argv: list[bytes]) -> Any:
    """OBJECT REFCOUNT key"""
    # Redis 8 embeds the key in its value object: a value is never shared.
    return None if c.db.peek(argv[2]) is None else 1


@command("idletime", 3, "readonly", 2, 2, 1, parent="object", group="generic")
def object_idletime(c: Client, argv: list[bytes]) -> Any:
    """OBJECT IDLETIME key"""
    db = c.db
    key = argv[2]
    if db.peek(key) is None:
        return None
    if lfu.refresh_policy(c.engine):
        raise CommandError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked." + _POLICY_NOTE
        )
    now = c.engine.now_ms()
    return max(0, now - db.access.get(key, now)) // 1000


@command("freq", 3, "readonly", 2, 2, 1, parent="object", group="generic")
def object_freq(c: Client, argv: list[bytes]) -> Any:
    """OBJECT FREQ key"""
    db = c.db
    key = argv[2]
    if db.peek(key) is None:
        return None
    if not lfu.refresh_policy(c.engine):
        raise CommandError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked."
            + _POLICY_NOTE
        )
    return lfu.freq(db, key, c.engine.now_ms())
