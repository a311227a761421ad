"""Lua scripting on the engine: conversions, errors, sandbox, cache, propagation."""

from __future__ import annotations

import hashlib
import logging

import pytest
from tests.engine.standins import Conn, engine_with_standins

from streamlite import REDIS_VERSION
from streamlite.engine import FakeClock
from streamlite.engine.replies import (
    BigNumber,
    Double,
    ErrorReply,
    RespSet,
    SimpleString,
    Verbatim,
)
from streamlite.engine.scripting import get_scripting
from streamlite.engine.scripting.numbers import fpconv_dtoa, number_arg, to_long_long
from streamlite.protocol.resp import encode


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def eng(clock):
    return engine_with_standins(clock)


@pytest.fixture
def a(eng):
    return Conn(eng)


def ev(conn, script, *args, numkeys=None):
    keys = [] if numkeys is None else list(args[:numkeys])
    rest = list(args) if numkeys is None else list(args[numkeys:])
    return conn("EVAL", script, len(keys), *keys, *rest)


def sha(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


def err(script: str, msg: str, line: int = 1) -> ErrorReply:
    return ErrorReply(f"{msg} script: {sha(script)}, on @user_script:{line}.".encode())


# -- Lua -> reply ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "script, reply",
    [
        ("return 1", 1),
        ("return 1.9", 1),
        ("return -1.9", -1),
        ("return 2^53", 2**53),
        ("return 1e20", -(2**63)),
        ("return 0/0", -(2**63)),
        ("return 'x'", b"x"),
        ("return true", 1),
        ("return false", None),
        ("return nil", None),
        ("return {1,2,nil,3}", [1, 2]),
        ("return {nil, 2}", []),
        ("return {1,'a',{2,3},true,false}", [1, b"a", [2, 3], 1, None]),
        ("return {a=1}", []),
        ("return {ok='fine'}", SimpleString(b"fine")),
        ("return {ok='a\\r\\nb'}", SimpleString(b"a  b")),
        ("return {ok=1}", []),
        ("return {err='bad thing'}", ErrorReply(b"bad thing")),
        ("return {err=1}", []),
        ("return redis.error_reply('x y')", ErrorReply(b"x y")),
        ("return redis.error_reply('oops')", ErrorReply(b"ERR oops")),
        ("return redis.error_reply('-X y')", ErrorReply(b"X y")),
        ("return redis.error_reply()", ErrorReply(b"ERR wrong number or type of arguments")),
        ("return redis.status_reply('fine')", SimpleString(b"fine")),
        ("return redis.status_reply(1)", ErrorReply(b"ERR wrong number or type of arguments")),
        ("return {double=1.5}", Double(1.5)),
        ("return {double='x'}", []),
        ("return {big_number='123'}", BigNumber(b"123")),
        ("return {verbatim_string={format='txt', string='hi'}}", Verbatim(b"hi")),
        ("return {map={a=1}}", {b"a": 1}),
        ("return {set={a=true}}", RespSet([b"a"])),
        ("return {1,{ok='x'},{err='y'}}", [1, SimpleString(b"x"), ErrorReply(b"y")]),
        ("return KEYS[1]..ARGV[1]..#KEYS..#ARGV", b"ka11"),
        ("return coroutine.wrap(function() coroutine.yield(9) end)()", 9),
        ("return select('#', 1, 2, 3)", 3),
        ("return {unpack({1,2,3})}", [1, 2, 3]),
        ("return tostring(1e15)..tostring(0.1)", b"1e+150.1"),
        ("return _VERSION", b"Lua 5.1"),
        ("return loadstring('return 5')()", 5),
        ("return ('x'):rep(3)", b"xxx"),
        ("return getmetatable('').__index == string", 1),
        ("return rawget(_G, 'nope')", None),
        ("return type(rawget(_G, 'redis'))", b"table"),
        ("return type(os)..type(os.clock)..type(os.time)", b"tablefunctionnil"),
    ],
)
def test_lua_to_reply(a, script, reply):
    out = a("EVAL", script, "1", "k", "a")
    assert out == reply
    assert type(out) is type(reply)


