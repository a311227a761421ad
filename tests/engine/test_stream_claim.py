"""XREADGROUP ... CLAIM min-idle-time (Redis 8.4): the reference Redis 8.2 lacks
it, so these follow Redis's test suite (stream-cgroups.tcl, "XREADGROUP CLAIM
...") and the redis.io XREADGROUP page, with a fake clock instead of sleeps.

Claimed entries come first, oldest delivery first, each as [id, fields, idle ms,
delivery count before this claim]; then new entries as [id, fields, 0, 0].
"""

from __future__ import annotations

import pytest

from streamlite.engine.replies import NULL_ARRAY, ErrorReply


@pytest.fixture
def s3(r):
    for i in (1, 2, 3):
        r("XADD", "s", f"{i}-0", "f", f"v{i}")
    r("XGROUP", "CREATE", "s", "g", "0")
    return r


def test_claims_idle_entries_then_new_ones(s3, clock):
    r = s3
    r("XREADGROUP", "GROUP", "g", "consumer1", "COUNT", "1", "STREAMS", "s", ">")
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">")
    assert got == [[b"s", [[b"1-0", [b"f", b"v1"], 100, 1],
                           [b"2-0", [b"f", b"v2"], 0, 0],
                           [b"3-0", [b"f", b"v3"], 0, 0]]]]
    assert r("XPENDING", "s", "g", "-", "+", "10") == [
        [b"1-0", b"consumer2", 0, 2], [b"2-0", b"consumer2", 0, 1], [b"3-0", b"consumer2", 0, 1]]


def test_threshold_count_and_empty(s3, clock):
    r = s3
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    assert r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "100", "STREAMS", "s", ">") is NULL_ARRAY
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer2", "COUNT", "2", "CLAIM", "50", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [b"1-0", b"2-0"]
    assert r("XREADGROUP", "GROUP", "g", "consumer1", "CLAIM", "9223372036854775807",
             "STREAMS", "s", ">") is NULL_ARRAY


def test_delivery_counts_accumulate(r, clock):
    r("XADD", "s", "1-0", "f", "v1")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    counts = []
    for cons in ("consumer2", "consumer3", "consumer3", "consumer3", "consumer4", "consumer5"):
        clock.advance(100)
        got = r("XREADGROUP", "GROUP", "g", cons, "CLAIM", "50", "STREAMS", "s", ">")
        counts.append(got[0][1][0][3])
    assert counts == [1, 2, 3, 4, 5, 6]


def test_noack(r, clock):
    r("XADD", "s", "1-0", "f", "v1")
    r("XADD", "s", "2-0", "f", "v2")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "consumer1", "COUNT", "1", "STREAMS", "s", ">")
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer1", "NOACK", "CLAIM", "50", "STREAMS", "s", ">")
    assert len(got[0][1]) == 2
    assert r("XPENDING", "s", "g")[0] == 1  # the claimed one stays pending; the new one is not added
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer1", "NOACK", "CLAIM", "50", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [b"1-0"]


def test_multiple_streams(r, clock):
    for k, a, b in (("a", "1-0", "2-0"), ("b", "3-0", "4-0")):
        r("XADD", k, a, "f", "v1")
        r("XADD", k, b, "f", "v2")
        r("XGROUP", "CREATE", k, "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "a", "b", ">", ">")
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "c1", "CLAIM", "50", "STREAMS", "a", "b", ">", ">")
    assert [[e[0] for e in x[1]] for x in got] == [[b"1-0", b"2-0"], [b"3-0", b"4-0"]]
    assert [[e[3] for e in x[1]] for x in got] == [[1, 0], [1, 0]]


