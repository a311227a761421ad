"""``cmsgpack`` and ``struct`` in scripts, against a real Redis 8.2 byte for byte.

Fixed probes cover each encoding boundary, error text and limit; hypothesis then
packs random Lua values (nested tables, integers and floats at every width,
binary strings) and unpacks random and mutated byte strings on both servers.
"""

from __future__ import annotations

import struct as pystruct
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.conftest import spawn
from tests.server.test_lua_sandbox_redis import _mask
from tests.support.diff import RedisConn
from tests.support.redis_proc import ServerProc, have_redis, start_redis

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[RedisConn, RedisConn]]:
    if not have_redis():
        pytest.skip("redis-server is not installed (CI installs it)")
    servers: list[ServerProc] = [start_redis(), spawn()]
    conns = [RedisConn(s.port) for s in servers]
    yield conns[0], conns[1]
    for c in conns:
        c.close()
    for s in servers:
        s.cleanup()


def same(pair: tuple[RedisConn, RedisConn], *argv: Any) -> Any:
    redis_reply, ours = (_mask(c.call(*argv)) for c in pair)
    assert ours == redis_reply, argv
    return ours


PROBES = [
 "return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, 2^53, -2^63, 2^63, 1.5, 0.1, 1/0, -1/0, 0/0, -0.0, 1e300)",
 "return cmsgpack.pack('', 'abc', string.rep('x', 31), string.rep('x', 32), string.rep('x', 255), string.rep('x', 256), string.rep('x', 65536))",
 "return cmsgpack.pack({}, {1,2,3}, {1,nil,3}, {a=1}, {[1]=1,[2]=2,[4]=4}, {[0]=1}, {[1.5]=1}, {['1']=1}, true, false, nil, cmsgpack.pack)",
 "local t = {} for i=1,20 do t[i]=i end return cmsgpack.pack(t)",
 "local t = {} for i=1,70000 do t[i]=i end return #cmsgpack.pack(t)",
 "local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)",
 "local t = {} t[1] = t return cmsgpack.pack(t)",
 "return {pcall(cmsgpack.pack)}",
 "return cmsgpack.pack()",
 "return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}, {x='y'}, true, 1.5))}",
 "local a, b = cmsgpack.unpack(cmsgpack.pack({1, {2, {3}}})) return cjson.encode(a)",
 "return {cmsgpack.unpack('')}",
 "return {pcall(cmsgpack.unpack, '\\145')}",
 "return {pcall(cmsgpack.unpack, '\\193')}",
 "return {pcall(cmsgpack.unpack, '\\196\\001a')}",
 "return {pcall(cmsgpack.unpack, '\\218\\000')}",
 "return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')",
 "return tostring(cmsgpack.unpack('\\207\\127\\255\\255\\255\\255\\255\\255\\255'))",
 "return tostring(cmsgpack.unpack('\\211\\128\\000\\000\\000\\000\\000\\000\\001'))",
 "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}",
 "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}",
 "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}",
 "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}",
 "return {pcall(cmsgpack.unpack_one, cmsgpack.pack(1), 5)}",
 "return {pcall(cmsgpack.unpack_one, cmsgpack.pack(1), -1)}",
 "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
 "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2)}",
 "return {pcall(cmsgpack.unpack_limit, cmsgpack.pack(1))}",
 "return {pcall(cmsgpack.unpack, {})}",
 "return {pcall(cmsgpack.unpack, 12)}",
 "return select('#', cmsgpack.unpack(string.rep('\\001', 7990)))",
 "return {pcall(cmsgpack.unpack, string.rep('\\001', 8000))}",
 "return {pcall(cmsgpack.unpack, string.rep('\\145', 5000))}",
 "return {pcall(cmsgpack.unpack, '\\129\\192\\001')}",
 "return {pcall(cmsgpack.unpack, '\\146\\192\\001')}",
 "local t = cmsgpack.unpack('\\146\\192\\001') return {#t, t[2]}",
 "return cmsgpack._VERSION",
 "return {struct.pack('>i', 1), struct.pack('<i', -2), struct.pack('b', 200), struct.pack('B', -1), struct.pack('h', 70000), struct.pack('>I3', 65536*2+1)}",
 "return {struct.pack('l', -1), struct.pack('L', 2^63), struct.pack('i16', -1), struct.pack('>i16', 5), struct.pack('T', 3)}",
 "return {struct.pack('f', 1.5), struct.pack('d', 0.1), struct.pack('>d', 0.1), struct.pack('f', 1e300)}",
 "return {struct.pack('c3', 'abcdef'), struct.pack('c0', 'xyz'), struct.pack('s', 'hi'), struct.pack('!4 b i', 1, 2), struct.pack('!b d', 1, 2), struct.pack('x')}",
 "return {pcall(struct.pack, 'c5', 'ab')}",
 "return {pcall(struct.pack, 'z')}",
 "return {pcall(struct.pack, '!3')}",
 "return {pcall(struct.pack, 'i33', 1)}",
 "return {pcall(struct.pack, 'i99999999999', 1)}",
 "return {pcall(struct.pack, 'i')}",
 "return {pcall(struct.pack, 'i', 'x')}",
 "return {pcall(struct.pack, 'i', '12')}",
 "return {pcall(struct.pack)}",
 "return {struct.unpack('>i', struct.pack('>i', -5))}",
 "return {struct.unpack('bBhHlLiI', struct.pack('bBhHlLiI', -1, 255, -2, 65535, -3, 7, -4, 8))}",
 "return {struct.unpack('i9', string.rep('\\255', 9))}",
 "return {struct.unpack('i16', string.rep('\\255', 16))}",
 "return {struct.unpack('f', struct.pack('f', 1.5))}",
 "return {struct.unpack('d', struct.pack('d', 0.25))}",
 "return {struct.unpack('s', 'ab\\0cd')}",
 "return {pcall(struct.unpack, 's', 'abcd')}",
 "return {struct.unpack('b c0', '\\003abcd')}",
 "return {pcall(struct.unpack, 'c0', 'abc')}",
 "return {pcall(struct.unpack, 'i', 'ab')}",
 "return {struct.unpack('b', 'abc', 2)}",
 "return {pcall(struct.unpack, 'b', 'abc', 0)}",
 "return {pcall(struct.unpack, 'b', 'abc', 5)}",
 "return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}",
 "return {struct.size('i'), struct.size('!8 b d'), struct.size('c10'), struct.size('z'), struct.size('i7 x')}",
 "return {pcall(struct.size, 's')}",
 "return {pcall(struct.size, 'c0')}",
 "return {pcall(struct.size, '!3')}",
 "return {pcall(struct.size, '#')}",
 "return {pcall(struct.unpack, string.rep('b', 8100), string.rep('a', 8100))}",
 "local t = {} for k in pairs(struct) do t[#t+1] = k end table.sort(t) return t",
 "local t = {} for k in pairs(cmsgpack) do t[#t+1] = k end table.sort(t) return t",
 "return struct.pack(12, 1)",
]


