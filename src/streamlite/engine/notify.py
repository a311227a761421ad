"""Keyspace notifications (Redis's ``notify.c``).

A command that changed a key calls ``notify(c, cls, event, key)`` with Redis's
class letter and event name, in the order Redis does:

=====  =================================================  ==============================
class  events                                             config letter
=====  =================================================  ==============================
g      del, rename_from/to, expire, persist, copy_to,     ``g`` (generic)
       move_from/to, restore, ...
$ l s  string / list / set commands                        ``$`` ``l`` ``s``
h z t  hash / sorted set / stream commands                 ``h`` ``z`` ``t``
x      expired (lazy and active expiry)                   ``x``
e      evicted (``maxmemory-policy``, ``evict.py``)        ``e``
n      new (a key added to the keyspace)                  ``n`` (not in ``A``)
S T I V  subkey channels (Redis 8.8): the hash fields     ``S`` ``T`` ``I`` ``V``
       an event touched (``subkeys``), whatever the class
       letters say
m      keymiss (a read found no key)                      ``m`` (not in ``A``)
o c    overwritten, type_changed                          ``o`` ``c`` (not in ``A``)
=====  =================================================  ==============================

When the class is enabled by ``notify-keyspace-events``, it publishes
``__keyspace@<db>__:<key>`` -> event (``K``) and ``__keyevent@<db>__:<event>``
-> key (``E``) through ``pubsub.publish``, so subscribers get them as any
PUBLISH (RESP2 and RESP3, server and embedded). With notifications off (the
default: an empty config value) a call costs one dict lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .pubsub import publish

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine

_CONFIG = "notify-keyspace-events"

# config value -> (enabled classes, keyspace channel on, keyevent channel on)
_parsed: dict[str, tuple[frozenset[str], bool, bool]] = {}


def _flags(v: str) -> tuple[frozenset[str], bool, bool]:
    got = _parsed.get(v)
    if got is None:
        letters = frozenset(v.replace("A", "g$lshzxetd"))
        got = _parsed[v] = (letters, "K" in letters, "E" in letters)
    return got


def notify(c: Client, cls: str, event: bytes, key: bytes) -> None:
    """Notify ``event`` of class ``cls`` on ``key`` in the client's database."""
    v = c.engine.config.get(_CONFIG)
    if v:
        _publish(c.engine, c.db_index, v, cls, event, key)


def notify_db(engine: Engine, dbid: int, cls: str, event: bytes, key: bytes) -> None:
    """Notify ``event`` on ``key`` in database ``dbid`` (expiry, MOVE's target)."""
    v = engine.config.get(_CONFIG)
    if v:
        _publish(engine, dbid, v, cls, event, key)


def enabled(engine: Engine, cls: str) -> bool:
    """Whether events of class ``cls`` would be published (to skip costly work)."""
    v = engine.config.get(_CONFIG)
    if not v:
        return False
    letters, ks, ke = _flags(v)
    return cls in letters and (ks or ke)


def _publish(engine: Engine, dbid: int, v: str, cls: str, event: bytes, key: bytes) -> None:
    letters, ks, ke = _flags(v)
    if cls not in letters or engine.loading:
        return
    if ks:
        publish(engine, b"__keyspace@%d__:%b" % (dbid, key), event)
    if ke:
        publish(engine, b"__keyevent@%d__:%b" % (dbid, event), key)


# commands whose lookups never report keymiss: LOOKUP_NONOTIFY (objectCommandLookup), the
# keyspace walks (expireIfNeeded without a lookup) and
# XGROUP, a container whose subcommands all write (lookupKeyWrite)
_NO_KEYMISS = frozenset({"object", "memory", "debug", "xgroup", "scan", "keys", "randomkey"})


