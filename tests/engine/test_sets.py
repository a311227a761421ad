"""Set commands on the engine: every command and option, order, encodings."""

from __future__ import annotations

import pytest

from streamlite.engine.replies import ErrorReply, RespSet
from streamlite.engine.types.set import Limits, SetValue

WRONGTYPE = ErrorReply(b"WRONGTYPE Operation against a key holding the wrong kind of value")
SYNTAX = ErrorReply(b"ERR syntax error")


def err(text: str) -> ErrorReply:
    return ErrorReply(text.encode())


def enc(engine, key):
    return engine.dbs[0].data[key.encode()].encoding()


def test_sadd_srem_members(r):
    assert r("SADD", "s", "3", "1", "2", "1") == 3
    assert r("SADD", "s", "2") == 0
    m = r("SMEMBERS", "s")
    assert type(m) is RespSet and m == [b"1", b"2", b"3"]
    assert r("SCARD", "s") == 3
    assert r("SREM", "s", "1", "9") == 1
    assert r("SREM", "s", "2", "3") == 2
    assert r("EXISTS", "s") == 0
    assert r("SREM", "s", "x") == 0
    assert r("SMEMBERS", "s") == RespSet()
    assert r("SCARD", "s") == 0


def test_membership(r):
    r("SADD", "s", "a", "b")
    assert r("SISMEMBER", "s", "a") == 1
    assert r("SISMEMBER", "s", "z") == 0
    assert r("SISMEMBER", "nokey", "z") == 0
    assert r("SMISMEMBER", "s", "a", "z", "b") == [1, 0, 1]
    assert r("SMISMEMBER", "nokey", "a", "z") == [0, 0]


def test_order_intset_then_listpack(r, engine):
    r("SADD", "s", "-5", "10", "3")
    assert enc(engine, "s") == b"intset"
    assert r("SMEMBERS", "s") == [b"-5", b"3", b"10"]
    r("SADD", "s", "z", "-7")
    assert enc(engine, "s") == b"listpack"
    assert r("SMEMBERS", "s") == [b"-5", b"3", b"10", b"z", b"-7"]


@pytest.mark.parametrize(
    "members,expected",
    [(["1", "2"], b"intset"), (["a"], b"listpack"), (["1", "a"], b"listpack"),
     ([str(i) for i in range(200)], b"intset"), (["x"] * 200, b"hashtable"),
     ([str(i) for i in range(600)], b"hashtable"), (["a" * 65], b"hashtable"),
     ([f"k{i}" for i in range(128)], b"listpack"), ([f"k{i}" for i in range(129)], b"hashtable"),
     (["007"], b"listpack"), (["9223372036854775807"], b"intset"),
     (["9223372036854775808"], b"listpack")],
)
def test_encodings(r, engine, members, expected):
    r("SADD", "s", *members)
    assert enc(engine, "s") == expected


def test_encoding_thresholds_from_config(r, engine):
    engine.config.update({"set-max-intset-entries": 2, "set-max-listpack-entries": 3,
                          "set-max-listpack-value": 4})
    r("SADD", "a", "1", "2")
    assert enc(engine, "a") == b"intset"
    r("SADD", "a", "3")
    assert enc(engine, "a") == b"hashtable"
    r("SADD", "b", "x", "y", "z")
    assert enc(engine, "b") == b"listpack"
    r("SADD", "b", "w")
    assert enc(engine, "b") == b"hashtable"
    r("SADD", "c", "abcde")
    assert enc(engine, "c") == b"hashtable"


def test_smove(r, engine):
    r("SADD", "a", "1", "x")
    assert r("SMOVE", "a", "b", "1") == 1
    assert enc(engine, "b") == b"intset"
    assert r("SMOVE", "a", "b", "nope") == 0
    assert r("SMOVE", "a", "a", "x") == 1
    assert r("SMOVE", "a", "a", "nope") == 0
    assert r("SMOVE", "a", "c", "x") == 1
    assert enc(engine, "c") == b"listpack"
    assert r("EXISTS", "a") == 0
    r("SET", "str", "v")
    assert r("SMOVE", "nokey", "str", "x") == 0
    assert r("SMOVE", "c", "str", "x") == WRONGTYPE
    assert r("SMOVE", "str", "c", "x") == WRONGTYPE


def test_spop(r):
    members = {str(i).encode() for i in range(20)}
    r("SADD", "s", *members)
    one = r("SPOP", "s")
    assert one in members and r("SISMEMBER", "s", one) == 0
    some = r("SPOP", "s", 5)
    assert type(some) is RespSet and len(set(some)) == 5 and one not in some
    assert r("SCARD", "s") == 14
    most = r("SPOP", "s", 12)  # few left: the set is rebuilt from the survivors
    assert len(set(most)) == 12 and r("SCARD", "s") == 2
    rest = r("SPOP", "s", 10)
    assert len(rest) == 2 and r("EXISTS", "s") == 0
    assert set(rest) | set(most) | set(some) | {one} == members
    assert r("SPOP", "s") is None
    assert r("SPOP", "s", 3) == RespSet()
    r("SADD", "s", "a")
    assert r("SPOP", "s", 0) == RespSet()
    assert r("SPOP", "s", -1) == err("ERR value is out of range, must be positive")
    assert r("SPOP", "s", "x") == err("ERR value is out of range, must be positive")
    assert r("SPOP", "s", 1, 2) == SYNTAX


def test_spop_case3_encodings(r, engine):
    r("SADD", "h", *[str(i) for i in range(600)])
    r("SPOP", "h", 590)
    assert enc(engine, "h") == b"listpack" and r("SCARD", "h") == 10
    r("SADD", "i", *[str(i) for i in range(100)])
    r("SPOP", "i", 90)
    assert enc(engine, "i") == b"intset"
    got = r("SMEMBERS", "i")
    assert got == sorted(got, key=int)


