"""Idempotent XADD (IDMP / IDMPAUTO) and XCFGSET: Redis 8.6 features that the
Redis 8.2 reference server lacks, so they are tested against the behaviour in
Redis's own test suite (tests/unit/type/stream.tcl, recent) and the redis.io
XADD/XCFGSET/XINFO STREAM pages, with a fake clock for the durations.
"""

from __future__ import annotations

import re

from streamlite.engine.replies import ErrorReply

ID = re.compile(rb"^\d+-\d+$")


def info(r, key="s"):
    return r("XINFO", "STREAM", key)


def test_syntax_errors(r):
    assert r("XADD", "s", "IDMP", "p1", "*", "f", "v") == ErrorReply(
        b"ERR Invalid stream ID specified as stream command argument")
    assert r("XADD", "s", "IDMP", "p1", "iid1", "1-1", "f", "v") == ErrorReply(
        b"ERR IDMP/IDMPAUTO can be used only with auto-generated IDs")
    assert r("XADD", "s", "IDMPAUTO", "p1", "1-1", "f", "v") == ErrorReply(
        b"ERR IDMP/IDMPAUTO can be used only with auto-generated IDs")
    for argv in (["IDMP", "p1", "iid1", "IDMP", "p2", "iid2"], ["IDMPAUTO", "p1", "IDMP", "p2", "iid2"],
                 ["IDMPAUTO", "p1", "IDMPAUTO", "p2"], ["IDMP", "p1", "iid1", "IDMPAUTO", "p2"]):
        assert r("XADD", "s", *argv, "*", "f", "v") == ErrorReply(b"ERR IDMP/IDMPAUTO specified multiple times")
    assert r("XADD", "s", "IDMP", "", "iid1", "*", "f", "v") == ErrorReply(
        b"ERR IDMP requires a non-empty producer ID")
    assert r("XADD", "s", "IDMP", "p1", "", "*", "f", "v") == ErrorReply(
        b"ERR IDMP requires a non-empty idempotent ID")
    assert r("XADD", "s", "IDMPAUTO", "", "*", "f", "v") == ErrorReply(
        b"ERR IDMPAUTO requires a non-empty producer ID")
    assert r.engine.dbs[0].lookup(b"s") is None


def test_any_iid_text_is_accepted(r):
    iids = ["1", "A", "-", "+", "*", "^", "$", "#", "@", "?", "\\", "IDMP", "123-456",
            "hello世界", "line1\nline2", "with spaces", "x" * 1000, "\x00\x01\x02\xff"]
    for iid in iids:
        assert ID.match(r("XADD", "s", "IDMP", "p1", iid, "*", "f", "v"))
    assert r("XLEN", "s") == len(iids)


def test_duplicate_returns_the_first_id_and_keeps_its_fields(r):
    id1 = r("XADD", "s", "IDMP", "p1", "payment-abc", "*", "amount", "100", "currency", "USD")
    id2 = r("XADD", "s", "IDMP", "p1", "payment-abc", "*", "amount", "200", "currency", "EUR")
    assert id1 == id2
    assert r("XRANGE", "s", "-", "+") == [[id1, [b"amount", b"100", b"currency", b"USD"]]]
    a = r("XADD", "s", "IDMP", "p1", "req-1", "*", "user", "alice")
    b = r("XADD", "s", "IDMP", "p1", "req-2", "*", "user", "bob")
    assert len({id1, a, b}) == 3 and r("XLEN", "s") == 3


def test_with_other_options(r):
    id1 = r("XADD", "s", "IDMP", "p1", "req-1", "MAXLEN", "~", "100", "*", "field", "value1")
    r("XADD", "s", "IDMP", "p1", "req-2", "MAXLEN", "~", "100", "*", "field", "value2")
    assert r("XADD", "s", "IDMP", "p1", "req-1", "MAXLEN", "~", "100", "*", "field", "value3") == id1
    assert r("XLEN", "s") == 2
    assert r("XADD", "n", "NOMKSTREAM", "IDMP", "p1", "req-1", "*", "f", "v") is None
    assert r("XADD", "n", "NOMKSTREAM", "IDMPAUTO", "p1", "*", "f", "v") is None
    k1 = r("XADD", "k", "IDMP", "p1", "req-1", "KEEPREF", "MAXLEN", "~", "1000", "LIMIT", "10", "*",
           "field1", "value1", "field2", "value2")
    assert r("XADD", "k", "IDMP", "p1", "req-1", "KEEPREF", "MAXLEN", "~", "1000", "LIMIT", "10", "*",
             "field3", "value3") == k1
    assert r("XRANGE", "k", "-", "+")[0][1] == [b"field1", b"value1", b"field2", b"value2"]
    r("XADD", "o", "MAXLEN", "~", "100", "IDMP", "p1", "req-2", "*", "field", "value2")
    r("XADD", "o", "NOMKSTREAM", "IDMP", "p1", "req-3", "MAXLEN", "~", "100", "*", "field", "value3")
    r("XADD", "o", "KEEPREF", "IDMPAUTO", "p1", "*", "field", "test4")
    r("XADD", "o", "IDMPAUTO", "p1", "KEEPREF", "*", "field", "test5")
    assert r("XLEN", "o") == 4


