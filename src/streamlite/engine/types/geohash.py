"""Geohashes and distances as Redis computes them (``geohash.c``, ``geohash_helper.c``).

A GEO set is a sorted set whose scores are 52-bit geohashes: longitude and
latitude are each scaled to 26 bits over [-180, 180] and [-85.05112878,
85.05112878] (the Web Mercator limits) and interleaved, latitude in the even
bits. Decoding gives the centre of the cell (clamped to the limits), so a stored
position is the given one rounded to about 0.6 m.

A radius or box search covers the shape with the 3x3 cells (of a size chosen
from the radius) around the centre, drops the cells that cannot hold a match,
and scans each remaining cell as a score range of the sorted set; candidates are
kept when their haversine distance (Earth radius 6372797.560856 m) or their
offsets from the centre fit the shape. Every step uses the same double
arithmetic as Redis, so results, distances and their order match it.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..record import Record

LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
STEP_MAX = 26
EARTH_RADIUS = 6372797.560856
MERCATOR_MAX = 20037726.37
D_R = math.pi / 180.0

_U64 = (1 << 64) - 1
_B = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
      0x0000FFFF0000FFFF, 0x00000000FFFFFFFF)
_EVEN, _ODD = 0x5555555555555555, 0xAAAAAAAAAAAAAAAA

Range = tuple[float, float]
WGS84: tuple[Range, Range] = ((LONG_MIN, LONG_MAX), (LAT_MIN, LAT_MAX))


def deg_rad(a: float) -> float:
    return a * D_R


def rad_deg(a: float) -> float:
    return a / D_R


# -- bits ---------------------------------------------------------------------------------


def _spread(v: int) -> int:
    for shift, mask in ((16, _B[4]), (8, _B[3]), (4, _B[2]), (2, _B[1]), (1, _B[0])):
        v = (v | (v << shift)) & mask
    return v


def _squeeze(v: int) -> int:
    for shift, mask in ((0, _B[0]), (1, _B[1]), (2, _B[2]), (4, _B[3]), (8, _B[4]), (16, _B[5])):
        v = (v | (v >> shift)) & mask
    return v


def interleave(x: int, y: int) -> int:
    """Bits of ``x`` (32-bit) in the even positions, of ``y`` in the odd ones."""
    return _spread(x & 0xFFFFFFFF) | (_spread(y & 0xFFFFFFFF) << 1)


def deinterleave(v: int) -> tuple[int, int]:
    return _squeeze(v & _U64), _squeeze((v & _U64) >> 1)


def score_bits(score: float) -> int:
    """C's ``(uint64_t)score`` on x86-64 (what GEO commands do to any score)."""
    if score != score:
        return 0
    if score >= 2.0**63:
        return int(score - 2.0**63) ^ (1 << 63) if score < 2.0**64 else 0
    if score <= -(2.0**63) - 1:
        return 1 << 63
    return int(score) & _U64


# -- encode / decode ---------------------------------------------------------------------


def encode(lon: float, lat: float, step: int, ranges: tuple[Range, Range] = WGS84) -> int | None:
    """``geohashEncode``: the ``2 * step``-bit hash of a point, None outside the limits."""
    (lon_min, lon_max), (lat_min, lat_max) = ranges
    if lon > 180 or lon < -180 or lat > LAT_MAX or lat < LAT_MIN:
        return None
    if lat < lat_min or lat > lat_max or lon < lon_min or lon > lon_max:
        return None
    lat_off = (lat - lat_min) / (lat_max - lat_min) * (1 << step)
    lon_off = (lon - lon_min) / (lon_max - lon_min) * (1 << step)
    return interleave(int(lat_off), int(lon_off))


def align52(bits: int, step: int) -> int:
    return (bits << (52 - step * 2)) & _U64


class Area(Record):
    __slots__ = _fields = ("lon_min", "lon_max", "lat_min", "lat_max")
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float

    def __init__(self, lon_min: float, lon_max: float, lat_min: float, lat_max: float) -> None:
        self.lon_min = lon_min
        self.lon_max = lon_max
        self.lat_min = lat_min
        self.lat_max = lat_max


