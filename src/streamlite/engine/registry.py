"""The command table: one entry per Redis command, filled by the ``@command`` decorator.

Each command module under ``streamlite.engine.commands`` registers its handlers
here at import time. Registration has one place: ``commands/__init__.py`` lists
every command module (a module imports no other to register it), and ``core.py``'s
``from . import commands`` is what imports that package
(``tests/engine/test_import_graph.py`` keeps both true).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .record import Record

if TYPE_CHECKING:
    from .client import Client

Handler = Callable[["Client", list[bytes]], Any]
KeysFn = Callable[[list[bytes]], list[int]]


class KeySpec(Record):
    """One of Redis's key specs, as ``COMMAND INFO`` shows it: where the search for
    keys begins (an ``index``, a ``keyword`` searched from ``startfrom``, or
    ``unknown``), how many follow (``lastkey``/``keystep``/``limit``) and what the
    command does with them (``flags``, e.g. ``"RW access update"``).

    A command registered without ``specs`` gets one spec derived from its
    first/last/step key positions. Immutable and hashable (a frozen record)."""

    __slots__ = _fields = ("flags", "index", "keyword", "startfrom", "lastkey", "keystep",
                           "limit", "unknown", "notes", "keynum", "keynumidx", "firstkey",
                           "unknown_find")
    flags: str
    index: int
    keyword: str
    startfrom: int
    lastkey: int
    keystep: int
    limit: int
    unknown: bool
    notes: str
    # find_keys of the "keynum" kind (EVAL, ZUNIONSTORE ...): the number of keys is
    # the argument at begin+keynumidx, the first key at begin+firstkey
    keynum: bool
    keynumidx: int
    firstkey: int
    # begin_search known but find_keys unknown
    unknown_find: bool

    def __init__(self, flags: str, index: int = 0, keyword: str = "", startfrom: int = 0,
                 lastkey: int = 0, keystep: int = 1, limit: int = 0, unknown: bool = False,
                 notes: str = "", keynum: bool = False, keynumidx: int = 0, firstkey: int = 0,
                 unknown_find: bool = False) -> None:
        put = object.__setattr__  # frozen: __setattr__ refuses
        put(self, "flags", flags)
        put(self, "index", index)
        put(self, "keyword", keyword)
        put(self, "startfrom", startfrom)
        put(self, "lastkey", lastkey)
        put(self, "keystep", keystep)
        put(self, "limit", limit)
        put(self, "unknown", unknown)
        put(self, "notes", notes)
        put(self, "keynum", keynum)
        put(self, "keynumidx", keynumidx)
        put(self, "firstkey", firstkey)
        put(self, "unknown_find", unknown_find)

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]  # Record's is None
        return hash(self._astuple())

    @property
    def acl_flags(self) -> int:
        """What an ACL key pattern must grant (Redis's ``ACLSelectorCheckKey``): read
        for ``access``, write for ``insert``/``delete``/``update`` (1 = R, 2 = W)."""
        fl = self.flags.split()
        need = 1 if "access" in fl else 0
        if "insert" in fl or "delete" in fl or "update" in fl:
            need |= 2
        return need

# Flags, as in Redis's command table (lower case): write, readonly, denyoom, admin,
# pubsub, noscript, blocking, loading, stale, fast, no-multi, allow-busy, movablekeys ...


class Command(Record):
    __slots__ = _fields = ("name", "handler", "arity", "flags", "first_key", "last_key",
                           "step", "group", "keys_fn", "doc", "subcommands", "acl", "specs",
                           "key_flags", "is_write", "is_blocking", "is_denyoom",
                           "skip_monitor", "monitor_first", "runs_scripts")
    name: str  # lower case, e.g. "xadd"
    handler: Handler
    arity: int  # Redis convention: >0 exact argc, <0 at least -arity
    flags: frozenset[str]
    first_key: int
    last_key: int
    step: int
    group: str
    keys_fn: KeysFn | None
    doc: str
    subcommands: dict[str, Command]
    # Redis's ACL categories ("@write @bitmap @slow") when they are not the ones
    # derived from flags and group (SORT: @set @sortedset @list ... @dangerous)
    acl: str
    specs: tuple[KeySpec, ...]  # explicit key specs (COMMAND INFO)
    # flags of the key at a position when they depend on the arguments (BITFIELD)
    key_flags: Callable[[list[bytes], int], str] | None
    # hot-path booleans, derived from flags
    is_write: bool
    is_blocking: bool
    is_denyoom: bool
    skip_monitor: bool  # admin commands are not shown to MONITOR
    monitor_first: bool  # scripts: shown to MONITOR before the commands they run
    runs_scripts: bool  # may run Lua (EVAL*, FCALL*, EXEC): see Engine.script_host

    def __init__(self, name: str, handler: Handler, arity: int, flags: frozenset[str],
                 first_key: int = 0, last_key: int = 0, step: int = 0, group: str = "generic",
                 keys_fn: KeysFn | None = None, doc: str = "",
                 subcommands: dict[str, Command] | None = None, acl: str = "",
                 specs: tuple[KeySpec, ...] = (),
                 key_flags: Callable[[list[bytes], int], str] | None = None,
                 is_write: bool = False, is_blocking: bool = False, is_denyoom: bool = False,
                 skip_monitor: bool = False, monitor_first: bool = False,
                 runs_scripts: bool = False) -> None:
        self.name = name
        self.handler = handler
        self.arity = arity
        self.flags = flags
        self.first_key = first_key
        self.last_key = last_key
        self.step = step
        self.group = group
        self.keys_fn = keys_fn
        self.doc = doc
        self.subcommands = {} if subcommands is None else subcommands
        self.acl = acl
        self.specs = specs
        self.key_flags = key_flags
        self.is_write = is_write
        self.is_blocking = is_blocking
        self.is_denyoom = is_denyoom
        self.skip_monitor = skip_monitor
        self.monitor_first = monitor_first
        self.runs_scripts = runs_scripts

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Positions of key arguments in ``argv`` (COMMAND GETKEYS, WATCH-like checks)."""
        if self.keys_fn is not None:
            return self.keys_fn(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, last + 1, self.step or 1))


