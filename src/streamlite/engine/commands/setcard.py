"""SUNIONCARD and SDIFFCARD (Redis 8.10): the count-only forms of SUNION and SDIFF.

Follow the command docs (no released Redis here to compare with); arguments and
errors as SINTERCARD's: ``numkeys key [key ...] [LIMIT limit]`` (SUNIONCARD also
``[APPROX]``), missing keys are empty sets, a limit reached stops the count and is
returned. APPROX estimates the union with a HyperLogLog of the members (Redis's
registers and estimator, ``types/hll.py``: about 0.81% standard error) without
building the union.
"""

from __future__ import annotations

from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import SYNTAX, CommandError
from ..registry import command
from ..types import hll
from .sets import _load_sets, _numkeys_keys


def _parse(argv: list[bytes], approx_ok: bool) -> tuple[list[bytes], int, bool]:
    msg = "ERR numkeys should be greater than 0"
    numkeys = parse_int(argv[1], msg)
    if numkeys < 1:
        raise CommandError(msg)
    if numkeys > len(argv) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    approx = False
    j = 2 + numkeys
    while j < len(argv):
        opt = argv[j].upper()
        if opt == b"LIMIT" and j + 1 < len(argv):
            j += 1
            lmsg = "ERR LIMIT can't be negative"
            limit = parse_int(argv[j], lmsg)
            if limit < 0:
                raise CommandError(lmsg)
        elif approx_ok and opt == b"APPROX":
            approx = True
        else:
            raise CommandError(SYNTAX)
        j += 1
    return argv[2:2 + numkeys], limit, approx


@command("sunioncard", -3, "readonly movablekeys", 0, 0, 0, group="set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def sunioncard(c: Client, argv: list[bytes]) -> Any:
    """SUNIONCARD numkeys key [key ...] [APPROX] [LIMIT limit]"""
    keys, limit, approx = _parse(argv, True)
    sets = [s for s in _load_sets(c, keys) if s is not None]
    if approx:
        regs = bytearray(hll.REGISTERS)
        for s in sets:
            for m in s:
                i, n = hll.pattern(m)
                if n > regs[i]:
                    regs[i] = n
        card = hll.estimate(hll.histogram(regs))
        return min(card, limit) if limit else card
    seen: set[bytes] = set()
    for s in sets:
        for m in s:
            seen.add(m)
            if limit and len(seen) >= limit:
                return limit
    return len(seen)


@command("sdiffcard", -3, "readonly movablekeys", 0, 0, 0, group="set",
         keys_fn=lambda argv: _numkeys_keys(argv, 1))
def sdiffcard(c: Client, argv: list[bytes]) -> Any:
    """SDIFFCARD numkeys key [key ...] [LIMIT limit]"""
    keys, limit, _ = _parse(argv, False)
    sets = _load_sets(c, keys)
    first = sets[0]
    if first is None:
        return 0
    others = [s for s in sets[1:] if s is not None]
    if any(o is first for o in others):
        return 0
    card = 0
    for m in first:
        if not any(m in o for o in others):
            card += 1
            if limit and card >= limit:
                return limit
    return card