def decode(bits: int, step: int, ranges: tuple[Range, Range] = WGS84) -> Area:
    """``geohashDecode``: the cell of a hash."""
    (lon_min, lon_max), (lat_min, lat_max) = ranges
    ilat, ilon = deinterleave(bits)
    lat_scale, lon_scale = lat_max - lat_min, lon_max - lon_min
    n = 1 << step
    return Area(
        lon_min + (ilon * 1.0 / n) * lon_scale,
        lon_min + (((ilon + 1) & 0xFFFFFFFF) * 1.0 / n) * lon_scale,
        lat_min + (ilat * 1.0 / n) * lat_scale,
        lat_min + (((ilat + 1) & 0xFFFFFFFF) * 1.0 / n) * lat_scale,
    )


@lru_cache(maxsize=16384)  # searches decode the same stored scores again and again
def point(score: float) -> tuple[float, float]:
    """(longitude, latitude) of a GEO set score: the centre of its cell, clamped."""
    a = decode(score_bits(score), STEP_MAX)
    lon = min(max((a.lon_min + a.lon_max) / 2, LONG_MIN), LONG_MAX)
    lat = min(max((a.lat_min + a.lat_max) / 2, LAT_MIN), LAT_MAX)
    return lon, lat


def score_of(lon: float, lat: float) -> int | None:
    """The sorted-set score GEOADD stores for a point."""
    bits = encode(lon, lat, STEP_MAX)
    return None if bits is None else align52(bits, STEP_MAX)


_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(score: float) -> bytes:
    """GEOHASH: the standard 11-character geohash (latitudes over [-90, 90])."""
    lon, lat = point(score)
    bits = encode(lon, lat, 26, ((-180.0, 180.0), (-90.0, 90.0))) or 0
    out = bytearray()
    for i in range(10):
        out.append(_ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F])
    out.append(_ALPHABET[0])  # 52 bits only: the 11th character is always '0'
    return bytes(out)


# -- neighbours ------------------------------------------------------------------------------


def _move(bits: int, step: int, d: int, mine: int, other: int) -> int:
    """``geohash_move_x``/``_y``: one cell along the bits in ``mine``."""
    if d == 0:
        return bits
    x = bits & mine
    y = bits & other
    zz = (other >> (64 - step * 2)) & _U64
    x = (x + zz + 1 if d > 0 else (x | zz) - (zz + 1)) & _U64
    x &= mine >> (64 - step * 2)
    return x | y


def neighbour(bits: int, step: int, dx: int, dy: int) -> int:
    """The cell ``dx`` east and ``dy`` north (each -1, 0 or 1) of ``bits``."""
    bits = _move(bits, step, dx, _ODD, _EVEN)
    return _move(bits, step, dy, _EVEN, _ODD)


# north, south, east, west, north-east, north-west, south-east, south-west (Redis's order)
_AROUND = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


# -- distances ----------------------------------------------------------------------------


