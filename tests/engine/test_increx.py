"""INCREX (Redis 8.8), from its command page's examples and rules (no released Redis
here to compare with)."""

from __future__ import annotations

from tests.conftest import Runner


def test_examples_from_the_docs(r: Runner) -> None:
    assert r("INCREX", "k") == [1, 1]
    assert r("INCREX", "k") == [2, 1]
    r("SET", "mykey", "100")
    assert r("INCREX", "mykey", "BYINT", "5") == [105, 5]
    assert r("INCREX", "mykey", "BYINT", "-10") == [95, -10]
    r("SET", "f", "1.5")
    assert r("INCREX", "f", "BYFLOAT", "0.25") == [b"1.75", b"0.25"]
    assert r("GET", "f") == b"1.75"


def test_expiration_options(r: Runner) -> None:
    assert r("INCREX", "m", "BYINT", "1", "EX", "100") == [1, 1]
    assert r("TTL", "m") == 100
    r("SET", "m", "10")
    assert r("INCREX", "m", "BYINT", "1", "EX", "100", "ENX") == [11, 1]
    assert r("TTL", "m") == 100
    r("SET", "m", "10", "EX", "500")
    assert r("INCREX", "m", "BYINT", "1", "EX", "10", "ENX") == [11, 1]
    assert r("TTL", "m") == 500  # ENX: an existing TTL stays
    assert r("INCREX", "m") == [12, 1]
    assert r("TTL", "m") == 500  # no option: the TTL is kept
    assert r("INCREX", "m", "PERSIST") == [13, 1]
    assert r("TTL", "m") == -1
    assert r("INCREX", "m", "PXAT", "99999999999999") == [14, 1]
    assert r("PEXPIRETIME", "m") == 99999999999999


def test_bounds_skip_or_saturate(r: Runner) -> None:
    r("SET", "m", "99", "EX", "50")
    assert r("INCREX", "m", "BYINT", "5", "UBOUND", "100", "EX", "1000") == [99, 0]
    assert r("GET", "m") == b"99" and r("TTL", "m") == 50  # untouched, TTL too
    assert r("INCREX", "m", "BYINT", "5", "UBOUND", "100", "SATURATE") == [100, 1]
    assert r("INCREX", "m", "BYINT", "-500", "LBOUND", "0", "SATURATE") == [0, -100]
    assert r("INCREX", "missing", "BYINT", "5", "UBOUND", "3") == [0, 0]
    assert r("EXISTS", "missing") == 0
    r("SET", "big", str(2**63 - 1))
    assert r("INCREX", "big") == [2**63 - 1, 0]  # the type limit is a bound
    assert r("INCREX", "big", "SATURATE") == [2**63 - 1, 0]
    r("SET", "fl", "1.5")
    assert r("INCREX", "fl", "BYFLOAT", "1", "UBOUND", "2") == [b"1.5", b"0"]
    assert r("INCREX", "fl", "BYFLOAT", "1", "UBOUND", "2", "SATURATE") == [b"2", b"0.5"]


def test_rate_limiter_pattern(r: Runner, clock) -> None:
    args = ("INCREX", "rl", "BYINT", "1", "UBOUND", "3", "EX", "60", "ENX")
    assert [r(*args)[1] for _ in range(5)] == [1, 1, 1, 0, 0]
    clock.advance(61_000)
    assert r(*args) == [1, 1]  # a new window


def test_errors(r: Runner) -> None:
    r("SET", "s", "abc")
    r("SET", "fl", "1.5")
    r("RPUSH", "l", "x")
    assert r("INCREX", "s").startswith(b"ERR value is not an integer")
    assert r("INCREX", "fl").startswith(b"ERR value is not an integer")  # BYINT: integers only
    assert r("INCREX", "s", "BYFLOAT", "1") == b"ERR value is not a valid float"
    assert r("INCREX", "l").startswith(b"WRONGTYPE")
    for bad in (("ENX",), ("EX", "10", "PERSIST"), ("PERSIST", "ENX", "EX", "1"),
                ("BYINT", "1", "BYFLOAT", "1"), ("FOO",), ("BYINT",)):
        assert r("INCREX", "k", *bad) == b"ERR syntax error", bad
    assert r("INCREX", "k", "EX", "0") == b"ERR invalid expire time in 'increx' command"
    assert r("INCREX", "k", "LBOUND", "5", "UBOUND", "1").startswith(b"ERR LBOUND")
    assert r("EXISTS", "k") == 0


def test_propagation_is_deterministic(r: Runner, engine) -> None:
    engine.effects = []
    r("INCREX", "a", "BYINT", "2", "EX", "10")
    r("INCREX", "a", "BYFLOAT", "0.5")
    r("INCREX", "a", "UBOUND", "0")  # skipped: nothing
    when = r("PEXPIRETIME", "a")
    assert engine.effects == [
        (0, [b"SET", b"a", b"2", b"PXAT", b"%d" % when]),
        (0, [b"SET", b"a", b"2.5", b"KEEPTTL"]),
    ]
