"""Hash field expiration against a real Redis 8.2 (times long enough not to pass
during the test, or already past)."""

from __future__ import annotations

import time

import pytest
from tests.support.diff import EngineConn, compare

from streamlite.engine import Engine, FakeClock

pytestmark = pytest.mark.redis


@pytest.fixture
def eng() -> EngineConn:
    return EngineConn(Engine(FakeClock(int(time.time() * 1000))))


def test_hexpire_family(redis_conn, eng):
    compare(redis_conn, eng, [
        ("HSET", "h", "f", "v", "g", "w"), ("HEXPIRE", "h", "100", "FIELDS", "1", "f"),
        ("OBJECT", "ENCODING", "h"), ("HTTL", "h", "FIELDS", "2", "f", "g"),
        ("HTTL", "nokey", "FIELDS", "1", "f"), ("HTTL", "h", "FIELDS", "2", "f"),
        ("HTTL", "h", "FIELDS", "abc", "f"), ("HTTL", "h", "FIELDS", "0", "f"),
        ("HTTL", "h", "foo", "1", "f"), ("HTTL", "nokey", "foo", "1", "f"),
        ("HEXPIRE", "h", "100", "FIELDS", "1", "f", "g"), ("HEXPIRE", "h", "100", "NX", "FIELDS", "1", "f"),
        ("HEXPIRE", "h", "100", "XX", "FIELDS", "1", "f"), ("HEXPIRE", "h", "100", "XX", "NX", "FIELDS", "1", "f"),
        ("HEXPIRE", "h", "50", "GT", "FIELDS", "1", "f"), ("HEXPIRE", "h", "-1", "FIELDS", "1", "f"),
        ("HEXPIRE", "nokey", "-1", "FIELDS", "1", "f"), ("HEXPIRE", "h", "abc", "FIELDS", "1", "f"),
        ("HEXPIRE", "h", "10", "FIELDS", "-1", "a"), ("HEXPIRE", "h", "10", "FIELDS", "5", "a"),
        ("HEXPIRE", "h", "10", "FIELDS", "abc", "a"), ("HEXPIRE", "h", "10", "foo", "1", "a"),
        ("HEXPIRE", "h", "99999999999999999", "FIELDS", "1", "f"),
        ("HEXPIRE", "h", "70368744177", "FIELDS", "1", "f"),
        ("HPEXPIREAT", "h", "70368744177663", "FIELDS", "1", "f"),
        ("HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "f"),
        ("HPEXPIREAT", "h", "4102444800001", "FIELDS", "1", "f"), ("HEXPIRETIME", "h", "FIELDS", "1", "f"),
        ("HPEXPIRETIME", "h", "FIELDS", "2", "f", "g"), ("HEXPIREAT", "h", "4102444800", "FIELDS", "1", "g"),
        ("HEXPIRETIME", "h", "FIELDS", "1", "g"), ("HEXPIRE", "h", "10", "FIELDS", "2", "f", "f"),
        ("HTTL", "h", "FIELDS", "2", "f", "f"), ("HEXPIRE", "h", "100", "XX", "FIELDS", "1", "f"),
        ("HEXPIRE", "h", "50", "LT", "FIELDS", "1", "f"), ("HEXPIRE", "h", "200", "LT", "FIELDS", "1", "f"),
        ("HEXPIRE", "h", "150", "GT", "FIELDS", "1", "f"), ("HTTL", "h", "FIELDS", "1", "f"),
        ("HPTTL", "h", "FIELDS", "1", "nofield"), ("HSET", "h", "f", "new"), ("HTTL", "h", "FIELDS", "1", "f"),
        ("HSET", "h", "n", "5"), ("HEXPIRE", "h", "100", "FIELDS", "1", "n"), ("HINCRBY", "h", "n", "1"),
        ("HTTL", "h", "FIELDS", "1", "n"), ("HINCRBYFLOAT", "h", "n", "1"), ("HTTL", "h", "FIELDS", "1", "n"),
        ("HPERSIST", "h", "FIELDS", "2", "n", "zz"), ("HPERSIST", "h", "FIELDS", "1", "n"),
        ("HPERSIST", "nokey", "FIELDS", "1", "a"), ("HPERSIST", "h", "foo", "1", "a"),
        ("OBJECT", "ENCODING", "h"), ("HEXPIRE", "h", "0", "FIELDS", "1", "f"), ("HGETALL", "h"),
        ("HPEXPIREAT", "h", "1", "FIELDS", "2", "n", "g"), ("EXISTS", "h"),
        ("SET", "s", "x"), ("HTTL", "s", "FIELDS", "1", "f"), ("HEXPIRE", "s", "-1", "FIELDS", "1", "f"),
        ("HEXPIRE", "h", "10", "FIELDS", "0"), ("HTTL", "h", "FIELDS"),
    ])


def test_hgetdel_hgetex_hsetex(redis_conn, eng):
    compare(redis_conn, eng, [
        ("HSET", "h", "a", "1"), ("HGETDEL", "h", "FIELDS", "2", "a", "b"), ("EXISTS", "h"),
        ("HSET", "h", "a", "1", "b", "2"), ("HGETDEL", "h", "FIELDS", "1", "a", "a"),
        ("HGETDEL", "h", "foo", "1", "a"), ("HGETDEL", "h", "FIELDS", "0", "a"),
        ("HGETDEL", "h", "FIELDS", "2", "a", "a"), ("HGETALL", "h"), ("HGETDEL", "nokey", "FIELDS", "1", "a"),
        ("HSET", "h", "a", "1", "c", "3"), ("HGETEX", "h", "FIELDS", "1", "b"),
        ("HGETEX", "h", "EX", "10", "PX", "10", "FIELDS", "1", "b"), ("HGETEX", "h", "PERSIST", "FIELDS", "1", "b"),
        ("HGETEX", "h", "EX", "-1", "FIELDS", "1", "b"), ("HGETEX", "h", "KEEPTTL", "FIELDS", "1", "b"),
        ("HGETEX", "nokey", "EX", "10", "FIELDS", "1", "b"), ("HGETEX", "h", "EX", "abc", "FIELDS", "1", "b"),
        ("HGETEX", "h", "foo", "FIELDS", "1", "b"), ("HGETEX", "h", "FIELDS", "abc", "b"),
        ("HGETEX", "h", "EX", "100", "FIELDS", "3", "a", "b", "nofield"), ("HTTL", "h", "FIELDS", "3", "a", "b", "c"),
        ("HGETEX", "h", "PERSIST", "FIELDS", "2", "a", "c"), ("HTTL", "h", "FIELDS", "2", "a", "b"),
        ("HGETEX", "h", "PXAT", "1", "FIELDS", "2", "a", "b"), ("HGETALL", "h"),
        ("HGETEX", "h", "EXAT", "0", "FIELDS", "1", "c"), ("EXISTS", "h"),
        ("HSET", "h", "a", "1", "b", "2"), ("HSETEX", "h", "FIELDS", "1", "b"),
        ("HSETEX", "h", "FNX", "FXX", "FIELDS", "1", "b", "1"), ("HSETEX", "h", "foo", "FIELDS", "1", "b", "1"),
        ("HSETEX", "h", "EX", "10", "EX", "20", "FIELDS", "1", "b", "1"),
        ("HSETEX", "h", "FIELDS", "2", "b", "1"), ("HSETEX", "h", "FIELDS", "0", "b", "1"),
        ("HSETEX", "h", "FIELDS", "abc", "b", "1"), ("HSETEX", "h", "EX", "abc", "FIELDS", "1", "b", "1"),
        ("HSETEX", "h", "EX", "-1", "FIELDS", "1", "b", "1"), ("HSETEX", "h", "FNX", "FIELDS", "1", "b", "1"),
        ("HSETEX", "h", "FXX", "FIELDS", "2", "b", "1", "c", "2"), ("HSETEX", "h", "FXX", "FIELDS", "1", "b", "3"),
        ("HSETEX", "nokey", "FXX", "FIELDS", "1", "b", "3"), ("EXISTS", "nokey"),
        ("HSETEX", "h", "EX", "100", "FXX", "FIELDS", "1", "b", "5"), ("HTTL", "h", "FIELDS", "1", "b"),
        ("HSETEX", "h", "KEEPTTL", "FIELDS", "1", "b", "6"), ("HTTL", "h", "FIELDS", "1", "b"),
        ("HSETEX", "h", "FIELDS", "1", "b", "7"), ("HTTL", "h", "FIELDS", "1", "b"),
        ("HSETEX", "h", "EX", "70368744177", "FIELDS", "1", "b", "1"),
        ("HSETEX", "h", "EX", "0", "FIELDS", "1", "b", "1"), ("HGETALL", "h"),
        ("HSETEX", "h", "PXAT", "1", "FIELDS", "1", "a", "2"), ("EXISTS", "h"),
        ("HSETEX", "new", "PX", "100000", "FIELDS", "2", "x", "1", "y", "2"), ("HTTL", "new", "FIELDS", "1", "x"),
        ("SET", "s", "x"), ("HSETEX", "s", "FIELDS", "1", "b", "2"), ("HGETEX", "s", "FIELDS", "1", "b"),
        ("HGETDEL", "s", "FIELDS", "1", "b"),
    ])
