"""Write ``docs/commands.md`` from the command table: ``python -m streamlite.engine.docgen``."""

from __future__ import annotations

import sys
from collections import defaultdict

from .core import Engine  # noqa: F401  (imports every command module)
from .registry import COMMANDS, Command

GROUP_TITLES = {
    "stream": "Streams",
    "generic": "Keys",
    "string": "Strings",
    "list": "Lists",
    "hash": "Hashes",
    "set": "Sets",
    "sorted-set": "Sorted sets",
    "sorted_set": "Sorted sets",
    "zset": "Sorted sets",
    "pubsub": "Pub/Sub",
    "transactions": "Transactions",
    "scripting": "Scripting",
    "connection": "Connection",
    "cluster": "Cluster (as a server without cluster support: every call is refused)",
    "server": "Server",
}


def _line(cmd: Command, prefix: str = "") -> str:
    doc = (cmd.doc or cmd.name.upper()).replace("|", "\\|")  # a literal | inside a table cell
    flags = ", ".join(sorted(f for f in cmd.flags if f in ("write", "readonly", "blocking", "admin")))
    return f"| `{prefix}{cmd.name.upper()}` | `{doc}` | {flags} |"


def render() -> str:
    groups: dict[str, list[Command]] = defaultdict(list)
    for cmd in COMMANDS.values():
        groups[cmd.group].append(cmd)
    out = [
        "# Supported commands",
        "",
        "Generated from the command table by `python -m streamlite.engine.docgen > docs/commands.md`;",
        "a test fails when this file is out of date. Semantics follow Redis 8.x; see",
        "`docs/architecture.md` for where each command lives.",
        "",
        f"{len(COMMANDS)} commands.",
    ]
    for group in sorted(groups, key=lambda g: (GROUP_TITLES.get(g, g) != "Streams", GROUP_TITLES.get(g, g))):
        out += ["", f"## {GROUP_TITLES.get(group, group.title())}", "", "| command | syntax | flags |",
                "|---|---|---|"]
        for cmd in sorted(groups[group], key=lambda c: c.name):
            out.append(_line(cmd))
            for sub in sorted(cmd.subcommands.values(), key=lambda c: c.name):
                out.append(_line(sub, cmd.name.upper() + " "))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
