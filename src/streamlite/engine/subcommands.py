"""Subcommands of container commands (CONFIG GET, XGROUP CREATE, OBJECT ENCODING ...).

Subcommands are registered with ``@command(name, arity, parent="config")``. As in
Redis (``lookupCommand`` finds the subcommand, ``processCommand`` checks its
arity), a subcommand is resolved and its arity checked once, where a command
enters the engine: ``Engine.execute`` (and a script's ``redis.call``, the loading
path of the server) call ``resolve`` and ``arity_ok`` before anything else, so that
the errors come in Redis's order (unknown subcommand, wrong number of arguments,
then authentication, ACLs ...). A container's handler then only runs its
subcommand: ``dispatch``.
"""

from __future__ import annotations

from typing import Any

from .client import Client
from .errors import CommandError, unknown_subcommand
from .registry import COMMANDS, Command
from .replies import SimpleString


def resolve(cmd: Command, argv: list[bytes]) -> Command | None:
    """The command ``argv`` runs: ``cmd``'s subcommand named by ``argv[1]`` for a
    container (None if it has none of that name), else ``cmd`` itself."""
    if cmd.subcommands and len(argv) > 1:
        return cmd.subcommands.get(argv[1].lower().decode("utf-8", "replace"))
    return cmd


def arity_ok(cmd: Command, n: int) -> bool:
    """Whether ``n`` arguments (the name included) fit ``cmd``'s arity: exactly
    ``arity`` when positive, at least ``-arity`` when negative."""
    a = cmd.arity
    return not ((a > 0 and n != a) or n < -a)


def dispatch(c: Client, argv: list[bytes], container: str) -> Any:
    """Run ``argv``'s subcommand of ``container`` (its arity was checked on the way
    in; an unknown name is refused for callers that run handlers directly)."""
    sub = resolve(COMMANDS[container.encode()], argv)
    if sub is None:
        raise CommandError(unknown_subcommand(argv[1], container))
    return sub.handler(c, argv)


def help_lines(container: str, lines: list[str]) -> list[SimpleString]:
    """A HELP reply: Redis's header, the given lines, and HELP itself."""
    out = [f"{container.upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"]
    out.extend(lines)
    out.extend(["HELP", "    Print this help."])
    return [SimpleString(s.encode()) for s in out]
