"""Sets against a real Redis 8.2: replies, errors, RESP3 set shapes, member order
where Redis's is deterministic (intset, listpack), encodings and conversions."""

from __future__ import annotations

import pytest
from tests.diff.diffutil import both_protocols, config, raw_both_protocols, same_encoding
from tests.support.diff import RedisConn, compare

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]


def test_basics_raw(redis_server):
    script = [
        ("SADD", "s", "3", "1", "2"),
        ("SADD", "s", "2", "4"),
        ("SMEMBERS", "s"),
        ("SADD", "s", "b", "a"),
        ("SMEMBERS", "s"),
        ("SCARD", "s"),
        ("SCARD", "nokey"),
        ("SISMEMBER", "s", "a"),
        ("SISMEMBER", "s", "zz"),
        ("SISMEMBER", "nokey", "a"),
        ("SMISMEMBER", "s", "a", "zz", "1"),
        ("SMISMEMBER", "nokey", "a", "b"),
        ("SREM", "s", "a", "zz", "1"),
        ("SREM", "nokey", "a"),
        ("SMEMBERS", "s"),
        ("SMEMBERS", "nokey"),
        ("SREM", "s", "2", "3", "4", "b"),
        ("SMEMBERS", "s"),
        ("SADD", "i", "-5", "10", "3", "9223372036854775807", "-9223372036854775808"),
        ("SMEMBERS", "i"),
        ("SADD", "i", "9223372036854775808", "007", "-0", "+1", " 1"),
        ("SMEMBERS", "i"),
        ("SADD", "j", "x", "1"),
        ("SMEMBERS", "j"),
    ]
    raw_both_protocols(redis_server.port, script)


def test_algebra_small_sets_exact_order(redis_server):
    """intset and listpack results iterate deterministically in Redis: same order here."""
    setup = [
        ("SADD", "a", "3", "1", "2", "10"),
        ("SADD", "b", "b", "a", "2", "1"),
        ("SADD", "c", "2", "x"),
        ("SET", "str", "v"),
    ]
    script = [
        ("SINTER", "a", "b"),
        ("SINTER", "b", "a"),
        ("SINTER", "b", "c"),
        ("SINTER", "a", "b", "c"),
        ("SINTER", "a", "nokey"),
        ("SINTER", "a", "a"),
        ("SINTER", "a", "str"),
        ("SINTER", "nokey", "str"),
        ("SINTERSTORE", "d", "a", "b"),
        ("SMEMBERS", "d"),
        ("SINTERSTORE", "d", "b", "b"),
        ("SMEMBERS", "d"),
        ("SINTERSTORE", "d", "b", "c"),
        ("SMEMBERS", "d"),
        ("SINTERSTORE", "d", "a", "nokey"),
        ("EXISTS", "d"),
        ("SUNIONSTORE", "d", "a", "b", "c"),
        ("SMEMBERS", "d"),
        ("SUNIONSTORE", "d", "c", "a"),
        ("SMEMBERS", "d"),
        ("SUNIONSTORE", "d", "nokey"),
        ("EXISTS", "d"),
        ("SDIFFSTORE", "d", "a", "b"),
        ("SMEMBERS", "d"),
        ("SDIFFSTORE", "d", "b", "a"),
        ("SMEMBERS", "d"),
        ("SDIFFSTORE", "d", "b", "a", "c", "nokey"),
        ("SMEMBERS", "d"),
        ("SDIFFSTORE", "d", "b", "b"),
        ("EXISTS", "d"),
        ("SDIFFSTORE", "d", "nokey", "a"),
        ("SDIFFSTORE", "d", "a", "str"),
        ("SUNIONSTORE", "d", "a", "str"),
        ("SINTERSTORE", "str", "a", "b"),
        ("SMEMBERS", "str"),
        ("SINTERCARD", "2", "a", "b"),
        ("SINTERCARD", "2", "a", "b", "LIMIT", "1"),
        ("SINTERCARD", "2", "a", "b", "LIMIT", "0"),
        ("SINTERCARD", "1", "a", "LIMIT", "2"),
        ("SINTERCARD", "2", "a", "nokey"),
        ("SINTERCARD", "3", "a", "b"),
        ("SINTERCARD", "0", "a"),
        ("SINTERCARD", "x", "a"),
        ("SINTERCARD", "1", "a", "LIMIT", "-1"),
        ("SINTERCARD", "1", "a", "LIMIT", "x"),
        ("SINTERCARD", "1", "a", "LIMIT"),
        ("SINTERCARD", "1", "a", "FOO", "1"),
        ("SINTERCARD", "1", "str"),
    ]
    raw_both_protocols(redis_server.port, script, setup)


