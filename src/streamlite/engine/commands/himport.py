"""HIMPORT PREPARE/SET/DISCARD/DISCARDALL (Redis 8.10): bulk creation of hashes that
share their field names.

Follows the command docs (no released Redis here to compare with). A connection
keeps named *fieldsets* (``Client.fieldsets``: name -> field names, dropped on
RESET and when the connection closes); ``HIMPORT SET key fieldset v1 v2 ...``
replaces ``key`` with a hash pairing the fieldset's names with the values (a key
of another type is WRONGTYPE, as redis-py's integration tests against Redis 8.10
expect; the page only says an existing key is overwritten). Redis
may store such hashes as "compact hashes"; here they are ordinary hashes (the
docs say the encoding changes no reply). Since the fieldset is connection state,
HIMPORT SET propagates as ``DEL key`` + ``HSET key field value ...``. Keyspace
events: ``hset`` (and the fields' subkey events), ``overwritten`` for a replaced key.
Error texts for what the docs forbid are streamlite's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..client import Client
from ..errors import CommandError
from ..notify import notify, notify_fields, overwritten
from ..registry import Handler, command
from ..replies import OK
from ..subcommands import dispatch, help_lines
from ..types.hash import Hash


def fieldsets(c: Client) -> dict[bytes, list[bytes]]:
    fs = c.fieldsets
    if fs is None:
        fs = c.fieldsets = {}
    return fs


@command("himport", -2, "", group="hash")
def himport(c: Client, argv: list[bytes]) -> object:
    """HIMPORT subcommand [argument ...]"""
    return dispatch(c, argv, "himport")


def _sub(name: str, arity: int, flags: str, **kw: Any) -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="hash", parent="himport", **kw)


@_sub("help", 2, "loading stale")
def himport_help(c: Client, argv: list[bytes]) -> object:
    """HIMPORT HELP"""
    return help_lines("himport", [
        "PREPARE <fieldset> <field> [<field> ...]",
        "    Define a fieldset (field names) for this connection.",
        "SET <key> <fieldset> <value> [<value> ...]",
        "    Create the hash at <key> from a fieldset and values in its order.",
        "DISCARD <fieldset>",
        "    Remove a fieldset.",
        "DISCARDALL",
        "    Remove every fieldset of this connection.",
    ])


@_sub("prepare", -4, "denyoom")
def himport_prepare(c: Client, argv: list[bytes]) -> object:
    """HIMPORT PREPARE fieldset-name field [field ...]"""
    fields = argv[3:]
    if len(set(fields)) != len(fields):
        raise CommandError("ERR duplicate field name in fieldset")
    fieldsets(c)[argv[2]] = list(fields)
    return OK


@_sub("set", -5, "write denyoom", first_key=2, last_key=2, step=1)
def himport_set(c: Client, argv: list[bytes]) -> object:
    """HIMPORT SET key fieldset-name value [value ...]"""
    key, name, values = argv[2], argv[3], argv[4:]
    fields = fieldsets(c).get(name)
    if fields is None:
        raise CommandError("ERR no such fieldset")
    if len(values) != len(fields):
        raise CommandError("ERR number of values does not match the fieldset")
    db = c.db
    old = db.get_typed(key, Hash)  # a hash is replaced; another type: WRONGTYPE
    h = Hash()
    pairs: list[bytes] = []
    for f, v in zip(fields, values, strict=True):
        pairs += [f, v]
    h.convert_if_needed(c.engine, *pairs, pairs=len(fields))
    for f, v in zip(fields, values, strict=True):
        h.set(f, v)
    h.convert_if_needed(c.engine)
    db.set(key, h)
    eng = c.engine
    eng.rewrite(c, [b"DEL", key], [b"HSET", key, *pairs])
    notify(c, "h", b"hset", key)
    notify_fields(c, b"hset", key, list(fields))
    overwritten(c, key, old, h)
    return OK


@_sub("discard", 3, "")
def himport_discard(c: Client, argv: list[bytes]) -> object:
    """HIMPORT DISCARD fieldset-name"""
    return 1 if fieldsets(c).pop(argv[2], None) is not None else 0


@_sub("discardall", 2, "")
def himport_discardall(c: Client, argv: list[bytes]) -> object:
    """HIMPORT DISCARDALL"""
    fs = fieldsets(c)
    n = len(fs)
    fs.clear()
    return n
