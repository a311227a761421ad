"""Redis's strict integer parsing (``string2ll`` in ``util.c``), once for every layer.

Redis accepts an integer argument, a protocol length or a listpack element as an
integer only when it is written exactly as Redis itself would print it: decimal
digits with an optional leading ``-``, no ``+``, no spaces, no leading zeros, no
``-0``, at most 20 characters, in the signed 64-bit range. Anything else is not
an integer (a protocol error, ``value is not an integer``, a string element).

This module sits outside ``engine/`` and ``protocol/`` so that both use it (the
engine must not import a front's code). ``string2ll`` is on hot paths (request
lengths, stream IDs, listpack sizes): it is written for the common case, a
short positive number, which costs one ``isdigit`` and one ``int``.
"""

from __future__ import annotations

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def string2ll(b: bytes) -> int | None:
    """The integer ``b`` spells by Redis's ``string2ll`` rules, else None."""
    if b.isdigit():  # ASCII digits only (bytes), and not empty
        n = len(b)
        if b[0] == 0x30:  # "0", or a leading zero
            return 0 if n == 1 else None
        if n < 19:  # 18 digits always fit in 64 bits
            return int(b)
        if n > 20:
            return None
        v = int(b)
        return v if v <= INT64_MAX else None
    if b[:1] != b"-":
        return None
    n = len(b)
    if n == 1 or b[1] == 0x30 or not b[1:].isdigit():  # "-", "-0...", "-x"
        return None
    if n < 20:
        return int(b)
    if n > 20:
        return None
    v = int(b)
    return v if v >= INT64_MIN else None
