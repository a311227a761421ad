"""The Lua sandbox against a real Redis 8.2: bytecode refused, globals and metatables
read-only, nothing a script changes reaches the next one.

Both servers run as processes; each probe is sent to both and the replies compared
(error texts included; table addresses masked). The hostile probes come first in
each list so a later, harmless probe would show what they managed to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from tests.server.conftest import spawn
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


_ADDR = re.compile(rb"0x[0-9a-f]+")


def _mask(v: Any) -> Any:
    if isinstance(v, bytes):
        return _ADDR.sub(b"0x?", v)
    if isinstance(v, list):
        return [_mask(x) for x in v]
    if isinstance(v, Exception):
        return type(v).__name__, _mask(str(v).encode())
    return v


def same(pair: tuple[RedisConn, RedisConn], *argv: Any) -> Any:
    redis_reply, ours = (_mask(c.call(*argv)) for c in pair)
    assert ours == redis_reply, argv
    return ours


def evals(pair: tuple[RedisConn, RedisConn], *scripts: str) -> None:
    for s in scripts:
        same(pair, "EVAL", s, "0")


# A Lua 5.1 chunk compiled by string.dump, with a constant patched into a forged
# type: the first step of the published escape from Redis's sandbox (it reads the
# address of a real object). Redis's Lua has no bytecode loader at all.
FORGED = r"""
local f = string.dump(function() local x = 'AAAAAAAA' return x end)
local i = string.find(f, 'AAAAAAAA', 1, true)
local forged = string.sub(f, 1, i - 6) .. string.char(3) .. string.rep('\0', 8)
  .. string.sub(f, i + 8)
local g, e = loadstring(forged)
if g then return 'loaded: ' .. tostring(g()) end
return e
"""


def test_bytecode_is_refused_as_redis_does(pair: tuple[RedisConn, RedisConn]) -> None:
    refused = same(pair, "EVAL", FORGED, "0")
    assert refused.startswith(b'[string "\x1bLua') and refused.endswith(
        b"]:1: unexpected symbol near 'char(27)'"
    )
    evals(
        pair,
        "return type(string.dump)",
        "local f = loadstring(string.dump(function() return 7 end)) return f()",
        "local f, e = loadstring(string.char(27)..'LuaQ') return {tostring(f), e}",
        "local f, e = loadstring(string.char(27)) return e",
        "local f, e = loadstring(string.char(27), '=mine') return e",
        "local f, e = loadstring(string.char(27)..'\\nabc', 'x') return e",
        "local f, e = loadstring(27) return {tostring(f), e}",
        # through a reader function, whole and in pieces (the first piece decides)
        "local d = string.dump(function() return 1 end) local f, e = load(function() "
        "local x = d d = nil return x end) return {tostring(f), e}",
        "local n = 0 local f, e = load(function() n = n + 1 if n == 1 then "
        "return string.char(27) elseif n == 2 then return 'LuaQ' end end) return e",
        "local n = 0 local f, e = load(function() n = n + 1 if n == 1 then return '' "
        "elseif n == 2 then return string.char(27) end end) return e",
        "local n = 0 local f, e = load(function() n = n + 1 if n == 1 then return 'return ' "
        "elseif n == 2 then return '5' end end) return f()",
        "local f, e = load(function() return nil end, 'nm') return tostring(e)",
        "local f, e = load(function() return {} end) return {tostring(f), e}",
        "return {pcall(load, 5)}",
        "return {pcall(loadstring)}",
        "return {loadstring(' return 1')()}",
    )
    # the script body itself, and a function library
    same(pair, "EVAL", "\x1bLuaQ", "0")
    same(pair, "FUNCTION", "LOAD", "#!lua name=bc\n\x1bLuaQ")


HOSTILE = [
    "getmetatable('').__index.upper = function() return 'x' end return 1",
    "getmetatable('').__index = {} return 1",
    "rawset(getmetatable(''), '__index', {}) return 1",
    "local t = getmetatable('') t.__add = function() return 1 end return 1",
    "setmetatable(getmetatable(''), {}) return 1",
    "getmetatable(_G).__index = nil return 1",
    "string.upper = nil return 1",
    "rawset(string, 'upper', nil) return 1",
    "setmetatable(string, {}) return 1",
    "x = 5 return 1",
    "_G.x = 5 return 1",
    "rawset(_G, 'x', 5) return 1",
    "setmetatable(_G, nil) return 1",
    "redis.call = nil return 1",
    "math.x = 1 return 1",
    "table.insert = nil",
    "cjson.encode = nil",
    "local f = loadstring('x = 1') return {pcall(f)}",
    "return type(getmetatable(redis.call))",
    "return type(getmetatable(cjson.null))",
]

PROBES = [
    "return x",
    "local s = 'abc' return s:upper()",
    "return tostring(getmetatable('').__index == string)",
    "return getmetatable('').__metatable",
    "return type(getmetatable(''))",
    "local t = {} for k in pairs(getmetatable('')) do t[#t+1] = k end return t",
    "return type(getmetatable(getmetatable('')))",
    "return type(getmetatable(_G))",
    "local t = {} for k in pairs(getmetatable(_G)) do t[#t+1] = k end return t",
    "return type(getmetatable(_G).__index)",
    "return type(getmetatable(string))",
    "return type(getmetatable(redis))",
    "return type(getmetatable(KEYS))",
    "return rawget(_G, 'string') == string",
    "return type(__redis__err__handler)",
    "local t = __redis__err__handler('x') return {t.err, type(t.source), t.line}",
    "local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(math) do t[#t+1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t",
    # what legitimate scripts do with tables of their own keeps working
    "KEYS[1] = 'x' return KEYS[1]",
    "table.insert(ARGV, 'x') return ARGV",
    "local t = {} t.x = 1 setmetatable(t, {}) rawset(t, 'y', 2) return {t.x, t.y}",
    "local t = setmetatable({}, {__index = function() return 1 end}) return t.x",
    "return {pcall(setmetatable, 1, {})}",
    "return {pcall(rawset, {}, nil, 1)}",
]


def test_globals_and_metatables_are_read_only(pair: tuple[RedisConn, RedisConn]) -> None:
    evals(pair, *HOSTILE, *PROBES)
    # none of it is undone by SCRIPT FLUSH (nothing was changed to undo)
    same(pair, "SCRIPT", "FLUSH")
    evals(pair, *PROBES)


def test_function_libraries_environment(pair: tuple[RedisConn, RedisConn]) -> None:
    libs = [
        "x = 1\nredis.register_function('f', function() return 1 end)",
        "string.upper = nil redis.register_function('f', function() return 1 end)",
        "getmetatable('').__index = {} redis.register_function('f', function() return 1 end)",
        "redis.register_function('f', function() getmetatable('').__index = {} return 1 end)",
        "redis.register_function('f', function() y = 1 return 1 end)",
        "redis.register_function('f', function() string.upper = nil return 1 end)",
        "redis.register_function('f', function() return {loadstring(string.char(27))} end)",
        "redis.register_function('f', function() return type(getmetatable(_G)) end)",
        "redis.register_function('f', function() local t = {} for k in pairs(_G) do "
        "t[#t+1] = k end table.sort(t) return t end)",
        "redis.register_function('f', function() return ('abc'):upper() end)",
    ]
    for code in libs:
        same(pair, "FUNCTION", "LOAD", "REPLACE", "#!lua name=envlib\n" + code)
        same(pair, "FCALL", "f", "0")
    evals(pair, *PROBES)
