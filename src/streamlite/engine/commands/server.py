"""Server commands: INFO, CONFIG, COMMAND, MEMORY, TIME, DEBUG, SHUTDOWN, MONITOR,
WAIT (SLOWLOG, LATENCY, MODULE: ``ops.py``).

What needs the process or other connections (SHUTDOWN, MONITOR, config changes
to the listener) goes through the front (``engine.front``); what needs files
(DEBUG RELOAD, CONFIG REWRITE) through the persistence layer or the front.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...splitargs import split_args
from .. import config as cfgmod
from .. import info as infomod
from ..args import parse_float, parse_int
from ..client import Client
from ..database import key_memory
from ..digest import dataset_digest, value_digest
from ..errors import NOT_INTEGER, SYNTAX, CommandError
from ..protected import allowed, protected_refusal
from ..registry import COMMANDS, Command, Handler, KeySpec, categories, command
from ..replies import OK, ErrorReply, RespSet, SimpleString, Verbatim
from ..subcommands import arity_ok, dispatch, help_lines, resolve

if TYPE_CHECKING:
    from ..core import Engine

# -- INFO -----------------------------------------------------------------------------


@command("info", -1, "loading stale", group="server")
def info(c: Client, argv: list[bytes]) -> object:
    """INFO [section [section ...]]"""
    names = infomod.select_sections([a.decode("utf-8", "replace") for a in argv[1:]])
    return Verbatim(infomod.render(c.engine, names))


# -- CONFIG ---------------------------------------------------------------------------

_CONFIG_HELP = [
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
]


@command("config", -2, "loading stale", group="server")
def config(c: Client, argv: list[bytes]) -> object:
    """CONFIG subcommand [argument ...]"""
    return dispatch(c, argv, "config")


def _csub(name: str, arity: int, flags: str = "admin noscript loading stale") -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="server", parent="config")


@_csub("help", 2, "loading stale")
def config_help(c: Client, argv: list[bytes]) -> object:
    """CONFIG HELP"""
    return help_lines("config", _CONFIG_HELP)


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


@_csub("get", -3)
def config_get(c: Client, argv: list[bytes]) -> object:
    """CONFIG GET parameter [parameter ...]"""
    found = cfgmod.config_get(c.engine, [_s(a) for a in argv[2:]])
    return {k.encode("utf-8", "surrogateescape"): v.encode("utf-8", "surrogateescape")
            for k, v in found.items()}


@_csub("set", -4)
def config_set(c: Client, argv: list[bytes]) -> object:
    """CONFIG SET parameter value [parameter value ...]"""
    if len(argv) % 2:
        raise CommandError(SYNTAX)
    eng = c.engine
    pairs: list[tuple[cfgmod.Spec, list[str]]] = []
    names: list[str] = []
    err_name: str | None = None
    err_text = ""
    unknown: str | None = None
    deny_loading = False
    seen: set[str] = set()
    for i in range(2, len(argv), 2):
        name = _s(argv[i])
        spec = cfgmod.lookup(name)
        if spec is None:
            if unknown is None and err_name is None:
                unknown = name
            continue
        if unknown is not None or err_name is not None or deny_loading:
            continue
        if "immutable" in spec.flags:
            err_name, err_text = name, "can't set immutable config"
            continue
        if "protected" in spec.flags and not allowed(
            eng.config.get("enable-protected-configs", "no"), c
        ):
            err_name, err_text = name, "can't set protected config"
            continue
        if eng.loading and "deny-loading" in spec.flags:
            deny_loading = True
            continue
        if spec.name in seen:
            err_name, err_text = name, "duplicate parameter"
            continue
        seen.add(spec.name)
        pairs.append((spec, cfgmod.split_multi(spec, _s(argv[i + 1]))))
        names.append(name.lower())
    if deny_loading:
        from ..errors import LOADING

        raise CommandError(LOADING)
    if unknown is not None:
        raise CommandError(f"ERR Unknown option or number of arguments for CONFIG SET - '{unknown}'")
    if err_name is not None:
        raise CommandError(
            f"ERR CONFIG SET failed (possibly related to argument '{err_name}') - {err_text}"
        )
    try:
        cfgmod.set_values(eng, pairs)
    except cfgmod.ConfigError as e:
        spec_name, reason = e.args
        shown = next((n for (s, _), n in zip(pairs, names, strict=True) if s.name == spec_name),
                     spec_name)
        raise CommandError(
            f"ERR CONFIG SET failed (possibly related to argument '{shown}') - {reason}"
        )
    if "maxmemory-policy" in seen:  # LFU counters start (or stop) at once, as in Redis
        from .. import lfu
        from ..evict import refresh_lrm

        lfu.refresh_policy(eng)
        refresh_lrm(eng)
    return OK


@_csub("resetstat", 2)
def config_resetstat(c: Client, argv: list[bytes]) -> object:
    """CONFIG RESETSTAT"""
    eng = c.engine
    eng.command_stats.clear()
    eng.latency_big.clear()
    eng.error_stats.clear()
    eng.stats_error_replies = 0
    eng.stats_commands = 0
    eng.stats_expired_keys = eng.stats_expired_subkeys = 0
    eng.stats_expire_cycle_cap_reached = 0
    eng.stats_expired_stale_perc = 0.0
    eng.stats_evicted_keys = 0
    eng.stats_keyspace_hits = eng.stats_keyspace_misses = 0
    eng.front.reset_stats()
    return OK


@_csub("rewrite", 2)
def config_rewrite(c: Client, argv: list[bytes]) -> object:
    """CONFIG REWRITE"""
    front = c.engine.front
    path = front.config_file()
    if path is None:
        raise CommandError("ERR The server is running without a config file")
    def split(line: str) -> list[str] | None:
        args = split_args(line.encode("utf-8", "surrogateescape"))
        return None if args is None else [_s(a) for a in args]

    try:
        cfgmod.rewrite_file(c.engine, path, split)
    except OSError as e:
        raise CommandError(f"ERR Rewriting config file: {e.strerror}")
    return OK


# -- COMMAND ------------------------------------------------------------------------

_FLAG_ORDER = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
               "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
               "fast", "no_auth", "may_replicate", "sentinel", "only_sentinel",
               "no_mandatory_keys", "protected", "no_async_loading", "no_multi",
               "allow_busy", "module_getkeys"]

def _categories(cmd: Command) -> list[SimpleString]:
    return [SimpleString(x.encode()) for x in categories(cmd)]


def _flags(cmd: Command) -> list[SimpleString]:
    fl = {f.replace("-", "_") for f in cmd.flags}
    out = [f for f in _FLAG_ORDER if f in fl]
    out += sorted(fl - set(_FLAG_ORDER) - {"movablekeys"})
    if cmd.keys_fn is not None or "movablekeys" in fl:
        out.append("movablekeys")
    return [SimpleString(f.encode()) for f in out]


def _key_spec(spec: KeySpec) -> dict[bytes, Any]:
    """One explicit key spec in Redis's COMMAND INFO layout."""
    out: dict[bytes, Any] = {}
    if spec.notes:
        out[b"notes"] = spec.notes.encode()
    out[b"flags"] = RespSet([SimpleString(f.encode()) for f in spec.flags.split()])
    if spec.unknown:
        out[b"begin_search"] = {b"type": b"unknown", b"spec": {}}
        out[b"find_keys"] = {b"type": b"unknown", b"spec": {}}
        return out
    if spec.keyword:
        out[b"begin_search"] = {b"type": b"keyword", b"spec": {
            b"keyword": spec.keyword.encode(), b"startfrom": spec.startfrom}}
    else:
        out[b"begin_search"] = {b"type": b"index", b"spec": {b"index": spec.index}}
    if spec.keynum:
        out[b"find_keys"] = {b"type": b"keynum", b"spec": {
            b"keynumidx": spec.keynumidx, b"firstkey": spec.firstkey,
            b"keystep": spec.keystep}}
    elif spec.unknown_find:
        out[b"find_keys"] = {b"type": b"unknown", b"spec": {}}
    else:
        out[b"find_keys"] = {b"type": b"range", b"spec": {
            b"lastkey": spec.lastkey, b"keystep": spec.keystep, b"limit": spec.limit}}
    return out


