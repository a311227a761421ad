"""Pub/Sub: PUBLISH, SPUBLISH, (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBSUB (``pubsub.c``).

State: ``engine.channels`` / ``engine.patterns`` / ``engine.shard_channels`` map a
channel (or pattern) to its subscribers in subscription order; each client keeps
its own sets in ``c.channels`` / ``c.patterns`` / ``c.shard_channels``.

How messages and confirmations reach a connection (the contract for fronts):

1. **Messages** (``message``, ``pmessage``, ``smessage``) are delivered to each
   subscriber with ``client.push(Push([...]))``: a RESP3 push (``>``) or, for
   RESP2, a plain array; encode with ``streamlite.protocol.resp.encode(msg,
   client.protocol)``. A front writes them to the subscriber's connection in
   the order they were pushed.
2. A push can be made **to the client whose command is running** (a RESP3
   client publishing to a channel it is subscribed to, or a script doing it).
   Redis 7.2+ sends such pushes *after* that command's reply, so a front must
   hold pushes that arrive for a client while ``engine.execute`` runs for that
   same client, and write them right after the reply. Pushes for other clients
   are written at once.
3. **Subscription confirmations are replies, not pushes.** (P|S)SUBSCRIBE and
   (P|S)UNSUBSCRIBE return one ``Push`` when they produce one confirmation, and
   a ``MultiReply`` (``engine.replies``) of several ``Push`` values when they
   produce more (``SUBSCRIBE a b`` answers twice). A front writes the elements
   of a ``MultiReply`` one after the other as separate replies
   (``resp.encode`` does exactly that); an in-process front hands them to the
   client as separate responses. Inside EXEC they end up inline in the EXEC
   array, byte for byte as Redis writes them.
4. ``Engine.drop_client(c)`` forgets a closed connection's subscriptions;
   RESET calls ``unsubscribe_all(c, notify=False)``.

RESP2 subscribed mode (only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET)
is enforced in ``Engine.execute``; PING answers ``["pong", msg]`` there
(``connection.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import glob
from ..client import Client
from ..errors import CommandError
from ..registry import command
from ..replies import MultiReply, Push, SimpleString

if TYPE_CHECKING:
    from ..core import Engine

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


# -- publishing (usable by other modules, e.g. keyspace notifications) ------------


def publish(engine: Engine, channel: bytes, message: bytes) -> int:
    """Deliver ``message`` to ``channel``'s subscribers and matching patterns.

    Returns the number of deliveries (a client matching twice counts twice).
    """
    receivers = 0
    subs = engine.channels.get(channel)
    if subs:
        for c in list(subs):
            c.push(Push([b"message", channel, message]))
            receivers += 1
    if engine.patterns:
        for pattern, clients in list(engine.patterns.items()):
            if glob.match(pattern, channel):
                for c in list(clients):
                    c.push(Push([b"pmessage", pattern, channel, message]))
                    receivers += 1
    return receivers


def spublish(engine: Engine, channel: bytes, message: bytes) -> int:
    """Deliver ``message`` to the subscribers of shard channel ``channel``."""
    subs = engine.shard_channels.get(channel)
    if not subs:
        return 0
    for c in list(subs):
        c.push(Push([b"smessage", channel, message]))
    return len(subs)


# -- subscription bookkeeping --------------------------------------------------------


def _count(c: Client) -> int:
    """Redis's ``clientSubscriptionsCount``: channels plus patterns."""
    return len(c.channels) + len(c.patterns)


class _Kind:
    """One of the three subscription kinds: the per-client set, the engine map,
    the confirmation verbs and which count they report."""

    __slots__ = ("attr", "sub", "unsub", "shard")

    def __init__(self, attr: str, sub: bytes, unsub: bytes, shard: bool) -> None:
        self.attr = attr
        self.sub = sub
        self.unsub = unsub
        self.shard = shard

    def mine(self, c: Client) -> set[bytes]:
        return getattr(c, self.attr)  # type: ignore[no-any-return]

    def table(self, engine: Engine) -> dict[bytes, dict[Client, None]]:
        return getattr(engine, self.attr)  # type: ignore[no-any-return]

    def count(self, c: Client) -> int:
        return len(c.shard_channels) if self.shard else _count(c)


