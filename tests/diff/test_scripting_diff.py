"""Lua scripting against a real Redis 8.2, byte for byte (RESP2 and RESP3 clients).

Not compared here: ``math.random`` (the server's rand48 state depends on the
scripts earlier tests ran; the sequence itself is checked in the engine tests)
and ``redis.REDIS_VERSION`` (streamlite reports the version it implements).
"""

from __future__ import annotations

import pytest
from tests.diff.resp_wire import Session
from tests.engine.standins import engine_with_standins


@pytest.fixture
def session_factory(redis_server, redis_conn):
    made: list[Session] = []

    def make(*protocols: int) -> Session:
        s = Session(redis_server.port, engine_with_standins(), list(protocols))
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def evals(*scripts: str) -> list[tuple[object, ...]]:
    return [(0, "EVAL", sc, "0") for sc in scripts]


RETURNS = [
    "return 1", "return 1.9", "return -1.9", "return 3.99", "return -0.5", "return 2^53",
    "return 1e20", "return 2^63", "return -2^63", "return 0/0", "return 1/0", "return math.huge",
    "return 'x'", "return ''", "return true", "return false", "return nil",
    "return {1,2,nil,3}", "return {nil,'b'}", "return {'a',nil,'b'}", "return {a=1}",
    "return {1,'a',{2,3},true,false}", "return {1,2,3,'ciao',{1,2}}", "return {1.5, 2.5}",
    "return {ok='fine'}", "return {ok='a\\r\\nb'}", "return {ok=1}",
    "return {err='bad thing'}", "return {err='MYERR bad'}", "return {err=''}",
    "return {err='a\\r\\nb'}", "return {err=1}",
    "return {1,{ok='x'},{err='y'}}",
    "return {double=1.5}", "return {double=3.14}", "return {double='x'}", "return {double=1/0}",
    "return {big_number='1234567890123456789012'}",
    "return {verbatim_string={format='txt', string='hello'}}",
    "return {map={a=1}}", "return {map={}}", "return {set={a=true}}", "return {set={}}",
    "return redis.error_reply('x y')", "return redis.error_reply('-X y')",
    "return redis.error_reply('oops')", "return redis.error_reply('')",
    "return redis.error_reply('-')", "return redis.error_reply()", "return redis.error_reply(1)",
    "return redis.status_reply('fine')", "return redis.status_reply(1)",
    "redis.setresp(3) return true", "redis.setresp(3) return false",
    "redis.setresp(3) return {1, false, true}", "redis.setresp(3) return {double=2.5}",
    "redis.setresp(3) return nil",
    "return redis.setresp(3)", "return redis.sha1hex('')", "return redis.sha1hex(1)",
    "return redis.sha1hex('abc')",
    "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
    "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
    "return redis.replicate_commands()", "return redis.breakpoint()", "return redis.debug('x')",
    "return redis.acl_check_cmd('get', 'x')",
    "return type(redis.call('get','nokey'))", "return redis.call('get','nokey')",
    "redis.setresp(3) return type(redis.call('get','nokey'))",
    "return redis.call('ping')", "return redis.call('ping', 'x')",
    "local r = redis.call('ping') return type(r) .. ':' .. tostring(r.ok)",
    "return redis.call('set','a','1')", "return redis.call('set','a','1')['ok']",
    "return redis.call('set','a','1','nx')", "return redis.call('get','a')",
    "return redis.call('incr','n')", "return redis.call('GeT', 'a')",
    "return redis.call('exists', 'a', 'nokey')", "return redis.call('del', 'nokey')",
    "return redis.call('publish','ch','m')", "return redis.call('spublish','ch','m')",
    "return redis.call('pubsub','channels')", "return redis.call('pubsub','numpat')",
    "redis.call('select','1') return redis.call('set','db1key','v')",
    "return KEYS", "return ARGV", "return #KEYS",
    "return _VERSION", "return type(os)", "return type(os.time)", "return os.clock() >= 0",
    "return type(loadstring)", "return loadstring('return 5')()",
    "return type(cjson)" if False else "return type(string)",
    "return type(math.random)", "return type(_G)", "return type(coroutine)",
    "return type(unpack)", "return type(gcinfo)", "return type(collectgarbage)",
    "return rawget(_G, 'nope')", "return type(rawget(_G, 'redis'))",
    "return getmetatable('').__index == string", "return ('x'):rep(3)",
    "return string.rep('ab', 2)", "return table.concat({1,2},',')",
    "return tostring(nil)..'x'", "return tostring(1e15)", "return tostring(0.1)",
    "return tonumber('0x10')", "return select('#', 1, 2, 3)", "return {unpack({1,2,3})}",
    "return coroutine.wrap(function() coroutine.yield(9) end)()",
    "local t = setmetatable({}, {__index=function() return 7 end}) return t.x",
    "local a = {} for i=1,3 do a[i]=i end return a",
    "return pcall(function() error('x') end)",
    "local ok, e = pcall(function() redis.call('nosuch') end) return e",
    "local ok, e = pcall(function() redis.call('nosuch') end) return type(e)",
    "local ok, e = pcall(function() error({err='x'}) end) return type(e)",
    "local ok, e = pcall(function() error('zz') end) return e",
    "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return e end)"
    " return type(e)",
    "local r = redis.pcall('nosuch') return type(r) .. ':' .. tostring(r.err)",
    "return redis.pcall('nosuch')",
]

