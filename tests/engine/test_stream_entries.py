"""Engine tests for the stream entry commands (fake clock): XADD, XLEN, XRANGE,
XREVRANGE, XDEL, XDELEX, XTRIM, XSETID, XREAD, OBJECT-level value behaviour.

Scenarios follow Redis's tests/unit/type/stream.tcl (written afresh here).
"""

from __future__ import annotations

import random

from streamlite.engine.replies import NULL_ARRAY, ErrorReply
from streamlite.engine.stream.stream import Stream

T0 = 1_700_000_000_000


def ids(reply):
    return [e[0] for e in reply]


def test_xadd_auto_ids_increase_within_one_millisecond(r, clock):
    a = r("XADD", "s", "*", "item", "1")
    b = r("XADD", "s", "*", "item", "2")
    assert (a, b) == (b"%d-0" % T0, b"%d-1" % T0)
    clock.advance(1)
    assert r("XADD", "s", "*", "item", "3") == b"%d-0" % (T0 + 1)
    clock.set(T0 - 500)  # the clock went back: IDs never do
    assert r("XADD", "s", "*", "item", "4") == b"%d-1" % (T0 + 1)
    assert r("XLEN", "s") == 4


def test_xadd_partial_ids(r):
    assert r("XADD", "s", "123-456", "a", "1") == b"123-456"
    assert r("XADD", "s", "123-*", "a", "1") == b"123-457"
    assert r("XADD", "s", "789-*", "a", "1") == b"789-0"
    assert r("XADD", "s", "42-*", "a", "1").startswith(b"ERR The ID specified in XADD is equal or smaller")
    assert r("XADD", "t", "0-*", "a", "1") == b"0-1"
    r("XADD", "u", "1-18446744073709551615", "a", "b")
    assert r("XADD", "u", "1-*", "c", "d").startswith(b"ERR The ID specified in XADD is equal or smaller")


def test_xadd_overflow_and_zero_id(r):
    r("XADD", "s", "18446744073709551615-18446744073709551615", "a", "b")
    assert r("XADD", "s", "*", "c", "d") == ErrorReply(
        b"ERR The stream has exhausted the last possible ID, unable to add more items")
    assert r("XADD", "z", "0-0", "k", "v") == ErrorReply(
        b"ERR The ID specified in XADD must be greater than 0-0")
    assert r.engine.dbs[0].lookup(b"z") is None


def test_xadd_future_timestamp_then_star(r):
    r("XADD", "x", "2577343934890-18446744073709551615", "f", "v")
    assert r("XADD", "x", "*", "f2", "v2") == b"2577343934891-0"


def test_xadd_wrong_arity(r):
    for argv in (["XADD", "s"], ["XADD", "s", "*"], ["XADD", "s", "*", "field"],
                 ["XADD", "s", "*", "a", "1", "b"]):
        assert r(*argv) == ErrorReply(b"ERR wrong number of arguments for 'xadd' command")


def test_xadd_maxlen_exact_and_equal_sign(r):
    for j in range(1000):
        r("XADD", "s", "MAXLEN", "5" if j % 2 else "=", *(["5"] if j % 2 == 0 else []), f"{j + 1}-0",
          "xitem" if random.random() < 0.9 else "yitem", str(j))
    assert r("XLEN", "s") == 5
    assert [e[1][1] for e in r("XRANGE", "s", "-", "+")] == [b"995", b"996", b"997", b"998", b"999"]


def test_xadd_maxlen_approx_leaves_600(r):
    for j in range(1000):
        r("XADD", "s", "MAXLEN", "~", "555", "*", "yitem" if j % 10 == 0 else "xitem", str(j))
    assert r("XLEN", "s") == 600


def test_xadd_nomkstream(r):
    assert r("XADD", "s", "NOMKSTREAM", "*", "item", "1") is None
    assert r.engine.dbs[0].lookup(b"s") is None
    r("XADD", "s", "*", "item", "1", "value", "a")
    r("XADD", "s", "NOMKSTREAM", "*", "item", "2", "value", "b")
    assert [e[1] for e in r("XRANGE", "s", "-", "+")] == [
        [b"item", b"1", b"value", b"a"], [b"item", b"2", b"value", b"b"]]


