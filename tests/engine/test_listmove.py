"""LMOVEM / BLMOVEM (Redis 8.10), from the command docs (no released Redis here to
compare with)."""

from __future__ import annotations

import pytest
from tests.conftest import Runner

from streamlite.engine.replies import NULL_ARRAY, Blocked


def test_examples_from_the_docs(r: Runner) -> None:
    assert r("RPUSH", "mylist", "1", "2", "3", "4") == 4
    assert r("LMOVEM", "mylist", "myotherlist", "LEFT", "LEFT", "COUNT", "2", "OBO") == [b"2", b"1"]
    assert r("LRANGE", "mylist", "0", "-1") == [b"3", b"4"]
    assert r("LRANGE", "myotherlist", "0", "-1") == [b"2", b"1"]
    assert r("LMOVEM", "mylist", "myotherlist", "LEFT", "LEFT", "EXACTLY", "5", "BULK") is NULL_ARRAY
    r("RPUSH", "somelist", "a", "b", "c")
    assert r("LMOVEM", "somelist", "somelist", "LEFT", "LEFT", "EXACTLY", "2", "OBO") == [b"b", b"a"]
    assert r("LRANGE", "somelist", "0", "-1") == [b"b", b"a", b"c"]
    assert r("LMOVEM", "somelist", "somelist", "LEFT", "LEFT", "COUNT", "2", "BULK") == [b"b", b"a"]
    assert r("LRANGE", "somelist", "0", "-1") == [b"b", b"a", b"c"]  # BULK onto itself: no-op


@pytest.mark.parametrize("frm,to,order,moved,dest", [
    ("LEFT", "RIGHT", "OBO", [b"a", b"b"], [b"x", b"a", b"b"]),
    ("LEFT", "RIGHT", "BULK", [b"a", b"b"], [b"x", b"a", b"b"]),
    ("LEFT", "LEFT", "BULK", [b"a", b"b"], [b"a", b"b", b"x"]),
    ("RIGHT", "LEFT", "OBO", [b"c", b"d"], [b"c", b"d", b"x"]),
    ("RIGHT", "LEFT", "BULK", [b"c", b"d"], [b"c", b"d", b"x"]),
    ("RIGHT", "RIGHT", "OBO", [b"d", b"c"], [b"x", b"d", b"c"]),
    ("RIGHT", "RIGHT", "BULK", [b"c", b"d"], [b"x", b"c", b"d"]),
])
def test_orderings(r: Runner, frm, to, order, moved, dest) -> None:
    r("RPUSH", "src", "a", "b", "c", "d")
    r("RPUSH", "dst", "x")
    assert r("LMOVEM", "src", "dst", frm, to, "COUNT", "2", order) == moved
    assert r("LRANGE", "dst", "0", "-1") == dest


def test_defaults_missing_and_errors(r: Runner) -> None:
    r("RPUSH", "s", "a", "b")
    assert r("LMOVEM", "s", "d", "RIGHT", "LEFT") == [b"b"]  # as LMOVE, in an array
    # nothing moved: nil, with or without the block (the page; redis-py's test_lmovem)
    assert r("LMOVEM", "missing", "d", "LEFT", "LEFT") is NULL_ARRAY
    assert r("LMOVEM", "missing", "d", "LEFT", "LEFT", "COUNT", "3", "OBO") is NULL_ARRAY
    assert r("LMOVEM", "missing", "d", "LEFT", "LEFT", "EXACTLY", "3", "OBO") is NULL_ARRAY
    assert r("LMOVEM", "s", "d", "LEFT", "LEFT", "COUNT", "9", "BULK") == [b"a"]
    assert r("EXISTS", "s") == 0
    r("RPUSH", "s", "a")
    r("SET", "str", "v")
    assert r("LMOVEM", "s", "str", "LEFT", "LEFT").startswith(b"WRONGTYPE")
    assert r("LRANGE", "s", "0", "-1") == [b"a"]  # nothing moved
    for bad in (("COUNT", "2"), ("OBO",), ("COUNT", "2", "FOO"), ("BULK", "COUNT", "2"),
                ("COUNT", "2", "OBO", "x")):
        assert r("LMOVEM", "s", "d", "LEFT", "LEFT", *bad) == b"ERR syntax error", bad
    assert r("LMOVEM", "s", "d", "LEFT", "UP") == b"ERR syntax error"
    assert r("LMOVEM", "s", "d", "LEFT", "LEFT", "COUNT", "0", "OBO") == \
        b"ERR count should be greater than 0"


def test_blmovem_blocks_until_exactly_and_propagates_lmovem(engine, r: Runner) -> None:
    r("RPUSH", "q", "a")
    got = r("BLMOVEM", "q", "d", "LEFT", "RIGHT", "0", "EXACTLY", "2", "BULK")
    assert type(got) is Blocked
    engine.effects = []
    assert r("BLMOVEM", "q", "d", "LEFT", "RIGHT", "0", "COUNT", "2", "BULK") == [b"a"]
    assert engine.effects == [(0, [b"LMOVEM", b"q", b"d", b"LEFT", b"RIGHT", b"COUNT", b"2",
                                   b"BULK"])]
    r("MULTI")
    r("BLMOVEM", "q", "d", "LEFT", "RIGHT", "0")
    assert r("EXEC") == [NULL_ARRAY]  # inside MULTI: answers at once
