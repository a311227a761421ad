"""Command implementations, one module per group; importing this registers them all."""

from . import (  # noqa: F401
    cluster,
    connection,
    dump,
    hashes,
    keys,
    lists,
    persist,
    pubsub,
    scripting,
    server,
    sets,
    stream_groups,
    stream_info,
    stream_read,
    streams,
    strings,
    transactions,
    zsets,
)
