"""SORT and SORT_RO (Redis group "generic"): the elements of a list, set or sorted
set, sorted as numbers or (ALPHA) as strings, optionally by the values of other
keys (``BY weight_*``, ``BY obj_*->field`` for hash fields), with ``LIMIT``,
``GET`` patterns (``#`` is the element itself) and ``STORE`` into a list.

The model is Redis's ``sort.c``:

- numbers parse like Redis 8's ``fast_float_strtod`` (no spaces, no hex, no NaN; an
  empty string is 0) and equal scores order by the elements' bytes; ALPHA compares
  with ``strcoll`` in the C locale (up to a NUL byte) unless the result is stored
  (then byte for byte); a missing BY value is 0, or sorts first with ALPHA;
- ``BY`` without ``*`` means "do not sort": a list or sorted set keeps its order
  (DESC reverses it), a set comes in its iteration order, except with STORE or
  from a script, where it is sorted ALPHA so replicas agree;
- equal keys keep Redis's order: a full sort is stable (glibc's merge sort); with BY
  and a LIMIT that keeps part of the result, Redis's partial quicksort (``pqsort``);
- SORT turns a listpack sorted set into a skiplist (``OBJECT ENCODING``), as Redis
  does before sorting one;
- STORE writes a list (listpack when it fits), notifies ``sortstore`` (or ``del``
  when the result is empty) and propagates as itself.

BY/GET patterns are refused, as by Redis, to an ACL user without read access to
every key (``acl.unrestricted_key_access``); Redis also refuses them in cluster mode,
which streamlite does not have.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from ..args import parse_int
from ..client import Client
from ..errors import SYNTAX, WRONGTYPE, CommandError
from ..notify import notify, overwritten, read_miss
from ..pqsort import pqsort, stable_sort
from ..registry import KeySpec, command
from ..types.config import conf_int
from ..types.hash import Hash, expire_fields
from ..types.list import ListValue
from ..types.scores import fast_strtod
from ..types.set import SetValue
from ..types.zset import ZSetValue

NOT_DOUBLE = "ERR One or more scores can't be converted into double"


def _cstr(b: bytes) -> bytes:
    """What C string functions see of ``b``: up to the first NUL."""
    i = b.find(b"\0")
    return b if i < 0 else b[:i]


def lookup_pattern(c: Client, pattern: bytes, subst: bytes) -> bytes | None:
    """``lookupKeyByPattern``: ``#`` is ``subst`` itself; else the first ``*`` is
    replaced by ``subst`` and the key read: a string, or with ``->field`` a hash
    field. None when there is no ``*``, no such key or a key of another type."""
    head = _cstr(pattern)
    if head == b"#":
        return subst
    p = head.find(b"*")
    if p < 0:
        return None
    f = head.find(b"->", p + 1)
    field: bytes | None = None
    end = len(pattern)
    if f >= 0 and f + 2 < len(head):
        field = pattern[f + 2:]
        end = f
    key = pattern[:p] + subst + pattern[p + 1:end]
    db = c.db
    v = db.lookup(key)
    read_miss(c, key, v)
    if v is None:
        return None
    if field is None:
        return v if type(v) is bytes else None
    if type(v) is not Hash:
        return None
    if v.ttls:
        expire_fields(db, key, v, c.engine.now_ms(), [field])
    return v.get(field)


class _Options:
    def __init__(self) -> None:
        self.desc = self.alpha = self.dontsort = False
        self.start, self.count = 0, -1
        self.store: bytes | None = None
        self.by: bytes | None = None
        self.gets: list[bytes] = []


def _full_key_access(c: Client, argv: list[bytes]) -> bool:
    from ..acl import unrestricted_key_access
    from ..registry import COMMANDS

    cmd = COMMANDS[argv[0].lower()]
    return unrestricted_key_access(c.user, cmd.name, cmd, argv)


def _parse(c: Client, argv: list[bytes], readonly: bool) -> _Options:
    o = _Options()
    full: bool | None = None if not c.user.unrestricted else True
    j, n = 2, len(argv)
    while j < n:
        left = n - j - 1
        w = argv[j].lower()
        if w == b"asc":
            o.desc = False
        elif w == b"desc":
            o.desc = True
        elif w == b"alpha":
            o.alpha = True
        elif w == b"limit" and left >= 2:
            o.start = parse_int(argv[j + 1])
            o.count = parse_int(argv[j + 2])
            j += 2
        elif w == b"store" and left >= 1 and not readonly:
            o.store = argv[j + 1]
            j += 1
        elif w == b"by" and left >= 1:
            o.by = argv[j + 1]
            if b"*" not in _cstr(o.by):
                o.dontsort = True  # and it stays so, whatever BY follows
            else:
                if full is None:
                    full = _full_key_access(c, argv)
                if not full:
                    raise CommandError(
                        "ERR BY option of SORT denied due to insufficient ACL permissions.")
            j += 1
        elif w == b"get" and left >= 1:
            if full is None:
                full = _full_key_access(c, argv)
            if not full:
                raise CommandError(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.")
            o.gets.append(argv[j + 1])
            j += 1
        else:
            raise CommandError(SYNTAX)
        j += 1
    return o


def _range(o: _Options, n: int) -> tuple[int, int]:
    """LIMIT as Redis clamps it: the inclusive range [start, end] of the result."""
    start = min(max(o.start, 0), n)
    count = min(max(o.count, -1), n)
    end = n - 1 if count < 0 else start + count - 1
    if start >= n:
        start, end = n - 1, n - 2
    if end >= n:
        end = n - 1
    return start, end


def _elements(v: Any, o: _Options, start: int, end: int) -> tuple[list[bytes], int, int]:
    """The elements to sort, and the range to output from them. Unsorted lists and
    sorted sets load just that range (in DESC order when asked)."""
    if o.dontsort and type(v) in (ListValue, ZSetValue):
        if end < start:
            return [], 0, -1
        n = len(v)
        items = list(v) if type(v) is ListValue else [m for _, m in v.sl]
        # DESC reads from the tail: positions n-1-start down to n-1-end
        picked = items[n - 1 - end: n - start][::-1] if o.desc else items[start: end + 1]
        return picked, 0, end - start
    if type(v) is ZSetValue:
        return list(v.scores), start, end
    return list(v), start, end


def _sort_key(c: Client, o: _Options, elements: list[bytes]) -> list[Any]:
    """The sort key of each element (``sortCompare``'s order)."""
    keys: list[Any] = []
    bad = False
    for e in elements:
        byval = lookup_pattern(c, o.by, e) if o.by is not None else e
        if o.alpha:
            if o.by is None:
                keys.append(e if o.store is not None else _cstr(e))
            elif byval is None:
                keys.append((0, b""))
            else:
                keys.append((1, byval if o.store is not None else _cstr(byval)))
            continue
        score = 0.0
        if byval is not None:
            parsed = fast_strtod(byval)
            if parsed is None:
                bad = True
            else:
                score = parsed
        keys.append((score, e))
    if bad:
        raise CommandError(NOT_DOUBLE)
    return keys


def _sort(c: Client, argv: list[bytes], readonly: bool) -> Any:
    o = _parse(c, argv, readonly)
    db = c.db
    v = db.lookup(argv[1])
    read_miss(c, argv[1], v)
    if v is None:
        v = ListValue()
    elif type(v) not in (ListValue, SetValue, ZSetValue):
        raise CommandError(WRONGTYPE)
    if o.dontsort and type(v) is SetValue and (o.store is not None or c.in_script):
        o.dontsort, o.alpha, o.by = False, True, None  # a deterministic order
    if type(v) is ZSetValue:
        v.listpack = False  # Redis converts the set to a skiplist to sort it
    start, end = _range(o, len(v))
    elements, start, end = _elements(v, o, start, end)
    if not o.dontsort:
        keys = _sort_key(c, o, elements)
        sign = -1 if o.desc else 1
        pairs = list(zip(keys, elements, strict=True))

        def compare(x: tuple[Any, bytes], y: tuple[Any, bytes]) -> int:
            r: int = sign * ((x[0] > y[0]) - (x[0] < y[0]))
            return r

        if o.by is not None and (start != 0 or end != len(elements) - 1):
            pqsort(pairs, compare, start, end)
        else:
            stable_sort(pairs, itemgetter(0), reverse=o.desc)
        elements = [e for _, e in pairs]
    picked = elements[start:end + 1] if end >= start else []
    if o.store is None:
        if not o.gets:
            return picked
        return [lookup_pattern(c, g, e) for e in picked for g in o.gets]
    out = picked if not o.gets else [lookup_pattern(c, g, e) or b"" for e in picked for g in o.gets]
    dest = o.store
    if not out:
        if db.delete(dest):
            notify(c, "g", b"del", dest)
        return 0
    lst = ListValue(out)
    lst.settle(conf_int(c.engine, "list-max-listpack-size", -2))
    old = db.peek(dest)
    dirty = c.engine.dirty
    db.set(dest, lst)
    overwritten(c, dest, old, lst)
    notify(c, "l", b"sortstore", dest)
    c.engine.dirty = dirty + len(out)  # Redis counts each stored element
    return len(out)


_ACL = "@set @sortedset @list @slow @dangerous"
_NOTE_BY = ("For the optional BY/GET keyword. It is marked 'unknown' because the key names "
            "derive from the content of the key we sort")
_NOTE_STORE = ("For the optional STORE keyword. It is marked 'unknown' because the keyword "
               "can appear anywhere in the argument array")


def _sort_keys(argv: list[bytes]) -> list[int]:
    """``sortGetKeys``: the sorted key and the last STORE destination."""
    keys = [1]
    store = -1
    skip = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    while i < len(argv):
        w = argv[i].lower()
        if w in skip:
            i += skip[w]
        elif w == b"store" and i + 1 < len(argv):
            store = i + 1  # the key itself is looked at as an option next, as in Redis
        i += 1
    return keys + ([store] if store > 0 else [])


@command("sort", -2, "write denyoom movablekeys", 1, 1, 1, keys_fn=_sort_keys,
         acl="@write " + _ACL,
         specs=(KeySpec("RO access", 1), KeySpec("RO access", unknown=True, notes=_NOTE_BY),
                KeySpec("OW update", unknown=True, notes=_NOTE_STORE)))
def sort(c: Client, argv: list[bytes]) -> Any:
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]"""
    return _sort(c, argv, False)


@command("sort_ro", -2, "readonly movablekeys", 1, 1, 1, keys_fn=lambda argv: [1],
         acl="@read " + _ACL,
         specs=(KeySpec("RO access", 1), KeySpec("RO access", unknown=True, notes=_NOTE_BY)))
def sort_ro(c: Client, argv: list[bytes]) -> Any:
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]"""
    return _sort(c, argv, True)
