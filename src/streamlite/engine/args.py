"""Argument parsing helpers with Redis's exact rules and error texts."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..numparse import string2ll
from .errors import NOT_FLOAT, NOT_INTEGER, SYNTAX, CommandError

LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)


def parse_int(b: bytes, msg: str = NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer exactly as Redis's ``string2ll`` does."""
    v = string2ll(b)
    if v is None:
        raise CommandError(msg)
    return v


def parse_uint(b: bytes, msg: str = NOT_INTEGER) -> int:
    v = parse_int(b, msg)
    if v < 0:
        raise CommandError(msg)
    return v


def parse_float(b: bytes, msg: str = NOT_FLOAT, allow_nan: bool = False) -> float:
    """Parse a double as Redis's ``string2ld``/``strtod`` checks: no spaces, no NaN."""
    if not b or b[:1].isspace() or b[-1:].isspace():
        raise CommandError(msg)
    s = b.lower()
    if s in (b"inf", b"+inf", b"infinity", b"+infinity"):
        return math.inf
    if s in (b"-inf", b"-infinity"):
        return -math.inf
    try:
        v = float(b)
    except ValueError:
        raise CommandError(msg)
    if math.isnan(v) and not allow_nan:
        raise CommandError(msg)
    if b"_" in b:  # python accepts 1_0
        raise CommandError(msg)
    return v


def format_double(v: float) -> bytes:
    """Format a double as Redis replies it (``d2string``/fpconv digits, inf, -0)."""
    from .types.scores import format_score

    return format_score(v)


@dataclass(slots=True)
class Opt:
    """One option in a table-driven parser.

    ``nargs`` values follow the keyword; ``convert`` turns each into a Python value.
    ``dest`` is where the result goes (defaults to the lower-case name).
    ``conflicts`` lists options that may not appear together with this one.
    """

    name: bytes
    nargs: int = 0
    convert: Callable[[bytes], Any] | None = None
    dest: str | None = None
    const: Any = True
    conflicts: tuple[bytes, ...] = ()


def parse_options(
    argv: list[bytes], start: int, table: dict[bytes, Opt], end: int | None = None
) -> dict[str, Any]:
    """Parse ``argv[start:end]`` as keyword options from ``table`` (keys upper case).

    Raises ``ERR syntax error`` for unknown words, missing values or conflicts.
    Later occurrences override earlier ones, as in Redis.
    """
    out: dict[str, Any] = {}
    seen: set[bytes] = set()
    i = start
    stop = len(argv) if end is None else end
    while i < stop:
        word = argv[i].upper()
        opt = table.get(word)
        if opt is None or i + opt.nargs >= stop:
            raise CommandError(SYNTAX)
        for c in opt.conflicts:
            if c in seen:
                raise CommandError(SYNTAX)
        seen.add(opt.name)
        dest = opt.dest or opt.name.decode().lower()
        if opt.nargs == 0:
            out[dest] = opt.const
        elif opt.nargs == 1:
            v = argv[i + 1]
            out[dest] = opt.convert(v) if opt.convert else v
        else:
            vals = argv[i + 1 : i + 1 + opt.nargs]
            out[dest] = [opt.convert(v) if opt.convert else v for v in vals]
        i += 1 + opt.nargs
    return out