ERRORS = [
    "return x", "x = 1", "_G.x = 1", "string.x = 1", "redis.call = nil", "KEYS = 1",
    "function f() end", "rawset(_G, 'x', 1)", "setmetatable(_G, nil)",
    "local function f() return y end return f()", "return _G.nope",
    "return io", "return print", "return dofile", "return loadfile", "return require",
    "return module", "return setfenv", "return getfenv", "return newproxy", "return debug",
    "return os.time()",
    "return redis.call('nosuch')", "return redis.call('get')", "return redis.call('get','a','b')",
    "return redis.call('pubsub')", "return redis.call('pubsub','nosub')",
    "return redis.call('save')", "return redis.call('subscribe','x')",
    "return redis.call('multi')", "return redis.call('exec')", "return redis.call('watch','x')",
    "return redis.call('eval', 'return 1', '0')", "return redis.call('script','load','return 1')",
    "return redis.call()", "return redis.call(1)", "return redis.call('get', {})",
    "return redis.call('set', 'n', true)", "return redis.call('set', 'n', nil)",
    "return redis.call('set', 'n')",
    "error('boom')", "error('boom', 0)", "error({err='E1 bad'})", "error({err='bad'})",
    "error({})", "error(nil)", "error(true)", "error(123)", "error({err=5})",
    "error('a b c')",
    "return 1 +", "return +", "local t = {} t.x.y = 1",
    "local x = 1\nlocal y = nil\nreturn y.z",
    "local function f()\n  return redis.call('nosuch')\nend\n\nreturn f()",
    "return assert(false)", "return assert(false, 'msg')",
    "return load('return 6')()", "return math.random(0)", "return math.random(1, 2, 3)",
    "return math.random(3, 1)", "return math.random('x')",
    "local n = 0 for k in pairs() do end", "local x = rawget(_G)",
    "redis.log(99,'hi')", "redis.log(1)", "redis.log()", "redis.log('x', 'y')",
    "redis.log(redis.LOG_WARNING, 'from a test') return 1",
    "redis.setresp(4)", "redis.setresp()", "redis.setresp(1, 2)",
    "return redis.sha1hex()", "return redis.sha1hex(1, 2)",
    "return redis.acl_check_cmd('nosuch')", "return redis.acl_check_cmd()",
    "#!lua flags=no-writes\nreturn redis.call('set','a','b')",
    "#!lua\nreturn redis.call('set','a','b')",
    "#!lua flags=bad\nreturn 1", "#!lua name=x\nreturn 1", "#!luax\nreturn 1",
    "#!lua flags=no-writes,allow-oom\nreturn 1", "#!lua flags=\nreturn 2",
    "#!lua\nreturn x",
]