def test_booleans_under_resp3(eng):
    for proto in (2, 3):
        c = Conn(eng, protocol=proto)
        assert c("EVAL", "redis.setresp(3) return true", "0") is True
        assert c("EVAL", "redis.setresp(3) return false", "0") is False
        assert c("EVAL", "return false", "0") is None
    assert encode(True, 2) == b":1\r\n" and encode(False, 3) == b"#f\r\n"


# -- reply -> Lua ----------------------------------------------------------------------


def test_redis_call_conversions_resp2(a):
    a("SET", "s", "v")
    a("HSET", "h", "f", "v")
    assert ev(a, "return redis.call('get','s')") == b"v"
    assert ev(a, "return type(redis.call('get','nokey'))") == b"boolean"
    assert ev(a, "return redis.call('get','nokey')") is None
    assert ev(a, "return redis.call('set','a','1')['ok']") == b"OK"
    assert ev(a, "local r = redis.call('ping') return type(r) .. r.ok") == b"tablePONG"
    assert ev(a, "return redis.call('incr','n')") == 1
    assert ev(a, "return redis.call('hgetall','h')") == [b"f", b"v"]
    assert ev(a, "return redis.call('hgetall','nohash')") == []


def test_redis_call_conversions_resp3(eng):
    for proto in (2, 3):
        a = Conn(eng, protocol=proto)
        a("HSET", "h", "f", "v")
        assert ev(a, "redis.setresp(3) return type(redis.call('get','nokey'))") == b"nil"
        assert ev(a, "redis.setresp(3) return redis.call('hgetall','h')") == {b"f": b"v"}
        assert ev(a, "redis.setresp(3) local r = redis.call('hgetall','h') return r.map.f") == b"v"
        assert ev(a, "redis.setresp(3) return redis.call('hgetall','nohash')") == {}
        # the reply goes back through the caller's protocol
        assert ev(a, "redis.setresp(2) return redis.call('hgetall','h')") == [b"f", b"v"]


def test_convert_all_reply_types():
    from streamlite.engine.replies import NULL_ARRAY

    eng = engine_with_standins()
    s = get_scripting(eng)
    conv = s.conv
    values = [1, b"x", SimpleString(b"OK"), None, NULL_ARRAY, [1, [2]], {b"k": 1},
              RespSet([b"m"]), Double(1.5), True, BigNumber(b"12"), Verbatim(b"t")]
    # round trip through Lua and back, as a script returning redis.call's reply does
    back2 = [conv.to_reply(conv.to_lua(v, 2), 2) for v in values]
    assert back2 == [1, b"x", b"OK", None, None, [1, [2]], [b"k", 1], [b"m"], b"1.5", 1,
                     b"12", b"t"]
    back3 = [conv.to_reply(conv.to_lua(v, 3), 3) for v in values]
    assert back3 == [1, b"x", b"OK", None, None, [1, [2]], {b"k": 1}, [b"m"], 1.5, True,
                     b"12", b"t"]
    assert [type(x) for x in back3[6:11]] == [dict, RespSet, Double, bool, BigNumber]
    e = conv.to_lua(ErrorReply(b"WRONGTYPE bad"), 2)
    assert s._api.rawget(e, b"err") == b"WRONGTYPE bad"


def test_number_arguments(a):
    cases = {
        "1.5": b"1.5", "10": b"10", "0.1": b"0.1", "1e20": b"1e+20", "1.5e-7": b"1.5e-7",
        "2^63": b"9223372036854776000", "-2^63": b"-9223372036854776000", "-0.0": b"0",
        "1/0": b"inf", "-1/0": b"-inf", "123456789.125": b"123456789.125",
        "1/3": b"0.3333333333333333", "1e-300": b"1e-300", "2^53+1": b"9007199254740992",
        "1e21": b"1e+21", "0.000001": b"0.000001", "100.5": b"100.5", "-7": b"-7",
    }
    for lua, want in cases.items():
        ev(a, f"redis.call('set', 'n', {lua})")
        assert a("GET", "n") == want, lua


