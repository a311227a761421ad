"""List commands on the engine: every command and option, errors, encodings."""

from __future__ import annotations

import pytest

from streamlite.engine.replies import NULL_ARRAY, ErrorReply
from streamlite.engine.types.list import ListValue

WRONGTYPE = ErrorReply(b"WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_INT = ErrorReply(b"ERR value is not an integer or out of range")
SYNTAX = ErrorReply(b"ERR syntax error")


def err(text: str) -> ErrorReply:
    return ErrorReply(text.encode())


def lst(r, key="l"):
    return r("LRANGE", key, 0, -1)


def test_push_pop_both_ends(r):
    assert r("LPUSH", "l", "a", "b") == 2
    assert r("RPUSH", "l", "c") == 3
    assert lst(r) == [b"b", b"a", b"c"]
    assert r("LPOP", "l") == b"b"
    assert r("RPOP", "l") == b"c"
    assert r("RPOP", "l") == b"a"
    assert r("EXISTS", "l") == 0
    assert r("LPOP", "l") is None
    assert r("RPOP", "l", 2) is NULL_ARRAY


def test_pop_count(r):
    r("RPUSH", "l", *"abcde")
    assert r("LPOP", "l", 0) == []
    assert r("LPOP", "l", 2) == [b"a", b"b"]
    assert r("RPOP", "l", 2) == [b"e", b"d"]
    assert r("RPOP", "l", 10) == [b"c"]
    assert r("EXISTS", "l") == 0
    assert r("LPOP", "l", 0) is NULL_ARRAY
    r("RPUSH", "l", "a")
    assert r("LPOP", "l", -1) == err("ERR value is out of range, must be positive")
    assert r("LPOP", "l", "x") == err("ERR value is out of range, must be positive")
    assert r("LPOP", "l", 1, 2) == err("ERR wrong number of arguments for 'lpop' command")


def test_pushx(r):
    assert r("LPUSHX", "l", "a") == 0
    assert r("RPUSHX", "l", "a", "b") == 0
    assert r("EXISTS", "l") == 0
    r("RPUSH", "l", "m")
    assert r("LPUSHX", "l", "a", "b") == 3
    assert r("RPUSHX", "l", "z") == 4
    assert lst(r) == [b"b", b"a", b"m", b"z"]


def test_llen_lindex(r):
    assert r("LLEN", "l") == 0
    r("RPUSH", "l", "a", "b", "c")
    assert r("LLEN", "l") == 3
    assert [r("LINDEX", "l", i) for i in (0, 2, 3, -1, -3, -4)] == [b"a", b"c", None, b"c", b"a", None]
    assert r("LINDEX", "l", "x") == NOT_INT
    assert r("LINDEX", "nokey", "x") is None


@pytest.mark.parametrize(
    "start,stop,expected",
    [(0, -1, "abcde"), (1, 2, "bc"), (-2, -1, "de"), (-100, 1, "ab"), (3, 100, "de"),
     (4, 2, ""), (5, 10, ""), (0, -6, ""), (-1, -1, "e")],
)
def test_lrange(r, start, stop, expected):
    r("RPUSH", "l", *"abcde")
    assert r("LRANGE", "l", start, stop) == [c.encode() for c in expected]


def test_lrange_errors(r):
    assert r("LRANGE", "nokey", 0, -1) == []
    assert r("LRANGE", "nokey", "x", -1) == NOT_INT


@pytest.mark.parametrize(
    "start,stop,expected",
    [(0, -1, "abcde"), (1, 2, "bc"), (-2, -1, "de"), (4, 2, ""), (0, 0, "a"), (-100, 100, "abcde")],
)
def test_ltrim(r, start, stop, expected):
    r("RPUSH", "l", *"abcde")
    assert r("LTRIM", "l", start, stop) == b"OK"
    assert lst(r) == [c.encode() for c in expected]
    assert r("EXISTS", "l") == (1 if expected else 0)


def test_lset(r):
    assert r("LSET", "l", 0, "v") == err("ERR no such key")
    r("RPUSH", "l", "a", "b")
    assert r("LSET", "l", -1, "z") == b"OK"
    assert r("LSET", "l", 2, "z") == err("ERR index out of range")
    assert r("LSET", "l", "x", "z") == NOT_INT
    assert lst(r) == [b"a", b"z"]


def test_lrem(r):
    r("RPUSH", "l", *"abacaba")
    assert r("LREM", "l", 2, "a") == 2
    assert lst(r) == [b"b", b"c", b"a", b"b", b"a"]
    assert r("LREM", "l", -1, "a") == 1
    assert lst(r) == [b"b", b"c", b"a", b"b"]
    assert r("LREM", "l", 0, "b") == 2
    assert r("LREM", "l", 0, "q") == 0
    assert r("LREM", "l", 0, "c") == 1
    assert r("LREM", "l", 1, "a") == 1
    assert r("EXISTS", "l") == 0
    assert r("LREM", "l", "x", "a") == NOT_INT


def test_linsert(r):
    assert r("LINSERT", "l", "BEFORE", "a", "x") == 0
    r("RPUSH", "l", "a", "b", "a")
    assert r("LINSERT", "l", "BEFORE", "a", "x") == 4
    assert r("LINSERT", "l", "after", "a", "y") == 5
    assert r("LINSERT", "l", "AFTER", "nope", "y") == -1
    assert r("LINSERT", "l", "MIDDLE", "a", "y") == SYNTAX
    assert lst(r) == [b"x", b"a", b"y", b"b", b"a"]


def test_lpos(r):
    r("RPUSH", "l", *"abcabcc")
    assert r("LPOS", "l", "c") == 2
    assert r("LPOS", "l", "c", "RANK", 2) == 5
    assert r("LPOS", "l", "c", "RANK", -1) == 6
    assert r("LPOS", "l", "c", "RANK", -2) == 5
    assert r("LPOS", "l", "c", "COUNT", 0) == [2, 5, 6]
    assert r("LPOS", "l", "c", "COUNT", 2, "RANK", -1) == [6, 5]
    assert r("LPOS", "l", "c", "MAXLEN", 3) == 2
    assert r("LPOS", "l", "c", "MAXLEN", 2) is None
    assert r("LPOS", "l", "c", "MAXLEN", 2, "COUNT", 0) == []
    assert r("LPOS", "l", "z") is None
    assert r("LPOS", "nokey", "z") is None
    assert r("LPOS", "nokey", "z", "COUNT", 1) == []
    assert r("LPOS", "l", "c", "RANK", 0).startswith(b"ERR RANK can't be zero")
    assert r("LPOS", "l", "c", "COUNT", -1) == err("ERR COUNT can't be negative")
    assert r("LPOS", "l", "c", "MAXLEN", -1) == err("ERR MAXLEN can't be negative")
    assert r("LPOS", "l", "c", "RANK") == SYNTAX


def test_lmove_and_rpoplpush(r):
    r("RPUSH", "a", "1", "2", "3")
    assert r("LMOVE", "a", "b", "LEFT", "RIGHT") == b"1"
    assert r("LMOVE", "a", "b", "RIGHT", "LEFT") == b"3"
    assert r("LRANGE", "b", 0, -1) == [b"3", b"1"]
    assert r("RPOPLPUSH", "b", "b") == b"1"
    assert r("LRANGE", "b", 0, -1) == [b"1", b"3"]
    assert r("LMOVE", "a", "a", "LEFT", "LEFT") == b"2"
    assert r("RPOPLPUSH", "a", "c") == b"2"
    assert r("EXISTS", "a") == 0
    assert r("RPOPLPUSH", "a", "c") is None
    assert r("LMOVE", "a", "c", "UP", "LEFT") == SYNTAX
    r("SET", "s", "x")
    assert r("LMOVE", "c", "s", "LEFT", "LEFT") == WRONGTYPE
    assert r("LRANGE", "c", 0, -1) == [b"2"]  # nothing moved


def test_lmpop(r):
    r("RPUSH", "a", "1", "2", "3")
    assert r("LMPOP", 2, "nokey", "a", "LEFT") == [b"a", [b"1"]]
    assert r("LMPOP", 1, "a", "RIGHT", "COUNT", 5) == [b"a", [b"3", b"2"]]
    assert r("LMPOP", 1, "a", "RIGHT") is NULL_ARRAY
    assert r("LMPOP", 0, "a", "LEFT") == err("ERR numkeys should be greater than 0")
    assert r("LMPOP", 3, "a", "LEFT") == SYNTAX
    assert r("LMPOP", 1, "a", "LEFT", "COUNT", 0) == err("ERR count should be greater than 0")
    assert r("LMPOP", 1, "a", "UP") == SYNTAX


def test_wrongtype(r):
    r("SET", "s", "v")
    for cmd in [("LPUSH", "s", "a"), ("RPUSHX", "s", "a"), ("LPOP", "s"), ("LLEN", "s"),
                ("LRANGE", "s", 0, 1), ("LINDEX", "s", 0), ("LSET", "s", 0, "v"),
                ("LREM", "s", 0, "v"), ("LTRIM", "s", 0, 1), ("LINSERT", "s", "BEFORE", "a", "b"),
                ("LPOS", "s", "a"), ("LMPOP", 1, "s", "LEFT"), ("BLPOP", "s", 0)]:
        assert r(*cmd) == WRONGTYPE, cmd


def test_ttl_kept_by_in_place_changes(r, engine):
    r("RPUSH", "l", "a", "b")
    engine.dbs[0].set_expire(b"l", engine.clock.ms() + 10_000)
    r("RPUSH", "l", "c")
    r("LPOP", "l")
    r("LSET", "l", 0, "x")
    assert engine.dbs[0].ttl_ms(b"l") == 10_000


def test_expired_list_is_gone(r, engine, clock):
    r("RPUSH", "l", "a")
    engine.dbs[0].set_expire(b"l", clock.ms() + 100)
    clock.advance(101)  # Redis: expired once now > when
    assert r("LLEN", "l") == 0
    assert r("LPUSHX", "l", "a") == 0


def _enc(engine, key="l"):
    return engine.dbs[0].data[key.encode()].encoding()


def test_encoding_listpack_to_quicklist_and_back(r, engine):
    r("RPUSH", "l", *[str(i) for i in range(100)])
    assert _enc(engine) == b"listpack"
    for i in range(4):
        r("RPUSH", "l", "x" * 2000 + str(i))
    assert _enc(engine) == b"quicklist"
    for _ in range(4):
        r("RPOP", "l")
    assert _enc(engine) == b"listpack"
    r("RPUSH", "big", "y" * 9000)
    assert _enc(engine, "big") == b"quicklist"


def test_encoding_by_count(r, engine):
    engine.config["list-max-listpack-size"] = 4
    r("RPUSH", "l", "1", "2", "3", "4")
    assert _enc(engine) == b"listpack"
    r("RPUSH", "l", "5")
    assert _enc(engine) == b"quicklist"
    r("LPOP", "l", 3)
    assert _enc(engine) == b"listpack"


def test_value_class():
    v = ListValue([b"a", b"bb"])
    assert len(v) == 2
    assert v.mem_usage() > 3
    assert v.encoding() == b"listpack"
    assert v.range(0, 1) == [b"a", b"bb"]
    c = v.copy()
    c.push(b"z", True)
    assert list(v) == [b"a", b"bb"] and list(c) == [b"z", b"a", b"bb"]


def test_long_list_range_from_both_ends(r):
    r("RPUSH", "l", *[str(i) for i in range(1000)])
    assert r("LRANGE", "l", 990, -1) == [str(i).encode() for i in range(990, 1000)]
    assert r("LRANGE", "l", 3, 5) == [b"3", b"4", b"5"]
    assert r("LINDEX", "l", -2) == b"998"
    r("LTRIM", "l", 100, 899)
    assert r("LLEN", "l") == 800
    assert r("LINDEX", "l", 0) == b"100"