def lat_distance(lat1: float, lat2: float) -> float:
    return EARTH_RADIUS * abs(deg_rad(lat2) - deg_rad(lat1))


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine great-circle distance in meters."""
    lon1r, lon2r = deg_rad(lon1), deg_rad(lon2)
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0:
        return lat_distance(lat1, lat2)
    lat1r, lat2r = deg_rad(lat1), deg_rad(lat2)
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS * math.asin(math.sqrt(a))


def format_distance(d: float) -> bytes:
    """``fixedpoint_d2string(d, 4)``: rounded half to even at 4 decimals."""
    if d == 0:
        return b"0.0000"
    v = round(d * 10000.0)
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}{v // 10000}.{v % 10000:04d}".encode()


# -- search shapes -----------------------------------------------------------------------


class Shape(Record):
    """A search area: a circle (``radius``) or a box (``width`` x ``height``), in the
    unit whose size in meters is ``conversion``, around (``lon``, ``lat``)."""

    __slots__ = _fields = ("lon", "lat", "conversion", "radius", "width", "height")
    lon: float
    lat: float
    conversion: float
    radius: float | None
    width: float
    height: float

    def __init__(self, lon: float = 0.0, lat: float = 0.0, conversion: float = 1.0,
                 radius: float | None = None, width: float = 0.0, height: float = 0.0) -> None:
        self.lon = lon
        self.lat = lat
        self.conversion = conversion
        self.radius = radius
        self.width = width
        self.height = height

    def distance_if_inside(self, lon: float, lat: float) -> float | None:
        """The distance from the centre to a point inside the shape, else None."""
        if self.radius is not None:
            d = distance(self.lon, self.lat, lon, lat)
            return None if d > self.radius * self.conversion else d
        if lat_distance(lat, self.lat) > self.height * self.conversion / 2:
            return None
        if distance(lon, lat, self.lon, lat) > self.width * self.conversion / 2:
            return None
        return distance(self.lon, self.lat, lon, lat)

    def bounds(self) -> tuple[float, float, float, float]:
        """``geohashBoundingBox``: (min lon, min lat, max lon, max lat)."""
        if self.radius is not None:
            height = width = self.conversion * self.radius
        else:
            height = self.conversion * self.height / 2
            width = self.conversion * self.width / 2
        lat_delta = rad_deg(height / EARTH_RADIUS)
        top = rad_deg(width / EARTH_RADIUS / math.cos(deg_rad(self.lat + lat_delta)))
        bottom = rad_deg(width / EARTH_RADIUS / math.cos(deg_rad(self.lat - lat_delta)))
        dlon = bottom if self.lat < 0 else top
        return self.lon - dlon, self.lat - lat_delta, self.lon + dlon, self.lat + lat_delta

    def radius_meters(self) -> float:
        if self.radius is not None:
            r = self.radius
        else:
            r = math.sqrt((self.width / 2) * (self.width / 2) + (self.height / 2) * (self.height / 2))
        return r * self.conversion


def estimate_step(range_meters: float, lat: float) -> int:
    """``geohashEstimateStepsByRadius``: the cell size for a search radius."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), 26)


def search_cells(shape: Shape) -> list[tuple[int, int] | None]:
    """``geohashCalculateAreasByShapeWGS84``: the centre cell and its 8 neighbours in
    Redis's order, as (bits, step), None for a neighbour that cannot hold a match."""
    min_lon, min_lat, max_lon, max_lat = shape.bounds()
    step = estimate_step(shape.radius_meters(), shape.lat)
    cells = _cells(shape, step)
    around = [decode(b, step) for b in cells[1:5]]  # north, south, east, west
    if step > 1 and (around[0].lat_max < max_lat or around[1].lat_min > min_lat
                     or around[2].lon_max < max_lon or around[3].lon_min > min_lon):
        step -= 1
        cells = _cells(shape, step)
    out: list[tuple[int, int] | None] = [(b, step) for b in cells]
    if step >= 2:
        area = decode(cells[0], step)
        drop: set[int] = set()
        if area.lat_min < min_lat:
            drop |= {2, 7, 8}  # south, south-east, south-west
        if area.lat_max > max_lat:
            drop |= {1, 5, 6}
        if area.lon_min < min_lon:
            drop |= {4, 6, 8}
        if area.lon_max > max_lon:
            drop |= {3, 5, 7}
        for i in drop:
            out[i] = None
    return out


def _cells(shape: Shape, step: int) -> list[int]:
    centre = encode(shape.lon, shape.lat, step) or 0
    return [centre] + [neighbour(centre, step, dx, dy) for dx, dy in _AROUND]


def cell_scores(bits: int, step: int) -> tuple[int, int]:
    """``scoresOfGeoHashBox``: the score range [min, max) of the points in a cell."""
    return align52(bits, step), align52(bits + 1, step)
