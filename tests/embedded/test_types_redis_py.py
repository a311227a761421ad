"""redis-py's own API for bitmaps, HyperLogLog, Geo and SORT, on a real Redis 8.2 and
on the embedded engine: the same calls must give the same Python values (redis-py's
response callbacks included: GEOPOS floats, GEORADIUS tuples, BITFIELD lists),
in RESP2 and RESP3."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from streamlite.embedded import Embedded

pytestmark = pytest.mark.redis


def _calls(r: redis.Redis) -> list[Any]:
    out: list[Any] = []
    out += [r.setbit("b", 7, 1), r.setbit("b", 100, 1), r.getbit("b", 7), r.bitcount("b"),
            r.bitcount("b", 0, 1), r.bitcount("b", 1, 100, "BIT"), r.bitpos("b", 1),
            r.bitpos("b", 0, 1, 10, "BIT"), r.get("b")]
    r.set("x", b"\x0f\xf0")
    out += [r.bitop("AND", "d", "b", "x"), r.bitop("NOT", "d2", "x"), r.get("d2"),
            r.bitop("XOR", "d3", "b", "x"), r.get("d3")]
    bf = r.bitfield("f")
    out.append(bf.set("i8", 0, 100).get("u4", 0).incrby("i8", 0, 100).overflow("SAT")
               .incrby("i8", 0, 100).overflow("FAIL").incrby("u2", 10, 7).execute())
    out.append(r.bitfield_ro("f", "i8", 0, items=[("u4", 4)]))
    out += [r.pfadd("h", *[f"e{i}" for i in range(100)]), r.pfcount("h"), r.pfadd("h2", "a", "b"),
            r.pfcount("h", "h2"), r.pfmerge("hm", "h", "h2"), r.pfcount("hm"), r.get("hm")]
    out += [r.geoadd("g", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]),
            r.geoadd("g", [13.583333, 37.316667, "Agrigento"], nx=True, ch=True),
            r.geodist("g", "Palermo", "Catania"), r.geodist("g", "Palermo", "Catania", "km"),
            r.geohash("g", "Palermo", "nope"), r.geopos("g", "Palermo", "nope"),
            r.georadius("g", 15, 37, 200, unit="km", withdist=True, withcoord=True, withhash=True,
                        sort="ASC"),
            r.georadiusbymember("g", "Agrigento", 100, unit="km", withdist=True, count=1),
            r.geosearch("g", longitude=15, latitude=37, radius=200, unit="km", sort="DESC",
                        withdist=True),
            r.geosearch("g", member="Palermo", width=400, height=400, unit="km", withcoord=True),
            r.geosearchstore("gs", "g", longitude=15, latitude=37, radius=200, unit="km",
                             storedist=True),
            r.zrange("gs", 0, -1, withscores=True)]
    r.rpush("l", 3, 1, 2, 10)
    r.mset({"w_3": 1, "w_1": 3, "w_2": 2, "w_10": 0})
    r.hset("o_1", "name", "one")
    out += [r.sort("l"), r.sort("l", desc=True, start=1, num=2), r.sort("l", alpha=True),
            r.sort("l", by="w_*", get=["#", "o_*->name"]), r.sort("l", by="nosort"),
            r.sort("l", store="sorted"), r.lrange("sorted", 0, -1), r.sort_ro("l", by="w_*"),
            r.sort("l", get="#", groups=False)]
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_redis_py_api_matches_redis(redis_server, proto):
    real = redis.Redis(port=redis_server.port, protocol=proto)
    emb = Embedded()
    mine = emb.client(protocol=proto)
    try:
        real.flushall()
        expected = _calls(real)
        got = _calls(mine)
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            assert a == b, f"call {i}: redis {a!r}, embedded {b!r}"
    finally:
        real.close()
        mine.close()
        emb.close()
