"""How a client is described to others: its CLIENT LIST / CLIENT INFO line (also in
ACL LOG entries) and its type (CLIENT KILL TYPE, ACL's pub/sub disconnections), as
Redis 8 prints them. The front adds what only it knows (``Front.client_info``: fd,
buffers, traffic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import c_str
from .registry import Command

if TYPE_CHECKING:
    from .client import Client


def client_type(c: Client) -> str:
    if c.is_master:
        return "master"
    if c.in_pubsub and c.protocol == 2:
        return "pubsub"
    return "normal"


def _flags(c: Client) -> str:
    f = ""
    if c.monitoring:
        f += "O"
    if c.is_master:
        f += "M"
    if c.in_pubsub:
        f += "P"
    if c.multi is not None:
        f += "x"
    if c.blocked is not None:
        f += "b"
    if c.tracking is not None:
        f += "t"
        if c.tracking.broken_redirect:
            f += "R"
        if c.tracking.bcast:
            f += "B"
    if c.dirty_cas:
        f += "d"
    if c.closing:
        f += "c"
    if c.no_evict:
        f += "e"
    if c.no_touch:
        f += "T"
    return f or "N"


def _last_cmd(c: Client) -> str:
    cmd = c.last_command
    if isinstance(cmd, Command):
        sub = c.last_sub
        if cmd.subcommands and sub:
            s = sub.lower().decode("utf-8", "replace")
            if s in cmd.subcommands:
                return f"{cmd.name}|{s}"
        return cmd.name
    if isinstance(cmd, bytes):
        return cmd.decode("utf-8", "replace").lower()
    return str(cmd).lower()


def client_info_line(c: Client) -> bytes:
    """One CLIENT LIST line (without the newline), fields as Redis 8 prints them."""
    front = c.engine.front
    extra = front.client_info(c)
    now = c.engine.clock.ms()
    multi = -1 if c.multi is None else len(c.multi)
    fields = [
        ("id", c.id),
        ("addr", c.addr.decode()),
        ("laddr", c.laddr.decode()),
        ("fd", extra.get("fd", -1)),
        ("name", c_str(c.name).decode("utf-8", "replace")),
        ("age", max(0, (now - c.created_ms) // 1000)),
        ("idle", max(0, (now - c.last_interaction_ms) // 1000)),
        ("flags", _flags(c)),
        ("db", c.db_index),
        ("sub", len(c.channels)),
        ("psub", len(c.patterns)),
        ("ssub", len(c.shard_channels)),
        ("multi", multi),
        ("watch", len(c.watched)),
        ("qbuf", extra.get("qbuf", 0)),
        ("qbuf-free", extra.get("qbuf-free", 0)),
        ("argv-mem", extra.get("argv-mem", 0)),
        ("multi-mem", extra.get("multi-mem", 0)),
        ("rbs", extra.get("rbs", 0)),
        ("rbp", extra.get("rbp", 0)),
        ("obl", extra.get("obl", 0)),
        ("oll", extra.get("oll", 0)),
        ("omem", extra.get("omem", 0)),
        ("tot-mem", extra.get("tot-mem", 0)),
        ("events", extra.get("events", "r")),
        ("cmd", _last_cmd(c)),
        ("user", c.user.name.decode("utf-8", "surrogateescape")),
        ("redir", -1 if c.tracking is None else c.tracking.redirect),
        ("resp", c.protocol),
        ("lib-name", c_str(c.lib_name).decode("utf-8", "replace")),
        ("lib-ver", c_str(c.lib_ver).decode("utf-8", "replace")),
        ("io-thread", 0),
        ("tot-net-in", extra.get("tot-net-in", 0)),
        ("tot-net-out", extra.get("tot-net-out", 0)),
        ("tot-cmds", extra.get("tot-cmds", 0)),
    ]
    return " ".join(f"{k}={v}" for k, v in fields).encode("utf-8", "surrogateescape")