def test_srandmember(r):
    members = {str(i).encode() for i in range(10)}
    r("SADD", "s", *members)
    assert r("SRANDMEMBER", "s") in members
    got = r("SRANDMEMBER", "s", 4)
    assert len(set(got)) == 4 and set(got) <= members and type(got) is list
    got = r("SRANDMEMBER", "s", -30)
    assert len(got) == 30 and set(got) <= members
    assert sorted(r("SRANDMEMBER", "s", 100)) == sorted(members)
    assert r("SRANDMEMBER", "s", 0) == []
    assert r("SRANDMEMBER", "nokey") is None
    assert r("SRANDMEMBER", "nokey", 5) == []
    assert r("SCARD", "s") == 10
    assert r("SRANDMEMBER", "s", "x") == err("ERR value is not an integer or out of range")
    assert r("SRANDMEMBER", "s", 1, 2) == SYNTAX


def test_algebra(r):
    r("SADD", "a", "1", "2", "3", "x")
    r("SADD", "b", "2", "3", "4", "y")
    r("SADD", "c", "3", "y")
    assert r("SINTER", "a", "b") == [b"2", b"3"]
    assert r("SINTER", "a", "b", "c") == [b"3"]
    assert r("SINTER", "a", "nokey") == RespSet()
    assert sorted(r("SUNION", "a", "c")) == [b"1", b"2", b"3", b"x", b"y"]
    assert sorted(r("SDIFF", "a", "b")) == [b"1", b"x"]
    assert sorted(r("SDIFF", "a", "b", "c")) == [b"1", b"x"]
    assert r("SDIFF", "a", "a") == RespSet()
    assert r("SDIFF", "nokey", "a") == RespSet()
    assert r("SINTERSTORE", "d", "a", "b") == 2
    assert r("SMEMBERS", "d") == [b"2", b"3"]
    assert r("SUNIONSTORE", "d", "c", "b") == 4
    assert r("SMEMBERS", "d") == [b"3", b"y", b"2", b"4"]
    assert r("SDIFFSTORE", "d", "a", "b") == 2
    assert r("SMEMBERS", "d") == [b"1", b"x"]
    assert r("SINTERSTORE", "d", "a", "nokey") == 0
    assert r("EXISTS", "d") == 0
    assert r("SINTERCARD", 2, "a", "b") == 2
    assert r("SINTERCARD", 2, "a", "b", "LIMIT", 1) == 1
    assert r("SINTERCARD", 2, "a", "nokey") == 0
    assert r("SINTERCARD", 3, "a", "b") == err("ERR Number of keys can't be greater than number of args")
    assert r("SINTERCARD", 0, "a") == err("ERR numkeys should be greater than 0")
    assert r("SINTERCARD", 1, "a", "LIMIT", -1) == err("ERR LIMIT can't be negative")
    r("SET", "str", "v")
    assert r("SINTER", "nokey", "str") == WRONGTYPE
    assert r("SUNIONSTORE", "d", "a", "str") == WRONGTYPE
    assert r("SINTERSTORE", "str", "a") == 4
    assert r("SCARD", "str") == 4


def test_sscan_small_and_big(r):
    r("SADD", "s", "b", "a", "c1")
    assert r("SSCAN", "s", 0) == [b"0", [b"b", b"a", b"c1"]]
    assert r("SSCAN", "s", 0, "MATCH", "c*") == [b"0", [b"c1"]]
    assert r("SSCAN", "nokey", 0) == [b"0", []]
    assert r("SSCAN", "s", 0, "COUNT", 0) == SYNTAX
    assert r("SSCAN", "s", "x") == err("ERR invalid cursor")
    assert r("SSCAN", "s", 0, "NOVALUES") == err("ERR NOVALUES option can only be used in HSCAN")
    r("SADD", "h", *[f"m{i}" for i in range(500)])
    seen, cursor, calls = set(), b"0", 0
    while True:
        cursor, batch = r("SSCAN", "h", cursor, "COUNT", 25)
        seen.update(batch)
        calls += 1
        if cursor == b"0":
            break
    assert seen == {f"m{i}".encode() for i in range(500)} and calls > 5


def test_sscan_guarantee_under_growth(r):
    r("SADD", "h", *[f"m{i}" for i in range(200)])
    seen, cursor, n = set(), b"0", 0
    while True:
        cursor, batch = r("SSCAN", "h", cursor, "COUNT", 10)
        seen.update(batch)
        n += 1
        r("SADD", "h", *[f"grow{n}-{j}" for j in range(40)])  # the table doubles meanwhile
        if cursor == b"0":
            break
    assert {f"m{i}".encode() for i in range(200)} <= seen


def test_wrongtype(r):
    r("SET", "str", "v")
    for cmd in [("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"),
                ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"), ("SCARD", "str"),
                ("SPOP", "str"), ("SRANDMEMBER", "str"), ("SINTER", "str"), ("SSCAN", "str", 0)]:
        assert r(*cmd) == WRONGTYPE, cmd


def test_value_class(engine):
    lim = Limits(engine)
    s = SetValue.create(b"5", 2, lim)
    assert s.add(b"5", lim) and not s.add(b"5", lim)
    assert s.add(b"1", lim)
    assert s.members() == [b"1", b"5"]
    c = s.copy()
    c.add(b"z", lim)
    assert s.encoding() == b"intset" and c.encoding() == b"listpack"
    assert s.mem_usage() > 0 and b"z" in c and b"z" not in s
