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
    "bitmap": "Bitmaps",
    "hyperloglog": "HyperLogLog",
    "geo": "Geo",
}


# What streamlite does differently from Redis 8.2 for the commands listed here (the
# server's and persistence's own differences are in docs/server.md and
# docs/persistence.md). Keep it honest: an entry goes when the difference goes.
DIFFERENCES = [
    ("Bitmaps", "Strings are immutable Python `bytes`, so a SETBIT/BITFIELD write copies the "
     "string: O(length) per write where Redis is O(1). Replies, errors, encodings and "
     "limits are Redis's."),
    ("Bitmaps, HyperLogLog (durability)", "Two writes Redis makes without counting or "
     "propagating them are propagated here, so that replaying the AOF rebuilds the same "
     "data: a BITFIELD whose operations all fail (OVERFLOW FAIL) but which created or grew "
     "the string, and a PFADD that raised registers before meeting a corrupted part of a "
     "sparse HLL (it still answers the error). Redis's AOF and replicas lose those changes."),
    ("HyperLogLog", "PFSELFTEST checks up to 100,000 elements (Redis: 10 million), so that it "
     "answers within a couple of seconds. `PFDEBUG SIMD ON|OFF` only flips the state it "
     "reports: there are no SIMD paths (Redis's give the same results). HLL values, "
     "estimates, errors and what is propagated are byte for byte Redis's."),
    ("Geo, SORT", "Equal distances (Geo) and equal sort keys (SORT) come out in the order of the "
     "reference Redis 8.2.3 build: its full sorts are glibc's `qsort`, a stable merge sort "
     "up to glibc 2.36, and its COUNT/LIMIT-bounded ones Redis's `pqsort`, reproduced "
     "here. A Redis linked with a newer glibc (introsort) can order ties differently."),
    ("SORT", "`BY nosort` on a hash-table-encoded set (more than `set-max-listpack-entries` "
     "members) returns the members in streamlite's set order, not Redis's hash-table "
     "order (with STORE or from a script both sort ALPHA instead, as Redis does). ALPHA "
     "compares bytes, as Redis does in the C locale; a Redis started with another "
     "LC_COLLATE sorts by that locale. BY/GET patterns are refused to ACL users without "
     "read access to every key, as by Redis; Redis also refuses them in cluster mode, which "
     "streamlite does not have."),
    ("COMMAND", "`COMMAND INFO` gives Redis 8.2's ACL categories and key specs for every "
     "command Redis has (`engine/redis_meta.py`, generated from the real server); `COMMAND "
     "DOCS` carries the syntax line as summary, not Redis's texts and argument trees."),
    ("ACL", "Users, rules, checks, NOPERM errors and ACL LOG follow Redis 8.2 (compared side "
     "by side in `tests/diff/test_acl_diff.py`). `ACL CAT <category>` lists the same "
     "commands in command-table order, not Redis's hash order."),
]


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
    out += ["", "## What differs from Redis", ""]
    out += [f"- **{what}**: {text}" for what, text in DIFFERENCES]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
