"""CLUSTER and ASKING, answered as a Redis server without cluster support answers them.

streamlite is a standalone server: to grow past one machine, run a real Redis Cluster
and connect with a ``redis+cluster://`` URL (docs/growing.md). redis-server started
without ``cluster-enabled yes`` still knows every CLUSTER subcommand, so a wrong number
of arguments or an unknown subcommand gets the usual error, and any well-formed call gets
``ERR This instance has cluster support disabled``; this module does the same (READONLY
and READWRITE, which answer the same, live with the connection commands). Tools that
probe for a cluster (redis-py, redis-cli, client libraries) therefore see a plain server.

The subcommand table below is Redis 8.2's (``COMMAND INFO cluster``): name, arity and
flags, so ``COMMAND`` introspection matches too; plus Redis 8.4's MIGRATION.
"""

from __future__ import annotations

from ..client import Client
from ..errors import CommandError
from ..registry import command
from ..subcommands import dispatch

DISABLED = "ERR This instance has cluster support disabled"

_ADMIN = "admin stale no_async_loading"
# name, arity, flags, syntax (redis.io)
SUBCOMMANDS: list[tuple[str, int, str, str]] = [
    ("addslots", -3, _ADMIN, "slot [slot ...]"),
    ("addslotsrange", -4, _ADMIN, "start-slot end-slot [start-slot end-slot ...]"),
    ("bumpepoch", 2, _ADMIN, ""),
    ("count-failure-reports", 3, "admin stale", "node-id"),
    ("countkeysinslot", 3, "stale", "slot"),
    ("delslots", -3, _ADMIN, "slot [slot ...]"),
    ("delslotsrange", -4, _ADMIN, "start-slot end-slot [start-slot end-slot ...]"),
    ("failover", -2, _ADMIN, "[FORCE | TAKEOVER]"),
    ("flushslots", 2, _ADMIN, ""),
    ("forget", 3, _ADMIN, "node-id"),
    ("getkeysinslot", 4, "stale", "slot count"),
    ("help", 2, "loading stale", ""),
    ("info", 2, "stale", ""),
    ("keyslot", 3, "stale", "key"),
    ("links", 2, "stale", ""),
    ("meet", -4, _ADMIN, "ip port [cluster-bus-port]"),
    # Redis 8.4's atomic slot migration (from its command page: no released Redis here)
    ("migration", -4, _ADMIN, "<IMPORT start-slot end-slot [start-slot end-slot ...] | "
     "CANCEL <ID task-id | ALL> | STATUS <ID task-id | ALL>>"),
    ("myid", 2, "stale", ""),
    ("myshardid", 2, "stale", ""),
    ("nodes", 2, "stale", ""),
    ("replicas", 3, "admin stale", "node-id"),
    ("replicate", 3, _ADMIN, "node-id"),
    ("reset", -2, "admin noscript stale", "[HARD | SOFT]"),
    ("saveconfig", 2, _ADMIN, ""),
    ("set-config-epoch", 3, _ADMIN, "config-epoch"),
    ("setslot", -4, _ADMIN, "slot <IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE>"),
    ("shards", 2, "loading stale", ""),
    ("slaves", 3, "admin stale", "node-id"),
    ("slot-stats", -4, "loading stale", "<SLOTSRANGE start-slot end-slot | ORDERBY metric [LIMIT limit] [ASC | DESC]>"),
    ("slots", 2, "loading stale", ""),
]

# subcommands Redis 8.2 (the reference binary of the differential tests) does not have
NEWER_THAN_82 = frozenset({"migration"})


@command("cluster", -2, "", group="cluster")
def cluster(c: Client, argv: list[bytes]) -> object:
    """CLUSTER subcommand [argument ...]"""
    return dispatch(c, argv, "cluster")


def _disabled(c: Client, argv: list[bytes]) -> object:
    raise CommandError(DISABLED)


def _register(name: str, arity: int, flags: str, syntax: str) -> None:
    def handler(c: Client, argv: list[bytes]) -> object:
        return _disabled(c, argv)

    handler.__doc__ = f"CLUSTER {name.upper()} {syntax}".rstrip()
    command(name, arity, flags, group="cluster", parent="cluster")(handler)


for _sub in SUBCOMMANDS:
    _register(*_sub)


@command("asking", 1, "fast", group="connection")
def asking(c: Client, argv: list[bytes]) -> object:
    """ASKING"""
    raise CommandError(DISABLED)