@pytest.mark.parametrize("proto", [2, 3])
def test_script_replies(session_factory, proto):
    s = session_factory(proto)
    s.run([(0, "SET", "a", "v"), (0, "SET", "k", "v")] + evals(*RETURNS))


@pytest.mark.parametrize("proto", [2, 3])
def test_script_errors(session_factory, proto):
    s = session_factory(proto)
    s.run([(0, "SET", "k", "v")] + evals(*ERRORS) + [
        (0, "EVAL", "return redis.call('lpush','k','v')", "0"),
        (0, "EVAL", "return redis.pcall('lpush','k','v')", "0"),
        (0, "EVAL", "local r = redis.pcall('lpush','k','v') return r.err", "0"),
    ])


@pytest.mark.parametrize("proto", [2, 3])
def test_reply_conversions_from_commands(session_factory, proto):
    s = session_factory(proto)
    s.run([
        (0, "HSET", "h", "f", "v"),
        (0, "LPUSH", "l", "x"),
        (0, "EVAL", "return redis.call('hgetall','h')", "0"),
        (0, "EVAL", "redis.setresp(3) return redis.call('hgetall','h')", "0"),
        (0, "EVAL", "redis.setresp(3) local r = redis.call('hgetall','h') return type(r.map)", "0"),
        (0, "EVAL", "redis.setresp(3) return redis.call('hgetall','h').map.f", "0"),
        (0, "EVAL", "redis.setresp(3) return redis.call('hgetall','nohash')", "0"),
        (0, "EVAL", "return redis.call('hgetall','nohash')", "0"),
        (0, "EVAL", "redis.setresp(2) return redis.call('hgetall','h')", "0"),
        (0, "EVAL", "redis.setresp(3) return redis.call('get','nokey')", "0"),
        (0, "EVAL", "redis.setresp(3) return redis.call('exists','h')", "0"),
        (0, "EVAL", "redis.setresp(3) return redis.call('ping')", "0"),
        (0, "EVAL", "return redis.call('lpush','h','x')", "0"),
    ])


def test_number_arguments(session_factory):
    s = session_factory(2)
    steps: list[tuple[object, ...]] = []
    for lua in ("1.5", "10", "0.1", "1e20", "1.5e-7", "2^63", "-2^63", "-0.0", "1/0", "-1/0",
                "123456789.125", "1/3", "1e-300", "2^53+1", "1e21", "0.000001", "100.5", "-7",
                "2^62", "2^62+2048", "1e15", "1e16", "1e17", "0.1+0.2", "1e-5", "1e-7", "5e-324",
                "1.7976931348623157e308", "123e-20", "-1e-10", "12345678901234567890"):
        steps.append((0, "EVAL", f"return redis.call('set', 'n', {lua})", "0"))
        steps.append((0, "GET", "n"))
    s.run(steps)


def test_keys_argv_and_numkeys(session_factory):
    s = session_factory(2)
    s.run([
        (0, "EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2",
         "a1", "a2"),
        (0, "EVAL", "KEYS[1] = 'z' return KEYS[1]", "1", "a"),
        (0, "EVAL", "return 1", "-1"),
        (0, "EVAL", "return 1", "x"),
        (0, "EVAL", "return 1", "2", "a"),
        (0, "EVAL", "return 1"),
        (0, "EVAL", "return 1", "99999999999999999999"),
        (0, "EVALSHA", "x", "-1"),
        (0, "EVALSHA", "x", "2", "a"),
    ])


