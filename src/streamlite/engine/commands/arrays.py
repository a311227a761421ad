"""The array commands (Redis 8.8): ARSET, ARGET, ARMSET, ARMGET, ARDEL, ARDELRANGE,
ARLEN, ARCOUNT, ARGETRANGE, ARSCAN, ARINSERT, ARRING, ARNEXT, ARSEEK, ARLASTITEMS,
AROP, ARGREP, ARINFO. The value is ``types/array.ArrayValue``.

No Redis 8.2 to compare with: they follow Redis 8.10's command pages and the
semantics of its ``t_array.c``, replies and error strings included (redis-py's own
tests check them: ``tests/clientsuite``). An index is an unsigned decimal up to
2**64 - 2 (else ``ERR invalid array index``); every index of a command is checked
before anything is read or written. A missing key reads as an empty array
(ARGET/ARMGET nil, ARGETRANGE nils, ARSCAN/ARGREP/ARLASTITEMS empty) except for
ARINFO (``ERR no such key``); an array whose last element goes is deleted (``del``
event). Writes propagate as they came (they are deterministic).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .. import glob
from ..args import parse_int
from ..client import Client
from ..errors import NO_SUCH_KEY, SYNTAX, CommandError, wrong_args
from ..notify import notify
from ..registry import Handler, command
from ..types.array import MAX_INDEX, TERMINAL, ArrayValue

BAD_INDEX = "ERR invalid array index"
MAX_RANGE = 1_000_000  # ARGETRANGE / ARLASTITEMS: the most positions one reply walks
_SPACE = b" \t\n\v\f\r"


def _u64(raw: bytes) -> int | None:
    """Redis's ``string2ull``: a strict signed 64-bit integer that is not negative,
    else what ``strtoull`` makes of it (leading space, a sign, leading zeros; a minus
    wraps modulo 2**64); None when neither reads it."""
    try:
        v = parse_int(raw)
    except CommandError:
        pass
    else:
        return v if v >= 0 else None
    s = raw.lstrip(_SPACE)
    neg = s[:1] == b"-"
    if s[:1] in (b"-", b"+"):
        s = s[1:]
    if not s.isdigit() or int(s) > TERMINAL:
        return None
    return (1 << 64) - int(s) if neg and int(s) else int(s)


def _index(raw: bytes, allow_terminal: bool = False) -> int:
    v = _u64(raw)
    if v is None or (v == TERMINAL and not allow_terminal):
        raise CommandError(BAD_INDEX)
    return v


def _get(c: Client, key: bytes) -> ArrayValue | None:
    v: ArrayValue | None = c.db.get_typed(key, ArrayValue)
    return v


def _for_write(c: Client, key: bytes) -> ArrayValue:
    a = _get(c, key)
    if a is None:
        a = ArrayValue()
        c.db.set(key, a)
    return a


def _changed(c: Client, key: bytes, a: ArrayValue) -> None:
    """After a write: delete an emptied array (and say so), else signal the key."""
    if not a.items:
        c.db.remove(key)
        notify(c, "g", b"del", key)
    else:
        c.db.touch(key)


def _cmd(name: str, arity: int, flags: str) -> Callable[[Handler], Handler]:
    return command(name, arity, flags, 1, 1, 1, group="array")


# -- writing ----------------------------------------------------------------------


@_cmd("arset", -4, "write denyoom fast")
def arset(c: Client, argv: list[bytes]) -> Any:
    """ARSET key index value [value ...]"""
    start = _index(argv[2])
    values = argv[3:]
    if start + len(values) - 1 > MAX_INDEX:
        raise CommandError("ERR array index overflow")
    a = _for_write(c, argv[1])
    new = sum(1 for j, v in enumerate(values) if a.set(start + j, v))
    c.db.touch(argv[1])
    return new


@_cmd("armset", -4, "write denyoom fast")
def armset(c: Client, argv: list[bytes]) -> Any:
    """ARMSET key index value [index value ...]"""
    if len(argv) % 2:
        raise CommandError(wrong_args("armset"))
    pairs = [(_index(argv[j]), argv[j + 1]) for j in range(2, len(argv), 2)]
    a = _for_write(c, argv[1])
    new = sum(1 for i, v in pairs if a.set(i, v))
    c.db.touch(argv[1])
    return new


@_cmd("ardel", -3, "write fast")
def ardel(c: Client, argv: list[bytes]) -> Any:
    """ARDEL key index [index ...]"""
    idx = [_index(x) for x in argv[2:]]
    a = _get(c, argv[1])
    if a is None:
        return 0
    n = sum(1 for i in idx if a.delete(i))
    if n:
        _changed(c, argv[1], a)
    return n


@_cmd("ardelrange", -4, "write")
def ardelrange(c: Client, argv: list[bytes]) -> Any:
    """ARDELRANGE key start end [start end ...]"""
    if len(argv) % 2:
        raise CommandError(wrong_args("ardelrange"))
    ranges = [(_index(argv[j]), _index(argv[j + 1])) for j in range(2, len(argv), 2)]
    a = _get(c, argv[1])
    if a is None:
        return 0
    n = 0
    for lo, hi in ranges:
        if lo > hi:
            lo, hi = hi, lo
        for i in list(a.items.irange(lo, hi)):
            del a.items[i]
            n += 1
    if n:
        _changed(c, argv[1], a)
    return n


@_cmd("arinsert", -3, "write denyoom fast")
def arinsert(c: Client, argv: list[bytes]) -> Any:
    """ARINSERT key value [value ...]: at the cursor, which moves past them; replies
    the last index written."""
    a = _get(c, argv[1])
    cursor = a.cursor if a is not None else 0
    if cursor >= TERMINAL or cursor + len(argv) - 3 > MAX_INDEX:
        raise CommandError("ERR insert index overflow")
    a = _for_write(c, argv[1])
    for v in argv[2:]:
        a.set(a.cursor, v)
        a.cursor += 1
    c.db.touch(argv[1])
    return a.cursor - 1


@_cmd("arring", -4, "write denyoom")
def arring(c: Client, argv: list[bytes]) -> Any:
    """ARRING key size value [value ...]: each value at the cursor modulo ``size``;
    a changed size reshapes the array first (``ArrayValue.ring_rework``). Replies the
    last index written."""
    size = parse_int(argv[2], "ERR invalid size")
    if size <= 0:
        raise CommandError("ERR size must be positive")
    a = _for_write(c, argv[1])
    a.ring_rework(size)
    pos = 0
    for v in argv[3:]:
        pos = a.cursor % size
        a.set(pos, v)
        a.cursor = pos + 1
    c.db.touch(argv[1])
    return pos


@_cmd("arseek", 3, "write fast")
def arseek(c: Client, argv: list[bytes]) -> Any:
    """ARSEEK key index: the next insert goes to ``index``; 0 if there is no key."""
    i = _index(argv[2], allow_terminal=True)
    a = _get(c, argv[1])
    if a is None:
        return 0
    a.cursor = i
    c.db.touch(argv[1])
    return 1


# -- reading ----------------------------------------------------------------------


@_cmd("arget", 3, "readonly fast")
def arget(c: Client, argv: list[bytes]) -> Any:
    """ARGET key index"""
    a = _get(c, argv[1])
    i = _index(argv[2])
    return None if a is None else a.get(i)


@_cmd("armget", -3, "readonly fast")
def armget(c: Client, argv: list[bytes]) -> Any:
    """ARMGET key index [index ...]"""
    a = _get(c, argv[1])
    idx = [_index(x) for x in argv[2:]]
    return [None if a is None else a.get(i) for i in idx]


@_cmd("arlen", 2, "readonly fast")
def arlen(c: Client, argv: list[bytes]) -> Any:
    """ARLEN key"""
    a = _get(c, argv[1])
    return 0 if a is None else a.length()


@_cmd("arcount", 2, "readonly fast")
def arcount(c: Client, argv: list[bytes]) -> Any:
    """ARCOUNT key"""
    a = _get(c, argv[1])
    return 0 if a is None else len(a)


@_cmd("argetrange", 4, "readonly")
def argetrange(c: Client, argv: list[bytes]) -> Any:
    """ARGETRANGE key start end: every position, holes as nil (a missing key: all
    nil), in reverse when start > end; at most a million positions."""
    start, end = _index(argv[2]), _index(argv[3])
    a = _get(c, argv[1])
    if abs(end - start) + 1 > MAX_RANGE:
        raise CommandError(f"ERR range exceeds maximum of {MAX_RANGE} items")
    step = 1 if start <= end else -1
    positions = range(start, end + step, step)
    return [None] * len(positions) if a is None else [a.get(i) for i in positions]


def _limit(argv: list[bytes], at: int, name: str) -> int:
    """``LIMIT n`` at ``argv[at]`` (0: none given); ARSCAN has no other option."""
    if len(argv) == at:
        return 0
    if len(argv) != at + 2:
        raise CommandError(wrong_args(name))
    if argv[at].upper() != b"LIMIT":
        raise CommandError(SYNTAX)
    return _positive_limit(argv[at + 1])


def _positive_limit(raw: bytes) -> int:
    limit = parse_int(raw)
    if limit <= 0:
        raise CommandError("ERR LIMIT must be positive")
    return limit


@_cmd("arscan", -4, "readonly")
def arscan(c: Client, argv: list[bytes]) -> Any:
    """ARSCAN key start end [LIMIT limit]: the existing elements as [index, value]
    pairs, in reverse when start > end."""
    start, end = _index(argv[2]), _index(argv[3])
    limit = _limit(argv, 4, "arscan")
    a = _get(c, argv[1])
    if a is None:
        return []
    out: list[Any] = []
    for i, v in a.range_items(min(start, end), max(start, end), reverse=start > end):
        out.append([i, v])
        if len(out) == limit:
            break
    return out


@_cmd("arnext", 2, "readonly fast")
def arnext(c: Client, argv: list[bytes]) -> Any:
    """ARNEXT key: the next insert index; nil once the index space is used up."""
    a = _get(c, argv[1])
    if a is None:
        return 0
    return None if a.cursor == TERMINAL else a.cursor


@_cmd("arlastitems", -3, "readonly")
def arlastitems(c: Client, argv: list[bytes]) -> Any:
    """ARLASTITEMS key count [REV]: the positions before the cursor, oldest first
    (REV: newest first); a count of 0 or less replies empty before anything else."""
    count = parse_int(argv[2], "ERR invalid COUNT")
    if count <= 0:
        return []
    if len(argv) == 4:
        if argv[3].upper() != b"REV":
            raise CommandError(SYNTAX)
    elif len(argv) != 3:
        raise CommandError(wrong_args("arlastitems"))
    a = _get(c, argv[1])
    if a is None:
        return []
    n = min(count, a.length())
    if n > len(a) and n > MAX_RANGE:
        raise CommandError(f"ERR count exceeds maximum of {MAX_RANGE} items")
    newest_first = a.last_positions(n)
    return newest_first if len(argv) == 4 else newest_first[::-1]


def _number(v: bytes) -> int | float | None:
    try:
        return int(v)
    except ValueError:
        pass
    try:
        f = float(v)
    except ValueError:
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _fmt(x: int | float) -> bytes:
    if isinstance(x, int):
        return b"%d" % x
    if x == int(x) and abs(x) < 1e17:
        return b"%d" % int(x)
    return (b"%.17g" % x)


@_cmd("arop", -5, "readonly")
def arop(c: Client, argv: list[bytes]) -> Any:
    """AROP key start end <SUM | MIN | MAX | AND | OR | XOR | MATCH value | USED>"""
    start, end = _index(argv[2]), _index(argv[3])
    op = argv[4].upper()
    want: bytes | None = None
    if op not in (b"SUM", b"MIN", b"MAX", b"AND", b"OR", b"XOR", b"MATCH", b"USED"):
        raise CommandError("ERR unknown operation")
    if op == b"MATCH":
        if len(argv) != 6:
            raise CommandError("ERR MATCH requires a value argument")
        want = argv[5]
    elif len(argv) != 5:
        raise CommandError(wrong_args("arop"))
    a = _get(c, argv[1])
    lo, hi = min(start, end), max(start, end)
    values = [v for _, v in a.range_items(lo, hi)] if a is not None else []
    if op == b"USED":
        return len(values)
    if op == b"MATCH":
        return sum(1 for v in values if v == want)
    nums = [x for x in (_number(v) for v in values) if x is not None]
    if op in (b"AND", b"OR", b"XOR"):  # floats truncate; what int64 cannot hold is skipped
        ints = [int(x) for x in nums if -(1 << 63) <= x < (1 << 63)]
        if not ints:
            return None
        acc = ints[0]
        for x in ints[1:]:
            acc = acc & x if op == b"AND" else acc | x if op == b"OR" else acc ^ x
        return acc
    if not nums:
        return None
    if op == b"SUM":
        total: int | float = sum(nums)
        return _fmt(total)
    return _fmt(min(nums) if op == b"MIN" else max(nums))


def _predicate(kind: bytes, arg: bytes, nocase: bool) -> Callable[[bytes], bool]:
    """One ARGREP test of a value: RE, GLOB, EXACT or (else) a substring."""
    if kind == b"RE":
        if not arg:
            raise CommandError("ERR regular expression is empty")
        try:
            rx = re.compile(arg, re.IGNORECASE if nocase else 0)
        except re.error as e:
            raise CommandError(f"ERR invalid regular expression: {e}")
        return lambda v: rx.search(v) is not None
    if kind == b"GLOB":
        return lambda v: glob.match(arg, v, nocase=nocase)
    needle = arg.lower() if nocase else arg
    if kind == b"EXACT":
        return lambda v: (v.lower() if nocase else v) == needle
    return lambda v: needle in (v.lower() if nocase else v)


@_cmd("argrep", -6, "readonly")
def argrep(c: Client, argv: list[bytes]) -> Any:
    """ARGREP key start end <EXACT string | MATCH string | GLOB pattern | RE pattern [...]> [AND | OR | LIMIT limit | WITHVALUES | NOCASE [...]]"""
    a = _get(c, argv[1])
    last = a.length() - 1 if a is not None and a.items else 0
    start = 0 if argv[2] == b"-" else last if argv[2] == b"+" else _index(argv[2])
    end = last if argv[3] == b"+" else 0 if argv[3] == b"-" else _index(argv[3])
    preds: list[tuple[bytes, bytes]] = []
    use_and = nocase = withvalues = False
    limit = 0
    j = 4
    while j < len(argv):
        w = argv[j].upper()
        if w in (b"EXACT", b"MATCH", b"GLOB", b"RE") and j + 1 < len(argv):
            preds.append((w, argv[j + 1]))
            j += 2
        elif w in (b"AND", b"OR"):
            use_and = w == b"AND"
            j += 1
        elif w == b"LIMIT" and j + 1 < len(argv):
            limit = _positive_limit(argv[j + 1])
            j += 2
        elif w == b"WITHVALUES":
            withvalues = True
            j += 1
        elif w == b"NOCASE":
            nocase = True
            j += 1
        else:
            raise CommandError(SYNTAX)
    if not preds:
        raise CommandError(SYNTAX)
    tests = [_predicate(kind, arg, nocase) for kind, arg in preds]
    if a is None:
        return []
    out: list[Any] = []
    found = 0
    lo, hi = min(start, end), max(start, end)
    for i, v in a.range_items(lo, hi, reverse=start > end):
        ok = all(t(v) for t in tests) if use_and else any(t(v) for t in tests)
        if ok:
            out.append([i, v] if withvalues else i)
            found += 1
            if limit and found >= limit:
                break
    return out


@_cmd("arinfo", -2, "readonly")
def arinfo(c: Client, argv: list[bytes]) -> Any:
    """ARINFO key [FULL]"""
    full = False
    if len(argv) == 3:
        if argv[2].upper() != b"FULL":
            raise CommandError(SYNTAX)
        full = True
    elif len(argv) > 3:
        raise CommandError(SYNTAX)
    a = _get(c, argv[1])
    if a is None:
        raise CommandError(NO_SUCH_KEY)
    return a.info(full)
