"""Geo commands against a real Redis 8.2: scores (52-bit geohashes), positions,
geohash strings, distances to the 4th decimal, search results in Redis's order
(unsorted, ASC/DESC, COUNT with ties, ANY), STORE/STOREDIST results, error texts;
random points and searches (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.diff.diffutil import raw_both_protocols
from tests.support.diff import EngineConn, RedisConn

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]

SICILY = ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
          "13.583333", "37.316667", "Agrigento")


def test_geoadd_pos_hash_dist(redis_server):
    raw_both_protocols(redis_server.port, [
        SICILY, ("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", "Sicily"),
        ("GEOPOS", "Sicily", "Palermo", "Catania", "nope"), ("GEOPOS", "nokey", "a"), ("GEOPOS", "Sicily"),
        ("GEOHASH", "Sicily", "Palermo", "Catania", "nope"), ("GEOHASH", "nokey", "a"),
        ("GEODIST", "Sicily", "Palermo", "Catania"), ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "MI"), ("GEODIST", "Sicily", "Palermo", "Catania", "ft"),
        ("GEODIST", "Sicily", "Palermo", "Palermo"), ("GEODIST", "Sicily", "Palermo", "nope"),
        ("GEODIST", "nokey", "a", "b"), ("GEODIST", "Sicily", "Palermo", "Catania", "km", "x"),
        ("GEODIST", "nokey", "a", "b", "yd"),
        ("GEOADD", "Sicily", "NX", "1", "2", "x"), ("GEOADD", "Sicily", "XX", "1", "2", "Palermo"),
        ("GEOADD", "Sicily", "CH", "XX", "1", "2", "Palermo"), ("GEOADD", "Sicily", "NX", "XX", "1", "2", "P"),
        ("GEOADD", "Sicily", "CH", "1", "2"), ("GEOADD", "Sicily", "200", "2", "a"),
        ("GEOADD", "Sicily", "1", "-86", "a"), ("GEOADD", "Sicily", "1", "inf", "a"),
        ("GEOADD", "Sicily", "abc", "2", "a"), ("GEOADD", "Sicily", "1", "2", "a", "3", "4"),
        ("GEOADD", "edge", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw", "0", "0", "o"),
        ("GEOPOS", "edge", "ne", "sw", "o"), ("GEOHASH", "edge", "ne", "sw", "o"),
        ("ZADD", "odd", "-5", "neg", "1e300", "huge", "4503599627370496", "big", "0", "zero"),
        ("GEOPOS", "odd", "neg", "huge", "big", "zero"), ("GEOHASH", "odd", "neg", "huge", "big"),
        ("GEODIST", "odd", "neg", "huge"),
        ("SET", "str", "x"), ("GEOADD", "str", "1", "2", "a"), ("GEOPOS", "str", "a"),
        ("GEOHASH", "str", "a"), ("GEODIST", "str", "a", "b"),
    ])


def test_georadius(redis_server):
    raw_both_protocols(redis_server.port, [
        SICILY,
        ("GEORADIUS", "Sicily", "15", "37", "200", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHHASH", "DESC"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2", "DESC"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "x"),
        ("GEORADIUS", "Sicily", "15", "37", "-200", "km"), ("GEORADIUS", "Sicily", "15", "37", "x", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "yd"), ("GEORADIUS", "Sicily", "15", "99", "200", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "FOO"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km"), ("GEORADIUS", "nokey", "15", "37", "200", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", "dst"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst2", "DESC", "COUNT", "2"),
        ("ZRANGE", "dst2", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst", "WITHDIST"),
        ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "dst"),
        ("GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE", "dst"), ("EXISTS", "dst"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "dst2"), ("EXISTS", "dst2"),
        ("GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km"),
        ("GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km", "WITHDIST", "ASC"),
        ("GEORADIUSBYMEMBER", "Sicily", "nope", "100", "km"),
        ("GEORADIUSBYMEMBER", "nokey", "nope", "100", "km"),
        ("GEORADIUSBYMEMBER", "nokey", "nope", "x", "km", "STORE", "d"),
        ("GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km", "STOREDIST", "d"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("GEORADIUSBYMEMBER_RO", "Sicily", "Agrigento", "100", "km", "WITHDIST"),
        ("GEORADIUSBYMEMBER_RO", "Sicily", "Agrigento", "100", "km", "STORE", "x"),
    ])


def test_geosearch(redis_server):
    raw_both_protocols(redis_server.port, [
        SICILY,
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC",
         "WITHCOORD", "WITHDIST"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "WITHHASH"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "160", "100", "km", "WITHDIST"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYBOX", "4", "4", "km"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "FROMMEMBER", "Palermo", "BYBOX", "4", "4", "km"),
        ("GEOSEARCH", "Sicily", "BYBOX", "400", "400", "km"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "WITHDIST"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "BYBOX", "1", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1", "ANY"),
        ("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "200", "km"),
        ("geosearch", "Sicily", "FROMLONLAT", "15", "37", "WITHDIST"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHDIST"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
         "COUNT", "2", "DESC"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"), ("EXISTS", "dst"),
        ("GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"),
        ("SET", "str", "x"), ("GEORADIUS", "str", "1", "2", "3", "km"),
        ("GEOSEARCHSTORE", "dst", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ])


def test_world_scale_searches(redis_server):
    """Huge radii (neighbour cells repeat), the poles, the antimeridian, zero radii."""
    world = ("GEOADD", "w", "0", "0", "a", "0.0001", "0", "b", "179.9", "0", "c", "-179.9", "0", "d",
             "0", "85", "n", "0", "-85", "s", "100", "50", "e", "-100", "-50", "f", "45", "70", "g",
             "-120", "-75", "h", "179.99", "84", "i")
    script: list[tuple[str, ...]] = [world]
    for centre in (("0", "0"), ("180", "0"), ("0", "84"), ("-179.5", "-80"), ("100", "50")):
        for r in ("0", "1", "500", "5000", "20000"):
            script.append(("GEORADIUS", "w", *centre, r, "km", "WITHDIST", "ASC"))
            script.append(("GEOSEARCH", "w", "FROMLONLAT", *centre, "BYBOX", r, str(int(r) // 2 + 1),
                           "km", "WITHDIST"))
            script.append(("GEORADIUS", "w", *centre, r, "km"))
    script += [("GEODIST", "w", "a", "b"), ("GEODIST", "w", "c", "d"), ("GEODIST", "w", "n", "s", "km")]
    raw_both_protocols(redis_server.port, script)


def test_equal_distances_order(redis_server):
    """Members at the same point: Redis's order for full sorts and COUNT-limited ones."""
    members = [x for i in range(30) for x in ("10", "10", f"m{i}")]
    members += [x for i in range(10) for x in ("10.001", "10", f"f{i}")]
    script: list[tuple[str, ...]] = [("GEOADD", "g", *members)]
    for count in ("1", "3", "7", "12", "33", "39"):
        for order in ("ASC", "DESC"):
            script.append(("GEORADIUS", "g", "10", "10", "100", "km", "COUNT", count, order))
            script.append(("GEOSEARCH", "g", "FROMLONLAT", "10", "10", "BYBOX", "99", "99", "km",
                           "COUNT", count, order, "WITHDIST"))
    script += [("GEORADIUS", "g", "10", "10", "100", "km", "ASC"), ("GEORADIUS", "g", "10", "10", "100", "km")]
    raw_both_protocols(redis_server.port, script)