def subkeys(engine: Engine, dbid: int, event: bytes, key: bytes, fields: list[bytes]) -> None:
    """Redis 8.8's subkey notifications (follows its docs: no released Redis here to
    compare with). With ``S`` ``T`` ``I`` ``V`` in ``notify-keyspace-events`` (alone:
    neither ``K``/``E`` nor a class letter is needed), an event that touched hash
    fields publishes, in this order, ``__subkeyspace@<db>__:<key>`` ->
    ``<event>|<len>:<field>,...``, ``__subkeyevent@<db>__:<event>`` ->
    ``<len>:<key>|<len>:<field>,...``, one ``__subkeyspaceitem@<db>__:<key>\\n<field>``
    -> ``<event>`` per field, and ``__subkeyspaceevent@<db>__:<event>|<key>`` ->
    ``<len>:<field>,...``. An event holding ``|`` skips the first and last kind, a key
    holding a newline the item kind; nothing is sent without fields."""
    v = engine.config.get(_CONFIG)
    if not v or not fields or engine.loading:
        return
    letters = _flags(v)[0]
    s, t, i, vv = "S" in letters, "T" in letters, "I" in letters, "V" in letters
    if not (s or t or i or vv):
        return
    payload = b",".join(b"%d:%b" % (len(f), f) for f in fields)
    if s and b"|" not in event:
        publish(engine, b"__subkeyspace@%d__:%b" % (dbid, key), event + b"|" + payload)
    if t:
        publish(engine, b"__subkeyevent@%d__:%b" % (dbid, event),
                b"%d:%b|%b" % (len(key), key, payload))
    if i and b"\n" not in key:
        for f in fields:
            publish(engine, b"__subkeyspaceitem@%d__:%b\n%b" % (dbid, key, f), event)
    if vv and b"|" not in event:
        publish(engine, b"__subkeyspaceevent@%d__:%b|%b" % (dbid, event, key), payload)


def notify_fields(c: Client, event: bytes, key: bytes, fields: list[bytes]) -> None:
    """``subkeys`` in the client's database."""
    if c.engine.config.get(_CONFIG):
        subkeys(c.engine, c.db_index, event, key, fields)


def keymiss(engine: Engine, dbid: int, key: bytes) -> None:
    """A read found no ``key`` (Redis's ``lookupKeyRead`` miss): ``keymiss`` when
    the ``m`` class is on and the running command does not write."""
    v = engine.config.get(_CONFIG)
    cmd = engine.running
    if (v and cmd is not None and not cmd.is_write and cmd.name not in _NO_KEYMISS
            and "m" in _flags(v)[0]):
        _publish(engine, dbid, v, "m", b"keymiss", key)


def overwritten(c: Client, key: bytes, old: object, new: object, dbid: int | None = None) -> None:
    """``key``'s whole value ``old`` was replaced by ``new`` (SET, a *STORE, RENAME,
    COPY, RESTORE): ``overwritten`` (class ``o``) and, when the type differs,
    ``type_changed`` (class ``c``), as Redis 8.2. Nothing when ``old`` is None."""
    if old is None:
        return
    v = c.engine.config.get(_CONFIG)
    if v:
        idx = c.db_index if dbid is None else dbid
        _publish(c.engine, idx, v, "o", b"overwritten", key)
        if type(old) is not type(new):
            _publish(c.engine, idx, v, "c", b"type_changed", key)


def read_miss(c: Client, key: bytes, value: object) -> None:
    """A write command read ``key`` as Redis does with ``lookupKeyRead`` (a *STORE's
    sources, COPY's source, GETDEL, XACK, XREADGROUP, ...): a keyspace hit or miss
    in ``INFO stats``, and ``keymiss`` when it found nothing. (A read-only
    command's lookups are counted by ``Database``.)"""
    eng = c.engine
    cmd = eng.running
    if cmd is None or not cmd.is_write:
        return  # a read-only command's lookups are counted by Database
    if value is not None:
        eng.stats_keyspace_hits += 1
    else:
        eng.stats_keyspace_misses += 1
        v = eng.config.get(_CONFIG)
        if v and "m" in _flags(v)[0]:
            _publish(c.engine, c.db_index, v, "m", b"keymiss", key)
