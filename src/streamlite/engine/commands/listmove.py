"""LMOVEM and BLMOVEM (Redis 8.10): LMOVE for several elements.

Follow the command docs (no released Redis here to compare with):
``LMOVEM source destination <LEFT|RIGHT> <LEFT|RIGHT> [<COUNT n | EXACTLY n> <OBO | BULK>]``
and BLMOVEM with a ``timeout`` after the two directions.

Model: the elements are first popped from the source end (up to ``COUNT`` of them,
or exactly ``EXACTLY`` or none), then pushed to the destination end: ``OBO`` one by
one (so pushing to the head reverses them), ``BULK`` as one block keeping the
order they had in the source. The reply is the moved elements in the order they
now have in the destination (head to tail). Without the block one element moves,
as LMOVE, answered as a one-element array. When nothing moves (a missing or
empty source, or fewer than EXACTLY elements) the reply is nil, as the command
page and redis-py's test say. BLMOVEM blocks until the source holds an element (or
``EXACTLY`` elements), and propagates as the LMOVEM it did. Keyspace events as
LMOVE's: one ``lpop``/``rpop`` on the source (``del`` when emptied), one
``lpush``/``rpush`` on the destination.
"""

from __future__ import annotations

from typing import Any

from ..client import Client
from ..errors import SYNTAX, CommandError
from ..registry import command
from ..replies import NULL_ARRAY
from ..types.list import ListValue
from .bpop import any_ready, block, no_blocking, parse_timeout
from .lists import _POP, _get, _push_into, _range_count, _removed, _where


def _parse_block(argv: list[bytes], start: int) -> tuple[int, bool, bool]:
    """``[<COUNT n | EXACTLY n> <OBO | BULK>]`` -> (count, exactly, bulk)."""
    rest = argv[start:]
    if not rest:
        return 1, False, False
    if len(rest) != 3:
        raise CommandError(SYNTAX)
    sel, num, order = rest[0].upper(), rest[1], rest[2].upper()
    if sel not in (b"COUNT", b"EXACTLY") or order not in (b"OBO", b"BULK"):
        raise CommandError(SYNTAX)
    count = _range_count(num, 1, "ERR count should be greater than 0")
    return count, sel == b"EXACTLY", order == b"BULK"


def _move_many(c: Client, src: bytes, dst: bytes, wherefrom: bool, whereto: bool,
               count: int, exactly: bool, bulk: bool) -> Any:
    slst = _get(c, src)
    if slst is None or not slst.items:
        return NULL_ARRAY
    if exactly and len(slst) < count:
        return NULL_ARRAY
    dlst = _get(c, dst)  # WRONGTYPE before anything moves
    popped = [slst.pop(wherefrom) for _ in range(min(count, len(slst)))]
    if dlst is None and src == dst:
        dlst = slst
    if bulk:
        # the block in its source order, then pushed one by one from the right end
        segment = popped if wherefrom else popped[::-1]  # LEFT pops come head first
        pushes = segment[::-1] if whereto else segment
        reply = segment
    else:
        pushes = popped
        reply = popped[::-1] if whereto else popped
    _push_into(c, dst, dlst, pushes, whereto)
    _removed(c, src, slst, _POP[wherefrom])
    return reply


@command("lmovem", -5, "write denyoom", 1, 2, 1, group="list")
def lmovem(c: Client, argv: list[bytes]) -> Any:
    """LMOVEM source destination <LEFT | RIGHT> <LEFT | RIGHT> [<COUNT count | EXACTLY exactly> <OBO | BULK>]"""
    wherefrom, whereto = _where(argv[3]), _where(argv[4])
    count, exactly, bulk = _parse_block(argv, 5)
    return _move_many(c, argv[1], argv[2], wherefrom, whereto, count, exactly, bulk)


@command("blmovem", -6, "write denyoom blocking", 1, 2, 1, group="list")
def blmovem(c: Client, argv: list[bytes]) -> Any:
    """BLMOVEM source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout [<COUNT count | EXACTLY exactly> <OBO | BULK>]"""
    wherefrom, whereto = _where(argv[3]), _where(argv[4])
    count, exactly, bulk = _parse_block(argv, 6)
    deadline = parse_timeout(c, argv[5])
    src, dst = argv[1], argv[2]
    need = count if exactly else 1

    def enough(v: Any) -> bool:
        return type(v) is ListValue and len(v) >= need

    if c.blocked is not None and not any_ready(c, (src,), enough):
        return block(c, (src,), argv, deadline)
    slst = _get(c, src)
    if slst is None or len(slst) < need:
        if no_blocking(c):
            return NULL_ARRAY
        return block(c, (src,), argv, deadline)
    reply = _move_many(c, src, dst, wherefrom, whereto, count, exactly, bulk)
    c.engine.rewrite(c, [b"LMOVEM", src, dst, argv[3], argv[4], *argv[6:]])
    return reply
