"""Command implementations, one module per group; importing this registers them all."""

from ..registry import COMMANDS, apply_redis_meta
from . import (  # noqa: F401
    acl,
    arrays,
    backup,
    bitmaps,
    cluster,
    connection,
    dump,
    geo,
    hashes,
    hashes_ttl,
    himport,
    hotkeys,
    hyperloglog,
    increx,
    keys,
    keys_expire,
    listmove,
    lists,
    lolwut,
    ops,
    persist,
    pubsub,
    replication,
    scripting,
    server,
    setcard,
    sets,
    sort,
    stream_groups,
    stream_info,
    stream_read,
    streams,
    strings,
    transactions,
    zsets,
)

# the commands that run Lua, so a front can let a busy script yield (Engine.script_host)
for _name in (b"eval", b"evalsha", b"eval_ro", b"evalsha_ro", b"fcall", b"fcall_ro", b"exec"):
    COMMANDS[_name].runs_scripts = True

apply_redis_meta()
