"""Engine tests for consumer groups with a fake clock: delivery counts and times,
idle filters, XCLAIM/XAUTOCLAIM options, consumer seen/active times, lag and
entries-read. Scenarios follow Redis's tests/unit/type/stream-cgroups.tcl
(written afresh)."""

from __future__ import annotations

from streamlite.engine.replies import NULL_ARRAY, ErrorReply

T0 = 1_700_000_000_000


def ids(entries):
    return [e[0] for e in entries]


def info_group(r, key, i=0):
    return r("XINFO", "STREAM", key, "FULL")[b"groups"][i]


def test_create_busygroup_and_entriesread(r):
    r("XADD", "s", "*", "foo", "bar")
    r("XGROUP", "CREATE", "s", "g", "$")
    assert r("XGROUP", "CREATE", "s", "g", "$") == ErrorReply(b"BUSYGROUP Consumer Group name already exists")
    r("XADD", "m", "1-1", "a", "1")
    r("XADD", "m", "1-2", "b", "2")
    r("XADD", "m", "1-3", "c", "3")
    r("XADD", "m", "1-4", "d", "4")
    assert b"ENTRIESREAD must be positive or -1" in r("XGROUP", "CREATE", "m", "g", "$", "ENTRIESREAD", "-3")
    r("XGROUP", "CREATE", "m", "g1", "$", "ENTRIESREAD", "0")
    r("XGROUP", "CREATE", "m", "g2", "$", "ENTRIESREAD", "3")
    groups = {g[b"name"]: g[b"entries-read"] for g in r("XINFO", "GROUPS", "m")}
    assert groups == {b"g1": 0, b"g2": 3}
    assert r("XGROUP", "CREATE", "nokey", "g", "$").startswith(b"ERR The XGROUP subcommand requires")
    assert r("XGROUP", "CREATE", "nokey", "g", "$", "MKSTREAM") == b"OK"
    r("XADD", "cap", "*", "field", "value")
    r("XGROUP", "CREATE", "cap", "g", "$", "ENTRIESREAD", "9999")
    assert (info_group(r, "cap")[b"entries-read"], info_group(r, "cap")[b"lag"]) == (1, 0)
    r("XGROUP", "SETID", "cap", "g", "$", "ENTRIESREAD", "9999")
    assert info_group(r, "cap")[b"entries-read"] == 1


def test_only_new_elements_then_history(r):
    r("XADD", "s", "*", "foo", "bar")
    r("XGROUP", "CREATE", "s", "g", "$")
    r("XADD", "s", "*", "a", "1")
    r("XADD", "s", "*", "b", "2")
    assert r("XPENDING", "s", "g") == [0, None, None, NULL_ARRAY]
    assert r("XPENDING", "s", "g", "-", "+", "10") == []
    got = r("XREADGROUP", "GROUP", "g", "consumer-1", "STREAMS", "s", ">")
    assert [e[1] for e in got[0][1]] == [[b"a", b"1"], [b"b", b"2"]]
    r("XADD", "s", "*", "c", "3")
    r("XADD", "s", "*", "d", "4")
    got = r("XREADGROUP", "GROUP", "g", "consumer-2", "STREAMS", "s", ">")
    assert got[0][1][0][1] == [b"c", b"3"]
    assert r("XREADGROUP", "GROUP", "g", "consumer-1", "COUNT", "10", "STREAMS", "s", "0")[0][1][0][1] == [b"a", b"1"]
    assert r("XREADGROUP", "GROUP", "g", "consumer-2", "COUNT", "10", "STREAMS", "s", "0")[0][1][0][1] == [b"c", b"3"]
    pending = r("XPENDING", "s", "g", "-", "+", "10")
    assert [p[1] for p in pending] == [b"consumer-1"] * 2 + [b"consumer-2"] * 2
    assert len(r("XPENDING", "s", "g", "-", "+", "10", "consumer-1")) == 2
    first, last = pending[0][0], pending[3][0]
    assert len(r("XPENDING", "s", "g", b"(" + first, b"(" + last, "10")) == 2


