"""Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO, FUNCTION.

The interpreter, sandbox and conversions are in ``streamlite.engine.scripting``.
FUNCTION / FCALL are here too (FUNCTION DUMP / RESTORE are not implemented).
"""

from __future__ import annotations

from ..args import parse_int
from ..client import Client
from ..errors import CommandError, unknown_subcommand
from ..registry import command
from ..replies import OK, SimpleString
from ..scripting import busy, get_scripting

NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."


def _eval_keys(argv: list[bytes]) -> list[int]:
    """Key positions of EVAL-like commands (``numkeys`` keys after it)."""
    try:
        n = int(argv[2])
    except (ValueError, IndexError):
        return []
    if n < 0 or n > len(argv) - 3:
        return []
    return list(range(3, 3 + n))


def _eval(c: Client, argv: list[bytes], evalsha: bool, ro: bool) -> object:
    if evalsha and len(argv[1]) != 40:  # cannot match: Redis answers before anything else
        raise CommandError(NOSCRIPT)
    numkeys = parse_int(argv[2])
    if numkeys > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    s = get_scripting(c.engine)
    if evalsha:
        sha = argv[1].decode("latin-1").lower()
        script = s.scripts.get(sha)
        if script is None:
            raise CommandError(NOSCRIPT)
    else:
        sha, script = s.load(argv[1], from_eval=True)
    keys = argv[3 : 3 + numkeys]
    args = argv[3 + numkeys :]
    return s.run(c, sha, script, keys, args, ro, argv)


_EVAL_FLAGS = "noscript skip-monitor may-replicate no-mandatory-keys stale movablekeys"
_EVAL_RO_FLAGS = "noscript skip-monitor no-mandatory-keys stale readonly movablekeys"


@command("eval", -3, _EVAL_FLAGS, group="scripting", keys_fn=_eval_keys)
def eval_(c: Client, argv: list[bytes]) -> object:
    """EVAL script numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(c, argv, evalsha=False, ro=False)


@command("evalsha", -3, _EVAL_FLAGS, group="scripting", keys_fn=_eval_keys)
def evalsha(c: Client, argv: list[bytes]) -> object:
    """EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(c, argv, evalsha=True, ro=False)