def test_union_diff_replies_as_sets(redis_server):
    """SUNION/SDIFF reply in Redis's hash order: compare them as sets."""
    for proto in (2, 3):
        r = RedisConn(redis_server.port, protocol=proto)
        from tests.support.diff import EngineConn

        e = EngineConn(protocol=proto)
        r.call("FLUSHALL")
        setup = [("SADD", "a", "3", "1", "2", "10"), ("SADD", "b", "b", "a", "2", "1"),
                 ("SADD", "c", *[f"m{i}" for i in range(200)]), ("SET", "str", "v")]
        compare(r, e, setup)
        for cmd in [("SUNION", "a", "b"), ("SUNION", "a", "b", "c"), ("SDIFF", "a", "b"),
                    ("SDIFF", "b", "a"), ("SDIFF", "c", "a", "b"), ("SDIFF", "nokey", "a"),
                    ("SUNION", "nokey"), ("SDIFF", "a", "a"), ("SINTER", "c", "c")]:
            assert sorted(r.call(*cmd)) == sorted(e.call(*cmd)), cmd
        compare(r, e, [("SUNION", "a", "str"), ("SDIFF", "str", "a"), ("SDIFF", "a", "str"),
                       ("SUNION", "str")])
        r.close()


def test_smove(redis_server):
    script = [
        ("SADD", "a", "1", "2", "x"),
        ("SMOVE", "a", "b", "1"),
        ("SMOVE", "a", "b", "zz"),
        ("SMOVE", "a", "a", "2"),
        ("SMOVE", "a", "a", "zz"),
        ("SMEMBERS", "a"),
        ("SMEMBERS", "b"),
        ("SMOVE", "a", "n", "x"),
        ("SMEMBERS", "n"),
        ("SMOVE", "a", "b", "2"),
        ("EXISTS", "a"),
        ("SMOVE", "a", "b", "2"),
        ("SET", "str", "v"),
        ("SMOVE", "nokey", "str", "1"),
        ("SMOVE", "b", "str", "1"),
        ("SMOVE", "str", "b", "1"),
        ("SMOVE", "b", "b", "1"),
        ("SADD", "c", "1"),
        ("SMOVE", "b", "c", "1"),
        ("SMEMBERS", "c"),
        ("SMEMBERS", "b"),
    ]
    raw_both_protocols(redis_server.port, script)


def test_random_commands_shapes_and_errors(redis_server):
    script = [
        ("SPOP", "nokey"),
        ("SPOP", "nokey", "1"),
        ("SPOP", "nokey", "0"),
        ("SPOP", "nokey", "-1"),
        ("SPOP", "nokey", "x"),
        ("SPOP", "nokey", "1", "2"),
        ("SRANDMEMBER", "nokey"),
        ("SRANDMEMBER", "nokey", "3"),
        ("SRANDMEMBER", "nokey", "-3"),
        ("SRANDMEMBER", "nokey", "x"),
        ("SRANDMEMBER", "nokey", "1", "2"),
        ("SRANDMEMBER", "nokey", "-9223372036854775808"),
        ("SADD", "one", "only"),
        ("SRANDMEMBER", "one"),
        ("SRANDMEMBER", "one", "5"),
        ("SRANDMEMBER", "one", "-3"),
        ("SRANDMEMBER", "one", "0"),
        ("SPOP", "one", "0"),
        ("SPOP", "one", "5"),
        ("EXISTS", "one"),
        ("SADD", "one", "7"),
        ("SPOP", "one"),
        ("EXISTS", "one"),
        ("SADD", "two", "a", "b"),
        ("SPOP", "two", "-1"),
        ("SPOP", "two", "x"),
        ("SRANDMEMBER", "two", "2"),
        ("SRANDMEMBER", "two", "10"),
        ("SET", "str", "v"),
        ("SPOP", "str"),
        ("SPOP", "str", "1"),
        ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", "1"),
        ("SPOP", "str", "x"),
        ("SRANDMEMBER", "str", "x"),
    ]
    raw_both_protocols(redis_server.port, script)


