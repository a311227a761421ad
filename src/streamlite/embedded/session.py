"""A redis-py connection as the engine sees it, and how its commands reach the engine.

A ``Session`` is what a socket is to a server: an engine ``Client`` plus the
replies and pushes the connection has not read yet (``out``, in the order a
socket would deliver them) and the commands it sent while it was blocked
(``held``: Redis leaves them in the query buffer until the client unblocks).
Commands run when they are *sent*, as a server runs them when they arrive, so a
SUBSCRIBE takes effect at once and a pipeline's replies queue up to be read.

A reply the engine gives as ``MultiReply`` (SUBSCRIBE a b: one confirmation per
channel) becomes that many entries in ``out``, read one by one as redis-py expects.
Replies stay engine values in ``out``; the connection converts one when it is
read (``convert.convert``), because redis-py may read with decoding turned off.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import hiredis
from redis.exceptions import DataError

from ..engine.client import Client

if TYPE_CHECKING:
    from .host import Host


class Packed(list):  # type: ignore[type-arg]
    """Commands 'packed' for the wire, kept as argv lists: nothing is serialised."""

    __slots__ = ()


_NAMES: dict[Any, list[bytes]] = {}


def _name_parts(first: Any) -> list[bytes]:
    """redis-py splits a command name with spaces ('CONFIG GET') into words."""
    parts = _NAMES.get(first)
    if parts is None:
        if isinstance(first, str):
            parts = first.encode().split()
        elif isinstance(first, (bytes, bytearray, memoryview)):
            parts = bytes(first).split() if b" " in first else [bytes(first)]
        else:
            raise DataError(f"Invalid command name of type: '{type(first).__name__}'")
        if len(_NAMES) < 4096:
            _NAMES[first] = parts
    return parts


def encode_args(args: tuple[Any, ...], encoder: Any) -> list[bytes]:
    """A redis-py command's arguments as the argv the engine takes (redis-py's rules)."""
    argv = list(_name_parts(args[0]))
    add = argv.append
    if encoder.encoding == "utf-8" and encoder.encoding_errors == "strict":
        for a in args[1:]:  # the usual case, kept tight: it runs for every command
            t = type(a)
            if t is str:
                add(a.encode())
            elif t is bytes:
                add(a)
            else:
                add(_encode_other(a, encoder))
        return argv
    enc = encoder.encoding
    errs = encoder.encoding_errors
    for a in args[1:]:
        t = type(a)
        if t is str:
            add(a.encode(enc, errs))
        elif t is bytes:
            add(a)
        else:
            add(_encode_other(a, encoder))
    return argv


def _encode_other(a: Any, encoder: Any) -> bytes:
    t = type(a)
    if t is int:
        return b"%d" % a
    if t is float:
        return repr(a).encode()
    v = encoder.encode(a)  # raises DataError for bool, None, ...
    return v if type(v) is bytes else bytes(v)


def parse_packed(data: Any) -> list[list[bytes]]:
    """Commands already serialised as RESP (someone called send_packed_command)."""
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        data = [data]
    reader = hiredis.Reader()
    for chunk in data:
        reader.feed(chunk.encode() if isinstance(chunk, str) else bytes(chunk))
    out: list[list[bytes]] = []
    while True:
        cmd = reader.gets()
        if cmd is False:
            break
        if type(cmd) is not list or not cmd:
            raise DataError("send_packed_command: not a RESP array of bulk strings")
        out.append(cmd)
    return out


class Session:
    """One connection's engine client, unread output, and held-back input."""

    __slots__ = ("host", "client", "out", "held", "after", "running", "blocked", "closed",
                 "waiting", "wake", "__weakref__")

    def __init__(self, host: Host, wake: Callable[[], None]) -> None:
        self.host = host
        self.client: Client = host.engine.client()
        self.client.push = self.push
        self.client.session = self  # how blocked replies find us
        self.out: deque[Any] = deque()
        self.held: deque[list[bytes]] = deque()
        self.after: list[Any] = []  # pushes made during its own command: after the reply
        self.running = False  # its own command is executing
        self.blocked = False
        self.closed = False
        self.waiting = False  # a reader is waiting: deliveries must wake it
        self.wake = wake

    def push(self, msg: Any) -> None:
        """Out-of-band output (pub/sub messages): the engine calls it during a command.

        A push made while this session's own command runs (a RESP3 client publishing
        to itself, a script) goes after that command's reply, as Redis 7.2+ writes it.
        """
        if self.running:
            self.after.append(msg)
            return
        self.out.append(msg)
        if self.waiting:
            self.wake()
