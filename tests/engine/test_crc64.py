"""CRC-64: the table-driven fallback (its table built on first use) gives anycrc's values."""

from __future__ import annotations

import random

from streamlite.engine import crc64 as c


def test_fallback_equals_fast_path() -> None:
    assert c._pure(b"123456789") == c.crc64(b"123456789") == c.CHECK
    data = random.Random(7).randbytes(3000)
    assert c._pure(data) == c.crc64(data)
    assert c._pure(data[1000:], c._pure(data[:1000])) == c.crc64(data)
    assert c._pure(b"", 5) == c.crc64(b"", 5) == 5
