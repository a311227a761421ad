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
    "array": "Arrays (Redis 8.8: follow the command docs)",
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
    ("SLOWLOG, LATENCY", "Durations are the command handler's time on the monotonic timer "
     "that also feeds INFO commandstats (Redis times the whole `call()`); entry times and "
     "latency samples come from the engine's clock. Entries, trimming (32 arguments, 128 "
     "bytes) and redaction (AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2, ACL SETUSER, CONFIG SET "
     "of sensitive parameters) are Redis's. Only the `command` and `fast-command` latency "
     "events (and `eviction-cycle`, `expire-cycle`) are sampled: streamlite has no fork, and its AOF "
     "paths do not report latency events. Per-command latencies (`latency-tracking`: "
     "INFO latencystats, LATENCY HISTOGRAM) are kept as exact microsecond counts and "
     "reported as Redis's HDR histogram would (2 significant digits, its log iteration); "
     "streamlite records a blocked command's latency at its first call, Redis when it "
     "is served."),
    ("MODULE", "`MODULE LIST` is empty (Redis 8.2 lists its built-in `vectorset`); LOAD, LOADEX "
     "and UNLOAD fail as Redis's do for a library it cannot load or a module it does not "
     "have."),
    ("CLIENT TRACKING", "Invalidation messages, BCAST batching, OPTIN/OPTOUT, NOLOOP and "
     "redirection are byte for byte Redis's (tests/server/test_tracking_redis.py). When the "
     "table passes `tracking-table-max-keys` the oldest remembered keys are invalidated at "
     "once (Redis evicts random ones a few at a time from its cron)."),
    ("Eviction", "Only commands that may grow memory (`denyoom`, or anything in MULTI) "
     "evict first; Redis evicts before every command. On the server `used_memory` is the "
     "resident size, which Python does not shrink when objects are freed, so what an "
     "eviction frees is counted by MEMORY USAGE estimates and credited until the resident "
     "size grows again (`engine/evict.py`). `maxmemory-policy` also accepts Redis 8.6's "
     "`allkeys-lrm` and `volatile-lrm`, so its CONFIG SET error lists ten policies."),
    ("Newer than Redis 8.2", "These follow their command pages on redis.io, there being no "
     "released Redis here to compare with, and redis-py's own tests of them pass "
     "(`tests/clientsuite`, see docs/conformance.md): INCREX (8.8), AGGREGATE COUNT of "
     "ZUNION/ZINTER/ZUNIONSTORE/ZINTERSTORE (8.8), SUNIONCARD/SDIFFCARD (8.10), "
     "LMOVEM/BLMOVEM (8.10), HOTKEYS (8.6), the `*-lrm` eviction policies (8.6), the array type "
     "and its AR* commands (8.8), CLUSTER MIGRATION (8.4, refused as without cluster support), "
     "HIMPORT (8.10: plain hashes, no compact encoding; a key of another type is "
     "WRONGTYPE, as redis-py's tests against Redis 8.10 expect, where the page only says "
     "an existing key is overwritten), BACKUP (8.10, below), "
     "the hash-field "
     "subkey notifications (`notify-keyspace-events` letters `S` `T` `I` `V`, 8.8: the "
     "docs' own example payload has lengths that do not match its names; streamlite "
     "writes the real lengths). Where the "
     "pages leave error texts open, streamlite uses Redis's usual ones. HOTKEYS counts a "
     "command's request bytes and its string replies as its network bytes; its "
     "`total-net-bytes` is those of the sampled commands. LMOVEM answers nil when nothing "
     "moved."),
    ("BACKUP", "The state machine, replies and file set (base, INCR file, manifest: a "
     "multi-part AOF that restores the data as it was at the seal) are the pages'. Redis "
     "hard-links the live AOF's files into the backup directory and rotates the live AOF "
     "at the seal; streamlite writes the backup's own files (the base from a forked "
     "child, as BGSAVE; the writes from the fork to the seal appended to the backup's "
     "INCR file), so the live AOF, on or off, is not touched. The base is an RDB file "
     "(`.base.rdb`), or the RESP base (`.base.aof`) with `aof-use-rdb-preamble no` or "
     "when the data holds arrays, which have no RDB encoding here. Error texts the "
     "pages leave open are streamlite's (`persistence/backup.py`)."),
    ("LOLWUT", "Version 8 (the default) is Redis 8.2's: a TAPE MARK I stanza by "
     "Balestrini's rules and the same text after it (`LOLWUT IT`: in Italian). Versions 5 "
     "and 6 (Schotter, the skyscrapers) are not drawn: like every other version they "
     "answer `Redis ver. <version>`."),
    ("Arrays", "Redis 8.8's array type (a preview there) follows its command pages and "
     "Redis 8.10's semantics (ARRING reshapes the array when its size changes, ARLASTITEMS "
     "walks positions, ARSCAN answers [index, value] pairs; replies and error texts as "
     "Redis's, `engine/commands/arrays.py`). Arrays "
     "are kept in the AOF and `.sldb` snapshots; DUMP gives streamlite's payload format "
     "(Redis's RDB encoding of arrays is not documented) and a Redis-format RDB snapshot "
     "refuses them; a plain-command AOF rewrite (`aof-use-rdb-preamble no`) writes them "
     "as ARSET runs and an ARSEEK for the insert cursor. ARINFO's slice figures describe "
     "the data as Redis's sliced layout would hold it. Keyspace notifications: neither "
     "the array pages nor the keyspace-notifications page name a class letter or events "
     "for arrays (Redis 8.10's source publishes `arset`, `armset`, `ardel`, `ardelrange`, "
     "`arinsert`, `arring` and `arseek` in a class of their own, letter undocumented), "
     "so the AR* commands publish none of them: only `new` for a key they create and "
     "the generic `del` when the last element goes."),
    ("COMMAND", "`COMMAND INFO` gives Redis 8.2's ACL categories and key specs for every "
     "command Redis has (`engine/redis_meta.py`, generated from the real server); `COMMAND "
     "DOCS` carries the syntax line as summary, not Redis's texts and argument trees."),
    ("ACL", "Users, rules, checks, NOPERM errors and ACL LOG follow Redis 8.2 (compared side "
     "by side in `tests/diff/test_acl_diff.py`). `ACL CAT <category>` lists the same "
     "commands in command-table order, not Redis's hash order."),
    ("INFO keysizes", "The key-size histograms are Redis's (compared after every command in "
     "`tests/diff/test_keysizes_diff.py`), kept by noting the keys each write touches and "
     "recounting them when INFO reads the section (or when the noted keys outnumber the "
     "database), where Redis updates them inside each command. `DEBUG "
     "KEYSIZES-HIST-ASSERT` is not there; the tests recount from scratch instead."),
    ("INFO stats", "The active expire cycle pops due keys from a time-ordered heap for up "
     "to 25% of a tick, where Redis samples random keys for as long: "
     "`expired_time_cap_reached_count` counts the cycles that stopped at that limit, "
     "and `expired_stale_perc` (Redis's running average of the expired share of its "
     "samples) is estimated from the due keys a cycle found. `instantaneous_*_kbps` are "
     "rates over the last 16 ticks, as `instantaneous_ops_per_sec`. "
     "`total_reads_processed` counts the reads of client sockets (the peer's close "
     "included, as Redis's read of the EOF) and `total_writes_processed` the writes "
     "handed to a socket, which may be fewer than Redis's `write` calls; `# Threads` "
     "shows them for the one I/O thread (`io_thread_0`, as Redis with io-threads 1; "
     "empty embedded). `client_recent_max_input_buffer` stays 0 "
     "(`tests/server/test_info_stats_redis.py` compares the others with Redis 8.2)."),
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
