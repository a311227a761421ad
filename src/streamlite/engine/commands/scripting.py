"""Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT (``eval.c``).

The interpreter, sandbox and conversions are in ``streamlite.engine.scripting``.
FUNCTION / FCALL are not implemented.
"""

from __future__ import annotations

from ..args import parse_int
from ..client import Client
from ..errors import CommandError, unknown_subcommand
from ..registry import command
from ..replies import OK, SimpleString
from ..scripting import get_scripting

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
    return s.run(c, sha, script, keys, args, ro)


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
        raise CommandError("NOTBUSY No scripts in execution right now.")
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
    raise CommandError(unknown_subcommand(argv[1].decode("utf-8", "replace"), "script"))


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