def test_producers_have_separate_namespaces_and_limits(r):
    a = r("XADD", "s", "IDMP", "producer1", "req-123", "*", "field", "from-p1")
    b = r("XADD", "s", "IDMP", "producer2", "req-123", "*", "field", "from-p2")
    assert a != b
    assert r("XADD", "s", "IDMP", "producer1", "req-123", "*", "field", "dup") == a
    assert r("XADD", "s", "IDMP", "producer2", "req-123", "*", "field", "dup") == b
    r.engine.dbs[0].remove(b"s")
    r("XADD", "s", "IDMP", "p1", "init", "*", "field", "init")
    assert r("XCFGSET", "s", "IDMP-MAXSIZE", "3", "IDMP-DURATION", "60") == b"OK"
    p1 = [r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", "v") for i in (1, 2, 3)]
    p2 = [r("XADD", "s", "IDMP", "p2", f"req-{i}", "*", "f", "v") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        assert r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", "dup") == p1[i - 1]
        assert r("XADD", "s", "IDMP", "p2", f"req-{i}", "*", "f", "dup") == p2[i - 1]
    assert info(r)[b"pids-tracked"] == 2


def test_idmpauto_hashes_the_field_value_pairs(r):
    a = r("XADD", "s", "IDMPAUTO", "p1", "*", "field1", "a", "field2", "b", "field3", "c")
    assert r("XADD", "s", "IDMPAUTO", "p1", "*", "field2", "b", "field3", "c", "field1", "a") == a
    assert r("XADD", "s", "IDMPAUTO", "p1", "*", "field3", "c", "field1", "x", "field2", "b") != a
    assert r("XLEN", "s") == 2
    assert r("XADD", "t", "IDMPAUTO", "p1", "*", "field1", "value") != r(
        "XADD", "t", "IDMPAUTO", "p1", "*", "field2", "value")
    e1 = r("XADD", "u", "IDMPAUTO", "p1", "*", "field", "")
    assert r("XADD", "u", "IDMPAUTO", "p1", "*", "field", "") == e1
    assert r("XADD", "u", "IDMPAUTO", "p2", "*", "field", "") != e1
    r("XADD", "v", "*", "initial", "value")
    r("XGROUP", "CREATE", "v", "g", "0")
    x = r("XADD", "v", "IDMPAUTO", "p1", "*", "event", "login", "user", "alice")
    r("XADD", "v", "IDMPAUTO", "p1", "*", "event", "logout", "user", "bob")
    assert r("XADD", "v", "IDMPAUTO", "p1", "*", "event", "login", "user", "alice") == x
    assert len(r("XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "STREAMS", "v", ">")[0][1]) == 3


def test_iids_expire_after_duration(r, clock):
    r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "value1")
    r("XCFGSET", "s", "IDMP-DURATION", "1")
    a = r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "value1")
    clock.advance(999)
    assert r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "value2") == a
    clock.advance(1)
    assert r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "value3") != a