@pytest.mark.parametrize("script", PROBES)
def test_probe(pair: tuple[RedisConn, RedisConn], script: str) -> None:
    same(pair, "EVAL", script, "0")


# -- random values: Lua expressions whose strings come from ARGV ------------------------

def _number_literal(x: float | int) -> str:
    if isinstance(x, float):
        if x != x:
            return "(0/0)"
        if x in (float("inf"), float("-inf")):
            return "(1/0)" if x > 0 else "(-1/0)"
        return "(" + repr(x) + ")"
    return "(" + str(x) + ")"


_ints = st.one_of(
    st.integers(-(2**31), 2**31),
    st.sampled_from([0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, -32, -33, -128,
                     -129, -32768, -32769, -(2**31) - 1, 2**53, -(2**53), 2**62, -(2**62)]),
)
_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(width=32, allow_nan=False, allow_infinity=False))


@st.composite
def lua_values(draw: Any, args: list[bytes], depth: int = 0) -> str:
    kinds = ["int", "float", "str", "bool", "nil"] + (["array", "map", "mixed"] if depth < 18 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return _number_literal(draw(_ints))
    if kind == "float":
        return _number_literal(draw(_floats))
    if kind == "str":
        args.append(draw(st.binary(max_size=300)))
        return f"ARGV[{len(args)}]"
    if kind == "bool":
        return draw(st.sampled_from(["true", "false"]))
    if kind == "nil":
        return "nil"
    n = draw(st.integers(0, 20))
    if kind == "array":
        return "{" + ",".join(draw(lua_values(args, depth + 1)) for _ in range(n)) + "}"
    if kind == "map":
        parts = []
        for i in range(n):
            args.append(b"k%d" % i)
            parts.append(f"[ARGV[{len(args)}]]=" + draw(lua_values(args, depth + 1)))
        return "{" + ",".join(parts) + "}"
    keys = draw(st.lists(st.integers(-3, 40), max_size=12, unique=True))
    return "{" + ",".join(f"[{k}]=" + draw(lua_values(args, depth + 1)) for k in keys) + "}"


@st.composite
def pack_calls(draw: Any) -> tuple[str, list[bytes]]:
    args: list[bytes] = []
    values = [draw(lua_values(args)) for _ in range(draw(st.integers(1, 3)))]
    return "return cmsgpack.pack(" + ",".join(values) + ")", args


_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])