def test_evalsha_and_script_command(session_factory):
    s = session_factory(2)
    sha1 = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
    s.run([
        (0, "SCRIPT", "FLUSH"),
        (0, "EVALSHA", sha1, "0"),
        (0, "EVALSHA", "abc", "0"),
        (0, "SCRIPT", "LOAD", "return 1"),
        (0, "EVALSHA", sha1, "0"),
        (0, "EVALSHA", sha1.upper(), "0"),
        (0, "EVALSHA_RO", sha1, "0"),
        (0, "SCRIPT", "EXISTS", sha1, "abc", sha1.upper()),
        (0, "SCRIPT", "LOAD", "return +"),
        (0, "SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1"),
        (0, "SCRIPT", "KILL"),
        (0, "SCRIPT", "FOO"),
        (0, "SCRIPT", "HELP"),
        (0, "SCRIPT", "FLUSH", "X"),
        (0, "SCRIPT", "FLUSH", "SYNC"),
        (0, "SCRIPT", "EXISTS", sha1),
        (0, "EVAL", "return 1", "0"),
        (0, "SCRIPT", "EXISTS", sha1),
        (0, "SCRIPT", "FLUSH", "ASYNC"),
        (0, "SCRIPT", "FLUSH", "SYNC", "X"),
        (0, "SCRIPT"),
        (0, "SCRIPT", "LOAD"),
        (0, "SCRIPT", "EXISTS"),
        (0, "SCRIPT", "DEBUG", "NO"),
        (0, "SCRIPT", "DEBUG", "MAYBE"),
        (0, "SCRIPT", "FLUSH"),
    ])


def test_read_only_scripts(session_factory):
    s = session_factory(2)
    s.run([
        (0, "SET", "a", "v"),
        (0, "EVAL_RO", "return redis.call('set','a','b')", "0"),
        (0, "EVAL_RO", "return redis.call('get','a')", "0"),
        (0, "EVAL_RO", "return redis.call('publish','c','m')", "0"),
        (0, "EVAL_RO", "#!lua\nreturn 1", "0"),
        (0, "EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','a')", "0"),
        (0, "EVAL", "#!lua flags=no-writes\nreturn redis.call('get','a')", "0"),
        (0, "EVAL_RO", "return redis.pcall('set','a','b')", "0"),
        (0, "GET", "a"),
    ])


def test_scripts_and_transactions(session_factory):
    s = session_factory(2, 2)
    s.run([
        (0, "WATCH", "k"),
        (1, "EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k"),
        (0, "MULTI"),
        (0, "EVAL", "return redis.call('get', KEYS[1])", "1", "k"),
        (0, "EXEC"),
        (0, "MULTI"),
        (0, "EVAL", "return redis.call('set','mk','1')", "0"),
        (0, "EVAL", "return 1", "x"),
        (0, "EVAL", "return redis.call('nosuch')", "0"),
        (0, "EXEC"),
        (0, "EVAL", "redis.call('set','c','1') error('after a write')", "0"),
        (0, "GET", "c"),
    ])


