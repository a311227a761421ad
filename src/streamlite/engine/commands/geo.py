"""Geo commands (Redis group "geo"): GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS,
GEORADIUSBYMEMBER (and their ``_RO`` forms), GEOSEARCH, GEOSEARCHSTORE.

A GEO set is a sorted set whose scores are 52-bit geohashes (``types/geohash.py``),
so every sorted-set command works on it and it is a zset to DUMP and the RDB.
GEOADD is ZADD with computed scores: it replies, notifies (``zadd``) and
propagates (as ``ZADD``) exactly as that ZADD would. A search scans the 3x3
geohash cells around the centre in Redis's order, so unsorted results come in
Redis's order too; ASC/DESC sort by distance keeping ties in that order.

The STORE forms write a sorted set (scores: geohashes, or distances with
STOREDIST), notify ``georadiusstore``/``geosearchstore``, or delete the
destination when nothing matched; they propagate as themselves. Equal
distances keep Redis's order too: a full sort is stable (glibc's merge sort), a
COUNT-limited one is Redis's partial quicksort (``pqsort``).
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
from ..replies import NULL_ARRAY, Double
from ..types import geohash as gh
from ..types.scores import parse_score
from ..types.zset import Limits, ZSetValue
from .zsets import _zadd

_G = "geo"
_RO = (KeySpec("RO access", 1),)
_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}
NO_MEMBER = "ERR could not decode requested zset member"


def _zset(c: Client, key: bytes) -> ZSetValue | None:
    """``lookupKeyRead`` + ``checkType``: the sorted set at ``key`` or None."""
    v = c.db.lookup(key)
    read_miss(c, key, v)
    if v is not None and type(v) is not ZSetValue:
        raise CommandError(WRONGTYPE)
    return v


def _lonlat(argv: list[bytes], i: int) -> tuple[float, float]:
    """``extractLongLatOrReply``: a longitude and a latitude within the GEO limits."""
    lon = parse_score(argv[i])
    lat = parse_score(argv[i + 1])
    if lon < gh.LONG_MIN or lon > gh.LONG_MAX or lat < gh.LAT_MIN or lat > gh.LAT_MAX:
        raise CommandError(f"ERR invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def _unit(arg: bytes) -> float:
    conv = _UNITS.get(arg.lower())
    if conv is None:
        raise CommandError("ERR unsupported unit provided. please use M, KM, FT, MI")
    return conv


def _member_point(z: ZSetValue, member: bytes) -> tuple[float, float]:
    s = z.score(member)
    if s is None:
        raise CommandError(NO_MEMBER)
    return gh.point(s)


# -- GEOADD, GEOPOS, GEOHASH, GEODIST -------------------------------------------------


@command("geoadd", -5, "write denyoom", 1, 1, 1, group=_G,
         specs=(KeySpec("RW update", 1),))
def geoadd(c: Client, argv: list[bytes]) -> Any:
    """GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]"""
    flags: set[bytes] = set()
    i = 2
    while i < len(argv) and argv[i].upper() in (b"NX", b"XX", b"CH"):
        flags.add(argv[i].upper())
        i += 1
    if (len(argv) - i) % 3 or {b"NX", b"XX"} <= flags:
        raise CommandError(SYNTAX)
    zargv = [b"zadd", *argv[1:i]]
    for j in range(i, len(argv), 3):
        lon, lat = _lonlat(argv, j)
        score = gh.score_of(lon, lat)
        zargv += [b"%d" % (score or 0), argv[j + 2]]
    c.engine.rewrite(c, zargv)  # Redis runs (and propagates) the ZADD it built
    return _zadd(c, zargv, flags, i)


@command("geopos", -2, "readonly", 1, 1, 1, group=_G, specs=_RO)
def geopos(c: Client, argv: list[bytes]) -> list[Any]:
    """GEOPOS key [member [member ...]]"""
    z = _zset(c, argv[1])
    out: list[Any] = []
    for m in argv[2:]:
        s = None if z is None else z.score(m)
        if s is None:
            out.append(NULL_ARRAY)
        else:
            lon, lat = gh.point(s)
            out.append([Double(lon), Double(lat)])
    return out


@command("geohash", -2, "readonly", 1, 1, 1, group=_G, specs=_RO)
def geohash(c: Client, argv: list[bytes]) -> list[Any]:
    """GEOHASH key [member [member ...]]"""
    z = _zset(c, argv[1])
    out: list[Any] = []
    for m in argv[2:]:
        s = None if z is None else z.score(m)
        out.append(None if s is None else gh.geohash_string(s))
    return out


@command("geodist", -4, "readonly", 1, 1, 1, group=_G, specs=_RO)
def geodist(c: Client, argv: list[bytes]) -> Any:
    """GEODIST key member1 member2 [M | KM | FT | MI]"""
    if len(argv) > 5:
        raise CommandError(SYNTAX)
    conv = _unit(argv[4]) if len(argv) == 5 else 1.0
    z = _zset(c, argv[1])
    if z is None:
        return None
    s1, s2 = z.score(argv[2]), z.score(argv[3])
    if s1 is None or s2 is None:
        return None
    (lon1, lat1), (lon2, lat2) = gh.point(s1), gh.point(s2)
    return gh.format_distance(gh.distance(lon1, lat1, lon2, lat2) / conv)


# -- searches ------------------------------------------------------------------------------

_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16


class _Query:
    """The options of one search, parsed as ``georadiusGeneric`` does."""

    def __init__(self) -> None:
        self.shape = gh.Shape()
        self.withdist = self.withhash = self.withcoord = False
        self.any = False
        self.sort = 0  # 0 none, 1 asc, 2 desc
        self.count = 0
        self.store: bytes | None = None
        self.storedist = False
        self.frommember = self.fromloc = self.byradius = self.bybox = False


def _distance_arg(q: _Query, argv: list[bytes], i: int) -> None:
    r = parse_score(argv[i], "ERR need numeric radius")
    if r < 0:
        raise CommandError("ERR radius cannot be negative")
    q.shape.radius = r
    q.shape.conversion = _unit(argv[i + 1])


def _box_arg(q: _Query, argv: list[bytes], i: int) -> None:
    w = parse_score(argv[i], "ERR need numeric width")
    h = parse_score(argv[i + 1], "ERR need numeric height")
    if h < 0 or w < 0:
        raise CommandError("ERR height or width cannot be negative")
    q.shape.width, q.shape.height = w, h
    q.shape.conversion = _unit(argv[i + 2])


def _parse_options(q: _Query, argv: list[bytes], base: int, flags: int, z: ZSetValue | None) -> None:
    i, n = base, len(argv)
    search = bool(flags & _SEARCH)
    can_store = not flags & (_NOSTORE | _SEARCH)
    while i < n:
        arg = argv[i].lower()
        left = n - i - 1
        if arg == b"withdist":
            q.withdist = True
        elif arg == b"withhash":
            q.withhash = True
        elif arg == b"withcoord":
            q.withcoord = True
        elif arg == b"any":
            q.any = True
        elif arg == b"asc":
            q.sort = 1
        elif arg == b"desc":
            q.sort = 2
        elif arg == b"count" and left >= 1:
            q.count = parse_int(argv[i + 1])
            if q.count <= 0:
                raise CommandError("ERR COUNT must be > 0")
            i += 1
        elif arg in (b"store", b"storedist") and left >= 1 and can_store:
            q.store = argv[i + 1]
            q.storedist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & _SEARCHSTORE:
            q.storedist = True
        elif arg == b"frommember" and left >= 1 and search and not q.fromloc:
            if z is not None:
                q.shape.lon, q.shape.lat = _member_point(z, argv[i + 1])
            q.frommember = True
            i += 1
        elif arg == b"fromlonlat" and left >= 2 and search and not q.frommember:
            q.shape.lon, q.shape.lat = _lonlat(argv, i + 1)
            q.fromloc = True
            i += 2
        elif arg == b"byradius" and left >= 2 and search and not q.bybox:
            _distance_arg(q, argv, i + 1)
            q.byradius = True
            i += 2
        elif arg == b"bybox" and left >= 3 and search and not q.byradius:
            _box_arg(q, argv, i + 1)
            q.shape.radius = None
            q.bybox = True
            i += 3
        else:
            raise CommandError(SYNTAX)
        i += 1


def _check(q: _Query, argv: list[bytes], flags: int) -> None:
    name = argv[0].decode("utf-8", "replace")
    if q.store is not None and (q.withdist or q.withhash or q.withcoord):
        what = "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"
        raise CommandError(f"ERR {what} is not compatible with WITHDIST, WITHHASH and "
                           "WITHCOORD options")
    if flags & _SEARCH and not (q.frommember or q.fromloc):
        raise CommandError(f"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified "
                           f"for {name}")
    if flags & _SEARCH and not (q.byradius or q.bybox):
        raise CommandError(f"ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")
    if q.any and not q.count:
        raise CommandError("ERR the ANY argument requires COUNT argument")


Found = tuple[float, float, float, float, bytes]  # distance, score, lon, lat, member


def _find(z: ZSetValue, shape: gh.Shape, limit: int) -> list[Found]:
    """``membersOfAllNeighbors``: the members inside ``shape``, cell by cell in Redis's
    order; with ``limit`` (ANY), stop once that many were found."""
    found: list[Found] = []
    cells = gh.search_cells(shape)
    last = 0
    for i, cell in enumerate(cells):
        if cell is None:
            continue
        if last and cell == cells[last]:  # huge radii: neighbours can repeat
            continue
        if found and limit and len(found) >= limit:
            break
        lo, hi = gh.cell_scores(*cell)
        a, b = z.score_bounds(float(lo), False, float(hi), True)
        for score, member in z.sl.islice(a, b):
            lon, lat = gh.point(score)
            d = shape.distance_if_inside(lon, lat)
            if d is not None:
                found.append((d, score, lon, lat, member))
            if found and limit and len(found) >= limit:
                break
        last = i
    return found


def _georadius(c: Client, argv: list[bytes], src: int, flags: int) -> Any:
    z = _zset(c, argv[src])
    q = _Query()
    if flags & _COORDS:
        base = 6
        q.shape.lon, q.shape.lat = _lonlat(argv, 2)
        _distance_arg(q, argv, 4)
    elif flags & _MEMBER:
        base = 5
        if z is not None:
            q.shape.lon, q.shape.lat = _member_point(z, argv[2])
            _distance_arg(q, argv, 3)
    else:
        base = 3 if flags & _SEARCHSTORE else 2
        if flags & _SEARCHSTORE:
            q.store = argv[1]
    _parse_options(q, argv, base, flags, z)
    _check(q, argv, flags)
    if z is None:
        if q.store is None:
            return []
        if c.db.delete(q.store):
            notify(c, "g", b"del", q.store)
        return 0
    if q.count and not q.sort and not q.any:
        q.sort = 1
    found = _find(z, q.shape, q.count if q.any else 0)
    if not found and q.store is None:
        return []
    returned = min(q.count, len(found)) if q.count else len(found)
    if q.sort:
        sign = -1 if q.sort == 2 else 1

        def by_distance(x: Found, y: Found) -> int:
            return sign * ((x[0] > y[0]) - (x[0] < y[0]))

        if returned == len(found):
            stable_sort(found, itemgetter(0), reverse=q.sort == 2)
        else:
            pqsort(found, by_distance, 0, returned - 1)
    found = found[:returned]
    conv = q.shape.conversion
    if q.store is not None:
        return _store(c, q, found, bool(flags & _SEARCH))
    out: list[Any] = []
    for d, score, lon, lat, member in found:
        if not (q.withdist or q.withhash or q.withcoord):
            out.append(member)
            continue
        item: list[Any] = [member]
        if q.withdist:
            item.append(gh.format_distance(d / conv))
        if q.withhash:
            item.append(int(score))
        if q.withcoord:
            item.append([Double(lon), Double(lat)])
        out.append(item)
    return out


def _store(c: Client, q: _Query, found: list[Found], search: bool) -> int:
    dest = q.store
    assert dest is not None
    db = c.db
    if not found:
        if db.delete(dest):
            notify(c, "g", b"del", dest)
        return 0
    conv = q.shape.conversion
    items = [(m, d / conv if q.storedist else score) for d, score, _, _, m in found]
    old = db.peek(dest)
    new = ZSetValue.build(items, Limits(c.engine))
    dirty = c.engine.dirty
    db.set(dest, new)
    overwritten(c, dest, old, new)
    notify(c, "z", b"geosearchstore" if search else b"georadiusstore", dest)
    c.engine.dirty = dirty + len(found)  # Redis counts each stored member
    return len(found)


def _store_keys(argv: list[bytes]) -> list[int]:
    """``georadiusGetKeys``: the source and the STORE/STOREDIST key (the last one wins)."""
    store = -1
    i = 5
    while i < len(argv) - 1:
        if argv[i].lower() in (b"store", b"storedist"):
            store = i + 1
            i += 1
        i += 1
    return [1] if store < 0 else [1, store]


def _specs(startfrom: int) -> tuple[KeySpec, ...]:
    return (KeySpec("RO access", 1),
            KeySpec("OW update", keyword="STORE", startfrom=startfrom),
            KeySpec("OW update", keyword="STOREDIST", startfrom=startfrom))


@command("georadius", -6, "write denyoom movablekeys", 1, 1, 1, group=_G,
         keys_fn=_store_keys, specs=_specs(6))
def georadius(c: Client, argv: list[bytes]) -> Any:
    """GEORADIUS key longitude latitude radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]"""
    return _georadius(c, argv, 1, _COORDS)


@command("georadius_ro", -6, "readonly", 1, 1, 1, group=_G, specs=_RO)
def georadius_ro(c: Client, argv: list[bytes]) -> Any:
    """GEORADIUS_RO key longitude latitude radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]"""
    return _georadius(c, argv, 1, _COORDS | _NOSTORE)


@command("georadiusbymember", -5, "write denyoom movablekeys", 1, 1, 1, group=_G,
         keys_fn=_store_keys, specs=_specs(5))
def georadiusbymember(c: Client, argv: list[bytes]) -> Any:
    """GEORADIUSBYMEMBER key member radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]"""
    return _georadius(c, argv, 1, _MEMBER)


@command("georadiusbymember_ro", -5, "readonly", 1, 1, 1, group=_G, specs=_RO)
def georadiusbymember_ro(c: Client, argv: list[bytes]) -> Any:
    """GEORADIUSBYMEMBER_RO key member radius <M | KM | FT | MI> [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]"""
    return _georadius(c, argv, 1, _MEMBER | _NOSTORE)


@command("geosearch", -7, "readonly", 1, 1, 1, group=_G, specs=_RO)
def geosearch(c: Client, argv: list[bytes]) -> Any:
    """GEOSEARCH key <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius <M | KM | FT | MI> | BYBOX width height <M | KM | FT | MI>> [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"""
    return _georadius(c, argv, 1, _SEARCH)


@command("geosearchstore", -8, "write denyoom", 1, 2, 1, group=_G,
         specs=(KeySpec("OW update", 1), KeySpec("RO access", 2)))
def geosearchstore(c: Client, argv: list[bytes]) -> Any:
    """GEOSEARCHSTORE destination source <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius <M | KM | FT | MI> | BYBOX width height <M | KM | FT | MI>> [ASC | DESC] [COUNT count [ANY]] [STOREDIST]"""
    return _georadius(c, argv, 2, _SEARCH | _SEARCHSTORE)