def test_maxsize_evicts_oldest(r):
    r("XADD", "s", "IDMP", "p1", "init", "*", "field", "init")
    r("XCFGSET", "s", "IDMP-MAXSIZE", "3", "IDMP-DURATION", "60")
    ids = [r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", "v") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        assert r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", "dup") == ids[i - 1]
    r("XADD", "s", "IDMP", "p1", "req-4", "*", "f", "v4")
    assert r("XADD", "s", "IDMP", "p1", "req-1", "*", "f", "new") != ids[0]
    assert r("XADD", "s", "IDMP", "p1", "req-3", "*", "f", "dup2") == ids[2]
    assert r("XLEN", "s") == 6
    r.engine.dbs[0].remove(b"s")
    r("XADD", "s", "IDMP", "p1", "init", "*", "field", "init")
    r("XCFGSET", "s", "IDMP-MAXSIZE", "8", "IDMP-DURATION", "60")
    got = [r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", f"v{i}") for i in range(1, 101)]
    for i in range(93, 101):
        assert r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", "dup") == got[i - 1]
    for i in range(1, 93):
        assert r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", "new") != got[i - 1]
    assert r("XLEN", "s") == 193


def test_xcfgset_validation(r):
    assert r("XCFGSET", "s", "IDMP-DURATION", "5") == ErrorReply(b"ERR no such key")
    r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "value")
    assert r("XCFGSET", "s") == ErrorReply(b"ERR At least one parameter must be specified")
    for argv in (["IDMP-DURATION"], ["IDMP-MAXSIZE"], ["INVALID"]):
        assert r("XCFGSET", "s", *argv) == ErrorReply(b"ERR syntax error")
    for v in ("A", "*", "-", "+", "120-5", "3.14", "000000000", "IDMP-DURATION"):
        assert r("XCFGSET", "s", "IDMP-DURATION", v) == ErrorReply(b"ERR value is not an integer or out of range")
        assert r("XCFGSET", "s", "IDMP-MAXSIZE", v) == ErrorReply(b"ERR value is not an integer or out of range")
    assert r("XCFGSET", "s", "IDMP-DURATION", "INVALID", "IDMP-MAXSIZE").startswith(b"ERR value is not an integer")
    for v in ("0", "-100", "86401"):
        assert r("XCFGSET", "s", "IDMP-DURATION", v).startswith(b"ERR IDMP-DURATION must be between")
    for v in ("0", "-50", "10001"):
        assert r("XCFGSET", "s", "IDMP-MAXSIZE", v).startswith(b"ERR IDMP-MAXSIZE must be between")
    assert r("XCFGSET", "s", "IDMP-DURATION", "86400", "IDMP-MAXSIZE", "10000") == b"OK"
    assert (info(r)[b"idmp-duration"], info(r)[b"idmp-maxsize"]) == (86400, 10000)
    r("XCFGSET", "s", "IDMP-DURATION", "1")
    r("XCFGSET", "s", "IDMP-MAXSIZE", "1")
    assert (info(r)[b"idmp-duration"], info(r)[b"idmp-maxsize"]) == (1, 1)


def test_xcfgset_clears_history_only_when_settings_change(r):
    a = r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "value1")
    r("XADD", "s", "IDMP", "p2", "req-1", "*", "field", "value2")
    r("XCFGSET", "s", "IDMP-DURATION", "100", "IDMP-MAXSIZE", "100")  # the defaults: no change
    assert r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "dup") == a
    assert (info(r)[b"pids-tracked"], info(r)[b"iids-tracked"]) == (2, 2)
    r("XCFGSET", "s", "IDMP-DURATION", "50")
    st = info(r)
    assert (st[b"pids-tracked"], st[b"iids-tracked"], st[b"iids-added"], st[b"iids-duplicates"]) == (0, 0, 2, 1)
    b = r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "new")
    assert b != a
    assert r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "dup") == b
    assert r("XRANGE", "s", a, a)[0][1] == [b"field", b"value1"]  # entries untouched


def test_xinfo_idmp_fields(r, engine):
    r("XADD", "s", "*", "field", "value")
    st = info(r)
    assert [k for k in st][7:13] == [b"idmp-duration", b"idmp-maxsize", b"pids-tracked",
                                     b"iids-tracked", b"iids-added", b"iids-duplicates"]
    assert (st[b"idmp-duration"], st[b"idmp-maxsize"], st[b"iids-tracked"], st[b"iids-added"]) == (100, 100, 0, 0)
    engine.config["stream-idmp-duration"] = 300
    engine.config["stream-idmp-maxsize"] = 50
    r("XADD", "t", "IDMP", "p1", "req-1", "*", "f", "v")
    assert (info(r, "t")[b"idmp-duration"], info(r, "t")[b"idmp-maxsize"]) == (300, 50)
    r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "v1")
    r("XADD", "s", "IDMP", "p1", "req-2", "*", "field", "v2")
    r("XADD", "s", "IDMP", "p1", "req-1", "*", "field", "dup")
    r("XADD", "s", "IDMP", "p2", "req-1", "*", "field", "v3")
    st = info(r)
    assert (st[b"pids-tracked"], st[b"iids-tracked"], st[b"iids-added"], st[b"iids-duplicates"]) == (2, 3, 3, 1)
    full = r("XINFO", "STREAM", "s", "FULL")
    assert (full[b"pids-tracked"], full[b"iids-added"]) == (2, 3)


def test_iids_added_is_a_lifetime_counter(r):
    r("XADD", "s", "IDMP", "p1", "init", "*", "field", "init")
    r("XCFGSET", "s", "IDMP-MAXSIZE", "3")
    for i in (1, 2, 3):
        r("XADD", "s", "IDMP", "p1", f"req-{i}", "*", "f", "v")
    assert (info(r)[b"iids-tracked"], info(r)[b"iids-added"]) == (3, 4)
    r("XADD", "s", "IDMP", "p1", "req-4", "*", "f", "v")
    r("XADD", "s", "IDMP", "p1", "req-5", "*", "f", "v")
    assert (info(r)[b"iids-tracked"], info(r)[b"iids-added"]) == (3, 6)
