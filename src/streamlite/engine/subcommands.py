"""Dispatch of container commands (CONFIG GET, CLIENT LIST, ...) to their subcommands.

Subcommands are registered with ``@command(name, arity, parent="config")``; the
container's handler calls ``dispatch`` which finds the subcommand, checks its
arity with Redis's ``'config|set'`` naming, and runs it.
"""

from __future__ import annotations

from typing import Any

from .client import Client
from .errors import CommandError, unknown_subcommand, wrong_args
from .registry import COMMANDS
from .replies import SimpleString


def dispatch(c: Client, argv: list[bytes], container: str) -> Any:
    parent = COMMANDS[container.encode()]
    sub = argv[1].lower().decode("utf-8", "replace")
    cmd = parent.subcommands.get(sub)
    if cmd is None:
        raise CommandError(unknown_subcommand(argv[1], container))
    n, a = len(argv), cmd.arity
    if (a > 0 and n != a) or n < -a:
        raise CommandError(wrong_args(f"{container}|{sub}"))
    return cmd.handler(c, argv)


def help_lines(container: str, lines: list[str]) -> list[SimpleString]:
    """A HELP reply: Redis's header, the given lines, and HELP itself."""
    out = [f"{container.upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"]
    out.extend(lines)
    out.extend(["HELP", "    Print this help."])
    return [SimpleString(s.encode()) for s in out]
