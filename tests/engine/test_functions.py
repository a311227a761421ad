"""Redis Functions on the engine: registry, FCALL, propagation, persistence helpers."""

from __future__ import annotations

import pytest
from tests.engine.standins import Conn, engine_with_standins

from streamlite.engine import FakeClock
from streamlite.engine.replies import ErrorReply, RespSet
from streamlite.engine.scripting import get_scripting

LIB = (
    "#!lua name=mylib\n"
    "redis.register_function('echo', function(keys, args) return {keys, args} end)\n"
    "redis.register_function{function_name='ro', callback=function(keys, args)"
    " return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-oom'}, description='read'}\n"
    "redis.register_function('incr2', function(keys, args)"
    " redis.call('incr', keys[1]) return redis.call('incr', keys[1]) end)\n"
)


@pytest.fixture
def eng():
    return engine_with_standins(FakeClock())


@pytest.fixture
def a(eng):
    return Conn(eng)


def test_load_call_list_delete(a):
    assert a("FUNCTION", "LOAD", LIB) == b"mylib"
    assert a("FCALL", "echo", "1", "k", "x") == [[b"k"], [b"x"]]
    assert a("FCALL", "ECHO", "0") == [[], []]
    assert a("FCALL", "incr2", "1", "n") == 2
    assert a("FCALL_RO", "ro", "1", "n") == b"2"
    assert a("FCALL_RO", "incr2", "1", "n") == ErrorReply(
        b"ERR Can not execute a script with write flag using *_ro command."
    )
    listing = a("FUNCTION", "LIST")
    assert len(listing) == 1
    lib = listing[0]
    assert lib[b"library_name"] == b"mylib" and lib[b"engine"] == b"LUA"
    assert b"library_code" not in lib
    funcs = {f[b"name"]: f for f in lib[b"functions"]}
    assert set(funcs) == {b"echo", b"ro", b"incr2"}
    assert funcs[b"ro"][b"description"] == b"read"
    assert funcs[b"ro"][b"flags"] == RespSet([b"no-writes", b"allow-oom"])
    assert type(funcs[b"ro"][b"flags"]) is RespSet
    assert funcs[b"echo"][b"description"] is None
    assert a("FUNCTION", "LIST", "WITHCODE")[0][b"library_code"] == LIB.encode()
    assert a("FUNCTION", "STATS") == {
        b"running_script": None,
        b"engines": {b"LUA": {b"libraries_count": 1, b"functions_count": 3}},
    }
    assert a("FUNCTION", "DELETE", "mylib") == b"OK"
    assert a("FCALL", "echo", "0") == ErrorReply(b"ERR Function not found")


def test_replace_keeps_the_old_library_when_the_new_one_fails(a):
    a("FUNCTION", "LOAD", LIB)
    bad = "#!lua name=mylib\nredis.register_function('x', 1)"
    assert a("FUNCTION", "LOAD", "REPLACE", bad).startswith(b"ERR Error registering functions")
    assert a("FCALL", "echo", "0") == [[], []]
    a("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('o', function() return 1 end)")
    clash = "#!lua name=mylib\nredis.register_function('o', function() return 2 end)"
    assert a("FUNCTION", "LOAD", "REPLACE", clash) == ErrorReply(b"ERR Function o already exists")
    assert a("FCALL", "echo", "0") == [[], []]
    ok = "#!lua name=mylib\nredis.register_function('echo', function() return 3 end)"
    assert a("FUNCTION", "LOAD", "REPLACE", ok) == b"mylib"
    assert a("FCALL", "echo", "0") == 3
    assert a("FCALL", "incr2", "1", "n") == ErrorReply(b"ERR Function not found")


def test_flushall_keeps_functions_and_script_flush_too(a):
    a("FUNCTION", "LOAD", LIB)
    a("FLUSHALL")
    a("SCRIPT", "FLUSH")
    assert a("FCALL", "echo", "0") == [[], []]
    assert a("FUNCTION", "FLUSH") == b"OK"
    assert a("FCALL", "echo", "0") == ErrorReply(b"ERR Function not found")


def test_dump_restore_round_trip_and_propagation(a, eng):
    """FUNCTION RESTORE of a DUMP brings the libraries back; it goes to the AOF as it
    came (the differential test checks the bytes and policies against Redis)."""
    a("FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('t', function() return 7 end)")
    payload = a("FUNCTION", "DUMP")
    assert payload.startswith(b"\xf5")
    a("FUNCTION", "FLUSH")
    assert a("FCALL", "t", "0").startswith(b"ERR Function not found")
    eng.effects = []
    assert a("FUNCTION", "RESTORE", payload) == b"OK"
    assert eng.effects == [(0, [b"FUNCTION", b"RESTORE", payload])]
    assert a("FCALL", "t", "0") == 7
    assert a("FUNCTION", "RESTORE", payload).startswith(b"ERR Library l already exists")


def test_register_function_outside_load_is_not_there(a):
    a("FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('t', function()"
      " return type(redis.register_function) end)")
    assert a("FCALL", "t", "0") == b"nil"
    out = a("EVAL", "return redis.register_function", "0")
    assert out is None


def test_propagation_and_replay(a, eng):
    eng.effects = []
    a("FUNCTION", "LOAD", LIB)
    a("FCALL", "incr2", "1", "n")
    a("FCALL", "echo", "0")  # no writes: nothing
    assert eng.effects == [
        (0, [b"FUNCTION", b"LOAD", LIB.encode()]),
        (0, [b"MULTI"]),
        (0, [b"incr", b"n"]),
        (0, [b"incr", b"n"]),
        (0, [b"EXEC"]),
    ]
    a("FUNCTION", "DELETE", "mylib")
    assert eng.effects[-1] == (0, [b"FUNCTION", b"DELETE", b"mylib"])
    # the effects rebuild the same state elsewhere
    other = engine_with_standins(FakeClock())
    r = Conn(other)
    for _db, argv in eng.effects:
        r(*argv)
    assert r("GET", "n") == b"2"
    assert r("FUNCTION", "LIST") == []


def test_load_commands_recreate_the_libraries(a, eng):
    a("FUNCTION", "LOAD", LIB)
    cmds = get_scripting(eng).functions.load_commands()
    assert cmds == [[b"FUNCTION", b"LOAD", LIB.encode()]]
    other = engine_with_standins(FakeClock())
    r = Conn(other)
    for argv in cmds:
        assert r(*argv) == b"mylib"
    assert r("FCALL", "echo", "0") == [[], []]


def test_function_errors_name_the_function(a):
    a("FUNCTION", "LOAD", "#!lua name=e\n\nredis.register_function('Boom', function()"
      " error('x') end)")
    assert a("FCALL", "boom", "0") == ErrorReply(
        b"ERR user_function:3: x script: Boom, on @user_function:3."
    )
