"""``numparse.string2ll`` against a plain statement of Redis's rules (``util.c``):
1 to 20 characters, ``0`` or an optional ``-`` then a digit 1-9 and digits, in the
signed 64-bit range; on the edge cases and on seeded random strings."""

from __future__ import annotations

import random
import re

import pytest

from streamlite.numparse import INT64_MAX, INT64_MIN, string2ll

_CANONICAL = re.compile(rb"0|-?[1-9][0-9]*")


def reference(b: bytes) -> int | None:
    if not 1 <= len(b) <= 20 or not _CANONICAL.fullmatch(b):
        return None
    v = int(b)
    return v if INT64_MIN <= v <= INT64_MAX else None


EDGES = [
    b"", b"0", b"-", b"-0", b"00", b"01", b"-01", b"+1", b" 1", b"1 ", b"1_0", b"1.0", b"0x1",
    b"\xd9\xa1", b"1\x00", b"9" * 18, b"9" * 19, b"1" + b"0" * 18, b"9223372036854775807",
    b"9223372036854775808", b"-9223372036854775808", b"-9223372036854775809",
    b"-" + b"9" * 18, b"-" + b"9" * 19, b"1" * 20, b"1" * 21, b"-" + b"1" * 20, b"18446744073709551615",
]


@pytest.mark.parametrize("b", EDGES)
def test_edges(b: bytes) -> None:
    assert string2ll(b) == reference(b)


def test_random_strings() -> None:
    rng = random.Random(20)
    alphabet = b"0123456789-+ x"
    for _ in range(20000):
        n = rng.choice([rng.randrange(0, 4), rng.randrange(17, 23)])
        b = bytes(rng.choice(alphabet[:10] if rng.random() < 0.7 else alphabet) for _ in range(n))
        if rng.random() < 0.3:
            b = b"-" + b
        assert string2ll(b) == reference(b), b


def test_random_in_range_round_trip() -> None:
    rng = random.Random(21)
    for _ in range(5000):
        v = rng.randint(INT64_MIN, INT64_MAX) >> rng.randrange(64)
        assert string2ll(str(v).encode()) == v
