"""Every redis-cli command sequence of the seed documents, run through Debian's
redis-cli against streamlite and against Redis 8.2, outputs compared.

One code block is one redis-cli session; blocks of a seed run in order on a
database emptied at the start of the seed. An ``ECHO`` marker after each command
splits the session output per command, so each output is normalised knowing its
command (generated stream IDs, elapsed-time fields, INFO/MEMORY figures; see
``seed_cli.Normalizer``). Blocking reads are bounded (``seed_cli`` docstring).
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from tests.server.seed_cli import SEEDS, Block, Normalizer, all_blocks
from tests.support.diff import RedisConn

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed"),
    pytest.mark.skipif(not SEEDS.exists(), reason="seed documents not present"),
]

MARK = "--streamlite-seed-marker--"


def _session(port: int, block: Block) -> list[str]:
    lines = []
    for cmd in block.commands:
        lines.append(cmd)
        lines.append(f"ECHO {MARK}")
    out = subprocess.run(["redis-cli", "-p", str(port)], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=120)
    parts = out.stdout.split(MARK + "\n")
    outputs = [p.rstrip("\n") for p in parts[:-1]]
    outputs += [""] * (len(block.commands) - len(outputs))  # a session cut short
    return outputs


def _known_commands(port: int) -> set[str]:
    c = RedisConn(port)
    names = {n.decode().split("|")[0] for n in c.call("COMMAND", "LIST")}
    c.close()
    return names


def _seed_names() -> list[str]:
    return sorted(p.name for p in SEEDS.glob("*.txt")) if SEEDS.exists() else []


@pytest.mark.parametrize("seed", _seed_names())
def test_seed_redis_cli_sessions_match_redis(seed, redis_server, sl):
    blocks = all_blocks(_known_commands(redis_server.port))[seed]
    if not blocks:
        pytest.skip("no redis-cli commands in this seed")
    results = {}
    for name, port in (("redis", redis_server.port), ("streamlite", sl.port)):
        subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], capture_output=True,
                       timeout=30)
        norm = Normalizer(int(time.time() * 1000))
        rows = []
        for block in blocks:
            for cmd, out in zip(block.commands, _session(port, block), strict=True):
                rows.append((block.line, cmd, norm(cmd, out)))
        results[name] = rows
    missing = sorted({cmd.split()[0].upper() for _, cmd, out in results["streamlite"]
                      if out.startswith("ERR unknown command")})
    diffs = [(a, b) for a, b in zip(results["redis"], results["streamlite"], strict=True)
             if a != b]
    if diffs:
        (line, cmd, want), (_, _, got) = diffs[0]
        pytest.fail(
            f"{len(diffs)} of {len(results['redis'])} outputs differ"
            + (f"; streamlite lacks: {', '.join(missing)}" if missing else "")
            + f"\nfirst: {seed} block at line {line}: {cmd}\n"
            f"--- redis 8.2:\n{want}\n--- streamlite:\n{got}"
        )
