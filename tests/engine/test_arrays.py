"""The array type (Redis 8.8), from its docs' examples and command pages and Redis
8.10's semantics (no released Redis here to compare with; redis-py's own tests check
the same replies: tests/clientsuite)."""

from __future__ import annotations

from tests.conftest import Runner

from streamlite.engine.replies import ErrorReply


def test_basic_usage_from_the_docs(r: Runner) -> None:
    assert r("ARSET", "events:1", "0", "login", "click", "purchase") == 3
    assert r("ARGET", "events:1", "0") == b"login"
    assert r("ARGET", "events:1", "999") is None
    assert r("ARMSET", "metrics", "0", "10", "5", "20", "100", "30") == 3
    assert r("ARMGET", "metrics", "0", "5", "100", "999") == [b"10", b"20", b"30", None]
    assert r("TYPE", "metrics") == b"array"
    assert r("ARSET", "events:1", "2", "x", "y") == 1  # one slot was new
    assert r("ARGET", "nosuch", "1") is None


def test_length_and_count(r: Runner) -> None:
    r("ARSET", "sparse", "0", "a")
    r("ARSET", "sparse", "1000000", "b")
    assert r("ARLEN", "sparse") == 1000001
    assert r("ARCOUNT", "sparse") == 2
    assert r("ARLEN", "nosuch") == 0 and r("ARCOUNT", "nosuch") == 0


def test_ranges_and_scan(r: Runner) -> None:
    r("ARMSET", "seq", "0", "a", "1", "b", "3", "d")
    assert r("ARGETRANGE", "seq", "0", "3") == [b"a", b"b", None, b"d"]
    assert r("ARGETRANGE", "seq", "3", "0") == [b"d", None, b"b", b"a"]
    assert r("ARSCAN", "seq", "0", "3") == [[0, b"a"], [1, b"b"], [3, b"d"]]
    assert r("ARSCAN", "seq", "3", "0", "LIMIT", "2") == [[3, b"d"], [1, b"b"]]
    assert r("ARSCAN", "nosuch", "0", "3") == []
    assert r("ARGETRANGE", "seq", "0", "1000000") == b"ERR range exceeds maximum of 1000000 items"
    assert r("ARGETRANGE", "nosuch", "2", "0") == [None, None, None]
    assert r("ARGETRANGE", "seq", "10", "12") == [None, None, None]
    assert r("ARSCAN", "seq", "0", "3", "LIMIT", "0") == b"ERR LIMIT must be positive"
    assert r("ARSCAN", "seq", "0", "3", "COUNT", "1") == b"ERR syntax error"
    assert r("ARSCAN", "seq", "0", "3", "LIMIT") == (
        b"ERR wrong number of arguments for 'arscan' command")


def test_insert_cursor_and_ring(r: Runner) -> None:
    assert [r("ARINSERT", "log", v) for v in ("event1", "event2")] == [0, 1]
    assert r("ARNEXT", "log") == 2
    assert r("ARSEEK", "log", "10") == 1
    assert r("ARINSERT", "log", "event3") == 10
    assert r("ARNEXT", "log") == 11
    assert r("ARSEEK", "nosuch", "3") == 0 and r("EXISTS", "nosuch") == 0
    assert r("ARNEXT", "nosuch") == 0
    assert [r("ARRING", "readings", "3", v) for v in ("v0", "v1", "v2", "v3")] == [0, 1, 2, 0]
    assert r("ARGET", "readings", "0") == b"v3"
    assert r("ARCOUNT", "readings") == 3
    assert r("ARLASTITEMS", "readings", "3") == [b"v1", b"v2", b"v3"]
    assert r("ARLASTITEMS", "readings", "3", "REV") == [b"v3", b"v2", b"v1"]
    assert r("ARLASTITEMS", "readings", "10") == [b"v1", b"v2", b"v3"]
    r("ARINSERT", "l2", "first", "second", "third")
    assert r("ARLASTITEMS", "l2", "2") == [b"second", b"third"]
    assert r("ARLASTITEMS", "l2", "2", "REV") == [b"third", b"second"]
    assert r("ARRING", "readings", "2", "w") == 0  # smaller ring: index 2 goes
    assert r("ARCOUNT", "readings") == 2