def _key_specs(cmd: Command) -> list[dict[bytes, Any]]:
    if cmd.specs:
        return [_key_spec(s) for s in cmd.specs]
    if cmd.first_key <= 0:
        return []
    ro = "readonly" in cmd.flags
    return [{
        b"flags": RespSet([SimpleString(b"RO" if ro else b"RW"), SimpleString(b"access")]),
        b"begin_search": {b"type": b"index", b"spec": {b"index": cmd.first_key}},
        b"find_keys": {b"type": b"range", b"spec": {
            b"lastkey": cmd.last_key - cmd.first_key if cmd.last_key >= 0 else cmd.last_key,
            b"keystep": cmd.step or 1, b"limit": 0}},
    }]


def _full_name(cmd: Command, parent: Command | None) -> bytes:
    return (f"{parent.name}|{cmd.name}" if parent else cmd.name).encode()


def command_info(cmd: Command, parent: Command | None = None) -> list[Any]:
    return [
        _full_name(cmd, parent),
        cmd.arity,
        RespSet(_flags(cmd)),
        cmd.first_key,  # Redis shows them for movable-keys commands too (ZUNIONSTORE: 1 1 1)
        cmd.last_key,
        cmd.step,
        RespSet(_categories(cmd)),
        RespSet(),
        RespSet(_key_specs(cmd)),  # RESP3 sets, as Redis sends them
        RespSet([command_info(s, cmd) for s in cmd.subcommands.values()]),
    ]


