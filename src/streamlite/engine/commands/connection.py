"""Connection commands: PING, ECHO, SELECT (the server adds HELLO, AUTH, CLIENT, ...)."""

from __future__ import annotations

from ..args import parse_int
from ..client import Client
from ..errors import DB_INDEX, CommandError
from ..registry import command
from ..replies import OK, PONG, Push


@command("ping", -1, "fast", group="connection")
def ping(c: Client, argv: list[bytes]) -> object:
    """PING [message]"""
    if len(argv) > 2:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    if c.in_pubsub and c.protocol == 2:
        return Push([b"pong", argv[1] if len(argv) == 2 else b""])
    return argv[1] if len(argv) == 2 else PONG


@command("echo", 2, "fast", group="connection")
def echo(c: Client, argv: list[bytes]) -> object:
    """ECHO message"""
    return argv[1]


@command("select", 2, "loading stale fast", group="connection")
def select(c: Client, argv: list[bytes]) -> object:
    """SELECT index"""
    idx = parse_int(argv[1], "ERR value is not an integer or out of range")
    if idx < 0 or idx >= len(c.engine.dbs):
        raise CommandError(DB_INDEX)
    c.select(idx)
    return OK