@command("eval_ro", -3, _EVAL_RO_FLAGS, group="scripting", keys_fn=_eval_keys)
def eval_ro(c: Client, argv: list[bytes]) -> object:
    """EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(c, argv, evalsha=False, ro=True)


@command("evalsha_ro", -3, _EVAL_RO_FLAGS, group="scripting", keys_fn=_eval_keys)
def evalsha_ro(c: Client, argv: list[bytes]) -> object:
    """EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]"""
    return _eval(c, argv, evalsha=True, ro=True)


_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Print this help.",
]


@command("script", -2, "", group="scripting")
def script(c: Client, argv: list[bytes]) -> object:
    """SCRIPT subcommand [argument ...]"""
    sub = argv[1].lower()
    s = get_scripting(c.engine)
    if sub == b"load":
        sha, _ = s.load(argv[2], from_eval=False)
        return sha.encode()
    if sub == b"exists":
        return [1 if s.lookup(sha) is not None else 0 for sha in argv[2:]]
    if sub == b"flush":
        if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
            raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
        if len(argv) > 3:
            raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
        s.reset()
        return OK
    if sub == b"kill":
        busy.kill(s, is_eval=True)
        return OK
    if sub == b"debug":
        if c.multi is not None:
            raise CommandError("ERR SCRIPT DEBUG must be called outside MULTI")
        mode = argv[2].lower()
        if mode == b"no":
            return OK
        if mode in (b"yes", b"sync"):
            raise CommandError("ERR SCRIPT DEBUG (the Lua debugger) is not supported by streamlite")
        raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")
    if sub == b"help":
        return [SimpleString(line.encode()) for line in _HELP]
    raise CommandError(unknown_subcommand(argv[1], "script"))


for _name, _arity, _flags, _doc in (
    ("load", 3, "noscript stale", "SCRIPT LOAD script"),
    ("exists", -3, "noscript stale", "SCRIPT EXISTS sha1 [sha1 ...]"),
    ("flush", -2, "noscript", "SCRIPT FLUSH [ASYNC | SYNC]"),
    ("kill", 2, "noscript allow-busy", "SCRIPT KILL"),
    ("debug", 3, "noscript", "SCRIPT DEBUG <YES | SYNC | NO>"),
    ("help", 2, "loading stale", "SCRIPT HELP"),
):
    def _sub(c: Client, argv: list[bytes]) -> object:
        return script(c, argv)

    _sub.__doc__ = _doc
    command(_name, _arity, _flags, group="scripting", parent="script")(_sub)


# -- Functions ---------------------------------------------------------------------------


def _fcall(c: Client, argv: list[bytes], ro: bool) -> object:
    s = get_scripting(c.engine)
    if s.functions.find(argv[1]) is None:
        raise CommandError("ERR Function not found")
    try:
        numkeys = parse_int(argv[2])
    except CommandError:
        raise CommandError("ERR Bad number of keys provided")
    if numkeys > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return s.call_function(c, argv[1], argv[3 : 3 + numkeys], argv[3 + numkeys :], ro, argv)


@command("fcall", -3, _EVAL_FLAGS, group="scripting", keys_fn=_eval_keys)
def fcall(c: Client, argv: list[bytes]) -> object:
    """FCALL function numkeys [key [key ...]] [arg [arg ...]]"""
    return _fcall(c, argv, ro=False)


@command("fcall_ro", -3, _EVAL_RO_FLAGS, group="scripting", keys_fn=_eval_keys)
def fcall_ro(c: Client, argv: list[bytes]) -> object:
    """FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]"""
    return _fcall(c, argv, ro=True)


_FUNCTION_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Print this help.",
]


@command("function", -2, "", group="scripting")
def function(c: Client, argv: list[bytes]) -> object:
    """FUNCTION subcommand [argument ...]"""
    sub = argv[1].lower()
    s = get_scripting(c.engine)
    fns = s.functions
    if sub == b"load":
        replace = False
        for opt in argv[2:-1]:
            if opt.lower() != b"replace":
                raise CommandError("ERR Unknown option given: " + opt.decode("utf-8", "replace"))
            replace = True
        name = fns.load(argv[-1], replace)
        _propagate_as_is(c, argv)
        return name
    if sub == b"delete":
        fns.delete(argv[2])
        _propagate_as_is(c, argv)
        return OK
    if sub == b"flush":
        if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
            raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
        fns.flush()
        _propagate_as_is(c, argv)
        return OK
    if sub == b"list":
        return _function_list(c, argv)
    if sub == b"stats":
        running = busy.running_script(s)
        lua = {b"libraries_count": len(fns.libraries), b"functions_count": len(fns.functions)}
        return {b"running_script": running, b"engines": {b"LUA": lua}}
    if sub == b"kill":
        busy.kill(s, is_eval=False)
        return OK
    if sub == b"dump":
        return fns.dump()
    if sub == b"restore":
        if len(argv) > 4:
            raise CommandError(
                "ERR unknown subcommand or wrong number of arguments for '"
                + argv[1].decode("utf-8", "replace") + "'. Try FUNCTION HELP.")
        policy = argv[3].lower() if len(argv) == 4 else b"append"
        if policy not in (b"append", b"replace", b"flush"):
            raise CommandError("ERR Wrong restore policy given, value should be either FLUSH, "
                               "APPEND or REPLACE.")
        fns.restore(argv[2], policy)
        _propagate_as_is(c, argv)
        return OK
    if sub == b"help":
        return [SimpleString(line.encode()) for line in _FUNCTION_HELP]
    raise CommandError(unknown_subcommand(argv[1].decode("utf-8", "replace"), "function"))


def _propagate_as_is(c: Client, argv: list[bytes]) -> None:
    """A change to the libraries: counts as a write and goes to the AOF as it came
    (the ``function`` container itself carries no ``write`` flag)."""
    c.engine.dirty += 1
    c.engine.rewrite(c, argv)


def _function_list(c: Client, argv: list[bytes]) -> object:
    from .. import glob
    from ..replies import RespSet
    from ..scripting.runtime import FLAG_NAMES

    pattern: bytes | None = None
    with_code = False
    i = 2
    while i < len(argv):
        a = argv[i].lower()
        if not with_code and a == b"withcode":
            with_code = True
        elif pattern is None and a == b"libraryname":
            if i >= len(argv) - 1:
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise CommandError("ERR Unknown argument " + argv[i].decode("utf-8", "replace"))
        i += 1
    out = []
    for lib in get_scripting(c.engine).functions.libraries.values():
        if pattern is not None and not glob.match(pattern, lib.name, nocase=True):
            continue
        funcs = []
        for f in lib.functions.values():
            flags = RespSet(SimpleString(n.encode()) for n in FLAG_NAMES if n in f.flags)
            funcs.append({b"name": f.name, b"description": f.description, b"flags": flags})
        entry: dict[bytes, object] = {b"library_name": lib.name, b"engine": b"LUA",
                                      b"functions": funcs}
        if with_code:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


for _name, _arity, _flags, _doc in (
    ("load", -3, "noscript write denyoom", "FUNCTION LOAD [REPLACE] function-code"),
    ("delete", 3, "noscript write", "FUNCTION DELETE library-name"),
    ("flush", -2, "noscript write", "FUNCTION FLUSH [ASYNC | SYNC]"),
    ("list", -2, "noscript", "FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]"),
    ("stats", 2, "noscript allow-busy", "FUNCTION STATS"),
    ("kill", 2, "noscript allow-busy", "FUNCTION KILL"),
    ("dump", 2, "noscript", "FUNCTION DUMP"),
    ("restore", -3, "noscript write denyoom", "FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]"),
    ("help", 2, "loading stale", "FUNCTION HELP"),
):
    def _fsub(c: Client, argv: list[bytes]) -> object:
        return function(c, argv)

    _fsub.__doc__ = _doc
    command(_name, _arity, _flags, group="scripting", parent="function")(_fsub)