def test_numbers_module():
    assert fpconv_dtoa(1e100) == "1e+100"
    assert fpconv_dtoa(-1.5e-7) == "-1.5e-7"
    assert fpconv_dtoa(float("nan")) == "nan"
    assert number_arg(2.0**62) == b"4611686018427387904"  # (double)(LLONG_MAX/2) == 2^62
    assert number_arg(2.0**62 + 2048) == b"4611686018427390000"
    assert number_arg(4611686018427387903.0 / 2) == b"2305843009213693952"
    assert to_long_long(-0.5) == 0
    assert to_long_long(9.3e18) == -(2**63)
    assert to_long_long(2**63) == -(2**63)


# -- errors ------------------------------------------------------------------------------


def test_script_error_texts(a):
    a("SET", "k", "v")
    cases = [
        ("return x", "ERR user_script:1: Script attempted to access nonexistent global variable 'x'"),
        ("x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
        ("_G.x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
        ("string.x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
        ("redis.call = nil", "ERR user_script:1: Attempt to modify a readonly table"),
        ("rawset(_G, 'x', 1)", "ERR Attempt to modify a readonly table"),
        ("setmetatable(_G, nil)", "ERR Attempt to modify a readonly table"),
        ("function f() end", "ERR user_script:1: Attempt to modify a readonly table"),
        ("return redis.call('nosuch')", "ERR Unknown Redis command called from script"),
        ("return redis.call('get')", "ERR Wrong number of args calling Redis command from script"),
        ("return redis.call('pubsub', 'nosub')", "ERR Unknown Redis command called from script"),
        ("return redis.call('lpush','k','v')",
         "WRONGTYPE Operation against a key holding the wrong kind of value"),
        ("return redis.call('multi')", "ERR This Redis command is not allowed from script"),
        ("return redis.call('eval', 'return 1', '0')",
         "ERR This Redis command is not allowed from script"),
        ("return redis.call('subscribe', 'x')", "ERR This Redis command is not allowed from script"),
        ("return redis.call('watch', 'x')", "ERR This Redis command is not allowed from script"),
        ("return redis.call()", "ERR Please specify at least one argument for this redis lib call"),
        ("return redis.call('get', {})",
         "ERR Lua redis lib command arguments must be strings or integers"),
        ("return redis.call('set', 'n', true)",
         "ERR Lua redis lib command arguments must be strings or integers"),
        ("error('boom')", "ERR user_script:1: boom"),
        ("error('boom', 0)", "ERR boom"),
        ("error({err='E1 bad'})", "E1 bad"),
        ("error({err='bad'})", "bad"),
        ("error({})", "ERR unknown error"),
        ("error(nil)", "ERR nil"),
        ("error(true)", "ERR true"),
        ("error(123)", "ERR user_script:1: 123"),
        ("error({err=5})", "5"),
        ("local t = {} t.x.y = 1", "ERR user_script:1: attempt to index field 'x' (a nil value)"),
        ("return assert(false, 'msg')", "ERR user_script:1: msg"),
        ("return load('return 6')()",
         "ERR user_script:1: bad argument #1 to 'load' (function expected, got string)"),
        ("local n = 0 for k in pairs() do end",
         "ERR user_script:1: bad argument #1 to 'pairs' (table expected, got no value)"),
        ("local x = rawget(_G)",
         "ERR user_script:1: bad argument #2 to 'rawget' (value expected)"),
        ("return math.random(0)", "ERR user_script:1: bad argument #1 to 'random' (interval is empty)"),
        ("return math.random(1, 2, 3)", "ERR user_script:1: wrong number of arguments"),
        ("return math.random('x')",
         "ERR user_script:1: bad argument #1 to 'random' (number expected, got string)"),
        ("redis.log(99,'hi')", "ERR Invalid log level."),
        ("redis.log(1)", "ERR redis.log() requires two arguments or more."),
        ("redis.log('x', 'y')", "ERR First argument must be a number (log level)."),
        ("redis.setresp(4)", "ERR RESP version must be 2 or 3."),
        ("redis.setresp()", "ERR redis.setresp() requires one argument."),
        ("return redis.sha1hex()", "ERR wrong number of arguments"),
        ("return redis.acl_check_cmd('nosuch')", "ERR Invalid command passed to redis.acl_check_cmd()"),
    ]
    for script, msg in cases:
        assert ev(a, script) == err(script, msg), script


def test_error_lines(a):
    s = "local function f()\n  return redis.call('nosuch')\nend\n\nreturn f()"
    assert ev(a, s) == err(s, "ERR Unknown Redis command called from script", 2)
    s = "local x = 1\nlocal y = nil\nreturn y.z"
    assert ev(a, s) == err(s, "ERR user_script:3: attempt to index local 'y' (a nil value)", 3)
    s = "#!lua flags=no-writes\nreturn redis.call('set','a','b')"
    assert ev(a, s) == err(s, "ERR Write commands are not allowed from read-only scripts.", 2)


def test_pcall_forms(a):
    assert ev(a, "return redis.pcall('nosuch')") == ErrorReply(
        b"ERR Unknown Redis command called from script"
    )
    a("SET", "k", "v")
    assert ev(a, "return redis.pcall('lpush','k','v')") == ErrorReply(
        b"WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    assert ev(a, "local r = redis.pcall('lpush','k','v') return r.err") == (
        b"WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    assert ev(a, "local ok, e = pcall(function() redis.call('nosuch') end) return e") == (
        b"ERR Unknown Redis command called from script"
    )
    assert ev(a, "local ok, e = pcall(function() error({err='x'}) end) return type(e)") == b"string"
    assert ev(a, "local ok, e = pcall(function() error('zz') end) return e") == b"user_script:1: zz"
    # called from pcall (C), no caller position; Redis names the function '?' here
    assert ev(a, "local ok, e = pcall(math.random, 0) return e").endswith(
        b"(interval is empty)"
    )
    assert ev(a, "local ok, e = xpcall(function() redis.call('nosuch') end,"
                 " function(e) return e end) return type(e)") == b"table"
    assert ev(a, "return pcall(function() error('x') end)") is None


def test_compile_errors(a):
    assert ev(a, "return 1 +") == ErrorReply(
        b"ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    )
    assert a("SCRIPT", "LOAD", "return +") == ErrorReply(
        b"ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
    )


def test_numkeys(a):
    assert a("EVAL", "return 1", "-1") == ErrorReply(b"ERR Number of keys can't be negative")
    assert a("EVAL", "return 1", "x") == ErrorReply(b"ERR value is not an integer or out of range")
    assert a("EVAL", "return 1", "2", "a") == ErrorReply(
        b"ERR Number of keys can't be greater than number of args"
    )
    assert a("EVAL", "return 1") == ErrorReply(b"ERR wrong number of arguments for 'eval' command")
    assert a("EVALSHA", "x", "-1") == ErrorReply(b"NOSCRIPT No matching script. Please use EVAL.")
    assert a("EVALSHA", "a" * 40, "-1") == ErrorReply(b"ERR Number of keys can't be negative")
    assert a.engine.commands[b"eval"].key_positions([b"EVAL", b"s", b"2", b"a", b"b", b"c"]) == [3, 4]


def test_sandbox_globals(a):
    for name in ("io", "print", "dofile", "loadfile", "require", "module", "setfenv",
                 "getfenv", "newproxy", "debug", "package", "python"):
        s = f"return {name}"
        assert ev(a, s) == err(
            s, f"ERR user_script:1: Script attempted to access nonexistent global variable '{name}'"
        ), name
    for name in ("string", "table", "math", "redis", "coroutine", "os", "_G"):
        assert ev(a, f"return type({name})") == b"table"
    for name in ("tostring", "tonumber", "pairs", "ipairs", "next", "pcall", "xpcall", "error",
                 "assert", "select", "unpack", "type", "rawget", "rawset", "rawequal",
                 "setmetatable", "getmetatable", "loadstring", "load", "gcinfo",
                 "collectgarbage"):
        assert ev(a, f"return type({name})") == b"function", name
    # loadstring'ed code runs in the protected environment too
    s = "return loadstring('y = 5')()"
    out = ev(a, s)
    assert out.startswith(b'ERR [string "y = 5"]:1: Attempt to modify a readonly table')
    # iteration sees through the proxies
    assert ev(a, "local n = 0 for k in pairs(string) do n = n + 1 end return n") > 10
    assert ev(a, "return next(redis) ~= nil") == 1
    # nothing leaks between scripts
    ev(a, "local x = 1")
    assert ev(a, "return rawget(_G, 'x')") is None


def test_redis_table_helpers(a):
    assert ev(a, "return redis.sha1hex('')") == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert ev(a, "return redis.sha1hex(1)") == hashlib.sha1(b"1").hexdigest().encode()
    assert ev(a, "return redis.REDIS_VERSION") == REDIS_VERSION.encode()
    major, minor, patch = (int(x) for x in REDIS_VERSION.split("."))
    assert ev(a, "return redis.REDIS_VERSION_NUM") == (major << 16) | (minor << 8) | patch
    assert ev(a, "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}") == [0, 1, 2, 3]
    assert ev(a, "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}") == [0, 1, 2, 2, 3]
    assert ev(a, "return redis.replicate_commands()") == 1
    assert ev(a, "return redis.breakpoint()") is None
    assert ev(a, "return redis.debug('x')") is None
    assert ev(a, "return redis.acl_check_cmd('get', 'x')") == 1
    assert ev(a, "return redis.setresp(3)") is None


def test_redis_log(a, caplog):
    with caplog.at_level(logging.DEBUG, logger="streamlite.script"):
        assert ev(a, "redis.log(redis.LOG_WARNING, 'hello', 'world', 3) return 1") == 1
    assert "hello world 3" in caplog.text


def test_math_random_is_redis_rand48(a):
    # the same sequence redis-server gives after start (checked against 8.2)
    assert ev(a, "return tostring(math.random())") == b"0.39646477363839"
    assert ev(a, "return tostring(math.random())") == b"0.84048536971234"
    ev(a, "math.randomseed(7)")
    x = ev(a, "return {math.random(10), math.random(5, 6)}")
    ev(a, "math.randomseed(7)")
    assert ev(a, "return {math.random(10), math.random(5, 6)}") == x
    assert 1 <= x[0] <= 10 and 5 <= x[1] <= 6


# -- cache and SCRIPT ------------------------------------------------------------------


def test_evalsha_and_script_commands(a):
    s1 = sha("return 1")
    assert a("EVALSHA", s1, "0") == ErrorReply(b"NOSCRIPT No matching script. Please use EVAL.")
    assert a("SCRIPT", "LOAD", "return 1") == s1.encode()
    assert a("EVALSHA", s1, "0") == 1
    assert a("EVALSHA", s1.upper(), "0") == 1
    assert a("EVALSHA_RO", s1, "0") == 1
    assert a("SCRIPT", "EXISTS", s1, s1.upper(), "nope") == [1, 1, 0]
    assert a("SCRIPT", "FLUSH", "SYNC") == b"OK"
    assert a("SCRIPT", "EXISTS", s1) == [0]
    ev(a, "return 1")  # EVAL caches too
    assert a("SCRIPT", "EXISTS", s1) == [1]
    assert a("SCRIPT", "FLUSH", "ASYNC") == b"OK"
    assert a("SCRIPT", "FLUSH", "X") == ErrorReply(b"ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    assert a("SCRIPT", "KILL") == ErrorReply(b"NOTBUSY No scripts in execution right now.")
    assert a("SCRIPT", "FOO") == ErrorReply(b"ERR unknown subcommand 'FOO'. Try SCRIPT HELP.")
    assert a("SCRIPT", "HELP")[0] == b"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert a("SCRIPT", "DEBUG", "NO") == b"OK"
    assert a("SCRIPT") == ErrorReply(b"ERR wrong number of arguments for 'script' command")
    assert a("SCRIPT", "LOAD") == ErrorReply(b"ERR wrong number of arguments for 'script|load' command")


def test_info_figures(a):
    s = get_scripting(a.engine)
    assert s.info()["number_of_cached_scripts"] == 0
    ev(a, "return 1")
    a("SCRIPT", "LOAD", "return 2")
    info = s.info()
    assert info["number_of_cached_scripts"] == 2
    assert info["used_memory_lua"] > 0 and info["used_memory_scripts_eval"] > 0
    assert info["evicted_scripts"] == 0


def test_eval_scripts_are_evicted_lru_script_load_ones_stay(a):
    s = get_scripting(a.engine)
    a("SCRIPT", "LOAD", "return 'kept'")
    ev(a, "return 0")
    for i in range(1, 500):
        ev(a, f"return {i}")
    assert a("SCRIPT", "EXISTS", sha("return 0")) == [1]
    a("EVALSHA", sha("return 0"), "0")  # used: moves to the young end
    ev(a, "return 500")
    assert s.evicted_scripts == 1
    assert a("SCRIPT", "EXISTS", sha("return 0"), sha("return 1"), sha("return 'kept'")) == [1, 0, 1]


# -- shebang, read-only ----------------------------------------------------------------


def test_shebang_and_read_only(a):
    assert ev(a, "#!lua\nreturn redis.call('set','a','b')") == b"OK"
    assert ev(a, "#!lua flags=no-writes,allow-oom\nreturn redis.call('get','a')") == b"b"
    assert ev(a, "#!lua flags=bad\nreturn 1") == ErrorReply(b"ERR Unexpected flag in script shebang: bad")
    assert ev(a, "#!lua name=x\nreturn 1") == ErrorReply(b"ERR Unknown lua shebang option: name=x")
    assert ev(a, "#!luax\nreturn 1") == ErrorReply(b"ERR Unexpected engine in script shebang: #!luax")
    s = "return redis.call('set','a','c')"
    assert a("EVAL_RO", s, "0") == err(s, "ERR Write commands are not allowed from read-only scripts.")
    assert a("EVAL_RO", "return redis.call('get','a')", "0") == b"b"
    assert a("EVAL_RO", "#!lua\nreturn 1", "0") == ErrorReply(
        b"ERR Can not execute a script with write flag using *_ro command."
    )
    assert a("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0") == 1
    # publish is may-replicate: refused in read-only scripts too
    s = "return redis.call('publish','c','m')"
    assert a("EVAL_RO", s, "0") == err(s, "ERR Write commands are not allowed from read-only scripts.")


# -- running context ---------------------------------------------------------------------


def test_select_inside_script_is_undone(a):
    assert ev(a, "redis.call('select','1') return redis.call('set','db1key','v')") == b"OK"
    assert a.client.db_index == 0
    assert a("GET", "db1key") is None
    a("SELECT", "1")
    assert a("GET", "db1key") == b"v"


def test_blocking_command_in_script_answers_timed_out(a):
    assert ev(a, "return redis.call('tblock', 'nokey')") is None
    assert a.client.in_script is False


def test_script_writes_invalidate_watch(eng, a):
    b = Conn(eng)
    a("WATCH", "k")
    ev(b, "redis.call('set', KEYS[1], 'x')", "k", numkeys=1)
    a("MULTI")
    a("PING")
    assert a("EXEC") is not None and a("GET", "k") == b"x"
    from streamlite.engine.replies import NULL_ARRAY

    a("WATCH", "k")
    ev(b, "redis.call('set', KEYS[1], 'y')", "k", numkeys=1)
    a("MULTI")
    a("PING")
    assert a("EXEC") is NULL_ARRAY


def test_protocol_restored_after_setresp(eng):
    a = Conn(eng, protocol=2)
    ev(a, "redis.setresp(3) return 1")
    assert a.client.protocol == 2


def test_eval_inside_multi(a):
    a("MULTI")
    a("EVAL", "return redis.call('set','mk','1')", "0")
    a("EVAL", "return 1", "x")
    assert a("EXEC") == [b"OK", ErrorReply(b"ERR value is not an integer or out of range")]


def test_engine_bug_inside_redis_call_surfaces(a, eng):
    def broken(c, argv):
        raise RuntimeError("bug")

    eng.commands[b"tadvance"].handler, orig = broken, eng.commands[b"tadvance"].handler
    try:
        with pytest.raises(RuntimeError):
            ev(a, "return redis.pcall('tadvance', '1')")
    finally:
        eng.commands[b"tadvance"].handler = orig


# -- propagation ------------------------------------------------------------------------


def test_script_with_writes_propagates_multi_exec(a, eng):
    eng.effects = []
    ev(a, "redis.call('set','a','1') redis.call('get','a') redis.call('incr','a') return 1")
    assert eng.effects == [
        (0, [b"MULTI"]),
        (0, [b"set", b"a", b"1"]),
        (0, [b"incr", b"a"]),
        (0, [b"EXEC"]),
    ]


def test_script_with_one_write_propagates_it_bare(a, eng):
    eng.effects = []
    ev(a, "return redis.call('set','a','1')")
    assert eng.effects == [(0, [b"set", b"a", b"1"])]
    eng.effects = []
    ev(a, "return redis.call('get','a')")
    assert eng.effects == []


def test_script_propagates_rewritten_commands_and_keeps_writes_on_error(a, eng, clock):
    eng.effects = []
    out = ev(a, "redis.call('set','x','1','px','100') redis.call('select','2')"
                " redis.call('set','y','2') error('late')")
    assert out.startswith(b"ERR user_script:1: late")
    when = clock.ms() + 100
    assert eng.effects == [
        (0, [b"MULTI"]),
        (0, [b"SET", b"x", b"1", b"PXAT", b"%d" % when]),
        (2, [b"set", b"y", b"2"]),
        (2, [b"EXEC"]),
    ]
    assert a("GET", "x") == b"1"  # no rollback


def test_set_repl_none_keeps_writes_out_of_the_aof(a, eng):
    eng.effects = []
    ev(a, "redis.set_repl(redis.REPL_NONE) redis.call('set','a','1')"
          " redis.set_repl(redis.REPL_ALL) redis.call('set','b','1')")
    assert eng.effects == [(0, [b"set", b"b", b"1"])]


def test_script_inside_exec_is_wrapped_once(a, eng):
    eng.effects = []
    a("MULTI")
    a("EVAL", "redis.call('set','a','1') redis.call('set','b','1')", "0")
    a("SET", "c", "1")
    a("EXEC")
    assert [argv[0] for _, argv in eng.effects] == [b"MULTI", b"set", b"set", b"SET", b"EXEC"]


def test_pushes_to_the_caller_wait_for_its_protocol(eng):
    # a front may encode a push when it is made: it must see the client's own protocol
    a = Conn(eng, protocol=3)
    a("SUBSCRIBE", "ch")
    seen = []
    a.client.push = lambda m: seen.append((m, a.client.protocol))
    assert ev(a, "redis.call('publish', 'ch', 'x') return redis.call('publish', 'ch', 'y')") == 1
    assert seen == [([b"message", b"ch", b"x"], 3), ([b"message", b"ch", b"y"], 3)]
