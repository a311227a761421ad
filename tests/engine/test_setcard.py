"""SUNIONCARD / SDIFFCARD (Redis 8.10), from the command docs' examples (no released
Redis here to compare with); arguments and errors as SINTERCARD's."""

from __future__ import annotations

from tests.conftest import Runner


def test_examples_from_the_docs(r: Runner) -> None:
    r("SADD", "key1", "a", "b", "c")
    r("SADD", "key2", "c", "d", "e")
    assert r("SUNIONCARD", "2", "key1", "key2") == 5
    assert r("SUNIONCARD", "2", "key1", "key2", "LIMIT", "3") == 3
    assert r("SUNIONCARD", "2", "key1", "key2", "LIMIT", "0") == 5
    assert r("SUNIONCARD", "3", "key1", "key2", "missing") == 5
    assert r("SDIFFCARD", "2", "key1", "key2") == 2
    assert r("SDIFFCARD", "2", "key1", "key2", "LIMIT", "1") == 1
    assert r("SDIFFCARD", "1", "key1") == 3
    assert r("SDIFFCARD", "2", "missing", "key1") == 0
    assert r("SDIFFCARD", "2", "key1", "key1") == 0


def test_approx_estimates_the_union(r: Runner) -> None:
    r("SADD", "a", *[f"m{i}" for i in range(3000)])
    r("SADD", "b", *[f"m{i}" for i in range(2000, 5000)])
    est = r("SUNIONCARD", "2", "a", "b", "APPROX")
    assert abs(est - 5000) < 5000 * 0.05
    assert r("SUNIONCARD", "2", "a", "b", "APPROX", "LIMIT", "10") == 10
    assert r("SUNIONCARD", "2", "a", "b", "LIMIT", "10", "APPROX") == 10


def test_errors(r: Runner) -> None:
    r("SET", "str", "x")
    r("SADD", "s", "1")
    for cmd in ("SUNIONCARD", "SDIFFCARD"):
        assert r(cmd, "0", "s") == b"ERR numkeys should be greater than 0"
        assert r(cmd, "x", "s") == b"ERR numkeys should be greater than 0"
        assert r(cmd, "3", "s") == b"ERR Number of keys can't be greater than number of args"
        assert r(cmd, "1", "s", "LIMIT", "-1") == b"ERR LIMIT can't be negative"
        assert r(cmd, "1", "s", "FOO") == b"ERR syntax error"
        assert r(cmd, "2", "s", "str").startswith(b"WRONGTYPE")
    assert r("SDIFFCARD", "1", "s", "APPROX") == b"ERR syntax error"
    assert r("COMMAND", "GETKEYS", "SUNIONCARD", "2", "a", "b", "LIMIT", "1") == [b"a", b"b"]
