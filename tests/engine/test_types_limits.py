"""Limits and hostile input for the bitmap, HyperLogLog, Geo and SORT commands:
offsets bounded by ``proto-max-bulk-len`` (but not for the AOF/master client),
fuzzed HLL bytes that must give Redis's errors and never a crash, BITFIELD
offset arithmetic that wraps, and the self-test."""

from __future__ import annotations

import random

import pytest

from streamlite.engine.replies import ErrorReply

OFFSET_ERR = b"ERR bit offset is not an integer or out of range"


def test_bit_offsets_are_bounded_by_proto_max_bulk_len(r):
    assert r("CONFIG", "SET", "proto-max-bulk-len", "1048576") == b"OK"
    assert r("SETBIT", "k", str(8 * 1048576), "1") == ErrorReply(OFFSET_ERR)
    assert r("BITFIELD", "k", "SET", "u8", "#1048576", "1") == ErrorReply(OFFSET_ERR)
    assert r("GETBIT", "k", str(8 * 1048576)) == ErrorReply(OFFSET_ERR)
    assert r("SETBIT", "k", str(8 * 1048576 - 1), "1") == 0
    assert r("STRLEN", "k") == 1048576
    # what the AOF replays is not limited (Redis: mustObeyClient)
    r.client.is_master = True
    assert r("SETBIT", "k", str(8 * 1048576), "1") == 0
    assert r("STRLEN", "k") == 1048577


def test_bitfield_hash_offsets_wrap_like_c(r):
    # '#n' multiplies by the width in 64-bit arithmetic, as Redis does (checked against
    # Redis 8.2): 2**61 * 8 wraps to offset 0, 2**60 * 8 to a negative one (refused)
    r("SET", "k", "H")
    assert r("BITFIELD", "k", "GET", "u8", "#2305843009213693952") == [72]
    assert r("BITFIELD", "k", "GET", "u8", "#1152921504606846976") == ErrorReply(OFFSET_ERR)
    assert r("BITFIELD", "k", "GET", "i64", "#-1") == ErrorReply(OFFSET_ERR)


def test_fuzzed_hlls_give_errors_not_crashes(r):
    """Random bytes in a sparse or dense HLL: every command answers (a reply or one
    of Redis's errors); nothing raises out of the engine."""
    rng = random.Random(1)
    allowed = {b"INVALIDOBJ Corrupted HLL object detected",
               b"WRONGTYPE Key is not a valid HyperLogLog string value.",
               b"ERR HLL encoding is not sparse"}
    for dense in (False, True):
        r("DEL", "h")
        r("PFADD", "h", *[str(i) for i in range(300 if dense else 30)])
        if dense:
            r("PFDEBUG", "TODENSE", "h")
        good = r("GET", "h")
        for _ in range(40):
            v = bytearray(good)
            for _ in range(rng.randrange(1, 6)):
                v[rng.randrange(4 if rng.random() < 0.1 else 16, len(v))] = rng.randrange(256)
            if rng.random() < 0.2:
                v += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
            r("SET", "h", bytes(v))
            for cmd in (("PFCOUNT", "h"), ("PFADD", "h", str(rng.random())), ("PFCOUNT", "h", "h"),
                        ("PFMERGE", "m", "h"), ("PFDEBUG", "DECODE", "h"), ("PFDEBUG", "GETREG", "h")):
                reply = r(*cmd)
                assert not isinstance(reply, ErrorReply) or bytes(reply) in allowed, (cmd, reply)


@pytest.mark.slow
def test_pfselftest(r):
    assert r("PFSELFTEST") == b"OK"


def test_geo_and_sort_refuse_bad_input_without_changes(r):
    r("GEOADD", "g", "1", "2", "a")
    for cmd in (("GEOADD", "g", "1", "2", "b", "x", "2", "c"), ("GEOADD", "g", "1", "2", "b", "181", "0", "c"),
                ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "-1", "km"),
                ("SORT", "g", "LIMIT", "0", "x", "STORE", "d")):
        assert isinstance(r(*cmd), ErrorReply), cmd
    assert r("ZCARD", "g") == 1
    assert r("EXISTS", "d") == 0
