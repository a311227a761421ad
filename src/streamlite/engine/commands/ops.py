"""Operations commands: SLOWLOG, LATENCY, MODULE.

The data live on the engine (``engine.slowlog``, ``engine.latency``),
filled by ``Engine.call`` through ``slowlog.observe`` when a command passes
``slowlog-log-slower-than`` or ``latency-monitor-threshold``. MODULE: streamlite
loads no modules; LIST is empty and LOAD fails as Redis's does for a library it
cannot load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import CommandError
from ..latency import monitor
from ..registry import Handler, command
from ..replies import OK, Verbatim
from ..slowlog import eng_slowlog
from ..subcommands import dispatch, help_lines

# -- SLOWLOG --------------------------------------------------------------------------


@command("slowlog", -2, "", group="server")
def slowlog(c: Client, argv: list[bytes]) -> object:
    """SLOWLOG subcommand [argument ...]"""
    return dispatch(c, argv, "slowlog")


def _ssub(name: str, arity: int, flags: str = "admin loading stale") -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="server", parent="slowlog")


@_ssub("help", 2, "loading stale")
def slowlog_help(c: Client, argv: list[bytes]) -> object:
    """SLOWLOG HELP"""
    return help_lines("slowlog", [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ])


_COUNT_RANGE = "ERR count should be greater than or equal to -1"


@_ssub("get", -2)
def slowlog_get(c: Client, argv: list[bytes]) -> object:
    """SLOWLOG GET [count]"""
    if len(argv) > 3:
        sub = argv[1].decode("utf-8", "replace")
        raise CommandError(
            f"ERR unknown subcommand or wrong number of arguments for '{sub}'. "
            "Try SLOWLOG HELP.")
    count = 10
    if len(argv) == 3:
        try:
            count = parse_int(argv[2], _COUNT_RANGE)
        except CommandError:
            count = -2
        if count < -1:
            raise CommandError(_COUNT_RANGE)
    entries = eng_slowlog(c.engine).entries
    if count == -1 or count > len(entries):
        count = len(entries)
    return [entries[i].reply() for i in range(count)]


@_ssub("len", 2)
def slowlog_len(c: Client, argv: list[bytes]) -> object:
    """SLOWLOG LEN"""
    return len(eng_slowlog(c.engine).entries)


@_ssub("reset", 2)
def slowlog_reset(c: Client, argv: list[bytes]) -> object:
    """SLOWLOG RESET"""
    eng_slowlog(c.engine).reset()
    return OK


# -- LATENCY --------------------------------------------------------------------------


@command("latency", -2, "", group="server")
def latency(c: Client, argv: list[bytes]) -> object:
    """LATENCY subcommand [argument ...]"""
    return dispatch(c, argv, "latency")


def _lsub(name: str, arity: int, flags: str = "admin noscript loading stale") -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="server", parent="latency")


def _now_s(c: Client) -> int:
    return c.engine.clock.ms() // 1000


@_lsub("help", 2, "loading stale")
def latency_help(c: Client, argv: list[bytes]) -> object:
    """LATENCY HELP"""
    return help_lines("latency", [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram "
        "for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ])


@_lsub("latest", 2)
def latency_latest(c: Client, argv: list[bytes]) -> object:
    """LATENCY LATEST"""
    return monitor(c.engine).latest()


@_lsub("history", 3)
def latency_history(c: Client, argv: list[bytes]) -> object:
    """LATENCY HISTORY event"""
    return monitor(c.engine).history(argv[2].decode("utf-8", "surrogateescape"))


@_lsub("graph", 3)
def latency_graph(c: Client, argv: list[bytes]) -> object:
    """LATENCY GRAPH event"""
    event = argv[2].decode("utf-8", "surrogateescape")
    g = monitor(c.engine).graph(event, _now_s(c))
    if g is None:
        raise CommandError(f"ERR No samples available for event '{event}'")
    return Verbatim(g.encode("utf-8", "surrogateescape"))


@_lsub("doctor", 2)
def latency_doctor(c: Client, argv: list[bytes]) -> object:
    """LATENCY DOCTOR"""
    return Verbatim(monitor(c.engine).doctor(c.engine.config, _now_s(c)).encode())


@_lsub("reset", -2)
def latency_reset(c: Client, argv: list[bytes]) -> object:
    """LATENCY RESET [event [event ...]]"""
    mon = monitor(c.engine)
    if len(argv) == 2:
        return mon.reset(None)
    return sum(mon.reset(a.decode("utf-8", "surrogateescape")) for a in argv[2:])


@_lsub("histogram", -2)
def latency_histogram(c: Client, argv: list[bytes]) -> object:
    """LATENCY HISTOGRAM [command [command ...]]"""
    from ..latency import cdf

    hist = c.engine.latency_hist()
    if len(argv) == 2:
        names = sorted(hist)
    else:
        names = []
        for a in argv[2:]:
            name = a.decode("utf-8", "replace").lower()
            base = name.split("|", 1)[0]
            cmd = c.engine.lookup_command(base.encode())
            if cmd is None or ("|" in name and name.split("|", 1)[1] not in cmd.subcommands):
                continue
            if name in hist:
                names.append(name)
            if "|" not in name:
                names += sorted(n for n in hist if n.startswith(name + "|"))
    out: dict[bytes, Any] = {}
    for name in names:
        counts = hist[name]
        out[name.encode()] = {b"calls": sum(counts.values()), b"histogram_usec": cdf(counts)}
    return out


# -- MODULE ---------------------------------------------------------------------------


@command("module", -2, "", group="server")
def module(c: Client, argv: list[bytes]) -> object:
    """MODULE subcommand [argument ...]"""
    return dispatch(c, argv, "module")


def _msub(name: str, arity: int,
          flags: str = "admin noscript no_async_loading protected") -> Callable[[Handler], Handler]:
    return command(name, arity, flags, group="server", parent="module")


@_msub("help", 2, "loading stale")
def module_help(c: Client, argv: list[bytes]) -> object:
    """MODULE HELP"""
    return help_lines("module", [
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations "
        "and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
    ])


@_msub("list", 2, "admin noscript")
def module_list(c: Client, argv: list[bytes]) -> object:
    """MODULE LIST"""
    return []


def _protected(c: Client) -> None:
    """From scripts and EXEC, which call the handler directly: the refusal that
    ``Engine.execute`` gives before authentication."""
    from ..protected import protected_refusal

    if not c.is_master:
        err = protected_refusal(c, "module")
        if err is not None:
            raise CommandError(err)


@_msub("load", -3)
def module_load(c: Client, argv: list[bytes]) -> object:
    """MODULE LOAD path [arg [arg ...]]"""
    _protected(c)
    raise CommandError("ERR Error loading the extension. Please check the server logs.")


@_msub("loadex", -3)
def module_loadex(c: Client, argv: list[bytes]) -> object:
    """MODULE LOADEX path [CONFIG name value [CONFIG name value ...]] [ARGS args [args ...]]"""
    _protected(c)
    raise CommandError("ERR Error loading the extension. Please check the server logs.")


@_msub("unload", 3)
def module_unload(c: Client, argv: list[bytes]) -> object:
    """MODULE UNLOAD name"""
    _protected(c)
    raise CommandError("ERR Error unloading module: no such module with that name")
