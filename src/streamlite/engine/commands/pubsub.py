"""Pub/Sub commands: PUBLISH, SPUBLISH, (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBSUB.

Delivery, the subscription tables and how pushes and confirmations reach a
connection (the contract for fronts) are in the engine's ``pubsub.py``.
"""

from __future__ import annotations

from typing import Any

from .. import glob
from .. import pubsub as ps
from ..client import Client
from ..errors import CommandError
from ..pubsub import CHANNELS, PATTERNS, SHARD
from ..registry import command
from ..replies import SimpleString

_HELP = [
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Print this help.",
]


# -- commands ----------------------------------------------------------------------


@command("publish", 3, "pubsub loading stale fast may-replicate sentinel", group="pubsub")
def publish_cmd(c: Client, argv: list[bytes]) -> object:
    """PUBLISH channel message"""
    return ps.publish(c.engine, argv[1], argv[2])


@command("spublish", 3, "pubsub loading stale fast may-replicate", 1, 1, 1, group="pubsub")
def spublish_cmd(c: Client, argv: list[bytes]) -> object:
    """SPUBLISH shardchannel message"""
    return ps.spublish(c.engine, argv[1], argv[2])


@command("subscribe", -2, "pubsub noscript loading stale sentinel", group="pubsub")
def subscribe(c: Client, argv: list[bytes]) -> object:
    """SUBSCRIBE channel [channel ...]"""
    return ps.subscribe(c, CHANNELS, argv[1:])


@command("psubscribe", -2, "pubsub noscript loading stale sentinel", group="pubsub")
def psubscribe(c: Client, argv: list[bytes]) -> object:
    """PSUBSCRIBE pattern [pattern ...]"""
    return ps.subscribe(c, PATTERNS, argv[1:])


@command("ssubscribe", -2, "pubsub noscript loading stale", 1, -1, 1, group="pubsub")
def ssubscribe(c: Client, argv: list[bytes]) -> object:
    """SSUBSCRIBE shardchannel [shardchannel ...]"""
    return ps.subscribe(c, SHARD, argv[1:])


@command("unsubscribe", -1, "pubsub noscript loading stale sentinel", group="pubsub")
def unsubscribe(c: Client, argv: list[bytes]) -> object:
    """UNSUBSCRIBE [channel [channel ...]]"""
    return ps.unsubscribe(c, CHANNELS, argv[1:])


@command("punsubscribe", -1, "pubsub noscript loading stale sentinel", group="pubsub")
def punsubscribe(c: Client, argv: list[bytes]) -> object:
    """PUNSUBSCRIBE [pattern [pattern ...]]"""
    return ps.unsubscribe(c, PATTERNS, argv[1:])


@command("sunsubscribe", -1, "pubsub noscript loading stale", 1, -1, 1, group="pubsub")
def sunsubscribe(c: Client, argv: list[bytes]) -> object:
    """SUNSUBSCRIBE [shardchannel [shardchannel ...]]"""
    return ps.unsubscribe(c, SHARD, argv[1:])


@command("pubsub", -2, "", group="pubsub")
def pubsub(c: Client, argv: list[bytes]) -> object:
    """PUBSUB subcommand [argument ...]"""
    # Engine.execute already resolved the subcommand and checked its arity.
    sub = argv[1].lower()
    eng = c.engine
    if sub in (b"channels", b"shardchannels") and len(argv) > 3:
        raise CommandError(
            "ERR unknown subcommand or wrong number of arguments for '"
            + argv[1][:128].decode("utf-8", "replace") + "'. Try PUBSUB HELP."
        )
    if sub == b"channels":
        return _active(eng.channels, argv[2] if len(argv) > 2 else None)
    if sub == b"shardchannels":
        return _active(eng.shard_channels, argv[2] if len(argv) > 2 else None)
    if sub == b"numsub":
        return _numsub(eng.channels, argv[2:])
    if sub == b"shardnumsub":
        return _numsub(eng.shard_channels, argv[2:])
    if sub == b"numpat":
        return len(eng.patterns)
    return [SimpleString(line.encode()) for line in _HELP]


def _active(table: dict[bytes, dict[Client, None]], pattern: bytes | None) -> list[bytes]:
    return [ch for ch in table if pattern is None or glob.match(pattern, ch)]


def _numsub(table: dict[bytes, dict[Client, None]], names: list[bytes]) -> list[Any]:
    out: list[Any] = []
    for name in names:
        out.append(name)
        out.append(len(table.get(name, ())))
    return out


for _name, _arity, _flags, _doc in (
    ("channels", -2, "pubsub loading stale", "PUBSUB CHANNELS [pattern]"),
    ("numpat", 2, "pubsub loading stale", "PUBSUB NUMPAT"),
    ("numsub", -2, "pubsub loading stale", "PUBSUB NUMSUB [channel [channel ...]]"),
    ("shardchannels", -2, "pubsub loading stale", "PUBSUB SHARDCHANNELS [pattern]"),
    ("shardnumsub", -2, "pubsub loading stale",
     "PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]"),
    ("help", 2, "loading stale", "PUBSUB HELP"),
):
    def _sub(c: Client, argv: list[bytes]) -> object:
        return pubsub(c, argv)

    _sub.__doc__ = _doc
    command(_name, _arity, _flags, group="pubsub", parent="pubsub")(_sub)