def test_claim_order_is_oldest_delivery_first(r, clock):
    for i in range(1, 7):
        r("XADD", "s", f"{i}-0", "f", f"v{i}")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "10", "STREAMS", "s", ">")
    now = clock.ms()
    for sid, ago in (("1-0", 50000), ("2-0", 40000), ("3-0", 30000), ("4-0", 20000),
                     ("5-0", 2000), ("6-0", 1000)):
        r("XCLAIM", "s", "g", "c1", "0", sid, "TIME", str(now - ago), "JUSTID")
    # reorder delivery times so ID order and time order differ
    r("XCLAIM", "s", "g", "c1", "0", "3-0", "TIME", str(now - 60000), "JUSTID")
    got = r("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "10000", "COUNT", "10", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [b"3-0", b"1-0", b"2-0", b"4-0"]
    got = r("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "1500", "COUNT", "10", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [b"5-0"]
    got = r("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "500", "COUNT", "10", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [b"6-0"]


def test_ignored_with_explicit_id_and_option_positions(s3, clock):
    r = s3
    r("XREADGROUP", "GROUP", "g", "consumer1", "COUNT", "1", "STREAMS", "s", ">")
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer1", "CLAIM", "1000", "STREAMS", "s", "0")
    assert got == [[b"s", [[b"1-0", [b"f", b"v1"]]]]]
    clock.advance(100)
    assert r("XREADGROUP", "CLAIM", "50", "GROUP", "g", "consumer1", "COUNT", "1",
             "STREAMS", "s", ">")[0][1][0][3] == 2
    clock.advance(100)
    assert r("XREADGROUP", "GROUP", "g", "consumer1", "CLAIM", "50", "COUNT", "1", "CLAIM", "60",
             "STREAMS", "s", ">")[0][1][0][3] == 3


def test_argument_errors(s3):
    r = s3
    for v in ("test", "5.5", "5,5", "10e", "+10", "*10", "10/2", "-0", "-5.5"):
        assert r("XREADGROUP", "GROUP", "g", "c", "CLAIM", v, "STREAMS", "s", ">") == ErrorReply(
            b"ERR min-idle-time is not an integer")
    for v in ("-10", "-42"):
        assert r("XREADGROUP", "GROUP", "g", "c", "CLAIM", v, "STREAMS", "s", ">") == ErrorReply(
            b"ERR min-idle-time must be a positive integer")
    assert r("XREADGROUP", "GROUP", "g", "c", "CLAIM", "10", "CLAIM", "COUNT", "1", "STREAMS", "s", ">") == ErrorReply(
        b"ERR min-idle-time is not an integer")
    assert r("XREADGROUP", "CLAIM", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">") == ErrorReply(
        b"ERR min-idle-time is not an integer")
    assert r("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", "CLAIM", "50", ">").startswith(b"NOGROUP")
    assert r("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", "CLAIM", ">").startswith(b"ERR Unbalanced")
    assert r("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">", "CLAIM", "50").startswith(
        b"ERR Invalid stream ID")
    assert r("XREADGROUP", "GROUP", "g", "CLAIM", "50", "c", "STREAMS", "s", ">") == ErrorReply(b"ERR syntax error")
    assert r("XREADGROUP", "GROUP", "nog", "c", "CLAIM", "50", "STREAMS", "s", ">").startswith(b"NOGROUP")
    # XREAD has no CLAIM
    assert r("XREAD", "CLAIM", "5", "STREAMS", "s", "0") == ErrorReply(b"ERR syntax error")


def test_pel_changes_between_claims(s3, clock):
    r = s3
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    r("XACK", "s", "g", "1-0", "3-0")
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [b"2-0"]
    r("XACK", "s", "g", "2-0")
    clock.advance(100)
    assert r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">") is NULL_ARRAY
    # XCLAIM counts deliveries too; FORCE-created entries are claimable
    r("XGROUP", "SETID", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    clock.advance(100)
    r("XCLAIM", "s", "g", "consumer3", "50", "2-0", "3-0")
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">")
    assert [(e[0], e[3]) for e in got[0][1]] == [(b"1-0", 1), (b"2-0", 2), (b"3-0", 2)]


def test_after_setid_before_pending_entries(r, clock):
    r("XADD", "s", "1-0", "f", "v1")
    r("XADD", "s", "2-0", "f", "v2")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "0", "STREAMS", "s", ">")
    r("XGROUP", "SETID", "s", "g", "0")
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">")
    assert [(e[0], e[3]) for e in got[0][1]] == [(b"1-0", 2), (b"2-0", 2), (b"1-0", 0), (b"2-0", 0)]
    clock.advance(100)
    got = r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">")
    assert [(e[0], e[3]) for e in got[0][1]] == [(b"1-0", 1), (b"2-0", 1)]


def test_deleted_consumer_and_trimmed_entries(s3, clock):
    r = s3
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    r("XGROUP", "DELCONSUMER", "s", "g", "consumer1")
    clock.advance(100)
    assert r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">") is NULL_ARRAY
    r("XGROUP", "SETID", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    r("XTRIM", "s", "MAXLEN", "0")
    clock.advance(100)
    assert r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">") is NULL_ARRAY
    assert r("XPENDING", "s", "g")[0] == 0  # claiming dropped the dangling entries


def test_claim_propagates_as_xclaim(r, clock, engine):
    r("XADD", "s", "1-0", "f", "v1")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "consumer1", "STREAMS", "s", ">")
    engine.effects = []
    clock.advance(100)
    r("XREADGROUP", "GROUP", "g", "consumer2", "CLAIM", "50", "STREAMS", "s", ">")
    t = clock.ms()
    assert engine.effects == [(0, [b"XCLAIM", b"s", b"g", b"consumer2", b"0", b"1-0", b"TIME",
                                   str(t).encode(), b"RETRYCOUNT", b"2", b"FORCE", b"JUSTID",
                                   b"LASTID", b"1-0"])]


def test_claim_zero_idle_takes_each_pending_entry_once(r, clock):
    for i in range(1, 2501):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    r("XDEL", "s", "7-0", "2000-0")
    got = r("XREADGROUP", "GROUP", "g", "c2", "CLAIM", "0", "STREAMS", "s", ">")
    assert len(got[0][1]) == 2498
    assert r("XPENDING", "s", "g")[0] == 2498
    got = r("XREADGROUP", "GROUP", "g", "c3", "COUNT", "5", "CLAIM", "0", "STREAMS", "s", ">")
    assert [e[0] for e in got[0][1]] == [b"1-0", b"2-0", b"3-0", b"4-0", b"5-0"]