def test_xpending_idle_and_delivery_counts(r, clock):
    for i in range(1, 4):
        r("XADD", "s", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">")
    clock.advance(30)
    r("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">")
    clock.advance(20)
    assert r("XPENDING", "s", "g", "-", "+", "10") == [
        [b"1-0", b"c1", 50, 1], [b"2-0", b"c1", 50, 1], [b"3-0", b"c2", 20, 1]]
    assert ids(r("XPENDING", "s", "g", "IDLE", "21", "-", "+", "10")) == [b"1-0", b"2-0"]
    assert ids(r("XPENDING", "s", "g", "IDLE", "20", "-", "+", "10")) == [b"1-0", b"2-0", b"3-0"]
    assert r("XPENDING", "s", "g", "IDLE", "99999999", "-", "+", "10") == []
    assert ids(r("XPENDING", "s", "g", "IDLE", "1", "-", "+", "1", "c2")) == [b"3-0"]
    # a history read re-delivers: time and count change
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")
    assert r("XPENDING", "s", "g", "-", "+", "2") == [[b"1-0", b"c1", 0, 2], [b"2-0", b"c1", 0, 2]]
    assert r("XPENDING", "s", "g", "-", "+", "0") == []
    assert r("XPENDING", "s", "g", "-", "+", "-3") == []


def test_xack(r):
    r("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    for i in range(1, 4):
        r("XADD", "s", f"{i}-0", "f", str(i))
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert r("XACK", "s", "g", "1-0") == 1
    assert r("XACK", "s", "g", "1-0") == 0
    assert r("XACK", "s", "g", "1-0", "2-0") == 1
    assert r("XACK", "s", "g", "3-0", "invalid-id") == ErrorReply(
        b"ERR Invalid stream ID specified as stream command argument")
    assert r("XACK", "s", "g", "3-0") == 1
    assert r("XACK", "nokey", "g", "junk") == 0


def test_pel_reassignment_after_setid(r):
    for _ in range(4):
        r("XADD", "events", "*", "f1", "v1")
    r("XGROUP", "CREATE", "events", "g1", "$")
    r("XADD", "events", "*", "f1", "v1")
    assert len(r("XREADGROUP", "GROUP", "g1", "c1", "STREAMS", "events", ">")[0][1]) == 1
    r("XGROUP", "SETID", "events", "g1", "-")
    assert len(r("XREADGROUP", "GROUP", "g1", "c2", "STREAMS", "events", ">")[0][1]) == 5
    assert r("XPENDING", "events", "g1")[3] == [[b"c2", b"5"]]


def test_empty_history_and_deleted_history_entries(r):
    for x in "abc":
        r("XADD", "events", "*", x, "1")
    r("XGROUP", "CREATE", "events", "g", "0")
    assert r("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "events", "0") == [[b"events", []]]
    assert len(r("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "events", ">")[0][1]) == 3
    assert len(r("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "events", "0")[0][1]) == 3
    r("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM")
    r("XADD", "m", "1", "field1", "A")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "m", ">")
    r("XADD", "m", "MAXLEN", "1", "2", "field1", "B")
    r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "m", ">")
    got = r("XREADGROUP", "GROUP", "g", "c", "STREAMS", "m", "0-1")
    assert got == [[b"m", [[b"1-0", NULL_ARRAY], [b"2-0", [b"field1", b"B"]]]]]


def test_history_read_ignores_block_and_depends_on_pel(r):
    r("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM")
    r("XADD", "m", "666", "key", "value")
    r("XDEL", "m", "666")
    for i in ("0", "600", "666", "700"):
        assert r("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "m", i) == [[b"m", []]]
    r("XADD", "m", "667", "key", "value")
    assert r("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "m", ">") == [
        [b"m", [[b"667-0", [b"key", b"value"]]]]]
    for i in ("0", "600", "666"):
        assert r("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "m", i)[0][1][0][0] == b"667-0"
    for i in ("667", "700"):
        assert r("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "m", i) == [[b"m", []]]


def test_xclaim_options_with_fake_clock(r, clock):
    for i in range(1, 4):
        r("XADD", "s", f"{i}-0", "x", str(i))
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">")
    clock.advance(200)
    # not idle enough
    assert r("XCLAIM", "s", "g", "c2", "201", "1-0") == []
    assert r("XCLAIM", "s", "g", "c2", "200", "1-0") == [[b"1-0", [b"x", b"1"]]]
    assert r("XPENDING", "s", "g", "-", "+", "10") == [[b"1-0", b"c2", 0, 2]]
    clock.advance(50)
    # JUSTID does not count a delivery; IDLE sets the idle time
    assert r("XCLAIM", "s", "g", "c3", "10", "1-0", "JUSTID", "IDLE", "5000") == [b"1-0"]
    assert r("XPENDING", "s", "g", "-", "+", "10") == [[b"1-0", b"c3", 5000, 2]]
    # TIME in the past; in the future or negative means now
    r("XCLAIM", "s", "g", "c3", "0", "1-0", "TIME", str(clock.ms() - 1234), "RETRYCOUNT", "9")
    assert r("XPENDING", "s", "g", "-", "+", "10") == [[b"1-0", b"c3", 1234, 9]]
    r("XCLAIM", "s", "g", "c3", "0", "1-0", "TIME", str(clock.ms() + 99999))
    assert r("XPENDING", "s", "g", "-", "+", "10") == [[b"1-0", b"c3", 0, 10]]
    r("XCLAIM", "s", "g", "c3", "0", "1-0", "IDLE", "-5")  # negative idle -> a future time -> now
    assert r("XPENDING", "s", "g", "-", "+", "10")[0][2] == 0
    # FORCE creates pending entries for existing IDs only
    assert r("XCLAIM", "s", "g", "c4", "0", "2-0", "9-0", "FORCE", "JUSTID") == [b"2-0"]
    assert r("XPENDING", "s", "g", "-", "+", "10", "c4") == [[b"2-0", b"c4", 0, 1]]
    # same consumer re-claims its own entry
    clock.advance(200)
    assert len(r("XCLAIM", "s", "g", "c4", "10", "2-0")) == 1
    assert r("XPENDING", "s", "g", "-", "+", "10", "c4")[0][1] == b"c4"
    # LASTID moves the group forward only
    r("XCLAIM", "s", "g", "c4", "0", "2-0", "LASTID", "3-0", "JUSTID")
    assert info_group(r, "s")[b"last-delivered-id"] == b"3-0"
    r("XCLAIM", "s", "g", "c4", "0", "2-0", "LASTID", "1-0", "JUSTID")
    assert info_group(r, "s")[b"last-delivered-id"] == b"3-0"


def test_xclaim_deleted_or_trimmed_entries_leave_the_pel(r, engine):
    for i in range(1, 4):
        r("XADD", "x", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "x", "grp", "0")
    r("XREADGROUP", "GROUP", "grp", "Alice", "STREAMS", "x", ">")
    r("XDEL", "x", "2-0")
    assert r("XCLAIM", "x", "grp", "Bob", "0", "1-0", "2-0", "3-0") == [
        [b"1-0", [b"f", b"v"]], [b"3-0", [b"f", b"v"]]]
    assert r("XPENDING", "x", "grp", "-", "+", "10", "Alice") == []
    engine.config["stream-node-max-entries"] = 2
    for i in range(1, 4):
        r("XADD", "y", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "y", "grp", "0")
    r("XREADGROUP", "GROUP", "grp", "Alice", "STREAMS", "y", ">")
    r("XTRIM", "y", "MAXLEN", "1")
    assert r("XAUTOCLAIM", "y", "grp", "Bob", "0", "0-0") == [b"0-0", [[b"3-0", [b"f", b"v"]]], [b"1-0", b"2-0"]]
    assert r("XPENDING", "y", "grp", "-", "+", "10", "Alice") == []


def test_xautoclaim_iterator_and_deleted(r, clock):
    for i in range(1, 6):
        r("XADD", "s", f"{i}-0", "x", str(i))
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "COUNT", "90", "STREAMS", "s", ">")
    clock.advance(200)
    got = r("XAUTOCLAIM", "s", "g", "c2", "10", "-", "COUNT", "2")
    assert got[0] == b"3-0" and ids(got[1]) == [b"1-0", b"2-0"] and got[2] == []
    got = r("XAUTOCLAIM", "s", "g", "c2", "10", got[0], "COUNT", "2")
    assert got[0] == b"5-0" and ids(got[1]) == [b"3-0", b"4-0"]
    got = r("XAUTOCLAIM", "s", "g", "c2", "10", got[0], "COUNT", "1")
    assert got[0] == b"0-0" and ids(got[1]) == [b"5-0"]
    # just claimed: not idle enough any more
    assert r("XAUTOCLAIM", "s", "g", "c3", "10", "-") == [b"0-0", [], []]
    r("XDEL", "s", "1-0", "2-0")
    assert r("XAUTOCLAIM", "s", "g", "c3", "0", "0-0", "COUNT", "1") == [b"2-0", [], [b"1-0"]]
    assert r("XAUTOCLAIM", "s", "g", "c3", "0", "2-0", "COUNT", "1") == [b"3-0", [], [b"2-0"]]
    assert r("XAUTOCLAIM", "s", "g", "c3", "0", "3-0", "COUNT", "1") == [b"4-0", [[b"3-0", [b"x", b"3"]]], []]
    assert r("XAUTOCLAIM", "key", "group", "consumer", "1", "1", "COUNT", "0") == ErrorReply(b"ERR COUNT must be > 0")
    assert r("XAUTOCLAIM", "s", "g", "c", "0", "3-0", "COUNT", "8070450532247928833").startswith(b"ERR COUNT")


def test_xautoclaim_justid_keeps_delivery_count(r, clock):
    r("XADD", "s", "1-0", "f", "v")
    r("XGROUP", "CREATE", "s", "g", "0")
    r("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    clock.advance(100)
    assert r("XAUTOCLAIM", "s", "g", "c2", "50", "0", "JUSTID") == [b"0-0", [b"1-0"], []]
    assert r("XPENDING", "s", "g", "-", "+", "1") == [[b"1-0", b"c2", 0, 1]]
    clock.advance(100)
    r("XAUTOCLAIM", "s", "g", "c3", "50", "0")
    assert r("XPENDING", "s", "g", "-", "+", "1") == [[b"1-0", b"c3", 0, 2]]


def test_consumer_seen_and_active_time(r, clock):
    r("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    r("XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS", "s", ">")
    clock.advance(100)
    cons = r("XINFO", "CONSUMERS", "s", "g")[0]
    assert (cons[b"idle"], cons[b"inactive"]) == (100, -1)
    r("XADD", "s", "*", "f", "v")
    r("XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS", "s", ">")
    cons = r("XINFO", "CONSUMERS", "s", "g")[0]
    assert (cons[b"name"], cons[b"idle"], cons[b"inactive"]) == (b"Alice", 0, 0)
    clock.advance(100)
    r("XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS", "s", ">")
    cons = r("XINFO", "CONSUMERS", "s", "g")[0]
    assert (cons[b"idle"], cons[b"inactive"]) == (0, 100)
    full = r("XINFO", "STREAM", "s", "FULL")[b"groups"][0][b"consumers"][0]
    assert full[b"seen-time"] == T0 + 200 and full[b"active-time"] == T0 + 100


def test_createconsumer_and_delconsumer(r):
    r("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    r("XADD", "s", "*", "f", "v")
    assert r("XINFO", "GROUPS", "s")[0][b"consumers"] == 0
    r("XREADGROUP", "GROUP", "g", "Alice", "COUNT", "1", "STREAMS", "s", ">")
    assert r("XGROUP", "CREATECONSUMER", "s", "g", "Alice") == 0
    assert r("XGROUP", "CREATECONSUMER", "s", "g", "Bob") == 1
    assert [c[b"name"] for c in r("XINFO", "CONSUMERS", "s", "g")] == [b"Alice", b"Bob"]
    assert r("XGROUP", "DELCONSUMER", "s", "g", "Alice") == 1
    assert r("XPENDING", "s", "g")[0] == 0
    r("XADD", "t", "*", "f", "v")
    assert r("XGROUP", "CREATECONSUMER", "t", "g", "c").startswith(b"NOGROUP")


def test_dirty_counting(r, engine):
    for i in range(1, 5):
        r("XADD", "x", f"{i}-0", "data", "abcd"[i - 1])
    r("XGROUP", "CREATE", "x", "g1", "0")
    r("XGROUP", "CREATECONSUMER", "x", "g1", "Alice")
    d = engine.dirty
    r("XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "2", "STREAMS", "x", ">")
    assert engine.dirty == d + 1
    d = engine.dirty
    r("XREADGROUP", "GROUP", "g1", "Alice", "NOACK", "COUNT", "2", "STREAMS", "x", ">")
    assert engine.dirty == d + 1
    d = engine.dirty
    r("XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "2", "STREAMS", "x", "0")
    assert engine.dirty == d
    r("XREADGROUP", "GROUP", "g1", "noconsumer", "COUNT", "2", "STREAMS", "x", "0")
    assert engine.dirty == d + 1


def test_lag_sanity_and_xdel(r):
    for i in range(1, 6):
        r("XADD", "x", f"{i}-0", "data", "x")
    r("XGROUP", "CREATE", "x", "g1", "0")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (None, 5)
    r("XREADGROUP", "GROUP", "g1", "c11", "COUNT", "1", "STREAMS", "x", ">")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (1, 4)
    r("XREADGROUP", "GROUP", "g1", "c12", "COUNT", "10", "STREAMS", "x", ">")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (5, 0)
    r("XADD", "x", "6-0", "data", "f")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (5, 1)


def test_lag_with_xdel_and_trims(r):
    for i in range(1, 6):
        r("XADD", "x", f"{i}-0", "data", "x")
    r("XDEL", "x", "3-0")
    r("XGROUP", "CREATE", "x", "g1", "0")
    r("XGROUP", "CREATE", "x", "g2", "0")
    for _ in range(3):
        g = info_group(r, "x")
        assert (g[b"entries-read"], g[b"lag"]) == (None, None)
        r("XREADGROUP", "GROUP", "g1", "c11", "COUNT", "1", "STREAMS", "x", ">")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (None, None)
    r("XREADGROUP", "GROUP", "g1", "c11", "COUNT", "1", "STREAMS", "x", ">")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (5, 0)
    r("XADD", "x", "6-0", "data", "f")
    assert info_group(r, "x")[b"lag"] == 1
    r("XTRIM", "x", "MINID", "=", "3-0")
    g1, g2 = info_group(r, "x", 0), info_group(r, "x", 1)
    assert (g1[b"entries-read"], g1[b"lag"], g2[b"entries-read"], g2[b"lag"]) == (5, 1, None, 3)
    r("XTRIM", "x", "MINID", "=", "5-0")
    g1, g2 = info_group(r, "x", 0), info_group(r, "x", 1)
    assert (g1[b"lag"], g2[b"entries-read"], g2[b"lag"]) == (1, None, 2)


def test_lag_tombstone_after_last_id(r):
    r("XGROUP", "CREATE", "x", "g1", "$", "MKSTREAM")
    r("XADD", "x", "1-0", "data", "a")
    r("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">")
    r("XADD", "x", "2-0", "data", "c")
    r("XADD", "x", "3-0", "data", "d")
    r("XDEL", "x", "2-0")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (1, None)
    r("XDEL", "x", "1-0")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (1, 1)
    r("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">")
    g = info_group(r, "x")
    assert (g[b"entries-read"], g[b"lag"]) == (3, 0)


def test_lag_with_xtrim_and_empty_streams(r):
    r("XGROUP", "CREATE", "e", "g1", "0", "MKSTREAM")
    info = r("XINFO", "STREAM", "e", "FULL")
    assert (info[b"entries-added"], info[b"groups"][0][b"entries-read"], info[b"groups"][0][b"lag"]) == (0, None, 0)
    r("XADD", "e", "1-0", "data", "a")
    r("XDEL", "e", "1-0")
    info = r("XINFO", "STREAM", "e", "FULL")
    assert (info[b"max-deleted-entry-id"], info[b"groups"][0][b"lag"]) == (b"1-0", 0)
    r("XGROUP", "CREATE", "x", "g", "$", "MKSTREAM")
    for i in range(1, 6):
        r("XADD", "x", f"{i}-0", "data", "x")
    r("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "x", ">")
    assert (info_group(r, "x")[b"entries-read"], info_group(r, "x")[b"lag"]) == (1, 4)
    r("XTRIM", "x", "MAXLEN", "1")
    assert (info_group(r, "x")[b"entries-read"], info_group(r, "x")[b"lag"]) == (1, 1)
    r("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x", ">")
    assert (info_group(r, "x")[b"entries-read"], info_group(r, "x")[b"lag"]) == (5, 0)
    r("XADD", "x", "6-0", "data", "f")
    assert info_group(r, "x")[b"lag"] == 1
    r("XTRIM", "x", "MAXLEN", "0")
    assert info_group(r, "x")[b"lag"] == 0


def test_xinfo_full_output(r):
    for i, f in zip(range(100, 105), "abcef", strict=True):
        r("XADD", "x", str(i), f, "1")
    r("XGROUP", "CREATE", "x", "g1", "0")
    r("XGROUP", "CREATE", "x", "g2", "0")
    r("XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "1", "STREAMS", "x", ">")
    r("XREADGROUP", "GROUP", "g1", "Bob", "COUNT", "1", "STREAMS", "x", ">")
    r("XREADGROUP", "GROUP", "g1", "Bob", "NOACK", "COUNT", "1", "STREAMS", "x", ">")
    r("XREADGROUP", "GROUP", "g2", "Charlie", "COUNT", "4", "STREAMS", "x", ">")
    r("XDEL", "x", "103")
    full = r("XINFO", "STREAM", "x", "FULL")
    assert full[b"length"] == 4
    assert ids(full[b"entries"]) == [b"100-0", b"101-0", b"102-0", b"104-0"]
    g1, g2 = full[b"groups"]
    assert g1[b"name"] == b"g1" and g1[b"pending"][0][0] == b"100-0"
    assert g1[b"consumers"][0][b"name"] == b"Alice"
    assert [p[0] for p in g2[b"consumers"][0][b"pending"]][:2] == [b"100-0", b"101-0"]
    assert ids(r("XINFO", "STREAM", "x", "FULL", "COUNT", "1")[b"entries"]) == [b"100-0"]


def test_destroy_frees_references_for_acked_deletes(r):
    for j in range(5):
        r("XADD", "m", f"{j}-1", "item", str(j))
    r("XGROUP", "CREATE", "m", "mygroup", "0")
    r("XREADGROUP", "GROUP", "mygroup", "consumer1", "STREAMS", "m", ">")
    assert r("XDELEX", "m", "ACKED", "IDS", "5", "0-1", "1-1", "2-1", "3-1", "4-1") == [2] * 5
    r("XGROUP", "DESTROY", "m", "mygroup")
    assert r("XDELEX", "m", "ACKED", "IDS", "5", "0-1", "1-1", "2-1", "3-1", "4-1") == [1] * 5
    for i in range(1, 6):
        r("XADD", "n", f"{i}-0", "f", "v")
    r("XGROUP", "CREATE", "n", "group1", "1-0")
    r("XGROUP", "CREATE", "n", "group2", "3-0")
    assert r("XDELEX", "n", "ACKED", "IDS", "1", "1-0") == [1]
    assert r("XDELEX", "n", "ACKED", "IDS", "1", "2-0") == [2]
    r("XGROUP", "DESTROY", "n", "group1")
    assert r("XDELEX", "n", "ACKED", "IDS", "1", "2-0") == [1]


def test_xackdel(r):
    assert r("XACKDEL", "s", "g", "IDS", "2", "1-1", "2-2") == [-1, -1]
    r("XADD", "s", "1-0", "f", "v")
    assert r("XACKDEL", "s", "g", "IDS", "2", "1-1", "2-2") == [-1, -1]
    r("XADD", "m", "1-0", "f", "v")
    r("XADD", "m", "2-0", "f", "v")
    r("XGROUP", "CREATE", "m", "group1", "0")
    r("XGROUP", "CREATE", "m", "group2", "0")
    r("XREADGROUP", "GROUP", "group1", "consumer1", "STREAMS", "m", ">")
    r("XREADGROUP", "GROUP", "group2", "consumer2", "STREAMS", "m", ">")
    assert r("XACKDEL", "m", "group1", "ACKED", "IDS", "2", "1-0", "2-0") == [2, 2]
    assert r("XLEN", "m") == 2
    assert r("XACKDEL", "m", "group2", "ACKED", "IDS", "2", "1-0", "2-0") == [1, 1]
    assert r("XLEN", "m") == 0
    r("XADD", "m", "3-0", "f", "v")
    r("XADD", "m", "4-0", "f", "v")
    r("XREADGROUP", "GROUP", "group1", "consumer1", "STREAMS", "m", ">")
    r("XREADGROUP", "GROUP", "group2", "consumer2", "STREAMS", "m", ">")
    assert r("XACKDEL", "m", "group1", "DELREF", "IDS", "2", "3-0", "4-0") == [1, 1]
    assert r("XPENDING", "m", "group2") == [0, None, None, NULL_ARRAY]
    assert r("XACKDEL", "m", "group2", "DELREF", "IDS", "2", "3-0", "4-0") == [-1, -1]
    r("XGROUP", "CREATE", "big", "g", "$", "MKSTREAM")
    assert r("XACKDEL", "big", "g", "IDS", "50", *[f"{i}-1" for i in range(50)]) == [-1] * 50