def test_ring_reshapes_when_its_size_changes(r: Runner) -> None:
    """A smaller ring keeps the newest values, relaid from 0; a bigger one after a wrap
    keeps them all, in order, and grows from there (redis-py's test_arring_*)."""
    r("ARRING", "a", "5", "v0", "v1", "v2", "v3", "v4")
    assert r("ARRING", "a", "3", "v5") == 0
    assert r("ARLEN", "a") == 3
    assert r("ARGETRANGE", "a", "0", "2") == [b"v5", b"v3", b"v4"]
    assert r("ARLASTITEMS", "a", "3") == [b"v3", b"v4", b"v5"]
    assert r("ARRING", "a", "5", "v6") == 3  # grew after the wrap: v3 v4 v5 then v6
    assert r("ARGETRANGE", "a", "0", "3") == [b"v3", b"v4", b"v5", b"v6"]
    assert r("ARRING", "a", "5", "v7", "v8") == 0
    assert r("ARLASTITEMS", "a", "5", "REV") == [b"v8", b"v7", b"v6", b"v5", b"v4"]
    assert r("ARRING", "a", "0", "x") == b"ERR size must be positive"
    assert r("ARRING", "a", "z", "x") == b"ERR invalid size"


def test_lastitems_walks_positions(r: Runner) -> None:
    r("ARINSERT", "a", "v0", "v1", "v2")
    assert r("ARLASTITEMS", "a", "0") == []
    assert r("ARLASTITEMS", "a", "-3", "BOGUS") == []  # the count is read first
    assert r("ARLASTITEMS", "a", "x") == b"ERR invalid COUNT"
    assert r("ARLASTITEMS", "a", "2", "BOGUS") == b"ERR syntax error"
    r("ARDEL", "a", "1")
    assert r("ARLASTITEMS", "a", "3") == [b"v0", None, b"v2"]  # holes are positions
    assert r("ARSEEK", "a", "1") == 1
    assert r("ARLASTITEMS", "a", "2") == [b"v2", b"v0"]  # wraps at the array's length
    assert r("ARSEEK", "a", "18446744073709551615") == 1  # the terminal state
    assert r("ARNEXT", "a") is None
    assert r("ARINSERT", "a", "x") == b"ERR insert index overflow"
    assert r("ARINFO", "a")[b"next-insert-index"] == 0


def test_aggregates(r: Runner) -> None:
    r("ARMSET", "scores", "0", "10", "1", "20", "2", "30")
    assert r("AROP", "scores", "0", "2", "SUM") == b"60"
    assert r("AROP", "scores", "0", "2", "MIN") == b"10"
    assert r("AROP", "scores", "2", "0", "MAX") == b"30"
    assert r("AROP", "scores", "0", "2", "MATCH", "10") == 1
    assert r("AROP", "scores", "0", "2", "USED") == 3
    r("ARMSET", "flags", "0", "255", "1", "15", "2", "240")
    assert r("AROP", "flags", "0", "2", "AND") == 0
    assert r("AROP", "flags", "0", "2", "OR") == 255
    assert r("AROP", "flags", "0", "1", "XOR") == 240
    r("ARMSET", "mixed", "0", "1.5", "1", "abc", "2", "2")
    assert r("AROP", "mixed", "0", "2", "SUM") == b"3.5"
    assert r("AROP", "mixed", "5", "9", "SUM") is None
    assert r("AROP", "mixed", "5", "9", "AND") is None
    assert r("AROP", "mixed", "0", "2", "AVG") == b"ERR unknown operation"
    assert r("AROP", "mixed", "0", "2", "MATCH") == b"ERR MATCH requires a value argument"
    assert r("AROP", "nosuch", "0", "2", "USED") == 0
    r("ARMSET", "words", "0", "abc", "1", "def")
    assert r("AROP", "words", "0", "1", "XOR") is None  # values, but none an integer


