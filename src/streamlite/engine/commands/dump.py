"""DUMP and RESTORE: a key's value as a self-checking payload, and back.

DUMP writes Redis's payload (``rdbvalue.dump_redis_payload``: RDB type, Redis's
encoding of the value, RDB version 12, CRC-64), so a real Redis 8.2 RESTOREs it,
streams included (their streamlite-only state, IDMP and the XNACK zone, rides
after the value where Redis does not look). RESTORE reads Redis's payloads of
every type and version up to 12, and still our own format (``serialize``, version
``0x4000`` and up), which AOF bases and older DUMPs hold.
Replies and error texts are Redis's (``cluster.c`` restoreCommand): option
errors first, then BUSYKEY, the TTL, the payload's version and checksum, its
contents. RESTORE with a relative TTL propagates the absolute one plus
``ABSTTL``; an already expired TTL stores nothing (and propagates a DEL when
REPLACE removed a key).
"""

from __future__ import annotations

import struct
from typing import Any

from .. import lfu
from ..args import parse_int
from ..client import Client
from ..database import type_name
from ..errors import SYNTAX, CommandError
from ..notify import notify, overwritten
from ..rdbvalue import dump_redis_payload
from ..registry import command
from ..replies import OK
from ..serialize import FormatError, load_payload, payload_version

BUSYKEY = "BUSYKEY Target key name already exists."
BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_FORMAT = "ERR Bad data format"
# Redis RDB versions RESTORE accepts a payload of (Redis 8.x writes 12)
MAX_REDIS_RDB_VERSION = 12


@command("dump", 2, "readonly", 1, 1, 1, group="generic")
def dump(c: Client, argv: list[bytes]) -> Any:
    """DUMP key"""
    v = c.db.lookup(argv[1])
    if v is None:
        return None
    if type_name(v) == b"array":  # Redis 8.8's RDB encoding of arrays is not documented
        from ..serialize import dump_payload

        return dump_payload(v)
    return dump_redis_payload(v)


@command("restore", -4, "write denyoom", 1, 1, 1, group="generic")
def restore(c: Client, argv: list[bytes]) -> Any:
    """RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]"""
    replace = absttl = False
    idle = freq = -1
    j = 4
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        more = n - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(argv[j + 1])
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(argv[j + 1])
            if not 0 <= freq <= 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    db = c.db
    key = argv[1]
    if not replace and db.peek(key) is not None:
        raise CommandError(BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    payload = argv[3]
    ver = payload_version(payload)
    if ver is None or (ver > MAX_REDIS_RDB_VERSION and ver < 0x4000):
        raise CommandError(BAD_PAYLOAD)
    try:
        value = load_payload(payload, c.engine, deep=not c.is_master)
    except (FormatError, struct.error, ValueError, IndexError, OverflowError):
        raise CommandError(BAD_FORMAT)
    eng = c.engine
    old = db.peek(key) if replace else None
    deleted = db.remove(key) if replace else False
    now = eng.now_ms()
    if ttl and not absttl:
        ttl += now
    if ttl and ttl <= now and not eng.loading:  # checkAlreadyExpired
        if deleted:
            lazy = eng.config.get("lazyfree-lazy-server-del", False)
            eng.rewrite(c, [b"UNLINK" if lazy else b"DEL", key])
            notify(c, "g", b"del", key)
        else:
            eng.rewrite(c)
        return OK
    db.set(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            eng.rewrite(c, [argv[0], key, b"%d" % ttl, *argv[3:], b"ABSTTL"])
    hook = getattr(value, "on_placed", None)
    if hook is not None:
        hook(db, key)
    if lfu.is_lfu(eng):
        if freq >= 0:
            lfu.refresh_policy(eng)
            if db.lfu is not None:
                db.lfu[key] = (lfu._minutes(now) << 8) | freq
    elif idle >= 0:
        db.access[key] = now - idle * 1000
    notify(c, "g", b"restore", key)
    overwritten(c, key, old, value)
    return OK