CHANNELS = _Kind("channels", b"subscribe", b"unsubscribe", False)
PATTERNS = _Kind("patterns", b"psubscribe", b"punsubscribe", False)
SHARD = _Kind("shard_channels", b"ssubscribe", b"sunsubscribe", True)


def _reply(out: list[Push]) -> Any:
    return out[0] if len(out) == 1 else MultiReply(out)


def _subscribe(c: Client, kind: _Kind, names: list[bytes]) -> Any:
    mine = kind.mine(c)
    table = kind.table(c.engine)
    out: list[Push] = []
    for name in names:
        if name not in mine:
            mine.add(name)
            table.setdefault(name, {})[c] = None
        out.append(Push([kind.sub, name, kind.count(c)]))
    return _reply(out)


def _drop(c: Client, kind: _Kind, name: bytes) -> bool:
    mine = kind.mine(c)
    if name not in mine:
        return False
    mine.discard(name)
    table = kind.table(c.engine)
    subs = table.get(name)
    if subs is not None:
        subs.pop(c, None)
        if not subs:
            del table[name]
    return True


def _unsubscribe(c: Client, kind: _Kind, names: list[bytes]) -> Any:
    out: list[Push] = []
    if not names:
        names = sorted(kind.mine(c))  # Redis's order is its dict's: any order is fine
        if not names:
            return Push([kind.unsub, None, kind.count(c)])
    for name in names:
        _drop(c, kind, name)
        out.append(Push([kind.unsub, name, kind.count(c)]))
    return _reply(out)


def unsubscribe_all(c: Client, notify: bool = False) -> list[Push]:
    """Drop every subscription of ``c`` (RESET, disconnect); the confirmations
    are returned (not pushed) when ``notify``."""
    out: list[Push] = []
    for kind in (CHANNELS, PATTERNS, SHARD):
        for name in sorted(kind.mine(c)):
            _drop(c, kind, name)
            if notify:
                out.append(Push([kind.unsub, name, kind.count(c)]))
    return out


# -- commands ----------------------------------------------------------------------


@command("publish", 3, "pubsub loading stale fast may-replicate sentinel", group="pubsub")
def publish_cmd(c: Client, argv: list[bytes]) -> object:
    """PUBLISH channel message"""
    return publish(c.engine, argv[1], argv[2])


@command("spublish", 3, "pubsub loading stale fast may-replicate", 1, 1, 1, group="pubsub")
def spublish_cmd(c: Client, argv: list[bytes]) -> object:
    """SPUBLISH shardchannel message"""
    return spublish(c.engine, argv[1], argv[2])


@command("subscribe", -2, "pubsub noscript loading stale sentinel", group="pubsub")
def subscribe(c: Client, argv: list[bytes]) -> object:
    """SUBSCRIBE channel [channel ...]"""
    return _subscribe(c, CHANNELS, argv[1:])


@command("psubscribe", -2, "pubsub noscript loading stale sentinel", group="pubsub")
def psubscribe(c: Client, argv: list[bytes]) -> object:
    """PSUBSCRIBE pattern [pattern ...]"""
    return _subscribe(c, PATTERNS, argv[1:])


@command("ssubscribe", -2, "pubsub noscript loading stale", 1, -1, 1, group="pubsub")
def ssubscribe(c: Client, argv: list[bytes]) -> object:
    """SSUBSCRIBE shardchannel [shardchannel ...]"""
    return _subscribe(c, SHARD, argv[1:])


@command("unsubscribe", -1, "pubsub noscript loading stale sentinel", group="pubsub")
def unsubscribe(c: Client, argv: list[bytes]) -> object:
    """UNSUBSCRIBE [channel [channel ...]]"""
    return _unsubscribe(c, CHANNELS, argv[1:])


@command("punsubscribe", -1, "pubsub noscript loading stale sentinel", group="pubsub")
def punsubscribe(c: Client, argv: list[bytes]) -> object:
    """PUNSUBSCRIBE [pattern [pattern ...]]"""
    return _unsubscribe(c, PATTERNS, argv[1:])


@command("sunsubscribe", -1, "pubsub noscript loading stale", 1, -1, 1, group="pubsub")
def sunsubscribe(c: Client, argv: list[bytes]) -> object:
    """SUNSUBSCRIBE [shardchannel [shardchannel ...]]"""
    return _unsubscribe(c, SHARD, argv[1:])


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