@_SETTINGS
@given(call=pack_calls())
def test_pack_random_values(pair: tuple[RedisConn, RedisConn], call: tuple[str, list[bytes]]) -> None:
    script, args = call
    packed = same(pair, "EVAL", script, "0", *args)
    if isinstance(packed, bytes):  # and back: the values Lua gets, re-packed
        same(pair, "EVAL", "return cmsgpack.pack(cmsgpack.unpack(ARGV[1]))", "0", packed)
        same(pair, "EVAL", "return {cmsgpack.unpack_limit(ARGV[1], 1)}", "0", packed)


_MSGPACK_BYTES = st.one_of(
    st.binary(max_size=40),
    st.lists(st.sampled_from([b"\x91", b"\x81", b"\xdc\x00\x02", b"\xde\x00\x01", b"\xc0", b"\x01",
                              b"\xa3abc", b"\xd9\x02xy", b"\xcb" + pystruct.pack(">d", 1.5),
                              b"\xca" + pystruct.pack(">f", 2.5), b"\xcf" + b"\xff" * 8,
                              b"\xd3\x80" + b"\x00" * 7, b"\xc4\x01a", b"\xc1", b"\xc3"]),
             max_size=30).map(b"".join),
)


@_SETTINGS
@given(data=_MSGPACK_BYTES, offset=st.integers(-1, 12), limit=st.integers(0, 4))
def test_unpack_random_bytes(pair: tuple[RedisConn, RedisConn], data: bytes, offset: int,
                             limit: int) -> None:
    same(pair, "EVAL", "local r = {pcall(cmsgpack.unpack, ARGV[1])} "
         "return {r[1], cmsgpack.pack(unpack(r, 2, table.maxn(r)))}", "0", data)
    same(pair, "EVAL", "local r = {pcall(cmsgpack.unpack_one, ARGV[1], tonumber(ARGV[2]))} "
         "return {r[1], cmsgpack.pack(unpack(r, 2, table.maxn(r)))}", "0", data, offset)
    same(pair, "EVAL", "local r = {pcall(cmsgpack.unpack_limit, ARGV[1], tonumber(ARGV[2]), "
         "tonumber(ARGV[3]))} return {r[1], cmsgpack.pack(unpack(r, 2, table.maxn(r)))}",
         "0", data, limit, max(offset, 0))


_FORMAT = st.lists(
    st.sampled_from(["b", "B", "h", "H", "l", "L", "T", "i", "I", "i3", "I5", "i8", "i12", "f",
                     "d", "x", "c2", "s", ">", "<", "!", "!2", "!4", " "]),
    min_size=1, max_size=8,
).map("".join)
_NUMS = st.one_of(st.integers(-(2**40), 2**40), st.floats(-1e10, 1e10, allow_nan=False),
                  st.sampled_from([0, -1, 255, 256, 65535, -32768, 2**31, 2**53]))


@_SETTINGS
@given(fmt=_FORMAT, nums=st.lists(_NUMS, min_size=8, max_size=8),
       strs=st.lists(st.binary(max_size=6), min_size=8, max_size=8))
def test_struct_random_formats(pair: tuple[RedisConn, RedisConn], fmt: str, nums: list[Any],
                               strs: list[bytes]) -> None:
    # one argument per option, a number or a string as the option wants
    args: list[str] = []
    ni = si = 0
    for ch in fmt:
        if ch in "bBhHlLTiIfd":
            args.append(_number_literal(nums[ni]))
            ni += 1
        elif ch in "cs":
            args.append(f"ARGV[{si + 1}]")
            si += 1
    script = ("local ok, p = pcall(struct.pack, KEYS[1]" + "".join("," + a for a in args) + ") "
              "if not ok then return {'err', p} end "
              "return {p, struct.size((KEYS[1]:gsub('s', ''))), {struct.unpack(KEYS[1], p)}}")
    same(pair, "EVAL", script, "1", fmt, *strs)