def command_docs(cmd: Command, parent: Command | None = None) -> dict[bytes, Any]:
    doc: dict[bytes, Any] = {
        b"summary": cmd.doc.encode(),
        b"since": b"1.0.0",
        b"group": cmd.group.encode(),
        b"complexity": b"",
    }
    if cmd.subcommands:
        doc[b"subcommands"] = {_full_name(s, cmd): command_docs(s, cmd)
                               for s in cmd.subcommands.values()}
    return doc


def _lookup(name: bytes) -> tuple[Command | None, Command | None]:
    """A command or ``container|sub`` name -> (command, parent)."""
    low = name.lower()
    if b"|" in low:
        top, _, sub = low.partition(b"|")
        parent = COMMANDS.get(top)
        if parent is None:
            return None, None
        return parent.subcommands.get(sub.decode("utf-8", "replace")), parent
    return COMMANDS.get(low), None


@command("command", -1, "loading stale", group="server")
def command_(c: Client, argv: list[bytes]) -> object:
    """COMMAND [subcommand [argument ...]]"""
    if len(argv) == 1:
        return [command_info(cmd) for cmd in COMMANDS.values()]
    return dispatch(c, argv, "command")


def _ksub(name: str, arity: int) -> Callable[[Handler], Handler]:
    return command(name, arity, "loading stale", group="server", parent="command")


_COMMAND_HELP = [
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
]


@_ksub("help", 2)
def command_help(c: Client, argv: list[bytes]) -> object:
    """COMMAND HELP"""
    return help_lines("command", _COMMAND_HELP)


@_ksub("count", 2)
def command_count(c: Client, argv: list[bytes]) -> object:
    """COMMAND COUNT"""
    return len(COMMANDS)


@_ksub("info", -2)
def command_info_(c: Client, argv: list[bytes]) -> object:
    """COMMAND INFO [command-name [command-name ...]]"""
    if len(argv) == 2:
        return [command_info(cmd) for cmd in COMMANDS.values()]
    out: list[Any] = []
    for name in argv[2:]:
        cmd, parent = _lookup(name)
        out.append(command_info(cmd, parent) if cmd is not None else None)
    return out


@_ksub("docs", -2)
def command_docs_(c: Client, argv: list[bytes]) -> object:
    """COMMAND DOCS [command-name [command-name ...]]"""
    if len(argv) == 2:
        return {cmd.name.encode(): command_docs(cmd) for cmd in COMMANDS.values()}
    out: dict[bytes, Any] = {}
    for name in argv[2:]:
        cmd, parent = _lookup(name)
        if cmd is not None:
            out[_full_name(cmd, parent)] = command_docs(cmd, parent)
    return out


@_ksub("list", -2)
def command_list(c: Client, argv: list[bytes]) -> object:
    """COMMAND LIST [FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"""
    from ..glob import match

    names: list[tuple[bytes, Command]] = []
    for cmd in COMMANDS.values():
        names.append((cmd.name.encode(), cmd))
        for s in cmd.subcommands.values():
            names.append((_full_name(s, cmd), s))
    if len(argv) == 2:
        return [n for n, _ in names]
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(SYNTAX)
    kind, val = argv[3].lower(), argv[4]
    if kind == b"module":
        return []
    if kind == b"aclcat":
        cat = b"@" + val.lower()
        return [n for n, cmd in names if cat in _categories(cmd)]
    if kind == b"pattern":
        return [n for n, _ in names if match(val, n, nocase=True)]
    raise CommandError(SYNTAX)