def test_grep(r: Runner) -> None:
    r("ARMSET", "log", "0", "boot: ok", "1", "warn: disk", "2", "ERROR: cpu", "3",
      "info: ready", "4", "error: net")
    assert r("ARGREP", "log", "-", "+", "MATCH", "error", "NOCASE") == [2, 4]
    assert r("ARGREP", "log", "-", "+", "MATCH", "error", "NOCASE", "WITHVALUES") == [
        [2, b"ERROR: cpu"], [4, b"error: net"]]
    assert r("ARGREP", "log", "0", "4", "GLOB", "warn:*", "OR", "GLOB", "error:*") == [1, 4]
    assert r("ARGREP", "log", "0", "4", "RE", "^[A-Za-z]+: (cpu|net)$", "NOCASE") == [2, 4]
    assert r("ARGREP", "log", "0", "4", "EXACT", "info: ready") == [3]
    assert r("ARGREP", "log", "-", "+", "MATCH", "error", "NOCASE", "LIMIT", "1") == [2]
    assert r("ARGREP", "log", "4", "0", "MATCH", "o", "AND", "MATCH", ":") == [4, 3, 0]
    assert r("ARGREP", "nosuch", "-", "+", "MATCH", "x") == []


def test_delete_and_errors(r: Runner) -> None:
    r("ARMSET", "a", "0", "a", "1", "b", "2", "c", "3", "d", "4", "e")
    assert r("ARDEL", "a", "1", "1", "9") == 1
    assert r("ARDELRANGE", "a", "3", "0", "2", "4") == 4
    assert r("EXISTS", "a") == 0  # the last element took the key
    r("SET", "s", "x")
    assert r("ARGET", "s", "0").startswith(b"WRONGTYPE")
    for bad in (("ARGET", "k", "-1"), ("ARGET", "k", "x"), ("ARSET", "k", "18446744073709551616", "v"),
                ("ARSET", "k", "18446744073709551615", "v", "w")):
        assert r(*bad) == b"ERR invalid array index", bad
    assert isinstance(r("ARMSET", "k", "1", "a", "2"), ErrorReply)
    assert r("ARSET", "k", "18446744073709551614", "last") == 1  # the highest index
    assert r("ARLEN", "k") == 18446744073709551615
    assert r("ARSET", "k", "18446744073709551614", "a", "b") == b"ERR array index overflow"
    assert r("ARSET", "k", "+5", "plus") == 1  # strtoull's leniency, as Redis
    assert r("ARGET", "k", "005") == b"plus"


def test_info(r: Runner) -> None:
    r("ARMSET", "x", "0", "a", "5000", "b")
    info = r("ARINFO", "x")
    assert info[b"len"] == 5001 and info[b"count"] == 2 and info[b"slices"] == 2
    full = r("ARINFO", "x", "FULL")
    assert full[b"sparse-slices"] == 2 and full[b"dense-slices"] == 0
    assert r("ARINFO", "nosuch") == b"ERR no such key"
    assert list(info)[:3] == [b"count", b"len", b"next-insert-index"]


def test_dump_restore_and_digest(r: Runner) -> None:
    r("ARMSET", "x", "0", "a", "70000", "b")
    r("ARINSERT", "x", "c")
    payload = r("DUMP", "x")
    assert r("RESTORE", "y", "0", payload) == b"OK"
    assert r("ARSCAN", "y", "0", "100000") == [[0, b"c"], [70000, b"b"]]
    assert r("ARNEXT", "y") == 1
    assert r("OBJECT", "ENCODING", "y") == b"sliced"
    assert r("MEMORY", "USAGE", "y") > 0