COMMANDS: dict[bytes, Command] = {}


def command(
    name: str,
    arity: int,
    flags: str | Iterable[str] = "",
    first_key: int = 0,
    last_key: int = 0,
    step: int = 0,
    group: str = "generic",
    keys_fn: KeysFn | None = None,
    parent: str | None = None,
    acl: str = "",
    specs: tuple[KeySpec, ...] = (),
    key_flags: Callable[[list[bytes], int], str] | None = None,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as Redis command ``name``.

    ``parent`` registers a subcommand (``command("create", -5, parent="xgroup")``),
    used by ``COMMAND`` introspection; dispatch of subcommands is done by the
    container's own handler. ``acl`` and ``specs`` give Redis's ACL categories
    and key specs where deriving them from the flags and key positions would not;
    ``key_flags(argv, pos)`` the flags of a key that depend on the arguments.
    """
    fl = frozenset(flags.split() if isinstance(flags, str) else flags)

    def deco(fn: Handler) -> Handler:
        cmd = Command(
            name=name.lower(),
            handler=fn,
            arity=arity,
            flags=fl,
            first_key=first_key,
            last_key=last_key,
            step=step,
            group=group,
            keys_fn=keys_fn,
            doc=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
            is_write="write" in fl,
            is_blocking="blocking" in fl,
            is_denyoom="denyoom" in fl,
            skip_monitor="admin" in fl or "skip_monitor" in fl or "skip-monitor" in fl,
            monitor_first=("skip_monitor" in fl or "skip-monitor" in fl) and "admin" not in fl,
            acl=acl,
            specs=specs,
            key_flags=key_flags,
        )
        if parent is None:
            COMMANDS[name.lower().encode()] = cmd
        else:
            COMMANDS[parent.lower().encode()].subcommands[name.lower()] = cmd
        return fn

    return deco


def apply_redis_meta() -> None:
    """Give every command Redis 8.2 also has Redis's ACL categories and key specs
    (``redis_meta.META``, generated from the real server's ``COMMAND``), so that
    ``COMMAND INFO``, ``ACL CAT`` and the ACL key checks agree with Redis."""
    from .redis_meta import META

    made: dict[tuple[object, ...], KeySpec] = {}  # 52 distinct specs among 233: shared

    def spec(t: tuple[object, ...]) -> KeySpec:
        ks = made.get(t)
        if ks is None:
            ks = made[t] = new_spec(t)
        return ks

    def new_spec(t: tuple[object, ...]) -> KeySpec:
        flags, begin, find, notes = t
        kw: dict[str, Any] = {"flags": flags, "notes": notes}
        assert isinstance(begin, tuple) and isinstance(find, tuple)
        if begin[0] == "index":
            kw["index"] = begin[1]
        elif begin[0] == "keyword":
            kw["keyword"], kw["startfrom"] = begin[1], begin[2]
        else:
            kw["unknown"] = True
        if find[0] == "range":
            kw["lastkey"], kw["keystep"], kw["limit"] = find[1], find[2], find[3]
        elif find[0] == "keynum":
            kw["keynum"] = True
            kw["keynumidx"], kw["firstkey"], kw["keystep"] = find[1], find[2], find[3]
        elif begin[0] != "unknown":
            kw["unknown_find"] = True
        return KeySpec(**kw)

    def put(cmd: Command, name: str) -> None:
        meta = META.get(name)
        if meta is None:
            return
        cats, specs = meta
        if cats:
            cmd.acl = cats
        cmd.specs = tuple(spec(s) for s in specs)

    for top in COMMANDS.values():
        put(top, top.name)
        for sub in top.subcommands.values():
            put(sub, f"{top.name}|{sub.name}")


# -- ACL categories not given by Redis's table: derived as Redis 8 lists them --------

_GROUP_CATEGORY = {
    "string": "@string", "list": "@list", "hash": "@hash", "set": "@set",
    "sorted-set": "@sortedset", "stream": "@stream", "pubsub": "@pubsub",
    "connection": "@connection", "transactions": "@transaction",
    "scripting": "@scripting", "generic": "@keyspace", "hyperloglog": "@hyperloglog",
    "geo": "@geo", "bitmap": "@bitmap",
}

# the order of Redis's ACL category table (acl.c), in which COMMAND INFO lists them
_ACL_ORDER = {c: i for i, c in enumerate((
    "@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string",
    "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow",
    "@blocking", "@dangerous", "@connection", "@transaction", "@scripting"))}


def categories(cmd: Command) -> list[str]:
    """The ACL categories of ``cmd`` as COMMAND INFO lists them (``@write`` ...): its
    ``acl`` text (from Redis's table) or, without one, derived from its flags and group."""
    if cmd.acl:
        return cmd.acl.split()
    fl = cmd.flags
    cats = []
    if "write" in fl:
        cats.append("@write")
    if "readonly" in fl and cmd.group != "scripting":
        cats.append("@read")
    if "admin" in fl:
        cats += ["@admin", "@dangerous"]
    if "pubsub" in fl or cmd.group == "pubsub":
        cats.append("@pubsub")
    g = _GROUP_CATEGORY.get(cmd.group)
    if g and g not in cats:
        cats.append(g)
    cats.append("@fast" if "fast" in fl else "@slow")
    if "blocking" in fl:
        cats.append("@blocking")
    cats.sort(key=lambda x: _ACL_ORDER.get(x, len(_ACL_ORDER)))
    return cats
