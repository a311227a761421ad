"""Connection commands over the wire, compared with Redis 8.2 where replies are comparable."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from tests.server.conftest import is_closed, run_both, spawn
from tests.support.diff import RedisConn
from tests.support.redis_proc import start_redis

pytestmark = pytest.mark.redis


def _norm_hello(v: Any) -> Any:
    """HELLO differs in id, version and modules (Redis 8.2 ships vectorset)."""
    if isinstance(v, dict) and b"server" in v:
        return {k: x for k, x in v.items() if k not in (b"id", b"version", b"modules")}
    if isinstance(v, list) and v[:1] == [b"server"]:
        d = dict(zip(v[::2], v[1::2], strict=True))
        return ("flat", _norm_hello(d))
    return v


def test_ping_echo_select_match_redis(redis_server, sl):
    a, b = RedisConn(redis_server.port), RedisConn(sl.port)
    run_both(a, b, [
        ("PING",), ("PING", "hello"), ("PING", "a", "b"), ("ECHO", "x y"), ("ECHO",),
        ("ECHO", "a", "b"), ("SELECT", "15"), ("SELECT", "16"), ("SELECT", "-1"),
        ("SELECT", "x"), ("SELECT", "0"), ("READONLY",), ("READWRITE",), ("WAIT", "0", "0"),
        ("WAIT", "x", "0"), ("WAIT", "0", "-1"), ("NOSUCHCMD", "a", "b"), ("nosuchcmd",),
        ("CLIENT",), ("CLIENT", "NOSUCH"), ("CLIENT", "ID", "extra"), ("CLIENT", "SETNAME", "a b"),
        ("CLIENT", "SETNAME", "good-name"), ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", ""),
        ("CLIENT", "GETNAME"), ("CLIENT", "SETINFO", "LIB-NAME", "x y"),
        ("CLIENT", "SETINFO", "lib-ver", "1.2"), ("CLIENT", "SETINFO", "FOO", "1"),
        ("CLIENT", "REPLY", "maybe"), ("CLIENT", "NO-EVICT", "maybe"), ("CLIENT", "NO-EVICT", "on"),
        ("CLIENT", "NO-TOUCH", "off"), ("CLIENT", "UNBLOCK", "x"), ("CLIENT", "UNBLOCK", "999999"),
        ("CLIENT", "UNBLOCK", "1", "MAYBE"), ("CLIENT", "KILL", "1.2.3.4:5"),
        ("CLIENT", "KILL", "ID", "999999"), ("CLIENT", "KILL", "ID", "x"),
        ("CLIENT", "KILL", "TYPE", "nope"), ("CLIENT", "KILL", "FOO", "bar"),
        ("CLIENT", "KILL", "ID"), ("CLIENT", "LIST", "TYPE", "nope"), ("CLIENT", "LIST", "ID", "x"),
        ("CLIENT", "LIST", "ID", "999999"), ("CLIENT", "PAUSE", "x"),
        ("AUTH", "pw"), ("AUTH", "nouser", "pw"), ("AUTH", "a", "b", "c"),
        ("AUTH", "default", "anything"),
        ("HELLO", "1"), ("HELLO", "4"), ("HELLO", "x"), ("HELLO", "3", "FOO"),
        ("HELLO", "3", "AUTH", "default"), ("HELLO", "3", "SETNAME"),
        ("HELLO", "2", "SETNAME", "bad name"), ("HELLO", "2", "AUTH", "nouser", "x"),
        ("HELLO",), ("HELLO", "2", "SETNAME", "n1"), ("CLIENT", "GETNAME"),
        ("QUIT", "extra", "args"),
    ], norm=_norm_hello)
    a.close()
    b.close()


def test_hello_3_switches_protocol_and_reset_goes_back(raw):
    c = raw()
    h = c.call("HELLO", "3", "SETNAME", "me")
    assert isinstance(h, dict)
    assert h[b"proto"] == 3 and h[b"server"] == b"redis" and h[b"mode"] == b"standalone"
    assert h[b"version"].startswith(b"8.")
    assert c.call("CLIENT", "GETNAME") == b"me"
    assert isinstance(c.call("HELLO"), dict)  # still RESP3: a map
    c.call("SELECT", "3")
    assert c.call("RESET") == b"RESET"
    assert c.call("CLIENT", "GETNAME") is None
    assert isinstance(c.call("HELLO"), list)  # back to RESP2: flat array
    info = c.call("CLIENT", "INFO")
    assert b" db=0 " in info and b" resp=2 " in info


def test_redis_py_resp3(sl):
    c = redis.Redis(port=sl.port, protocol=3)
    assert c.ping() is True
    assert c.echo(b"x") == b"x"
    assert c.client_id() > 0
    assert c.config_get("maxmemory") == {"maxmemory": "0"}
    info = c.info()
    assert info["redis_mode"] == "standalone"
    c.close()


def test_quit_closes_after_ok(sl):
    c = RedisConn(sl.port)
    assert c.call("QUIT") == b"OK"
    assert is_closed(c.sock)
    c.close()


def test_reset_leaves_multi_and_auth(sl):
    c = RedisConn(sl.port)
    assert c.call("CLIENT", "REPLY", "ON") == b"OK"
    assert c.call("RESET") == b"RESET"
    assert c.call("PING") == b"PONG"
    c.close()


@pytest.fixture(scope="module")
def secured():
    srv = spawn(["--requirepass", "s3cret"])
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def redis_secured():
    srv = start_redis(["--requirepass", "s3cret"])
    yield srv
    srv.cleanup()


def test_requirepass_matches_redis(secured, redis_secured):
    a, b = RedisConn(redis_secured.port), RedisConn(secured.port)
    run_both(a, b, [
        ("PING",), ("ECHO", "x"), ("NOSUCH",), ("ECHO",), ("CLIENT", "ID"), ("SELECT", "1"),
        ("HELLO",), ("HELLO", "3"), ("HELLO", "3", "SETNAME", "a b"),
        ("HELLO", "3", "AUTH", "default", "wrong"), ("AUTH", "wrong"),
        ("AUTH", "someone", "s3cret"), ("PING",), ("AUTH", "s3cret"), ("PING",),
        ("AUTH", "wrong"), ("PING",), ("RESET",), ("PING",), ("AUTH", "default", "s3cret"),
        ("ECHO", "ok"), ("HELLO", "2", "AUTH", "default", "s3cret"),
    ], norm=_norm_hello)
    a.close()
    b.close()


def test_requirepass_with_redis_py(secured):
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=secured.port).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=secured.port, password="nope").ping()
    c = redis.Redis(port=secured.port, password="s3cret")
    assert c.ping()
    c.close()
    c3 = redis.Redis(port=secured.port, password="s3cret", protocol=3, username="default")
    assert c3.ping()
    c3.close()


def test_unauthenticated_request_limits_match_redis(secured, redis_secured):
    from tests.server.conftest import send_raw

    for data in (b"*100\r\n", b"*1\r\n$100000\r\n", b"*11\r\n", b"*10\r\n$16385\r\n"):
        assert send_raw(secured.port, data) == send_raw(redis_secured.port, data), data
