"""Pub/sub delivery and subscriptions (Redis's ``pubsub.c``); the commands are in
``commands/pubsub.py``, keyspace notifications (``notify.py``) publish through here.

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
(``commands/connection.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import glob
from .replies import MultiReply, Push

if TYPE_CHECKING:
    from .client import Client
    from .core import Engine


# -- publishing (PUBLISH, SPUBLISH, keyspace notifications) ------------------------


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


class Kind:
    """One of the three subscription kinds: the per-client set, the engine map,
    the confirmation verbs and which count they report."""

    __slots__ = ("mine", "table", "sub", "unsub", "shard")

    def __init__(self, mine: Callable[[Client], set[bytes]],
                 table: Callable[[Engine], dict[bytes, dict[Client, None]]],
                 sub: bytes, unsub: bytes, shard: bool) -> None:
        self.mine = mine
        self.table = table
        self.sub = sub
        self.unsub = unsub
        self.shard = shard

    def count(self, c: Client) -> int:
        return len(c.shard_channels) if self.shard else _count(c)


CHANNELS = Kind(lambda c: c.channels, lambda e: e.channels, b"subscribe", b"unsubscribe",
                False)
PATTERNS = Kind(lambda c: c.patterns, lambda e: e.patterns, b"psubscribe", b"punsubscribe",
                False)
SHARD = Kind(lambda c: c.shard_channels, lambda e: e.shard_channels, b"ssubscribe",
             b"sunsubscribe", True)


def _reply(out: list[Push]) -> Any:
    return out[0] if len(out) == 1 else MultiReply(out)


def subscribe(c: Client, kind: Kind, names: list[bytes]) -> Any:
    """(P|S)SUBSCRIBE: add the subscriptions; one confirmation per name (a ``Push``,
    or a ``MultiReply`` of them)."""
    mine = kind.mine(c)
    table = kind.table(c.engine)
    out: list[Push] = []
    for name in names:
        if name not in mine:
            mine.add(name)
            table.setdefault(name, {})[c] = None
        out.append(Push([kind.sub, name, kind.count(c)]))
    return _reply(out)


def _drop(c: Client, kind: Kind, name: bytes) -> bool:
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


def unsubscribe(c: Client, kind: Kind, names: list[bytes]) -> Any:
    """(P|S)UNSUBSCRIBE: drop the named subscriptions (all of this kind when none is
    named); one confirmation per name."""
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