def _getkeys(argv: list[bytes]) -> tuple[Command, list[int]]:
    cmd = COMMANDS.get(argv[2].lower())
    if cmd is None:
        raise CommandError("ERR Invalid command specified")
    args = argv[2:]
    cmd = resolve(cmd, args) or cmd
    if cmd.first_key <= 0 and cmd.keys_fn is None:
        raise CommandError("ERR The command has no key arguments")
    if not arity_ok(cmd, len(args)):
        raise CommandError("ERR Invalid number of arguments specified for command")
    try:
        pos = cmd.key_positions(args)
    except (IndexError, ValueError, CommandError):
        pos = None
    if not pos:
        if "no-mandatory-keys" in cmd.flags or "no_mandatory_keys" in cmd.flags:
            return cmd, []
        raise CommandError("ERR Invalid arguments specified for command")
    return cmd, [p for p in pos if p < len(args)]


@_ksub("getkeys", -3)
def command_getkeys(c: Client, argv: list[bytes]) -> object:
    """COMMAND GETKEYS command [arg [arg ...]]"""
    _, pos = _getkeys(argv)
    return [argv[2 + p] for p in pos]


@_ksub("getkeysandflags", -3)
def command_getkeysandflags(c: Client, argv: list[bytes]) -> object:
    """COMMAND GETKEYSANDFLAGS command [arg [arg ...]]"""
    cmd, pos = _getkeys(argv)
    ro = "readonly" in cmd.flags
    default = "RO access" if ro else "RW access"
    args = argv[2:]
    out = []
    for p in pos:
        flags = (cmd.key_flags(args, p) if cmd.key_flags is not None else None) \
            or _spec_flags(cmd, args, p) or default
        out.append([args[p], RespSet([SimpleString(f.encode()) for f in flags.split()])])
    return out


def _spec_flags(cmd: Command, args: list[bytes], pos: int) -> str | None:
    """The flags of the key spec that finds the key at ``args[pos]`` (index and keyword
    specs are matched; a key no such spec finds gets the last ``unknown`` spec's)."""
    unknown = None
    for spec in cmd.specs:
        if spec.unknown:
            unknown = spec.flags
            continue
        if spec.keyword:
            kw = spec.keyword.encode().lower()
            first = next((i + 1 for i in range(spec.startfrom, len(args))
                          if args[i].lower() == kw), None)
        else:
            first = spec.index
        if first is None:
            continue
        last = first + spec.lastkey if spec.lastkey >= 0 else len(args) + spec.lastkey
        if first <= pos <= last and (pos - first) % spec.keystep == 0:
            return spec.flags
    return unknown


# -- MEMORY -----------------------------------------------------------------------------

_MEMORY_HELP = [
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
]


@command("memory", -2, "", group="server")
def memory(c: Client, argv: list[bytes]) -> object:
    """MEMORY subcommand [argument ...]"""
    return dispatch(c, argv, "memory")


def _msub(name: str, arity: int, flags: str = "") -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="server", parent="memory")


@_msub("help", 2, "loading stale")
def memory_help(c: Client, argv: list[bytes]) -> object:
    """MEMORY HELP"""
    return help_lines("memory", _MEMORY_HELP)


@_msub("usage", -3, "readonly")
def memory_usage(c: Client, argv: list[bytes]) -> object:
    """MEMORY USAGE key [SAMPLES count]"""
    if len(argv) == 5:
        if argv[3].lower() != b"samples":
            raise CommandError(SYNTAX)
        n = parse_int(argv[4], NOT_INTEGER)
        if n < 0:
            raise CommandError(NOT_INTEGER)
    elif len(argv) != 3:
        raise CommandError(SYNTAX)
    v = c.db.lookup(argv[2])
    if v is None:
        return None
    return key_memory(argv[2], v)


@_msub("stats", 2)
def memory_stats(c: Client, argv: list[bytes]) -> object:
    """MEMORY STATS"""
    eng = c.engine
    st = infomod.state(eng)
    used = eng.used_memory()
    out: dict[bytes, Any] = {
        b"peak.allocated": max(st["peak"], used),
        b"total.allocated": used,
        b"startup.allocated": st["startup_memory"],
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": 0,
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
        b"overhead.total": st["startup_memory"],
        b"keys.count": sum(len(db.data) for db in eng.dbs),
        b"keys.bytes-per-key": 0,
        b"dataset.bytes": max(0, used - st["startup_memory"]),
        b"dataset.percentage": 0.0,
        b"peak.percentage": 100.0,
        b"fragmentation": 1.0,
    }
    for db in eng.dbs:
        if db.data:
            out[b"db.%d" % db.index] = {b"overhead.hashtable.main": 0,
                                         b"overhead.hashtable.expires": 0}
    keys = out[b"keys.count"]
    if keys:
        out[b"keys.bytes-per-key"] = out[b"dataset.bytes"] // keys
    if used:
        out[b"dataset.percentage"] = out[b"dataset.bytes"] * 100.0 / used
    from ..replies import Double

    for k in (b"dataset.percentage", b"peak.percentage", b"fragmentation"):
        out[k] = Double(out[k])
    return out


