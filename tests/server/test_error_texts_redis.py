"""Error texts a careless or hostile client meets, byte for byte as redis-server 8.2
sends them (issue 12 item 7): WRONGTYPE from XDELEX/XACKDEL before any argument error,
names holding NUL or non-UTF-8 bytes quoted as Redis's ``%s`` prints them (up to the
NUL), the unknown-command text's 128-byte cuts, and DEBUG before AUTH."""

from __future__ import annotations

import pytest
from tests.server.conftest import run_both, spawn
from tests.support.diff import RedisConn
from tests.support.redis_proc import start_redis

pytestmark = pytest.mark.redis


@pytest.fixture
def both(redis_server, sl):
    a, b = RedisConn(redis_server.port), RedisConn(sl.port)
    for conn in (a, b):
        conn.call("FLUSHALL")
    yield a, b
    a.close()
    b.close()


def test_xdelex_xackdel_wrongtype_first(both):
    run_both(*both, [
        ("SET", "str", "v"), ("XADD", "s", "1-1", "f", "v"),
        ("XDELEX", "str", "IDS", "1", "1-1"), ("XACKDEL", "str", "g", "IDS", "1", "1-1"),
        ("XDELEX", "str", "KEEPREF", "IDS", "1", "1-1"),
        ("XACKDEL", "str", "g", "ACKED", "IDS", "1", "1-1"),
        # on another type WRONGTYPE comes before any argument error
        ("XDELEX", "str", "IDS", "x", "1-1"), ("XDELEX", "str", "IDS", "2", "1-1"),
        ("XDELEX", "str", "BOGUS", "IDS", "1", "1-1"), ("XDELEX", "str", "IDS", "1", "bad"),
        ("XDELEX", "str", "KEEPREF", "KEEPREF", "IDS", "1", "1"),
        ("XDELEX", "str", "IDS", "1", "1", "extra"),
        ("XACKDEL", "str", "g", "IDS", "x", "1-1"), ("XACKDEL", "str", "g", "BOGUS", "IDS", "1", "1"),
        ("XACKDEL", "str", "g", "IDS", "1", "1", "extra"),
        # on a stream or no key, the argument errors
        ("XDELEX", "nokey", "IDS", "x", "1-1"), ("XDELEX", "s", "IDS", "x", "1-1"),
        ("XDELEX", "nokey", "IDS", "1", "bad"), ("XDELEX", "s", "IDS", "1", "bad"),
        ("XACKDEL", "nokey", "g", "IDS", "x", "1-1"), ("XACKDEL", "s", "g", "IDS", "1", "bad"),
    ])


def test_names_with_nul_quoted_as_redis(both):
    run_both(*both, [
        ("XADD", "s", "1-1", "f", "v"),
        ("XGROUP", "CREATE", "s", b"g\x00x", "0"), ("XGROUP", "CREATE", "s", b"g\x00x", "0"),
        ("XINFO", "GROUPS", "s"),
        ("XREADGROUP", "GROUP", b"g\x00x", b"c\x00y", "STREAMS", "s", ">"),
        ("XGROUP", "CREATECONSUMER", "s", b"g\x00x", b"c\x00y"),
        ("XGROUP", "DELCONSUMER", "s", b"nog\x00x", b"c\x00y"),
        ("XREADGROUP", "GROUP", b"nog\x00x", b"c\x00y", "STREAMS", "s", ">"),
        ("XPENDING", "s", b"nog\x00x"), ("XCLAIM", "s", b"nog\x00x", "c", "0", "1-1"),
        ("XAUTOCLAIM", "s", b"nog\x00x", "c", "0", "0"), ("XGROUP", "SETID", "s", b"nog\x00x", "0"),
        ("XINFO", "CONSUMERS", "s", b"nog\x00x"), ("XINFO", "CONSUMERS", "s", b"nog\xff\xfe"),
        ("XPENDING", "s", b"\xffno"), ("XGROUP", "SETID", b"s\x00k", b"nog", "0"),
        ("XCLAIM", "s", b"g\x00x", "c", "0", "1-1", b"BAD\x00opt"),
        ("XINFO", b"NOSUCH\x00x"), ("XGROUP", b"NOSUCH\x00x"), ("XINFO", b"N" * 200),
        ("CONFIG", b"nosuch\x00x"), ("OBJECT", b"nosuch\x00x"), ("SCRIPT", b"nosuch\x00x"),
        ("CLIENT", b"nosuch\x00x"), ("CONFIG", b"\xff"), ("CONFIG", "N" * 200),
    ])


def test_unknown_command_text_as_redis(both):
    run_both(*both, [
        ("F" * 200, "a" * 100, "b" * 100), ("FOO", "a" * 50, "b" * 50, "c" * 50),
        ("FOO", *(["x"] * 60)), ("FOO",), ("FOO", b"\xff\xfe"), ("FOO", b"a\r\nb"),
        (b"FOO\x00bar",), (b"FOO\xffbar", b"a\x00b"), (b"\x00",), (b"\x00", b"\x00"), ("", ""),
    ])


@pytest.mark.parametrize("debug", ["no", "local", "yes"])
def test_debug_before_auth_as_redis(debug):
    """Redis refuses a protected command its config does not allow before it asks for
    authentication: with `enable-debug-command no` an unauthenticated DEBUG gets the
    refusal, not NOAUTH."""
    extra = ["--requirepass", "pw", "--enable-debug-command", debug]
    ref = start_redis(extra)
    ours = spawn(extra)
    try:
        a, b = RedisConn(ref.port), RedisConn(ours.port)
        run_both(a, b, [
            ("DEBUG", "SLEEP", "0"), ("DEBUG",), ("DEBUG", "HELP"), ("DEBUG", "nosuch"),
            ("debug", "object", "x"), ("CONFIG", "GET", "x"), ("FOO",),
            ("AUTH", "nopass"), ("DEBUG", "SLEEP", "0"), ("AUTH", "pw"), ("DEBUG", "nosuch"),
            ("DEBUG", "SLEEP", "0"),
        ], norm=lambda v: v[:300] if isinstance(v, list) else v)
        a.close()
        b.close()
    finally:
        ref.cleanup()
        ours.cleanup()