LIBS = [
    "return cjson.encode({1,2,3})", "return cjson.encode({})", "return cjson.encode({a=1})",
    "return cjson.encode({a={b={1,2}}})", "return cjson.encode('a/b\"c\\\\d\\n\\t\\1\\127\\200')",
    "return cjson.encode(1.5)", "return cjson.encode(0.1)", "return cjson.encode(1e20)",
    "return cjson.encode(123456789012345)", "return cjson.encode(1/3)",
    "return cjson.encode(100)", "return cjson.encode(1e15)", "return cjson.encode(1/0)",
    "return cjson.encode(0/0)", "return cjson.encode(true)", "return cjson.encode(nil)",
    "return cjson.encode(cjson.null)", "return cjson.encode({1,nil,3})",
    "return cjson.encode({[1]=1,[10]=2})", "return cjson.encode({[1]=1,[20]=2})",
    "return cjson.encode({x='b'})",
    "return cjson.encode({[1.5]=1})", "return cjson.encode({[true]=1})",
    "return cjson.encode(function() end)", "return cjson.encode()", "return cjson.encode(1,2)",
    "return cjson.encode({[1]=1,[2]=2,[4]=4})", "return cjson.encode({[0]=1})",
    "return cjson.encode({[-1]=1})", "return cjson.encode({{{{}}}})", "return cjson.encode('\\0')",
    "return cjson.encode({a=cjson.null})",
    "local t = {} for i=1,5 do t[i]=i end t[3]=nil return cjson.encode(t)",
    "local t = {} local c = t for i=1,1100 do c[1] = {} c = c[1] end return cjson.encode(t)",
    "return cjson.decode('[1,2,\"a\"]')", "return cjson.decode('{\"a\":1}').a",
    "return type(cjson.decode('null'))", "return cjson.decode('null') == cjson.null",
    "return cjson.decode('1.5')", "return tostring(cjson.decode('1.5'))",
    "return cjson.decode('\"\\\\u00e9\"')", "return cjson.decode('\"\\\\ud83d\\\\ude00\"')",
    "return cjson.decode('[')", "return cjson.decode('x')", "return cjson.decode('{\"a\":}')",
    "return cjson.decode('[1,2] x')", "return cjson.decode('')", "return cjson.decode('\"abc')",
    "return cjson.decode(1)", "return cjson.decode()", "return cjson.decode('[1e400]')",
    "return cjson.decode('true')", "return cjson.decode('[true,false]')",
    "return cjson.decode('\"\\\\/\"')", "return cjson.decode(' 1 ')", "return cjson.decode('[1,]')",
    "return cjson.decode('01')", "return cjson.decode('-')", "return cjson.decode('\"\\\\x\"')",
    "return cjson.decode('{1:2}')", "return cjson.decode('{\"a\" 1}')",
    "return cjson.decode('{\"a\":1 \"b\"}')", "return cjson.decode('[1 2]')",
    "return cjson.decode('\"\\\\u12\"')", "return cjson.decode('truex')",
    "return cjson.decode(string.rep('[', 1001))",
    "return cjson.decode('{\"a\":[1,{\"b\":null}]}').a[2].b == cjson.null",
    "return cjson.decode('[[[[1]]]]')[1][1][1][1]",
    "return tostring(cjson.null)", "return type(cjson.null)", "return type(cjson.encode)",
    "return cjson.encode_keep_buffer", "return type(cjson.encode_max_depth)",
    "return bit.tobit(2^32+1)", "return bit.tohex(255)", "return bit.tohex(-1, -4)",
    "return bit.bnot(0)", "return bit.bor(1,2,4)", "return bit.bxor(3,1)",
    "return bit.lshift(1,31)", "return bit.rshift(-1,28)", "return bit.arshift(-256,4)",
    "return bit.rol(1,33)", "return bit.ror(1,1)", "return bit.bswap(0x12345678)",
    "return bit.band()", "return bit.tohex(1.5)", "return bit.tohex(2.5)",
    "return bit.band('3', 1)", "return bit.band('x', 1)", "return bit.tohex(10, 0)",
    "return bit.tohex(10, 10)", "return bit.band(0xffffffff, -1)", "return type(bit.band)",
]


def test_cjson_and_bit(session_factory):
    s = session_factory(2)
    s.run(evals(*LIBS))


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_commands_in_scripts_answer_as_timed_out(session_factory, proto):
    s = session_factory(proto)
    s.run(evals(
        "return redis.call('blpop', 'nolist', '0')",
        "return redis.pcall('brpop', 'nolist', '0')",
        "return redis.call('bzpopmax', 'nozset', '0')",
        "redis.setresp(3) return redis.call('blpop', 'nolist', '0')",
        "redis.call('rpush', 'l', 'a') return redis.call('blpop', 'l', '0')",
        "return redis.call('lpush', 'l', 'b', 'c')",
        "return redis.call('lrange', 'l', 0, -1)",
    ))