@_msub("doctor", 2)
def memory_doctor(c: Client, argv: list[bytes]) -> object:
    """MEMORY DOCTOR"""
    return Verbatim(
        b"Hi Sam, I can't find any memory issue in your instance. "
        b"I can only account for what occurs on this base."
    )


@_msub("malloc-stats", 2)
def memory_malloc_stats(c: Client, argv: list[bytes]) -> object:
    """MEMORY MALLOC-STATS"""
    return Verbatim(b"Stats not supported for the current allocator")


@_msub("purge", 2)
def memory_purge(c: Client, argv: list[bytes]) -> object:
    """MEMORY PURGE"""
    import gc

    gc.collect()
    return OK


# -- TIME, WAIT, MONITOR, SHUTDOWN ---------------------------------------------------


@command("time", 1, "loading stale fast", group="server")
def time_(c: Client, argv: list[bytes]) -> object:
    """TIME"""
    us = c.engine.clock.us()
    return [b"%d" % (us // 1_000_000), b"%d" % (us % 1_000_000)]


@command("waitaof", 4, "", group="generic")
def waitaof(c: Client, argv: list[bytes]) -> object:
    """WAITAOF numlocal numreplicas timeout"""
    numlocal = parse_int(argv[1], NOT_INTEGER)
    parse_int(argv[2], NOT_INTEGER)
    t = parse_int(argv[3], "ERR timeout is not an integer or out of range")
    if t < 0:
        raise CommandError("ERR timeout is negative")
    p = c.engine.persistence
    aof_on = p is not None and p.aof_enabled()
    if numlocal and not aof_on:
        raise CommandError("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.")
    if p is not None and aof_on:
        p.fsync_aof()
    return [1 if aof_on else 0, 0]


@command("monitor", 1, "admin noscript loading stale", group="server")
def monitor(c: Client, argv: list[bytes]) -> object:
    """MONITOR"""
    if c.monitoring:
        return OK
    c.engine.front.monitor(c)
    return OK


@command("shutdown", -1, "admin noscript loading stale no-multi allow-busy", group="server")
def shutdown(c: Client, argv: list[bytes]) -> object:
    """SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"""
    save: bool | None = None
    now = force = abort = False
    for a in argv[1:]:
        o = a.lower()
        if o == b"nosave":
            save = False
        elif o == b"save":
            save = True
        elif o == b"now":
            now = True
        elif o == b"force":
            force = True
        elif o == b"abort":
            abort = True
        else:
            raise CommandError(SYNTAX)
    if abort and (save is not None or now or force):
        raise CommandError(SYNTAX)
    if c.engine.busy is not None and save is not False:  # a busy script: NOSAVE only
        from ..scripting.busy import busy_error

        raise CommandError(busy_error(c.engine.busy))
    return c.engine.front.shutdown(c, save, now, force, abort)


# -- DEBUG ------------------------------------------------------------------------------

_DEBUG_HELP = [
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "RELOAD",
    "    Save the snapshot on disk and reload it back to memory.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of the specified keys.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type.",
    "JMAP",
    "    Not supported.",
]


@command("debug", -2, "admin noscript loading stale protected", group="server")
def debug(c: Client, argv: list[bytes]) -> object:
    """DEBUG subcommand [argument ...]"""
    refusal = protected_refusal(c, "debug")
    if refusal is not None:
        raise CommandError(refusal)
    sub = argv[1].lower()
    eng = c.engine
    if sub == b"help":
        return help_lines("debug", _DEBUG_HELP)
    if sub == b"sleep" and len(argv) == 3:
        secs = parse_float(argv[2])
        eng.front.debug_sleep(secs)
        return OK
    if sub == b"object" and len(argv) == 3:
        v = c.db.lookup(argv[2])
        if v is None:
            raise CommandError("ERR no such key")
        enc = v.encoding() if hasattr(v, "encoding") else _string_encoding(v)
        return SimpleString(
            b"Value at:0x0 refcount:1 encoding:%s serializedlength:%d lru:0 lru_seconds_idle:0"
            % (enc, key_memory(argv[2], v))
        )
    if sub == b"reload":
        return _debug_reload(c, argv)
    if sub == b"loadaof":
        p = eng.persistence
        if p is None:
            raise CommandError("ERR AOF is not enabled")
        try:
            p.debug_loadaof()
        except RuntimeError as e:
            raise CommandError(str(e))
        except Exception as e:  # noqa: BLE001  (a load error: the data was not replaced)
            _log(eng, f"DEBUG LOADAOF failed: {e}")
            raise CommandError("ERR Error trying to load the AOF, check server logs.")
        _log(eng, "Append Only File loaded by DEBUG LOADAOF")
        return OK
    if sub == b"set-active-expire" and len(argv) == 3:
        eng.active_expire_enabled = parse_int(argv[2]) != 0
        return OK
    if sub == b"error" and len(argv) == 3:
        return ErrorReply(argv[2])
    if sub == b"log" and len(argv) == 3:
        eng.front.log("DEBUG LOG: " + _s(argv[2]))
        return OK
    if sub == b"digest-value":
        # as Redis: the stored value, even if logically expired (no lazy expiry)
        return [SimpleString(b"0" * 40 if (v := c.db.data.get(k)) is None
                             else value_digest(v, c.db.expires.get(k))) for k in argv[2:]]
    if sub == b"digest" and len(argv) == 2:
        return SimpleString(dataset_digest(eng))
    if sub == b"protocol" and len(argv) == 3:
        return _debug_protocol(c, argv[2].lower())
    if sub == b"change-repl-id":
        return OK
    if sub == b"quicklist-packed-threshold" and len(argv) == 3:
        return OK
    if sub in (b"jmap", b"stringmatch-len"):
        raise CommandError("ERR DEBUG JMAP is not supported by streamlite")
    raise CommandError(
        f"ERR unknown subcommand or wrong number of arguments for '{_s(argv[1])}'. "
        "Try DEBUG HELP."
    )


def _log(eng: Engine, msg: str) -> None:
    eng.front.log(msg)


def _debug_reload(c: Client, argv: list[bytes]) -> object:
    """DEBUG RELOAD [NOSAVE]: save the snapshot, then replace the data with what it holds."""
    eng = c.engine
    p = eng.persistence
    save = True
    for opt in argv[2:]:
        o = opt.lower()
        if o == b"nosave":
            save = False
        elif o not in (b"merge", b"noflush"):
            raise CommandError(SYNTAX)
        else:
            raise CommandError(f"ERR DEBUG RELOAD {_s(opt).upper()} is not supported by streamlite")
    if p is None:
        raise CommandError("ERR Error trying to save the DB, check the server logs.")
    if save:
        try:
            p.save()
        except (OSError, RuntimeError) as e:
            _log(eng, f"DEBUG RELOAD: error saving the DB: {e}")
            raise CommandError("ERR Error trying to save the DB, check the server logs.")
    try:
        p.debug_reload(save=False)
    except Exception as e:  # noqa: BLE001  (nothing was replaced)
        _log(eng, f"DEBUG RELOAD: error loading the snapshot: {e}")
        raise CommandError("ERR Error trying to load the RDB dump, check server logs.")
    _log(eng, "DB reloaded by DEBUG RELOAD")
    return OK


def _string_encoding(v: Any) -> bytes:
    if isinstance(v, bytes):
        try:
            parse_int(v)
            return b"int"
        except CommandError:
            return b"embstr" if len(v) <= 44 else b"raw"
    return b"unknown"


def _debug_protocol(c: Client, kind: bytes) -> object:
    from ..replies import NULL_ARRAY, Double, Push

    table: dict[bytes, Any] = {
        b"string": b"Hello World",
        b"integer": 12345,
        b"double": Double(3.141),
        b"bignum": b"1234567999999999999999999999999999999",
        b"null": None,
        b"array": [0, 1, 2],
        b"set": RespSet([0, 1, 2]),
        b"map": {0: False, 1: True, 2: False},
        b"attrib": SimpleString(b"Some real reply following the attribute"),
        b"push": Push([b"server-cpu-usage", 42]),
        b"verbatim": Verbatim(b"This is a verbatim\nstring"),
        b"true": True,
        b"false": False,
    }
    if kind not in table:
        raise CommandError(
            "ERR Wrong protocol type name. Please use one of the following: "
            "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
        )
    if kind == b"null" and c.protocol == 2:
        return NULL_ARRAY
    return table[kind]
