"""DUMP/RESTORE payloads interchangeable with Redis 8.2 for every type, streams included:
DUMP on streamlite, RESTORE on redis-server gives the same value (compared field by
field, and by Redis's own DEBUG DIGEST-VALUE against a Redis that built the data
itself), and the reverse."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from tests.support.redis_proc import have_redis, start_redis, start_streamlite

from .rdb_support import dataset_commands, differences, digests, raw_client, run_all, state

pytestmark = pytest.mark.skipif(not have_redis(), reason="needs redis-server")
DEBUG = ["--enable-debug-command", "yes"]


def copy_by_dump(src: redis.Redis, dst: redis.Redis) -> int:
    """Every key of every database of ``src`` into ``dst`` by DUMP / RESTORE ... ABSTTL."""
    a, b = raw_client(src), raw_client(dst)
    n = 0
    for db in range(16):
        a("SELECT", db)
        b("SELECT", db)
        for key in a("KEYS", "*"):
            payload = a("DUMP", key)
            when = a("PEXPIRETIME", key)
            assert b("RESTORE", key, max(when, 0), payload, "ABSTTL") == b"OK", key
            n += 1
    for lib in a("FUNCTION", "LIST", "WITHCODE"):
        code = lib[lib.index(b"library_code") + 1]
        b("FUNCTION", "LOAD", "REPLACE", code)
    return n


def _servers() -> tuple[Any, Any, Any]:
    return start_streamlite(DEBUG), start_redis(DEBUG), start_redis(DEBUG)


def test_streamlite_dump_restores_into_redis_identically():
    sl, ref, dst = _servers()
    try:
        s, r_ref, r_dst = (redis.Redis(port=p.port) for p in (sl, ref, dst))
        cmds = dataset_commands()
        run_all(s, cmds)
        run_all(r_ref, cmds)
        assert copy_by_dump(s, r_dst) > 30
        assert differences(state(s), state(r_dst)) == []
        assert digests(r_dst) == digests(r_ref)
    finally:
        for p in (sl, ref, dst):
            p.cleanup()


def test_redis_dump_restores_into_streamlite_identically():
    sl, ref, _ = _servers()
    try:
        s, r_ref = redis.Redis(port=sl.port), redis.Redis(port=ref.port)
        run_all(r_ref, dataset_commands())
        copy_by_dump(r_ref, s)
        assert differences(state(r_ref), state(s)) == []
    finally:
        sl.cleanup()
        ref.cleanup()
        _.cleanup()


def test_streamlite_only_stream_state_survives_dump_and_is_ignored_by_redis():
    """IDMP and the XNACK zone ride after the value: streamlite gets them back, Redis
    restores the rest (the released entry is simply not pending there)."""
    sl, red, _ = _servers()
    try:
        s, r = raw_client(redis.Redis(port=sl.port)), raw_client(redis.Redis(port=red.port))
        for i in range(5):
            s("XADD", "s", f"{i + 1}-0", "f", str(i))
        s("XGROUP", "CREATE", "s", "g", "0")
        s("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
        s("XNACK", "s", "g", "FAIL", "IDS", "1", "2-0")
        s("XADD", "s", "IDMP", "p", "i1", "*", "k", "v")
        payload = s("DUMP", "s")
        assert s("RESTORE", "copy", 0, payload) == b"OK"
        full = s("XINFO", "STREAM", "copy", "FULL")
        orig = s("XINFO", "STREAM", "s", "FULL")
        assert full == orig
        assert r("RESTORE", "s", 0, payload) == b"OK"
        assert r("XLEN", "s") == 6
        pending = r("XPENDING", "s", "g", "-", "+", 10)
        assert [p[0] for p in pending] == [b"1-0", b"3-0", b"4-0", b"5-0"]
    finally:
        sl.cleanup()
        red.cleanup()
        _.cleanup()


def test_crafted_redis_stream_payloads_are_refused_not_trusted():
    """A stream payload whose CRC is right but whose listpack lies (IDs going backwards,
    counters that do not match): RESTORE refuses it, nothing is stored."""
    import struct

    from streamlite.engine import Engine, FakeClock
    from streamlite.engine.crc64 import crc64
    from streamlite.engine.rdbprim import (
        enc_length,
        enc_raw_id,
        enc_string,
        listpack_build,
        lp_int,
        lp_str,
    )

    def payload(entries: list[tuple[int, int]], live: int) -> bytes:
        els = [lp_int(live), lp_int(0), lp_int(1), lp_str(b"f"), lp_int(0)]
        for dms, dseq in entries:
            els += [lp_int(2), lp_int(dms), lp_int(dseq), lp_str(b"v"), lp_int(4)]
        lp = listpack_build(els, len(els))
        body = (bytes((21,)) + enc_length(1) + enc_string(enc_raw_id(5 << 64)) + enc_string(lp)
                + enc_length(live) + enc_length(9) + enc_length(0) + enc_length(5) + enc_length(0)
                + enc_length(0) + enc_length(0) + enc_length(live) + enc_length(0))
        data = body + struct.pack("<H", 12)
        return data + struct.pack("<Q", crc64(data))

    e = Engine(FakeClock())
    c = e.client()
    assert e.execute(c, [b"RESTORE", b"ok", b"0", payload([(0, 0), (1, 0), (4, 0)], 3)]) == b"OK"
    assert e.execute(c, [b"XLEN", b"ok"]) == 3
    for bad in (payload([(0, 0), (2, 0), (1, 0)], 3), payload([(0, 0), (1, 0)], 3),
                payload([(0, 0), (0, 0)], 2)):
        assert e.execute(c, [b"RESTORE", b"bad", b"0", bad]) == b"ERR Bad data format"
    assert e.execute(c, [b"EXISTS", b"bad"]) == 0
