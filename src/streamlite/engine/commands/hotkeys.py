"""HOTKEYS START/STOP/GET/RESET/HELP (Redis 8.6): see ``engine/hotkeys.py``.

Error texts for what the docs only forbid are streamlite's own (no released Redis
here to compare with).
"""

from __future__ import annotations

from collections.abc import Callable

from ..args import parse_int
from ..client import Client
from ..errors import SYNTAX, CommandError
from ..hotkeys import HotKeys
from ..registry import Handler, command
from ..replies import OK
from ..subcommands import dispatch, help_lines


@command("hotkeys", -2, "", group="server")
def hotkeys(c: Client, argv: list[bytes]) -> object:
    """HOTKEYS subcommand [argument ...]"""
    return dispatch(c, argv, "hotkeys")


def _sub(name: str, arity: int, flags: str = "admin noscript") -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="server", parent="hotkeys")


@_sub("help", 2, "loading stale")
def hotkeys_help(c: Client, argv: list[bytes]) -> object:
    """HOTKEYS HELP"""
    return help_lines("hotkeys", [
        "START METRICS <count> [CPU] [NET] [COUNT <k>] [DURATION <seconds>] "
        "[SAMPLE <ratio>] [SLOTS <count> <slot> ...]",
        "    Start tracking the hottest keys by CPU time and/or network bytes.",
        "STOP",
        "    Stop tracking; the results stay for HOTKEYS GET.",
        "GET",
        "    Return the current or last tracking session's results.",
        "RESET",
        "    Forget the results of a stopped session.",
    ])


def _positive(raw: bytes, what: str) -> int:
    v = parse_int(raw, f"ERR {what} must be a positive integer")
    if v < 1:
        raise CommandError(f"ERR {what} must be a positive integer")
    return v


@_sub("start", -4)
def hotkeys_start(c: Client, argv: list[bytes]) -> object:
    """HOTKEYS START METRICS count [CPU] [NET] [COUNT k] [DURATION seconds] [SAMPLE ratio] [SLOTS count slot [slot ...]]"""
    eng = c.engine
    if argv[2].upper() != b"METRICS":
        raise CommandError(SYNTAX)
    n = _positive(argv[3], "METRICS count")
    names = [a.upper() for a in argv[4:4 + n]]
    if len(names) != n or any(m not in (b"CPU", b"NET") for m in names) \
            or len(set(names)) != n:
        raise CommandError(SYNTAX)
    k, duration, ratio = 10, 0, 1
    seen: set[bytes] = set()
    j = 4 + n
    while j < len(argv):
        opt = argv[j].upper()
        if j + 1 >= len(argv) or opt in seen:
            raise CommandError(SYNTAX)
        seen.add(opt)
        if opt == b"COUNT":
            k = _positive(argv[j + 1], "COUNT")
        elif opt == b"DURATION":
            duration = _positive(argv[j + 1], "DURATION")
        elif opt == b"SAMPLE":
            ratio = _positive(argv[j + 1], "SAMPLE ratio")
        elif opt == b"SLOTS":
            raise CommandError("ERR SLOTS can only be used in cluster mode")
        else:
            raise CommandError(SYNTAX)
        j += 2
    now = eng.clock.ms()
    cur = eng.hotkeys
    if cur is not None:
        cur.expire(now)
        if cur.active:
            raise CommandError("ERR hotkeys tracking is already in progress")
    eng.hotkeys = HotKeys(now, b"CPU" in names, b"NET" in names, k, duration, ratio)
    return OK


@_sub("stop", 2)
def hotkeys_stop(c: Client, argv: list[bytes]) -> object:
    """HOTKEYS STOP"""
    hk = c.engine.hotkeys
    if hk is not None:
        hk.stop(c.engine.clock.ms())
    return OK


@_sub("get", 2)
def hotkeys_get(c: Client, argv: list[bytes]) -> object:
    """HOTKEYS GET"""
    hk = c.engine.hotkeys
    if hk is None:
        return None
    return [hk.report(c.engine.clock.ms())]


@_sub("reset", 2)
def hotkeys_reset(c: Client, argv: list[bytes]) -> object:
    """HOTKEYS RESET"""
    hk = c.engine.hotkeys
    if hk is not None:
        hk.expire(c.engine.clock.ms())
        if hk.active:
            raise CommandError("ERR hotkeys tracking is in progress: HOTKEYS STOP it first")
    c.engine.hotkeys = None
    return OK
