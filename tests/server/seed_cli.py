"""The redis-cli command sequences of the seed documents (``/work/shared/seeds``).

Every code block that is not program source (``redis``, ``bash``, ``powershell``
or unlabelled) is scanned for lines that are Redis commands: the first word is a
command the reference Redis knows, and the line is not part of a diagram (no
arrows, boxes or ellipses). Lines continued with a trailing backslash are
joined, trailing ``# comments`` are dropped, and ``[docker exec ...] redis-cli
<command>`` lines keep their command. One block is one redis-cli session.

To run unattended, commands that would wait for ever are bounded the same way
on both servers: ``BLOCK n`` becomes ``BLOCK 100`` when n is 0 or larger, and
the timeout of BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BZPOP*/BLMPOP 0 becomes 0.1;
SUBSCRIBE-family commands, MONITOR, QUIT/EXIT and SHUTDOWN are left out
(redis-cli would wait in them or leave the session).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SEEDS = Path("/work/shared/seeds")
_SKIP_LANGS = {"java", "go", "yaml", "yml", "python", "py", "javascript", "js", "json",
               "xml", "kotlin", "sql", "dockerfile", "typescript", "ts"}
_DIAGRAM = ("→", "←", "✅", "❌", "│", "┌", "└", "├", "┐", "┘", "═", "...", "…", "⏳", "📥")
_SKIP_CMDS = {"subscribe", "psubscribe", "ssubscribe", "monitor", "quit", "exit",
              "shutdown", "debug", "sync", "psync"}
_TIMEOUT_LAST = {"blpop", "brpop", "brpoplpush", "bzpopmin", "bzpopmax"}
_TIMEOUT_FIRST = {"blmpop", "bzmpop"}


@dataclass
class Block:
    seed: str
    line: int
    commands: list[str]


def _strip_comment(line: str) -> str:
    """Drop a trailing ``# comment`` that is outside quotes."""
    q: str | None = None
    for i, ch in enumerate(line):
        if q:
            if ch == "\\":
                continue
            if ch == q:
                q = None
        elif ch in "\"'":
            q = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _bound(cmd: str) -> str:
    words = cmd.split()
    name = words[0].lower()
    if name in ("xread", "xreadgroup"):
        for i, w in enumerate(words[:-1]):
            if w.upper() == "BLOCK" and words[i + 1].isdigit():
                n = int(words[i + 1])
                if n == 0 or n > 100:
                    words[i + 1] = "100"
        return " ".join(words)
    if name in _TIMEOUT_LAST and words[-1] == "0":
        return " ".join(words[:-1] + ["0.1"])
    if name in _TIMEOUT_FIRST and len(words) > 1 and words[1] == "0":
        return " ".join([words[0], "0.1"] + words[2:])
    if name == "blmove" and len(words) == 6 and words[5] == "0":
        return " ".join(words[:5] + ["0.1"])
    return cmd


def extract(path: Path, known: set[str]) -> list[Block]:
    """The command blocks of one seed file; ``known`` is the set of command names."""
    blocks: list[Block] = []
    lang: str | None = None
    cur: list[str] = []
    start = 0
    pending = ""
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = raw.strip()
        if s.startswith("```"):
            if lang is None:
                lang = s[3:].strip().lower()
                cur, start, pending = [], n, ""
            else:
                if cur and lang not in _SKIP_LANGS:
                    blocks.append(Block(path.name, start, cur))
                lang = None
            continue
        if lang is None or lang in _SKIP_LANGS:
            continue
        if pending:
            s = pending + " " + s
            pending = ""
        if s.endswith("\\"):
            pending = s[:-1].strip()
            continue
        if not s or s.startswith("#") or s.startswith("//"):
            continue
        if "redis-cli" in s:
            after = s.split("redis-cli", 1)[1].strip()
            if not after:
                continue
            s = after
        if any(m in s for m in _DIAGRAM):
            continue
        s = _strip_comment(s)
        if not s:
            continue
        words = s.split()
        first = words[0]
        if not first.isascii() or first.lower() not in known:
            continue
        if len(words) > 1 and (not words[1].isascii() or s.endswith(":")):
            continue  # prose that starts with a command name ("XADD 실행 1:")
        if any(w.startswith("[") for w in words) or " (" in s:
            continue  # a syntax line or an annotated one ("XLEN key [COUNT n]", "... (note)")
        if first.lower() in _SKIP_CMDS:
            continue
        cur.append(_bound(s))
    return blocks


def all_blocks(known: set[str]) -> dict[str, list[Block]]:
    return {p.name: extract(p, known) for p in sorted(SEEDS.glob("*.txt"))}


# -- normalising outputs -----------------------------------------------------------

_ID = re.compile(r"\b\d{12,14}-\d+\b")
_TIME_KEYS = {"idle", "inactive", "seen-time", "active-time", "delivery-time"}
_MASK_WHOLE = ("info", "memory", "time", "client", "lastsave", "dbsize")
# XINFO STREAM fields of Redis 8.6 (idempotent XADD) that the 8.2 reference lacks
_NEWER_FIELDS = {"idmp-duration", "idmp-maxsize", "pids-tracked", "iids-tracked",
                 "iids-added", "iids-duplicates"}


class Normalizer:
    """Makes one server's outputs comparable: stream IDs generated during the run
    (``*``) become ``<ID>`` (IDs the seeds spell out stay as they are),
    elapsed-time fields become ``<ms>``, and XINFO fields newer than the 8.2
    reference (Redis 8.6's idempotency counters) are left out."""

    def __init__(self, since_ms: int) -> None:
        self.since_ms = since_ms - 1000

    def _id(self, m: re.Match[str]) -> str:
        v = m.group(0)
        return "<ID>" if int(v.split("-")[0]) >= self.since_ms else v

    def __call__(self, cmd: str, out: str) -> str:
        name = cmd.split()[0].lower()
        is_err = out.startswith(("ERR", "WRONGTYPE", "NOGROUP", "BUSYGROUP", "NOSCRIPT"))
        if name in _MASK_WHOLE and not is_err:
            return "<varies>"
        lines = out.split("\n")
        if name == "xinfo":
            kept: list[str] = []
            i = 0
            while i < len(lines):
                if lines[i] in _NEWER_FIELDS and i + 1 < len(lines):
                    i += 2
                    continue
                kept.append(lines[i])
                i += 1
            lines = kept
        if name == "xpending" and len(cmd.split()) >= 6 and not is_err:
            lines = [("<ms>" if i % 4 == 2 else ln) for i, ln in enumerate(lines)]
        for i in range(1, len(lines)):
            if lines[i - 1] in _TIME_KEYS and lines[i].lstrip("-").isdigit():
                lines[i] = "<ms>"
        return _ID.sub(self._id, "\n".join(lines))