LON = st.floats(-180, 180)
LAT = st.floats(-85.05112878, 85.05112878)
COORD = st.tuples(LON, LAT).map(lambda p: (repr(p[0]), repr(p[1])))
NEAR = st.tuples(st.floats(9.5, 10.5), st.floats(44.5, 45.5)).map(lambda p: (f"{p[0]:.4f}", f"{p[1]:.4f}"))
MEMBER = st.sampled_from([f"m{i}" for i in range(12)])
UNIT = st.sampled_from(["m", "km", "mi", "ft"])
RADIUS = st.one_of(st.integers(0, 300).map(str), st.floats(0, 20000).map(lambda f: f"{f:.3f}"))
OPTIONS = st.lists(st.sampled_from(["WITHDIST", "WITHCOORD", "WITHHASH", "ASC", "DESC"]), max_size=3)
COUNT = st.one_of(st.just([]), st.integers(1, 8).map(lambda n: ["COUNT", str(n)]),
                  st.integers(1, 8).map(lambda n: ["COUNT", str(n), "ANY"]))
POINT = st.one_of(COORD, NEAR)

COMMAND = st.one_of(
    st.builds(lambda pts: ("GEOADD", "g", *[x for (lo, la), m in pts for x in (lo, la, m)]),
              st.lists(st.tuples(POINT, MEMBER), min_size=1, max_size=5)),
    st.builds(lambda ms: ("GEOPOS", "g", *ms), st.lists(MEMBER, max_size=3)),
    st.builds(lambda ms: ("GEOHASH", "g", *ms), st.lists(MEMBER, max_size=3)),
    st.builds(lambda a, b, u: ("GEODIST", "g", a, b, u), MEMBER, MEMBER, UNIT),
    st.builds(lambda p, r, u, o, n: ("GEORADIUS", "g", *p, r, u, *o, *n), POINT, RADIUS, UNIT, OPTIONS, COUNT),
    st.builds(lambda m, r, u, o, n: ("GEORADIUSBYMEMBER", "g", m, r, u, *o, *n), MEMBER, RADIUS, UNIT,
              OPTIONS, COUNT),
    st.builds(lambda p, w, h, u, o, n: ("GEOSEARCH", "g", "FROMLONLAT", *p, "BYBOX", w, h, u, *o, *n),
              POINT, RADIUS, RADIUS, UNIT, OPTIONS, COUNT),
    st.builds(lambda m, r, u, n, d: ("GEOSEARCHSTORE", "dst", "g", "FROMMEMBER", m, "BYRADIUS", r, u, *n, *d),
              MEMBER, RADIUS, UNIT, COUNT, st.sampled_from([[], ["STOREDIST"]])),
    st.tuples(st.just("ZRANGE"), st.just("dst"), st.just("0"), st.just("-1"), st.just("WITHSCORES")),
    st.tuples(st.just("ZREM"), st.just("g"), MEMBER),
)


@pytest.mark.parametrize("proto", [2, 3])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(script=st.lists(COMMAND, min_size=1, max_size=25))
def test_random_geo_scripts(redis_server, proto, script):
    r = RedisConn(redis_server.port, protocol=proto)
    try:
        r.call("FLUSHALL")
        e = EngineConn(protocol=proto)
        for i, cmd in enumerate(script):
            a = r.call(*cmd)
            b = e.call(*cmd)
            assert a == b, f"step {i}: {cmd!r}\n  redis:      {a!r}\n  streamlite: {b!r}"
    finally:
        r.close()