@pytest.mark.parametrize("proto", [2, 3])
def test_random_results_by_properties(redis_server, proto):
    from tests.support.diff import EngineConn

    r = RedisConn(redis_server.port, protocol=proto)
    e = EngineConn(protocol=proto)
    r.call("FLUSHALL")
    members = [str(i) for i in range(50)] + [f"m{i}" for i in range(30)]
    for conn in (r, e):
        conn.call("SADD", "s", *members)
    full = set(m.encode() for m in members)
    for conn in (r, e):
        one = conn.call("SRANDMEMBER", "s")
        assert one in full
        pos = conn.call("SRANDMEMBER", "s", "10")
        assert len(pos) == 10 and len(set(pos)) == 10 and set(pos) <= full
        neg = conn.call("SRANDMEMBER", "s", "-200")
        assert len(neg) == 200 and set(neg) <= full
        assert sorted(conn.call("SRANDMEMBER", "s", "1000")) == sorted(full)
        popped = conn.call("SPOP", "s", "5")
        assert len(popped) == 5 and set(popped) <= full
        rest = set(conn.call("SMEMBERS", "s"))
        assert rest == full - set(popped)
        p1 = conn.call("SPOP", "s")
        assert p1 in rest and conn.call("SISMEMBER", "s", p1) == 0
        big = conn.call("SPOP", "s", "70")  # most of the set: Redis's "case 3"
        assert len(big) == 70 and conn.call("SCARD", "s") == 4
        tail = conn.call("SPOP", "s", "10")
        assert len(tail) == 4 and conn.call("EXISTS", "s") == 0
    r.close()


def test_sscan(redis_server):
    setup = [("SADD", "i", "5", "1", "3"), ("SADD", "l", "b", "a", "c1", "c2")]
    script = [
        ("SSCAN", "i", "0"),
        ("SSCAN", "l", "0"),
        ("SSCAN", "l", "0", "MATCH", "c*"),
        ("SSCAN", "l", "0", "MATCH", "*", "COUNT", "1"),
        ("SSCAN", "l", "0", "COUNT", "0"),
        ("SSCAN", "l", "0", "COUNT", "x"),
        ("SSCAN", "l", "0", "COUNT"),
        ("SSCAN", "l", "0", "NOVALUES"),
        ("SSCAN", "l", "0", "TYPE", "set"),
        ("SSCAN", "l", "x"),
        ("SSCAN", "l", "-1"),
        ("SSCAN", "l", " 7"),
        ("SSCAN", "l", "+7"),
        ("SSCAN", "l", "18446744073709551615"),
        ("SSCAN", "l", "18446744073709551616"),
        ("SSCAN", "nokey", "0"),
        ("SSCAN", "nokey", "0", "COUNT", "0"),
        ("SSCAN", "nokey", "x"),
        ("SET", "str", "v"),
        ("SSCAN", "str", "0"),
    ]
    raw_both_protocols(redis_server.port, script, setup)


def test_sscan_hashtable_walks_everything(redis_conn, engine_conn):
    members = [f"m{i}" for i in range(300)]
    for conn in (redis_conn, engine_conn):
        conn.call("SADD", "h", *members)
        seen: set[bytes] = set()
        cursor = b"0"
        rounds = 0
        while True:
            cursor, batch = conn.call("SSCAN", "h", cursor, "COUNT", "20")
            seen.update(batch)
            rounds += 1
            if cursor == b"0":
                break
            # changes between calls keep the guarantee for members present throughout
            conn.call("SADD", "h", f"new{rounds}")
            conn.call("SREM", "h", f"m{299 - rounds}")
        assert {m.encode() for m in members[: 300 - rounds - 1]} <= seen
        assert rounds > 3
        cursor, batch = conn.call("SSCAN", "h", "0", "MATCH", "m1?", "COUNT", "1000")
        assert cursor == b"0" and sorted(batch) == sorted(f"m{i}".encode() for i in range(10, 20))