def test_xadd_minid(r):
    for j in range(1, 1001):
        minid = 1000 if j < 5 else j - 5
        r("XADD", "s", "MINID", str(minid), str(j), "xitem", str(j))
    assert r("XLEN", "s") == 6
    assert [e[1][1] for e in r("XRANGE", "s", "-", "+")] == [str(i).encode() for i in range(995, 1001)]


def test_xadd_limit_deletes_no_more_than_limit(r):
    for _ in range(3):
        r("XADD", "s", "*", "xitem", "v")
    r("XADD", "s", "MAXLEN", "~", "0", "LIMIT", "1", "*", "xitem", "v")
    assert r("XLEN", "s") == 4


def test_xadd_limit_consecutive(r, engine):
    engine.config["stream-node-max-entries"] = 10
    for _ in range(100):
        r("XADD", "s", "*", "xitem", "v")
    r("XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "xitem", "v")
    assert r("XLEN", "s") == 71
    r("XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "xitem", "v")
    assert r("XLEN", "s") == 62


def test_xtrim_variants(r, engine):
    for j in range(1000):
        r("XADD", "s", "*", "xitem", str(j))
    assert r("XTRIM", "s", "MAXLEN", "666") == 334
    assert r("XLEN", "s") == 666
    r("XTRIM", "s", "MAXLEN", "=", "555")
    assert r("XLEN", "s") == 555
    r("XTRIM", "s", "MAXLEN", "~", "444")
    assert r("XLEN", "s") == 500
    r("XTRIM", "s", "MAXLEN", "~", "400")
    assert r("XLEN", "s") == 400
    engine.config["stream-node-max-entries"] = 1
    for _ in range(102):
        r("XADD", "t", "*", "xitem", "v")
    r("XTRIM", "t", "MAXLEN", "~", "1")  # ~ is limited to 100 nodes of work
    assert r("XLEN", "t") == 2
    r("XTRIM", "t", "MAXLEN", "1")
    assert r("XLEN", "t") == 1
    assert r("XTRIM", "t", "MAXLEN", "1", "LIMIT", "30").startswith(b"ERR syntax error, LIMIT")
    engine.config["stream-node-max-entries"] = 2
    for _ in range(3):
        r("XADD", "u", "*", "xitem", "v")
    assert r("XTRIM", "u", "MAXLEN", "~", "0", "LIMIT", "1") == 0
    assert r("XTRIM", "u", "MAXLEN", "~", "0", "LIMIT", "2") == 2


def test_xtrim_minid_big_delta_from_master(r):
    r("XADD", "s", "1-0", "f", "v")
    r("XADD", "s", "1641544570597-0", "f", "v")
    r("XADD", "s", "1641544570597-1", "f", "v")
    r("XTRIM", "s", "MINID", "1641544570597-0")
    assert ids(r("XRANGE", "s", "-", "+")) == [b"1641544570597-0", b"1641544570597-1"]


def test_xtrim_minid_equal(r):
    for i in range(1, 6):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XTRIM", "s", "MINID", "=", "3-0")
    assert ids(r("XRANGE", "s", "-", "+")) == [b"3-0", b"4-0", b"5-0"]


def test_xtrim_acked_and_delref_with_approx(r, engine):
    # newer Redis (the test suite's "XTRIM with approx and ACKED/DELREF deletes entries
    # correctly"); Redis 8.2.3 deleted nothing here
    engine.config["stream-node-max-entries"] = 2
    for i in range(1, 6):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    r("XACK", "s", "g", "1-0", "2-0", "4-0")
    assert r("XTRIM", "s", "MINID", "~", "6-0", "ACKED") == 3
    assert ids(r("XRANGE", "s", "-", "+")) == [b"3-0", b"5-0"]
    for i in range(1, 5):
        r("XADD", "t", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "t", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "t", ">")
    assert r("XTRIM", "t", "MINID", "~", "5-0", "DELREF") == 4
    assert r("XLEN", "t") == 0
    assert r("XPENDING", "t", "g") == [0, None, None, NULL_ARRAY]


def test_xadd_acked_and_delref(r):
    for i in range(1, 6):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XADD", "s", "MAXLEN", "=", "1", "ACKED", "6-0", "f", "v")
    assert r("XLEN", "s") == 6
    rec = r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">")
    r("XACK", "s", "g", rec[0][1][0][0])
    r("XADD", "s", "MAXLEN", "=", "1", "ACKED", "7-0", "f", "v")
    assert r("XLEN", "s") == 6
    rec = r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    r("XACK", "s", "g", *ids(rec[0][1]))
    r("XADD", "s", "MAXLEN", "=", "1", "ACKED", "*", "f", "v")
    assert r("XLEN", "s") == 1
    r("DEL", "x") if r.engine.lookup_command(b"del") else r.engine.dbs[0].remove(b"x")
    for i in range(1, 6):
        r("XADD", "x", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "x", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "x", ">")
    r("XADD", "x", "MAXLEN", "=", "1", "DELREF", "*", "f", "v")
    assert r("XLEN", "x") == 1
    assert r("XPENDING", "x", "g")[0] == 0


def test_xrange_count_and_iteration(r):
    for j in range(10000):
        r("XADD", "s", "*", "item", str(j), *(["otherfield", "foo"] if j % 10 == 3 else []))
    assert len(r("XRANGE", "s", "-", "+", "COUNT", "10")) == 10
    assert len(r("XREVRANGE", "s", "+", "-", "COUNT", "10")) == 10
    last = b"-"
    j = 0
    while True:
        batch = r("XRANGE", "s", last, "+", "COUNT", "100")
        if not batch:
            break
        for e in batch:
            assert e[1][:2] == [b"item", str(j).encode()]
            j += 1
        ms, seq = batch[-1][0].split(b"-")
        last = b"%s-%d" % (ms, int(seq) + 1)
    assert j == 10000
    assert r("XRANGE", "s", "-", "+") == list(reversed(r("XREVRANGE", "s", "+", "-")))


def test_xrange_fuzzing_against_a_model(r):
    rnd = random.Random(7)
    model = []
    for ms in range(1, 300):
        for _ in range(rnd.randint(0, 3)):
            seq = len([x for x in model if x[0] == ms])
            r("XADD", "s", f"{ms}-{seq}", "n", str(len(model)))
            model.append((ms, seq))
    for _ in range(100):
        a = (rnd.randint(0, 300), rnd.randint(0, 3))
        b = (rnd.randint(0, 300), rnd.randint(0, 3))
        got = r("XRANGE", "s", f"{a[0]}-{a[1]}", f"{b[0]}-{b[1]}")
        want = [b"%d-%d" % x for x in model if a <= x <= b]
        assert ids(got) == want
        got = r("XREVRANGE", "s", f"{b[0]}-{b[1]}", f"{a[0]}-{a[1]}")
        assert ids(got) == list(reversed(want))


def test_xrevrange_regression_5006(r):
    r("XADD", "teststream", "1234567891230", "key1", "value1")
    r("XADD", "teststream", "1234567891240", "key2", "value2")
    r("XADD", "teststream", "1234567891250", "key3", "value3")
    r("XADD", "teststream2", "1234567891230", "key1", "value1")
    r("XADD", "teststream2", "1234567891240", "key1", "value2")
    r("XADD", "teststream2", "1234567891250", "key1", "value3")
    assert r("XREVRANGE", "teststream", "1234567891245", "-") == [
        [b"1234567891240-0", [b"key2", b"value2"]], [b"1234567891230-0", [b"key1", b"value1"]]]
    assert r("XREVRANGE", "teststream2", "1234567891245", "-") == [
        [b"1234567891240-0", [b"key1", b"value2"]], [b"1234567891230-0", [b"key1", b"value1"]]]


def test_xrange_exclusive_ranges(r):
    all_ids = ["0-1", "0-18446744073709551615", "1-0", "42-0", "42-42",
               "18446744073709551615-18446744073709551614", "18446744073709551615-18446744073709551615"]
    for i in all_ids:
        r("XADD", "vip", i, "foo", "bar")
    n = len(all_ids)
    assert len(r("XRANGE", "vip", "-", "+")) == n
    assert len(r("XRANGE", "vip", "(" + all_ids[0], "+")) == n - 1
    assert len(r("XRANGE", "vip", "-", "(" + all_ids[-1])) == n - 1
    assert len(r("XRANGE", "vip", "(0-1", "(1-0")) == 1
    assert len(r("XRANGE", "vip", "(1-0", "(42-42")) == 1
    for bad in [("(-", "+"), ("-", "(+"), ("(18446744073709551615-18446744073709551615", "+"),
                ("-", "(0-0")]:
        assert r("XRANGE", "vip", *bad).startswith(b"ERR")


def test_xdel_basic_and_multiple(r):
    r("XADD", "s", "1-1", "a", "1")
    r("XADD", "s", "1-2", "b", "2")
    r("XADD", "s", "1-3", "c", "3")
    r("XADD", "s", "1-4", "d", "4")
    r("XADD", "s", "1-5", "e", "5")
    assert r("XDEL", "s", "1-1", "1-4", "1-5", "2-1") == 3
    assert r("XRANGE", "s", "-", "+") == [[b"1-2", [b"b", b"2"]], [b"1-3", [b"c", b"3"]]]


def test_xdel_fuzz_down_to_empty(r, engine):
    engine.config["stream-node-max-entries"] = 10
    all_ids = [r("XADD", "s", "*", "item", str(j)) for j in range(300)]
    s = engine.dbs[0].lookup(b"s")
    assert s.node_count == 30
    random.Random(3).shuffle(all_ids)
    left = 300
    for sid in all_ids:
        assert r("XDEL", "s", sid) == 1
        left -= 1
        assert r("XLEN", "s") == left
        if left % 50 == 0:
            assert len(r("XRANGE", "s", "-", "+")) == left
    assert s.node_count == 0


def test_recorded_first_entry_and_max_deleted(r):
    for i in range(1, 6):
        r("XADD", "x", f"{i}-0", "data", "a")
    info = r("XINFO", "STREAM", "x", "FULL")
    assert info[b"entries-added"] == 5 and info[b"recorded-first-entry-id"] == b"1-0"
    r("XDEL", "x", "2-0")
    assert r("XINFO", "STREAM", "x")[b"recorded-first-entry-id"] == b"1-0"
    assert r("XINFO", "STREAM", "x")[b"max-deleted-entry-id"] == b"2-0"
    r("XDEL", "x", "1-0")
    assert r("XINFO", "STREAM", "x")[b"recorded-first-entry-id"] == b"3-0"
    assert r("XINFO", "STREAM", "x")[b"max-deleted-entry-id"] == b"2-0"
    r("XTRIM", "x", "MAXLEN", "=", "2")
    info = r("XINFO", "STREAM", "x")
    assert info[b"recorded-first-entry-id"] == b"4-0"
    assert info[b"max-deleted-entry-id"] == b"2-0"  # trimming does not move it


def test_xsetid(r):
    r("XADD", "s", "MAXLEN", "0", "*", "a", "b")
    assert r("XINFO", "STREAM", "s")[b"length"] == 0
    assert r("XSETID", "s", "200-0") == b"OK"
    info = r("XINFO", "STREAM", "s")
    assert info[b"last-generated-id"] == b"200-0" and info[b"entries-added"] == 1
    r("XADD", "s", "*", "a", "b")
    assert b"smaller" in r("XSETID", "s", "1-1")
    assert r("XSETID", "nokey", "1-1") == ErrorReply(b"ERR no such key")
    assert r("XSETID", "s", "1-1", "0") == ErrorReply(b"ERR syntax error")
    assert r("XSETID", "s", "1-1", "0-0") == ErrorReply(b"ERR syntax error")
    assert r("XSETID", "s", "1-1", "ENTRIESADDED", "-1", "MAXDELETEDID", "0-0").endswith(b"must be positive")
    r.engine.dbs[0].remove(b"x")
    r("XADD", "x", "1-0", "a", "b")
    assert b"smaller" in r("XSETID", "x", "1-0", "ENTRIESADDED", "1", "MAXDELETEDID", "2-0")
    assert b"smaller" in r("XSETID", "x", "1-0", "ENTRIESADDED", "0", "MAXDELETEDID", "0-0")
    r.engine.dbs[0].remove(b"x")
    r("XADD", "x", "1-1", "a", "1")
    r("XADD", "x", "1-2", "b", "2")
    r("XADD", "x", "1-3", "c", "3")
    r("XDEL", "x", "1-2")
    r("XDEL", "x", "1-3")
    assert r("XINFO", "STREAM", "x")[b"max-deleted-entry-id"] == b"1-3"
    assert b"smaller" in r("XSETID", "x", "1-2")


def test_xread_variants(r):
    for j in range(5):
        r("XADD", "m", f"{j + 1}-0", "item", str(j))
    assert r("XREAD", "COUNT", "1", "STREAMS", "m", "0-0") == [[b"m", [[b"1-0", [b"item", b"0"]]]]]
    assert r("XREAD", "STREAMS", "s1", "s2", "0-0", "0-0") is NULL_ARRAY
    assert r("XREAD", "COUNT", "1", "STREAMS", "nostream", "m", "0-0", "0-0")[0][0] == b"m"
    assert r("XREAD", "STREAMS", "m", "+") == [[b"m", [[b"5-0", [b"item", b"4"]]]]]
    assert r("XREAD", "COUNT", "3", "STREAMS", "m", "+") == [[b"m", [[b"5-0", [b"item", b"4"]]]]]
    r("XDEL", "m", "5-0")
    assert r("XREAD", "STREAMS", "m", "+") == [[b"m", [[b"4-0", [b"item", b"3"]]]]]
    assert r("XREAD", "STREAMS", "nokey", "+") is NULL_ARRAY
    r("XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
    assert r("XREAD", "STREAMS", "empty", "+") is NULL_ARRAY
    r("XADD", "x", "1-1", "f", "v")
    r("XADD", "x", "1-18446744073709551615", "f", "v")
    r("XADD", "x", "2-1", "f", "v")
    got = r("XREAD", "BLOCK", "0", "STREAMS", "x", "1-18446744073709551615")
    assert got[0][1][0] == [b"2-1", [b"f", b"v"]]


def test_xread_resp3_map(r):
    r.client.protocol = 3
    r("XADD", "a", "1-0", "f", "v")
    r("XADD", "b", "1-0", "f", "w")
    got = r("XREAD", "STREAMS", "a", "b", "0", "0")
    assert isinstance(got, dict)
    assert list(got.items()) == [(b"a", [[b"1-0", [b"f", b"v"]]]), (b"b", [[b"1-0", [b"f", b"w"]]])]


def test_xdelex_policies(r):
    assert r("XDELEX", "nonexist", "IDS", "2", "1-1", "2-2") == [-1, -1]
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    for bad, msg in [(("abc",), b"Number of IDs must be a positive integer"),
                     (("0",), b"Number of IDs must be a positive integer"),
                     (("-5",), b"Number of IDs must be a positive integer")]:
        assert msg in r("XDELEX", "s", "IDS", *bad, "1-1")
    assert b"must match" in r("XDELEX", "s", "IDS", "3", "1-1", "2-2")
    assert r("XDELEX", "s", "IDS", "1", "1-1", "2-2") == ErrorReply(b"ERR syntax error")
    for a, b in [("KEEPREF", "DELREF"), ("KEEPREF", "ACKED"), ("ACKED", "DELREF")]:
        assert r("XDELEX", "s", a, b, "IDS", "1", "1-1") == ErrorReply(b"ERR syntax error")
    r.engine.dbs[0].remove(b"m")
    r("XADD", "m", "1-0", "f", "v")
    r("XADD", "m", "2-0", "f", "v")
    for g in ("group1", "group2", "group3"):
        r("XGROUP", "CREATE", "m", g, "0")
    r("XREADGROUP", "GROUP", "group1", "c1", "STREAMS", "m", ">")
    r("XREADGROUP", "GROUP", "group2", "c2", "STREAMS", "m", ">")
    r("XACK", "m", "group1", "1-0", "2-0")
    assert r("XDELEX", "m", "ACKED", "IDS", "2", "1-0", "2-0") == [2, 2]
    r("XACK", "m", "group2", "1-0", "2-0")
    assert r("XDELEX", "m", "ACKED", "IDS", "2", "1-0", "2-0") == [2, 2]
    r("XREADGROUP", "GROUP", "group3", "c3", "STREAMS", "m", ">")
    assert r("XDELEX", "m", "ACKED", "IDS", "2", "1-0", "2-0") == [2, 2]
    r("XACK", "m", "group3", "1-0", "2-0")
    assert r("XDELEX", "m", "ACKED", "IDS", "2", "1-0", "2-0") == [1, 1]
    assert r("XLEN", "m") == 0


def test_xdelex_keepref_and_delref(r):
    r("XADD", "m", "1-0", "f", "v")
    r("XADD", "m", "2-0", "f", "v")
    r("XGROUP", "CREATE", "m", "group1", "0")
    r("XGROUP", "CREATE", "m", "group2", "0")
    r("XREADGROUP", "GROUP", "group1", "consumer1", "STREAMS", "m", ">")
    r("XREADGROUP", "GROUP", "group2", "consumer2", "STREAMS", "m", ">")
    assert r("XDELEX", "m", "KEEPREF", "IDS", "2", "1-0", "2-0") == [1, 1]
    assert r("XPENDING", "m", "group1") == [2, b"1-0", b"2-0", [[b"consumer1", b"2"]]]
    r("XADD", "m", "3-0", "f", "v")
    r("XREADGROUP", "GROUP", "group1", "consumer1", "STREAMS", "m", ">")
    r("XREADGROUP", "GROUP", "group2", "consumer2", "STREAMS", "m", ">")
    assert r("XDELEX", "m", "DELREF", "IDS", "1", "3-0") == [1]
    assert r("XPENDING", "m", "group1")[0] == 2
    assert r("XPENDING", "m", "group2")[0] == 2


def test_value_encoding_and_memory(r, engine):
    r("XADD", "s", "*", "a", "1")
    s = engine.dbs[0].lookup(b"s")
    assert isinstance(s, Stream)
    assert s.encoding() == b"stream"
    small = s.mem_usage()
    for j in range(1000):
        r("XADD", "s", "*", "field", f"value-{j}")
    assert s.mem_usage() > small + 1000 * 10


def test_copy_duplicates_everything(r, engine):
    engine.config["stream-node-max-entries"] = 3
    for i in range(1, 9):
        r("XADD", "s", f"{i}-0", "f", str(i))
    r("XDEL", "s", "2-0")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">")
    r("XCLAIM", "s", "g", "bob", "0", "4-0", "FORCE", "JUSTID")
    r("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    assert r("COPY", "s", "t") == 1
    full = r("XINFO", "STREAM", "s", "FULL")
    assert r("XINFO", "STREAM", "t", "FULL") == full
    # independent afterwards
    r("XACK", "t", "g", "1-0")
    r("XADD", "t", "100-0", "x", "y")
    assert r("XINFO", "STREAM", "s", "FULL") == full
    assert r("XADD", "t", "IDMP", "p", "i", "*", "f", "v") == r("XADD", "s", "IDMP", "p", "i", "*", "f", "v")
    assert r("OBJECT", "ENCODING", "t") == b"stream"
