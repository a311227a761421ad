"""Replication commands: SYNC, PSYNC, REPLCONF, REPLICAOF/SLAVEOF, ROLE, WAIT.

The engine holds no replication state: these handlers check their arguments as
Redis does and hand the work to ``engine.replication`` (``replication_api.Replication``)
(``server/replication.py``). Without one (the embedded mode) the engine is a
master with no replicas: WAIT answers 0, ROLE ``master``, and replication itself
is refused.
"""

from __future__ import annotations

from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import NOT_INTEGER, CommandError
from ..registry import command
from ..replication_api import Replication
from ..replies import NO_REPLY, OK, SimpleString

_NO_REPL = "ERR replication needs the streamlite server (not available in embedded mode)"


def _repl(c: Client) -> Replication | None:
    return c.engine.replication


def _need(c: Client) -> Replication:
    repl = _repl(c)
    if repl is None:
        raise CommandError(_NO_REPL)
    return repl


@command("sync", 1, "admin noscript no-multi", group="server")
def sync(c: Client, argv: list[bytes]) -> Any:
    """SYNC"""
    _need(c).sync(c, None, -1)
    return NO_REPLY


@command("psync", -3, "admin noscript no-multi", group="server")
def psync(c: Client, argv: list[bytes]) -> Any:
    """PSYNC replicationid offset"""
    offset = parse_int(argv[2], NOT_INTEGER)
    _need(c).sync(c, argv[1], offset)
    return NO_REPLY


@command("replconf", -1, "admin noscript loading stale allow-busy", group="server")
def replconf(c: Client, argv: list[bytes]) -> Any:
    """REPLCONF option value [option value ...]"""
    if len(argv) % 2 == 0:
        raise CommandError("ERR syntax error")
    reply = _need(c).replconf(c, argv)
    if reply is None:
        return NO_REPLY
    if isinstance(reply, tuple):
        raise CommandError(reply[1])
    return reply


def _replicaof(c: Client, argv: list[bytes]) -> Any:
    repl = _need(c)
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        repl.no_one()
        return OK
    port = parse_int(argv[2], "ERR Invalid master port")
    if not 0 < port < 65536:
        raise CommandError("ERR Invalid master port")
    return SimpleString(repl.replicaof(argv[1].decode(), port).encode())


@command("replicaof", 3, "admin noscript stale", group="server")
def replicaof(c: Client, argv: list[bytes]) -> Any:
    """REPLICAOF host port | NO ONE"""
    return _replicaof(c, argv)


@command("slaveof", 3, "admin noscript stale", group="server")
def slaveof(c: Client, argv: list[bytes]) -> Any:
    """SLAVEOF host port | NO ONE"""
    return _replicaof(c, argv)


@command("role", 1, "noscript loading stale fast", group="server")
def role(c: Client, argv: list[bytes]) -> Any:
    """ROLE"""
    repl = _repl(c)
    if repl is None:
        return [b"master", 0, []]
    return repl.role()


@command("wait", 3, "", group="generic")
def wait(c: Client, argv: list[bytes]) -> Any:
    """WAIT numreplicas timeout"""
    n = parse_int(argv[1], NOT_INTEGER)
    t = parse_int(argv[2], "ERR timeout is not an integer or out of range")
    if t < 0:
        raise CommandError("ERR timeout is negative")
    repl = _repl(c)
    if repl is None:
        return 0
    reply = repl.wait(c, n, t)
    if reply is None:
        return NO_REPLY
    if isinstance(reply, tuple):
        raise CommandError(reply[1])
    return reply
