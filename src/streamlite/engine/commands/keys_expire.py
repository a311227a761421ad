"""Key expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT), TTL, PTTL,
EXPIRETIME, PEXPIRETIME, PERSIST.

Propagation as Redis: a TTL that was set goes to the AOF as ``PEXPIREAT key <abs ms>``
(options kept); a time already in the past deletes the key and goes as ``DEL``.
"""

from __future__ import annotations

from typing import Any

from ..client import Client
from ..errors import CommandError
from ..expiry import expire_cmd_ms
from ..notify import notify
from ..registry import command

_NX, _XX, _GT, _LT = 1, 2, 4, 8


def _expire_flags(argv: list[bytes]) -> int:
    flags = 0
    for a in argv[3:]:
        o = a.lower()
        if o == b"nx":
            flags |= _NX
        elif o == b"xx":
            flags |= _XX
        elif o == b"gt":
            flags |= _GT
        elif o == b"lt":
            flags |= _LT
        else:
            raise CommandError(f"ERR Unsupported option {a.decode('utf-8', 'replace')}")
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _GT and flags & _LT:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire_generic(c: Client, argv: list[bytes], unit_ms: int, relative: bool) -> int:
    flags = _expire_flags(argv)
    eng = c.engine
    cmd = argv[0].decode("utf-8", "replace").lower()
    when = expire_cmd_ms(argv[2], unit_ms, eng.now_ms() if relative else 0, cmd)
    db = c.db
    key = argv[1]
    if db.lookup(key) is None:
        return 0
    if flags:
        cur = db.expires.get(key)
        if flags & _NX and cur is not None:
            return 0
        if flags & _XX and cur is None:
            return 0
        if flags & _GT and (cur is None or when <= cur):
            return 0
        if flags & _LT and cur is not None and when >= cur:
            return 0
    if when <= eng.now_ms() and not eng.loading and not c.is_master:
        db.remove(key)
        eng.rewrite(c, [b"DEL", key])
        notify(c, "g", b"del", key)
        return 1
    db.set_expire(key, when)
    notify(c, "g", b"expire", key)
    if cmd != "pexpireat":
        eng.rewrite(c, [b"PEXPIREAT", key, b"%d" % when, *argv[3:]])
    return 1


@command("expire", -3, "write fast", 1, 1, 1, group="generic")
def expire(c: Client, argv: list[bytes]) -> int:
    """EXPIRE key seconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, 1000, True)


@command("pexpire", -3, "write fast", 1, 1, 1, group="generic")
def pexpire(c: Client, argv: list[bytes]) -> int:
    """PEXPIRE key milliseconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, 1, True)


@command("expireat", -3, "write fast", 1, 1, 1, group="generic")
def expireat(c: Client, argv: list[bytes]) -> int:
    """EXPIREAT key unix-time-seconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, 1000, False)


@command("pexpireat", -3, "write fast", 1, 1, 1, group="generic")
def pexpireat(c: Client, argv: list[bytes]) -> int:
    """PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]"""
    return _expire_generic(c, argv, 1, False)


def _ttl_generic(c: Client, argv: list[bytes], ms: bool, absolute: bool) -> Any:
    db = c.db
    key = argv[1]
    if db.peek(key) is None:
        return -2
    when = db.expires.get(key)
    if when is None:
        return -1
    t = when if absolute else max(0, when - c.engine.now_ms())
    return t if ms else (t + 500) // 1000


@command("ttl", 2, "readonly fast", 1, 1, 1, group="generic")
def ttl(c: Client, argv: list[bytes]) -> Any:
    """TTL key"""
    return _ttl_generic(c, argv, False, False)


@command("pttl", 2, "readonly fast", 1, 1, 1, group="generic")
def pttl(c: Client, argv: list[bytes]) -> Any:
    """PTTL key"""
    return _ttl_generic(c, argv, True, False)


@command("expiretime", 2, "readonly fast", 1, 1, 1, group="generic")
def expiretime(c: Client, argv: list[bytes]) -> Any:
    """EXPIRETIME key"""
    return _ttl_generic(c, argv, False, True)


@command("pexpiretime", 2, "readonly fast", 1, 1, 1, group="generic")
def pexpiretime(c: Client, argv: list[bytes]) -> Any:
    """PEXPIRETIME key"""
    return _ttl_generic(c, argv, True, True)


@command("persist", 2, "write fast", 1, 1, 1, group="generic")
def persist(c: Client, argv: list[bytes]) -> int:
    """PERSIST key"""
    db = c.db
    if db.lookup(argv[1]) is None:
        return 0
    if not db.persist(argv[1]):
        return 0
    notify(c, "g", b"persist", argv[1])
    return 1