def test_encodings(redis_conn, engine_conn):
    r, e = redis_conn, engine_conn
    cases = [
        ("SADD", "i", "1", "2", "3"),
        ("SADD", "lp", "a", "1"),
        ("SADD", "big", *[str(i) for i in range(200)]),
        ("SADD", "big2", *["x"] * 200),
        ("SADD", "big3", *[str(i) for i in range(600)]),
        ("SADD", "big4", *["1"] * 600),
        ("SADD", "u", "a" * 65),
        ("SADD", "u2", "1", "a" * 65),
        ("SADD", "u3", "1", "2"),
        ("SADD", "u3", "a" * 65),
        ("SADD", "u4", "-5", "10", "3"),
        ("SADD", "u4", "z", "-7"),
        ("SMEMBERS", "u4"),
        ("SADD", "g", *[f"k{i}" for i in range(128)]),
        ("SADD", "g2", *[f"k{i}" for i in range(129)]),
        ("SADD", "g3", "a"),
        ("SADD", "g3", *[f"k{i}" for i in range(129)]),
        ("SADD", "g4", "1"),
        ("SADD", "g4", *["5"] * 513),
        ("SADD", "g5", *[str(i) for i in range(127)]),
        ("SADD", "g5", "x"),
        ("SADD", "g6", *[str(i) for i in range(128)]),
        ("SADD", "g6", "x"),
    ]
    compare(r, e, cases)
    same_encoding(r, e, "i", "lp", "big", "big2", "big3", "big4", "u", "u2", "u3", "u4", "g", "g2",
                  "g3", "g4", "g5", "g6")
    compare(r, e, [("SMEMBERS", "g5")])
    compare(r, e, [("SINTERSTORE", "d1", "big", "big"), ("SUNIONSTORE", "d2", "g", "i"),
                   ("SDIFFSTORE", "d3", "big3", "i"), ("SMOVE", "lp", "d4", "a"),
                   ("SMOVE", "i", "d5", "1")])
    same_encoding(r, e, "d1", "d2", "d3", "d4", "d5")
    # SPOP with a count that leaves few members rebuilds the set (Redis's case 3)
    for conn in (r, e):
        conn.call("SADD", "p3", *[str(i) for i in range(600)])
        conn.call("SPOP", "p3", "590")
        conn.call("SADD", "p5", *[str(i) for i in range(200)], "x")
        conn.call("SPOP", "p5", "150")
        conn.call("SADD", "p6", *[str(i) for i in range(100)], "x")
        conn.call("SPOP", "p6", "90")
        conn.call("SADD", "p7", *[str(i) for i in range(100)])
        conn.call("SPOP", "p7", "90")
    same_encoding(r, e, "p3", "p5", "p6", "p7")


def test_encodings_with_small_thresholds(redis_conn, engine_conn):
    r, e = redis_conn, engine_conn
    with config(r, e, set_max_intset_entries=4, set_max_listpack_entries=3,
                set_max_listpack_value=5):
        script = [
            ("SADD", "a", "1", "2"),
            ("SADD", "b", "1", "2", "3", "4", "5"),
            ("SADD", "c", "x", "y"),
            ("SADD", "c", "z"),
            ("SADD", "d", "x", "y", "z", "w"),
            ("SADD", "e", "1", "2"),
            ("SADD", "e", "abcdef"),
            ("SADD", "f", "1", "2", "3"),
            ("SADD", "f", "x"),
            ("SADD", "g", "123456", "1"),
            ("SADD", "g", "x"),
        ]
        compare(r, e, script)
        same_encoding(r, e, *"abcdefg")
        compare(r, e, [("SADD", "c", "w"), ("SADD", "a", "3", "4"), ("SADD", "a", "5")])
        same_encoding(r, e, "a", "c")


def test_wrongtype_and_arity(redis_server):
    script = [
        ("SET", "str", "v"),
        ("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"), ("SISMEMBER", "str", "a"),
        ("SMISMEMBER", "str", "a"), ("SCARD", "str"), ("SINTER", "str"), ("SUNION", "str"),
        ("SDIFF", "str"), ("SSCAN", "str", "0"),
        ("SADD", "s"), ("SREM", "s"), ("SMEMBERS",), ("SISMEMBER", "s"), ("SMISMEMBER", "s"),
        ("SCARD",), ("SPOP",), ("SRANDMEMBER",), ("SMOVE", "a", "b"), ("SINTER",),
        ("SINTERCARD", "1"), ("SUNION",), ("SDIFF",), ("SINTERSTORE", "d"), ("SUNIONSTORE", "d"),
        ("SDIFFSTORE", "d"), ("SSCAN", "s"),
    ]
    both_protocols(redis_server.port, script)
